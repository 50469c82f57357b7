"""Scans (running reductions) along one dim: cumprod, cummax, cummin, logcumsumexp (cumsum lives with
the reductions, as a backend primitive).

Each scan is a Hillis-Steele prefix scan written in tensor ops: ceil(log2(n)) steps, step s combining
every element with the one s places before it. Being composite, the gradients (of any order) follow
from the combining op: cumprod's is exact with zeros in the input because it never divides.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from .. import dtypes
from ..arguments import check_tensor
from ..autograd.grad_mode import no_grad
from ..creation import arange
from .._tensor_base import Tensor, _dim
from . import elementwise as ew
from .indexing import gather
from .reduction import values_indices
from .shape import cat, narrow


def _scan(xs: tuple[Tensor, ...], d: int, combine: Callable[[tuple, tuple], tuple]) -> tuple[Tensor, ...]:
    """Inclusive scan along `d` of same-shaped tensors scanned together:
    out[i] = combine(out[i - 1], xs[i]) (earlier operands first, each a tuple like `xs`)."""
    if xs[0].ndim == 0:
        return xs
    n = xs[0].shape[d]
    s = 1
    while s < n:
        merged = combine(tuple(narrow(x, d, 0, n - s) for x in xs), tuple(narrow(x, d, s, n - s) for x in xs))
        xs = tuple(cat([narrow(x, d, 0, s), m], d) for x, m in zip(xs, merged))
        s *= 2
    return xs


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along `dim`; integers and bools accumulate in int64. The gradient is exact when the
    input holds zeros."""
    check_tensor(input, "cumprod")
    d = _dim(dim, input.ndim, "cumprod")
    if dtype is not None:
        input = ew.cast(input, dtype)
    elif not input._dtype.is_floating_point:
        input = ew.cast(input, dtypes.int64)
    (out,) = _scan((input,), d, lambda a, b: (a[0] * b[0],))
    return out if out is not input else out.clone()


def _log_add_exp(a: Tensor, b: Tensor) -> Tensor:
    """log(exp(a) + exp(b)) without overflow: the shift by the (constant) larger operand cancels in every
    derivative, so gradients of any order are exact, ties included."""
    m = ew.maximum(a, b).detach()
    m = ew.where(ew.isinf(m), 0.0, m)
    total = ew.exp(a - m) + ew.exp(b - m)
    empty = total == 0  # both operands -inf
    return ew.where(empty, -math.inf, ew.log(ew.where(empty, 1.0, total))) + m


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along `dim`, computed without overflow or underflow."""
    check_tensor(input, "logcumsumexp")
    d = _dim(dim, input.ndim, "logcumsumexp")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"logcumsumexp(): expected a floating-point input, got {input.dtype}")
    (out,) = _scan((input,), d, lambda a, b: (_log_add_exp(a[0], b[0]),))
    return out if out is not input else out.clone()


def _cum_extreme(input: Tensor, dim: int, op: str) -> values_indices:
    """(values, indices) of the running max or min; ties and NaN (which propagates) take the latest index."""
    check_tensor(input, op)
    d = _dim(dim, input.ndim, op)
    if input.ndim == 0:
        return values_indices(input.clone(), input.new_zeros((), dtype=dtypes.int64))
    beats = ew.gt if op == "cummax" else ew.lt

    def combine(earlier, later):
        (v0, i0), (v1, i1) = earlier, later
        keep = beats(v0, v1) | (ew.isnan(v0) & ~ew.isnan(v1))
        return ew.where(keep, v0, v1), ew.where(keep, i0, i1)

    with no_grad():
        shape = [1] * input.ndim
        shape[d] = input.shape[d]
        positions = arange(input.shape[d], device=input.device).reshape(shape).expand(*input.shape).clone()
        _, i = _scan((input.detach(), positions), d, combine)
    return values_indices(gather(input, d, i), i)


def cummax(input: Tensor, dim: int) -> values_indices:
    """(values, indices): the running maximum along `dim` and where it was found (the latest place among
    equal values; NaN propagates)."""
    return _cum_extreme(input, dim, "cummax")


def cummin(input: Tensor, dim: int) -> values_indices:
    """(values, indices): the running minimum along `dim` and where it was found (the latest place among
    equal values; NaN propagates)."""
    return _cum_extreme(input, dim, "cummin")
