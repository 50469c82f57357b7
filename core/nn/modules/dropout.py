"""Dropout layers: active in training mode, the identity in eval mode."""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    fn = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability `p` and scale the others by 1/(1-p).

    Args:
        p: probability of an element to be zeroed. Default: 0.5.
        inplace: do it in place. Default: False.
    """

    fn = F.dropout


class Dropout1d(_DropoutNd):
    """In training, zero whole channels of (N, C, L) or (C, L) input with probability `p`."""

    fn = F.dropout1d


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) or (C, H, W) input with probability `p`."""

    fn = F.dropout2d


class Dropout3d(_DropoutNd):
    """In training, zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability `p`."""

    fn = F.dropout3d


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps zero mean and unit variance of its input."""

    fn = F.alpha_dropout
