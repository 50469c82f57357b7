"""The numpy backend: ember's CPU device. Registered through the same pluggy hook as third-party backends."""
from __future__ import annotations

import math

import numpy as np

from ember.plugins.hookspecs import hookimpl

from .array_backend import ArrayBackend

try:
    from scipy.special import erf as _erf_ufunc
except ImportError:  # scipy is optional; math.erf per element is exact but slower
    _erf_ufunc = np.frompyfunc(math.erf, 1, 1)


class NumpyBackend(ArrayBackend):
    """CPU arrays through numpy."""

    name = "numpy"
    device_type = "cpu"
    xp = np

    @classmethod
    def is_available(cls) -> tuple[bool, str]:
        return True, ""

    def device_count(self) -> int:
        return 1

    def library_version(self) -> str:
        return f"numpy {np.__version__}"

    def synchronize(self, index=None) -> None:
        """numpy runs synchronously: nothing to wait for."""

    def asarray(self, data, dtype, index=None):
        return np.asarray(data, dtype=self._to_native[dtype])

    def to_numpy(self, a):
        return a

    def owns_memory(self, a) -> bool:
        return a.base is None and a.flags.writeable

    def erf(self, a, out=None):
        r = _erf_ufunc(a)
        if r.dtype != a.dtype:
            r = r.astype(a.dtype)
        if out is not None:
            np.copyto(out, r)
            return out
        return r if r.__class__ is np.ndarray else np.asarray(r)


@hookimpl
def ember_register_backends(registry) -> None:
    registry.add_backend(NumpyBackend)
