"""``RandomRotation``: rotate by an angle drawn uniformly from a range of degrees."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import ember

from . import functional as F
from .functional import InterpolationMode

__all__ = ["RandomRotation"]


class RandomRotation:
    """Rotate the image by a random angle (counter-clockwise, in degrees).

    Args:
        degrees (number or sequence): range ``(min, max)``; a number ``d`` means ``(-d, +d)``.
        interpolation (InterpolationMode): ``NEAREST`` (default) or ``BILINEAR``.
        expand (bool): enlarge the output to hold the whole rotated image.
        center (sequence, optional): (x, y) center of rotation; default the image center.
        fill (number or sequence): value of the pixels outside the rotated image (default 0).
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
        expand: bool = False,
        center: Sequence[float] | None = None,
        fill: float | Sequence[float] = 0,
    ) -> None:
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-degrees, degrees)
        elif not isinstance(degrees, Sequence) or len(degrees) != 2:
            raise ValueError(f"If degrees is a sequence, it must be of len 2, got {degrees!r}")
        if center is not None and len(center) != 2:
            raise ValueError(f"If center is a sequence, it must be of len 2, got {center!r}")
        self.degrees = [float(d) for d in degrees]
        self.interpolation = F._interpolation(interpolation)
        self.expand = expand
        self.center = center
        self.fill = fill

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        """A random angle drawn uniformly from ``[degrees[0], degrees[1]]``."""
        return float(degrees[0] + (degrees[1] - degrees[0]) * ember.rand(1, device="cpu").item())

    def __call__(self, img: Any) -> Any:
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation}, "
            f"expand={self.expand}, fill={self.fill})"
        )
