"""A numpy stand-in for the part of cupy's API that ember's cupy backend uses, so the backend's own code runs
on a machine without a GPU (test_cupy_backend_on_fake_cupy.py puts this folder first on PYTHONPATH).

Arrays are plain numpy arrays; everything cupy shares with numpy is numpy's. The CUDA runtime is simulated:
`EMBER_FAKE_CUPY_DEVICES` devices (default 1), a current device per thread, streams and events that are
always done, an empty memory pool. `ElementwiseKernel` bodies run on the CPU, compiled by the host C++
compiler. This proves the backend's plumbing against cupy's names and calling conventions, not GPU
semantics.
"""
import numpy as _np

from host_kernels import HostKernel as ElementwiseKernel  # noqa: F401

from . import cuda, random  # noqa: F401

__version__ = "0.0+fake"
ndarray = _np.ndarray


def __getattr__(name):
    return getattr(_np, name)


def asnumpy(a, stream=None):
    return _np.asarray(a)


def from_dlpack(obj, **kwargs):
    return _np.from_dlpack(obj, **kwargs)


class _Pool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass


_pool = _Pool()


def get_default_memory_pool():
    return _pool
