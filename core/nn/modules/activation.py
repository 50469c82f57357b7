"""Activation layers: each a thin `Module` over its `nn.functional` form, with PyTorch's arguments and repr."""
from __future__ import annotations

from ...creation import empty
from ...tensor import Tensor
from .. import functional as F, init
from ..parameter import Parameter
from .module import Module

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
           "Softplus", "Softmax", "Softmax2d", "LogSoftmax", "Softmin", "Hardtanh", "Hardsigmoid", "Hardswish", "PReLU",
           "LogSigmoid", "Softsign", "Tanhshrink", "Hardshrink", "Softshrink", "Threshold", "GLU"]


def _inplace_suffix(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


class _InplaceOnly(Module):
    """An activation whose only argument is `inplace`; `fn` is its functional form."""

    fn = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_InplaceOnly):
    """max(0, x), elementwise. Shape: any."""

    fn = F.relu


class SELU(_InplaceOnly):
    """scale * ELU(x, alpha) with alpha ~ 1.6733 and scale ~ 1.0507 (self-normalising networks)."""

    fn = F.selu


class SiLU(_InplaceOnly):
    """x * sigmoid(x)."""

    fn = F.silu


class Mish(_InplaceOnly):
    """x * tanh(softplus(x))."""

    fn = F.mish


class Hardsigmoid(_InplaceOnly):
    """relu6(x + 3) / 6."""

    fn = F.hardsigmoid

    def extra_repr(self) -> str:
        return ""


class Hardswish(_InplaceOnly):
    """x * relu6(x + 3) / 6."""

    fn = F.hardswish

    def extra_repr(self) -> str:
        return ""


class Hardtanh(Module):
    """x clamped to [min_val, max_val] (default [-1, 1])."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x >= 0, negative_slope * x otherwise (negative_slope default 0.01)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    """x * Phi(x) (exact, through erf) or its tanh approximation (`approximate='tanh'`)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _DimActivation(Module):
    """Softmax-like: normalises along `dim`."""

    fn = None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_DimActivation):
    """exp(x_i) / sum_j exp(x_j) along `dim`."""

    fn = F.softmax


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input with 3 or 4 dimensions, got {input.dim()}D input")
        return F.softmax(input, -3)


class LogSoftmax(_DimActivation):
    """log(softmax(x)) along `dim`, computed stably."""

    fn = F.log_softmax


class Softmin(_DimActivation):
    """softmax(-x) along `dim`."""

    fn = F.softmin


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along `dim` (default -1)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _Plain(Module):
    """An activation without arguments."""

    fn = None

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input)


class Sigmoid(_Plain):
    """1 / (1 + exp(-x))."""

    fn = F.sigmoid


class Tanh(_Plain):
    """Hyperbolic tangent."""

    fn = F.tanh


class LogSigmoid(_Plain):
    """log(sigmoid(x))."""

    fn = F.logsigmoid


class Softsign(_Plain):
    """`x / (1 + |x|)`."""

    fn = F.softsign


class Tanhshrink(_Plain):
    """x - tanh(x)."""

    fn = F.tanhshrink


class Hardshrink(Module):
    """x where `|x| > lambd` (default 0.5), else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class Threshold(Module):
    """x where x > threshold, else `value`."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self.inplace)}"


class PReLU(Module):
    """x for x >= 0, a * x otherwise, with learnable `a`: one shared value or one per channel (dim 1).

    Args:
        num_parameters: 1 or the number of input channels. Default: 1.
        init: initial value of `a`. Default: 0.25.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope set to `init`."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
