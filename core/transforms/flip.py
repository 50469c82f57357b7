"""Random horizontal and vertical flips."""
from __future__ import annotations

from typing import Any

import ember

from . import functional as F

__all__ = ["RandomHorizontalFlip", "RandomVerticalFlip"]


class RandomHorizontalFlip:
    """Flip the image left to right with probability ``p`` (default 0.5).

    The draw uses ember's default CPU generator, so ``ember.manual_seed`` makes it reproducible.
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if ember.rand(1, device="cpu").item() < self.p:
            return F.hflip(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip:
    """Flip the image top to bottom with probability ``p`` (default 0.5)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if ember.rand(1, device="cpu").item() < self.p:
            return F.vflip(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"
