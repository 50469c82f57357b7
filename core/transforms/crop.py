"""Crops: ``CenterCrop`` and ``RandomCrop`` (with optional padding)."""
from __future__ import annotations

from typing import Any, Sequence

import ember

from . import functional as F

__all__ = ["CenterCrop", "RandomCrop"]


class CenterCrop:
    """Crop the center of the image to ``size``: ``(h, w)``, or an int for a square crop.

    An image smaller than ``size`` is zero-padded on each side first.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = F._size_pair(size)

    def __call__(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop:
    """Crop the image at a random location.

    Args:
        size (int or sequence): output size ``(h, w)``, or an int for a square crop.
        padding (int or sequence, optional): padding of the borders first: an int for all borders,
            ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        pad_if_needed (bool): pad an image smaller than ``size`` so that the crop fits.
        fill (number or sequence): value of ``constant`` padding (per channel if a sequence).
        padding_mode (str): ``constant`` (default), ``edge``, ``reflect`` or ``symmetric``.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float | Sequence[float] = 0,
        padding_mode: str = "constant",
    ) -> None:
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                f"Padding mode should be either constant, edge, reflect or symmetric, got {padding_mode!r}"
            )
        if padding is not None:
            F._padding_ltrb(padding)
        self.size = F._size_pair(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of a crop of ``output_size`` inside ``img``."""
        _, height, width = F.get_dimensions(img)
        crop_height, crop_width = output_size
        if height < crop_height or width < crop_width:
            raise ValueError(
                f"Required crop size {(crop_height, crop_width)} is larger than input image size {(height, width)}"
            )
        if (height, width) == (crop_height, crop_width):
            return 0, 0, height, width
        top = int(ember.randint(0, height - crop_height + 1, (1,), device="cpu").item())
        left = int(ember.randint(0, width - crop_width + 1, (1,), device="cpu").item())
        return top, left, crop_height, crop_width

    def __call__(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"
