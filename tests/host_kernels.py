"""Runs a cupy `ElementwiseKernel` body on the CPU: the body (CUDA C that is also C++) is compiled by the
host C++ compiler into a loop over arrays and called through ctypes. Used to check ember's kernels
without a GPU (test_cupy_kernels.py) and by the numpy stand-in for cupy (fake_cupy/)."""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile

import numpy as np

CXX = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")
# CUDA's never-contracted arithmetic intrinsics: plain operations here (the build turns contraction off)
_INTRINSICS = "".join(f"static inline {t} __{p}{name}_rn({t} a, {t} b) {{ return a {op} b; }}\n"
                      for p, t in (("f", "float"), ("d", "double")) for name, op in (("add", "+"), ("sub", "-"),
                                                                                     ("mul", "*")))
_SCALAR = {np.dtype(np.float64): (ctypes.c_double, "double"), np.dtype(np.float32): (ctypes.c_float, "float")}


def _params(spec: str) -> list[tuple[str, str]]:
    return [tuple(p.split()) for p in spec.split(",")]


class HostKernel:
    """`cupy.ElementwiseKernel(in_params, out_params, body, name)` on the CPU, for T = float or double:
    called as cupy calls it (inputs, then optional outputs; arrays broadcast, scalars), outputs updated
    in place and returned (one array, or a tuple)."""

    def __init__(self, in_params: str, out_params: str, body: str, name: str, build_dir: str | None = None) -> None:
        if CXX is None:
            raise RuntimeError("no C++ compiler (g++ or c++) to build kernels for the host")
        self.ins, self.outs, self.body, self.name = _params(in_params), _params(out_params), body, name
        self.nin, self.nout = len(self.ins), len(self.outs)
        self.build_dir = build_dir or tempfile.mkdtemp(prefix="host_kernels_")
        self._built: dict = {}

    def _function(self, ctype: str, arrays: tuple[bool, ...]):
        key = (ctype, arrays)
        if key not in self._built:
            decl, loads = ["long n"], []
            for (t, n), is_array in zip(self.ins, arrays):
                decl.append(f"const {t}* {n}_" if is_array else f"{t} {n}_")
                loads.append(f"const {t} {n} = {n}_[i];" if is_array else f"const {t} {n} = {n}_;")
            for t, n in self.outs:
                decl.append(f"{t}* {n}_")
                loads.append(f"{t}& {n} = {n}_[i];")
            source = (f"#include <cmath>\nusing std::exp; using std::fabs; using std::sqrt; using std::isnan;\n"
                      f"{_INTRINSICS}"
                      f"typedef {ctype} T;\n"
                      f'extern "C" void run({", ".join(decl)}) {{\n'
                      f"  for (long i = 0; i < n; ++i) {{ {' '.join(loads)} {self.body}; }}\n}}\n")
            stem = os.path.join(self.build_dir, f"{self.name}_{ctype}_{''.join(str(int(a)) for a in arrays)}")
            with open(stem + ".cpp", "w") as f:
                f.write(source)
            subprocess.run([CXX, "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o", stem + ".so", stem + ".cpp"],
                           check=True, capture_output=True)
            self._built[key] = ctypes.CDLL(stem + ".so").run
        return self._built[key]

    def __call__(self, *args):
        inputs, outputs = list(args[:self.nin]), list(args[self.nin:])
        arrays = [a for a in inputs + outputs if isinstance(a, np.ndarray)]
        dtype = arrays[0].dtype
        scalar, ctype = _SCALAR[dtype]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        if not outputs:
            outputs = [np.empty(shape, dtype) for _ in self.outs]
        dense_outputs = [np.ascontiguousarray(o) for o in outputs]
        call, keep = [ctypes.c_long(int(np.prod(shape)))], []
        for (t, _), a in zip(self.ins, inputs):
            if isinstance(a, np.ndarray):
                a = np.ascontiguousarray(np.broadcast_to(a, shape), dtype=dtype)
                keep.append(a)
                call.append(ctypes.c_void_p(a.ctypes.data))
            else:
                call.append(ctypes.c_bool(a) if t == "bool" else scalar(a))
        for out in dense_outputs:
            call.append(ctypes.c_void_p(out.ctypes.data))
        self._function(ctype, tuple(isinstance(a, np.ndarray) for a in inputs))(*call)
        for out, dense in zip(outputs, dense_outputs):
            if out is not dense:
                out[...] = dense
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def compile_cuda(name: str, params: list[str], body: str, ctype: str) -> None:
    """Compile `body` as a CUDA device function `name(params)` (with `T` = `ctype`) through cupy's NVRTC, as
    an `ElementwiseKernel` would; a CompileException (with the compiler's log) when it is not valid CUDA, a
    skip when cupy or NVRTC is not there."""
    import pytest

    cupy = pytest.importorskip("cupy", reason="cupy is not installed: pip install ember[cupy]")
    compiler = pytest.importorskip("cupy.cuda.compiler")
    include = os.path.join(os.path.dirname(cupy.__file__), "_core", "include")
    source = (f"#include <cupy/carray.cuh>\ntypedef {ctype} T;\n"
              f'extern "C" __device__ void {name}({", ".join(params)}) {{ {body}; }}\n')
    try:
        compiler._NVRTCProgram(source, f"{name}.cu").compile(("-I" + include, "-std=c++17", "-arch=compute_90"))
    except compiler.CompileException:
        raise  # not valid CUDA: the compiler's log says why
    except Exception as exc:  # no NVRTC library here: nothing can compile CUDA
        pytest.skip(f"NVRTC is unavailable ({type(exc).__name__}: {str(exc)[:120]}); "
                    f"pip install nvidia-cuda-nvrtc-cu12 to compile the kernels")
