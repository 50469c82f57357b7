"""Reductions over one, several or all dims (`dim=None`), with `keepdim` as in PyTorch."""
from __future__ import annotations

import builtins
from collections import namedtuple

from .. import dtypes
from ..arguments import check_tensor, not_tensor
from ..autograd.node import Op
from .._tensor_base import Tensor, _dim, _wrap
from .out import write_out
from . import elementwise as ew
from .indexing import gather
from .shape import dims_tuple, expand, flip, narrow, reshape

values_indices = namedtuple("values_indices", ["values", "indices"])


def _axes(dim, ndim: int, op: str):
    """None for all dims, else a tuple of non-negative dims (an empty tuple also means all)."""
    if dim is None:
        return None
    axes = dims_tuple(dim, ndim, op)
    return axes or None


def _kept_shape(shape: tuple, axes) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape: tuple, axes) -> int:
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def _grad_to_input(g: Tensor, in_shape: tuple, axes, keepdim: bool) -> Tensor:
    """Reshape a reduction's gradient to keepdim form and broadcast it over the input's shape."""
    if not keepdim:
        g = reshape(g, _kept_shape(in_shape, axes))
    return expand(g, in_shape)


def _grad_to_input_array(bk, g, in_shape: tuple, axes, keepdim: bool):
    """`_grad_to_input` on a native array (a broadcast view)."""
    if not keepdim:
        g = bk.reshape(g, _kept_shape(in_shape, axes))
    return bk.broadcast_to(g, in_shape)


class Sum(Op):
    def forward(self, a, axes, keepdim, dtype):
        self.in_shape, self.axes, self.keepdim, self.in_dtype = a._data.shape, axes, keepdim, a._dtype
        return self.bk.sum(a._data, axes, keepdim, dtype)

    def backward(self, g):
        return (_grad_to_input(ew.cast(g, self.in_dtype), self.in_shape, self.axes, self.keepdim),)

    def backward_arrays(self, g):
        bk = self.bk
        if bk.dtype_of(g) is not self.in_dtype:
            g = bk.astype(g, self.in_dtype)
        return (_grad_to_input_array(bk, g, self.in_shape, self.axes, self.keepdim),)


def sum(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None) -> Tensor:
    """Sum over `dim` (all dims when None); integers and bools sum to int64."""
    if out is not None:
        return write_out("sum", sum(a, dim, keepdim, dtype=dtype), out)
    if not isinstance(a, Tensor):
        raise not_tensor(a, "sum")
    if dtype is None and not a._dtype.is_floating_point:
        dtype = dtypes.int64
    elif dtype is a._dtype:
        dtype = None
    return Sum.apply(a, axes=_axes(dim, a.ndim, "sum"), keepdim=keepdim, dtype=dtype)


class Mean(Op):
    keeps_dtype = True

    def forward(self, a, axes, keepdim):
        self.in_shape, self.axes, self.keepdim = a._data.shape, axes, keepdim
        self.n = _count(self.in_shape, axes)
        return self.bk.div(self.bk.sum(a._data, axes, keepdim), self.n)

    def backward(self, g):
        return (_grad_to_input(g / self.n, self.in_shape, self.axes, self.keepdim),)

    def backward_arrays(self, g):
        return (_grad_to_input_array(self.bk, self.bk.div(g, self.n), self.in_shape, self.axes, self.keepdim),)


def mean(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over `dim` (all dims when None) of a floating-point tensor."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "mean")
    if dtype is not None:
        a = ew.cast(a, dtype)
    if not a._dtype.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {a.dtype.name}")
    return Mean.apply(a, axes=_axes(dim, a.ndim, "mean"), keepdim=keepdim)


class Prod(Op):
    save_output = True

    def forward(self, a, axes, keepdim):
        self.in_shape, self.axes, self.keepdim = a._data.shape, axes, keepdim
        self.save_for_backward(a)
        return self.bk.prod(a._data, axes, keepdim)

    def backward(self, g):
        (a,) = self.saved_tensors
        axes = self.axes if self.axes is not None else tuple(range(a.ndim))
        zero = a == 0
        n_zero = sum(zero, axes, keepdim=True)
        prod_nonzero = prod(ew.where(zero, 1.0, a), axes, keepdim=True)
        grad = ew.where(n_zero == 0, prod_nonzero / ew.where(zero, 1.0, a),
                        ew.where(zero & (n_zero == 1), prod_nonzero, 0.0))
        return (_grad_to_input(g, self.in_shape, self.axes, self.keepdim) * grad,)


def prod(a: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over `dim` (all dims when None); correct gradients with zeros in the input."""
    check_tensor(a, "prod")
    if dtype is not None:
        a = ew.cast(a, dtype)
    elif not a._dtype.is_floating_point:
        a = ew.cast(a, dtypes.int64)
    return Prod.apply(a, axes=_axes(dim, a.ndim, "prod"), keepdim=keepdim)


class AMax(Op):
    save_output = True
    reduce = "max"

    def forward(self, a, axes, keepdim):
        self.in_shape, self.axes, self.keepdim = a._data.shape, axes, keepdim
        self.save_for_backward(a)
        return getattr(self.bk, self.reduce)(a._data, axes, keepdim)

    def backward(self, g):
        (a,) = self.saved_tensors
        out = _grad_to_input(self.saved_output(), self.in_shape, self.axes, self.keepdim)
        mask = a == out
        axes = self.axes if self.axes is not None else tuple(range(a.ndim))
        count = sum(mask, axes, keepdim=True)
        return (ew.where(mask, _grad_to_input(g, self.in_shape, self.axes, self.keepdim) / count, 0.0),)


class AMin(AMax):
    reduce = "min"


def _check_nonempty(a: Tensor, axes, op: str) -> None:
    if a.numel() == 0 and (axes is None or builtins.any(a.shape[d] == 0 for d in axes)):
        raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                         f"reduction dim with the 'dim' argument.")


def amax(a: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over `dim` (all dims for ()); the gradient is split evenly among ties."""
    check_tensor(a, "amax")
    axes = _axes(dim, a.ndim, "amax")
    _check_nonempty(a, axes, "amax")
    return AMax.apply(a, axes=axes, keepdim=keepdim)


def amin(a: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over `dim` (all dims for ()); the gradient is split evenly among ties."""
    check_tensor(a, "amin")
    axes = _axes(dim, a.ndim, "amin")
    _check_nonempty(a, axes, "amin")
    return AMin.apply(a, axes=axes, keepdim=keepdim)


def _arg(a: Tensor, dim, keepdim: bool, prim: str) -> Tensor:
    if dim is None:
        _check_nonempty(a, None, prim)
        data = getattr(a._bk, prim)(a._bk.reshape(a._data, (-1,)), 0, False)
        if keepdim:
            data = a._bk.reshape(data, (1,) * a.ndim)
        return _wrap(data, a._bk, a._device)
    d = _dim(dim, a.ndim, prim)
    _check_nonempty(a, (d,), prim)
    return _wrap(getattr(a._bk, prim)(a._data, d if a.ndim else None, keepdim), a._bk, a._device)


def argmax(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum along `dim` (of the flattened tensor when None)."""
    check_tensor(a, "argmax")
    return _arg(a, dim, keepdim, "argmax")


def argmin(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum along `dim` (of the flattened tensor when None)."""
    check_tensor(a, "argmin")
    return _arg(a, dim, keepdim, "argmin")


def _extreme(a: Tensor, dim, keepdim: bool, which: str):
    if dim is None:
        return amax(a) if which == "max" else amin(a)
    if isinstance(dim, Tensor):
        raise TypeError(f"{which}(): use ember.maximum/minimum for two tensors")
    d = _dim(dim, a.ndim, which)
    idx = _arg(a, d, True, "arg" + which)
    values = gather(a, d, idx) if a.ndim else a
    if not keepdim and a.ndim:
        values = values.squeeze(d)
        idx = idx.squeeze(d)
    return values_indices(values, idx)


def max(a: Tensor, dim=None, keepdim: bool = False):
    """The maximum of all elements, or (values, indices) along `dim`."""
    check_tensor(a, "max")
    return _extreme(a, dim, keepdim, "max")


def min(a: Tensor, dim=None, keepdim: bool = False):
    """The minimum of all elements, or (values, indices) along `dim`."""
    check_tensor(a, "min")
    return _extreme(a, dim, keepdim, "min")


def _correction(unbiased, correction) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(a: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over `dim` with Bessel's correction by default (`correction=1`)."""
    check_tensor(a, "var")
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    axes = _axes(dim, a.ndim, "var")
    n = _count(a.shape, axes)
    centered = a - mean(a, axes, keepdim=True)
    return sum(centered * centered, axes, keepdim) / (n - _correction(unbiased, correction))


def std(a: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: sqrt of `var` with the same arguments."""
    check_tensor(a, "std")
    return ew.sqrt(var(a, dim, unbiased, keepdim, correction=correction))


def logsumexp(a: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) over `dim`, computed stably."""
    check_tensor(a, "logsumexp")
    axes = _axes(dim, a.ndim, "logsumexp")
    if not a._dtype.is_floating_point:
        a = ew.cast(a, dtypes.get_default_dtype())
    m = amax(a.detach(), axes if axes is not None else (), keepdim=True)
    m = ew.where(ew.isinf(m), 0.0, m)
    out = ew.log(sum(ew.exp(a - m), axes, keepdim=True)) + m
    return out if keepdim else reshape(out, tuple(s for i, s in enumerate(out.shape)
                                                  if not (axes is None or i in axes)))


class Norm2(Op):
    save_output = True

    def forward(self, a, axes, keepdim):
        self.in_shape, self.axes, self.keepdim = a._data.shape, axes, keepdim
        self.save_for_backward(a)
        bk = self.bk
        return bk.sqrt(bk.sum(bk.mul(a._data, a._data), axes, keepdim))

    def backward(self, g):
        (a,) = self.saved_tensors
        out = _grad_to_input(self.saved_output(), self.in_shape, self.axes, self.keepdim)
        g = _grad_to_input(g, self.in_shape, self.axes, self.keepdim)
        return (ew.where(out == 0, 0.0, g * a / ew.where(out == 0, 1.0, out)),)


def norm(a: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all elements when None); p may be a number, inf or "fro"."""
    check_tensor(a, "norm")
    axes = _axes(dim, a.ndim, "norm")
    if p in (2, 2.0, "fro"):
        return Norm2.apply(a, axes=axes, keepdim=keepdim)
    if p == float("inf"):
        return amax(ew.abs(a), axes or (), keepdim)
    if p == float("-inf"):
        return amin(ew.abs(a), axes or (), keepdim)
    if p == 1:
        return sum(ew.abs(a), axes, keepdim)
    if p == 0:
        return sum(ew.cast(a != 0, a.dtype), axes, keepdim)
    return sum(ew.abs(a) ** p, axes, keepdim) ** (1.0 / p)


def all(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element along `dim` is nonzero."""
    check_tensor(a, "all")
    return _wrap(a._bk.all(a._data, _axes(dim, a.ndim, "all"), keepdim), a._bk, a._device)


def any(a: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element along `dim` is nonzero."""
    check_tensor(a, "any")
    return _wrap(a._bk.any(a._data, _axes(dim, a.ndim, "any"), keepdim), a._bk, a._device)


class Cumsum(Op):
    def forward(self, a, dim):
        self.dim = dim
        return self.bk.cumsum(a._data, dim)

    def backward(self, g):
        return (flip(cumsum(flip(g, (self.dim,)), self.dim), (self.dim,)),)


def cumsum(a: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along `dim`; integers accumulate in int64."""
    check_tensor(a, "cumsum")
    if dtype is not None:
        a = ew.cast(a, dtype)
    elif not a._dtype.is_floating_point:
        a = ew.cast(a, dtypes.int64)
    return Cumsum.apply(a, dim=_dim(dim, a.ndim, "cumsum"))


def sort(a: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) sorted along `dim`; gradients flow to the values' original places. The sort is
    always stable (equal values keep their order), so `stable` changes nothing; NaN sorts as the largest."""
    check_tensor(a, "sort")
    d = _dim(dim, a.ndim, "sort")
    if not a.ndim:
        return values_indices(a, a.new_zeros((), dtype=dtypes.int64))
    _, idx = a._bk.sort(a._data, d, descending)
    indices = _wrap(idx, a._bk, a._device)
    return values_indices(gather(a, d, indices), indices)


def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The `k` largest (or smallest) elements along `dim`, as (values, indices)."""
    check_tensor(a, "topk")
    d = _dim(dim, a.ndim, "topk")
    if not 0 <= k <= (a.shape[d] if a.ndim else 1):
        raise RuntimeError(f"topk: selected index k={k} out of range for dimension of size {a.shape[d]}")
    values, indices = sort(a, d, descending=largest)
    return values_indices(narrow(values, d, 0, k), narrow(indices, d, 0, k))
