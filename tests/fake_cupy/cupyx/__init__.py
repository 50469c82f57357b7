"""`cupyx` simulated with numpy (see fake_cupy/cupy/__init__.py)."""
import numpy as _np


def scatter_add(a, slices, value):
    _np.add.at(a, slices, value)
