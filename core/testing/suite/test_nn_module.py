"""`ember.nn.Module`, `Parameter`, `Buffer` and the containers: torch.nn.Module's contract (registration,
tree walks, state_dict round trips and error reports, hooks, repr, modes, dtype/device moves)."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 1)
        self.register_buffer("steps", ember.tensor(0))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# ---- Parameter and Buffer --------------------------------------------------------------------
def test_parameter_is_a_leaf_tensor_requiring_grad_that_shares_its_datas_memory(device):
    data = ember.zeros(2, 3, device=device)
    p = nn.Parameter(data)
    assert isinstance(p, ember.Tensor) and isinstance(p, nn.Parameter)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    data[0, 0] = 5.0
    assert p[0, 0].item() == 5.0
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_works_in_every_op_and_results_are_plain_tensors(device):
    p = nn.Parameter(ember.tensor([1.0, 2.0], device=device))
    y = (p * 2 + p.exp()).sum() + p @ p + p[0] + p.reshape(2, 1).sum()
    assert type(y) is ember.Tensor
    y.backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 + np.exp([1.0, 2.0]) + 2 * np.array([1.0, 2.0]) + [2, 1])


def test_parameter_repr_is_prefixed_like_pytorchs(device):
    p = nn.Parameter(ember.tensor([1.0, 2.0], device=device))
    assert repr(p) == "Parameter containing:\n" + repr(ember.tensor([1.0, 2.0], device=device, requires_grad=True))


def test_parameter_survives_deepcopy_and_pickle_as_a_parameter(device):
    p = nn.Parameter(ember.randn(3, device=device), requires_grad=False)
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and not q.requires_grad
        np.testing.assert_array_equal(q.numpy(), p.numpy())
    q = copy.deepcopy(p)
    q.data.fill_(1.0)
    assert not np.allclose(p.numpy(), 1.0)


def test_buffer_marks_a_tensor_for_registration_with_its_persistence(device):
    m = nn.Module()
    m.a = nn.Buffer(ember.ones(2, device=device))
    m.b = nn.Buffer(ember.zeros(1, device=device), persistent=False)
    assert isinstance(m.a, ember.Tensor) and isinstance(nn.Buffer(ember.ones(1, device=device)), nn.Buffer)
    assert not isinstance(ember.ones(1, device=device), nn.Buffer)
    assert set(m._buffers) == {"a", "b"} and list(m.state_dict()) == ["a"]
    m.a = ember.full((2,), 7.0, device=device)  # a plain tensor assigned to a buffer name stays a buffer
    assert m._buffers["a"].tolist() == [7.0, 7.0]


# ---- registration ----------------------------------------------------------------------------
def test_attribute_assignment_registers_parameters_modules_and_buffers():
    net = Net()
    assert list(net._modules) == ["fc1", "act", "fc2"]
    assert list(net.fc1._parameters) == ["weight", "bias"]
    assert list(net._buffers) == ["steps", "scratch"] and net._non_persistent_buffers_set == {"scratch"}
    net.extra = 3
    assert "extra" in net.__dict__ and "extra" not in net._parameters


def test_assigning_before_module_init_is_an_attribute_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Bad()

    class BadModule(nn.Module):
        def __init__(self):
            self.sub = nn.ReLU()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        BadModule()


def test_registration_errors_name_the_problem():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'ember.Tensor' as parameter 'weight'"):
        m.weight = ember.zeros(2, 2)
    with pytest.raises(TypeError, match="not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(KeyError, match="empty string"):
        m.register_parameter("", None)
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        m.register_buffer("training", ember.zeros(1))
    with pytest.raises(TypeError, match="buffer"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("p", _non_leaf_parameter())
    with pytest.raises(TypeError, match="cannot assign 'ember.Tensor' object to parameter 'q'"):
        m.register_parameter("q", ember.zeros(1))


def _non_leaf_parameter():
    """A Parameter that has become a graph output (an in-place op recorded on it)."""
    q = nn.Parameter(ember.zeros(1), requires_grad=False)
    q.add_(ember.ones(1, requires_grad=True))
    return q


def test_setting_a_registered_name_to_none_keeps_it_registered():
    m = nn.Linear(2, 2)
    m.bias = None
    assert "bias" in m._parameters and m.bias is None and len(list(m.parameters())) == 1
    seq = nn.Sequential(nn.ReLU())
    seq[0] = nn.Tanh()
    assert isinstance(seq[0], nn.Tanh)


def test_reassigning_a_name_moves_it_between_registries():
    m = nn.Module()
    m.x = nn.Parameter(ember.zeros(1))
    m.y = nn.ReLU()
    del m.y
    m.y = nn.Parameter(ember.ones(1))
    assert "y" in m._parameters and "y" not in m._modules
    del m.x
    assert "x" not in m._parameters
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'x'"):
        m.x


def test_get_submodule_parameter_and_buffer_follow_dotted_paths():
    net = nn.Sequential(OrderedDict(block=Net()))
    assert net.get_submodule("block.fc2") is net.block.fc2
    assert net.get_submodule("") is net
    assert net.get_parameter("block.fc1.bias") is net.block.fc1.bias
    assert net.get_buffer("block.steps") is net.block.steps
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="not an nn.Module"):
        net.get_submodule("block.fc1.weight")
    with pytest.raises(AttributeError, match="not an nn.Parameter"):
        net.get_parameter("block.steps")


def test_dir_lists_parameters_buffers_and_submodules():
    names = dir(Net())
    assert {"fc1", "steps", "forward", "training"} <= set(names)
    assert "weight" in dir(nn.Linear(1, 1))


# ---- tree walks ------------------------------------------------------------------------------
def test_named_parameters_buffers_and_modules_use_dotted_prefixes():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.fc1.weight"
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert list(net.children())[0] is net.fc1 and list(net.modules())[0] is net


def test_parameters_return_the_same_parameter_objects_every_time():
    net = Net()
    first = list(net.parameters())
    assert all(type(p) is nn.Parameter for p in first)
    assert all(a is b for a, b in zip(first, net.parameters()))
    assert first[0] is net.fc1.weight


def test_shared_parameters_and_modules_are_listed_once_unless_asked():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(net.modules())) == 3
    tied = nn.Module()
    tied.a, tied.b = nn.Linear(2, 2), nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    assert list(tied.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_apply_visits_children_before_parents():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


# ---- modes and gradients ---------------------------------------------------------------------
def test_train_and_eval_set_the_mode_recursively():
    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Dropout()))
    assert net.training and net[1][0].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("no")


def test_zero_grad_sets_gradients_to_none_or_zero(device):
    net = Net().to(device)
    net(ember.randn(4, 2, device=device)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad is not None and not net.fc1.weight.grad.numpy().any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_toggles_every_parameter():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert net.requires_grad_() is net and all(p.requires_grad for p in net.parameters())


# ---- devices and dtypes ----------------------------------------------------------------------
def test_to_dtype_converts_floating_tensors_in_place_keeping_parameter_identity(device):
    net = Net().to(device)
    w = net.fc1.weight
    net(ember.randn(2, 2, device=device)).sum().backward()
    assert net.to(ember.float64) is net
    assert net.fc1.weight is w and w.dtype is ember.float64 and type(w) is nn.Parameter and w.requires_grad
    assert w.grad.dtype is ember.float64
    assert net.steps.dtype is ember.int64  # integer buffers keep their dtype
    assert net(ember.randn(2, 2, dtype=ember.float64, device=device)).dtype is ember.float64
    net.float()
    assert w.dtype is ember.float32
    net.half()
    assert w.dtype is ember.float16
    net.double()
    assert w.dtype is ember.float64
    net.to(ember.zeros(1, dtype=ember.float32, device=device))
    assert w.dtype is ember.float32 and w.device == device
    net.to(device=device, dtype=ember.float64)
    assert w.dtype is ember.float64
    with pytest.raises(TypeError, match="only accepts floating point"):
        net.to(ember.int64)


def test_to_device_moves_parameters_and_buffers(device):
    net = Net()
    p = net.fc1.weight
    net.to(device)
    assert p is net.fc1.weight and p.device == device and net.steps.device == device
    net.cpu()
    assert p.device.type == "cpu" and net.steps.device.type == "cpu"


def test_type_casts_every_tensor(device):
    net = nn.Linear(2, 2, device=device)
    net.type(ember.float64)
    assert net.weight.dtype is ember.float64


# ---- state dict ------------------------------------------------------------------------------
def test_state_dict_holds_detached_parameters_and_persistent_buffers_by_dotted_name(device):
    net = nn.Sequential(Net()).to(device)
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    # a module's own parameters and buffers come before its children's, as in PyTorch
    assert list(sd) == ["0.steps", "0.fc1.weight", "0.fc1.bias", "0.fc2.weight", "0.fc2.bias"]
    w = sd["0.fc1.weight"]
    assert type(w) is ember.Tensor and not w.requires_grad
    with ember.no_grad():
        net[0].fc1.weight.fill_(3.0)
    assert np.all(w.numpy() == 3.0)  # shares memory
    kept = net.state_dict(keep_vars=True)
    assert kept["0.fc1.weight"] is net[0].fc1.weight
    assert list(net.state_dict(prefix="model."))[1] == "model.0.fc1.weight"


def test_load_state_dict_copies_in_place_and_reports_all_keys_matched(device):
    src, dst = Net().to(device), Net().to(device)
    w = dst.fc1.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert dst.fc1.weight is w and w.requires_grad
    np.testing.assert_array_equal(w.detach().numpy(), src.fc1.weight.detach().numpy())
    x = ember.randn(3, 2, device=device)
    np.testing.assert_array_equal(src(x).detach().numpy(), dst(x).detach().numpy())


def test_load_state_dict_reports_missing_unexpected_and_size_mismatch_together(device):
    m = nn.Linear(2, 3, device=device)
    before = m.weight.detach().clone()
    bad = {"weight": ember.zeros(3, 3, device=device), "extra": ember.zeros(1, device=device)}
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    assert str(err.value) == (
        'Error(s) in loading state_dict for Linear:\n'
        '\tMissing key(s) in state_dict: "bias". \n'
        '\tUnexpected key(s) in state_dict: "extra". \n'
        '\tsize mismatch for weight: copying a param with shape ember.Size([3, 3]) from checkpoint, the shape in '
        'current model is ember.Size([3, 2]).')
    np.testing.assert_array_equal(m.weight.detach().numpy(), before.numpy())


def test_load_state_dict_non_strict_returns_the_incompatible_keys(device):
    m = nn.Sequential(nn.Linear(2, 3)).to(device)
    result = m.load_state_dict({"0.weight": ember.ones(3, 2, device=device), "1.weight": ember.ones(1, device=device)},
                               strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["1.weight"]
    assert result == (["0.bias"], ["1.weight"])
    assert np.all(m[0].weight.detach().numpy() == 1)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        m.load_state_dict({"0.weight": ember.ones(2, 2, device=device)}, strict=False)


def test_load_state_dict_with_assign_takes_the_checkpoints_tensors(device):
    m = nn.Linear(2, 2, device=device)
    sd = {"weight": ember.ones(2, 2, device=device), "bias": ember.zeros(2, device=device)}
    m.load_state_dict(sd, assign=True)
    assert type(m.weight) is nn.Parameter and m.weight.requires_grad
    sd["weight"][0, 0] = 9.0
    assert m.weight[0, 0].item() == 9.0


def test_load_state_dict_casts_to_the_parameters_dtype(device):
    m = nn.Linear(2, 2, device=device)
    m.load_state_dict({"weight": ember.ones(2, 2, dtype=ember.float64, device=device),
                       "bias": ember.zeros(2, dtype=ember.float64, device=device)})
    assert m.weight.dtype is ember.float32 and m.weight.sum().item() == 4


def test_load_state_dict_rejects_non_tensor_values():
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias"'):
        nn.Linear(1, 1).load_state_dict({"weight": ember.ones(1, 1), "bias": [1.0]})


def test_module_round_trips_through_deepcopy_and_pickle(device):
    net = Net().to(device)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.fc1.weight is not net.fc1.weight and type(clone.fc1.weight) is nn.Parameter
        x = ember.randn(2, 2, device=device)
        np.testing.assert_array_equal(clone(x).detach().numpy(), net(x).detach().numpy())
        assert list(clone.state_dict()) == list(net.state_dict())


def test_a_copy_of_a_trained_module_accumulates_gradients_into_its_own_parameters(device):
    net = Net().to(device)
    x = ember.randn(2, 2, device=device)
    net(x).sum().backward()  # the parameters now have their graph nodes
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        clone.zero_grad()
        before = net.fc1.weight.grad.numpy().copy()
        clone(x).sum().backward()
        np.testing.assert_array_equal(net.fc1.weight.grad.numpy(), before)
        np.testing.assert_allclose(clone.fc1.weight.grad.numpy(), before)


# ---- hooks -----------------------------------------------------------------------------------
def test_forward_pre_hook_and_forward_hook_can_replace_input_and_output(device):
    m = nn.Identity()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
    m.register_forward_hook(lambda mod, args, out: calls.append((args[0].item(), out.item())))
    assert m(ember.tensor(3.0, device=device)).item() == 7.0
    assert calls == [(6.0, 7.0)]
    h1.remove()
    h2.remove()
    assert m(ember.tensor(3.0, device=device)).item() == 3.0


def test_hooks_with_kwargs_prepend_and_handle_context_manager(device):
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": 10.0}), with_kwargs=True)
    with m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["scale"], with_kwargs=True):
        assert m(ember.tensor(2.0, device=device), scale=3.0).item() == 30.0
    assert m(ember.tensor(2.0, device=device)).item() == 20.0
    assert order == ["first", "second", "first", "second"]


def test_forward_pre_hook_with_kwargs_must_return_a_pair():
    m = nn.Identity()
    m.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        m(ember.zeros(1))


def test_always_call_forward_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m, seen = Boom(), []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(ember.zeros(1))
    assert seen == [None]


def test_full_backward_hook_sees_input_and_output_gradients_and_can_replace_them(device):
    lin = nn.Linear(2, 1, bias=False, device=device, dtype=ember.float64)
    with ember.no_grad():
        lin.weight.copy_(ember.tensor([[2.0, -3.0]], dtype=ember.float64, device=device))
    seen = {}

    def hook(mod, grad_input, grad_output):
        seen["in"] = [g.tolist() for g in grad_input]
        seen["out"] = [g.tolist() for g in grad_output]
        return (grad_input[0] * 10,)

    pre = []
    lin.register_full_backward_pre_hook(lambda mod, grad_output: pre.append(grad_output[0].tolist()))
    handle = lin.register_full_backward_hook(hook)
    x = ember.tensor([[1.0, 1.0]], dtype=ember.float64, device=device, requires_grad=True)
    (lin(x) * 5).sum().backward()
    assert pre == [[[5.0]]]
    assert seen["out"] == [[[5.0]]] and seen["in"] == [[[10.0, -15.0]]]
    assert x.grad.tolist() == [[100.0, -150.0]]
    assert lin.weight.grad.tolist() == [[5.0, 5.0]]
    handle.remove()
    x.grad = None
    (lin(x) * 5).sum().backward()
    assert x.grad.tolist() == [[10.0, -15.0]]


def test_full_backward_hook_gets_none_for_inputs_that_need_no_gradient(device):
    lin = nn.Linear(2, 1, device=device)
    seen = []
    lin.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout[0].shape)))
    lin(ember.ones(3, 2, device=device)).sum().backward()
    assert seen == [((None,), (3, 1))]


def test_module_without_forward_raises_naming_the_class():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(ember.zeros(1))


# ---- repr ------------------------------------------------------------------------------------
def test_repr_prints_the_module_tree_exactly_like_pytorch():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert repr(net) == "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
    nested = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout()))
    assert repr(nested) == ("Sequential(\n"
                            "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
                            "  (1): Sequential(\n"
                            "    (0): ReLU()\n"
                            "    (1): Dropout(p=0.5, inplace=False)\n"
                            "  )\n"
                            ")")
    assert repr(Net()) == ("Net(\n  (fc1): Linear(in_features=2, out_features=3, bias=True)\n  (act): ReLU()\n"
                           "  (fc2): Linear(in_features=3, out_features=1, bias=True)\n)")
    assert repr(nn.Sequential()) == "Sequential()" and repr(nn.ModuleList()) == "ModuleList()"
    assert repr(nn.ModuleDict({"x": nn.ReLU()})) == "ModuleDict(\n  (x): ReLU()\n)"


def test_repr_with_a_multiline_extra_repr_and_children():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.child = nn.Tanh()

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Custom()) == "Custom(\n  a=1\n  b=2\n  (child): Tanh()\n)"


def test_module_list_repr_compresses_runs_of_identical_modules():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    assert repr(ml) == ("ModuleList(\n"
                        "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
                        "  (2): ReLU()\n"
                        "  (3): Linear(in_features=2, out_features=2, bias=True)\n"
                        ")")


def test_parameter_list_repr_lists_dtype_and_size():
    pl = nn.ParameterList([nn.Parameter(ember.zeros(2, 3, device="cpu")), ember.ones(2, device="cpu")])
    assert repr(pl) == ("ParameterList(\n"
                        "    (0): Parameter containing: [ember.float32 of size 2x3]\n"
                        "    (1): Parameter containing: [ember.float32 of size 2]\n"
                        ")")


# ---- containers ------------------------------------------------------------------------------
def test_sequential_runs_in_order_and_supports_list_operations(device):
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c).to(device)
    x = ember.randn(4, 2, device=device)
    np.testing.assert_array_equal(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"] and tail[0] is b
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    d = nn.Tanh()
    assert seq.append(d) is seq and seq[3] is d
    seq.insert(1, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Linear", "Identity", "ReLU", "Linear", "Tanh"]
    assert list(seq._modules) == ["0", "1", "2", "3", "4"]
    seq.extend([nn.Sigmoid()])
    assert isinstance(seq.pop(5), nn.Sigmoid) and len(seq) == 5
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2", "3"] and seq[1] is b
    both = nn.Sequential(a) + nn.Sequential(c)
    assert list(both) == [a, c]


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(1, 1)), ("act", nn.ReLU())]))
    assert seq.fc is seq[0] and list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list_registers_and_indexes_like_a_list():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(list(ml.parameters())) == 6
    assert ml[-1] is ml[2] and isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 2
    ml.append(nn.ReLU()).extend([nn.Tanh()])
    ml.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["Sigmoid", "Linear", "Linear", "Linear", "ReLU", "Tanh"]
    del ml[0]
    assert isinstance(ml[0], nn.Linear) and list(ml._modules) == [str(i) for i in range(5)]
    ml += [nn.Identity()]
    assert len(ml) == 6
    with pytest.raises(IndexError):
        ml[6]
    with pytest.raises(TypeError, match="iterable"):
        ml.extend(3)
    with pytest.raises(NotImplementedError, match="forward"):
        ml(ember.zeros(1))


def test_module_dict_behaves_like_an_ordered_dict():
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    assert list(md) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = nn.Linear(1, 1)
    md.update([("d", nn.Identity())])
    assert list(md.keys()) == ["b", "a", "c", "d"] and len(list(md.parameters())) == 2
    assert isinstance(md.pop("a"), nn.Tanh) and "a" not in md
    assert [k for k, _ in md.items()] == ["b", "c", "d"]
    md.clear()
    assert len(md) == 0


def test_parameter_list_and_dict_turn_tensors_into_parameters():
    pl = nn.ParameterList([ember.zeros(2)])
    pl.append(ember.ones(3))
    assert len(pl) == 2 and all(type(p) is nn.Parameter for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    assert pl[-1].shape == (3,)
    pd = nn.ParameterDict({"w": ember.zeros(2)})
    pd["v"] = nn.Parameter(ember.ones(1))
    assert type(pd["w"]) is nn.Parameter and list(pd) == ["w", "v"] and "v" in pd
    assert [n for n, _ in pd.named_parameters()] == ["w", "v"]
    assert isinstance(pd.pop("w"), nn.Parameter) and list(pd.keys()) == ["v"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl()
    with pytest.raises(TypeError, match="not a string"):
        pd[1]


def test_a_model_trains_end_to_end_through_parameters(device):
    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
    x = ember.randn(64, 2, device=device)
    y = x[:, :1] * 2 - x[:, 1:]
    losses = []
    for _ in range(60):
        net.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            for p in net.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
