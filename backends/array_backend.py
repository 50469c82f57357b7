"""`ArrayBackend`: the required tier written once against a numpy-like array module `xp`.

A subclass names its module (`array_module = "numpy"`, `"cupy"`); the module is imported when
the backend is first instantiated, never when the class is defined, so a backend class for an
absent or broken library costs nothing to import. On instantiation the elementwise primitives
are bound to the module's ufuncs as plain per-instance functions, so an op is one call.
`ArrayBackend` overrides no derived primitive and no fused kernel: with it, every default body
runs (the `reference` backend). `ArrayKernels` (`array_kernels.py`) adds the fast paths.
"""
from __future__ import annotations

import abc
import importlib
import importlib.util
import json

from ember import dtypes

from .base import Backend

# interface method -> xp function, for ufuncs taking (a[, b], out=)
REQUIRED_UNARY = {
    "neg": "negative", "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt",
    "sin": "sin", "cos": "cos", "tanh": "tanh", "floor": "floor", "bitwise_not": "invert",
}
REQUIRED_BINARY = {
    "add": "add", "mul": "multiply", "div": "true_divide", "pow": "power", "bitwise_and": "bitwise_and",
}
REQUIRED_COMPARE = {"equal": "equal", "less": "less"}


def _unary(fn, ndarray, asarray):
    def op(a, out=None):
        r = fn(a, out=out)
        return r if r.__class__ is ndarray else asarray(r)
    return op


def _binary(fn, ndarray, asarray):
    def op(a, b, out=None):
        r = fn(a, b, out=out)
        return r if r.__class__ is ndarray else asarray(r)
    return op


def _compare(fn, ndarray, asarray):
    def op(a, b):
        r = fn(a, b)
        return r if r.__class__ is ndarray else asarray(r)
    return op


def _method(make, fn_name: str):
    """The class-level method for a ufunc-backed primitive (the instance binds a faster copy)."""
    def method(self, *args, **kwargs):
        return make(getattr(self.xp, fn_name), self.xp.ndarray, self.xp.asarray)(*args, **kwargs)
    method.__name__ = fn_name
    return method


def ufunc_tables(unary: dict, binary: dict, compare: dict):
    return ((unary, _unary), (binary, _binary), (compare, _compare))


def install_ufunc_methods(cls, tables) -> None:
    """Define the class-level methods of `tables` on `cls` (documentation, and what the ABC checks)."""
    for table, make in tables:
        for name, fn in table.items():
            setattr(cls, name, _method(make, fn))
    abc.update_abstractmethods(cls)


def bind_ufuncs(backend, tables) -> None:
    """Bind `tables` to the instance: `backend.add` becomes the bare ufunc call (no method object)."""
    xp = backend.xp
    for table, make in tables:
        for name, fn in table.items():
            setattr(backend, name, make(getattr(xp, fn), xp.ndarray, xp.asarray))


_REQUIRED_TABLES = ufunc_tables(REQUIRED_UNARY, REQUIRED_BINARY, REQUIRED_COMPARE)


class ArrayBackend(Backend):
    """The required tier over the numpy-compatible module named by `array_module`."""

    #: import name of the array module, e.g. "numpy" or "cupy"
    array_module: str = ""

    def __init__(self, index: int | None = None) -> None:
        super().__init__(index)
        self.xp = xp = importlib.import_module(self.array_module)
        self._to_native = {d: xp.dtype(d.name) for d in self.supported_dtypes}
        self._from_native = {v: d for d, v in self._to_native.items()}
        bind_ufuncs(self, _REQUIRED_TABLES)

    def _arr(self, r):
        return r if r.__class__ is self.xp.ndarray else self.xp.asarray(r)

    # ---- devices ----
    @classmethod
    def is_available(cls) -> tuple[bool, str]:
        if importlib.util.find_spec(cls.array_module) is None:
            return False, f"the array library '{cls.array_module}' is not installed"
        return True, ""

    @classmethod
    def device_count(cls) -> int:
        return 1

    def library_version(self) -> str:
        return f"{self.array_module} {self.xp.__version__}"

    # ---- dtypes and transfer ----
    def dtype_of(self, a):
        try:
            return self._from_native[a.dtype]
        except KeyError:
            raise TypeError(f"{self.name} backend: arrays of dtype {a.dtype} are not supported by ember; "
                            f"supported: {', '.join(d.name for d in self._to_native)}") from None

    def asarray(self, data, dtype):
        return self.xp.array(data, dtype=self._to_native[dtype])  # a copy: `shares_host_memory` is False

    def to_numpy(self, a):
        import numpy

        return numpy.array(a)

    def astype(self, a, dtype):
        return a.astype(self._to_native[dtype])

    # ---- creation ----
    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, self._to_native[dtype])

    def arange(self, start, end, step, dtype):
        return self.xp.arange(start, end, step, dtype=self._to_native[dtype])

    # ---- random ----
    def new_generator(self, seed: int):
        return self.xp.random.Generator(self.xp.random.PCG64(seed))

    def generator_state(self, gen) -> bytes:
        return json.dumps(gen.bit_generator.state).encode()

    def set_generator_state(self, gen, state: bytes) -> None:
        gen.bit_generator.state = json.loads(state.decode())

    def _float_sample(self, draw, shape, dtype):
        if dtype is dtypes.float32 or dtype is dtypes.float64:
            return self._arr(draw(shape, dtype=self._to_native[dtype]))
        return self._arr(draw(shape, dtype=self.xp.float32)).astype(self._to_native[dtype])

    def uniform(self, gen, shape, low, high, dtype):
        r = self._float_sample(gen.random, shape, dtype)
        if low != 0.0 or high != 1.0:
            r *= high - low
            r += low
        return r

    # ---- elementwise ----
    def floor_divide(self, a, b, out=None):
        # INT_MIN // -1 wraps and x // 0.0 is inf, as in PyTorch: numpy warns about both, cupy never warns
        errstate = getattr(self.xp, "errstate", None)
        if errstate is None:
            return self._arr(self.xp.floor_divide(a, b, out=out))
        with errstate(over="ignore", divide="ignore", invalid="ignore"):
            return self._arr(self.xp.floor_divide(a, b, out=out))

    def where(self, cond, a, b):
        return self._arr(self.xp.where(cond, a, b))

    # ---- reductions ----
    def sum(self, a, axis=None, keepdims=False, dtype=None):
        nd = None if dtype is None else self._to_native[dtype]
        return self._arr(a.sum(axis=axis, keepdims=keepdims, dtype=nd))

    def prod(self, a, axis=None, keepdims=False, dtype=None):
        nd = None if dtype is None else self._to_native[dtype]
        return self._arr(a.prod(axis=axis, keepdims=keepdims, dtype=nd))

    def max(self, a, axis=None, keepdims=False):
        return self._arr(a.max(axis=axis, keepdims=keepdims))

    def argmax(self, a, axis=None, keepdims=False):
        return self._arr(a.argmax(axis=axis, keepdims=keepdims)).astype(self.xp.int64, copy=False)

    def cumsum(self, a, axis):
        return a.cumsum(axis=axis, dtype=a.dtype if a.dtype.kind == "f" else None)

    def sort(self, a, axis, descending):
        xp = self.xp
        if descending:  # the stable ascending order of the reversed array, reversed: equal values keep their order
            n = a.shape[axis]
            idx = (n - 1) - xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)
        else:
            idx = xp.argsort(a, axis=axis, kind="stable")
        return xp.take_along_axis(a, idx, axis), idx.astype(xp.int64, copy=False)

    # ---- shape and indexing ----
    def reshape(self, a, shape):
        return a.reshape(shape)

    def transpose(self, a, axes):
        return a.transpose(axes)

    def broadcast_to(self, a, shape):
        return self.xp.broadcast_to(a, shape)

    def concatenate(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def getitem(self, a, key):
        return self._arr(a[key])

    def setitem(self, a, key, value) -> None:
        a[key] = value

    def index_add(self, a, key, values):
        out = a.copy()
        self.xp.add.at(out, key, values)
        return out

    def nonzero(self, a):
        return self.xp.argwhere(a).astype(self.xp.int64, copy=False)

    def matmul(self, a, b):
        return self._arr(self.xp.matmul(a, b))


install_ufunc_methods(ArrayBackend, _REQUIRED_TABLES)
