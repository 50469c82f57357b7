"""Activations (`ember.nn` layers and `ember.nn.functional`): values at hand-computed points, stability at
|x| = 1e4, reprs, in-place forms, and gradients (first and second order) against finite differences."""
import copy
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.backends.derived import DerivedPrimitives


def t(values, device, **kw):
    return ember.tensor(values, dtype=kw.pop("dtype", ember.float64), device=device, **kw)


def phi(x):  # the standard normal CDF
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def sig(x):
    return 1 / (1 + math.exp(-x))


def softplus(x):
    return math.log1p(math.exp(x))


POINTS = [-3.0, -1.0, -0.25, 0.5, 2.0, 7.0]

# name -> (function of a tensor, scalar reference computed by hand from the documented formula)
VALUES = {
    "relu": (F.relu, lambda x: max(0.0, x)),
    "relu6": (F.relu6, lambda x: min(max(0.0, x), 6.0)),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2), lambda x: x if x > 0 else 0.2 * x),
    "elu": (lambda a: F.elu(a, 1.5), lambda x: x if x > 0 else 1.5 * (math.exp(x) - 1)),
    "selu": (F.selu, lambda x: 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * (math.exp(x) - 1))),
    "celu": (lambda a: F.celu(a, 2.0), lambda x: max(0, x) + min(0, 2.0 * (math.exp(x / 2.0) - 1))),
    "gelu": (F.gelu, lambda x: x * phi(x)),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * sig(x)),
    "mish": (F.mish, lambda x: x * math.tanh(softplus(x))),
    "sigmoid": (F.sigmoid, sig),
    "tanh": (F.tanh, math.tanh),
    "softplus": (F.softplus, softplus),
    "softplus_beta": (lambda a: F.softplus(a, beta=2.0, threshold=5.0),
                      lambda x: x if 2 * x > 5 else math.log1p(math.exp(2 * x)) / 2),
    "hardtanh": (lambda a: F.hardtanh(a, -2.0, 1.5), lambda x: min(max(x, -2.0), 1.5)),
    "hardsigmoid": (F.hardsigmoid, lambda x: min(max(x + 3, 0), 6) / 6),
    "hardswish": (F.hardswish, lambda x: x * min(max(x + 3, 0), 6) / 6),
    "logsigmoid": (F.logsigmoid, lambda x: math.log(sig(x))),
    "softsign": (F.softsign, lambda x: x / (1 + abs(x))),
    "tanhshrink": (F.tanhshrink, lambda x: x - math.tanh(x)),
    "hardshrink": (lambda a: F.hardshrink(a, 0.75), lambda x: x if abs(x) > 0.75 else 0.0),
    "softshrink": (lambda a: F.softshrink(a, 0.75), lambda x: x - 0.75 if x > 0.75 else x + 0.75 if x < -0.75 else 0.0),
    "threshold": (lambda a: F.threshold(a, 0.4, -9.0), lambda x: x if x > 0.4 else -9.0),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_activation_matches_its_formula_at_hand_points(name, device):
    fn, ref = VALUES[name]
    out = fn(t(POINTS, device))
    np.testing.assert_allclose(out.numpy(), [ref(x) for x in POINTS], rtol=1e-12, atol=1e-14)


def test_softmax_family_values(device):
    x = t([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], device)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy()[0], e / e.sum(), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy()[1], [1 / 3] * 3, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, dim=-1).numpy()[0], np.log(e / e.sum()), rtol=1e-12)
    np.testing.assert_allclose(F.softmin(x, dim=1).numpy()[0], (1 / e) / (1 / e).sum(), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x, dim=0).numpy().sum(0), [1, 1, 1], rtol=1e-12)
    np.testing.assert_allclose(F.glu(t([1.0, 2.0, 0.0, 1.0], device)).numpy(), [0.5, 2 * sig(1.0)], rtol=1e-12)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_softmax_and_log_softmax_are_stable_for_logits_of_magnitude_1e4(dtype, device):
    x = ember.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1, -1e4]], dtype=dtype, device=device, requires_grad=True)
    p = F.softmax(x, dim=1)
    lp = F.log_softmax(x, dim=1)
    np.testing.assert_allclose(p.detach().numpy()[0], [1, 0, 0])
    e = np.exp([0.0, 1.0, 0.0])
    np.testing.assert_allclose(p.detach().numpy()[1], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(lp.detach().numpy()[0], [0, -1e4, -2e4], rtol=1e-6)
    np.testing.assert_allclose(lp.detach().numpy()[1], np.log(e / e.sum()), rtol=1e-5)
    (lp[:, 0].sum() + p[:, 1].sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_log_softmax_rows_with_positive_infinity_or_only_negative_infinity_are_nan_as_in_pytorch(device):
    inf = float("inf")
    lp = F.log_softmax(ember.tensor([[inf, 1.0], [-inf, -inf], [-inf, 0.0]], device=device), dim=1).numpy()
    assert np.isnan(lp[:2]).all()
    np.testing.assert_array_equal(lp[2], [-inf, 0.0])


# name -> (f(-1e4), f(1e4)) from the formulas' limits
AT_1E4 = {"softplus": (0.0, 1e4), "logsigmoid": (-1e4, 0.0), "sigmoid": (0.0, 1.0), "silu": (0.0, 1e4),
          "mish": (0.0, 1e4), "elu": (-1.5, 1e4), "celu": (-2.0, 1e4),
          "selu": (-1.7580993408473766, 1.0507009873554805e4),
          "gelu": (0.0, 1e4), "gelu_tanh": (0.0, 1e4), "tanh": (-1.0, 1.0), "softsign": (-1e4 / 10001, 1e4 / 10001),
          "hardswish": (0.0, 1e4), "softplus_beta": (0.0, 1e4)}


@pytest.mark.parametrize("name", sorted(AT_1E4))
def test_activation_is_finite_with_finite_gradient_at_1e4(name, device):
    x = t([-1e4, 1e4], device, requires_grad=True)
    y = VALUES[name][0](x)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), AT_1E4[name], rtol=1e-12, atol=1e-12)
    assert np.isfinite(x.grad.numpy()).all()


# ---- gradients ------------------------------------------------------------------------------
GRADS = dict(VALUES)
GRADS.update({
    "softmax_dim1": (lambda a: F.softmax(a, dim=1), None),
    "softmax_dim0": (lambda a: F.softmax(a, dim=0), None),
    "log_softmax": (lambda a: F.log_softmax(a, dim=-1), None),
    "softmin": (lambda a: F.softmin(a, dim=1), None),
    "glu": (lambda a: F.glu(a, dim=1), None),
})
NONSMOOTH = {"relu", "relu6", "leaky_relu", "hardtanh", "hardsigmoid", "hardswish", "hardshrink", "softshrink",
             "threshold", "elu", "celu", "selu"}


def _away_from_kinks(shape):
    """Values whose distance from the kinks (0, +-0.4, +-0.75, +-1.5, +-2, +-3, 6) exceeds the FD step."""
    rng = np.random.default_rng(0)
    return rng.choice([-3.7, -2.6, -1.2, -0.6, -0.3, 0.2, 0.55, 0.9, 1.3, 2.4, 4.1, 6.5], size=shape) \
        + rng.uniform(-0.05, 0.05, size=shape)


@pytest.mark.parametrize("name", sorted(GRADS))
def test_activation_gradients_match_finite_differences(name, device):
    fn = GRADS[name][0]
    data = _away_from_kinks((3, 4)) if name in NONSMOOTH else np.random.default_rng(1).normal(size=(3, 4)) * 2
    x = ember.tensor(data, dtype=ember.float64, device=device, requires_grad=True)
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


def test_prelu_gradients_for_input_and_per_channel_weight(device):
    x = ember.tensor(_away_from_kinks((2, 3, 2)), dtype=ember.float64, device=device, requires_grad=True)
    w = t([0.1, 0.25, -0.5], device, requires_grad=True)
    assert gradcheck(F.prelu, [x, w])
    out = F.prelu(x, w).detach().numpy()
    xv = x.detach().numpy()
    np.testing.assert_allclose(out, np.where(xv >= 0, xv, xv * np.array([0.1, 0.25, -0.5])[None, :, None]))


# ---- layers: repr, arguments, in place ------------------------------------------------------
REPRS = [
    (nn.ReLU(), "ReLU()"),
    (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    (nn.ReLU6(), "ReLU6()"),
    (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (nn.LeakyReLU(0.2, inplace=True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (nn.ELU(), "ELU(alpha=1.0)"),
    (nn.GELU(), "GELU(approximate='none')"),
    (nn.GELU("tanh"), "GELU(approximate='tanh')"),
    (nn.SiLU(), "SiLU()"),
    (nn.Mish(), "Mish()"),
    (nn.Sigmoid(), "Sigmoid()"),
    (nn.Tanh(), "Tanh()"),
    (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
    (nn.Softmax(dim=1), "Softmax(dim=1)"),
    (nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"),
    (nn.Softmin(0), "Softmin(dim=0)"),
    (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardsigmoid(), "Hardsigmoid()"),
    (nn.Hardswish(), "Hardswish()"),
    (nn.PReLU(), "PReLU(num_parameters=1)"),
    (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"),
    (nn.Hardshrink(), "Hardshrink(0.5)"),
    (nn.GLU(), "GLU(dim=-1)"),
]


@pytest.mark.parametrize("layer,expected", REPRS, ids=[r for _, r in REPRS])
def test_activation_layer_repr_matches_pytorch(layer, expected):
    assert repr(layer) == expected


@pytest.mark.parametrize("layer,fn", [
    (nn.ReLU(), F.relu), (nn.GELU(), F.gelu), (nn.SiLU(), F.silu), (nn.Mish(), F.mish), (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh), (nn.Softplus(), F.softplus), (nn.ELU(), F.elu), (nn.LeakyReLU(), F.leaky_relu),
    (nn.Hardtanh(), F.hardtanh), (nn.ReLU6(), F.relu6), (nn.LogSigmoid(), F.logsigmoid), (nn.SELU(), F.selu),
    (nn.Softmax(dim=1), lambda a: F.softmax(a, 1)), (nn.LogSoftmax(dim=1), lambda a: F.log_softmax(a, 1)),
])
def test_activation_layer_applies_its_functional(layer, fn, device):
    x = ember.randn(3, 4, device=device, dtype=ember.float64) * 3
    np.testing.assert_array_equal(layer(x).numpy(), fn(x).numpy())


@pytest.mark.parametrize("layer", [nn.ReLU(inplace=True), nn.LeakyReLU(0.1, inplace=True), nn.ELU(inplace=True),
                                   nn.Hardtanh(inplace=True), nn.ReLU6(inplace=True), nn.SiLU(inplace=True),
                                   nn.Hardswish(inplace=True), nn.Hardsigmoid(inplace=True), nn.Mish(inplace=True)])
def test_inplace_activation_writes_into_its_input_and_keeps_gradients(layer, device):
    base = ember.tensor(_away_from_kinks((2, 5)), dtype=ember.float64, device=device, requires_grad=True)
    out_of_place = copy.deepcopy(layer)
    out_of_place.inplace = False
    expected = out_of_place(base.detach())
    x = base * 1.0
    out = layer(x)
    assert out is x
    np.testing.assert_allclose(x.detach().numpy(), expected.numpy())
    x.sum().backward()
    ref = base.detach().requires_grad_()
    out_of_place(ref).sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), ref.grad.numpy())


def test_inplace_activation_on_a_leaf_requiring_grad_is_an_error(device):
    x = ember.randn(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(x, inplace=True)


def test_softmax_without_dim_warns_and_picks_pytorchs_implicit_dim(device):
    x = ember.randn(2, 3, device=device)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.numpy().sum(1), [1, 1], rtol=1e-6)


def test_softmax_dtype_argument_casts_first(device):
    x = ember.tensor([1.0, 2.0], dtype=ember.float32, device=device)
    assert F.softmax(x, 0, dtype=ember.float64).dtype is ember.float64
    assert F.log_softmax(x, 0).dtype is ember.float32


def test_softmax_dim_out_of_range_raises_index_error(device):
    with pytest.raises(IndexError, match="dimension out of range"):
        F.softmax(ember.randn(2, 3, device=device), dim=2)


def test_gelu_rejects_an_unknown_approximation(device):
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(ember.randn(2, device=device), approximate="fast")


def test_prelu_layer_has_one_learnable_slope_initialised_to_0_25(device):
    layer = nn.PReLU(3, device=device)
    assert layer.weight.shape == (3,) and np.allclose(layer.weight.detach().numpy(), 0.25)
    x = ember.tensor([[-4.0, 2.0, -1.0]], device=device)
    np.testing.assert_allclose(layer(x).detach().numpy(), [[-1.0, 2.0, -0.25]])
    with pytest.raises(RuntimeError, match="channel"):
        layer(ember.randn(2, 4, device=device))


def test_hardtanh_rejects_max_not_above_min():
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, 1.0)


# ---- erf (GELU's kernel) ----------------------------------------------------------------------
def test_tensor_erf_matches_math_erf(device):
    x = np.linspace(-6, 6, 241)
    np.testing.assert_allclose(t(x, device).erf().numpy(), [math.erf(v) for v in x], rtol=1e-14, atol=1e-300)


def test_logsigmoid_gradient_at_zero_is_one_half(device):
    x = ember.zeros(1, dtype=ember.float64, device=device, requires_grad=True)
    ember.nn.functional.logsigmoid(x).sum().backward()
    assert x.grad.tolist() == [0.5]
    y = ember.tensor([-3.0, 0.5, 4.0], dtype=ember.float64, device=device, requires_grad=True)
    assert ember.autograd.gradcheck(ember.nn.functional.logsigmoid, (y,))
    assert ember.autograd.gradgradcheck(ember.nn.functional.logsigmoid, (y,))


def test_linear_weight_gradient_is_row_major_and_matches_the_composite(device):
    F = ember.nn.functional
    x = ember.randn(5, 3, dtype=ember.float64, device=device, requires_grad=True)
    w = ember.randn(4, 3, dtype=ember.float64, device=device, requires_grad=True)
    b = ember.randn(4, dtype=ember.float64, device=device, requires_grad=True)
    assert ember.autograd.gradcheck(F.linear, (x, w, b))
    assert ember.autograd.gradgradcheck(F.linear, (x, w, b))
    assert ember.autograd.gradcheck(F.linear, (x[0], w))
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 5)) @ x.detach().numpy())
    bk = w.grad._bk  # a backend that tracks ownership hands the gradient over as a fresh array
    assert bk.owns_memory(w.grad._data) or type(bk).owns_memory is DerivedPrimitives.owns_memory
