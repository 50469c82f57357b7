"""The scatter and index family: scatter, scatter_reduce, index_add/copy/fill/put, masked_select,
masked_scatter, take, take_along_dim, put, nonzero/argwhere and the in-place variants.

One table of differentiable cases drives the gradient checks (first and second order, float64) and
the comparison with torch (values and gradients); hand-computed values and the errors follow.
"""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def distinct(x):
    """Values far apart, so amax/amin have no ties within finite-difference steps."""
    return x + np.arange(x.size).reshape(x.shape) * 0.37


def nonzero_values(x):
    return np.sign(x) * (np.abs(x) + 0.5)


# A case: (fn(x, *others, ix), shapes, domain). `ix(data)` builds an int64 (or bool) tensor with the
# library of the inputs, so the same case runs on ember and on torch.
IDX_3x4 = [[0, 1, 2, 0], [0, 1, 1, 2], [2, 1, 0, 0]]
CASES = {
    "scatter_src": (lambda x, s, ix: x.scatter(0, ix([[1, 2, 0, 1], [0, 1, 2, 2]]), s), [(3, 4), (2, 4)], None),
    "scatter_src_larger": (lambda x, s, ix: x.scatter(0, ix([[1, 2, 0, 1], [0, 1, 2, 2]]), s), [(3, 4), (3, 5)], None),
    "scatter_value": (lambda x, ix: x.scatter(1, ix([[0], [2], [3]]), value=1.5), [(3, 4)], None),
    "scatter_dim1_src_larger": (lambda x, s, ix: x.scatter(1, ix([[3, 0], [1, 2]]), s), [(3, 4), (3, 3)], None),
    "index_add_alpha_dups": (lambda x, s, ix: x.index_add(0, ix([0, 2, 0]), s, alpha=2.0), [(5, 3), (3, 3)], None),
    "index_add_dim1": (lambda x, s, ix: x.index_add(1, ix([2, 2]), s), [(2, 3), (2, 2)], None),
    "index_copy": (lambda x, s, ix: x.index_copy(1, ix([2, 0]), s), [(5, 3), (5, 2)], None),
    "index_fill": (lambda x, ix: x.index_fill(1, ix([0, 2]), -1.0), [(3, 4)], None),
    "index_put": (lambda x, v, ix: x.index_put((ix([0, 2]), ix([1, 3])), v), [(3, 4), (2,)], None),
    "index_put_accumulate_broadcast": (lambda x, v, ix: x.index_put((ix([0, 2, 0]), ix([1, 1, 1])), v,
                                                                    accumulate=True), [(3, 4), (1,)], None),
    "index_put_bool_mask": (lambda x, v, ix: x.index_put((ix([True, False, True]),), v), [(3, 4), (4,)], None),
    "index_put_bool_mask_accumulate": (lambda x, v, ix: x.index_put((ix([True, False, True]),), v, accumulate=True),
                                       [(3, 4), (2, 4)], None),
    "masked_select_broadcast": (lambda x, ix: x.masked_select(ix([True, False, False, True])), [(3, 4)], None),
    "masked_scatter": (lambda x, s, ix: x.masked_scatter(ix([[True, False], [False, True], [True, True]]), s),
                       [(3, 2), (6,)], None),
    "take": (lambda x, ix: x.take(ix([[0, 5], [11, 5]])), [(3, 4)], None),
    "take_along_dim": (lambda x, ix: x.take_along_dim(ix([[0], [2], [1]]), dim=1), [(3, 4)], None),
    "take_along_dim_broadcast": (lambda x, ix: x.take_along_dim(ix([[0, 3, 3]]), dim=1), [(3, 4)], None),
    "take_along_dim_flat": (lambda x, ix: x.take_along_dim(ix([7, 0, 7])), [(3, 4)], None),
    "put": (lambda x, s, ix: x.put(ix([1, 5, -1]), s), [(3, 4), (3,)], None),
    "put_accumulate": (lambda x, s, ix: x.put(ix([1, 5, 1]), s, accumulate=True), [(3, 4), (3,)], None),
}
for _reduce in ("sum", "prod", "mean", "amax", "amin"):
    for _self in (True, False):
        CASES[f"scatter_reduce_{_reduce}_include_self_{_self}"] = (
            lambda x, s, ix, r=_reduce, inc=_self: x.scatter_reduce(0, ix(IDX_3x4), s, r, include_self=inc),
            [(3, 4), (3, 4)], nonzero_values if _reduce == "prod" else distinct)
CASES["scatter_reduce_amax_dim1_src_larger"] = (
    lambda x, s, ix: x.scatter_reduce(1, ix([[0, 0], [3, 1]]), s, "amax"), [(2, 4), (2, 3)], distinct)
# torch's backward of these returns a gradient of index's shape for a larger src (and fails): values only
TORCH_VALUES_ONLY = {"scatter_src_larger", "scatter_dim1_src_larger", "scatter_reduce_amax_dim1_src_larger"}


def _inputs(shapes, domain, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for k, shape in enumerate(shapes):
        x = rng.standard_normal(shape)
        if domain is not None:
            x = domain(x) + k * 0.11
        arrays.append(x)
    return arrays


def _ember_ix(device):
    return lambda data: ember.tensor(data, device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences_first_and_second_order(name, device):
    fn, shapes, domain = CASES[name]
    xs = [ember.tensor(x, dtype=ember.float64, device=device, requires_grad=True) for x in _inputs(shapes, domain)]
    ix = _ember_ix(device)
    assert gradcheck(lambda *a: fn(*a, ix), tuple(xs))
    assert gradgradcheck(lambda *a: fn(*a, ix), tuple(xs))


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name, device):
    torch = pytest.importorskip("torch")
    fn, shapes, domain = CASES[name]
    arrays = _inputs(shapes, domain, seed=1)
    ours = [ember.tensor(x, dtype=ember.float64, device=device, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in arrays]
    out = fn(*ours, _ember_ix(device))
    expected = fn(*theirs, lambda data: torch.tensor(data))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    if name in TORCH_VALUES_ONLY:
        return
    weights = np.random.default_rng(2).standard_normal(tuple(expected.shape))
    (out * ember.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_scatter_reduce_matches_torch_on_random_duplicate_indices(reduce, include_self, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.integers(-5, 6, size=(4, 6))
    src = rng.integers(-5, 6, size=(5, 6))
    index = rng.integers(0, 4, size=(5, 6))
    out = ember.tensor(x, dtype=getattr(ember, dtype), device=device).scatter_reduce(
        0, ember.tensor(index, device=device), ember.tensor(src, dtype=getattr(ember, dtype), device=device),
        reduce, include_self=include_self)
    expected = torch.tensor(x, dtype=getattr(torch, dtype)).scatter_reduce(
        0, torch.tensor(index), torch.tensor(src, dtype=getattr(torch, dtype)), reduce, include_self=include_self)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_scatter_prod_gradient_with_zeros_matches_torch(device):
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 0.0, 3.0], [1.0, 4.0, 0.0]])
    src = np.array([[0.0, 5.0, 0.0], [3.0, 0.0, 2.0]])
    index = [[0, 1, 1], [0, 1, 1]]
    ours = [ember.tensor(a, device=device, requires_grad=True) for a in (x, src)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, src)]
    ours[0].scatter_reduce(0, ember.tensor(index, device=device), ours[1], "prod").sum().backward()
    theirs[0].scatter_reduce(0, torch.tensor(index), theirs[1], "prod").sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


# ---- values by hand --------------------------------------------------------------------------
def test_scatter_writes_src_along_dim(device):
    out = ember.zeros(3, 4, device=device).scatter(0, ember.tensor([[1, 2, 0, 1]], device=device),
                                                   ember.ones(1, 4, device=device))
    assert out.tolist() == [[0, 0, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0]]


def test_scatter_value_and_zero_dim_index(device):
    assert ember.zeros(3, device=device).scatter(0, ember.tensor(1, device=device), 5.0).tolist() == [0, 5, 0]
    out = ember.zeros(2, 3, dtype=ember.int64, device=device).scatter(1, ember.tensor([[2], [0]], device=device),
                                                                      value=7)
    assert out.tolist() == [[0, 0, 7], [7, 0, 0]]
    assert out.dtype is ember.int64


def test_scatter_reduce_add_and_multiply_accumulate_duplicates(device):
    idx = ember.tensor([1, 1, 2], device=device)
    src = ember.tensor([2.0, 3.0, 4.0], device=device)
    base = ember.ones(3, device=device)
    assert base.scatter(0, idx, src, reduce="add").tolist() == [1, 6, 5]
    assert base.scatter(0, idx, src, reduce="multiply").tolist() == [1, 6, 4]
    assert base.scatter(0, idx, 2.0, reduce="multiply").tolist() == [1, 4, 2]


def test_scatter_reduce_values_by_hand(device):
    x = ember.tensor([1.0, 2.0, 3.0], device=device)
    idx = ember.tensor([1, 1, 0], device=device)
    src = ember.tensor([2.0, 4.0, -1.0], device=device)
    assert x.scatter_reduce(0, idx, src, "sum").tolist() == [0, 8, 3]
    assert x.scatter_reduce(0, idx, src, "prod").tolist() == [-1, 16, 3]
    assert x.scatter_reduce(0, idx, src, "mean").tolist() == pytest.approx([0, 8 / 3, 3])
    assert x.scatter_reduce(0, idx, src, "mean", include_self=False).tolist() == [-1, 3, 3]
    assert x.scatter_reduce(0, idx, src, "amax").tolist() == [1, 4, 3]
    assert x.scatter_reduce(0, idx, src, "amin", include_self=False).tolist() == [-1, 2, 3]
    ints = ember.tensor([1, 2, 3], device=device)
    assert ints.scatter_reduce(0, idx, ember.tensor([2, 4, 0], device=device), "mean").tolist() == [0, 2, 3]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 20])
def test_scatter_reduce_many_values_into_one_place(n, device):
    values = ember.arange(1, n + 1, device=device)
    into = ember.tensor([0] * n + [1], device=device)
    src = ember.cat([values, ember.tensor([5], device=device)])
    x = ember.ones(2, dtype=ember.int64, device=device)
    assert x.scatter_reduce(0, into, src, "prod").tolist() == [int(np.prod(np.arange(1, n + 1))), 5]
    assert x.scatter_reduce(0, into, src, "amax", include_self=False).tolist() == [n, 5]
    assert x.scatter_reduce(0, into, -src, "amin").tolist() == [-n, -5]
    assert x.scatter_reduce(0, into, src, "sum", include_self=False).tolist() == [n * (n + 1) // 2, 5]


def test_scatter_reduce_amax_propagates_nan(device):
    x = ember.zeros(2, device=device)
    src = ember.tensor([1.0, float("nan"), 3.0], device=device)
    out = x.scatter_reduce(0, ember.tensor([0, 0, 1], device=device), src, "amax")
    assert np.isnan(out[0].item()) and out[1].item() == 3.0
    out = x.scatter_reduce(0, ember.tensor([0, 0, 1], device=device), src, "amin")
    assert np.isnan(out[0].item()) and out[1].item() == 0.0


def test_index_add_copy_fill_by_hand(device):
    x = ember.zeros(3, 2, device=device)
    src = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert x.index_add(0, ember.tensor([2, 2], device=device), src, alpha=2).tolist() == [[0, 0], [0, 0], [8, 12]]
    assert x.index_copy(0, ember.tensor([2, 0], device=device), src).tolist() == [[3, 4], [0, 0], [1, 2]]
    assert x.index_fill(1, ember.tensor([1], device=device), -1.0).tolist() == [[0, -1]] * 3
    assert x.index_fill(0, ember.tensor(1, device=device), ember.tensor(5.0, device=device)).tolist() == \
        [[0, 0], [5, 5], [0, 0]]
    assert x.index_add(0, ember.tensor(1, device=device), ember.ones(2, device=device)).tolist() == \
        [[0, 0], [1, 1], [0, 0]]


def test_index_put_put_take_by_hand(device):
    x = ember.zeros(2, 3, device=device)
    rows, cols = ember.tensor([0, 0, 1], device=device), ember.tensor([1, 1, 2], device=device)
    v = ember.tensor([1.0, 2.0, 3.0], device=device)
    assert x.index_put((rows, cols), v, accumulate=True).tolist() == [[0, 3, 0], [0, 0, 3]]
    assert ember.index_put(x, (rows[1:], cols[1:]), v[1:]).tolist() == [[0, 2, 0], [0, 0, 3]]
    assert x.put(ember.tensor([4, -1], device=device), v[:2]).tolist() == [[0, 0, 0], [0, 1, 2]]
    assert x.put(ember.tensor([4, 4], device=device), v[:2], accumulate=True).tolist() == [[0, 0, 0], [0, 3, 0]]
    y = ember.arange(6, device=device).reshape(2, 3)
    assert ember.take(y, ember.tensor([[5, 0]], device=device)).tolist() == [[5, 0]]
    assert ember.take_along_dim(y, ember.tensor([[2], [0]], device=device), 1).tolist() == [[2], [3]]
    assert y.take_along_dim(ember.tensor([1, 4], device=device)).tolist() == [1, 4]


def test_negative_indices_count_from_the_end_where_pytorch_allows_them(device):
    x = ember.zeros(3, device=device)
    minus_one = ember.tensor([-1], device=device)
    assert x.index_fill(0, minus_one, 1.0).tolist() == [0, 0, 1]
    assert x.put(minus_one, ember.ones(1, device=device)).tolist() == [0, 0, 1]
    assert x.index_put((minus_one,), ember.ones(1, device=device)).tolist() == [0, 0, 1]
    assert ember.arange(3, device=device).take(minus_one).tolist() == [2]
    assert ember.arange(3, device=device).take_along_dim(minus_one, 0).tolist() == [2]


def test_int32_indices_where_pytorch_accepts_them(device):
    i32 = ember.tensor([1], dtype=ember.int32, device=device)
    assert ember.zeros(3, device=device).index_add(0, i32, ember.ones(1, device=device)).tolist() == [0, 1, 0]
    assert ember.zeros(3, device=device).scatter(0, i32, 1.0).tolist() == [0, 1, 0]


def test_masked_select_and_masked_scatter_by_hand(device):
    x = ember.arange(6, device=device).reshape(2, 3)
    mask = ember.tensor([True, False, True], device=device)
    assert ember.masked_select(x, mask).tolist() == [0, 2, 3, 5]
    out = x.masked_scatter(mask, ember.tensor([10, 20, 30, 40, 50], device=device))
    assert out.tolist() == [[10, 1, 20], [30, 4, 40]]
    row = ember.tensor([1, 2], device=device)
    grid = ember.tensor([[True], [False]], device=device)
    assert row.masked_scatter(grid, ember.tensor([7, 8, 9], device=device)).tolist() == [[7, 8], [1, 2]]


def test_nonzero_as_tuple_reads_a_zero_dim_tensor_as_a_vector(device):
    assert [t.tolist() for t in ember.tensor(3.0, device=device).nonzero(as_tuple=True)] == [[0]]
    assert [t.tolist() for t in ember.tensor(0.0, device=device).nonzero(as_tuple=True)] == [[]]


def test_nonzero_as_tuple_and_argwhere(device):
    x = ember.tensor([[0, 1], [2, 0]], device=device)
    assert ember.argwhere(x).tolist() == [[0, 1], [1, 0]]
    assert x.argwhere().dtype is ember.int64
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


# ---- in place --------------------------------------------------------------------------------
INPLACE = {
    "scatter_": lambda t, ix: t.scatter_(0, ix([[1, 0]]), t.new_ones(1, 2) * 3),
    "scatter_value": lambda t, ix: t.scatter_(1, ix([[1], [0], [1]]), value=2.0),
    "scatter_reduce_": lambda t, ix: t.scatter_reduce_(0, ix([[1, 0], [1, 1]]), t.new_ones(2, 2) * 2, "prod"),
    "index_add_": lambda t, ix: t.index_add_(0, ix([2, 2]), t.new_ones(2, 2), alpha=3),
    "index_copy_": lambda t, ix: t.index_copy_(0, ix([1]), t.new_ones(1, 2)),
    "index_fill_": lambda t, ix: t.index_fill_(1, ix([0]), 9.0),
    "index_put_": lambda t, ix: t.index_put_((ix([0, 0]), ix([1, 1])), t.new_ones(2), accumulate=True),
    "masked_scatter_": lambda t, ix: t.masked_scatter_(ix([True, False]), t.new_ones(3) * 4),
    "put_": lambda t, ix: t.put_(ix([5, 0]), t.new_ones(2) * 6),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variant_writes_through_and_bumps_version(name, device):
    fn = INPLACE[name]
    ix = _ember_ix(device)
    t = ember.arange(6.0, device=device).reshape(3, 2)
    expected = fn(t.clone(), ix).tolist()
    version = t._version[0]
    out = fn(t, ix)
    assert out is t and t.tolist() == expected
    assert t._version[0] > version


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variant_refuses_a_leaf_that_requires_grad(name, device):
    t = ember.arange(6.0, device=device).reshape(3, 2).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        INPLACE[name](t, _ember_ix(device))


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variant_gradient_matches_out_of_place(name, device):
    ix = _ember_ix(device)
    fn = INPLACE[name]
    a = ember.arange(1.0, 7.0, dtype=ember.float64, device=device).reshape(3, 2).requires_grad_()
    assert gradcheck(lambda x: fn(x * 1.0, ix), (a,))


def test_inplace_variant_on_a_view_writes_into_the_base_and_its_gradient(device):
    base = ember.zeros(2, 3, device=device)
    base[1].index_fill_(0, ember.tensor([2], device=device), 5.0)
    assert base.tolist() == [[0, 0, 0], [0, 0, 5]]
    x = ember.ones(2, 3, device=device, requires_grad=True)
    y = x * 1
    y[0].scatter_(0, ember.tensor([1], device=device), ember.tensor([4.0], device=device))
    y.sum().backward()
    assert x.grad.tolist() == [[1, 0, 1], [1, 1, 1]]


def test_inplace_variant_matches_torch(device):
    torch = pytest.importorskip("torch")
    for name, fn in INPLACE.items():
        ours = fn(ember.arange(6.0, device=device).reshape(3, 2), _ember_ix(device))
        theirs = fn(torch.arange(6.0).reshape(3, 2), lambda data: torch.tensor(data))
        assert ours.tolist() == theirs.tolist(), name


# ---- errors ----------------------------------------------------------------------------------
def _t(data, device, **kw):
    return ember.tensor(data, device=device, **kw)


ERRORS = [
    ("scatter_index_out_of_range", RuntimeError, "index 3 is out of bounds",
     lambda d: ember.zeros(3, device=d).scatter(0, _t([3], d), 1.0)),
    ("scatter_negative_index", RuntimeError, "index -1 is out of bounds",
     lambda d: ember.zeros(3, device=d).scatter(0, _t([-1], d), 1.0)),
    ("scatter_reduce_negative_index", RuntimeError, "index -1 is out of bounds",
     lambda d: ember.zeros(2, 3, device=d).scatter_reduce(1, _t([[0], [-1]], d), ember.ones(2, 1, device=d), "prod")),
    ("scatter_dtype_mismatch", RuntimeError, "self.dtype to be equal to src.dtype",
     lambda d: ember.zeros(3, device=d).scatter(0, _t([1], d), ember.ones(1, dtype=ember.float64, device=d))),
    ("scatter_index_larger_than_src", RuntimeError, "no larger",
     lambda d: ember.zeros(3, 2, device=d).scatter(0, _t([[1, 1]], d), ember.ones(1, 1, device=d))),
    ("scatter_bad_reduce", RuntimeError, "add or multiply",
     lambda d: ember.zeros(3, device=d).scatter(0, _t([1], d), 2.0, reduce="mean")),
    ("scatter_src_and_value", TypeError, "exactly one",
     lambda d: ember.zeros(3, device=d).scatter(0, _t([1], d))),
    ("scatter_float_index", RuntimeError, "Expected dtype int64",
     lambda d: ember.zeros(3, device=d).scatter(0, _t([1.0], d), 2.0)),
    ("scatter_reduce_bad_reduce", RuntimeError, "sum, prod, mean, amax or amin",
     lambda d: ember.zeros(3, device=d).scatter_reduce(0, _t([1], d), ember.ones(1, device=d), "max")),
    ("scatter_reduce_include_self_not_bool", TypeError, "include_self",
     lambda d: ember.zeros(3, device=d).scatter_reduce(0, _t([1], d), ember.ones(1, device=d), "sum",
                                                       include_self=1)),
    ("scatter_reduce_out_of_range", RuntimeError, "out of bounds",
     lambda d: ember.zeros(3, device=d).scatter_reduce(0, _t([5], d), ember.ones(1, device=d), "amax")),
    ("index_add_matrix_index", IndexError, "vector",
     lambda d: ember.zeros(3, device=d).index_add(0, _t([[1]], d), ember.ones(1, device=d))),
    ("index_add_out_of_range", IndexError, "out of bounds",
     lambda d: ember.zeros(3, device=d).index_add(0, _t([3], d), ember.ones(1, device=d))),
    ("index_add_negative_index", IndexError, "index -1 is out of bounds",
     lambda d: ember.zeros(3, device=d).index_add(0, _t([-1], d), ember.ones(1, device=d))),
    ("index_copy_negative_index", IndexError, "index -1 is out of bounds",
     lambda d: ember.zeros(3, device=d).index_copy(0, _t([-1], d), ember.ones(1, device=d))),
    ("index_copy_int32_index", RuntimeError, "Expected a long tensor",
     lambda d: ember.zeros(3, device=d).index_copy(0, _t([1], d, dtype=ember.int32), ember.ones(1, device=d))),
    ("index_add_count_mismatch", RuntimeError, "Number of indices",
     lambda d: ember.zeros(3, device=d).index_add(0, _t([1, 2], d), ember.ones(1, device=d))),
    ("index_add_float_index", RuntimeError, "int32/int64",
     lambda d: ember.zeros(3, device=d).index_add(0, _t([1.0], d), ember.ones(1, device=d))),
    ("index_add_dtype_mismatch", RuntimeError, "same scalar type",
     lambda d: ember.zeros(3, device=d).index_add(0, _t([1], d), ember.ones(1, dtype=ember.float64, device=d))),
    ("index_copy_shape_mismatch", RuntimeError, "source tensor shape",
     lambda d: ember.zeros(3, 2, device=d).index_copy(0, _t([1], d), ember.ones(1, 3, device=d))),
    ("index_fill_out_of_range", IndexError, "out of bounds",
     lambda d: ember.zeros(3, device=d).index_fill(0, _t([-4], d), 1.0)),
    ("index_fill_vector_value", RuntimeError, "0-dimensional",
     lambda d: ember.zeros(3, device=d).index_fill(0, _t([1], d), ember.ones(1, device=d))),
    ("index_put_out_of_range", IndexError, "out of bounds",
     lambda d: ember.zeros(3, device=d).index_put((_t([3], d),), ember.ones(1, device=d))),
    ("index_put_dtype_mismatch", RuntimeError, "dtypes match",
     lambda d: ember.zeros(3, device=d).index_put((_t([1], d),), ember.ones(1, dtype=ember.float64, device=d))),
    ("masked_select_int_mask", RuntimeError, "BoolTensor",
     lambda d: ember.zeros(3, device=d).masked_select(_t([1, 1, 0], d))),
    ("masked_scatter_short_source", RuntimeError, "Number of elements of source",
     lambda d: ember.zeros(3, device=d).masked_scatter(_t([True, True, False], d), ember.ones(1, device=d))),
    ("take_out_of_range", IndexError, "out of range",
     lambda d: ember.zeros(3, device=d).take(_t([3], d))),
    ("put_out_of_range", IndexError, "out of range",
     lambda d: ember.zeros(3, device=d).put(_t([-4], d), ember.ones(1, device=d))),
    ("put_count_mismatch", IndexError, "same number of elements",
     lambda d: ember.zeros(3, device=d).put(_t([1, 2], d), ember.ones(1, device=d))),
    ("take_along_dim_ndim_mismatch", RuntimeError, "same number of dimensions",
     lambda d: ember.take_along_dim(ember.zeros(3, 2, device=d), _t([1], d), 0)),
    ("take_along_dim_int32", RuntimeError, "should be Long",
     lambda d: ember.take_along_dim(ember.zeros(3, 2, device=d), _t([[1]], d, dtype=ember.int32), 0)),
    ("take_along_dim_out_of_range", IndexError, "out of bounds",
     lambda d: ember.take_along_dim(ember.zeros(3, 2, device=d), _t([[3]], d), 0)),
    ("scatter_none_input", TypeError, "must be Tensor",
     lambda d: ember.scatter(None, 0, _t([1], d), value=1.0)),
]


@pytest.mark.parametrize("name,exc,match,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_pytorch_errors(name, exc, match, call, device):
    with pytest.raises(exc, match=match):
        call(device)
