"""`ember.special`: PyTorch's `torch.special` functions, composed of tensor ops."""
from __future__ import annotations

import math

from .arguments import check_tensor
from .ops import elementwise as _ew
from .ops import reduction as _red
from .ops.out import write_out as _write_out
from .ops.special_math import erfinv, xlogy
from .ops.activations import LogSoftmax, Softmax, softmax_like
from ._tensor_base import Tensor
from .dtypes import get_default_dtype

__all__ = ["entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "log_softmax", "logit", "logsumexp", "ndtr",
           "sinc", "softmax", "xlogy"]


def _float(input: Tensor, fn: str) -> Tensor:
    check_tensor(input, fn)
    return input if input._dtype.is_floating_point else _ew.cast(input, get_default_dtype())


def _done(fn: str, result: Tensor, out) -> Tensor:
    return result if out is None else _write_out(fn, result, out)


def expit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The logistic sigmoid 1 / (1 + exp(-input))."""
    return _done("expit", _ew.sigmoid(_float(input, "expit")), out)


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when `eps` is given."""
    p = _float(input, "logit")
    if eps is not None:
        p = _ew.clamp(p, eps, 1.0 - eps)
    return _done("logit", _ew.log(p / (1.0 - p)), out)


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The error function."""
    return _done("erf", _ew.erf(_float(input, "erf")), out)


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complementary error function 1 - erf(input)."""
    return _done("erfc", 1.0 - _ew.erf(_float(input, "erfc")), out)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal CDF (1 + erf(input / sqrt(2))) / 2."""
    return _done("ndtr", (1.0 + _ew.erf(_float(input, "ndtr") * (1.0 / math.sqrt(2.0)))) * 0.5, out)


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(1 + input), accurate near 0."""
    return _done("log1p", _ew.log1p(_float(input, "log1p")), out)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(input) - 1, accurate near 0."""
    return _done("expm1", _ew.expm1(_float(input, "expm1")), out)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """2 ** input."""
    return _done("exp2", _ew.exp(_float(input, "exp2") * math.log(2.0)), out)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalized sinc sin(pi x) / (pi x), 1 at 0."""
    x = _float(input, "sinc")
    zero = x == 0
    px = _ew.where(zero, 1.0, x) * math.pi
    return _done("sinc", _ew.where(zero, 1.0, _ew.sin(px) / px), out)


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise entropy: -x log x for x > 0, 0 at 0, -inf for x < 0 (NaN stays NaN)."""
    x = _float(input, "entr")
    pos = x > 0
    value = -x * _ew.log(_ew.where(pos, x, 1.0))
    return _done("entr", _ew.where(pos, value, _ew.where(x == 0, 0.0, _ew.where(x < 0, -math.inf, x))), out)


def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """log(sum(exp(input))) over `dim`, computed stably."""
    return _done("logsumexp", _red.logsumexp(input, dim, keepdim), out)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(input) / sum(exp(input)) along `dim`, after casting to `dtype` when given."""
    check_tensor(input, "softmax")
    return softmax_like(Softmax, "softmax", input, dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """log(softmax(input)) along `dim`, computed stably, after casting to `dtype` when given."""
    check_tensor(input, "log_softmax")
    return softmax_like(LogSoftmax, "log_softmax", input, dim, dtype)
