"""ember's backends: the ops interface in three tiers (`required.py`, `derived.py`, `fused.py`,
assembled in `base.py`), the array-module implementations and the built-in backends.

Also PyTorch's flag namespaces `ember.backends.cudnn` and `ember.backends.mps`, so that code
written for `torch.backends` runs unchanged (each module says what its flags change in ember).
"""
from . import cudnn, mps
from .array_backend import ArrayBackend
from .base import Array, Backend, DtypeNotSupportedError, ViewsNotSupportedError, tier_of, tiers

__all__ = ["Array", "ArrayBackend", "Backend", "DtypeNotSupportedError", "ViewsNotSupportedError", "cudnn", "mps",
           "tier_of", "tiers"]
