"""Elementwise ops: each differentiable one is a small `Op` with forward and backward side by side.

Binary ops take a tensor and a tensor or Python number. Promotion (PyTorch's rules, Python
numbers "weak") and the device check happen in `_operands`, before the backend is called.
"""
from __future__ import annotations

import builtins
import math

from .. import creation, dtypes
from ..arguments import not_tensor
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import Op, broadcast_mismatch
from .._tensor_base import Tensor, _wrap
from .out import write_out

_INT64 = dtypes.int64
_PY_SCALARS = (int, float, bool)


def _device_error(op: str, a: Tensor, b: Tensor) -> RuntimeError:
    return RuntimeError(f"{op}: expected all tensors to be on the same device, but found tensors on "
                        f"{a.device} and {b.device}; move one with .to({str(a.device)!r})")


def _operands(a: Tensor, b, op: str):
    """(a, b) cast to their common dtype; `b` stays a Python number when it is one."""
    if isinstance(b, Tensor):
        if a._device is not b._device:
            raise _device_error(op, a, b)
        if a._dtype is not b._dtype:
            dt = dtypes.result_type(a, b)
            if a._dtype is not dt:
                a = cast(a, dt)
            if b._dtype is not dt:
                b = cast(b, dt)
        return a, b
    if (b.__class__ is float or b.__class__ is int) and a._dtype._kind == 2:
        return a, b  # the common case: a Python number never changes a floating tensor's dtype
    if b.__class__ not in _PY_SCALARS and getattr(b, "ndim", None) == 0 and hasattr(b, "item"):
        b = b.item()  # a numpy scalar or 0-d array: treated as the Python number it holds (weak)
    try:
        k = dtypes.scalar_kind(b)
    except TypeError:
        raise TypeError(f"{op}(): argument 'other' (position 2) must be Tensor or Number, not "
                        f"{type(b).__name__}") from None
    if k > a._dtype._kind:
        a = cast(a, dtypes.get_default_dtype() if k == 2 else _INT64)
    if k == 1 and a._dtype._kind == 1:
        b = _int_operand(b, a._dtype, op)
    return a, b


def _int_operand(b: int, dt: dtypes.dtype, op: str) -> int:
    """The int operand of an integer op, wrapped into `dt`'s range as PyTorch does (`int8 + 300` adds 44)."""
    lo, hi = dtypes.int_bounds(dt)
    if lo <= b <= hi:
        return b
    if not -(1 << 63) <= b < 1 << 64:
        raise OverflowError(f"{op}: the Python int {b} does not fit in 64 bits")
    return dtypes.wrap(b, dt)


def _check_divisor(a: Tensor, b, op: str) -> None:
    """PyTorch's `RuntimeError: ZeroDivisionError` for integer division by zero (numpy would warn and give 0).

    `a` and `b` are operands after `_operands`: the check applies when their common dtype is not floating.
    """
    if a._dtype.is_floating_point or not a.numel():
        return
    if bool(b == 0) if not isinstance(b, Tensor) else bool(eq(b, 0).any()):
        raise RuntimeError(f"ZeroDivisionError: {op}: integer division by zero (dtype {a.dtype.name}); "
                           "divide floating-point tensors to get inf or nan instead")


def as_operand(value, like: Tensor) -> Tensor:
    """`value` as a tensor on `like`'s device (for reflected operators such as `2 // t`)."""
    if isinstance(value, Tensor):
        return value
    return creation.tensor(value, device=like.device)


def _float_operands(a: Tensor, b, op: str):
    """As `_operands`, then integers and bools become the default float dtype (true division)."""
    a, b = _operands(a, b, op)
    if not a._dtype.is_floating_point:
        dt = dtypes.get_default_dtype()
        a = cast(a, dt)
        if isinstance(b, Tensor):
            b = cast(b, dt)
    return a, b


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum `g` down to `shape` (the inverse of broadcasting), as in every binary backward."""
    return g if g._data.shape == shape else g.sum_to_size(shape)


def unbroadcast_array(bk, g, shape: tuple):
    """`unbroadcast` on a native array: `g` summed down to the shape it was broadcast from."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    return bk.reshape(bk.sum(g, axes, True) if axes else g, shape)


# ---- casting -------------------------------------------------------------------------------
class Cast(Op):
    def forward(self, a, dtype):
        self.src = a._dtype
        return self.bk.astype(a._data, dtype)

    def backward(self, g):
        return (cast(g, self.src),)


def cast(a: Tensor, dtype) -> Tensor:
    """`a` converted to `dtype` (differentiable between floating dtypes)."""
    if a._dtype is dtype:
        return a
    a._bk.check_dtype(dtype)
    if not dtype.is_floating_point and _grad_state.enabled and a._rg:
        return _wrap(a._bk.astype(a._data, dtype), a._bk, a._device)
    return Cast.apply(a, dtype=dtype)


# ---- binary tensor-tensor ops --------------------------------------------------------------
class Add(Op):
    keeps_dtype = True

    def forward(self, a, b):
        if self.needs_input_grad:
            self.shapes = (a._data.shape, b._data.shape)
        return self.bk.add(a._data, b._data)

    def backward(self, g):
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        return (unbroadcast(g, sa) if na else None, unbroadcast(g, sb) if nb else None)

    def backward_arrays(self, g):
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        shape = g.shape
        return ((g if shape == sa else unbroadcast_array(self.bk, g, sa)) if na else None,
                (g if shape == sb else unbroadcast_array(self.bk, g, sb)) if nb else None)


class Sub(Op):
    keeps_dtype = True

    def forward(self, a, b):
        if self.needs_input_grad:
            self.shapes = (a._data.shape, b._data.shape)
        return self.bk.sub(a._data, b._data)

    def backward(self, g):
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        return (unbroadcast(g, sa) if na else None, unbroadcast(-g, sb) if nb else None)

    def backward_arrays(self, g):
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        bk = self.bk
        return (unbroadcast_array(bk, g, sa) if na else None, unbroadcast_array(bk, bk.neg(g), sb) if nb else None)


class Mul(Op):
    keeps_dtype = True

    def forward(self, a, b):
        if self.needs_input_grad:
            na, nb = self.needs_input_grad
            self.shapes = (a._data.shape, b._data.shape)
            self.save_for_backward(a if nb else None, b if na else None)
        return self.bk.mul(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        return (unbroadcast(g * b, sa) if na else None, unbroadcast(g * a, sb) if nb else None)

    def backward_arrays(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        bk = self.bk
        ga = gb = None
        if na:
            ga = bk.mul(g, b._data)
            if ga.shape != sa:
                ga = unbroadcast_array(bk, ga, sa)
        if nb:
            gb = bk.mul(g, a._data)
            if gb.shape != sb:
                gb = unbroadcast_array(bk, gb, sb)
        return ga, gb


class Div(Op):
    keeps_dtype = True

    def forward(self, a, b):
        if self.needs_input_grad:
            self.shapes = (a._data.shape, b._data.shape)
            self.save_for_backward(a if self.needs_input_grad[1] else None, b)
        return self.bk.div(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        return (unbroadcast(g / b, sa) if na else None,
                unbroadcast(-g * a / (b * b), sb) if nb else None)

    def backward_arrays(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        bk, bd = self.bk, b._data
        return (unbroadcast_array(bk, bk.div(g, bd), sa) if na else None,
                unbroadcast_array(bk, bk.div(bk.mul(bk.neg(g), a._data), bk.mul(bd, bd)), sb) if nb else None)


class Pow(Op):
    save_output = True

    def forward(self, a, b):
        self.shapes = (a._data.shape, b._data.shape)
        self.save_for_backward(a, b)
        return self.bk.pow(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        ga = gb = None
        if na:
            ga = unbroadcast(g * b * a ** (b - 1), sa)
        if nb:
            log_a = where((a == 0) & (b >= 0), 0.0, log(a))
            gb = unbroadcast(g * self.saved_output() * log_a, sb)
        return ga, gb


class Maximum(Op):
    def forward(self, a, b):
        self.shapes = (a._data.shape, b._data.shape)
        self.save_for_backward(a, b)
        return self.bk.maximum(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        return _split_ties(g, a > b, a == b, self.needs_input_grad, self.shapes)


class Minimum(Op):
    def forward(self, a, b):
        self.shapes = (a._data.shape, b._data.shape)
        self.save_for_backward(a, b)
        return self.bk.minimum(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        return _split_ties(g, a < b, a == b, self.needs_input_grad, self.shapes)


def _split_ties(g, a_wins, tie, needs, shapes):
    """Gradient of max/min: to the winner, split evenly on ties (PyTorch's rule)."""
    half = g * 0.5
    ga = where(a_wins, g, where(tie, half, 0.0))
    gb = where(a_wins, 0.0, where(tie, half, g))
    return (unbroadcast(ga, shapes[0]) if needs[0] else None, unbroadcast(gb, shapes[1]) if needs[1] else None)


# ---- binary ops with a Python number -------------------------------------------------------
class AddScalar(Op):
    op_name = "Add"
    keeps_dtype = True

    def forward(self, a, s):
        return self.bk.add(a._data, s)

    def backward(self, g):
        return (g,)

    def backward_arrays(self, g):
        return (g,)


class SubScalar(Op):  # a - s
    op_name = "Sub"
    keeps_dtype = True

    def forward(self, a, s):
        return self.bk.sub(a._data, s)

    def backward(self, g):
        return (g,)

    def backward_arrays(self, g):
        return (g,)


class RSubScalar(Op):  # s - a
    op_name = "Rsub"
    keeps_dtype = True

    def forward(self, a, s):
        return self.bk.sub(s, a._data)

    def backward(self, g):
        return (-g,)


class MulScalar(Op):
    op_name = "Mul"
    keeps_dtype = True

    def forward(self, a, s):
        self.s = s
        return self.bk.mul(a._data, s)

    def backward(self, g):
        return (g * self.s,)

    def backward_arrays(self, g):
        return (self.bk.mul(g, self.s),)


class DivScalar(Op):  # a / s
    op_name = "Div"
    keeps_dtype = True

    def forward(self, a, s):
        self.s = s
        return self.bk.div(a._data, s)

    def backward(self, g):
        return (g / self.s,)

    def backward_arrays(self, g):
        return (self.bk.div(g, self.s),)


class RDivScalar(Op):  # s / a
    op_name = "Div"
    keeps_dtype = True

    save_output = True

    def forward(self, a, s):
        self.save_for_backward(a)
        return self.bk.div(s, a._data)

    def backward(self, g):
        (a,) = self.saved_tensors
        return (-g * self.saved_output() / a,)


class PowScalar(Op):  # a ** s
    op_name = "Pow"
    def forward(self, a, s):
        self.s = s
        self.save_for_backward(a)
        return self.bk.pow(a._data, s)

    def backward(self, g):
        (a,) = self.saved_tensors
        s = self.s
        if s == 0:
            return (g * 0.0,)
        if s == 2:
            return (g * a * 2.0,)
        return (g * s * a ** (s - 1),)


class RPowScalar(Op):  # s ** a
    op_name = "Pow"
    save_output = True

    def forward(self, a, s):
        self.s = s
        return self.bk.pow(s, a._data)

    def backward(self, g):
        s = self.s
        return (g * self.saved_output() * (math.log(s) if s > 0 else float("nan") if s < 0 else 0.0),)


def add(a: Tensor, b, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """a + alpha * b, broadcasting."""
    if out is not None:
        return write_out("add", add(a, b, alpha=alpha), out)
    if not isinstance(a, Tensor):
        raise not_tensor(a, "add")
    if alpha != 1:
        b = b * alpha
    if b.__class__ is Tensor and a._dtype is b._dtype and a._device is b._device:
        return Add.apply(a, b)
    a, b = _operands(a, b, "add")
    return Add.apply(a, b) if isinstance(b, Tensor) else AddScalar.apply(a, s=b)


def sub(a: Tensor, b, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """a - alpha * b, broadcasting."""
    if out is not None:
        return write_out("sub", sub(a, b, alpha=alpha), out)
    if not isinstance(a, Tensor):
        raise not_tensor(a, "sub")
    if a._dtype is dtypes.bool:
        raise RuntimeError("subtraction of bool tensors is not supported; use the ^ operator or logical_xor()")
    if alpha != 1:
        b = b * alpha
    if b.__class__ is Tensor and a._dtype is b._dtype and a._device is b._device:
        return Sub.apply(a, b)
    a, b = _operands(a, b, "sub")
    return Sub.apply(a, b) if isinstance(b, Tensor) else SubScalar.apply(a, s=b)


def rsub(a: Tensor, b) -> Tensor:
    """b - a, for `number - tensor`."""
    a, b = _operands(a, b, "sub")
    return Sub.apply(b, a) if isinstance(b, Tensor) else RSubScalar.apply(a, s=b)


def mul(a: Tensor, b, *, out: Tensor | None = None) -> Tensor:
    """a * b, broadcasting."""
    if out is not None:
        return write_out("mul", mul(a, b), out)
    if not isinstance(a, Tensor):
        raise not_tensor(a, "mul")
    if b.__class__ is Tensor and a._dtype is b._dtype and a._device is b._device:
        return Mul.apply(a, b)
    a, b = _operands(a, b, "mul")
    return Mul.apply(a, b) if isinstance(b, Tensor) else MulScalar.apply(a, s=b)


def div(a: Tensor, b, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """a / b; integers divide to the default float dtype. rounding_mode "trunc" or "floor" rounds (integer
    division by zero then raises, as in PyTorch)."""
    if out is not None:
        return write_out("div", div(a, b, rounding_mode=rounding_mode), out)
    if not isinstance(a, Tensor):
        raise not_tensor(a, "div")
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(a, b)
        if rounding_mode == "trunc":
            _check_divisor(*_operands(a, b, "div"), "div")
            q = div(a, b)
            return trunc(q) if a.dtype.is_floating_point else cast(trunc(q), dtypes.result_type(a, b))
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}")
    a, b = _float_operands(a, b, "div")
    return Div.apply(a, b) if isinstance(b, Tensor) else DivScalar.apply(a, s=b)


def rdiv(a: Tensor, b) -> Tensor:
    """b / a, for `number / tensor`."""
    a, b = _float_operands(a, b, "div")
    return Div.apply(b, a) if isinstance(b, Tensor) else RDivScalar.apply(a, s=b)


def pow(a: Tensor, b) -> Tensor:
    """a ** b."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "pow")
    a, b = _operands(a, b, "pow")
    return Pow.apply(a, b) if isinstance(b, Tensor) else PowScalar.apply(a, s=b)


def rpow(a: Tensor, b) -> Tensor:
    """b ** a, for `number ** tensor`."""
    a, b = _operands(a, b, "pow")
    return Pow.apply(b, a) if isinstance(b, Tensor) else RPowScalar.apply(a, s=b)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise maximum of two tensors; the gradient is split evenly on ties."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "maximum")
    if not isinstance(b, Tensor):
        raise not_tensor(b, "maximum", "other", 2)
    return Maximum.apply(*_operands(a, b, "maximum"))


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise minimum of two tensors; the gradient is split evenly on ties."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "minimum")
    if not isinstance(b, Tensor):
        raise not_tensor(b, "minimum", "other", 2)
    return Minimum.apply(*_operands(a, b, "minimum"))


def _no_grad_binary(prim: str, op: str):
    def fn(a: Tensor, b) -> Tensor:
        if not isinstance(a, Tensor):
            raise not_tensor(a, op)
        a, b = _operands(a, b, op)
        try:
            data = getattr(a._bk, prim)(a._data, b._data if isinstance(b, Tensor) else b)
        except (ValueError, TypeError) as exc:
            mismatch = isinstance(b, Tensor) and broadcast_mismatch((a._data.shape, b._data.shape))
            raise RuntimeError(f"{op}: {mismatch or exc} (shapes {tuple(a.shape)} and "
                               f"{tuple(b.shape) if isinstance(b, Tensor) else 'scalar'})") from exc
        return _wrap(data, a._bk, a._device)
    fn.__name__ = op
    fn.__doc__ = f"Elementwise {op} (not differentiable)."
    return fn


eq = _no_grad_binary("equal", "eq")
ne = _no_grad_binary("not_equal", "ne")
lt = _no_grad_binary("less", "lt")
le = _no_grad_binary("less_equal", "le")
gt = _no_grad_binary("greater", "gt")
ge = _no_grad_binary("greater_equal", "ge")
logical_and = _no_grad_binary("logical_and", "logical_and")
logical_or = _no_grad_binary("logical_or", "logical_or")
logical_xor = _no_grad_binary("logical_xor", "logical_xor")
_floor_divide = _no_grad_binary("floor_divide", "floor_divide")
_bitwise_and = _no_grad_binary("bitwise_and", "bitwise_and")
_bitwise_or = _no_grad_binary("bitwise_or", "bitwise_or")
_bitwise_xor = _no_grad_binary("bitwise_xor", "bitwise_xor")


def _integral_only(fn, op):
    def checked(a: Tensor, b) -> Tensor:
        if not isinstance(a, Tensor):
            raise not_tensor(a, op)
        if a._dtype.is_floating_point or (isinstance(b, Tensor) and b._dtype.is_floating_point) or isinstance(b, float):
            raise RuntimeError(f"{op}: only integer and bool tensors are supported, got {a.dtype}")
        return fn(a, b)
    checked.__name__ = op
    checked.__doc__ = f"Elementwise {op} of integer or bool tensors."
    return checked


bitwise_and = _integral_only(_bitwise_and, "bitwise_and")
bitwise_or = _integral_only(_bitwise_or, "bitwise_or")
bitwise_xor = _integral_only(_bitwise_xor, "bitwise_xor")


def floor_divide(a: Tensor, b) -> Tensor:
    """floor(a / b); its gradient is zero, as PyTorch's. Integer division by zero raises, as in PyTorch."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "floor_divide")
    _check_divisor(*_operands(a, b, "floor_divide"), "floor_divide")
    out = _floor_divide(a, b)
    if _grad_state.enabled and out._dtype.is_floating_point and (a._rg or (isinstance(b, Tensor) and b._rg)):
        return ZeroGrad.apply(out, a)
    return out


class Remainder(Op):
    def forward(self, a, b):
        self.shapes = (a._data.shape, b._data.shape)
        self.save_for_backward(a, b)
        return self.bk.remainder(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if na else None,
                unbroadcast(-g * floor(a / b), self.shapes[1]) if nb else None)


def remainder(a: Tensor, b) -> Tensor:
    """Python's modulus: a - floor(a / b) * b, with the sign of b. Integer division by zero raises, as in
    PyTorch."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "remainder")
    a, b = _operands(a, b, "remainder")
    _check_divisor(a, b, "remainder")
    if isinstance(b, Tensor):
        return Remainder.apply(a, b)
    return RemainderScalar.apply(a, s=b)


class RemainderScalar(Op):
    op_name = "Remainder"
    def forward(self, a, s):
        return self.bk.remainder(a._data, s)

    def backward(self, g):
        return (g,)


class ZeroGrad(Op):
    """Marks `value` as a function of `source` with zero gradient (floor, round, sign, ...)."""

    def forward(self, value, source):
        self.shape = source._data.shape
        self.like = source
        return value._data

    def backward(self, g):
        return (None, self.like.new_zeros(self.shape) if self.needs_input_grad[1] else None)


# ---- unary ---------------------------------------------------------------------------------
class Neg(Op):
    keeps_dtype = True

    def forward(self, a):
        return self.bk.neg(a._data)

    def backward(self, g):
        return (-g,)

    def backward_arrays(self, g):
        return (self.bk.neg(g),)


class Exp(Op):
    keeps_dtype = True

    save_output = True

    def forward(self, a):
        return self.bk.exp(a._data)

    def backward(self, g):
        return (g * self.saved_output(),)

    def backward_arrays(self, g):
        return (self.bk.mul(g, self.saved_output_array()),)


class Log(Op):
    keeps_dtype = True

    def forward(self, a):
        self.save_for_backward(a)
        return self.bk.log(a._data)

    def backward(self, g):
        return (g / self.saved_tensors[0],)


class Log1p(Op):
    def forward(self, a):
        self.save_for_backward(a)
        return self.bk.log1p(a._data)

    def backward(self, g):
        return (g / (self.saved_tensors[0] + 1.0),)


class Expm1(Op):
    save_output = True

    def forward(self, a):
        return self.bk.expm1(a._data)

    def backward(self, g):
        return (g * (self.saved_output() + 1.0),)


class Sqrt(Op):
    keeps_dtype = True

    save_output = True

    def forward(self, a):
        return self.bk.sqrt(a._data)

    def backward(self, g):
        return (g / (self.saved_output() * 2.0),)


class Rsqrt(Op):
    save_output = True

    def forward(self, a):
        return self.bk.div(1.0, self.bk.sqrt(a._data))

    def backward(self, g):
        out = self.saved_output()
        return (g * out * out * out * -0.5,)


class Sin(Op):
    def forward(self, a):
        self.save_for_backward(a)
        return self.bk.sin(a._data)

    def backward(self, g):
        return (g * cos(self.saved_tensors[0]),)


class Cos(Op):
    def forward(self, a):
        self.save_for_backward(a)
        return self.bk.cos(a._data)

    def backward(self, g):
        return (-g * sin(self.saved_tensors[0]),)


class Tan(Op):
    save_output = True

    def forward(self, a):
        return self.bk.tan(a._data)

    def backward(self, g):
        out = self.saved_output()
        return (g * (out * out + 1.0),)


class Tanh(Op):
    keeps_dtype = True

    save_output = True

    def forward(self, a):
        return self.bk.tanh(a._data)

    def backward(self, g):
        return (TanhBackward.apply(g, self.saved_output()),)

    def backward_arrays(self, g):
        return (self.bk.tanh_backward(g, self.saved_output_array()),)


class TanhBackward(Op):
    """g * (1 - out**2) as one node (a backend kernel), differentiable in g and out."""
    keeps_dtype = True

    def forward(self, g, out):
        if self.needs_input_grad:
            self.save_for_backward(g, out)
        return self.bk.tanh_backward(g._data, out._data)

    def backward(self, gg):
        g, out = self.saved_tensors
        ng, no = self.needs_input_grad
        return (TanhBackward.apply(gg, out) if ng else None, gg * g * out * -2.0 if no else None)


class Sigmoid(Op):
    keeps_dtype = True

    save_output = True

    def forward(self, a):
        return self.bk.sigmoid(a._data)

    def backward(self, g):
        return (SigmoidBackward.apply(g, self.saved_output()),)

    def backward_arrays(self, g):
        return (self.bk.sigmoid_backward(g, self.saved_output_array()),)


class SigmoidBackward(Op):
    """g * out * (1 - out) as one node (a backend kernel), differentiable in g and out."""
    keeps_dtype = True

    def forward(self, g, out):
        if self.needs_input_grad:
            self.save_for_backward(g, out)
        return self.bk.sigmoid_backward(g._data, out._data)

    def backward(self, gg):
        g, out = self.saved_tensors
        ng, no = self.needs_input_grad
        return (SigmoidBackward.apply(gg, out) if ng else None, gg * g * (1.0 - out * 2.0) if no else None)


class Relu(Op):
    keeps_dtype = True

    save_output = True

    def forward(self, a):
        return self.bk.maximum(a._data, 0)

    def backward(self, g):
        return (ReluBackward.apply(g, out=self.saved_output_array()),)

    def backward_arrays(self, g):
        return (self.bk.relu_backward(g, self.saved_output_array()),)


class ReluBackward(Op):
    """The ReLU gradient mask; linear in the incoming gradient, so its own backward is itself."""
    keeps_dtype = True

    def forward(self, g, out):
        self.out = out
        return self.bk.relu_backward(g._data, out)

    def backward(self, gg):
        return (ReluBackward.apply(gg, out=self.out),)


class Erf(Op):
    def forward(self, a):
        self.save_for_backward(a)
        return self.bk.erf(a._data)

    def backward(self, g):
        a = self.saved_tensors[0]
        return (g * exp(-(a * a)) * (2.0 / math.sqrt(math.pi)),)


class Abs(Op):
    keeps_dtype = True

    def forward(self, a):
        self.save_for_backward(a)
        return self.bk.abs(a._data)

    def backward(self, g):
        return (g * sign(self.saved_tensors[0]),)


def _float_unary(op_cls, name):
    def fn(a: Tensor) -> Tensor:
        if not isinstance(a, Tensor):
            raise not_tensor(a, name)
        if not a._dtype.is_floating_point:
            a = cast(a, dtypes.get_default_dtype())
        return op_cls.apply(a)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}; integer inputs are computed in the default float dtype."
    return fn


neg = Neg.apply
exp = _float_unary(Exp, "exp")
log = _float_unary(Log, "log")
log1p = _float_unary(Log1p, "log1p")
expm1 = _float_unary(Expm1, "expm1")
sqrt = _float_unary(Sqrt, "sqrt")
rsqrt = _float_unary(Rsqrt, "rsqrt")
sin = _float_unary(Sin, "sin")
cos = _float_unary(Cos, "cos")
tan = _float_unary(Tan, "tan")
tanh = _float_unary(Tanh, "tanh")
sigmoid = _float_unary(Sigmoid, "sigmoid")
erf = _float_unary(Erf, "erf")
abs = Abs.apply


def relu(a: Tensor) -> Tensor:
    """max(a, 0); the gradient at 0 is 0."""
    return Relu.apply(a)


def _zero_grad_unary(prim: str, name: str, integer_identity: bool = True):
    def fn(a: Tensor) -> Tensor:
        if not isinstance(a, Tensor):
            raise not_tensor(a, name)
        if integer_identity and not a._dtype.is_floating_point:
            return a.clone() if prim != "sign" else _wrap(a._bk.sign(a._data), a._bk, a._device)
        out = _wrap(getattr(a._bk, prim)(a._data), a._bk, a._device)
        if _grad_state.enabled and a._rg:
            return ZeroGrad.apply(out, a)
        return out
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}; its gradient is zero."
    return fn


sign = _zero_grad_unary("sign", "sign")
floor = _zero_grad_unary("floor", "floor")
ceil = _zero_grad_unary("ceil", "ceil")


def trunc(a: Tensor) -> Tensor:
    """Round toward zero; its gradient is zero."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "trunc")
    return where(a >= 0, floor(a), ceil(a)) if a._dtype.is_floating_point else a.clone()


def round(a: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even (at `decimals` digits); its gradient is zero."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "round")
    if not a._dtype.is_floating_point:
        return a.clone()
    out = _wrap(a._bk.round(a._data, decimals), a._bk, a._device)
    return ZeroGrad.apply(out, a) if _grad_state.enabled and a._rg else out


def _no_grad_unary(prim: str, name: str):
    def fn(a: Tensor) -> Tensor:
        if not isinstance(a, Tensor):
            raise not_tensor(a, name)
        return _wrap(getattr(a._bk, prim)(a._data), a._bk, a._device)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} (bool result)."
    return fn


isnan = _no_grad_unary("isnan", "isnan")
isinf = _no_grad_unary("isinf", "isinf")
logical_not = _no_grad_unary("logical_not", "logical_not")


def bitwise_not(a: Tensor) -> Tensor:
    """~a for integer and bool tensors."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "bitwise_not")
    if a._dtype.is_floating_point:
        raise RuntimeError(f"bitwise_not: only integer and bool tensors are supported, got {a.dtype}")
    return _wrap(a._bk.bitwise_not(a._data), a._bk, a._device)


def isfinite(a: Tensor) -> Tensor:
    """True where `a` is neither NaN nor infinite."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "isfinite")
    return logical_not(logical_or(isnan(a), isinf(a)))


# ---- clamp and where -----------------------------------------------------------------------
class Clamp(Op):
    def forward(self, a, low, high):
        self.save_for_backward(a)
        self.low, self.high = low, high
        return self.bk.clip(a._data, low, high)

    def backward(self, g):
        a = self.saved_tensors[0]
        if self.low is None:
            mask = a <= self.high
        elif self.high is None:
            mask = a >= self.low
        else:
            mask = (a >= self.low) & (a <= self.high)
        return (where(mask, g, 0.0),)


def clamp(a: Tensor, min=None, max=None) -> Tensor:
    """Clamp into [min, max] (numbers or tensors); the gradient flows where min <= a <= max."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = a
        if min is not None:
            out = maximum(out, min if isinstance(min, Tensor) else a.new_full((), min))
        if max is not None:
            out = minimum(out, max if isinstance(max, Tensor) else a.new_full((), max))
        return out
    if (isinstance(min, float) or isinstance(max, float)) and not a._dtype.is_floating_point:
        a = cast(a, dtypes.get_default_dtype())
    return Clamp.apply(a, low=min, high=max)


class Where(Op):
    def forward(self, cond, a, b):
        self.cond = cond
        self.shapes = (a._data.shape if isinstance(a, Tensor) else (), b._data.shape if isinstance(b, Tensor) else ())
        return self.bk.where(cond._data, a._data if isinstance(a, Tensor) else a,
                             b._data if isinstance(b, Tensor) else b)

    def backward(self, g):
        _, na, nb = self.needs_input_grad
        c = self.cond
        return (None, unbroadcast(where(c, g, 0.0), self.shapes[0]) if na else None,
                unbroadcast(where(c, 0.0, g), self.shapes[1]) if nb else None)


def where(condition: Tensor, input, other) -> Tensor:
    """`input` where `condition` is True, else `other` (tensors or numbers, broadcast)."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): condition must be a bool Tensor, got {type(condition).__name__}")
    if condition._dtype is not dtypes.bool:
        condition = condition != 0
    if isinstance(input, Tensor):
        input, other = _operands(input, other, "where")
        ref = input
    elif isinstance(other, Tensor):
        other, input = _operands(other, input, "where")
        ref = other
    else:
        ref = input = creation.full((), input, dtype=dtypes.result_type(input, other), device=condition.device)
    if condition._device is not ref._device:
        raise _device_error("where", condition, ref)
    return Where.apply(condition, input, other)


# ---- comparisons that return Python values -------------------------------------------------
def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "equal")
    if not isinstance(b, Tensor):
        raise not_tensor(b, "equal", "other", 2)
    return a.shape == b.shape and bool(eq(a, b).all())


def isclose(a: Tensor, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """`|a - b| <= atol + rtol * |b|`, elementwise."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "isclose")
    a, b = _operands(a, b, "isclose")
    tolerance = add(abs(b) * rtol, atol) if isinstance(b, Tensor) else atol + rtol * builtins.abs(b)
    close = le(abs(sub(a, b)), tolerance)
    close = logical_or(close, eq(a, b))
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b) if isinstance(b, Tensor) else a != a))
    return close


def allclose(a: Tensor, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when `isclose` holds everywhere."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all())
