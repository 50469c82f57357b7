"""Diagonals and triangles of (batched) matrices: diagonal / diag_embed (each the other's backward),
diag, diagflat, tril / triu and the index lists tril_indices / triu_indices."""
from __future__ import annotations

from .. import dtypes
from ..arguments import check_tensor, int_arg
from ..autograd.node import Op
from ..creation import arange
from ..device import as_device
from .._tensor_base import Tensor, _dim
from .indexing import nonzero

_INT64 = dtypes.int64


def _diagonal_key(bk, n: int, m: int, offset: int) -> tuple:
    """The key (..., rows, cols) selecting diagonal `offset` of the n x m matrices in the last two dims."""
    r0, c0 = max(-offset, 0), max(offset, 0)
    steps = bk.arange(0, max(0, min(n - r0, m - c0)), 1, _INT64)
    return (Ellipsis, bk.add(steps, r0), bk.add(steps, c0))


def _moved_last(ndim: int, dim1: int, dim2: int) -> tuple:
    """The permutation that moves dims (dim1, dim2) to the end, keeping the others in order."""
    return tuple(d for d in range(ndim) if d not in (dim1, dim2)) + (dim1, dim2)


class Diagonal(Op):
    keeps_dtype = True

    def forward(self, a, offset, dim1, dim2):
        self.in_shape, self.offset, self.dim1, self.dim2 = a.shape, offset, dim1, dim2
        bk = self.bk
        x = bk.transpose(a._data, _moved_last(a.ndim, dim1, dim2))
        # a fresh row-major array, as every ember op returns (advanced indexing may give another layout)
        return bk.copy(bk.getitem(x, _diagonal_key(bk, a.shape[dim1], a.shape[dim2], offset)))

    def backward(self, g):
        return (DiagonalEmbed.apply(g, shape=self.in_shape, offset=self.offset, dim1=self.dim1, dim2=self.dim2),)


class DiagonalEmbed(Op):
    """Zeros of `shape` with the last dim of the input on diagonal `offset` of dims (dim1, dim2)."""

    keeps_dtype = True

    def forward(self, a, shape, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        order = _moved_last(len(shape), dim1, dim2)
        bk = self.bk
        out = bk.full(tuple(shape[d] for d in order), 0, a.dtype)
        bk.setitem(out, _diagonal_key(bk, shape[dim1], shape[dim2], offset), a._data)
        if order == tuple(range(len(shape))):
            return out
        inverse = [0] * len(order)
        for i, d in enumerate(order):
            inverse[d] = i
        return bk.copy(bk.transpose(out, tuple(inverse)))

    def backward(self, g):
        return (Diagonal.apply(g, offset=self.offset, dim1=self.dim1, dim2=self.dim2),)


def _distinct_dims(d1: int, d2: int, dim1: int, dim2: int) -> None:
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal `offset` (> 0 above, < 0 below the main one) of the matrices in dims (dim1, dim2),
    as a new last dim. A copy in ember (PyTorch returns a view), so an in-place op on it raises."""
    check_tensor(input, "diagonal")
    offset = int_arg(offset, "diagonal", "offset")
    d1, d2 = _dim(dim1, input.ndim, "diagonal"), _dim(dim2, input.ndim, "diagonal")
    _distinct_dims(d1, d2, dim1, dim2)
    out = Diagonal.apply(input, offset=offset, dim1=d1, dim2=d2)
    out._copy_of_view = "diagonal"  # never silently diverge from PyTorch's view: in-place on it raises
    return out


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose diagonals `offset` in dims (dim1, dim2) hold the last dim of `input`; zeros elsewhere."""
    check_tensor(input, "diag_embed")
    offset = int_arg(offset, "diag_embed", "offset")
    ndim = input.ndim + 1
    d1, d2 = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
    _distinct_dims(d1, d2, dim1, dim2)
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(ndim))
    return DiagonalEmbed.apply(input, shape=shape, offset=offset, dim1=d1, dim2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input: the square matrix with it on diagonal `diagonal`; a 2-D input: that diagonal, as 1-D."""
    check_tensor(input, "diag")
    diagonal = int_arg(diagonal, "diag", "diagonal")
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=diagonal, dim1=0, dim2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The 2-D matrix with the flattened `input` on diagonal `offset`."""
    check_tensor(input, "diagflat")
    return diag_embed(input.reshape(-1), int_arg(offset, "diagflat", "offset"), 0, 1)


def _triangle_mask(bk, n: int, m: int, k: int, upper: bool):
    """bool (n, m): True where column - row >= k (upper) or <= k (lower)."""
    rows = bk.reshape(bk.arange(0, n, 1, _INT64), (n, 1))
    cols = bk.reshape(bk.arange(0, m, 1, _INT64), (1, m))
    diff = bk.sub(cols, rows)
    return bk.greater_equal(diff, k) if upper else bk.less_equal(diff, k)


class Triangle(Op):
    keeps_dtype = True

    def forward(self, a, k, upper):
        self.k, self.upper = k, upper
        bk = self.bk
        mask = _triangle_mask(bk, a.shape[-2], a.shape[-1], k, upper)
        return bk.where(mask, a._data, bk.full((), 0, a.dtype))

    def backward(self, g):
        return (Triangle.apply(g, k=self.k, upper=self.upper),)


def _triangle(input: Tensor, diagonal: int, upper: bool, fn: str) -> Tensor:
    check_tensor(input, fn)
    diagonal = int_arg(diagonal, fn, "diagonal")
    if input.ndim < 2:
        raise RuntimeError(f"{fn}: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, k=diagonal, upper=upper)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (column - row <= `diagonal`) of the matrices in the last two dims; zeros elsewhere."""
    return _triangle(input, diagonal, False, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (column - row >= `diagonal`) of the matrices in the last two dims; zeros elsewhere."""
    return _triangle(input, diagonal, True, "triu")


def _triangle_indices(row: int, col: int, offset: int, dtype, device, upper: bool, fn: str) -> Tensor:
    row, col, offset = int_arg(row, fn, "row"), int_arg(col, fn, "col"), int_arg(offset, fn, "offset")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.int32, dtypes.int64):
        raise NotImplementedError(f"\"{fn}\" not implemented for '{dtype.name}'")
    device = as_device(device) if device is not None else None
    rows = arange(row, device=device).unsqueeze(1)
    cols = arange(col, device=device)
    diff = cols - rows
    mask = diff >= offset if upper else diff <= offset
    return nonzero(mask).T.clone().to(dtype)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=dtypes.int64, device=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row x col matrix (column - row <= offset), row-major."""
    return _triangle_indices(row, col, offset, dtype, device, False, "tril_indices")


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=dtypes.int64, device=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row x col matrix (column - row >= offset), row-major."""
    return _triangle_indices(row, col, offset, dtype, device, True, "triu_indices")
