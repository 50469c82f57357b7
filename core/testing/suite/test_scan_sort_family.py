"""Scans, order statistics and counting: cumprod, cummax, cummin, logcumsumexp, argsort, msort, kthvalue,
median, nanmedian, mode, unique, unique_consecutive, searchsorted, bucketize, histc, bincount.

Values against hand-computed results (ties, NaN placement as PyTorch), gradients of the differentiable
ones in one first- and second-order table, PyTorch itself on random inputs where it is installed, and the
errors.
"""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

NAN = float("nan")


def _same(t, expected):
    got = np.asarray(t.tolist(), dtype=float)
    np.testing.assert_array_equal(got, np.asarray(expected, dtype=float))


# ---- values ---------------------------------------------------------------------------------------------

def test_cumprod_of_integers_and_bools_accumulates_in_int64(device):
    out = ember.cumprod(ember.tensor([[1, 2, 3], [0, 4, 5]], device=device), 1)
    assert out.dtype is ember.int64 and out.tolist() == [[1, 2, 6], [0, 0, 0]]
    assert ember.cumprod(ember.tensor([True, True], device=device), 0).dtype is ember.int64
    as_double = ember.tensor([[1, 2], [3, 4]], device=device).cumprod(dim=1, dtype=ember.float64)
    assert as_double.dtype is ember.float64 and as_double.tolist() == [[1.0, 2.0], [3.0, 12.0]]


def test_cumprod_of_a_scalar_and_an_empty_tensor(device):
    assert ember.cumprod(ember.tensor(3.0, device=device), 0).item() == 3.0
    assert ember.cumprod(ember.zeros(0, 2, device=device), 0).shape == (0, 2)


def test_cummax_takes_the_latest_index_among_ties_and_propagates_nan(device):
    values, indices = ember.cummax(ember.tensor([1.0, 1.0, 3.0, NAN, 2.0, NAN], device=device), 0)
    _same(values, [1, 1, 3, NAN, NAN, NAN])
    assert indices.tolist() == [0, 1, 2, 3, 3, 5]


def test_cummin_along_a_dim_of_an_integer_tensor(device):
    out = ember.tensor([[3, 3, 1, 1, 2], [5, 4, 6, 0, 0]], device=device).cummin(1)
    assert out.values.tolist() == [[3, 3, 1, 1, 1], [5, 4, 4, 0, 0]]
    assert out.indices.tolist() == [[0, 1, 2, 3, 3], [0, 1, 1, 3, 4]]


def test_logcumsumexp_neither_overflows_nor_loses_minus_infinity(device):
    x = ember.tensor([-math.inf, -math.inf, 1.0, 1000.0, 1000.0], dtype=ember.float64, device=device)
    out = ember.logcumsumexp(x, 0).tolist()
    assert out[:2] == [-math.inf, -math.inf] and out[2] == 1.0
    assert out[3] == pytest.approx(1000.0) and out[4] == pytest.approx(1000.0 + math.log(2))


def test_argsort_is_stable_in_both_directions(device):
    x = ember.tensor([2, 1, 2, 1, 3], device=device)
    assert ember.argsort(x).tolist() == [1, 3, 0, 2, 4]
    assert ember.argsort(x, descending=True, stable=True).tolist() == [4, 0, 2, 1, 3]


def test_msort_sorts_along_the_first_dim(device):
    assert ember.msort(ember.tensor([[3, 1], [1, 2]], device=device)).tolist() == [[1, 1], [3, 2]]


def test_kthvalue_counts_from_one_and_keeps_dims(device):
    x = ember.tensor([[5.0, 1.0, 4.0], [2.0, 9.0, 7.0]], device=device)
    out = ember.kthvalue(x, 2, 1, keepdim=True)
    assert out.values.tolist() == [[4.0], [7.0]] and out.indices.tolist() == [[2], [2]]
    _same(ember.kthvalue(ember.tensor([1.0, NAN, 2.0], device=device), 3).values, NAN)


def test_median_is_the_lower_median(device):
    x = ember.tensor([3.0, 1.0, 1.0, 2.0], device=device)
    assert ember.median(x).item() == 1.0
    out = x.median(0)
    assert out.values.item() == 1.0 and out.indices.item() == 2
    assert ember.tensor([4, 1, 3, 2], device=device).median().item() == 2


def test_median_propagates_nan_with_the_first_nans_index(device):
    out = ember.median(ember.tensor([[1.0, NAN, 2.0, NAN]], device=device), 1)
    _same(out.values, [NAN])
    assert out.indices.tolist() == [1]
    _same(ember.median(ember.tensor([1.0, NAN, 2.0], device=device)), NAN)
    _same(ember.median(ember.zeros(0, device=device)), NAN)


def test_nanmedian_skips_nan(device):
    x = ember.tensor([[1.0, NAN, 2.0, 3.0], [NAN, NAN, NAN, NAN]], device=device)
    out = ember.nanmedian(x, 1)
    _same(out.values, [2.0, NAN])
    assert out.indices[0].item() == 2
    assert ember.nanmedian(ember.tensor([NAN, 4.0, 1.0], device=device)).item() == 1.0


def test_mode_prefers_the_smallest_most_frequent_value_and_its_last_index(device):
    out = ember.mode(ember.tensor([3.0, 1.0, 1.0, 2.0, 3.0, 1.0, 3.0], device=device))
    assert out.values.item() == 1.0 and out.indices.item() == 5
    out = ember.tensor([[2, 2, 1, 1], [7, 5, 7, 5]], device=device).mode(1)
    assert out.values.tolist() == [1, 5] and out.indices.tolist() == [3, 3]


def test_mode_counts_every_nan_once(device):
    out = ember.mode(ember.tensor([1.0, NAN, NAN], device=device))
    assert out.values.item() == 1.0 and out.indices.item() == 0


def test_unique_sorts_and_keeps_every_nan(device):
    out, inverse, counts = ember.unique(ember.tensor([3.0, NAN, 1.0, NAN, 3.0], device=device),
                                        return_inverse=True, return_counts=True)
    _same(out, [1.0, 3.0, NAN, NAN])
    assert inverse.tolist() == [1, 2, 0, 3, 1] and counts.tolist() == [1, 2, 1, 1]


def test_unique_return_forms(device):
    x = ember.tensor([[2, 1], [1, 2]], device=device)
    assert x.unique(sorted=False).tolist() == [1, 2]
    out, inverse = ember.unique(x, return_inverse=True)
    assert out.tolist() == [1, 2] and inverse.tolist() == [[1, 0], [0, 1]]
    out, counts = ember.unique(x, return_counts=True)
    assert counts.tolist() == [2, 2]
    out, inverse, counts = ember.unique(ember.zeros(0, device=device), return_inverse=True, return_counts=True)
    assert out.shape == (0,) and inverse.shape == (0,) and counts.shape == (0,)


def test_unique_along_a_dim_sorts_slices_lexicographically(device):
    x = ember.tensor([[1, 2], [0, 5], [1, 2], [1, 0]], device=device)
    out, inverse, counts = ember.unique(x, dim=0, return_inverse=True, return_counts=True)
    assert out.tolist() == [[0, 5], [1, 0], [1, 2]]
    assert inverse.tolist() == [2, 0, 2, 1] and counts.tolist() == [1, 1, 2]
    assert ember.unique(x.T, dim=1).tolist() == [[0, 1, 1], [5, 0, 2]]


def test_unique_consecutive_collapses_runs_only(device):
    out, inverse, counts = ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 1], device=device),
                                                    return_inverse=True, return_counts=True)
    assert out.tolist() == [1, 2, 1] and inverse.tolist() == [0, 0, 1, 1, 2] and counts.tolist() == [2, 2, 1]
    rows = ember.tensor([[1, 2], [1, 2], [0, 0], [1, 2]], device=device)
    assert ember.unique_consecutive(rows, dim=0).tolist() == [[1, 2], [0, 0], [1, 2]]


def test_searchsorted_left_right_and_batched(device):
    seq = ember.tensor([1, 3, 5, 7], device=device)
    values = ember.tensor([[3, 6, 9], [0, 5, 1]], device=device)
    assert ember.searchsorted(seq, values).tolist() == [[1, 3, 4], [0, 2, 0]]
    assert ember.searchsorted(seq, values, right=True).tolist() == [[2, 3, 4], [0, 3, 1]]
    assert ember.searchsorted(seq, values, side="right").tolist() == [[2, 3, 4], [0, 3, 1]]
    batched = ember.tensor([[1, 3], [2, 4]], device=device)
    assert ember.searchsorted(batched, ember.tensor([[3], [3]], device=device)).tolist() == [[1], [1]]
    out = ember.searchsorted(seq, 5, out_int32=True)
    assert out.shape == () and out.item() == 2 and out.dtype is ember.int32


def test_searchsorted_with_a_sorter_and_nan(device):
    seq = ember.tensor([5.0, 1.0, 3.0], device=device)
    sorter = ember.tensor([1, 2, 0], device=device)
    assert ember.searchsorted(seq, ember.tensor([2.0, 6.0], device=device), sorter=sorter).tolist() == [1, 3]
    with_nan = ember.tensor([1.0, 3.0, NAN], device=device)
    assert ember.searchsorted(with_nan, ember.tensor([NAN, 3.0], device=device)).tolist() == [3, 1]


def test_bucketize(device):
    bounds = ember.tensor([1, 3, 5, 7], device=device)
    assert ember.bucketize(ember.tensor([3, 6, 9], device=device), bounds).tolist() == [1, 3, 4]
    assert ember.bucketize(ember.tensor([3, 6, 9], device=device), bounds, right=True).tolist() == [2, 3, 4]


def test_histc_bins_the_top_edge_into_the_last_bin_and_ignores_outliers(device):
    x = ember.tensor([1.0, 2.0, 1.0, 4.0, 3.0, NAN], device=device)
    assert ember.histc(x, bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 1.0]
    assert ember.histc(ember.tensor([1.0, 1.0], device=device), bins=3).tolist() == [0.0, 2.0, 0.0]
    assert ember.tensor([1.0, 2.0], device=device).histc(bins=2, min=1, max=1).tolist() == [1.0, 1.0]


def test_bincount_with_minlength_and_weights(device):
    x = ember.tensor([0, 1, 1, 3], device=device)
    assert ember.bincount(x, minlength=6).tolist() == [1, 2, 0, 1, 0, 0]
    weighted = x.bincount(ember.tensor([0.5, 1.0, 2.0, 4.0], device=device))
    assert weighted.dtype is ember.float32 and weighted.tolist() == [0.5, 3.0, 0.0, 4.0]
    assert ember.bincount(x, ember.tensor([1, 1, 1, 1], device=device)).dtype is ember.float64
    assert ember.bincount(ember.zeros(0, dtype=ember.int64, device=device)).tolist() == []


# ---- gradients --------------------------------------------------------------------------------------------

def _distinct(x):
    return x + np.arange(x.size).reshape(x.shape) * 0.37


def _zeros_at_1_and_5(x):
    flat = x.reshape(-1).copy()
    flat[[1, 5]] = 0.0
    return flat.reshape(x.shape)


GRADIENTS = {
    "cumprod": (lambda a: ember.cumprod(a, 1), None),
    "cumprod_dim0": (lambda a: a.cumprod(0), None),
    "cumprod_with_zeros": (lambda a: ember.cumprod(a, 1), _zeros_at_1_and_5),
    "cumprod_two_zeros_in_a_row": (lambda a: ember.cumprod(a.reshape(-1), 0),
                                   lambda x: np.where(np.isin(np.arange(x.size), [2, 3]).reshape(x.shape), 0.0, x)),
    "logcumsumexp": (lambda a: ember.logcumsumexp(a, 1), None),
    "logcumsumexp_with_ties": (lambda a: ember.logcumsumexp(a, 0), np.round),
    "cummax_values": (lambda a: ember.cummax(a, 1).values, _distinct),
    "cummin_values": (lambda a: a.cummin(0).values, _distinct),
    "msort": (lambda a: ember.msort(a), _distinct),
    "kthvalue": (lambda a: ember.kthvalue(a, 2, 1).values, _distinct),
    "median_dim": (lambda a: ember.median(a, 0, keepdim=True).values, _distinct),
    "median_all": (lambda a: ember.median(a), _distinct),
    "nanmedian_dim": (lambda a: ember.nanmedian(a, 1).values, _distinct),
    "mode": (lambda a: ember.mode(a, 1).values, _distinct),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients_first_and_second_order(name, device):
    fn, domain = GRADIENTS[name]
    x = np.random.default_rng(0).standard_normal((3, 4))
    if domain is not None:
        x = domain(x)
    a = ember.tensor(x, dtype=ember.float64, device=device, requires_grad=True)
    assert gradcheck(fn, (a,))
    assert gradgradcheck(fn, (a,))


def test_cumprod_gradient_with_a_zero_is_exact(device):
    a = ember.tensor([2.0, 0.0, 3.0, 4.0], dtype=ember.float64, device=device, requires_grad=True)
    ember.cumprod(a, 0).sum().backward()
    # d/da0 = 1 + a1 + a1 a2 + a1 a2 a3; d/da1 = a0 + a0 a2 + a0 a2 a3; later ones see the zero
    assert a.grad.tolist() == [1.0, 2.0 + 6.0 + 24.0, 0.0, 0.0]


def test_median_of_all_shares_the_gradient_among_equal_elements(device):
    a = ember.tensor([1.0, 2.0, 2.0, 3.0, 5.0], device=device, requires_grad=True)
    ember.median(a).backward()
    assert a.grad.tolist() == [0.0, 0.5, 0.5, 0.0, 0.0]
    with_nan = ember.tensor([0.5, NAN, NAN], device=device, requires_grad=True)
    ember.median(with_nan).backward()
    assert with_nan.grad.tolist() == [0.0, 0.5, 0.5]
    with_nan.grad = None
    ember.nanmedian(with_nan).backward()
    assert with_nan.grad.tolist() == [1.0, 0.0, 0.0]


def test_counting_results_carry_no_graph(device):
    a = ember.tensor([1.0, 2.0, 2.0], device=device, requires_grad=True)
    assert not ember.histc(a, bins=2).requires_grad
    assert not ember.unique(a).requires_grad
    w = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    assert not ember.bincount(ember.tensor([0, 1], device=device), w).requires_grad


# ---- errors -----------------------------------------------------------------------------------------------

ERRORS = [
    (lambda d: ember.kthvalue(ember.tensor([1.0, 2.0], device=d), 3), RuntimeError, "k out of range"),
    (lambda d: ember.kthvalue(ember.tensor([1.0], device=d), 0), RuntimeError, "k out of range"),
    (lambda d: ember.kthvalue(ember.zeros(0, device=d), 1), IndexError, "non-zero size"),
    (lambda d: ember.median(ember.zeros(0, device=d), 0), IndexError, "non-zero size"),
    (lambda d: ember.mode(ember.zeros(0, device=d)), IndexError, "non-zero size"),
    (lambda d: ember.median(ember.ones(2, device=d), dim=1), IndexError, "out of range"),
    (lambda d: ember.cumprod(ember.ones(2, device=d), 2), IndexError, "out of range"),
    (lambda d: ember.cummax(None, 0), TypeError, "must be Tensor"),
    (lambda d: ember.logcumsumexp(ember.tensor([1, 2], device=d), 0), RuntimeError, "floating-point"),
    (lambda d: ember.unique(ember.ones(2, device=d), dim=3), IndexError, "out of range"),
    (lambda d: ember.searchsorted(ember.ones(2, device=d), ember.ones(1, device=d), side="x"), RuntimeError,
     "side can only be 'left' or 'right'"),
    (lambda d: ember.searchsorted(ember.ones(2, device=d), ember.ones(1, device=d), side="left", right=True),
     RuntimeError, "opposites"),
    (lambda d: ember.searchsorted(ember.ones(1, 2, device=d), ember.ones(2, 1, device=d)), RuntimeError,
     "first N-1 dimensions"),
    (lambda d: ember.searchsorted(ember.ones(2, device=d), ember.ones(1, device=d),
                                  sorter=ember.tensor([0], device=d)), RuntimeError, "same size"),
    (lambda d: ember.bucketize(ember.ones(1, device=d), ember.ones(1, 2, device=d)), RuntimeError,
     "must be 1 dimension"),
    (lambda d: ember.histc(ember.tensor([1, 2], device=d)), RuntimeError, "floating-point"),
    (lambda d: ember.histc(ember.ones(2, device=d), bins=0), RuntimeError, "bins must be > 0"),
    (lambda d: ember.histc(ember.ones(2, device=d), min=3, max=1), RuntimeError, "max must be larger than min"),
    (lambda d: ember.bincount(ember.tensor([-1, 2], device=d)), RuntimeError, "non-negative integral"),
    (lambda d: ember.bincount(ember.tensor([1.0, 2.0], device=d)), RuntimeError, "non-negative integral"),
    (lambda d: ember.bincount(ember.tensor([[1, 2]], device=d)), RuntimeError, "1-d"),
    (lambda d: ember.bincount(ember.tensor([1, 2], device=d), minlength=-1), RuntimeError, "minlength"),
    (lambda d: ember.bincount(ember.tensor([1, 2], device=d), ember.ones(3, device=d)), RuntimeError,
     "same length"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_pytorchs(case, device):
    call, error, message = ERRORS[case]
    with pytest.raises(error, match=message):
        call(device)


# ---- against PyTorch ---------------------------------------------------------------------------------------

def _pair(torch, x, device, requires_grad=False):
    ours = ember.tensor(x, device=device, requires_grad=requires_grad)
    theirs = torch.tensor(x, requires_grad=requires_grad)
    return ours, theirs


def _close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours.tolist(), dtype=float), theirs.detach().double().numpy(),
                               rtol=1e-10, atol=1e-12, equal_nan=True)


SCANS = {
    "cumprod": lambda m, a: m.cumprod(a, 1),
    "logcumsumexp": lambda m, a: m.logcumsumexp(a, 0),
    "cummax": lambda m, a: m.cummax(a, 1).values,
    "cummin": lambda m, a: m.cummin(a, 0).values,
    "kthvalue": lambda m, a: m.kthvalue(a, 3, 1).values,
    "median_dim": lambda m, a: m.median(a, 1).values,
    "median_all": lambda m, a: m.median(a),
    "nanmedian_dim": lambda m, a: m.nanmedian(a, 0).values,
    "mode": lambda m, a: m.mode(a, 1).values,
    "msort": lambda m, a: m.msort(a),
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_values_and_gradients_match_pytorch(name, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    if name == "mode":
        x = rng.integers(0, 3, (4, 5)).astype(float)
    if name == "cumprod":
        x[1, 2] = 0.0
    ours, theirs = _pair(torch, x, device, requires_grad=True)
    fn = SCANS[name]
    out, ref = fn(ember, ours), fn(torch, theirs)
    _close(out, ref)
    g = rng.standard_normal(ref.shape)
    out.backward(ember.tensor(g, device=device))
    ref.backward(torch.tensor(g))
    _close(ours.grad, theirs.grad)


INDICES = {
    "cummax": lambda m, a: m.cummax(a, 1).indices,
    "cummin": lambda m, a: m.cummin(a, 0).indices,
    "median": lambda m, a: m.median(a, 1).indices,
    "nanmedian": lambda m, a: m.nanmedian(a, 1).indices,
    "mode": lambda m, a: m.mode(a, 1).indices,
    "argsort": lambda m, a: m.argsort(a, dim=1, stable=True),
    "argsort_descending": lambda m, a: m.argsort(a, dim=0, descending=True, stable=True),
}


@pytest.mark.parametrize("name", sorted(INDICES))
def test_indices_with_ties_and_nan_match_pytorch(name, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, (5, 7)).astype(float)
    if name != "mode":  # PyTorch's mode sorts with `<`, which leaves NaN's place (and so the result) unspecified
        x[rng.random((5, 7)) < 0.15] = NAN
    if name == "nanmedian":
        x[1] = NAN  # (an all-NaN row's index is unspecified in PyTorch)
        x = np.nan_to_num(x, nan=-1.0)
        x[2, :3] = NAN
    ours, theirs = _pair(torch, x, device)
    fn = INDICES[name]
    assert fn(ember, ours).tolist() == fn(torch, theirs).tolist()


def test_unique_family_matches_pytorch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, (6, 3))
    ours, theirs = _pair(torch, x, device)
    for kwargs in ({}, {"dim": 0}, {"dim": 1}, {"dim": -1}):
        for fn in ("unique", "unique_consecutive"):
            got = getattr(ember, fn)(ours, return_inverse=True, return_counts=True, **kwargs)
            ref = getattr(torch, fn)(theirs, return_inverse=True, return_counts=True, **kwargs)
            assert [t.tolist() for t in got] == [t.tolist() for t in ref], (fn, kwargs)


def test_searching_and_counting_match_pytorch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    seq = np.sort(rng.integers(0, 10, (3, 8)), axis=1).astype(float)
    values = rng.integers(-1, 11, (3, 5)).astype(float)
    (s, ts), (v, tv) = _pair(torch, seq, device), _pair(torch, values, device)
    for right in (False, True):
        assert ember.searchsorted(s, v, right=right).tolist() == torch.searchsorted(ts, tv, right=right).tolist()
        assert (ember.searchsorted(s[0], v, right=right).tolist()
                == torch.searchsorted(ts[0], tv, right=right).tolist())
        assert ember.bucketize(v, s[1], right=right).tolist() == torch.bucketize(tv, ts[1], right=right).tolist()
    data = rng.standard_normal(200)
    d, td = _pair(torch, data, device)
    assert ember.histc(d, bins=7).tolist() == torch.histc(td, bins=7).tolist()
    assert ember.histc(d, bins=5, min=-1, max=1).tolist() == torch.histc(td, bins=5, min=-1, max=1).tolist()
    counts = rng.integers(0, 6, 30)
    weights = rng.standard_normal(30)
    (c, tc), (w, tw) = _pair(torch, counts, device), _pair(torch, weights, device)
    assert ember.bincount(c, minlength=9).tolist() == torch.bincount(tc, minlength=9).tolist()
    _close(ember.bincount(c, w), torch.bincount(tc, tw))
