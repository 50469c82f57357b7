"""`ember.compile(module)` with `backward()` outside the compiled code: the forward replays, its outputs
carry one `CompiledFunctionBackward` node whose backward replays the recorded backward program, and
gradients, parameters and random streams equal the eager run's bit for bit."""
import warnings

import numpy as np
import pytest

import ember
from ember import nn, optim

from .test_compile import _Encoder, _LastStep

STEPS = 4


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(4 * 3 * 3, 3))


MODELS = {"mlp": (_mlp, (6,)), "cnn": (_cnn, (1, 6, 6)), "lstm": (_LastStep, (4, 5)), "transformer": (_Encoder, (4, 8))}


class _TwoHeads(nn.Module):
    """A shared trunk and two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Linear(5, 8)
        self.a = nn.Linear(8, 3)
        self.b = nn.Linear(8, 2)

    def forward(self, x):
        h = self.trunk(x).tanh()
        return self.a(h), self.b(h)


def _data(shape, device, n=STEPS, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return [(ember.tensor(rng.standard_normal((batch, *shape)), dtype=ember.float32, device=device),
             ember.tensor(rng.integers(0, 3, batch), device=device)) for _ in range(n)]


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        if u is None or v is None:  # no gradient
            assert u is None and v is None
            continue
        assert u.shape == v.shape and u.dtype == v.dtype
        np.testing.assert_array_equal(u.detach().cpu().numpy(), v.detach().cpu().numpy())


def _train(name, device, compiled, batches):
    """Train with the (compiled) model called in an eager loop; the losses, the gradients of every step,
    the final state and a draw from the default generator afterwards."""
    make, _ = MODELS[name]
    ember.manual_seed(0)
    model = make().to(device)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fwd = ember.compile(model) if compiled else model
    losses, grads, nodes = [], [], []
    for x, y in batches:
        opt.zero_grad()
        out = fwd(x)
        nodes.append(out.grad_fn)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        losses.append(loss)
        grads += [p.grad.clone() for p in model.parameters()]
    state = [p.detach() for p in model.parameters()] + list(model.buffers())
    return losses, grads, state, ember.rand(3, device=device), nodes


@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_forward_with_eager_backward_equals_eager_bitwise(device, name):
    batches = _data(MODELS[name][1], device)
    eager = _train(name, device, False, batches)
    compiled = _train(name, device, True, batches)
    for got, want in zip(compiled[:4], eager[:4]):
        _same(got, want)  # losses, gradients of every step, parameters and buffers, the random stream after


def test_replayed_output_has_one_compiled_backward_node_leading_to_the_parameters(device):
    ember.manual_seed(0)
    model = _mlp().to(device)
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    outs = [fwd(x) for _ in range(2)]
    outs[0].sum().backward()  # records the backward: the next call replays
    out = fwd(x)
    node = out.grad_fn
    assert node.name() == "CompiledFunctionBackward" and out.requires_grad and not out.is_leaf
    assert [fn.variable for fn, _ in node.next_functions] == list(model.parameters())
    assert all(fn.name() == "AccumulateGrad" for fn, _ in node.next_functions)
    assert outs[1].grad_fn.name() != "CompiledFunctionBackward"  # before the first backward: eager


def test_a_forward_never_differentiated_stays_eager_after_a_few_recordings(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    names = []
    for _ in range(10):
        out = fwd(x)
        names.append(out.grad_fn.name())
    assert names.count("CompiledFunctionBackward") == 3 and names[-4:] == [names[-1]] * 4
    out.sum().backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    _same(got, [p.grad for p in model.parameters()])


def test_frozen_parameters_get_no_gradient(device):
    ember.manual_seed(0)
    model = _mlp().to(device)
    model[0].requires_grad_(False)
    fwd = ember.compile(model)
    for x, _ in _data((6,), device):
        model.zero_grad()
        out = fwd(x)
        out.sum().backward()
        assert model[0].weight.grad is None and model[0].bias.grad is None
        assert model[3].weight.grad is not None
    assert len(out.grad_fn.next_functions) == 2


def test_input_requiring_grad_gets_its_gradient(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    for x, _ in _data((6,), device):
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        model.zero_grad()
        (fwd(x1) ** 2).sum().backward()
        g1 = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        (model(x2) ** 2).sum().backward()
        _same([x1.grad] + g1, [x2.grad] + [p.grad for p in model.parameters()])


def test_gradient_flows_into_the_graph_before_the_compiled_module(device):
    ember.manual_seed(0)
    emb = nn.Embedding(10, 6).to(device)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    ids = ember.tensor([[1, 2], [3, 4], [5, 1], [9, 0]], device=device)
    for _ in range(3):
        emb.zero_grad()
        model.zero_grad()
        fwd(emb(ids).sum(1)).sum().backward()
        got = [emb.weight.grad.clone()] + [p.grad.clone() for p in model.parameters()]
        emb.zero_grad()
        model.zero_grad()
        model(emb(ids).sum(1)).sum().backward()
        _same(got, [emb.weight.grad] + [p.grad for p in model.parameters()])
    out = fwd(emb(ids).sum(1))
    assert out.grad_fn.next_functions[0][0].name() == "SumBackward0"


def test_multiple_outputs_and_an_output_the_loss_does_not_use(device):
    ember.manual_seed(0)
    model = _TwoHeads().to(device)
    fwd = ember.compile(model)
    x = ember.randn(4, 5, device=device)
    for use_b in (False, True, False, True):
        model.zero_grad()
        a, b = fwd(x)
        assert a.grad_fn is b.grad_fn
        (a.sum() + (b * b).sum() if use_b else a.sum()).backward()
        got = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        a, b = model(x)
        (a.sum() + (b * b).sum() if use_b else a.sum()).backward()
        _same(got, [p.grad for p in model.parameters()])


def test_retain_graph_allows_a_second_backward_and_without_it_raises(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    for _ in range(3):  # the recording call, then replays
        model.zero_grad()
        loss = fwd(x).sum()
        loss.backward(retain_graph=True)
        once = model[0].weight.grad.clone()
        loss.backward()
        _same([model[0].weight.grad], [once * 2])
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()


def test_double_backward_through_a_compiled_call_raises(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    loss = fwd(x).sum()  # the recording call
    with pytest.raises(RuntimeError, match="double backward"):
        ember.autograd.grad(loss, model[0].weight, create_graph=True)
    del loss
    fwd(x).sum().backward()  # recorded again, with its backward
    loss = fwd(x).sum()  # a replay
    assert loss.grad_fn.next_functions[0][0].name() == "CompiledFunctionBackward"
    with pytest.raises(RuntimeError, match="double backward"):
        ember.autograd.grad(loss, model[0].weight, create_graph=True)


def test_eval_and_no_grad_calls_replay_forward_only(device):
    ember.manual_seed(0)
    model = _mlp().to(device)
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    fwd(x).sum().backward()
    with ember.no_grad():
        outs = [fwd(x) for _ in range(2)]
    model.eval()
    evals = [fwd(x) for _ in range(3)]
    evals[0].sum().backward()  # records the eval-mode backward
    evals += [fwd(x) for _ in range(2)]
    assert all(o.grad_fn is None for o in outs)
    assert evals[0].grad_fn.name() == evals[3].grad_fn.name() == "CompiledFunctionBackward"
    _same(evals, [model(x)] * 5)


def test_in_place_parameter_changes_reach_the_next_replay(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    for _ in range(3):
        with ember.no_grad():
            model[0].weight.mul_(0.5)
        model.zero_grad()
        out = fwd(x)
        out.sum().backward()
        got = [out] + [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        out = model(x)
        out.sum().backward()
        _same(got, [out] + [p.grad for p in model.parameters()])


def test_a_hook_on_a_parameter_fires_on_replayed_backward(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    seen = []
    model[3].weight.register_hook(lambda g: seen.append(g.shape))
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    for _ in range(3):
        fwd(x).sum().backward()
    assert seen == [model[3].weight.shape] * 3


def test_graph_break_in_the_forward_stays_eager(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()

    def forward(x):
        out = model(x)
        return out if out.sum() > -1e9 else -out  # needs the value while recording

    fwd = ember.compile(forward)
    emb = nn.Embedding(4, 6).to(device)
    ids = ember.tensor([0, 1, 2, 3], device=device)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for _ in range(2):
            model.zero_grad()
            emb.zero_grad()
            out = fwd(emb(ids))
            assert out.grad_fn.name() != "CompiledFunctionBackward"
            out.sum().backward()
            got = [emb.weight.grad.clone(), model[0].weight.grad.clone()]
            model.zero_grad()
            emb.zero_grad()
            model(emb(ids)).sum().backward()
            _same(got, [emb.weight.grad, model[0].weight.grad])


@pytest.mark.parametrize("change", ["parameter", "output"])
def test_in_place_change_before_backward_raises_as_eagerly(device, change):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3), nn.Sigmoid()).to(device).eval()
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    fwd(x).sum().backward()  # recorded: later calls replay
    for f in (model, fwd, fwd):
        out = f(x)
        if change == "parameter":
            with ember.no_grad():
                model[2].weight.add_(1)  # saved for the gradient of the first layer's output
        else:
            out.mul_(2)  # the sigmoid's output is saved for its gradient
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def _grads(*modules):
    return [p.grad.clone() for m in modules for p in m.parameters()]


def test_an_argument_changed_in_place_inside_runs_eagerly_with_eager_gradients(device):
    ember.manual_seed(0)
    first = nn.Linear(6, 8).to(device)
    model = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(8, 3)).to(device)
    fwd = ember.compile(model)
    x, _ = _data((6,), device, n=1)[0]
    for _ in range(3):
        for f in (fwd, model):
            first.zero_grad()
            model.zero_grad()
            f(first(x)).sum().backward()
        got = _grads(first, model)
        first.zero_grad()
        model.zero_grad()
        fwd(first(x)).sum().backward()
        _same(_grads(first, model), got)


def test_backward_inside_the_compiled_function_reaches_the_argument_graph(device):
    ember.manual_seed(0)
    first = nn.Linear(3, 4).to(device)
    x = ember.randn(2, 3, device=device)

    def f(h):
        (h * 2).sum().backward(retain_graph=True)
        return h * 3

    fc = ember.compile(f)
    for _ in range(3):
        first.zero_grad()
        fc(first(x)).sum().backward()
        got = _grads(first)
        first.zero_grad()
        f(first(x)).sum().backward()
        _same(got, _grads(first))


class _ScaledByNorm(ember.autograd.Function):
    """x * 2, whose backward reads a value on the host (it cannot be recorded)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 if float(x.abs().sum()) >= 0 else grad


def test_a_backward_that_reads_a_value_runs_eagerly_with_eager_gradients(device):
    ember.manual_seed(0)
    lin = nn.Linear(3, 2).to(device)

    def f(x):
        return _ScaledByNorm.apply(lin(x))

    fc = ember.compile(f)
    x = ember.randn(4, 3, device=device)
    for i in range(3):
        lin.zero_grad()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fc(x).sum().backward()
        assert len([w for w in caught if "graph break in the backward" in str(w.message)]) == (i == 0)
        got = _grads(lin)
        lin.zero_grad()
        f(x).sum().backward()
        _same(got, _grads(lin))
    lin.zero_grad()
    assert fc(x).grad_fn.name() != "CompiledFunctionBackward"  # that key runs eagerly
