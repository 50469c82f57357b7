"""``ember.data``: an alias of ``ember.utils.data`` that also holds the bundled datasets.

``ember.data.DataLoader is ember.utils.data.DataLoader``; ``ember.data.datasets`` has ``Digits``
(scikit-learn's bundled digits, offline) and ``FakeData``.
"""
from ..utils.data import *  # noqa: F401,F403  (the alias re-exports every public name)
from ..utils.data import __all__ as _utils_data_all
from . import datasets

__all__ = [*_utils_data_all, "datasets"]
