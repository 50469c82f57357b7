"""Rearranging elements: repeat_interleave (int or per-slice repeats), rot90, and the transposes t / adjoint."""
from __future__ import annotations

from .. import dtypes
from ..arguments import check_tensor, int_arg
from ..creation import arange
from .._tensor_base import Tensor, _dim
from .indexing import index_select
from .reduction import cumsum
from .shape import clone, expand, flip, reshape, transpose, unsqueeze
from .sorting import searchsorted


def _repeat_index(repeats: Tensor, output_size: int | None) -> Tensor:
    """0, 0, 1, 2, 2, ...: each position i repeated repeats[i] times (the one-argument form)."""
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.dtype not in (dtypes.int32, dtypes.int64):
        raise NotImplementedError(f"\"repeat_interleave\" not implemented for '{repeats.dtype.name}'")
    repeats = reshape(repeats, (-1,))
    if repeats.numel() and bool((repeats < 0).any()):
        raise RuntimeError("repeats can not be negative")
    ends = cumsum(repeats, 0)
    total = int(ends[-1].item()) if repeats.numel() else 0
    if output_size is not None and output_size != total:
        raise RuntimeError("allocated size does not match required size")
    return searchsorted(ends, arange(total, device=repeats.device, dtype=ends.dtype), right=True)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (each slice along `dim`; of the flattened input when None) `repeats` times: an int,
    or a tensor of one count per slice. `repeat_interleave(counts)` alone gives the repeated indices."""
    check_tensor(input, "repeat_interleave")
    if output_size is not None:
        output_size = int_arg(output_size, "repeat_interleave", "output_size")
    if repeats is None:
        return _repeat_index(input, output_size)
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = _dim(int_arg(dim, "repeat_interleave", "dim"), input.ndim, "repeat_interleave")
        if input.ndim == 0:  # PyTorch inserts the repeat dim after `dim`, which a 0-d tensor does not have
            raise IndexError("repeat_interleave: dimension out of range (expected to be in range of [-1, 0], "
                             "but got 1)")
    size = input.shape[d]
    if isinstance(repeats, Tensor) and repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if isinstance(repeats, Tensor) and repeats.numel() == 1:
        repeats = int(repeats.item())
    if not isinstance(repeats, Tensor):
        r = int_arg(repeats, "repeat_interleave", "repeats")
        if r < 0:
            raise RuntimeError("Repeats must be non-negative")
        if output_size is not None and output_size != r * size:
            raise RuntimeError("allocated size does not match required size")
        x = unsqueeze(input, d + 1)
        shape = x.shape[:d + 1] + (r,) + x.shape[d + 2:]
        return reshape(expand(x, shape), input.shape[:d] + (r * size,) + input.shape[d + 1:])
    if repeats.ndim == 1 and repeats.shape[0] != size:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{repeats.shape[0]} and input.size({d}) = {size}")
    return index_select(input, d, _repeat_index(repeats, output_size))


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees `k` times in the plane of `dims`, from the first dim toward the second."""
    check_tensor(input, "rot90")
    k = int_arg(k, "rot90", "k")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _dim(dims[0], input.ndim, "rot90"), _dim(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return clone(input)


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix (0-d and 1-D tensors are returned as they are)."""
    check_tensor(input, "t")
    return input.t()


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (the transpose, as ember has no complex dtypes)."""
    check_tensor(input, "adjoint")
    return input.mH
