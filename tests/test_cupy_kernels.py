"""The cupy backend's ElementwiseKernels, checked without a GPU.

Each kernel body in `cupy_backend.KERNELS` is CUDA C that is also C++ for T = float and double. It is
compiled twice:

- by NVRTC as CUDA device code, with cupy's headers (needs cupy and the NVRTC library, e.g.
  `pip install nvidia-cuda-nvrtc-cu12`; skipped without them): the kernels are valid CUDA;
- by the host C++ compiler into a loop over arrays, called through ctypes. `CupyBackend`'s own methods
  then run on numpy arrays with these host kernels in place of cupy's, on the consistency test's cases,
  and must agree with the interface's default bodies: the arithmetic, and the order of the arguments
  at each call site, are right.

What this cannot show: GPU floating point (nvcc may fuse a multiply and an add into one rounding) and
cupy's launch machinery; the consistency test covers those on a machine with a GPU.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from host_kernels import CXX, HostKernel, compile_cuda

from ember.backends.cupy_backend import KERNELS, CupyBackend
from ember.backends.fused import FusedKernels
from ember.backends.numpy_backend import NumpyBackend
from ember.testing.suite.test_backend_consistency import CASES

pytestmark = pytest.mark.no_device

METHODS = ["relu_backward", "sigmoid_backward", "tanh_backward", "sigmoid", "sgd_step", "adam_step"]


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    """(a CupyBackend whose kernels run on the host over numpy arrays, the numpy backend for the defaults)."""
    if CXX is None:
        pytest.skip("no C++ compiler (g++ or c++) to build the kernels for the host")
    build = str(tmp_path_factory.mktemp("kernels"))
    host = CupyBackend.__new__(CupyBackend)
    host.xp = np
    host._kernels = {name: HostKernel(*KERNELS[name], f"ember_{name}", build) for name in KERNELS}
    return host, NumpyBackend()


def _cases():
    return [pytest.param(m, i, dt, id=f"{m}-{i}-{dt}") for m in METHODS for i in range(len(CASES[m]))
            for dt in ("float64", "float32")]


@pytest.mark.parametrize("method, case, dtype", _cases())
def test_a_kernel_agrees_with_the_default_body(backends, method, case, dtype):
    host, numpy_bk = backends
    args, kwargs = CASES[method][case](np.random.default_rng(case), numpy_bk)
    args = [a.astype(dtype) if isinstance(a, np.ndarray) else a for a in args]
    mine, theirs = [a.copy() if isinstance(a, np.ndarray) else a for a in args], \
                   [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got = getattr(CupyBackend, method)(host, *mine, **kwargs)
    want = getattr(FusedKernels, method)(numpy_bk, *theirs, **kwargs)
    rtol = 1e-12 if dtype == "float64" else 2e-6
    for g, w in [(got, want)] + list(zip(mine, theirs)):  # the result, then every in-place update
        if isinstance(w, np.ndarray):
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
        else:
            assert g is None and w is None


def test_every_kernel_is_launched_by_a_method_checked_here():
    sources = [inspect.getsource(getattr(CupyBackend, m)) for m in METHODS]
    unchecked = [name for name in KERNELS if not any(f'"{name}"' in s for s in sources)]
    assert not unchecked, f"kernels no method in METHODS launches: {unchecked}"


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("ctype", ["float", "double"])
def test_a_kernel_compiles_as_cuda(name, ctype):
    ins, outs, body = KERNELS[name]
    decl = [f"const {p}" for p in ins.split(",")] + [f"{t}& {n}" for t, n in (p.split() for p in outs.split(","))]
    compile_cuda(f"ember_{name}", decl, body, ctype)
