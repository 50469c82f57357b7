"""Activation functions, as `torch.nn.functional`.

Hot ones apply the `Op`s of `ember.ops.activations` (softmax and log_softmax call the backend's fused,
stable kernels); the rest are compositions of tensor ops, differentiable by construction. `inplace=True`
writes the result into `input` (PyTorch's in-place rules apply: not on a leaf that requires grad).
"""
from __future__ import annotations

import math

from ... import dtypes
from ...arguments import check_tensor
from ...autograd.grad_mode import is_grad_enabled
from ...ops import elementwise as ew
from ...ops.activations import Gelu, LeakyRelu, LogSigmoid, LogSoftmax, Softmax, softmax_like
from ...ops.inplace import alias, assign_, check_inplace
from ...tensor import Tensor

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu", "gelu", "silu",
           "mish", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "softmin", "hardtanh", "hardtanh_",
           "hardsigmoid", "hardswish", "logsigmoid", "prelu", "softsign", "tanhshrink", "hardshrink", "softshrink",
           "threshold", "threshold_", "glu"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input: Tensor, inplace: bool, fn) -> Tensor:
    """`fn(input)`, written into `input` when `inplace`. When the graph is recorded, `fn` gets a clone: what
    it saves for backward must not be the memory the result overwrites."""
    if not inplace:
        return fn(input)
    check_inplace(input)
    return assign_(input, fn(input.clone() if input.requires_grad and is_grad_enabled() else alias(input)))


# ---- ReLU family -----------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x)."""
    return input.relu_() if inplace else ew.Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    """In-place version of `relu`."""
    check_tensor(input, "relu_")
    return input.relu_()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]."""
    check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _maybe_inplace(input, inplace, lambda x: ew.clamp(x, min_val, max_val))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place version of `hardtanh`."""
    check_tensor(input, "hardtanh_")
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    check_tensor(input, "relu6")
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    check_tensor(input, "leaky_relu")
    return _maybe_inplace(input, inplace, lambda x: LeakyRelu.apply(x, slope=negative_slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place version of `leaky_relu`."""
    check_tensor(input, "leaky_relu_")
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    check_tensor(input, "elu")
    # expm1 sees min(x, 0) only, so the branch where() discards never overflows (no inf * 0 = NaN in backward)
    return _maybe_inplace(input, inplace, lambda x: ew.where(x > 0, x, ew.expm1(ew.clamp(x, None, 0.0)) * alpha))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of `elu`."""
    check_tensor(input, "elu_")
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants (alpha ~ 1.6733, scale ~ 1.0507)."""
    check_tensor(input, "selu")
    return _maybe_inplace(input, inplace, lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    check_tensor(input, "celu")
    if alpha == 0:
        raise ValueError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _maybe_inplace(input, inplace,
                          lambda x: ew.where(x > 0, x, ew.expm1(ew.clamp(x / alpha, None, 0.0)) * alpha))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else `value`."""
    check_tensor(input, "threshold")
    return _maybe_inplace(input, inplace, lambda x: ew.where(x > threshold, x, value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place version of `threshold`."""
    check_tensor(input, "threshold_")
    return _maybe_inplace(input, True, lambda x: ew.where(x > threshold, x, value))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x >= 0, weight * x otherwise; `weight` has 1 element or one per channel (dim 1 of input)."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight", 2)
    if weight.numel() != 1:
        if input.ndim < 2 and weight.numel() != (input.shape[0] if input.ndim else 1):
            raise RuntimeError(f"prelu: weight has {weight.numel()} elements for input {list(input.shape)}")
        if input.ndim >= 2:
            if weight.numel() != input.shape[1]:
                raise RuntimeError(f"prelu: mismatch of parameter numbers and input channel size: weight has "
                                   f"{weight.numel()} elements, input {list(input.shape)} has {input.shape[1]} "
                                   f"channels (dim 1)")
            weight = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return ew.where(input >= 0, input, input * weight)


# ---- smooth activations -----------------------------------------------------------------------
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (`approximate='none'`, exact through erf) or its tanh approximation
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (`approximate='tanh'`)."""
    check_tensor(input, "gelu")
    if approximate == "none":
        return Gelu.apply(input)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * (ew.tanh(inner) + 1.0) * 0.5
    raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (the swish function)."""
    check_tensor(input, "silu")
    return _maybe_inplace(input, inplace, lambda x: x * ew.sigmoid(x))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, reverting to x where beta * x > threshold."""
    check_tensor(input, "softplus")
    bx = input * beta if beta != 1 else input
    # exp sees min(beta*x, threshold) only: no overflow in the branch where() discards
    soft = ew.log1p(ew.exp(ew.clamp(bx, None, threshold)))
    return ew.where(bx > threshold, input, soft / beta if beta != 1 else soft)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    check_tensor(input, "mish")
    return _maybe_inplace(input, inplace, lambda x: x * ew.tanh(softplus(x)))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return ew.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return ew.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed as `min(x, 0) - log1p(exp(-|x|))` (no overflow for any x)."""
    check_tensor(input, "logsigmoid")
    return LogSigmoid.apply(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    check_tensor(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, lambda x: ew.clamp(x + 3.0, 0.0, 6.0) / 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    check_tensor(input, "hardswish")
    return _maybe_inplace(input, inplace, lambda x: x * ew.clamp(x + 3.0, 0.0, 6.0) / 6.0)


def softsign(input: Tensor) -> Tensor:
    """`x / (1 + |x|)`."""
    check_tensor(input, "softsign")
    return input / (ew.abs(input) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    check_tensor(input, "tanhshrink")
    return input - ew.tanh(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where `|x| > lambd`, else 0."""
    check_tensor(input, "hardshrink")
    return ew.where(ew.abs(input) > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""
    check_tensor(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    return ew.where(input > lambd, input - lambd, ew.where(input < -lambd, input + lambd, 0.0))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of `input` along `dim`."""
    check_tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * ew.sigmoid(b)


# ---- softmax family ---------------------------------------------------------------------------
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along `dim`, computed stably (any logit magnitude).

    `dtype`: cast the input to it first (e.g. to avoid float16 overflow)."""
    check_tensor(input, "softmax")
    return softmax_like(Softmax, "softmax", input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along `dim`, computed stably (any logit magnitude)."""
    check_tensor(input, "log_softmax")
    return softmax_like(LogSoftmax, "log_softmax", input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along `dim`."""
    check_tensor(input, "softmin")
    if dtype is not None:
        input = ew.cast(input, dtypes.as_dtype(dtype))
    return softmax_like(Softmax, "softmin", -input, dim, None)
