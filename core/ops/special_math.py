"""Numerically careful elementwise functions composed of tensor ops: nan_to_num, logaddexp(2), hypot, xlogy.

Each masks the special points with a double `where` (the unused branch sees a safe value), so its
gradients of any order stay finite where PyTorch's are.
"""
from __future__ import annotations

import math

from .. import creation, dtypes
from ..arguments import check_tensor
from ..autograd.node import Op
from ..dtype_info import finfo
from .._tensor_base import Tensor
from . import elementwise as ew
from .out import write_out


def _done(fn: str, result: Tensor, out) -> Tensor:
    return result if out is None else write_out(fn, result, out)


def _float_pair(a, b, fn: str) -> tuple[Tensor, Tensor]:
    """`a` and `b` as tensors of their common floating dtype (at least one of them must be a tensor)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}")
    like = a if isinstance(a, Tensor) else b
    a, b = ew.as_operand(a, like), ew.as_operand(b, like)
    dt = dtypes.result_type(a, b)
    if not dt.is_floating_point:
        dt = dtypes.get_default_dtype()
    return (a if a._dtype is dt else ew.cast(a, dt)), (b if b._dtype is dt else ew.cast(b, dt))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None, *,
               out: Tensor | None = None) -> Tensor:
    """`input` with NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the dtype's
    largest and lowest finite values); the gradient flows only through the finite elements."""
    check_tensor(input, "nan_to_num")
    if not input._dtype.is_floating_point:
        return _done("nan_to_num", input.clone(), out)
    big = finfo(input._dtype).max
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    dt, dev = input._dtype, input._device
    # The replacements as tensors of input's dtype: a Python float would go through the default dtype.
    nan, posinf, neginf = (creation.full((), float(v), dtype=dt, device=dev) for v in (nan, posinf, neginf))
    result = ew.where(ew.isnan(input), nan, ew.where(ew.isinf(input), ew.where(input > 0, posinf, neginf), input))
    return _done("nan_to_num", result, out)


def logaddexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(exp(input) + exp(other)), computed without overflow."""
    check_tensor(input, "logaddexp")
    check_tensor(other, "logaddexp", "other", 2)
    a, b = _float_pair(input, other, "logaddexp")
    tie = a == b  # also +-inf against itself, where a - b would be nan
    d = ew.where(tie, 0.0, a) - ew.where(tie, 0.0, b)
    return _done("logaddexp", ew.maximum(a, b) + ew.log1p(ew.exp(-ew.abs(d))), out)


def logaddexp2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log2(2**input + 2**other), computed without overflow."""
    check_tensor(input, "logaddexp2")
    check_tensor(other, "logaddexp2", "other", 2)
    a, b = _float_pair(input, other, "logaddexp2")
    ln2 = math.log(2.0)
    return _done("logaddexp2", logaddexp(a * ln2, b * ln2) * (1.0 / ln2), out)


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sqrt(input**2 + other**2) elementwise (operands broadcast)."""
    check_tensor(input, "hypot")
    check_tensor(other, "hypot", "other", 2)
    a, b = _float_pair(input, other, "hypot")
    return _done("hypot", ew.sqrt(a * a + b * b), out)


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """input * log(other), and 0 where input is 0 (unless other is NaN); either may be a Python number."""
    x, y = _float_pair(input, other, "xlogy")
    zero = ew.logical_and(x == 0, ew.logical_not(ew.isnan(y)))
    result = ew.where(zero, 0.0, x * ew.log(ew.where(zero, 1.0, y)))
    return _done("xlogy", result, out)


# Giles' single-precision erfinv polynomials (central region w < 5, then the tails), in Horner order.
_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                   -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


class Erfinv(Op):
    """erf's inverse: Giles' approximation refined by two Newton steps on erf; d/dy = sqrt(pi)/2 exp(x**2)."""
    save_output = True

    def forward(self, y):
        bk, y = self.bk, y._data
        inner = bk.less(bk.abs(y), 1.0)
        ys = bk.where(inner, y, 0.0)  # +-1 and beyond get their values at the end, without log(0) warnings
        w = bk.neg(bk.log(bk.mul(bk.sub(1.0, ys), bk.add(1.0, ys))))
        central, tail = bk.sub(w, 2.5), bk.sub(bk.sqrt(w), 3.0)
        pc, pt = bk.full((), _ERFINV_CENTRAL[0], bk.dtype_of(y)), bk.full((), _ERFINV_TAIL[0], bk.dtype_of(y))
        for c, t in zip(_ERFINV_CENTRAL[1:], _ERFINV_TAIL[1:]):
            pc, pt = bk.add(bk.mul(pc, central), c), bk.add(bk.mul(pt, tail), t)
        x = bk.mul(bk.where(bk.less(w, 5.0), pc, pt), ys)
        half_sqrt_pi = math.sqrt(math.pi) / 2
        for _ in range(2):
            x = bk.sub(x, bk.mul(bk.sub(bk.erf(x), ys), bk.mul(bk.exp(bk.mul(x, x)), half_sqrt_pi)))
        edge = bk.where(bk.equal(y, 1.0), math.inf, bk.where(bk.equal(y, -1.0), -math.inf, math.nan))
        return bk.astype(bk.where(inner, x, edge), bk.dtype_of(y))

    def backward(self, g):
        x = self.saved_output()
        return (g * ew.exp(x * x) * (math.sqrt(math.pi) / 2),)


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse error function on [-1, 1] (+-inf at +-1, NaN outside)."""
    check_tensor(input, "erfinv")
    x = input if input._dtype.is_floating_point else ew.cast(input, dtypes.get_default_dtype())
    return _done("erfinv", Erfinv.apply(x), out)
