"""Padding layers over `F.pad`: zero, constant, reflection, replication and circular, in 1-D, 2-D and 3-D."""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _padding(padding, dims: int) -> tuple:
    """An int repeated for both sides of `dims` dims, or the given sequence as a tuple (as PyTorch's `_ntuple`)."""
    if isinstance(padding, (tuple, list)):
        return tuple(padding)
    return (padding,) * (2 * dims)


class _PadNd(Module):
    """`F.pad(input, padding, mode)` with `padding` from an int or a (left, right, top, bottom, ...) sequence."""

    mode = ""
    dims = 0

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _padding(padding, self.dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`; `padding` is an int or (left, right)."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with `value`; `padding` is an int or (left, right, top, bottom)."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with `value`; `padding` is an int or (left, right, top, bottom, front, back)."""
    dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pads the last dim with zeros; `padding` is an int or (left, right)."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last 2 dims with zeros; `padding` is an int or (left, right, top, bottom)."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pads the last 3 dims with zeros; `padding` is an int or (left, right, top, bottom, front, back)."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection (the edge not repeated)."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with their reflection (the edge not repeated)."""
    mode, dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with their reflection (the edge not repeated)."""
    mode, dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge value."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims by repeating their edge values."""
    mode, dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims by repeating their edge values."""
    mode, dims = "replicate", 3


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.ndim}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim of a (N, C, W) or (C, W) input by wrapping around."""
    dims = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims of a (N, C, H, W) or (C, H, W) input by wrapping around."""
    dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims of a (N, C, D, H, W) or (C, D, H, W) input by wrapping around."""
    dims = 3
