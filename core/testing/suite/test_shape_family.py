"""The shape family: diagonal / diag / diag_embed / diagflat, tril / triu (and in place), tril_indices /
triu_indices, broadcast_to / broadcast_tensors / broadcast_shapes, meshgrid, h/v/d/column/row_stack,
atleast_nd, repeat_interleave, rot90, movedim / moveaxis, swapaxes, unflatten, t / mT / mH / adjoint.

One table of differentiable cases drives the gradient checks (first and second order, float64) and the
comparison with torch (values and gradients); hand-computed values and the errors follow.
"""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

# A case: (fn(lib, *inputs, ix), input shapes). `lib` is ember or torch and `ix(data)` builds an int64 tensor
# of that library, so one case runs on both.
CASES = {
    "diagonal": (lambda L, x, ix: L.diagonal(x), [(3, 4)]),
    "diagonal_offset_dims": (lambda L, x, ix: L.diagonal(x, 1, 2, 0), [(3, 2, 4)]),
    "diagonal_negative_offset": (lambda L, x, ix: x.diagonal(-1, -1, 1), [(2, 4, 3)]),
    "diagonal_offset_at_corner": (lambda L, x, ix: x.diagonal(3), [(3, 4)]),
    "diagonal_of_transposed_input": (lambda L, x, ix: L.diagonal(x.transpose(0, 2), -1, 1, 2), [(4, 3, 2)]),
    "diag_embed": (lambda L, x, ix: L.diag_embed(x), [(2, 3)]),
    "diag_embed_offset_dims": (lambda L, x, ix: L.diag_embed(x, -2, 0, 2), [(2, 3)]),
    "diag_vector": (lambda L, x, ix: L.diag(x, 1), [(3,)]),
    "diag_matrix": (lambda L, x, ix: x.diag(-1), [(4, 3)]),
    "diagflat": (lambda L, x, ix: L.diagflat(x, 1), [(2, 2)]),
    "tril": (lambda L, x, ix: L.tril(x), [(2, 3, 4)]),
    "tril_of_transposed_input": (lambda L, x, ix: L.tril(x.mT, 1), [(2, 3, 4)]),
    "triu_offset": (lambda L, x, ix: x.triu(-1), [(4, 3)]),
    "tril_in_place_of_clone": (lambda L, x, ix: x.clone().tril_(1), [(3, 3)]),
    "triu_in_place_of_clone": (lambda L, x, ix: x.clone().triu_(1), [(3, 5)]),
    "broadcast_to": (lambda L, x, ix: L.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    "broadcast_tensors": (lambda L, x, y, ix: L.broadcast_tensors(x, y)[0] * L.broadcast_tensors(x, y)[1],
                          [(3, 1), (4,)]),
    "meshgrid_ij": (lambda L, x, y, ix: L.meshgrid(x, y, indexing="ij")[0] * L.meshgrid(x, y, indexing="ij")[1],
                    [(3,), (4,)]),
    "meshgrid_xy": (lambda L, x, y, z, ix: L.stack(L.meshgrid(x, y, z, indexing="xy")) ** 2,
                    [(2,), (3,), (4,)]),
    "hstack": (lambda L, x, y, ix: L.hstack([x, y]), [(2, 3), (2, 1)]),
    "vstack": (lambda L, x, y, ix: L.vstack((x, y)), [(3,), (2, 3)]),
    "row_stack": (lambda L, x, y, ix: L.row_stack((x, y)), [(3,), (3,)]),
    "dstack": (lambda L, x, y, ix: L.dstack([x, y]), [(2, 3), (2, 3, 2)]),
    "column_stack": (lambda L, x, y, ix: L.column_stack([x, y]), [(3,), (3, 2)]),
    "atleast_3d": (lambda L, x, y, ix: L.atleast_3d(x, y)[0] * L.atleast_3d(x, y)[1], [(3,), (1, 3)]),
    "repeat_interleave_int": (lambda L, x, ix: L.repeat_interleave(x, 2, dim=1), [(2, 3)]),
    "repeat_interleave_flat": (lambda L, x, ix: x.repeat_interleave(3), [(2, 2)]),
    "repeat_interleave_tensor": (lambda L, x, ix: L.repeat_interleave(x, ix([2, 0, 1]), dim=0), [(3, 2)]),
    "repeat_interleave_one_element_tensor": (lambda L, x, ix: x.repeat_interleave(ix([2]), dim=-1), [(2, 2)]),
    "rot90": (lambda L, x, ix: L.rot90(x), [(2, 3)]),
    "rot90_k3_dims": (lambda L, x, ix: x.rot90(3, [2, 0]), [(2, 3, 4)]),
    "rot90_k_negative": (lambda L, x, ix: L.rot90(x, -2, (0, 1)), [(2, 3)]),
    "movedim": (lambda L, x, ix: L.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    "moveaxis": (lambda L, x, ix: L.moveaxis(x, -1, 0), [(2, 3, 4)]),
    "swapaxes": (lambda L, x, ix: x.swapaxes(0, 2), [(2, 3, 4)]),
    "swapdims": (lambda L, x, ix: L.swapdims(x, 0, -1), [(2, 3)]),
    "unflatten": (lambda L, x, ix: x.unflatten(1, (2, -1)), [(3, 6)]),
    "flatten_start_end": (lambda L, x, ix: L.flatten(x, 1, 2), [(2, 3, 4, 2)]),
    "t": (lambda L, x, ix: L.t(x), [(2, 3)]),
    "mT": (lambda L, x, ix: x.mT, [(2, 3, 4)]),
    "mH": (lambda L, x, ix: x.mH, [(2, 3, 4)]),
    "adjoint": (lambda L, x, ix: L.adjoint(x), [(3, 4)]),
}


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _ember_ix(device):
    return lambda data: ember.tensor(data, device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences_first_and_second_order(name, device):
    fn, shapes = CASES[name]
    xs = [ember.tensor(x, dtype=ember.float64, device=device, requires_grad=True) for x in _inputs(shapes)]
    ix = _ember_ix(device)
    assert gradcheck(lambda *a: fn(ember, *a, ix), tuple(xs))
    assert gradgradcheck(lambda *a: fn(ember, *a, ix), tuple(xs))


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name, device):
    torch = pytest.importorskip("torch")
    fn, shapes = CASES[name]
    arrays = _inputs(shapes, seed=1)
    ours = [ember.tensor(x, dtype=ember.float64, device=device, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in arrays]
    out = fn(ember, *ours, _ember_ix(device))
    expected = fn(torch, *theirs, lambda data: torch.tensor(data))
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(2).standard_normal(tuple(expected.shape))
    (out * ember.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (3, 5, -1), (4, 2, 1), (0, 3, 0), (3, 4, 7), (3, 4, -9)])
def test_triangle_indices_match_torch(row, col, offset, device):
    torch = pytest.importorskip("torch")
    for name in ("tril_indices", "triu_indices"):
        ours = getattr(ember, name)(row, col, offset, device=device)
        theirs = getattr(torch, name)(row, col, offset)
        assert ours.dtype == ember.int64
        assert ours.tolist() == theirs.tolist() and tuple(ours.shape) == tuple(theirs.shape)


def test_broadcast_shapes_matches_torch():
    torch = pytest.importorskip("torch")
    for shapes in [((2, 1), (3, 1, 4), 4), ((),), (5, (1,)), ((0, 1), (3,)), ()]:
        assert tuple(ember.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float32"])
def test_other_dtypes_match_torch(dtype, device):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(4).integers(0, 3, size=(3, 4))
    x = ember.tensor(data, device=device).to(getattr(ember, dtype))
    tx = torch.tensor(data).to(getattr(torch, dtype))
    for fn in (lambda L, a: L.tril(a, -1), lambda L, a: L.triu(a, 1), lambda L, a: L.diagonal(a, 1),
               lambda L, a: L.diag_embed(a, 1, 0, 2), lambda L, a: L.diagflat(a[0]), lambda L, a: L.rot90(a, 3),
               lambda L, a: L.repeat_interleave(a, 2, 1), lambda L, a: L.column_stack([a[0], a[1]])):
        out, expected = fn(ember, x), fn(torch, tx)
        assert out.dtype == x.dtype
        assert out.tolist() == expected.tolist()


# ---- values by hand --------------------------------------------------------------------------
def test_diagonal_of_a_batch_moves_the_diagonal_to_the_last_dim(device):
    x = ember.arange(12, device=device).reshape(2, 2, 3)
    assert x.diagonal(0, 1, 2).tolist() == [[0, 4], [6, 10]]
    assert ember.diagonal(x, 1, 0, 2).tolist() == [[1, 8], [4, 11]]
    assert x.diagonal(9).shape == (3, 0)


def test_diag_builds_a_matrix_from_a_vector_and_reads_one_back(device):
    v = ember.tensor([1, 2], device=device)
    assert ember.diag(v).tolist() == [[1, 0], [0, 2]]
    assert ember.diag(v, -1).tolist() == [[0, 0, 0], [1, 0, 0], [0, 2, 0]]
    assert ember.diag(ember.diag(v, -1), -1).tolist() == [1, 2]
    assert ember.diag(v).dtype == ember.int64


def test_diag_embed_and_diagflat_place_values_on_the_diagonal(device):
    v = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert ember.diag_embed(v).tolist() == [[[1, 0], [0, 2]], [[3, 0], [0, 4]]]
    assert ember.diagflat(v).tolist() == [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4]]
    assert v.diag_embed(1).shape == (2, 3, 3)


def test_tril_and_triu_keep_their_triangle_and_the_dtype(device):
    x = ember.ones(3, 3, dtype=ember.int32, device=device)
    assert ember.tril(x).tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert x.triu(1).tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    assert ember.tril(x).dtype == ember.int32
    mask = ember.ones(2, 2, dtype=ember.bool, device=device).triu()
    assert mask.dtype == ember.bool and mask.tolist() == [[True, True], [False, True]]


def test_tril_keeps_infinities_above_the_zeroed_triangle(device):
    x = ember.full((2, 2), float("inf"), device=device)
    assert x.tril().tolist() == [[float("inf"), 0.0], [float("inf"), float("inf")]]


def test_tril_in_place_changes_the_tensor_and_returns_it(device):
    x = ember.ones(2, 3, device=device)
    assert x.tril_(-1) is x
    assert x.tolist() == [[0, 0, 0], [1, 0, 0]]
    y = ember.ones(2, 2, device=device)
    assert y.triu_() is y and y.tolist() == [[1, 1], [0, 1]]


def test_triangle_indices_list_coordinates_row_by_row(device):
    assert ember.tril_indices(3, 3, device=device).tolist() == [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    assert ember.triu_indices(2, 3, 1, device=device).tolist() == [[0, 0, 1], [1, 2, 2]]
    assert ember.tril_indices(2, 2, dtype=ember.int32, device=device).dtype == ember.int32


def test_meshgrid_indexing_ij_and_xy(device):
    a, b = ember.tensor([1, 2], device=device), ember.tensor([3, 4, 5], device=device)
    i, j = ember.meshgrid(a, b, indexing="ij")
    assert i.tolist() == [[1, 1, 1], [2, 2, 2]] and j.tolist() == [[3, 4, 5], [3, 4, 5]]
    x, y = ember.meshgrid([a, b], indexing="xy")
    assert x.tolist() == [[1, 2], [1, 2], [1, 2]] and y.tolist() == [[3, 3], [4, 4], [5, 5]]


def test_meshgrid_without_indexing_warns_and_uses_ij(device):
    a = ember.tensor([1, 2], device=device)
    with pytest.warns(UserWarning, match="indexing argument"):
        grids = ember.meshgrid(a, a)
    assert grids[0].tolist() == [[1, 1], [2, 2]]


def test_stacking_functions_join_along_their_dims(device):
    a, b = ember.tensor([1, 2], device=device), ember.tensor([3, 4], device=device)
    assert ember.hstack([a, b]).tolist() == [1, 2, 3, 4]
    assert ember.vstack([a, b]).tolist() == [[1, 2], [3, 4]]
    assert ember.row_stack([a, b]).tolist() == [[1, 2], [3, 4]]
    assert ember.column_stack([a, b]).tolist() == [[1, 3], [2, 4]]
    assert ember.dstack([a, b]).tolist() == [[[1, 3], [2, 4]]]
    assert ember.hstack([ember.tensor(1, device=device), a]).tolist() == [1, 1, 2]


def test_stacking_with_out_writes_into_out(device):
    a = ember.tensor([1.0, 2.0], device=device)
    out = ember.empty(2, 2, device=device)
    assert ember.vstack([a, a], out=out) is out and out.tolist() == [[1, 2], [1, 2]]


def test_atleast_nd_return_one_tensor_for_one_and_a_tuple_otherwise(device):
    s = ember.tensor(5.0, device=device)
    v = ember.tensor([1.0, 2.0], device=device)
    assert ember.atleast_1d(s).shape == (1,)
    assert isinstance(ember.atleast_1d([s]), tuple)
    assert [t.shape for t in ember.atleast_2d(s, v)] == [(1, 1), (1, 2)]
    assert [t.shape for t in ember.atleast_3d((s, v, v.reshape(2, 1)))] == [(1, 1, 1), (1, 2, 1), (2, 1, 1)]


def test_broadcast_tensors_expand_to_the_common_shape(device):
    a, b = ember.ones(3, 1, device=device), ember.zeros(2, device=device)
    x, y = ember.broadcast_tensors(a, b)
    assert x.shape == (3, 2) and y.shape == (3, 2)
    assert ember.broadcast_to(b, (4, -1)).shape == (4, 2)


def test_repeat_interleave_values(device):
    x = ember.tensor([[1, 2], [3, 4]], device=device)
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert ember.repeat_interleave(x, ember.tensor([1, 2], device=device), dim=0).tolist() == [[1, 2], [3, 4],
                                                                                               [3, 4]]
    assert ember.repeat_interleave(x, 3, dim=1, output_size=6).tolist() == [[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]]
    assert ember.repeat_interleave(ember.tensor([2, 0, 1], device=device)).tolist() == [0, 0, 2]
    assert ember.repeat_interleave(x, 0, dim=0).shape == (0, 2)


def test_rot90_rotates_counterclockwise(device):
    x = ember.tensor([[1, 2], [3, 4]], device=device)
    assert ember.rot90(x).tolist() == [[2, 4], [1, 3]]
    assert x.rot90(2).tolist() == [[4, 3], [2, 1]]
    assert x.rot90(-1).tolist() == [[3, 1], [4, 2]]
    assert ember.rot90(x, 4).tolist() == x.tolist()


def test_transposes_t_mT_mH_adjoint(device):
    x = ember.arange(6, device=device).reshape(2, 3)
    assert ember.t(x).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.mH.tolist() == x.mT.tolist() == x.adjoint().tolist() == ember.adjoint(x).tolist() == x.t().tolist()
    v = ember.arange(3, device=device)
    assert ember.t(v).tolist() == [0, 1, 2]
    assert x.moveaxis(0, 1).shape == (3, 2)


# ---- errors ----------------------------------------------------------------------------------
def test_errors_match_pytorch(device):
    x = ember.zeros(2, 3, device=device)
    v = ember.zeros(3, device=device)
    cases = [
        (RuntimeError, "diagonal dimensions cannot be identical 0, 0", lambda: ember.diagonal(x, 0, 0, 0)),
        (RuntimeError, "diagonal dimensions cannot be identical 1, 1", lambda: ember.diag_embed(x, 0, 1, 1)),
        (IndexError, "out of range", lambda: x.diagonal(0, 0, 2)),
        (RuntimeError, r"diag\(\): Supports 1D or 2D tensors. Got 3D", lambda: ember.diag(ember.zeros(1, 1, 1))),
        (RuntimeError, "tril: input tensor must have at least 2 dimensions", lambda: ember.tril(v)),
        (RuntimeError, "triu: input tensor must have at least 2 dimensions", lambda: v.triu_()),
        (TypeError, "diagonal", lambda: ember.tril(x, 1.5)),
        (RuntimeError, "row must be non-negative", lambda: ember.tril_indices(-1, 3)),
        (NotImplementedError, "not implemented", lambda: ember.triu_indices(3, 3, dtype=ember.float32)),
        (RuntimeError, "Attempting to broadcast a dimension of length 4",
         lambda: ember.broadcast_shapes((2, 3), (4, 3))),
        (ValueError, "negative length", lambda: ember.broadcast_shapes((2, -1))),
        (RuntimeError, "must match the size", lambda: ember.broadcast_tensors(v, ember.zeros(2, device=device))),
        (RuntimeError, "Expected 0D or 1D tensor", lambda: ember.meshgrid(x, indexing="ij")),
        (RuntimeError, "indexing must be one of", lambda: ember.meshgrid(v, indexing="foo")),
        (RuntimeError, "same dtype", lambda: ember.meshgrid(v, v.long(), indexing="ij")),
        (RuntimeError, "hstack expects a non-empty TensorList", lambda: ember.hstack([])),
        (TypeError, "tuple of Tensors", lambda: ember.vstack(v)),
        (RuntimeError, "repeats must have the same size",
         lambda: x.repeat_interleave(ember.tensor([1, 2], device=device), 1)),
        (RuntimeError, "repeats must be 0-dim or 1-dim tensor",
         lambda: x.repeat_interleave(ember.tensor([[1, 2]], device=device), 0)),
        (RuntimeError, "repeats can not be negative",
         lambda: x.repeat_interleave(ember.tensor([1, -2], device=device), 0)),
        (RuntimeError, "Repeats must be non-negative", lambda: x.repeat_interleave(-1)),
        (NotImplementedError, "not implemented",
         lambda: x.repeat_interleave(ember.tensor([1.0, 2.0], device=device), 0)),
        (RuntimeError, "meshgrid expects a non-empty TensorList", lambda: ember.meshgrid(indexing="ij")),
        (RuntimeError, "allocated size does not match",
         lambda: x.repeat_interleave(ember.tensor([1, 2], device=device), 0, output_size=5)),
        (IndexError, "out of range", lambda: ember.repeat_interleave(ember.tensor(2.0, device=device), 3, dim=0)),
        (RuntimeError, "expected total rotation dims == 2", lambda: x.rot90(1, [0])),
        (RuntimeError, "expected total dims >= 2", lambda: v.rot90(1, [0, 0])),
        (RuntimeError, "expected rotation dims to be different", lambda: x.rot90(1, [0, -2])),
        (RuntimeError, "mH is only supported on matrices", lambda: v.mH),
        (RuntimeError, r"t\(\) expects a tensor with <= 2 dimensions", lambda: ember.t(ember.zeros(1, 1, 1))),
        (TypeError, "must be Tensor", lambda: ember.diagonal([[1.0]])),
    ]
    for exc, match, fn in cases:
        with pytest.raises(exc, match=match):
            fn()


def test_an_in_place_change_of_a_diagonal_raises_instead_of_silently_missing_the_input(device):
    x = ember.zeros(3, 3, device=device)
    with pytest.raises(RuntimeError, match="diagonal\\(\\) returns a copy in ember"):
        x.diagonal().fill_(1.0)
    assert x.diagonal().clone().fill_(1.0).tolist() == [1.0, 1.0, 1.0] and x.sum().item() == 0
