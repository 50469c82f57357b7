"""In-place ops (`add_`, `mul_`, ..., `t[k] = v`).

Without autograd they write through the backend's `out=`. When the graph must see them, the
op runs out of place on an alias of the old value, the result is copied into the tensor's
memory, and the tensor takes the new graph node; its version counter goes up, so a backward
that saved the old value raises instead of using the changed one. On a view, the view's base
takes a `CopySlices` node instead (see `ember.autograd.views`).
"""
from __future__ import annotations

from .. import dtypes
from ..autograd.grad_mode import no_grad, state as _grad_state
from ..autograd.node import Op, broadcast_mismatch
from ..autograd.views import check_view_inplace
from .._tensor_base import Tensor, _wrap
from ..random import generator_for
from . import elementwise as ew


def check_inplace(t: Tensor) -> None:
    """In-place on a leaf that requires grad is an error while grad is enabled (PyTorch's rule)."""
    if t._rg and t._grad_fn is None and _grad_state.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if t._copy_of_view is not None:
        raise RuntimeError(f"{t._copy_of_view}() returns a copy in ember where PyTorch returns a view, so an in-place "
                           f"change of its result would not reach the input; change a clone() instead, or write "
                           f"the input through indexing")
    if t._base is not None:
        check_view_inplace(t)
        if not t._bk.views_share_memory:
            from ember.backends.base import ViewsNotSupportedError

            raise ViewsNotSupportedError(f"the {t._bk.name} backend's views are copies, so an in-place op on a view "
                                         f"would not reach its base; change the base through indexing instead")


def alias(t: Tensor) -> Tensor:
    """A second tensor object for `t`'s current value and graph position (same memory and version)."""
    a = _wrap(t._data, t._bk, t._device)
    a._version = t._version
    a._rg = t._rg
    a._grad_fn = t._grad_fn
    a._output_nr = t._output_nr
    return a


def _snapshot_if_saved(a: Tensor, result: Tensor) -> None:
    """Give alias `a` its own copy of the old value when `result`'s node saved it (PyTorch's original self)."""
    node = result._grad_fn
    saved = node._saved if node is not None else None
    if saved and any(s is a for s in saved):
        a._data = a._bk.copy(a._data)
        a._version = [a._version[0]]


def assign_(t: Tensor, result: Tensor, old: Tensor | None = None) -> Tensor:
    """Write `result` into `t`'s memory and make `t` take `result`'s place in the graph (`old`: the alias
    of `t` that `result` was computed from, copied first if `result`'s node saved it)."""
    check_inplace(t)
    if result.shape != t.shape:
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast shape {list(result.shape)}")
    if result._dtype is not t._dtype and not dtypes.can_cast(result._dtype, t._dtype):
        raise RuntimeError(f"result type {result.dtype.name} can't be cast to the desired output type {t.dtype.name}")
    if old is not None:
        _snapshot_if_saved(old, result)
    t._bk.copy_(t._data, result._data)
    t._version[0] += 1
    if result._rg and _grad_state.enabled:
        out = result._grad_fn._out
        if out is not None and out[3] is result._version:  # an op that saved its output saved `t` (PyTorch)
            result._grad_fn._out = out[:3] + (t._version, t._version[0])
        if result._dtype is not t._dtype:
            result = ew.Cast.apply(result, dtype=t._dtype)
        if t._base is not None:
            rebase(t, result)
            return t
        t._grad_fn, t._output_nr, t._rg = result._grad_fn, result._output_nr, True
        if t._views:
            refresh_views(t)
    return t


def _needs_graph(t: Tensor, other) -> bool:
    return _grad_state.enabled and (t._rg or (isinstance(other, Tensor) and other._rg))


def binary_(t: Tensor, other, prim: str, op) -> Tensor:
    """`t = op(t, other)` in place, through `backend.<prim>(..., out=)` when no graph is needed."""
    check_inplace(t)
    if _needs_graph(t, other):
        a = alias(t)
        return assign_(t, op(a, other), a)
    if isinstance(other, Tensor):
        if other._device is not t._device:
            raise ew._device_error(prim + "_", t, other)
        if not dtypes.can_cast(dtypes.result_type(t, other), t._dtype):
            raise RuntimeError(f"result type {dtypes.result_type(t, other).name} can't be cast to the desired "
                               f"output type {t.dtype.name}")
        o = other._data
    else:
        k = dtypes.scalar_kind(other)
        if k > t._dtype._kind:
            raise RuntimeError(f"result type {'Float' if isinstance(other, float) else 'Long'} can't be cast to "
                               f"the desired output type {t.dtype.name}")
        o = ew._int_operand(other, t._dtype, prim + "_") if k == 1 and t._dtype._kind == 1 else other
    try:
        getattr(t._bk, prim)(t._data, o, out=t._data)
    except (ValueError, TypeError) as exc:
        raise _inplace_error(prim + "_", t, other, exc) from exc
    t._version[0] += 1
    return t


def _inplace_error(op: str, t: Tensor, other, exc: Exception) -> RuntimeError:
    """PyTorch's error for an in-place binary op the backend rejected: the shapes do not broadcast, or their
    broadcast shape is not `t`'s."""
    if isinstance(other, Tensor):
        mismatch = broadcast_mismatch((t._data.shape, other._data.shape))
        if mismatch:
            return RuntimeError(f"{op}: {mismatch} (self {list(t.shape)}, other {list(other.shape)})")
        n = max(t.ndim, other.ndim)
        a, b = (1,) * (n - t.ndim) + t._data.shape, (1,) * (n - other.ndim) + other._data.shape
        shape = [x if y == 1 else y for x, y in zip(a, b)]
        if shape != list(t._data.shape):
            return RuntimeError(f"{op}: output with shape {list(t.shape)} doesn't match the broadcast shape {shape}")
    return RuntimeError(f"{op}: {exc} (self {list(t.shape)}, other "
                        f"{list(other.shape) if isinstance(other, Tensor) else 'scalar'})")


def unary_(t: Tensor, prim: str, op) -> Tensor:
    """`t = op(t)` in place."""
    check_inplace(t)
    if _needs_graph(t, None):
        a = alias(t)
        return assign_(t, op(a), a)
    getattr(t._bk, prim)(t._data, out=t._data)
    t._version[0] += 1
    return t


def add_(t: Tensor, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = other * alpha
    return binary_(t, other, "add", ew.add)


def sub_(t: Tensor, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = other * alpha
    return binary_(t, other, "sub", ew.sub)


def mul_(t: Tensor, other) -> Tensor:
    return binary_(t, other, "mul", ew.mul)


def div_(t: Tensor, other) -> Tensor:
    if not t._dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {t.dtype.name}")
    return binary_(t, other, "div", ew.div)


def pow_(t: Tensor, other) -> Tensor:
    return binary_(t, other, "pow", ew.pow)


def addcmul_(t: Tensor, t1: Tensor, t2: Tensor, value=1) -> Tensor:
    """t += value * t1 * t2."""
    prod = ew.mul(t1, t2)
    return add_(t, prod if value == 1 else ew.mul(prod, value))


def addcdiv_(t: Tensor, t1: Tensor, t2: Tensor, value=1) -> Tensor:
    """t += value * t1 / t2."""
    q = ew.div(t1, t2)
    return add_(t, q if value == 1 else ew.mul(q, value))


def lerp_(t: Tensor, end: Tensor, weight) -> Tensor:
    """t += weight * (end - t)."""
    return add_(t, ew.mul(ew.sub(end, t), weight))


def clamp_(t: Tensor, min=None, max=None) -> Tensor:
    check_inplace(t)
    if isinstance(min, Tensor) or isinstance(max, Tensor) or _needs_graph(t, None):
        a = alias(t)
        return assign_(t, ew.clamp(a, min, max), a)
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    t._bk.clip(t._data, min, max, out=t._data)
    t._version[0] += 1
    return t


def _replaced(t: Tensor, value) -> Tensor:
    """`value` broadcast to `t`'s shape, recorded as replacing `t` (whose old value gets zero gradient)."""
    everywhere = _wrap(t._bk.full(t.shape, True, dtypes.bool), t._bk, t._device)
    return ew.where(everywhere, value, alias(t))


def fill_(t: Tensor, value) -> Tensor:
    """Fill with a number (or a 0-d tensor)."""
    check_inplace(t)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
        if _needs_graph(t, value):
            return assign_(t, _replaced(t, ew.cast(value, t._dtype)))
        value = value.item()
    if t._dtype._kind == 1:
        value = dtypes.stored_int(value, t._dtype, "fill_")
    if _needs_graph(t, None):
        return assign_(t, _replaced(t, value))
    t._bk.copy_(t._data, value)
    t._version[0] += 1
    return t


def copy_(t: Tensor, src: Tensor) -> Tensor:
    """Copy `src` (broadcast, cast, moved across devices) into `t`."""
    check_inplace(t)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src._device is not t._device:
        src = src.to(t._device)
    if _needs_graph(t, src):
        return assign_(t, _replaced(t, ew.cast(src, t._dtype)))
    try:
        t._bk.copy_(t._data, src._data)
    except ValueError as exc:
        raise RuntimeError(f"copy_: the size of src {list(src.shape)} does not broadcast to {list(t.shape)}") from exc
    t._version[0] += 1
    return t


def _random_fill_(t: Tensor, data) -> Tensor:
    check_inplace(t)
    t._bk.copy_(t._data, data)
    t._version[0] += 1
    return t


def uniform_(t: Tensor, a=0.0, b=1.0, generator=None) -> Tensor:
    """Fill with samples from U[a, b)."""
    gen = generator_for(t.device, generator)
    return _random_fill_(t, t._bk.uniform(gen.native, t.shape, a, b, t._dtype))


def normal_(t: Tensor, mean=0.0, std=1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std**2)."""
    gen = generator_for(t.device, generator)
    return _random_fill_(t, t._bk.normal(gen.native, t.shape, mean, std, t._dtype))


def bernoulli_(t: Tensor, p=0.5, generator=None) -> Tensor:
    """Fill with 1 with probability p, else 0."""
    gen = generator_for(t.device, generator)
    bk = t._bk
    u = bk.uniform(gen.native, t.shape, 0.0, 1.0, dtypes.float64 if t._dtype is dtypes.float64 else dtypes.float32)
    return _random_fill_(t, bk.less(u, p._data if isinstance(p, Tensor) else p))


def random_(t: Tensor, from_=0, to=None, generator=None) -> Tensor:
    """Fill with integers uniform in [from, to) (to defaults to 2**24 for floats, the dtype's max otherwise)."""
    if to is None:
        to = 2 ** 24 if t._dtype.is_floating_point else 2 ** (8 * t._dtype.itemsize - (1 if t._dtype.is_signed else 0))
    gen = generator_for(t.device, generator)
    return _random_fill_(t, t._bk.randint(gen.native, from_, to, t.shape, dtypes.int64))


def exponential_(t: Tensor, lambd=1.0, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution with rate `lambd`."""
    gen = generator_for(t.device, generator)
    bk = t._bk
    u = bk.uniform(gen.native, t.shape, 0.0, 1.0, t._dtype)
    return _random_fill_(t, bk.div(bk.neg(bk.log1p(bk.neg(u))), lambd))


class CopySlices(Op):
    """The base after an in-place op on one of its views: `base` with `view_fn(base)` replaced by `value`."""

    def forward(self, base, value, view_fn):
        self.view_fn = view_fn
        self.shape = base._data.shape
        return base._data

    def name(self) -> str:
        return "CopySlices"

    def backward(self, g):
        nb, nv = self.needs_input_grad
        gb = None
        if nb:
            bk = g._bk
            mask = _wrap(bk.full(self.shape, False, dtypes.bool), bk, g._device)
            with no_grad():
                region = self.view_fn(mask)
            bk.copy_(region._data, True)
            gb = ew.where(mask, 0.0, g)
        return gb, (self.view_fn(g) if nv else None)


def refresh_views(root) -> None:
    """Give every live view of `root` created with grad enabled its node on `root`'s current history."""
    views = root._views
    if not views or not root._rg:
        return
    for ref in list(views.values()):
        v = ref()
        if v is None or v._view_no_grad:
            continue
        r = v._view_fn(alias(root))
        v._grad_fn, v._output_nr, v._rg = r._grad_fn, r._output_nr, True


def rebase(view, value) -> None:
    """Make `view`'s base record that the view's region now holds `value` (already written)."""
    root = view._base
    new = CopySlices.apply(alias(root), value, view_fn=view._view_fn)
    root._grad_fn, root._output_nr, root._rg = new._grad_fn, 0, True
    if root._views is None:
        root._views = {}
    refresh_views(root)
    if id(view) not in root._views:
        r = view._view_fn(alias(root))
        view._grad_fn, view._output_nr, view._rg = r._grad_fn, r._output_nr, True
