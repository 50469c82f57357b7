"""``ember.transforms``: image transforms following ``torchvision.transforms``.

Images are numpy arrays (HxW or HxWxC, e.g. ``uint8`` as loaded) or tensors ([..., H, W]);
``ToTensor`` turns the first into the second. ``functional`` holds the same operations as functions.
"""
from . import functional
from .compose import Compose, Lambda
from .crop import CenterCrop, RandomCrop
from .flip import RandomHorizontalFlip, RandomVerticalFlip
from .functional import InterpolationMode
from .normalize import Normalize
from .resize import Resize
from .rotation import RandomRotation
from .to_tensor import ToTensor

__all__ = [
    "CenterCrop",
    "Compose",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "functional",
]
