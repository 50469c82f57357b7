"""`ArrayApiStrictBackend`: ember's required primitives over array-api-strict."""
from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember import dtypes
from ember.backends import Backend
from ember.backends.required import Array, Operand, Scalar, Shape

from . import indexing
from .erf import erf as _erf

#: array-api-strict's emulated devices, one per ember device index ("strict:0" is the default device).
#: Its "no_float64" and "no_x64" devices are left out: their dtypes differ from these, and ember
#: declares `supported_dtypes` per backend class.
DEVICES = ("CPU_DEVICE", "device1", "device2")


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _unary(name: str, function: str, doc: str) -> Callable:
    """The unary primitive `name`: the library's `function`."""
    def op(self, a: Array, out: Array | None = None) -> Array:
        return self._result(getattr(self.xp, function)(a), out)
    op.__name__, op.__qualname__, op.__doc__ = name, f"ArrayApiStrictBackend.{name}", doc
    return op


def _binary(name: str, function: str, doc: str, bool_function: str | None = None) -> Callable:
    """The binary primitive `name`: the library's `function`, or `bool_function` for two bool operands
    (the standard has no bool arithmetic; numpy's `+` and `*` on bools are `or` and `and`)."""
    def op(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        a, b = self._operands(a, b)
        chosen = bool_function if bool_function and self._is_bool(a) and self._is_bool(b) else function
        return self._result(getattr(self.xp, chosen)(a, b), out)
    op.__name__, op.__qualname__, op.__doc__ = name, f"ArrayApiStrictBackend.{name}", doc
    return op


class ArrayApiStrictBackend(Backend):
    """ember on array-api-strict, the array API standard's reference library: the required tier only.

    Device type "strict", three devices (`strict:0` .. `strict:2`, the library's emulated devices;
    arrays of two devices never mix). Every derived primitive and fused kernel runs at its default.

    Not supported, by capability: float16 (the library has no float16), and shared host memory
    (`asarray` and `to_numpy` copy).

    What the standard lacks, done with the library's own operations: numpy's mixed and advanced
    indexing, fancy assignment and `index_add` (a `take` over flattened axes, sorted positions with
    `searchsorted`, and a segmented scan; see `indexing`), erf (Cody's rational approximations; see
    `erf`), arithmetic and reductions on bools (as numpy: `or`, `and`, counts).

    Host round trips through numpy: the transfers themselves (`asarray` builds a numpy array of the
    target dtype, then copies it in; `to_numpy` copies out through DLPack), and random numbers: a
    generator is a host `numpy.random.Generator(PCG64(seed))` whose float draws are copied onto the
    device (the library has no random numbers).
    """

    name = "array_api_strict"
    device_type = "strict"
    supported_dtypes = frozenset(dtypes.ALL) - {dtypes.float16}
    shares_host_memory = False
    views_share_memory = False  # the array API standard does not promise that indexing returns views
    known_failures: tuple[str, ...] = ()

    def __init__(self, index: int | None = None) -> None:
        """Serve ember device `strict:index` (index None: the first device)."""
        super().__init__(index)
        import array_api_strict as xp

        self.xp = xp
        #: the library's device this backend allocates on
        self.native_device = xp.Device(DEVICES[index or 0])
        self._to_native = {d: getattr(xp, d.name) for d in self.supported_dtypes}
        self._from_native = {v: d for d, v in self._to_native.items()}

    # ---- helpers (not part of the interface) ----------------------------------------------------
    def _result(self, r: Array, out: Array | None) -> Array:
        if out is None:
            return r
        out[...] = r if r.dtype == out.dtype else self.xp.astype(r, out.dtype)
        return out

    def _scalar(self, value: Scalar) -> Array:
        """A Python scalar as a 0-d array of its default dtype (bool, int64 or float64)."""
        return self.xp.asarray(value, device=self.native_device)

    def _operands(self, a: Operand, b: Operand) -> tuple:
        """`a` and `b` as the standard accepts them: a bool scalar meets numbers as an int (the standard
        promotes bool scalars with bool arrays only); of two scalars the first becomes an array of their
        common kind."""
        if not _is_array(a) and not _is_array(b):
            kinds = {bool if isinstance(v, bool) else float if isinstance(v, float) else int for v in (a, b)}
            kind = float if float in kinds else int if int in kinds else bool
            return self._scalar(kind(a)), kind(b)
        if isinstance(a, bool) and b.dtype != self.xp.bool:
            return int(a), b
        if isinstance(b, bool) and a.dtype != self.xp.bool:
            return a, int(b)
        return a, b

    def _is_bool(self, x: Operand) -> bool:
        return isinstance(x, bool) or (_is_array(x) and x.dtype == self.xp.bool)

    def _numeric(self, x: Operand) -> Operand:
        """`x`, a bool array as uint8: the standard orders no bools."""
        return self.xp.astype(x, self.xp.uint8) if _is_array(x) and x.dtype == self.xp.bool else x

    def _native_dtype(self, dtype: dtypes.dtype) -> Any:
        """The library's dtype for the ember `dtype`; `DtypeNotSupportedError` for one it lacks."""
        try:
            return self._to_native[dtype]
        except KeyError:
            self.check_dtype(dtype)
            raise

    def _like(self, value: Operand, like: Array) -> Array:
        """`value` (an array or a Python scalar) as an array of like's dtype."""
        value = value if _is_array(value) else self._scalar(value)
        return value if value.dtype == like.dtype else self.xp.astype(value, like.dtype)

    @staticmethod
    def _axis(axis: Any) -> Any:
        return tuple(axis) if isinstance(axis, list) else axis

    # ---- devices ----------------------------------------------------------------------------------
    @classmethod
    def is_available(cls) -> tuple[bool, str]:
        """Available when array-api-strict is installed."""
        if importlib.util.find_spec("array_api_strict") is None:
            return False, "the array library 'array_api_strict' is not installed (pip install array-api-strict)"
        return True, ""

    @classmethod
    def device_count(cls) -> int:
        """The library's three emulated devices (0 when it is not installed)."""
        return len(DEVICES) if cls.is_available()[0] else 0

    def library_version(self) -> str:
        return f"array_api_strict {self.xp.__version__}"

    # ---- dtypes and host transfer -------------------------------------------------------------
    def dtype_of(self, a: Array) -> dtypes.dtype:
        try:
            return self._from_native[a.dtype]
        except KeyError:
            raise TypeError(f"{self.name} backend: arrays of dtype {a.dtype} are not supported by ember; supported: "
                            f"{', '.join(sorted(d.name for d in self.supported_dtypes))}") from None

    def asarray(self, data: Any, dtype: dtypes.dtype) -> Array:
        """A copy of the host `data` on this device: through a numpy array of the target dtype."""
        native = self._native_dtype(dtype)
        return self.xp.asarray(np.array(data, dtype=np.dtype(dtype.name)), dtype=native, device=self.native_device)

    def to_numpy(self, a: Array) -> np.ndarray:
        """A host copy of `a` (through DLPack, which every device of the library exports)."""
        return np.from_dlpack(a).copy()

    def astype(self, a: Array, dtype: dtypes.dtype) -> Array:
        return self.xp.astype(a, self._native_dtype(dtype))

    # ---- creation ---------------------------------------------------------------------------------
    def full(self, shape: Shape, value: Scalar, dtype: dtypes.dtype) -> Array:
        return self.xp.full(tuple(shape), value, dtype=self._native_dtype(dtype), device=self.native_device)

    def arange(self, start: Scalar, end: Scalar, step: Scalar, dtype: dtypes.dtype) -> Array:
        return self.xp.arange(start, end, step, dtype=self._native_dtype(dtype), device=self.native_device)

    # ---- random: a host numpy generator (the library has none) ---------------------------------
    def new_generator(self, seed: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(seed))

    def generator_state(self, gen: np.random.Generator) -> bytes:
        return json.dumps(gen.bit_generator.state).encode()

    def set_generator_state(self, gen: np.random.Generator, state: bytes) -> None:
        gen.bit_generator.state = json.loads(state.decode())

    def uniform(self, gen: np.random.Generator, shape: Shape, low: float, high: float, dtype: dtypes.dtype) -> Array:
        """Samples from U[low, high), drawn on the host and copied onto the device."""
        host = gen.random(tuple(shape), dtype=np.float32 if dtype is dtypes.float32 else np.float64)
        if low != 0.0 or high != 1.0:
            host = host * (high - low) + low
        return self.asarray(host, dtype)

    # ---- elementwise: unary -------------------------------------------------------------------
    neg = _unary("neg", "negative", "-a (wraps for integers)")
    exp = _unary("exp", "exp", "e**a")
    log = _unary("log", "log", "natural logarithm")
    log1p = _unary("log1p", "log1p", "log(1 + a), accurate near 0")
    expm1 = _unary("expm1", "expm1", "exp(a) - 1, accurate near 0")
    sqrt = _unary("sqrt", "sqrt", "square root")
    sin = _unary("sin", "sin", "sine")
    cos = _unary("cos", "cos", "cosine")
    tanh = _unary("tanh", "tanh", "hyperbolic tangent")
    floor = _unary("floor", "floor", "round toward -inf")
    bitwise_not = _unary("bitwise_not", "bitwise_invert", "~a for integers; logical not for bools")

    def erf(self, a: Array, out: Array | None = None) -> Array:
        """the error function (Cody's approximations in float64, see `erf.py`)"""
        return self._result(_erf(self.xp, a), out)

    # ---- elementwise: binary ------------------------------------------------------------------
    add = _binary("add", "add", "a + b (wraps for integers; `or` for bools)", "logical_or")
    mul = _binary("mul", "multiply", "a * b (wraps for integers; `and` for bools)", "logical_and")
    div = _binary("div", "divide", "true division of floats")
    floor_divide = _binary("floor_divide", "floor_divide", "floor(a / b), exact for integers")
    pow = _binary("pow", "pow", "a ** b")
    bitwise_and = _binary("bitwise_and", "bitwise_and", "a & b for integers; logical and for bools")

    def equal(self, a: Operand, b: Operand) -> Array:
        return self.xp.equal(*self._operands(a, b))

    def less(self, a: Operand, b: Operand) -> Array:
        return self.xp.less(*self._operands(self._numeric(a), self._numeric(b)))

    def where(self, cond: Array, a: Operand, b: Operand) -> Array:
        return self.xp.where(cond, *self._operands(a, b))

    # ---- reductions ---------------------------------------------------------------------------
    def sum(self, a: Array, axis=None, keepdims: bool = False, dtype=None) -> Array:
        """Sum over `axis`; bools count (int64 unless `dtype` says otherwise)."""
        native = None if dtype is None else self._native_dtype(dtype)
        if a.dtype == self.xp.bool:
            a = self.xp.astype(a, native or self.xp.int64)
        return self.xp.sum(a, axis=self._axis(axis), keepdims=keepdims, dtype=native)

    def prod(self, a: Array, axis=None, keepdims: bool = False, dtype=None) -> Array:
        """Product over `axis`; bools as 0 and 1 (int64 unless `dtype` says otherwise)."""
        native = None if dtype is None else self._native_dtype(dtype)
        if a.dtype == self.xp.bool:
            a = self.xp.astype(a, native or self.xp.int64)
        return self.xp.prod(a, axis=self._axis(axis), keepdims=keepdims, dtype=native)

    def max(self, a: Array, axis=None, keepdims: bool = False) -> Array:
        r = self.xp.max(self._numeric(a), axis=self._axis(axis), keepdims=keepdims)
        return self.xp.astype(r, a.dtype) if r.dtype != a.dtype else r

    def argmax(self, a: Array, axis: int | None = None, keepdims: bool = False) -> Array:
        return self.xp.argmax(self._numeric(a), axis=axis, keepdims=keepdims)

    def cumsum(self, a: Array, axis: int) -> Array:
        xp = self.xp
        if xp.isdtype(a.dtype, "real floating"):
            return xp.cumulative_sum(a, axis=axis)
        return xp.cumulative_sum(xp.astype(a, xp.int64), axis=axis)

    def sort(self, a: Array, axis: int, descending: bool) -> tuple[Array, Array]:
        xp = self.xp
        order = xp.argsort(self._numeric(a), axis=axis, descending=descending, stable=True)
        return xp.take_along_axis(a, order, axis=axis), order

    # ---- shape and indexing -------------------------------------------------------------------
    def reshape(self, a: Array, shape: Shape) -> Array:
        return self.xp.reshape(a, tuple(shape))

    def transpose(self, a: Array, axes: Sequence[int]) -> Array:
        return self.xp.permute_dims(a, tuple(axes))

    def broadcast_to(self, a: Array, shape: Shape) -> Array:
        return self.xp.broadcast_to(a, tuple(shape))

    def concatenate(self, arrays: Sequence[Array], axis: int) -> Array:
        return self.xp.concat(list(arrays), axis=axis)

    def getitem(self, a: Array, key: Any) -> Array:
        """numpy's indexing, see `indexing.getitem`."""
        return indexing.getitem(self.xp, a, key)

    def setitem(self, a: Array, key: Any, value: Operand) -> None:
        """numpy's assignment, in place, see `indexing.setitem`."""
        indexing.setitem(self.xp, a, key, self._like(value, a))

    def index_add(self, a: Array, key: Any, values: Array) -> Array:
        """`np.add.at` on a copy, see `indexing.index_add`."""
        return indexing.index_add(self.xp, a, key, self._like(values, a))

    def nonzero(self, a: Array) -> Array:
        xp = self.xp
        if a.ndim == 0:  # the standard's nonzero refuses 0-d arrays; numpy's argwhere gives (0 or 1, 0)
            return xp.zeros((int(bool(a)), 0), dtype=xp.int64, device=self.native_device)
        return xp.stack(xp.nonzero(a), axis=1)

    def matmul(self, a: Array, b: Array) -> Array:
        return self.xp.matmul(a, b)
