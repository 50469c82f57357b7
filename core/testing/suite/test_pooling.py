"""Pooling (F.max_pool1d/2d, avg_pool1d/2d, adaptive_*; nn.MaxPool*, AvgPool*, Adaptive*).

One table of configurations per family drives output shape and values against a naive numpy
reference (loops over windows, following PyTorch's output-size and divisor rules), gradients
and second derivatives in float64, and PyTorch where it is installed.
"""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck


def _pairs(dims, *values):
    return [(v,) * dims if isinstance(v, int) else tuple(v) for v in values]


def _out_size(size, k, s, p, d, ceil_mode):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def naive_max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(values, flat indices) of max pooling over the trailing 1 or 2 dims of x (N, C, *spatial)."""
    dims = x.ndim - 2
    kernel, stride, padding, dilation = _pairs(dims, kernel_size, kernel_size if stride is None else stride, padding,
                                               dilation)
    size = x.shape[2:]
    out_size = [_out_size(*a, ceil_mode) for a in zip(size, kernel, stride, padding, dilation)]
    values = np.zeros(x.shape[:2] + tuple(out_size))
    index = np.zeros(values.shape, np.int64)
    for pos in np.ndindex(*out_size):
        best = np.full(x.shape[:2], -np.inf)
        best_at = np.full(x.shape[:2], -1)
        for offs in np.ndindex(*kernel):
            at = [o * s - p + k * d for o, s, p, k, d in zip(pos, stride, padding, offs, dilation)]
            if all(0 <= a < n for a, n in zip(at, size)):
                v = x[(slice(None), slice(None)) + tuple(at)]
                flat = at[0] * size[1] + at[1] if dims == 2 else at[0]
                better = (v > best) | (best_at < 0) | np.isnan(v)
                best, best_at = np.where(better, v, best), np.where(better, flat, best_at)
        values[(slice(None), slice(None)) + pos] = best
        index[(slice(None), slice(None)) + pos] = best_at
    return values, index


def naive_avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                   divisor_override=None):
    dims = x.ndim - 2
    kernel, stride, padding = _pairs(dims, kernel_size, kernel_size if stride is None else stride, padding)
    size = x.shape[2:]
    out_size = [_out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(size, kernel, stride, padding)]
    out = np.zeros(x.shape[:2] + tuple(out_size))
    for pos in np.ndindex(*out_size):
        starts = [o * s - p for o, s, p in zip(pos, stride, padding)]
        ends = [min(b + k, n + p) for b, k, n, p in zip(starts, kernel, size, padding)]
        area = math.prod(e - b for b, e in zip(starts, ends))
        clipped = tuple(slice(max(b, 0), min(e, n)) for b, e, n in zip(starts, ends, size))
        total = x[(slice(None), slice(None)) + clipped].reshape(x.shape[:2] + (-1,)).sum(-1)
        count = math.prod(c.stop - c.start for c in clipped)
        divisor = divisor_override or (area if count_include_pad else count)
        out[(slice(None), slice(None)) + pos] = total / divisor
    return out


def naive_adaptive(x, output_size, reduce):
    dims = x.ndim - 2
    out_size = [n if o is None else o for n, o in zip(x.shape[2:], _pairs(dims, output_size)[0])]
    out = np.zeros(x.shape[:2] + tuple(out_size))
    for pos in np.ndindex(*out_size):
        window = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(pos, x.shape[2:], out_size))
        out[(slice(None), slice(None)) + pos] = reduce(x[(slice(None), slice(None)) + window].reshape(x.shape[:2] + (-1,)), -1)
    return out


def _input(device, shape, seed=0, requires_grad=False):
    """Distinct values (no ties) so finite differences never cross a max switch."""
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)
    return x, ember.tensor(x, dtype=ember.float64, device=device, requires_grad=requires_grad)


MAX_CASES = [
    ("2d_2x2", (2, 3, 6, 6), dict(kernel_size=2)),
    ("2d_odd_size", (1, 2, 7, 5), dict(kernel_size=2)),
    ("2d_overlap_padding", (1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("2d_stride_one", (1, 2, 5, 5), dict(kernel_size=3, stride=1, padding=1)),
    ("2d_dilation", (1, 2, 7, 7), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))),
    ("2d_ceil_mode", (1, 2, 7, 6), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("2d_ceil_padding", (1, 1, 5, 8), dict(kernel_size=(2, 3), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ("2d_unbatched", (2, 5, 4), dict(kernel_size=2, stride=1)),
    ("1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("1d_dilation_ceil", (1, 2, 10), dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),
]

AVG_CASES = [
    ("2d_2x2", (2, 3, 6, 6), dict(kernel_size=2)),
    ("2d_padding", (1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("2d_padding_exclude", (1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("2d_ceil", (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("2d_ceil_exclude", (1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("2d_divisor_override", (1, 2, 5, 6), dict(kernel_size=(2, 3), stride=1, divisor_override=4)),
    ("2d_unbatched_overlap", (2, 5, 5), dict(kernel_size=3, stride=1)),
    ("1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("1d_ceil_exclude", (1, 2, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
]

ADAPTIVE_CASES = [
    ("2d_divisible", (2, 2, 6, 8), (3, 4)),
    ("2d_uneven", (1, 2, 7, 5), (3, 4)),
    ("2d_int_size", (1, 2, 5, 5), 3),
    ("2d_none_keeps", (1, 2, 5, 6), (2, None)),
    ("2d_upsample", (1, 1, 2, 3), (3, 4)),
    ("2d_unbatched", (2, 5, 7), (2, 3)),
    ("1d_uneven", (2, 3, 10), 4),
    ("1d_one", (1, 2, 5), 1),
]


def _dims(name):
    return 1 if name.startswith("1d") else 2


def _batched(x, name):
    return x[None] if "unbatched" in name else x


@pytest.mark.parametrize("name, shape, kwargs", MAX_CASES, ids=[c[0] for c in MAX_CASES])
def test_max_pool_matches_naive_reference_with_indices(device, name, shape, kwargs):
    x, t = _input(device, shape)
    fn = getattr(F, f"max_pool{_dims(name)}d")
    values, index = fn(t, **kwargs, return_indices=True)
    expected, expected_index = naive_max_pool(_batched(x, name), **kwargs)
    if "unbatched" in name:
        expected, expected_index = expected[0], expected_index[0]
    assert values.shape == expected.shape and index.dtype == ember.int64
    np.testing.assert_array_equal(values.numpy(), expected)
    np.testing.assert_array_equal(index.numpy(), expected_index)
    np.testing.assert_array_equal(fn(t, **kwargs).numpy(), expected)


@pytest.mark.parametrize("name, shape, kwargs", MAX_CASES, ids=[c[0] for c in MAX_CASES])
def test_max_pool_gradients_match_finite_differences(device, name, shape, kwargs):
    _, t = _input(device, shape, requires_grad=True)
    fn = getattr(F, f"max_pool{_dims(name)}d")
    assert gradcheck(lambda a: fn(a, **kwargs), [t])
    if name in ("2d_overlap_padding", "1d"):
        assert gradgradcheck(lambda a: fn(a, **kwargs), [t])


@pytest.mark.parametrize("name, shape, kwargs", AVG_CASES, ids=[c[0] for c in AVG_CASES])
def test_avg_pool_matches_naive_reference(device, name, shape, kwargs):
    x, t = _input(device, shape)
    out = getattr(F, f"avg_pool{_dims(name)}d")(t, **kwargs)
    expected = naive_avg_pool(_batched(x, name), **kwargs)
    expected = expected[0] if "unbatched" in name else expected
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, shape, kwargs", AVG_CASES, ids=[c[0] for c in AVG_CASES])
def test_avg_pool_gradients_match_finite_differences(device, name, shape, kwargs):
    _, t = _input(device, shape, requires_grad=True)
    fn = getattr(F, f"avg_pool{_dims(name)}d")
    assert gradcheck(lambda a: fn(a, **kwargs), [t])
    if name in ("2d_ceil_exclude", "1d"):
        assert gradgradcheck(lambda a: fn(a, **kwargs), [t])


@pytest.mark.parametrize("name, shape, output_size", ADAPTIVE_CASES, ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_pools_match_naive_reference_and_finite_differences(device, name, shape, output_size):
    x, t = _input(device, shape, requires_grad=True)
    dims = _dims(name)
    for family, reduce in (("avg", np.mean), ("max", np.max)):
        fn = getattr(F, f"adaptive_{family}_pool{dims}d")
        out = fn(t, output_size)
        expected = naive_adaptive(_batched(x, name), output_size, reduce)
        expected = expected[0] if "unbatched" in name else expected
        assert out.shape == expected.shape
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
        assert gradcheck(lambda a: fn(a, output_size), [t])


@pytest.mark.parametrize("shape, output_size", [((2, 2, 6, 8), (3, 4)), ((1, 2, 7, 5), (3, 4)), ((2, 3, 10), 4)])
def test_adaptive_max_pool_indices_point_at_the_maxima(device, shape, output_size):
    _, t = _input(device, shape)
    fn = F.adaptive_max_pool2d if len(shape) == 4 else F.adaptive_max_pool1d
    values, index = fn(t, output_size, return_indices=True)
    flat = t.reshape(shape[0], shape[1], -1)
    gathered = flat.gather(2, index.reshape(shape[0], shape[1], -1)).reshape(values.shape)
    np.testing.assert_array_equal(gathered.numpy(), values.numpy())


def test_max_pool_ties_send_the_gradient_to_the_first_maximum(device):
    x = ember.tensor([[[[1.0, 1.0], [1.0, 0.0]]]], device=device, requires_grad=True)
    values, index = F.max_pool2d(x, 2, return_indices=True)
    values.sum().backward()
    assert index.item() == 0
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_max_pool_propagates_nan_and_points_at_it(device):
    x = ember.tensor([[[0.0, float("nan"), 5.0, 1.0, 2.0, float("nan")]]], device=device, requires_grad=True)
    values, index = F.max_pool1d(x, 3, return_indices=True)
    assert math.isnan(values[0, 0, 0].item()) and math.isnan(values[0, 0, 1].item())
    assert index.tolist() == [[[1, 5]]]
    values.backward(ember.ones_like(values))
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]]])


@pytest.mark.parametrize("dtype, fill", [(ember.uint8, 0), (ember.int64, 3), (ember.float32, float("-inf"))])
def test_max_pool_padding_never_wins_even_against_the_lowest_value(device, dtype, fill):
    """Windows whose real values all equal the padding value point at their first real position (PyTorch)."""
    x = ember.full((1, 1, 5, 5), fill, dtype=dtype, device=device)
    values, index = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    assert values.dtype == dtype and values.reshape(-1).tolist() == [fill] * 9
    assert index.tolist() == [[[[0, 1, 3], [5, 6, 8], [15, 16, 18]]]]


def test_max_pool_works_on_integers(device):
    x = ember.arange(16, device=device).reshape(1, 1, 4, 4)
    assert F.max_pool2d(x, 2).tolist() == [[[[5, 7], [13, 15]]]]
    assert F.max_pool2d(x, 3, 1, 1).tolist()[0][0][3] == [13, 14, 15, 15]


def test_max_pool_gradient_keeps_nan_gradients_at_the_maxima_only(device):
    x = ember.tensor([[[3.0, 1.0, 0.0, 2.0]]], device=device, requires_grad=True)
    F.max_pool1d(x, 2).backward(ember.tensor([[[float("nan"), 1.0]]], device=device))
    grad = x.grad.numpy()[0, 0]
    assert math.isnan(grad[0]) and grad[1:].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("call, match", [
    (lambda x: F.max_pool2d(x, 3, padding=2), "pad should be at most half of effective kernel size"),
    (lambda x: F.avg_pool2d(x, 2, padding=2), "pad should be at most half of effective kernel size"),
    (lambda x: F.max_pool2d(x, 7), r"Given input size: \(2x5x5\). Calculated output size: \(2x0x0\)"),
    (lambda x: F.max_pool2d(x, 2, stride=0), "stride should not be zero"),
    (lambda x: F.max_pool2d(x, 0), "kernel_size must be greater than zero"),
    (lambda x: F.max_pool2d(x[0, 0, 0], 2), "3D or 4D"),
    (lambda x: F.max_pool1d(x, 2), "2D or 3D"),
    (lambda x: F.avg_pool2d(x.to(ember.int64), 2), "expected a floating point input"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
    (lambda x: F.adaptive_avg_pool2d(x, (0, 2)), "greater than or equal to 1"),
    (lambda x: F.adaptive_max_pool2d(x, (1, 2, 3)), "output_size must be 2 ints"),
])
def test_pooling_rejects_bad_arguments_with_clear_errors(device, call, match):
    x = ember.zeros(1, 2, 5, 5, device=device)
    with pytest.raises(RuntimeError, match=match):
        call(x)


@pytest.mark.parametrize("layer, text", [
    (lambda: nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (lambda: nn.MaxPool2d((3, 2), 1, 1, dilation=2, ceil_mode=True),
     "MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, dilation=2, ceil_mode=True)"),
    (lambda: nn.MaxPool1d(3), "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)"),
    (lambda: nn.AvgPool2d(3, 2, 1), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    (lambda: nn.AvgPool1d(3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    (lambda: nn.AdaptiveAvgPool2d((5, None)), "AdaptiveAvgPool2d(output_size=(5, None))"),
    (lambda: nn.AdaptiveAvgPool1d(3), "AdaptiveAvgPool1d(output_size=3)"),
    (lambda: nn.AdaptiveMaxPool2d(2), "AdaptiveMaxPool2d(output_size=2)"),
])
def test_pooling_layer_repr_matches_pytorch(layer, text):
    assert repr(layer()) == text


def test_pooling_layers_forward_like_their_functions(device):
    _, t = _input(device, (2, 3, 8, 8))
    assert nn.MaxPool2d(2)(t).equal(F.max_pool2d(t, 2))
    values, index = nn.MaxPool2d(3, 2, 1, return_indices=True)(t)
    assert values.shape == index.shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, 1, 1, count_include_pad=False)(t).equal(F.avg_pool2d(t, 3, 1, 1, count_include_pad=False))
    assert nn.AvgPool1d(2)(t[0]).equal(F.avg_pool1d(t[0], 2))
    assert nn.MaxPool1d(2, ceil_mode=True)(t[0]).shape == (3, 8, 4)
    assert nn.AdaptiveAvgPool2d((1, None))(t).shape == (2, 3, 1, 8)
    assert nn.AdaptiveAvgPool1d(3)(t[0]).shape == (3, 8, 3)
    assert nn.AdaptiveMaxPool2d(3, return_indices=True)(t)[1].dtype == ember.int64
    assert nn.AdaptiveMaxPool1d(5)(t[0]).shape == (3, 8, 5)
    assert list(nn.MaxPool2d(2).parameters()) == []


POOL_TORCH_CASES = ([("max_pool", name, shape, kw) for name, shape, kw in MAX_CASES]
                    + [("avg_pool", name, shape, kw) for name, shape, kw in AVG_CASES]
                    + [("adaptive_avg_pool", name, shape, dict(output_size=o)) for name, shape, o in ADAPTIVE_CASES]
                    + [("adaptive_max_pool", name, shape, dict(output_size=o)) for name, shape, o in ADAPTIVE_CASES])


@pytest.mark.parametrize("family, name, shape, kwargs", POOL_TORCH_CASES,
                         ids=[f"{c[0]}_{c[1]}" for c in POOL_TORCH_CASES])
def test_pooling_matches_torch_forward_and_gradients(device, family, name, shape, kwargs):
    torch = pytest.importorskip("torch")
    x, t = _input(device, shape, requires_grad=True)
    fn_name = f"{family}{_dims(name)}d"
    out = getattr(F, fn_name)(t, **kwargs)
    tx = torch.tensor(x, requires_grad=True)
    expected = getattr(torch.nn.functional, fn_name)(tx, **kwargs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(ember.tensor(g, device=device))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
