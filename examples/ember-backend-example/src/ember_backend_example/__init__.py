"""An example out-of-tree ember backend: `ArrayApiStrictBackend`, ember's required primitives over array-api-strict.

Installed, the package registers it through the entry-point group ``ember`` (see `plugin`): the
backend "array_api_strict" serves the devices ``ember.device("strict:0")`` .. ``"strict:2"``.
"""
from .backend import ArrayApiStrictBackend

__all__ = ["ArrayApiStrictBackend"]
