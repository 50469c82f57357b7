"""`cupyx` simulated with numpy (see fake_cupy/cupy/__init__.py)."""
import numpy as _np


def scatter_add(a, slices, value):
    _np.add.at(a, slices, value)


def empty_pinned(shape, dtype=float):
    """Page-locked host memory, simulated by ordinary numpy memory."""
    return _np.empty(shape, dtype=dtype)
