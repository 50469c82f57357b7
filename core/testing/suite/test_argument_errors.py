"""A wrong argument type is a `TypeError` naming the function and the argument, raised where the user's
value enters (as PyTorch's argument parser does): None or a non-tensor for a tensor, a float or a
string for a size, a lone tensor for a sequence of tensors, a float or a string for a layer's size.

One table, one harness. Each case is written against a module `m` (ember, or torch when installed) and
a tensor `t` of that module; the cases PyTorch refuses with a TypeError too are checked against it.
"""
import pytest

import ember
from ember.nn.functional import activation as _activation, loss as _loss


def _nn(m):
    return m.nn


def _F(m):
    return m.nn.functional


# activations and losses: every public one, with None where a tensor goes; the extra positional
# arguments some need; the ones PyTorch also refuses with a TypeError (the others raise AttributeError there)
_ACTIVATION_ARGS = {"prelu": lambda t: (t.new_ones(1),), "threshold": lambda t: (0.0, 0.0),
                    "threshold_": lambda t: (0.0, 0.0), "softmax": lambda t: (0,), "log_softmax": lambda t: (0,),
                    "softmin": lambda t: (0,)}
_TORCH_ATTRIBUTE_ERRORS = {"sigmoid", "tanh", "softmax", "log_softmax", "softmin", "softsign", "tanhshrink", "glu",
                           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                           "binary_cross_entropy_with_logits", "margin_ranking_loss"}
_LOSS_ARGS = {"cosine_embedding_loss": ("input1", "input2", "target"),
              "margin_ranking_loss": ("input1", "input2", "target")}


def _activation_case(name):
    def call(m, t):
        f = getattr(_F(m), name)
        return f(None, *_ACTIVATION_ARGS.get(name, lambda t: ())(t))
    return (f"F.{name}(None)", call, (name, "'input'"), name not in _TORCH_ATTRIBUTE_ERRORS)


def _loss_cases(name):
    params = _LOSS_ARGS.get(name, ("input", "target"))
    for pos, param in enumerate(params):
        def call(m, t, pos=pos):
            args = [t] * len(params)
            args[pos] = None
            return getattr(_F(m), name)(*args)
        yield (f"F.{name}({param}=None)", call, (name, f"'{param}'"), name not in _TORCH_ATTRIBUTE_ERRORS)


CASES = [
    # ---- a tensor argument given None or a non-tensor ------------------------------------------
    ("relu(None)", lambda m, t: _F(m).relu(None), ("relu", "'input'", "NoneType"), True),
    ("map(relu) over a None", lambda m, t: list(map(_F(m).relu, [t, None, t])), ("relu", "NoneType"), True),
    ("relu(str)", lambda m, t: _F(m).relu("x"), ("relu", "str"), True),
    ("exp(None)", lambda m, t: m.exp(None), ("exp", "'input'"), True),
    ("exp(float)", lambda m, t: m.exp(2.0), ("exp", "float"), True),
    ("exp(list)", lambda m, t: m.exp([2.0]), ("exp", "list"), True),
    ("sigmoid(None)", lambda m, t: m.sigmoid(None), ("sigmoid", "'input'"), True),
    ("abs(None)", lambda m, t: m.abs(None), ("abs", "'input'"), True),
    ("neg(None)", lambda m, t: m.neg(None), ("neg", "'input'"), True),
    ("add(None, t)", lambda m, t: m.add(None, t), ("add", "'input'"), True),
    ("add(t, None)", lambda m, t: m.add(t, None), ("add", "'other'", "NoneType"), True),
    ("add(t, str)", lambda m, t: m.add(t, "a"), ("add", "'other'", "str"), True),
    ("mul(None, 2)", lambda m, t: m.mul(None, 2), ("mul", "'input'"), True),
    ("sub(t, None)", lambda m, t: m.sub(t, None), ("sub", "'other'"), True),
    ("div(None, 2)", lambda m, t: m.div(None, 2), ("div", "'input'"), True),
    ("pow(None, 2)", lambda m, t: m.pow(None, 2), ("pow", "'input'"), True),
    ("maximum(t, None)", lambda m, t: m.maximum(t, None), ("maximum", "'other'"), True),
    ("eq(None, t)", lambda m, t: m.eq(None, t), ("eq", "'input'"), True),
    ("floor_divide(None, 2)", lambda m, t: m.floor_divide(None, 2), ("floor_divide", "'input'"), True),
    ("remainder(None, 2)", lambda m, t: m.remainder(None, 2), ("remainder", "'input'"), True),
    ("clamp(None, 0)", lambda m, t: m.clamp(None, 0.0), ("clamp", "'input'"), True),
    ("isnan(None)", lambda m, t: m.isnan(None), ("isnan", "'input'"), True),
    ("sum(None)", lambda m, t: m.sum(None), ("sum", "'input'"), True),
    ("mean(None)", lambda m, t: m.mean(None), ("mean", "'input'"), True),
    ("matmul(t, None)", lambda m, t: m.matmul(t, None), ("matmul", "'other'"), True),
    ("reshape(None, 6)", lambda m, t: m.reshape(None, (6,)), ("reshape", "'input'"), True),
    ("F.linear(None, w)", lambda m, t: _F(m).linear(None, t), ("linear", "'input'"), True),
    ("F.linear(x, None)", lambda m, t: _F(m).linear(t, None), ("linear", "'weight'"), True),
    *[_activation_case(name) for name in _activation.__all__],
    *[case for name in _loss.__all__ for case in _loss_cases(name)],

    # ---- a sequence of tensors given something else ---------------------------------------------
    ("cat(t)", lambda m, t: m.cat(t), ("cat", "'tensors'", "Tensor"), True),
    ("cat(None)", lambda m, t: m.cat(None), ("cat", "'tensors'", "NoneType"), True),
    ("cat([t, None])", lambda m, t: m.cat([t, None]), ("cat", "element 1", "NoneType"), True),
    ("cat(generator)", lambda m, t: m.cat(x for x in [t, t]), ("cat", "'tensors'", "generator"), True),
    ("stack(t)", lambda m, t: m.stack(t), ("stack", "'tensors'", "Tensor"), True),
    ("stack([t, 1])", lambda m, t: m.stack([t, 1]), ("stack", "element 1", "int"), True),

    # ---- a size given a float or a string -------------------------------------------------------
    ("zeros(str)", lambda m, t: m.zeros("3", device=t.device), ("zeros", "'size'", "str"), True),
    ("zeros(float)", lambda m, t: m.zeros(3.5, device=t.device), ("zeros", "'size'", "float"), True),
    ("zeros(2, float)", lambda m, t: m.zeros(2, 3.0, device=t.device), ("zeros", "'size'", "float"), True),
    ("zeros(None)", lambda m, t: m.zeros(None, device=t.device), ("zeros", "'size'", "NoneType"), True),
    ("ones((2, str))", lambda m, t: m.ones((2, "3"), device=t.device), ("ones", "'size'", "str"), True),
    ("empty(float)", lambda m, t: m.empty(3.5, device=t.device), ("empty", "'size'", "float"), True),
    ("rand(str)", lambda m, t: m.rand("3", device=t.device), ("rand", "'size'", "str"), True),
    ("randn(float)", lambda m, t: m.randn(3.5, device=t.device), ("randn", "'size'", "float"), True),
    ("full(str, 1.0)", lambda m, t: m.full("3", 1.0, device=t.device), ("full", "'size'", "str"), True),
    ("full(float, 1.0)", lambda m, t: m.full(3.5, 1.0, device=t.device), ("full", "'size'", "float"), True),
    ("reshape(str)", lambda m, t: t.reshape("6"), ("reshape", "'shape'", "str"), True),
    ("view(2, float)", lambda m, t: t.view(2, 3.0), ("view", "float"), True),
    ("expand(float)", lambda m, t: t.expand(2, 3.0), ("expand", "float"), True),

    # ---- a layer's integer argument given a float or a string ----------------------------------
    ("Linear(str, 2)", lambda m, t: _nn(m).Linear("3", 2), ("Linear", "'in_features'", "str"), True),
    ("Linear(float, 2)", lambda m, t: _nn(m).Linear(2.5, 2), ("Linear", "'in_features'", "float"), True),
    ("Linear(2, None)", lambda m, t: _nn(m).Linear(2, None), ("Linear", "'out_features'", "NoneType"), True),
    ("Bilinear(float, 2, 2)", lambda m, t: _nn(m).Bilinear(2.5, 2, 2), ("Bilinear", "'in1_features'"), True),
    ("Conv1d(float, 2, 3)", lambda m, t: _nn(m).Conv1d(2.5, 2, 3), ("Conv1d", "'in_channels'"), False),
    ("Conv2d(2, str, 3)", lambda m, t: _nn(m).Conv2d(2, "2", 3), ("Conv2d", "'out_channels'"), False),
    ("Conv2d kernel_size float", lambda m, t: _nn(m).Conv2d(2, 2, 2.5), ("Conv2d", "kernel_size"), True),
    ("Conv2d kernel_size str", lambda m, t: _nn(m).Conv2d(2, 2, "3"), ("Conv2d", "kernel_size"), True),
    ("Conv2d stride float", lambda m, t: _nn(m).Conv2d(2, 2, 3, stride=1.5), ("Conv2d", "stride"), False),
    ("ConvTranspose2d(float, 2, 3)", lambda m, t: _nn(m).ConvTranspose2d(2.5, 2, 3),
     ("ConvTranspose2d", "'in_channels'"), False),
    ("Embedding(float, 3)", lambda m, t: _nn(m).Embedding(2.5, 3), ("Embedding", "'num_embeddings'"), True),
    ("Embedding(10, str)", lambda m, t: _nn(m).Embedding(10, "3"), ("Embedding", "'embedding_dim'"), True),
    ("BatchNorm1d(float)", lambda m, t: _nn(m).BatchNorm1d(2.5), ("BatchNorm1d", "'num_features'"), True),
    ("BatchNorm2d(str)", lambda m, t: _nn(m).BatchNorm2d("2"), ("BatchNorm2d", "'num_features'"), True),
    ("InstanceNorm1d(float)", lambda m, t: _nn(m).InstanceNorm1d(2.5, affine=True),
     ("InstanceNorm1d", "'num_features'"), True),
    ("LayerNorm(float)", lambda m, t: _nn(m).LayerNorm(2.5), ("LayerNorm", "'normalized_shape'"), True),
    ("LayerNorm(str)", lambda m, t: _nn(m).LayerNorm("4"), ("LayerNorm", "'normalized_shape'", "str"), True),
    ("LayerNorm([2, float])", lambda m, t: _nn(m).LayerNorm([2, 2.5]), ("LayerNorm", "'normalized_shape'"), True),
    ("GroupNorm(float, 4)", lambda m, t: _nn(m).GroupNorm(2.5, 4), ("GroupNorm", "'num_groups'"), False),
    ("RNN(float, 3)", lambda m, t: _nn(m).RNN(2.5, 3), ("RNN", "'input_size'"), True),
    ("LSTM(2, str)", lambda m, t: _nn(m).LSTM(2, "3"), ("LSTM", "'hidden_size'"), True),
    ("GRU num_layers float", lambda m, t: _nn(m).GRU(2, 3, num_layers=1.5), ("GRU", "'num_layers'"), True),
    ("RNNCell(2, float)", lambda m, t: _nn(m).RNNCell(2, 3.5), ("RNNCell", "'hidden_size'"), True),
    ("LSTMCell(str, 3)", lambda m, t: _nn(m).LSTMCell("2", 3), ("LSTMCell", "'input_size'"), True),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_wrong_argument_type_is_a_type_error_naming_function_and_argument(device, case):
    _, call, words, _ = case
    t = ember.ones(2, 3, device=device)
    with pytest.raises(TypeError) as info:
        call(ember, t)
    message = str(info.value)
    missing = [w for w in words if w not in message]
    assert not missing, f"{message!r} does not mention {missing}"


TORCH_CASES = [c for c in CASES if c[3]]


@pytest.mark.filterwarnings("ignore::UserWarning")  # kl_div's reduction='mean' notice
@pytest.mark.parametrize("case", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_pytorch_refuses_the_same_argument_with_a_type_error(case):
    torch = pytest.importorskip("torch")
    _, call, _, _ = case
    with pytest.raises(TypeError):
        call(torch, torch.ones(2, 3))


def test_right_types_pass_the_same_checks(device):
    import numpy as np

    assert ember.zeros(np.int64(2), ember.tensor(3), device=device).shape == (2, 3)
    assert ember.nn.Linear(np.int64(3), 2).in_features == 3
    assert ember.nn.LayerNorm(ember.Size([2, 3])).normalized_shape == (2, 3)
    assert ember.cat((ember.ones(1, device=device), ember.ones(2, device=device))).shape == (3,)
    assert ember.full([2], 1.0, device=device).shape == (2,)


# Functions whose first argument is not a tensor (sizes, data, devices, seeds, modes, files, ...).
_NOT_TENSOR_FIRST = {
    "arange", "as_tensor", "backend_by_name", "compile", "device", "dtype", "empty", "enable_grad", "eye",
    "from_dlpack", "from_numpy", "full", "get_default_device", "get_default_dtype", "get_rng_state", "inference_mode",
    "initial_seed", "is_grad_enabled", "is_tensor", "linspace", "load", "manual_seed", "no_grad", "normal", "ones",
    "promote_types", "rand", "randint", "randn", "randperm", "result_type", "save", "seed", "set_default_device",
    "set_default_dtype", "set_grad_enabled", "set_rng_state", "synchronize", "tensor", "zeros", "Generator",
    "set_printoptions", "set_num_threads",
}


def _public_functions():
    import inspect

    import ember.nn.functional as F

    for prefix, module in (("ember", ember), ("F", F)):
        for name in sorted(dir(module)):
            fn = getattr(module, name)
            if (name.startswith("_") or name in _NOT_TENSOR_FIRST or not callable(fn) or inspect.isclass(fn)
                    or inspect.ismodule(fn)):
                continue
            yield pytest.param(fn, id=f"{prefix}.{name}")


@pytest.mark.no_device
@pytest.mark.filterwarnings("ignore:`nn.functional.upsample")  # the deprecated aliases say so first
@pytest.mark.parametrize("fn", list(_public_functions()))
@pytest.mark.parametrize("args", [(None,), (None, None), (None, 0, 1)], ids=["1 arg", "2 args", "3 args"])
def test_every_public_function_refuses_none_for_a_tensor_with_a_type_error(fn, args):
    with pytest.raises(TypeError):
        fn(*args)
