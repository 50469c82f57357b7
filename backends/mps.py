"""`ember.backends.mps`: PyTorch's Apple-GPU (Metal) queries. ember has no Metal backend, so both answer False."""
from __future__ import annotations


def is_available() -> bool:
    """Whether ember can run on an Apple GPU through Metal: always False (no ember backend serves "mps")."""
    return False


def is_built() -> bool:
    """Whether ember was built with Metal support: always False."""
    return False
