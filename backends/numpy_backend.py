"""The numpy backend: ember's CPU device. Registered through the same pluggy hook as third-party backends.

numpy-only tuning lives here, not in the shared array-module classes: glibc's malloc settings,
the orientation of BLAS products, folding stacked matmuls into one GEMM, and erf (scipy's ufunc
when installed, else Cody's approximations).
"""
from __future__ import annotations

import ctypes
import os
import sys

from ember.plugins.hookspecs import hookimpl

from .array_kernels import ArrayKernels


def _keep_freed_memory() -> None:
    """Make glibc keep freed blocks for reuse instead of returning them to the OS.

    A training step frees and re-allocates the same large arrays every time; by default glibc
    unmaps them and the next step faults every page back in (thousands of faults per step, a
    third of a small CNN's step time). Caching allocators do the same for PyTorch. Opt out with
    EMBER_MALLOC_TUNING=0.
    """
    if not sys.platform.startswith("linux") or os.environ.get("EMBER_MALLOC_TUNING") == "0":
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 256 << 20)
    mallopt(m_trim_threshold, 512 << 20)
    mallopt(m_top_pad, 64 << 20)


def _erf_ufunc():
    """scipy's erf ufunc when scipy is installed (imported on first use: it is slow to import), else Cody's."""
    try:
        from scipy.special import erf
    except ImportError:
        from .numpy_erf import erf_cody as erf
    return erf


class NumpyBackend(ArrayKernels):
    """CPU arrays through numpy."""

    name = "numpy"
    device_type = "cpu"
    array_module = "numpy"
    shares_host_memory = True

    def __init__(self, index: int | None = None) -> None:
        super().__init__(index)
        self._erf = None
        _keep_freed_memory()

    def asarray(self, data, dtype):
        return self.xp.asarray(data, dtype=self._to_native[dtype])

    def to_numpy(self, a):
        return a

    def owns_memory(self, a) -> bool:
        return a.base is None and a.flags.writeable

    def erf(self, a, out=None):
        if self._erf is None:
            self._erf = _erf_ufunc()
        r = self._erf(a)
        if r.dtype != a.dtype:
            r = r.astype(a.dtype)
        if out is not None:
            self.xp.copyto(out, r)
            return out
        return r if r.__class__ is self.xp.ndarray else self.xp.asarray(r)

    def matmul(self, a, b):
        if a.ndim > 2 and b.ndim == 2:
            # one GEMM over the folded leading dims: numpy's stacked matmul runs one small GEMM per
            # leading index, several times slower (Linear on (L, N, in) inputs)
            return self.xp.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
        return self._arr(self.xp.matmul(a, b))

    def _weight_gradient(self, g, cols, n, groups):
        if groups != 1:
            return super()._weight_gradient(g, cols, n, groups)
        o = g.shape[0]
        if o * cols.shape[0] < 1024 and n > 1:
            # a tiny (O, C*kh*kw) result over a long reduction: OpenBLAS runs that on one thread and
            # slowly; one product per sample, then a sum, is ~3x faster (first layers, C=1)
            return self.xp.matmul(g.reshape(o, n, -1).transpose(1, 0, 2),
                                  cols.reshape(cols.shape[0], n, -1).transpose(1, 2, 0)).sum(0)
        return self.xp.matmul(cols, g.T).T  # OpenBLAS runs this orientation ~30% faster than g @ cols.T


@hookimpl
def ember_register_backends(registry) -> None:
    registry.add_backend(NumpyBackend)
