"""The ops interface every ember backend implements.

Arrays are the backend's native arrays ("A" below). Unless a method says otherwise:
- binary elementwise methods broadcast with numpy's rules, and either operand may be a Python
  scalar; core has already cast tensor operands to the result dtype, so a backend never
  decides promotion;
- elementwise methods accept `out=`: an existing array of the result's shape to write into;
- `axis` is an int, a tuple of ints or None (all axes);
- results are arrays, never library scalars (a 0-d reduction is a 0-d array);
- native arrays expose `.shape` (a tuple of ints) and `.ndim`, as the array API standard requires.
Optional fused kernels at the end have defaults written with the primitives; a backend may
override them for speed.
"""
from __future__ import annotations

import abc
from typing import Any, Sequence

A = Any  # a native array of the backend


class Backend(abc.ABC):
    """One array library serving one device type (numpy: "cpu", cupy: "cuda")."""

    #: unique backend name, e.g. "numpy"
    name: str = ""
    #: the device type it serves, e.g. "cpu"
    device_type: str = ""

    # ---- identity and devices ---------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def is_available(cls) -> tuple[bool, str]:
        """(True, "") when usable here, else (False, a reason a person can act on)."""

    @abc.abstractmethod
    def device_count(self) -> int:
        """Number of devices of `device_type` this backend can use."""

    @abc.abstractmethod
    def library_version(self) -> str:
        """Name and version of the array library, e.g. "numpy 2.1.0"."""

    @abc.abstractmethod
    def synchronize(self, index: int | None = None) -> None:
        """Wait until all queued work on the device has finished (no-op for synchronous ones)."""

    # ---- dtypes and transfer ----------------------------------------------------------------
    @abc.abstractmethod
    def native_dtype(self, dtype) -> Any:
        """The library's dtype object for an ember dtype."""

    @abc.abstractmethod
    def dtype_of(self, a: A):
        """The ember dtype of array `a`."""

    @abc.abstractmethod
    def asarray(self, data, dtype, index: int | None = None) -> A:
        """An array on device `index` from nested lists, numbers or a host numpy array, cast to `dtype`."""

    @abc.abstractmethod
    def to_numpy(self, a: A):
        """A host numpy array with the same contents (may share memory for host backends)."""

    @abc.abstractmethod
    def is_native(self, obj) -> bool:
        """True when `obj` is an array of this backend's library."""

    @abc.abstractmethod
    def owns_memory(self, a: A) -> bool:
        """True when `a` is a writable array that no other array views (safe to update in place)."""

    @abc.abstractmethod
    def astype(self, a: A, dtype) -> A:
        """`a` cast to the ember `dtype` (a new array)."""

    @abc.abstractmethod
    def copy(self, a: A) -> A:
        """A contiguous copy of `a`."""

    @abc.abstractmethod
    def copy_(self, dst: A, src) -> None:
        """Write `src` (array or scalar, broadcast to dst's shape, cast to dst's dtype) into `dst`."""

    # ---- creation ---------------------------------------------------------------------------
    @abc.abstractmethod
    def empty(self, shape: tuple[int, ...], dtype, index: int | None = None) -> A:
        """An uninitialised array."""

    @abc.abstractmethod
    def full(self, shape: tuple[int, ...], value, dtype, index: int | None = None) -> A:
        """An array filled with `value`."""

    @abc.abstractmethod
    def arange(self, start, end, step, dtype, index: int | None = None) -> A:
        """Values from `start` (inclusive) to `end` (exclusive) by `step`."""

    @abc.abstractmethod
    def linspace(self, start, end, steps: int, dtype, index: int | None = None) -> A:
        """`steps` evenly spaced values from `start` to `end`, both included."""

    @abc.abstractmethod
    def eye(self, n: int, m: int, dtype, index: int | None = None) -> A:
        """An n x m array with ones on the diagonal."""

    # ---- random (generators are opaque objects of the backend) ------------------------------
    @abc.abstractmethod
    def new_generator(self, seed: int) -> Any:
        """A random generator seeded with `seed`; the same seed gives the same stream."""

    @abc.abstractmethod
    def generator_state(self, gen) -> bytes:
        """The generator's state as bytes that `set_generator_state` accepts."""

    @abc.abstractmethod
    def set_generator_state(self, gen, state: bytes) -> None:
        """Restore a state from `generator_state`."""

    @abc.abstractmethod
    def uniform(self, gen, shape, low: float, high: float, dtype) -> A:
        """Samples from U[low, high)."""

    @abc.abstractmethod
    def normal(self, gen, shape, mean: float, std: float, dtype) -> A:
        """Samples from N(mean, std**2)."""

    @abc.abstractmethod
    def randint(self, gen, low: int, high: int, shape, dtype) -> A:
        """Integers uniform in [low, high)."""

    @abc.abstractmethod
    def permutation(self, gen, n: int, dtype) -> A:
        """A random permutation of 0..n-1."""

    @abc.abstractmethod
    def multinomial(self, gen, probs: A, num_samples: int, replacement: bool) -> A:
        """int64 indices drawn from each row of the 2-D non-negative weights `probs`."""

    # ---- elementwise: unary -----------------------------------------------------------------
    @abc.abstractmethod
    def neg(self, a: A, out: A | None = None) -> A: """-a"""

    @abc.abstractmethod
    def exp(self, a: A, out: A | None = None) -> A: """e**a"""

    @abc.abstractmethod
    def log(self, a: A, out: A | None = None) -> A: """natural logarithm"""

    @abc.abstractmethod
    def log1p(self, a: A, out: A | None = None) -> A: """log(1 + a), accurate near 0"""

    @abc.abstractmethod
    def expm1(self, a: A, out: A | None = None) -> A: """exp(a) - 1, accurate near 0"""

    @abc.abstractmethod
    def sqrt(self, a: A, out: A | None = None) -> A: """square root"""

    @abc.abstractmethod
    def sin(self, a: A, out: A | None = None) -> A: """sine"""

    @abc.abstractmethod
    def cos(self, a: A, out: A | None = None) -> A: """cosine"""

    @abc.abstractmethod
    def tan(self, a: A, out: A | None = None) -> A: """tangent"""

    @abc.abstractmethod
    def tanh(self, a: A, out: A | None = None) -> A: """hyperbolic tangent"""

    @abc.abstractmethod
    def erf(self, a: A, out: A | None = None) -> A: """the error function, accurate to the dtype's precision"""

    @abc.abstractmethod
    def abs(self, a: A, out: A | None = None) -> A: """absolute value"""

    @abc.abstractmethod
    def sign(self, a: A, out: A | None = None) -> A: """-1, 0 or 1 (0 for 0)"""

    @abc.abstractmethod
    def floor(self, a: A, out: A | None = None) -> A: """round down"""

    @abc.abstractmethod
    def ceil(self, a: A, out: A | None = None) -> A: """round up"""

    @abc.abstractmethod
    def round(self, a: A, decimals: int = 0) -> A: """round half to even at `decimals` digits"""

    @abc.abstractmethod
    def isnan(self, a: A) -> A: """bool: a is NaN"""

    @abc.abstractmethod
    def isinf(self, a: A) -> A: """bool: a is +-inf"""

    @abc.abstractmethod
    def logical_not(self, a: A, out: A | None = None) -> A: """bool: not a"""

    @abc.abstractmethod
    def bitwise_not(self, a: A, out: A | None = None) -> A: """bitwise not of integers (logical not of bools)"""

    # ---- elementwise: binary ----------------------------------------------------------------
    @abc.abstractmethod
    def add(self, a, b, out: A | None = None) -> A: """a + b"""

    @abc.abstractmethod
    def sub(self, a, b, out: A | None = None) -> A: """a - b"""

    @abc.abstractmethod
    def mul(self, a, b, out: A | None = None) -> A: """a * b"""

    @abc.abstractmethod
    def div(self, a, b, out: A | None = None) -> A: """true division a / b (float operands)"""

    @abc.abstractmethod
    def floor_divide(self, a, b, out: A | None = None) -> A: """floor(a / b)"""

    @abc.abstractmethod
    def remainder(self, a, b, out: A | None = None) -> A: """a - floor(a / b) * b (sign of b, as Python)"""

    @abc.abstractmethod
    def pow(self, a, b, out: A | None = None) -> A: """a ** b"""

    @abc.abstractmethod
    def maximum(self, a, b, out: A | None = None) -> A: """elementwise max; NaN propagates"""

    @abc.abstractmethod
    def minimum(self, a, b, out: A | None = None) -> A: """elementwise min; NaN propagates"""

    @abc.abstractmethod
    def clip(self, a: A, low, high, out: A | None = None) -> A: """min(max(a, low), high); low or high may be None"""

    @abc.abstractmethod
    def equal(self, a, b) -> A: """bool: a == b"""

    @abc.abstractmethod
    def not_equal(self, a, b) -> A: """bool: a != b"""

    @abc.abstractmethod
    def less(self, a, b) -> A: """bool: a < b"""

    @abc.abstractmethod
    def less_equal(self, a, b) -> A: """bool: a <= b"""

    @abc.abstractmethod
    def greater(self, a, b) -> A: """bool: a > b"""

    @abc.abstractmethod
    def greater_equal(self, a, b) -> A: """bool: a >= b"""

    @abc.abstractmethod
    def logical_and(self, a, b) -> A: """bool: a and b"""

    @abc.abstractmethod
    def logical_or(self, a, b) -> A: """bool: a or b"""

    @abc.abstractmethod
    def logical_xor(self, a, b) -> A: """bool: a xor b"""

    @abc.abstractmethod
    def bitwise_and(self, a, b, out: A | None = None) -> A: """a & b on integers or bools"""

    @abc.abstractmethod
    def bitwise_or(self, a, b, out: A | None = None) -> A: """a | b on integers or bools"""

    @abc.abstractmethod
    def bitwise_xor(self, a, b, out: A | None = None) -> A: """a ^ b on integers or bools"""

    @abc.abstractmethod
    def where(self, cond: A, a, b) -> A: """a where cond else b (broadcast)"""

    # ---- reductions -------------------------------------------------------------------------
    @abc.abstractmethod
    def sum(self, a: A, axis=None, keepdims: bool = False, dtype=None) -> A:
        """Sum over `axis`; `dtype` (ember) is the accumulation and result dtype when given."""

    @abc.abstractmethod
    def prod(self, a: A, axis=None, keepdims: bool = False, dtype=None) -> A: """product over `axis`"""

    @abc.abstractmethod
    def max(self, a: A, axis=None, keepdims: bool = False) -> A: """maximum over `axis` (NaN propagates)"""

    @abc.abstractmethod
    def min(self, a: A, axis=None, keepdims: bool = False) -> A: """minimum over `axis` (NaN propagates)"""

    @abc.abstractmethod
    def argmax(self, a: A, axis: int | None = None, keepdims: bool = False) -> A:
        """int64 index of the first maximum along `axis` (of the flattened array when None)."""

    @abc.abstractmethod
    def argmin(self, a: A, axis: int | None = None, keepdims: bool = False) -> A:
        """int64 index of the first minimum along `axis`."""

    @abc.abstractmethod
    def all(self, a: A, axis=None, keepdims: bool = False) -> A: """bool: every element is nonzero"""

    @abc.abstractmethod
    def any(self, a: A, axis=None, keepdims: bool = False) -> A: """bool: some element is nonzero"""

    @abc.abstractmethod
    def cumsum(self, a: A, axis: int) -> A: """running sum along `axis` (same dtype as `a` for floats)"""

    @abc.abstractmethod
    def sort(self, a: A, axis: int, descending: bool) -> tuple[A, A]:
        """(sorted values, int64 indices) along `axis` (ascending order is stable)."""

    # ---- shape and indexing -----------------------------------------------------------------
    @abc.abstractmethod
    def reshape(self, a: A, shape: tuple[int, ...]) -> A: """same data in a new shape (a view when possible)"""

    @abc.abstractmethod
    def transpose(self, a: A, axes: Sequence[int]) -> A: """permute the axes (a view)"""

    @abc.abstractmethod
    def broadcast_to(self, a: A, shape: tuple[int, ...]) -> A: """a read-only broadcast view"""

    @abc.abstractmethod
    def concatenate(self, arrays: Sequence[A], axis: int) -> A: """join arrays along an existing axis"""

    @abc.abstractmethod
    def flip(self, a: A, axes: tuple[int, ...]) -> A: """reverse the order along `axes`"""

    @abc.abstractmethod
    def roll(self, a: A, shifts: tuple[int, ...], axes: tuple[int, ...]) -> A: """roll elements along axes"""

    @abc.abstractmethod
    def pad(self, a: A, pad_width: Sequence[tuple[int, int]], value) -> A:
        """Constant-pad each axis by (before, after) elements."""

    @abc.abstractmethod
    def getitem(self, a: A, key) -> A:
        """numpy indexing: ints, slices, None, Ellipsis, int64/bool arrays (indices already validated)."""

    @abc.abstractmethod
    def setitem(self, a: A, key, value) -> None: """in-place `a[key] = value`"""

    @abc.abstractmethod
    def index_add(self, a: A, key, values: A) -> A:
        """A copy of `a` with `values` added at `a[key]`; duplicate indices accumulate (np.add.at)."""

    @abc.abstractmethod
    def take_along_axis(self, a: A, index: A, axis: int) -> A: """torch.gather: out[i][j] = a[index[i][j]][j] for axis 0"""

    @abc.abstractmethod
    def scatter_add(self, a: A, axis: int, index: A, src: A) -> A:
        """torch.scatter_add (functional): a copy of `a` with src added at `index` along `axis`; duplicates accumulate."""

    @abc.abstractmethod
    def nonzero(self, a: A) -> A: """int64 (n, ndim) coordinates of the nonzero elements"""

    # ---- linear algebra ---------------------------------------------------------------------
    @abc.abstractmethod
    def matmul(self, a: A, b: A) -> A: """matrix product with numpy's matmul rules (batched, broadcast)"""

    # ---- optional fused kernels (defaults from primitives) -----------------------------------
    def logsumexp(self, a: A, axis: int, keepdims: bool = False) -> A:
        """log(sum(exp(a))) along `axis`, computed stably."""
        m = self.max(a, axis, True)
        m = self.where(self.isinf(m), 0.0, m)
        s = self.log(self.sum(self.exp(self.sub(a, m)), axis, True))
        out = self.add(s, m)
        return out if keepdims else self.reshape(out, _drop_axis(out.shape, axis))

    def softmax(self, a: A, axis: int) -> A:
        """exp(a) / sum(exp(a)) along `axis`, computed stably."""
        e = self.exp(self.sub(a, self.max(a, axis, True)))
        return self.div(e, self.sum(e, axis, True))

    def sigmoid(self, a: A) -> A:
        """1 / (1 + exp(-a)), without overflow for large |a|."""
        return self.add(self.mul(self.tanh(self.mul(a, 0.5)), 0.5), 0.5)

    def log_softmax(self, a: A, axis: int) -> A:
        """a - logsumexp(a) along `axis`."""
        return self.sub(a, self.logsumexp(a, axis, True))


def _drop_axis(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    axis = axis % len(shape)
    return shape[:axis] + shape[axis + 1:]
