"""`Linear`, `Bilinear` and `Identity`."""
from __future__ import annotations

import math

from ...arguments import int_arg
from ...creation import empty
from ...tensor import Tensor
from .. import functional as F, init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input; accepts (and ignores) any constructor arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x A^T + b.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if False, no additive bias. Default: True.

    Shape: input `(*, in_features)`, output `(*, out_features)`.
    weight (out_features, in_features) and bias (out_features,) are initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) (weight through `kaiming_uniform_` with `a=sqrt(5)`).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features = int_arg(in_features, "Linear", "in_features")
        self.out_features = out_features = int_arg(out_features, "Linear", "out_features")
        self.weight = Parameter(empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise weight and bias as at construction (PyTorch's default)."""
        init._layer_default_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b.

    Args:
        in1_features, in2_features: sizes of each first and second input sample.
        out_features: size of each output sample.
        bias: if False, no additive bias. Default: True.

    Shape: inputs `(*, in1_features)` and `(*, in2_features)`, output `(*, out_features)`. weight
    (out_features, in1_features, in2_features) and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features = int_arg(in1_features, "Bilinear", "in1_features")
        self.in2_features = in2_features = int_arg(in2_features, "Bilinear", "in2_features")
        self.out_features = out_features = int_arg(out_features, "Bilinear", "out_features")
        self.weight = Parameter(empty((out_features, in1_features, in2_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
