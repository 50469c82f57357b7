"""The cupy backend's fused elementwise chains, checked without a GPU: the generated kernel source (exact
text), what it declines, and the kernels run on the host (fake_cupy's C++ build of the same source) against
numpy's ufuncs one by one, bit for bit. A machine with a GPU runs the kit's test_fused_chains.py on cupy."""
from __future__ import annotations

import hashlib
import types

import numpy as np
import pytest
from host_kernels import CXX, HostKernel, compile_cuda

import ember
from ember.backends.cupy_backend import CupyBackend
from ember.backends.cupy_fusion import kernel_source
from ember.backends.elementwise_chain import ElementwiseChain, Operand, Step, run_unfused
from ember.backends.numpy_backend import NumpyBackend

pytestmark = pytest.mark.no_device

F32, F64 = ember.float32, ember.float64


def _chain(steps, n_inputs, dtype, shape=(5,)):
    return ElementwiseChain(tuple(Step(op, tuple(Operand(*o) for o in ops)) for op, ops in steps),
                            ((shape, dtype),) * n_inputs, shape, dtype)


TANH_BACKWARD = [("mul", [("input", 1), ("input", 1)]), ("sub", [("scalar", 1), ("step", 0)]),
                 ("mul", [("input", 0), ("step", 1)])]
AFFINE = [("mul", [("input", 0), ("scalar", 0.5)]), ("add", [("step", 0), ("input", 1)]), ("neg", [("step", 1)]),
          ("abs", [("step", 2)]), ("sqrt", [("step", 3)]), ("div", [("step", 4), ("scalar", 3)])]


def test_tanh_backward_chain_source_uses_uncontracted_float_intrinsics():
    in_params, out_params, operation, name = kernel_source(_chain(TANH_BACKWARD, 2, F32))
    assert (in_params, out_params) == ("T x0, T x1", "T y")
    assert operation == "T t0 = __fmul_rn(x1, x1); T t1 = __fsub_rn((T)1, t0); y = __fmul_rn(x0, t1)"
    assert name == "ember_chain_" + hashlib.sha1(f"{in_params}|{operation}".encode()).hexdigest()[:16]


def test_affine_chain_source_in_double():
    in_params, out_params, operation, name = kernel_source(_chain(AFFINE, 2, F64))
    assert (in_params, out_params) == ("T x0, T x1", "T y")
    assert operation == ("T t0 = __dmul_rn(x0, (T)0.5); T t1 = __dadd_rn(t0, x1); T t2 = (-t1); T t3 = fabs(t2); "
                         "T t4 = sqrt(t3); y = (t4 / (T)3)")
    assert name.startswith("ember_chain_") and name != kernel_source(_chain(TANH_BACKWARD, 2, F64))[3]


@pytest.mark.parametrize("steps, dtype", [
    ([("maximum", [("input", 0), ("scalar", 0)]), ("mul", [("step", 0), ("input", 1)])], F32),  # not exact in CUDA
    ([("exp", [("input", 0)]), ("add", [("step", 0), ("input", 1)])], F32),  # transcendental
    (TANH_BACKWARD, ember.int64),  # not a float dtype
    ([("mul", [("input", 0), ("scalar", float("inf"))]), ("add", [("step", 0), ("input", 1)])], F32),
    ([("mul", [("input", 0), ("scalar", 1e300)]), ("add", [("step", 0), ("input", 1)])], F32),  # overflows float
], ids=["maximum", "exp", "int64", "inf_scalar", "huge_scalar"])
def test_chains_the_kernel_cannot_reproduce_exactly_are_declined(steps, dtype):
    assert kernel_source(_chain(steps, 2, dtype)) is None


def test_inputs_of_another_dtype_are_declined():
    chain = ElementwiseChain(_chain(TANH_BACKWARD, 2, F32).steps, (((5,), F32), ((5,), F64)), (5,), F32)
    assert kernel_source(chain) is None


@pytest.fixture(scope="module")
def host_cupy(tmp_path_factory):
    """A CupyBackend whose ElementwiseKernels are built by the host C++ compiler and run on numpy arrays."""
    if CXX is None:
        pytest.skip("no C++ compiler (g++ or c++) to build the kernels for the host")
    build = str(tmp_path_factory.mktemp("chains"))
    host = CupyBackend.__new__(CupyBackend)
    host.xp = types.SimpleNamespace(ElementwiseKernel=lambda *source: HostKernel(*source, build_dir=build))
    host._kernels = {}
    return host


@pytest.mark.parametrize("steps, dtype, shapes", [
    (TANH_BACKWARD, F32, [(3, 4), (3, 4)]),
    (AFFINE, F64, [(3, 4), (4,)]),
    (AFFINE, F32, [(3, 4), (3, 1)]),
], ids=["tanh_backward_f32", "affine_f64_broadcast", "affine_f32_broadcast"])
def test_a_fused_kernel_equals_numpy_ufuncs_one_by_one_bitwise(host_cupy, steps, dtype, shapes):
    chain = ElementwiseChain(_chain(steps, 2, dtype).steps, tuple((s, dtype) for s in shapes), (3, 4), dtype)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s).astype(dtype.name) for s in shapes]
    want = run_unfused(NumpyBackend(), chain, inputs)
    fn = host_cupy.fuse_elementwise(chain)
    np.testing.assert_array_equal(fn(*inputs), want)
    out = np.empty((3, 4), dtype.name)
    assert fn(*inputs, out=out) is out
    np.testing.assert_array_equal(out, want)
    kernels = dict(host_cupy._kernels)
    host_cupy.fuse_elementwise(chain)
    assert host_cupy._kernels == kernels  # one kernel per source, built once


@pytest.mark.parametrize("steps", [TANH_BACKWARD, AFFINE], ids=["tanh_backward", "affine"])
@pytest.mark.parametrize("dtype, ctype", [(F32, "float"), (F64, "double")])
def test_a_chain_kernel_compiles_as_cuda(steps, dtype, ctype):
    in_params, out_params, operation, name = kernel_source(_chain(steps, 2, dtype))
    decl = [f"const {p}" for p in in_params.split(", ")] + [f"{out_params.split()[0]}& {out_params.split()[1]}"]
    compile_cuda(name, decl, operation, ctype)
