"""`ember.nn.init`: gains and fans as PyTorch documents them, each initialiser's bounds and statistics,
`generator=` reproducibility, and that every initialiser fills in place without recording a graph."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init


@pytest.mark.parametrize("name,param,expected", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("conv_transpose3d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 1, 1.0), ("selu", None, 0.75),
])
def test_calculate_gain_matches_pytorchs_table(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_rejects_unknown_nonlinearities_and_bad_slopes():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape,fans", [((5, 3), (3, 5)), ((8, 4, 3, 3), (36, 72)), ((2, 6, 5), (30, 10))])
def test_fan_in_and_fan_out_include_the_receptive_field(shape, fans):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == fans


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(4))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


def _filled(fn, shape, device, **kw):
    ember.manual_seed(0)
    w = ember.empty(*shape, device=device, dtype=ember.float64)
    assert fn(w, **kw) is w
    return w.numpy()


# name -> (initialiser, kwargs, shape, expected bound (uniform) or None, expected std)
STATS = {
    "uniform": (init.uniform_, {"a": -2.0, "b": 4.0}, (300, 300), None, 6 / math.sqrt(12)),
    "normal": (init.normal_, {"mean": 1.5, "std": 0.5}, (300, 300), None, 0.5),
    "xavier_uniform": (init.xavier_uniform_, {"gain": 2.0}, (200, 400), 2 * math.sqrt(6 / 600),
                       2 * math.sqrt(2 / 600)),
    "xavier_normal": (init.xavier_normal_, {}, (200, 400), None, math.sqrt(2 / 600)),
    "kaiming_uniform": (init.kaiming_uniform_, {"nonlinearity": "relu"}, (300, 200), math.sqrt(6 / 200),
                        math.sqrt(2 / 200)),
    "kaiming_uniform_fan_out": (init.kaiming_uniform_, {"a": 0.1, "mode": "fan_out"}, (300, 20, 3),
                                math.sqrt(3) * math.sqrt(2 / 1.01) / math.sqrt(900),
                                math.sqrt(2 / 1.01) / math.sqrt(900)),
    "kaiming_normal": (init.kaiming_normal_, {"mode": "fan_in", "nonlinearity": "relu"}, (300, 200), None,
                       math.sqrt(2 / 200)),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_random_initialisers_follow_their_documented_distributions(name, device):
    fn, kw, shape, bound, std = STATS[name]
    w = _filled(fn, shape, device, **kw)
    assert abs(w.std() - std) < 0.02 * std
    expected_mean = (kw["a"] + kw["b"]) / 2 if name == "uniform" else kw.get("mean", 0.0)
    assert abs(w.mean() - expected_mean) < 0.02 * std
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    if name == "uniform":
        assert w.min() >= -2.0 and w.max() < 4.0


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(device):
    w = _filled(init.trunc_normal_, (400, 400), device, mean=0.5, std=2.0, a=-1.0, b=3.0)
    assert w.min() >= -1.0 and w.max() <= 3.0
    alpha, beta = (-1.0 - 0.5) / 2.0, (3.0 - 0.5) / 2.0
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    zmass = cdf(beta) - cdf(alpha)
    mean = 0.5 + 2.0 * (pdf(alpha) - pdf(beta)) / zmass
    var = 4.0 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / zmass - ((pdf(alpha) - pdf(beta)) / zmass) ** 2)
    assert abs(w.mean() - mean) < 0.01 and abs(w.var() - var) < 0.01 * var


def test_trunc_normal_with_small_std_is_a_plain_normal(device):
    w = _filled(init.trunc_normal_, (300, 300), device, std=0.02)
    assert abs(w.std() - 0.02) < 0.0005 and np.abs(w).max() < 0.2


def test_constant_ones_zeros_and_eye(device):
    w = ember.empty(3, 4, device=device)
    assert np.all(init.constant_(w, 0.3).numpy() == np.float32(0.3))
    assert np.all(init.ones_(w).numpy() == 1) and not init.zeros_(w).numpy().any()
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(ember.empty(2, 2, 2, device=device))


def test_dirac_puts_one_at_each_kernel_centre_per_group(device):
    w = init.dirac_(ember.empty(4, 2, 3, device=device), groups=2).numpy()
    expect = np.zeros((4, 2, 3))
    expect[0, 0, 1] = expect[1, 1, 1] = expect[2, 0, 1] = expect[3, 1, 1] = 1
    np.testing.assert_array_equal(w, expect)
    w = init.dirac_(ember.empty(2, 3, 3, 3, device=device)).numpy()
    assert w.sum() == 2 and w[0, 0, 1, 1] == 1 and w[1, 1, 1, 1] == 1
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(ember.empty(2, 2, device=device))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ember.empty(3, 2, 3, device=device), groups=2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain(shape, device):
    w = init.orthogonal_(ember.empty(*shape, device=device, dtype=ember.float64), gain=2.0).numpy()
    m = w.reshape(shape[0], -1)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ember.empty(3, device=device))


@pytest.mark.parametrize("fn,kw", [(init.uniform_, {}), (init.normal_, {}), (init.xavier_uniform_, {}),
                                   (init.kaiming_normal_, {}), (init.trunc_normal_, {}), (init.orthogonal_, {})])
def test_generator_argument_makes_initialisation_reproducible(fn, kw, device):
    a, b = ember.empty(5, 4, device=device), ember.empty(5, 4, device=device)
    fn(a, generator=ember.Generator(device).manual_seed(3), **kw)
    fn(b, generator=ember.Generator(device).manual_seed(3), **kw)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.ones_, init.zeros_, init.xavier_normal_,
                                init.kaiming_uniform_, init.trunc_normal_, init.orthogonal_, init.eye_])
def test_initialisers_fill_parameters_in_place_without_a_graph(fn, device):
    p = nn.Parameter(ember.empty(4, 3, device=device))
    assert fn(p) is p
    assert p.is_leaf and p.requires_grad and p.grad_fn is None and type(p) is nn.Parameter


def test_kaiming_on_a_zero_element_tensor_warns_and_does_nothing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.kaiming_uniform_(ember.empty(0, 3))
    assert any("zero-element" in str(w.message) for w in caught)
