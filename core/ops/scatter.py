"""The scatter and index family: scatter, scatter_reduce, index_add/copy/fill/put, masked_select,
masked_scatter, take, take_along_dim, put, argwhere, and their in-place variants.

Everything is written with the backend's primitives (`getitem`, `setitem`, `index_add`, `scatter_add`,
`sort`, `where`); every index is validated here first, because some array
libraries wrap an out-of-range index around instead of raising. The in-place variants run the
out-of-place op on an alias and write the result back (`inplace.assign_`), as the other in-place ops.
"""
from __future__ import annotations

from .. import dtypes
from ..arguments import check_same_device, check_tensor
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import Op
from .._tensor_base import Tensor, _dim, _wrap
from . import elementwise as ew
from .indexing import (
    GetItem, IndexPut, _check_index_shape, _check_range, gather, getitem, nonzero, normalize_key, scatter_add,
)
from .inplace import alias, assign_

_INT64 = dtypes.int64
_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


# ---- helpers -------------------------------------------------------------------------------
def _check_int_index(op: str, index: Tensor, long_only: bool) -> None:
    if long_only and index._dtype is not _INT64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {index.dtype}")
    if index._dtype._kind != 1:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index but got: {index.dtype}")


def _check_not_negative(op: str, index: Tensor, size: int, dim: int, error: type) -> None:
    """PyTorch's scatter-style ops take no negative index (they do not count from the end)."""
    if index.numel():
        lo = int(index.min())
        if lo < 0:
            raise error(f"{op}(): index {lo} is out of bounds for dimension {dim} with size {size}")


def _along(index: Tensor, dim: int) -> tuple:
    """The native advanced-indexing key that addresses `index` along `dim` and every position elsewhere."""
    bk = index._bk
    key = []
    for d, n in enumerate(index.shape):
        if d == dim:
            key.append(index._data)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            key.append(bk.reshape(bk.arange(0, n, 1, _INT64), tuple(shape)))
    return tuple(key)


def _as_dims(a: Tensor, index: Tensor, src) -> tuple[Tensor, Tensor, object]:
    """A 0-d index (and 0-d src) on a 0-d or 1-d tensor read as one-element vectors, as PyTorch does."""
    if index.ndim == 0 and a.ndim <= 1:
        index = index.reshape(1)
        if isinstance(src, Tensor) and src.ndim == 0:
            src = src.reshape(1)
    if a.ndim == 0:
        a = a.reshape(1)
    return a, index, src


def _scatter_args(op: str, a: Tensor, dim: int, index: Tensor, src) -> tuple[Tensor, int, Tensor, object]:
    """Checked and normalised (input, dim, index, src) of a scatter-style op (`src` a tensor or a number)."""
    check_tensor(a, op)
    check_tensor(index, op, "index", 3)
    d = _dim(dim, a.ndim, op)
    check_same_device(op, a, index=index, src=src if isinstance(src, Tensor) else None)
    a, index, src = _as_dims(a, index, src)
    if isinstance(src, Tensor):
        if src._dtype is not a._dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        if src.ndim != index.ndim or any(n > m for n, m in zip(index.shape, src.shape)):
            raise RuntimeError(f"{op}(): Expected index {list(index.shape)} to be no larger than self "
                               f"{list(a.shape)} apart from dimension {d} and to be no larger size than src "
                               f"{list(src.shape)}")
        src = src if tuple(src.shape) == tuple(index.shape) else getitem(src, tuple(slice(0, n) for n in index.shape))
    try:
        _check_index_shape(op, a, d, index)
    except IndexError as exc:  # PyTorch's scatter reports a bad index as a RuntimeError
        raise RuntimeError(f"{op}(): {exc}") from None
    _check_not_negative(op, index, a.shape[d], d, RuntimeError)
    return a, d, index, src


# ---- scatter -------------------------------------------------------------------------------
def scatter(input: Tensor, dim: int, index: Tensor, src: Tensor | None = None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of `input` with `src` (or the number `value`) written at `index` along `dim`:
    out[index[i][j]][j] = src[i][j] for dim 0. `reduce` ("add" or "multiply") combines instead of writing."""
    check_tensor(input, "scatter")
    check_tensor(index, "scatter", "index", 3)
    if (src is None) == (value is None):
        raise TypeError("scatter(): expected exactly one of the arguments 'src' and 'value'")
    source = src if src is not None else value
    if isinstance(source, Tensor) and src is None:
        raise TypeError("scatter(): argument 'value' must be Number, not Tensor")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if not isinstance(source, Tensor):
            source = ew.cast(ew.as_operand(source, input).expand(index.shape), input._dtype)
        return scatter_reduce(input, dim, index, source, "sum" if reduce == "add" else "prod")
    a, d, index, source = _scatter_args("scatter", input, dim, index, source)
    if not isinstance(source, Tensor):
        source = dtypes.stored_int(source, a._dtype, "scatter") if a._dtype._kind == 1 else source
    return IndexPut.apply(a, source, key=_along(index, d)).reshape(input.shape)


def scatter_(input: Tensor, dim: int, index: Tensor, src: Tensor | None = None, *, value=None,
             reduce: str | None = None) -> Tensor:
    """In-place `scatter`."""
    return assign_(input, scatter(_old_value(input, src, reduce == "multiply"), dim, index, src, value=value,
                                  reduce=reduce))


def _old_value(input: Tensor, src, saved: bool) -> Tensor:
    """`input` as the input of the out-of-place op of an in-place one: a copy when the op's backward reads the
    value that the write replaces (`saved`), an alias otherwise."""
    old = alias(input)
    if saved and _grad_state.enabled and (input._rg or (isinstance(src, Tensor) and src._rg)):
        old = old.clone()
    return old


# ---- scatter_reduce ------------------------------------------------------------------------
def _flat_positions(a_shape: tuple, index: Tensor, dim: int):
    """Row-major positions in a tensor of `a_shape` addressed by `index` along `dim`, as a flat native array."""
    bk = index._bk
    strides = [1] * len(a_shape)
    for d in range(len(a_shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * a_shape[d + 1]
    pos = None
    for d, part in enumerate(_along(index, dim)):
        term = bk.mul(part, strides[d])
        pos = term if pos is None else bk.add(pos, term)
    return bk.reshape(bk.broadcast_to(pos, index.shape), (-1,))


def _reduce_into(bk, out, pos, values, combine, include_self: bool) -> None:
    """out[p] = combine(out[p], every values[k] with pos[k] == p) in place (without out[p] unless include_self).

    The backend has no scatter-max or -prod, so the values are sorted by position and reduced with
    a segmented scan (each step combines a value with the one `step` places before it when both
    go to the same place, step doubling): log2(most values into one place) vectorised steps; the
    last value of each run then holds the run's reduction and goes in with one setitem.
    """
    n = pos.shape[0]
    if n == 0:
        return
    _, order = bk.sort(pos, 0, False)
    pos, values = bk.getitem(pos, (order,)), bk.getitem(values, (order,))
    most = int(bk.to_numpy(bk.max(bk.index_add(bk.full((out.shape[0],), 0, _INT64), (pos,),
                                                 bk.full((n,), 1, _INT64)))))
    step = 1
    while step < most:
        head, tail = (slice(0, n - step),), (slice(step, None),)
        later = bk.getitem(values, tail)
        merged = bk.where(bk.equal(bk.getitem(pos, tail), bk.getitem(pos, head)),
                          combine(bk.getitem(values, head), later), later)
        values = bk.concatenate([bk.getitem(values, (slice(0, step),)), merged], 0)
        step *= 2
    last = bk.concatenate([bk.not_equal(bk.getitem(pos, (slice(0, n - 1),)), bk.getitem(pos, (slice(1, None),))),
                           bk.full((1,), True, dtypes.bool)], 0)
    p, v = bk.getitem(pos, (last,)), bk.getitem(values, (last,))
    bk.setitem(out, (p,), combine(bk.getitem(out, (p,)), v) if include_self else v)


class ScatterReduce(Op):
    """`input` with `src` reduced into it at `index` along `dim`; the gradients are PyTorch's."""

    save_output = True

    def forward(self, a, src, dim, index, reduce, include_self):
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self
        self.shapes, self.dtype = (a.shape, src.shape), a._dtype
        bk = self.bk
        if self.needs_input_grad and reduce in ("prod", "amax", "amin"):
            self.save_for_backward(a, src)
        if reduce in ("sum", "mean"):
            base = a._data
            if not include_self:
                base = bk.copy(base)
                bk.setitem(base, _along(index, dim), 0)
            out = bk.scatter_add(base, dim, index._data, src._data)
            if reduce == "mean":
                count = self._count()._data
                out = bk.div(out, count) if a._dtype.is_floating_point else bk.floor_divide(out, count)
            return out
        combine = {"prod": bk.mul, "amax": bk.maximum, "amin": bk.minimum}[reduce]
        flat = bk.reshape(bk.copy(a._data), (-1,))
        _reduce_into(bk, flat, _flat_positions(a.shape, index, dim), bk.reshape(src._data, (-1,)), combine,
                     include_self)
        return bk.reshape(flat, a.shape)

    def _constant(self, shape: tuple, value) -> Tensor:
        return _wrap(self.bk.full(shape, value, self.dtype), self.bk, self.device)

    def _count(self) -> Tensor:
        """How many values were reduced into each place (at least 1): mean's divisor, a constant."""
        bk, (shape, src_shape) = self.bk, self.shapes
        count = bk.scatter_add(bk.full(shape, 1 if self.include_self else 0, self.dtype), self.dim, self.index._data,
                               bk.full(src_shape, 1, self.dtype))
        return _wrap(bk.maximum(count, 1), bk, self.device, self.dtype)

    def backward(self, g):
        dim, index, reduce = self.dim, self.index, self.reduce
        if reduce == "sum":
            grad_self, grad_src = g, g.gather(dim, index)
        elif reduce == "mean":
            grad_self = g / self._count()
            grad_src = grad_self.gather(dim, index)
        else:
            a, src = self.saved_tensors
            if reduce == "prod":  # the inputs and the result keep their graph: the gradient depends on them
                grad_self, grad_src = self._prod_grads(g, a, src, self.saved_output())
            else:
                a, src = a.detach(), src.detach()
                result = _wrap(self.saved_output_array(), self.bk, self.device)
                self_is_result = (a == result).to(a._dtype)
                src_is_result = (src == result.gather(dim, index)).to(a._dtype)
                share = g / scatter_add(self_is_result, dim, index, src_is_result)
                grad_self, grad_src = self_is_result * share, src_is_result * share.gather(dim, index)
        if not self.include_self:
            grad_self = scatter(grad_self, dim, index, value=0)
        na, ns = self.needs_input_grad
        return grad_self if na else None, grad_src if ns else None

    def _prod_grads(self, g: Tensor, a: Tensor, src: Tensor, result: Tensor) -> tuple[Tensor, Tensor]:
        """The product of the others, also where a factor is zero (one zero: its gradient is not zero)."""
        dim, index, include_self = self.dim, self.index, self.include_self
        masked_self = _fill_where(a, a == 0, 1)
        grad_self = g * scatter_reduce(masked_self, dim, index, src, "prod", include_self=include_self) / masked_self
        src_zero = src == 0
        zeros_in_place = scatter_add(self._constant(a.shape, 0), dim, index, src_zero.to(a._dtype))
        single_zero = ew.logical_and(src_zero, zeros_in_place.gather(dim, index) == 1)
        others = scatter_reduce(a, dim, index, _fill_where(src, single_zero, 1), "prod", include_self=include_self)
        grad_src = ew.where(single_zero, (g * others).gather(dim, index),
                            (g * result).gather(dim, index) / _fill_where(src, src_zero, 1))
        return grad_self, grad_src


def _fill_where(a: Tensor, mask: Tensor, value) -> Tensor:
    """`a` with the number `value` where `mask` holds (differentiable in `a`)."""
    return ew.where(mask, value, a)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of `input` with each `src[i][j]` reduced into out[index[i][j]][j] (dim 0) by `reduce`:
    "sum", "prod", "mean", "amax" or "amin"; `include_self=False` leaves the old values out of the reduction."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    if not isinstance(include_self, bool):
        raise TypeError(f"scatter_reduce(): argument 'include_self' must be bool, not {type(include_self).__name__}")
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    check_tensor(input, "scatter_reduce")
    a, d, index, src = _scatter_args("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(a, src, dim=d, index=index, reduce=reduce, include_self=include_self).reshape(
        input.shape)


def scatter_reduce_(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """In-place `scatter_reduce`."""
    return assign_(input, scatter_reduce(_old_value(input, src, reduce in ("prod", "amax", "amin")), dim, index, src,
                                         reduce, include_self=include_self))


# ---- index_add / index_copy / index_fill ---------------------------------------------------
class IndexAdd(Op):
    """`a` with `values` added at native key `key` (duplicates accumulate)."""

    def forward(self, a, values, key):
        self.key, self.values_shape = key, values._data.shape
        return self.bk.index_add(a._data, key, values._data)

    def backward(self, g):
        na, nv = self.needs_input_grad
        gv = ew.unbroadcast(GetItem.apply(g, key=self.key, basic=False), self.values_shape) if nv else None
        return g if na else None, gv


def _index_args(op: str, a: Tensor, dim: int, index: Tensor, source, *, long_only: bool = True,
                negative_ok: bool = False) -> tuple[Tensor, tuple, object]:
    """(input, native key selecting the 1-D `index` along `dim`, source) of an index_* op, checked;
    a 0-d input (and source) is read as a one-element vector."""
    check_tensor(a, op)
    check_tensor(index, op, "index", 3)
    d = _dim(dim, a.ndim, op)
    check_same_device(op, a, index=index, source=source if isinstance(source, Tensor) else None)
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{index.dtype} and size: {list(index.shape)}")
    _check_int_index(op, index, long_only)
    index = index.reshape(-1)
    if a.ndim == 0:
        a = a.reshape(1)
        if isinstance(source, Tensor) and source.ndim == 0:
            source = source.reshape(1)
    _check_range(index, a.shape[d], d)
    if not negative_ok:
        _check_not_negative(op, index, a.shape[d], d, IndexError)
    if isinstance(source, Tensor):
        if source._dtype is not a._dtype:
            raise RuntimeError(f"{op}(): self ({a.dtype}) and source ({source.dtype}) must have the same scalar type")
        if source.ndim == a.ndim - 1 and index.shape[0] == 1:
            source = source.unsqueeze(d)
        if source.ndim != a.ndim or any(n != m for i, (n, m) in enumerate(zip(source.shape, a.shape)) if i != d):
            raise RuntimeError(f"{op}(): source tensor shape must match self tensor shape, excluding the specified "
                               f"dimension. Got self.shape = {list(a.shape)} source.shape = {list(source.shape)}")
        if source.shape[d] != index.shape[0]:
            raise RuntimeError(f"{op}(): Number of indices ({index.shape[0]}) should be equal to "
                               f"source.size(dim): ({source.shape[d]}), for dim: {d}")
    return a, (slice(None),) * d + (index._data,), source


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of `input` with `alpha * source` added to the slices at the 1-D `index` along `dim`
    (duplicate indices accumulate)."""
    check_tensor(source, "index_add", "source", 4)
    a, key, source = _index_args("index_add", input, dim, index, source, long_only=False)
    if alpha != 1:
        source = source * alpha
    return IndexAdd.apply(a, source, key=key).reshape(input.shape)


def index_add_(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place `index_add`."""
    return assign_(input, index_add(alias(input), dim, index, source, alpha=alpha))


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of `input` with the slices at the 1-D `index` along `dim` replaced by those of `source`."""
    check_tensor(source, "index_copy", "source", 4)
    a, key, source = _index_args("index_copy", input, dim, index, source)
    return IndexPut.apply(a, source, key=key).reshape(input.shape)


def index_copy_(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place `index_copy`."""
    return assign_(input, index_copy(alias(input), dim, index, source))


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of `input` with the slices at the 1-D `index` along `dim` set to `value` (a number or 0-d tensor)."""
    check_tensor(input, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = ew.cast(value, input._dtype)
    elif input._dtype._kind == 1:
        value = dtypes.stored_int(value, input._dtype, "index_fill")
    a, key, _ = _index_args("index_fill", input, dim, index, None, negative_ok=True)
    return IndexPut.apply(a, value, key=key).reshape(input.shape)


def index_fill_(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """In-place `index_fill`."""
    return assign_(input, index_fill(alias(input), dim, index, value))


# ---- index_put / put / take ----------------------------------------------------------------
def index_put(input: Tensor, indices: tuple, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of `input` with `input[indices] = values` (or `+= values`, duplicates accumulating, when
    `accumulate`); `indices` is a tuple of integer or bool tensors."""
    check_tensor(input, "index_put")
    check_tensor(values, "index_put", "values", 3)
    if not isinstance(indices, (tuple, list)) or not all(isinstance(i, Tensor) or i is None for i in indices):
        raise TypeError("index_put(): argument 'indices' (position 2) must be tuple of Tensors")
    check_same_device("index_put", input, values=values)
    if values._dtype is not input._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {input.dtype} for the "
                           f"destination and {values.dtype} for the source.")
    key, _ = normalize_key(input, tuple(slice(None) if i is None else i for i in indices))
    if accumulate:
        return IndexAdd.apply(input, values, key=key)
    return IndexPut.apply(input, values, key=key)


def index_put_(input: Tensor, indices: tuple, values: Tensor, accumulate: bool = False) -> Tensor:
    """In-place `index_put`."""
    check_tensor(input, "index_put_")
    return assign_(input, index_put(alias(input), indices, values, accumulate))


def _flat_index(op: str, a: Tensor, index: Tensor) -> Tensor:
    """`index` (any shape) checked as positions into `a` read as 1-D."""
    check_tensor(index, op, "index", 2)
    check_same_device(op, a, index=index)
    if index._dtype is not _INT64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {index.dtype}")
    n = a.numel()
    if index.numel():
        lo, hi = int(index.min()), int(index.max())
        if lo < -n or hi >= n:
            bad = hi if hi >= n else lo
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return index


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of `input`, read as 1-D, at `index`; the result has `index`'s shape."""
    check_tensor(input, "take")
    index = _flat_index("take", input, index)
    return GetItem.apply(input.reshape(-1), key=(index._data,), basic=False)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of `input` with the elements at `index` (into `input` read as 1-D) set to `source`
    (or `source` added, when `accumulate`)."""
    check_tensor(input, "put")
    check_tensor(source, "put", "source", 3)
    index = _flat_index("put", input, index)
    check_same_device("put", input, source=source)
    if source._dtype is not input._dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input.dtype} and source.dtype = {source.dtype}")
    if source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    key = (index.reshape(-1)._data,)
    flat = input.reshape(-1)
    out = (IndexAdd if accumulate else IndexPut).apply(flat, source.reshape(-1), key=key)
    return out.reshape(input.shape)


def put_(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """In-place `put`."""
    return assign_(input, put(alias(input), index, source, accumulate))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """The values of `input` at `indices` along `dim` (gather, with the other dims broadcast);
    with `dim=None` both are read as 1-D."""
    check_tensor(input, "take_along_dim")
    check_tensor(indices, "take_along_dim", "indices", 2)
    check_same_device("take_along_dim", input, indices=indices)
    if indices._dtype is not _INT64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {indices.dtype}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    d = _dim(dim, input.ndim, "take_along_dim")
    shape = []
    for i, (n, m) in enumerate(zip(input.shape, indices.shape)):
        if i != d and n != m and n != 1 and m != 1:
            raise RuntimeError(f"take_along_dim(): the shapes of input {list(input.shape)} and indices "
                               f"{list(indices.shape)} do not broadcast apart from dimension {d}")
        shape.append(max(n, m))
    a = input.expand(tuple(n if i != d else input.shape[d] for i, n in enumerate(shape)))
    idx = indices.expand(tuple(n if i != d else indices.shape[d] for i, n in enumerate(shape)))
    return gather(a, d, idx)


# ---- masks ---------------------------------------------------------------------------------
def _check_mask(op: str, mask: Tensor) -> None:
    check_tensor(mask, op, "mask", 2)
    if mask._dtype is not dtypes.bool:
        raise RuntimeError(f"{op}: expected BoolTensor for mask")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of the elements of `input` where the bool `mask` holds (both broadcast)."""
    check_tensor(input, "masked_select")
    _check_mask("masked_select", mask)
    check_same_device("masked_select", input, mask=mask)
    shape = _broadcast_shape("masked_select", input.shape, mask.shape)
    return getitem(input.expand(shape), mask.expand(shape))


def _broadcast_shape(op: str, s: tuple, t: tuple) -> tuple:
    n = max(len(s), len(t))
    s, t = (1,) * (n - len(s)) + tuple(s), (1,) * (n - len(t)) + tuple(t)
    out = []
    for a, b in zip(s, t):
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"{op}: the shape of the mask {list(t)} does not broadcast with the input {list(s)}")
        out.append(max(a, b))
    return tuple(out)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of `input` with the elements where `mask` holds replaced, in row-major order, by the first
    elements of `source` (both `input` and `mask` broadcast)."""
    check_tensor(input, "masked_scatter")
    _check_mask("masked_scatter", mask)
    check_tensor(source, "masked_scatter", "source", 3)
    check_same_device("masked_scatter", input, mask=mask, source=source)
    if source._dtype is not input._dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got {input.dtype} and "
                           f"{source.dtype}")
    shape = _broadcast_shape("masked_scatter", input.shape, mask.shape)
    a = input if tuple(input.shape) == shape else input.expand(shape)
    m = mask.expand(shape)
    n = int(m.sum())
    if source.numel() < n:
        raise RuntimeError("masked_scatter: Number of elements of source < number of ones in mask")
    return IndexPut.apply(a, source.reshape(-1)[:n], key=(m._data,))


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place `masked_scatter`."""
    return assign_(input, masked_scatter(alias(input), mask, source))


def argwhere(input: Tensor) -> Tensor:
    """The (n, ndim) int64 coordinates of the nonzero elements of `input` (`nonzero`)."""
    check_tensor(input, "argwhere")
    return nonzero(input)
