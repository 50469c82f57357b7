"""ember's backends: the abstract ops interface and the built-in array-library backends.

Also PyTorch's flag namespaces `ember.backends.cudnn` and `ember.backends.mps`, so that code
written for `torch.backends` runs unchanged (each module says what its flags change in ember).
"""
from . import cudnn, mps
from .array_backend import ArrayBackend
from .base import Backend

__all__ = ["ArrayBackend", "Backend", "cudnn", "mps"]
