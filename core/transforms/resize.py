"""``Resize`` with nearest or bilinear interpolation."""
from __future__ import annotations

from typing import Any, Sequence

from . import functional as F
from .functional import InterpolationMode

__all__ = ["Resize"]


class Resize:
    """Resize the image to ``size``.

    Args:
        size (int or sequence): ``(h, w)``, or an int: the smaller edge is matched to it, keeping
            the aspect ratio (``(size * h / w, size)`` if ``h > w``).
        interpolation (InterpolationMode): ``NEAREST`` or ``BILINEAR`` (default).
        max_size (int, optional): with an int ``size``, the most the longer edge may be.
        antialias (bool): low-pass filter when downscaling bilinearly (default ``True``).
    """

    def __init__(
        self,
        size: int | Sequence[int],
        interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
        max_size: int | None = None,
        antialias: bool = True,
    ) -> None:
        if not isinstance(size, (int, Sequence)) or (isinstance(size, Sequence) and len(size) not in (1, 2)):
            raise TypeError(f"Size should be int or sequence of one or two ints. Got {size!r}")
        self.size = size
        self.interpolation = F._interpolation(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def __call__(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )
