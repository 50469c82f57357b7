"""Joining and broadcasting several tensors: hstack / vstack / dstack / column_stack, atleast_nd,
broadcast_shapes / broadcast_tensors / broadcast_to, meshgrid."""
from __future__ import annotations

import warnings

from ..arguments import check_tensor, int_arg, tensor_seq_arg
from .._tensor_base import Size, Tensor
from .out import write_out
from .shape import cat, expand, reshape


def _tensors_arg(tensors: tuple, fn: str) -> tuple[list[Tensor], bool]:
    """(the tensors, whether one lone tensor was given) from `f(t)`, `f(t1, t2, ...)` or `f([t1, t2])`."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return [tensors[0]], True
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tensor_seq_arg(tensors[0], fn), False
    return tensor_seq_arg(tensors, fn), False


def _atleast(tensors: tuple, fn: str, shape_of):
    items, lone = _tensors_arg(tensors, fn)
    out = tuple(reshape(t, shape_of(t.shape)) for t in items)
    return out[0] if lone else out


def atleast_1d(*tensors):
    """Each tensor with at least one dim (a 0-d tensor becomes shape (1,)); one tensor in, one out."""
    return _atleast(tensors, "atleast_1d", lambda s: s if len(s) >= 1 else (1,))


def atleast_2d(*tensors):
    """Each tensor with at least two dims: () -> (1, 1), (n,) -> (1, n)."""
    return _atleast(tensors, "atleast_2d", lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors):
    """Each tensor with at least three dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    def shape_of(s):
        if len(s) == 0:
            return (1, 1, 1)
        if len(s) == 1:
            return (1, s[0], 1)
        return s + (1,) if len(s) == 2 else s
    return _atleast(tensors, "atleast_3d", shape_of)


def _stack_args(tensors, fn: str) -> list[Tensor]:
    tensors = tensor_seq_arg(tensors, fn)
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    return tensors


def hstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate horizontally: along dim 0 for 1-D tensors, dim 1 otherwise (0-d tensors count as 1-D)."""
    items = atleast_1d(_stack_args(tensors, "hstack"))
    result = cat(items, 0 if items[0].ndim == 1 else 1)
    return result if out is None else write_out("hstack", result, out)


def vstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate vertically (dim 0) after `atleast_2d`."""
    result = cat(atleast_2d(_stack_args(tensors, "vstack")), 0)
    return result if out is None else write_out("vstack", result, out)


row_stack = vstack


def dstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate depthwise (dim 2) after `atleast_3d`."""
    result = cat(atleast_3d(_stack_args(tensors, "dstack")), 2)
    return result if out is None else write_out("dstack", result, out)


def column_stack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate along dim 1, with 0-d and 1-D tensors (n,) taken as columns (n, 1)."""
    items = [reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in _stack_args(tensors, "column_stack")]
    result = cat(items, 1)
    return result if out is None else write_out("column_stack", result, out)


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of `shapes` (ints or sequences of ints) broadcast to."""
    sizes = []
    for s in shapes:
        s = (int_arg(s, "broadcast_shapes", "shape"),) if not isinstance(s, (tuple, list, Size)) else tuple(s)
        sizes.append(tuple(int_arg(n, "broadcast_shapes", "shape") for n in s))
    ndim = max((len(s) for s in sizes), default=0)
    result = [1] * ndim
    for i, s in enumerate(sizes):
        for j, n in enumerate(s):
            if n < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            k = ndim - len(s) + j
            if result[k] == 1:
                result[k] = n
            elif n != 1 and n != result[k]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {j - len(s)}! Mismatching "
                                   f"argument at index {i} had {tuple(s)}; but expected shape should be "
                                   f"broadcastable to {result}")
    return Size(result)


def broadcast_to(input: Tensor, size) -> Tensor:
    """`input` broadcast to `size` (a view; -1 keeps a dim), as `input.expand(size)`."""
    check_tensor(input, "broadcast_to")
    return expand(input, tuple(size))


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape."""
    items = tensor_seq_arg(tensors, "broadcast_tensors")
    shape = tuple(items[0].shape) if items else ()
    for t in items[1:]:
        ndim = max(len(shape), t.ndim)
        a, b = (1,) * (ndim - len(shape)) + tuple(shape), (1,) * (ndim - t.ndim) + tuple(t.shape)
        for d, (x, y) in enumerate(zip(a, b)):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                   f"non-singleton dimension {d}")
        shape = tuple(y if x == 1 else x for x, y in zip(a, b))
    return tuple(expand(t, shape) for t in items)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 0-d / 1-D tensors: with "ij" output i varies along dim i; "xy" swaps the first
    two dims (Cartesian indexing). Omitting `indexing` means "ij", with PyTorch's warning."""
    items, _ = _tensors_arg(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not items:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in items:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
        if t.dtype is not items[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != items[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    sizes = [t.numel() for t in items]
    where = list(range(len(items)))  # the output dim that input i varies along
    if indexing == "xy" and len(items) >= 2:
        where[0], where[1] = 1, 0
    shape = [0] * len(items)
    for i, d in enumerate(where):
        shape[d] = sizes[i]
    grids = []
    for t, d in zip(items, where):
        view = (1,) * d + (shape[d],) + (1,) * (len(shape) - d - 1)
        grids.append(expand(reshape(t, view), tuple(shape)))
    return tuple(grids)
