"""Indexing: `t[key]`, `t[key] = v`, gather, scatter_add, index_select, masked_fill, nonzero.

Keys are checked here, against the tensor's shape, before any backend sees them: numpy raises
on an out-of-range index but cupy wraps around, so core gives the same IndexError everywhere.
"""
from __future__ import annotations

from .. import creation, dtypes
from ..arguments import check_same_device, check_tensor
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import Op
from ..autograd.views import index_layout, make_view
from .._tensor_base import Tensor, _dim, _wrap
from . import elementwise as ew
from .inplace import alias, assign_, check_inplace


def _index_tensor(value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return creation.tensor(value, device=like.device)


def _check_range(idx: Tensor, size: int, dim: int) -> None:
    if idx.numel() == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < -size or hi >= size:
        bad = hi if hi >= size else lo
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def normalize_key(a: Tensor, key) -> tuple[tuple, bool]:
    """(native key, is_basic) for `a[key]`, with every index validated against `a.shape`."""
    if not isinstance(key, tuple):
        key = (key,)
    consumed = 0
    for k in key:
        if k is None or k is Ellipsis:
            continue
        if isinstance(k, Tensor) and k._dtype is dtypes.bool:
            consumed += k.ndim
        elif isinstance(k, (list, tuple)) and k and isinstance(_first(k), bool):
            consumed += 1
        else:
            consumed += 1
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > a.ndim:
        raise IndexError(f"too many indices for tensor of dimension {a.ndim}")
    shape = a.shape
    out = []
    basic = True
    d = 0
    for k in key:
        if k is None:
            out.append(None)
        elif k is Ellipsis:
            out.append(Ellipsis)
            d += a.ndim - consumed
        elif isinstance(k, slice):
            out.append(slice(_int_or_none(k.start), _int_or_none(k.stop), _int_or_none(k.step)))
            if out[-1].step is not None and out[-1].step <= 0:
                raise ValueError("step must be greater than zero")
            d += 1
        elif isinstance(k, bool):
            raise IndexError("indexing with a Python bool is not supported; use a bool tensor")
        elif isinstance(k, int) or (hasattr(k, "__index__") and not isinstance(k, (Tensor, list, tuple))):
            i = int(k.__index__()) if not isinstance(k, int) else k
            if not -shape[d] <= i < shape[d]:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {shape[d]}")
            out.append(i)
            d += 1
        else:
            idx = _index_tensor(k, a)
            if idx._device is not a._device:
                raise RuntimeError(f"indices should be on the tensor's device ({a.device}), got {idx.device}")
            basic = False
            if idx._dtype is dtypes.bool:
                if tuple(idx.shape) != shape[d:d + idx.ndim]:
                    raise IndexError(f"The shape of the mask {list(idx.shape)} at index {d} does not match the "
                                     f"shape of the indexed tensor {list(shape[d:d + idx.ndim])}")
                d += idx.ndim
            elif idx._dtype._kind == 1:
                _check_range(idx, shape[d], d)
                d += 1
            else:
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {idx.dtype}")
            out.append(idx._data)
    return tuple(out), basic


def _first(seq):
    while isinstance(seq, (list, tuple)) and seq:
        seq = seq[0]
    return seq


def _int_or_none(v):
    return None if v is None else int(v)


class GetItem(Op):
    keeps_dtype = True

    def forward(self, a, key, basic):
        self.in_shape, self.key, self.basic = a._data.shape, key, basic
        return self.bk.getitem(a._data, key)

    def backward(self, g):
        return (IndexBackward.apply(g, key=self.key, basic=self.basic, shape=self.in_shape),)


class IndexBackward(Op):
    """Scatter a gradient back to the indexed places of a zero tensor (duplicates accumulate)."""

    def forward(self, g, key, basic, shape):
        self.key, self.basic = key, basic
        bk = self.bk
        zeros = bk.full(shape, 0, g._dtype)
        if basic:
            bk.setitem(zeros, key, g._data)
            return zeros
        return bk.index_add(zeros, key, g._data)

    def backward(self, gg):
        return (GetItem.apply(gg, key=self.key, basic=self.basic),)


def getitem(a: Tensor, key) -> Tensor:
    """`a[key]`: basic indexing gives a view, integer/bool tensor indices a copy."""
    if key.__class__ is int and a._data.ndim:  # the common per-sample case, checked without the general walk
        size = a._data.shape[0]
        if not -size <= key < size:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {size}")
        native, basic = (key, Ellipsis), True
    else:
        native, basic = normalize_key(a, key)
        if basic and Ellipsis not in native:
            native += (Ellipsis,)  # numpy gives a 0-d view (not a copy) only with an ellipsis
    out = GetItem.apply(a, key=native, basic=basic)
    if basic:
        make_view(out, a, lambda t: GetItem.apply(t, key=native, basic=True), index_layout(native))
    return out


class IndexPut(Op):
    def forward(self, a, value, key):
        self.key = key
        self.value_shape = value._data.shape if isinstance(value, Tensor) else None
        out = self.bk.copy(a._data)
        self.bk.setitem(out, key, value._data if isinstance(value, Tensor) else value)
        return out

    def backward(self, g):
        na, nv = self.needs_input_grad
        ga = IndexPut.apply(g, 0.0, key=self.key) if na else None
        gv = None
        if nv:
            gv = ew.unbroadcast(GetItem.apply(g, key=self.key, basic=False), self.value_shape)
        return ga, gv


def setitem(a: Tensor, key, value) -> None:
    """`a[key] = value` in place; autograd sees it as `a` replaced by a copy with the slots written."""
    check_inplace(a)
    native, _ = normalize_key(a, key)
    if isinstance(value, Tensor):
        if value._device is not a._device:
            raise RuntimeError(f"setitem: value is on {value.device} but the tensor is on {a.device}")
        if value._dtype is not a._dtype:
            value = ew.cast(value, a._dtype)
    elif not isinstance(value, (int, float, bool)):
        value = _index_tensor(value, a).to(a._dtype)
    if _grad_state.enabled and (a._rg or (isinstance(value, Tensor) and value._rg)):
        assign_(a, IndexPut.apply(alias(a), value, key=native))
        return
    try:
        a._bk.setitem(a._data, native, value._data if isinstance(value, Tensor) else value)
    except ValueError as exc:
        raise RuntimeError(f"setitem: {exc} (tensor shape {list(a.shape)}, value shape "
                           f"{list(value.shape) if isinstance(value, Tensor) else []})") from exc
    a._version[0] += 1


class Gather(Op):
    def forward(self, a, dim, index):
        self.in_shape, self.dim, self.index = a._data.shape, dim, index
        data = a._data
        if index._data.shape != data.shape:
            data = self.bk.getitem(data, tuple(slice(0, n) if d != dim else slice(None)
                                                for d, n in enumerate(index._data.shape)))
        return self.bk.take_along_axis(data, index._data, dim)

    def backward(self, g):
        zeros = g.new_zeros(self.in_shape)
        return (scatter_add(zeros, self.dim, self.index, g),)


def _check_index_shape(op: str, a: Tensor, dim: int, index: Tensor) -> None:
    if index._dtype is not dtypes.int64 and index._dtype._kind != 1:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    if index.ndim != a.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                           f"({index.ndim} vs {a.ndim})")
    for d, (n, m) in enumerate(zip(index.shape, a.shape)):
        if d != dim and n > m:
            raise RuntimeError(f"{op}(): Size does not match at dimension {d} expected index {list(index.shape)} to "
                               f"be smaller than self {list(a.shape)} apart from dimension {dim}")
    _check_range(index, a.shape[dim], dim)


def gather(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = a[index[i][j]][j] for dim 0 (and likewise for other dims)."""
    check_tensor(a, "gather")
    check_tensor(index, "gather", "index", 3)
    d = _dim(dim, a.ndim, "gather")
    check_same_device("gather", a, index=index)
    _check_index_shape("gather", a, d, index)
    return Gather.apply(a, dim=d, index=index)


class ScatterAdd(Op):
    def forward(self, a, src, dim, index):
        self.dim, self.index = dim, index
        return self.bk.scatter_add(a._data, dim, index._data, src._data)

    def backward(self, g):
        na, ns = self.needs_input_grad
        return (g if na else None, Gather.apply(g, dim=self.dim, index=self.index) if ns else None)


def scatter_add(a: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of `a` with `src` added at `index` along `dim`; duplicate indices accumulate."""
    d = _dim(dim, a.ndim, "scatter_add")
    check_same_device("scatter_add", a, index=index, src=src)
    _check_index_shape("scatter_add", a, d, index)
    if src._dtype is not a._dtype:
        src = ew.cast(src, a._dtype)
    return ScatterAdd.apply(a, src, dim=d, index=index)


def index_select(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of `a` at the 1-D `index` along `dim`."""
    check_tensor(a, "index_select")
    check_tensor(index, "index_select", "index", 3)
    d = _dim(dim, a.ndim, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return getitem(a, (slice(None),) * d + (index.reshape(-1),))


def masked_fill(a: Tensor, mask: Tensor, value) -> Tensor:
    """`value` where the bool `mask` (broadcast) is True, else `a`."""
    check_tensor(a, "masked_fill")
    check_tensor(mask, "masked_fill", "mask", 2)
    if mask._dtype is not dtypes.bool:
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = ew.cast(value, a._dtype)
    return ew.where(mask, value, a)


def nonzero(a: Tensor, *, as_tuple: bool = False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one tensor per dim."""
    check_tensor(a, "nonzero")
    coords = _wrap(a._bk.nonzero(a._data), a._bk, a._device)
    if as_tuple:
        if a.ndim == 0:  # PyTorch reads a 0-d tensor as a one-element vector here
            return (nonzero(a.reshape(1))[:, 0],)
        return tuple(coords[:, i] for i in range(a.ndim))
    return coords
