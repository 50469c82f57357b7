"""Tier 1 of the backend interface: the required primitives.

A backend implements every abstract method here and nothing else; the derived primitives
(`derived.py`) and fused kernels (`fused.py`) have default bodies written with these, so a backend
that has only this tier runs all of ember. Conventions, unless a method says otherwise:

- arrays ("Array" below) are the backend's native arrays, on the backend's own device;
- core has already cast tensor operands to the result dtype, so a backend never decides
  promotion; either operand of a binary method may be a Python scalar;
- binary methods broadcast with numpy's rules;
- `out=`, where accepted, is an existing array of the result's shape and dtype to write into
  (the result is returned too);
- `axis` is an int, a tuple of ints or None (all axes);
- results are arrays, never library scalars: a reduction to 0-d returns a 0-d array.
"""
from __future__ import annotations

import abc
from typing import Any, Protocol, Sequence, runtime_checkable

Shape = tuple[int, ...]


@runtime_checkable
class Array(Protocol):
    """What ember needs of a native array: a shape (tuple of ints), a rank and a dtype."""

    @property
    def shape(self) -> Shape:
        """The shape, a tuple of ints."""

    @property
    def ndim(self) -> int:
        """The number of dimensions."""

    @property
    def dtype(self) -> Any:
        """The library's dtype object."""


Scalar = int | float | bool
Operand = Array | Scalar


class RequiredPrimitives(abc.ABC):
    """The primitives every backend implements (tier 1)."""

    # ---- devices -----------------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def is_available(cls) -> tuple[bool, str]:
        """(True, "") when the backend can run here, else (False, a reason a person can act on)."""

    @classmethod
    @abc.abstractmethod
    def device_count(cls) -> int:
        """How many devices of `device_type` this backend can use here (device indices 0..n-1)."""

    @abc.abstractmethod
    def library_version(self) -> str:
        """Name and version of the array library, e.g. "numpy 2.1.0"."""

    # ---- dtypes and host transfer ------------------------------------------------------------
    @abc.abstractmethod
    def dtype_of(self, a: Array):
        """The ember dtype of `a`; TypeError for a dtype ember does not have."""

    @abc.abstractmethod
    def asarray(self, data, dtype) -> Array:
        """A new array on this backend's device holding `data` (a host numpy array, nested lists or a
        number) cast to the ember `dtype`. May share memory with a host numpy array of that dtype when
        the backend declares `shares_host_memory`."""

    @abc.abstractmethod
    def to_numpy(self, a: Array):
        """The contents of `a` as a host numpy array (a view of `a` when `shares_host_memory`)."""

    @abc.abstractmethod
    def astype(self, a: Array, dtype) -> Array:
        """A new array: `a` cast to the ember `dtype` (floats to integers truncate toward zero)."""

    # ---- creation ----------------------------------------------------------------------------
    @abc.abstractmethod
    def full(self, shape: Shape, value: Scalar, dtype) -> Array:
        """A new array of `shape` filled with `value`."""

    @abc.abstractmethod
    def arange(self, start: Scalar, end: Scalar, step: Scalar, dtype) -> Array:
        """start, start + step, ... up to `end` (exclusive), as a 1-D array of `dtype`."""

    # ---- random (a generator is an opaque object of the backend, bound to its device) ---------
    @abc.abstractmethod
    def new_generator(self, seed: int) -> Any:
        """A random generator on this device seeded with `seed` (0 <= seed < 2**64); the same
        seed gives the same stream."""

    @abc.abstractmethod
    def generator_state(self, gen) -> bytes:
        """The generator's state as bytes that `set_generator_state` accepts."""

    @abc.abstractmethod
    def set_generator_state(self, gen, state: bytes) -> None:
        """Restore a state returned by `generator_state`."""

    @abc.abstractmethod
    def uniform(self, gen, shape: Shape, low: float, high: float, dtype) -> Array:
        """Samples of floating `dtype` from U[low, high), advancing `gen`."""

    # ---- elementwise: unary ------------------------------------------------------------------
    @abc.abstractmethod
    def neg(self, a: Array, out: Array | None = None) -> Array: """-a (wraps for integers)"""

    @abc.abstractmethod
    def exp(self, a: Array, out: Array | None = None) -> Array: """e**a"""

    @abc.abstractmethod
    def log(self, a: Array, out: Array | None = None) -> Array: """natural logarithm"""

    @abc.abstractmethod
    def log1p(self, a: Array, out: Array | None = None) -> Array: """log(1 + a), accurate near 0"""

    @abc.abstractmethod
    def expm1(self, a: Array, out: Array | None = None) -> Array: """exp(a) - 1, accurate near 0"""

    @abc.abstractmethod
    def sqrt(self, a: Array, out: Array | None = None) -> Array: """square root"""

    @abc.abstractmethod
    def sin(self, a: Array, out: Array | None = None) -> Array: """sine"""

    @abc.abstractmethod
    def cos(self, a: Array, out: Array | None = None) -> Array: """cosine"""

    @abc.abstractmethod
    def tanh(self, a: Array, out: Array | None = None) -> Array: """hyperbolic tangent"""

    @abc.abstractmethod
    def erf(self, a: Array, out: Array | None = None) -> Array: """the error function, to the dtype's precision"""

    @abc.abstractmethod
    def floor(self, a: Array, out: Array | None = None) -> Array: """round toward -inf"""

    @abc.abstractmethod
    def bitwise_not(self, a: Array, out: Array | None = None) -> Array:
        """~a for integers; logical not for bools"""

    # ---- elementwise: binary -----------------------------------------------------------------
    @abc.abstractmethod
    def add(self, a: Operand, b: Operand, out: Array | None = None) -> Array: """a + b (wraps for integers)"""

    @abc.abstractmethod
    def mul(self, a: Operand, b: Operand, out: Array | None = None) -> Array: """a * b (wraps for integers)"""

    @abc.abstractmethod
    def div(self, a: Operand, b: Operand, out: Array | None = None) -> Array: """true division of floats"""

    @abc.abstractmethod
    def floor_divide(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """floor(a / b), exact for integers (core rejects integer division by zero)"""

    @abc.abstractmethod
    def pow(self, a: Operand, b: Operand, out: Array | None = None) -> Array: """a ** b"""

    @abc.abstractmethod
    def bitwise_and(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """a & b for integers; logical and for bools"""

    @abc.abstractmethod
    def equal(self, a: Operand, b: Operand) -> Array: """bool: a == b (NaN equals nothing)"""

    @abc.abstractmethod
    def less(self, a: Operand, b: Operand) -> Array: """bool: a < b (False when either is NaN)"""

    @abc.abstractmethod
    def where(self, cond: Array, a: Operand, b: Operand) -> Array:
        """a where the bool array `cond` is True, else b (all three broadcast)"""

    # ---- reductions --------------------------------------------------------------------------
    @abc.abstractmethod
    def sum(self, a: Array, axis=None, keepdims: bool = False, dtype=None) -> Array:
        """Sum over `axis`; `dtype` (ember), when given, is the accumulation and result dtype. A sum
        over no elements is 0."""

    @abc.abstractmethod
    def prod(self, a: Array, axis=None, keepdims: bool = False, dtype=None) -> Array:
        """Product over `axis` (1 over no elements); `dtype` as in `sum`."""

    @abc.abstractmethod
    def max(self, a: Array, axis=None, keepdims: bool = False) -> Array:
        """Maximum over `axis` (non-empty); NaN propagates."""

    @abc.abstractmethod
    def argmax(self, a: Array, axis: int | None = None, keepdims: bool = False) -> Array:
        """int64 index of the first maximum along `axis` (of the flattened array when None); a NaN
        counts as the maximum."""

    @abc.abstractmethod
    def cumsum(self, a: Array, axis: int) -> Array:
        """Running sum along `axis`, in `a`'s dtype for floats (int64 for integers and bools)."""

    @abc.abstractmethod
    def sort(self, a: Array, axis: int, descending: bool) -> tuple[Array, Array]:
        """(sorted values, int64 indices) along `axis`; stable; NaN sorts as the largest value."""

    # ---- shape and indexing ------------------------------------------------------------------
    @abc.abstractmethod
    def reshape(self, a: Array, shape: Shape) -> Array:
        """The same elements (row-major order) in `shape` (a view when possible)."""

    @abc.abstractmethod
    def transpose(self, a: Array, axes: Sequence[int]) -> Array: """the axes of `a` permuted"""

    @abc.abstractmethod
    def broadcast_to(self, a: Array, shape: Shape) -> Array: """`a` broadcast to `shape` (read-only)"""

    @abc.abstractmethod
    def concatenate(self, arrays: Sequence[Array], axis: int) -> Array: """join along an existing axis"""

    @abc.abstractmethod
    def getitem(self, a: Array, key) -> Array:
        """numpy basic and advanced indexing: `key` is a tuple of ints, slices, None, Ellipsis and
        int64 or bool arrays of this backend (indices already validated by core)."""

    @abc.abstractmethod
    def setitem(self, a: Array, key, value: Operand) -> None:
        """In-place `a[key] = value` (`key` as in `getitem`; `value` broadcast and cast)."""

    @abc.abstractmethod
    def index_add(self, a: Array, key, values: Array) -> Array:
        """A new array: `a` with `values` added at `a[key]`; duplicate indices accumulate (np.add.at)."""

    @abc.abstractmethod
    def nonzero(self, a: Array) -> Array: """int64 (n, ndim) coordinates of the nonzero elements, row-major"""

    @abc.abstractmethod
    def matmul(self, a: Array, b: Array) -> Array: """matrix product with numpy's matmul rules (batched, broadcast)"""
