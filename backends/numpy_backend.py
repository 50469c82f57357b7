"""The numpy backend: ember's CPU device. Registered through the same pluggy hook as third-party backends.

numpy-only tuning lives here, not in the shared array-module classes: glibc's malloc settings,
the orientation of BLAS products, folding stacked matmuls into one GEMM, small products on one
OpenBLAS thread, and erf (scipy's ufunc when installed, else Cody's approximations).
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Callable

from ember.plugins.hookspecs import hookimpl

from .array_backend import REQUIRED_BINARY, REQUIRED_UNARY
from .array_kernels import DERIVED_BINARY, DERIVED_UNARY, ArrayKernels
from .elementwise_chain import ufunc_chain

# the elementwise primitives bound straight to numpy's ufuncs (what a fused chain may call)
_UFUNCS = {**REQUIRED_UNARY, **REQUIRED_BINARY, **DERIVED_UNARY, **DERIVED_BINARY}


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


# Products of at most this many multiply-adds (M*K*N) run on one OpenBLAS thread. OpenBLAS splits
# every product above 64**3 over its whole pool, and waking the pool's threads costs more than a
# small product: on this project's 2-core VM a (64, 10) @ (10, 1568) product (a classifier's input
# gradient) takes 21 us on one thread and 0.15-0.7 ms on two, and a busy machine makes every split
# product wait for a descheduled thread. Larger products keep the whole pool (twice as fast on 2 idle
# cores from about 128x256x256 up).
SMALL_PRODUCT = 1 << 23
_ZERO_ROW = 4096  # the row `maximum(a, 0)` runs against (see NumpyBackend._maximum)


def _openblas_thread_setter() -> Callable[[int], int] | None:
    """`openblas_set_num_threads_local` (sets the pool size, returns the previous one) of the OpenBLAS
    that numpy loaded, found in this process's memory map; None off Linux, for another BLAS, or for an
    OpenBLAS older than 0.3.27 (no such function)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/maps") as maps:  # address, perms, offset, device, inode, path
            fields = [line.split(None, 5) for line in maps if "openblas" in line.lower()]
    except OSError:
        return None
    paths = {f[5].strip() for f in fields if len(f) == 6}
    # numpy's own copy first when another library (scipy) brought a second OpenBLAS
    for path in sorted(paths, key=lambda p: "numpy" not in p):
        try:
            setter = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
        return setter
    return None


class _OneThread:
    """A context in which OpenBLAS runs on one thread; nested and concurrent uses (Python threads
    multiplying at once) share one lowering, and the last to leave restores the pool size it found.
    (The size is process-wide: a large product another thread starts meanwhile runs on one thread.)"""

    def __init__(self, setter: Callable[[int], int]) -> None:
        self._set = setter
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0

    def __enter__(self) -> None:
        with self._lock:
            if not self._users:
                self._saved = self._set(1)
            self._users += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._users -= 1
            if not self._users:
                self._set(self._saved)


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
        setter = _openblas_thread_setter()
        self._one_thread = None if setter is None else _OneThread(setter)
        self._zero_rows = {}
        self._ufunc_maximum, self.maximum = self.maximum, self._maximum

    def _maximum(self, a, b, out=None):
        """`maximum`; a ReLU (`maximum(a, 0)` on a large contiguous float array) runs against a broadcast row
        of zeros: numpy's vector loop needs two array operands, and its scalar path runs ~2.4x slower."""
        xp = self.xp
        if b.__class__ is int and b == 0 and a.__class__ is xp.ndarray and a.size >= _ZERO_ROW \
                and a.dtype.kind == "f" and a.flags.c_contiguous \
                and (out is None or out.flags.c_contiguous and out.shape == a.shape and out.dtype == a.dtype):
            zeros = self._zero_rows.get(a.dtype)
            if zeros is None:
                zeros = self._zero_rows[a.dtype] = xp.zeros(_ZERO_ROW, a.dtype)
            if out is None:
                out = xp.empty_like(a)
            flat, dst = a.reshape(-1), out.reshape(-1)
            whole = a.size - a.size % _ZERO_ROW
            xp.maximum(flat[:whole].reshape(-1, _ZERO_ROW), zeros, out=dst[:whole].reshape(-1, _ZERO_ROW))
            xp.maximum(flat[whole:], zeros[:a.size - whole], out=dst[whole:])
            return out
        return self._ufunc_maximum(a, b, out=out)

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

    def fuse_elementwise(self, chain):
        return ufunc_chain(self.xp, chain, _UFUNCS)

    def _gemm(self, a, b):
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1 == b.shape[0]:
            # an outer product (a batch of one's weight gradient): numpy's matmul runs it ~5x slower
            return self.xp.multiply(a, b)
        if self._one_thread is None or a.ndim < 2 or b.ndim < 2 or \
                a.shape[-2] * a.shape[-1] * b.shape[-1] > SMALL_PRODUCT:
            return self.xp.matmul(a, b)
        with self._one_thread:
            return self.xp.matmul(a, b)

    def matmul(self, a, b):
        if a.ndim > 2 and b.ndim == 2:
            # one GEMM over the folded leading dims: numpy's stacked matmul runs one small GEMM per
            # leading index, several times slower (Linear on (L, N, in) inputs)
            return self._gemm(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
        return self._arr(self._gemm(a, b))

    def _weight_gradient(self, g, cols, n, groups):
        if groups != 1:
            return super()._weight_gradient(g, cols, n, groups)
        o = g.shape[0]
        if o * cols.shape[0] < 1024 and n > 1:
            # a tiny (O, C*kh*kw) result over a long reduction: OpenBLAS runs that on one thread and
            # slowly; one product per sample, then a sum, is ~3x faster (first layers, C=1)
            return self._gemm(g.reshape(o, n, -1).transpose(1, 0, 2),
                              cols.reshape(cols.shape[0], n, -1).transpose(1, 2, 0)).sum(0)
        return self._gemm(cols, g.T).T  # OpenBLAS runs this orientation ~30% faster than g @ cols.T


@hookimpl
def ember_register_backends(registry) -> None:
    registry.add_backend(NumpyBackend)
