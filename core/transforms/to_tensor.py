"""``ToTensor``: a numpy image (HxWxC, uint8) becomes a CxHxW float tensor in [0, 1]."""
from __future__ import annotations

import numpy as np

import ember

from . import functional as F

__all__ = ["ToTensor"]


class ToTensor:
    """Convert a numpy image of shape HxW or HxWxC to a tensor of shape CxHxW.

    A ``uint8`` image (values in [0, 255]) becomes a tensor of the default float dtype in
    [0.0, 1.0]; other dtypes keep their values and dtype. (ember has no PIL dependency: load
    images as numpy arrays.)
    """

    def __call__(self, pic: np.ndarray) -> ember.Tensor:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
