"""``Normalize``: per-channel ``(x - mean) / std`` of a float tensor image."""
from __future__ import annotations

from typing import Sequence

import ember

from . import functional as F

__all__ = ["Normalize"]


class Normalize:
    """Normalize a float tensor image [..., C, H, W] with a mean and standard deviation per channel:
    ``output[c] = (input[c] - mean[c]) / std[c]``.

    Args:
        mean (sequence): means, one per channel.
        std (sequence): standard deviations, one per channel.
        inplace (bool): make this operation in place (default ``False``).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: ember.Tensor) -> ember.Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"
