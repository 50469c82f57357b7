"""Tier 2 of the backend interface: derived primitives, with default bodies over the required tier.

Core calls these like any primitive. Each default is exact (or as precise as the required
primitives it uses) and handles Python-scalar operands, NaN and the integer dtypes; a backend
overrides one only to make it faster, and ember's consistency test holds every override
against the default here. Results follow the conventions of `required.py`.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ember import dtypes

from .required import Array, Operand, RequiredPrimitives, Scalar, Shape

_SCALARS = (bool, int, float)


def _is_scalar(x) -> bool:
    return isinstance(x, _SCALARS)


class DerivedPrimitives(RequiredPrimitives):
    """Primitives with defaults written over the required ones (tier 2)."""

    # ---- helpers (not part of the interface) ----------------------------------------------------
    def _work_float(self):
        """The widest floating dtype this backend supports (for intermediate results)."""
        return dtypes.float64 if dtypes.float64 in self.supported_dtypes else dtypes.float32

    def _into(self, r: Array, out: Array | None) -> Array:
        if out is None:
            return r
        self.copy_(out, r)
        return out

    def _truth(self, x):
        """`x` as bools (nonzero is True)."""
        if _is_scalar(x):
            return bool(x)
        return x if self.dtype_of(x) is dtypes.bool else self.logical_not(self.logical_not(x))

    def _invert(self, x):
        if isinstance(x, bool):
            return not x
        if isinstance(x, int):
            return ~x
        return self.bitwise_not(x)

    def _nan_mask(self, x):
        """isnan(x) for an array, or a Python bool for a scalar."""
        if _is_scalar(x):
            return isinstance(x, float) and math.isnan(x)
        return self.isnan(x)

    def _is_float(self, a) -> bool:
        return self.dtype_of(a).is_floating_point

    # ---- devices and memory -------------------------------------------------------------------
    def synchronize(self) -> None:
        """Wait until all queued work on this device has finished (nothing to do when synchronous)."""

    def owns_memory(self, a: Array) -> bool:
        """True when `a` is writable and no other array views it (core may then update it in place);
        False is always safe."""
        return False

    # ---- transfer and creation ------------------------------------------------------------------
    def from_dlpack(self, obj) -> Array:
        """An array of this backend holding the data of `obj`, a host (kDLCPU) object with `__dlpack__` (a numpy
        array, a CPU torch tensor, ...). The default copies through `numpy.from_dlpack` and `asarray` (no copy
        when `asarray` shares host memory); a backend whose arrays speak DLPack overrides it to share memory."""
        import numpy

        host = numpy.from_dlpack(obj)
        if host.dtype.name not in dtypes.BY_NAME:
            raise TypeError(f"from_dlpack: ember has no dtype {host.dtype.name}")
        return self.asarray(host, dtypes.BY_NAME[host.dtype.name])

    def copy(self, a: Array) -> Array:
        """A new array with the contents of `a`."""
        return self.astype(a, self.dtype_of(a))

    def copy_(self, dst: Array, src: Operand) -> None:
        """Write `src` (an array or scalar, broadcast to dst's shape and cast to its dtype) into `dst`."""
        self.setitem(dst, (Ellipsis,), src)

    def empty(self, shape: Shape, dtype) -> Array:
        """A new array of `shape` whose contents are unspecified."""
        return self.full(shape, 0, dtype)

    def linspace(self, start: Scalar, end: Scalar, steps: int, dtype) -> Array:
        """`steps` evenly spaced values from `start` to `end`, both included."""
        work = self._work_float()
        if steps == 1:
            return self.full((1,), start, dtype)
        ramp = self.arange(0, steps, 1, work)
        r = self.add(self.mul(ramp, (end - start) / max(steps - 1, 1)), start)
        if steps > 1:
            self.setitem(r, (steps - 1,), end)
        return self.astype(r, dtype)

    def eye(self, n: int, m: int, dtype) -> Array:
        """An n x m array with ones on the main diagonal, zeros elsewhere."""
        rows = self.reshape(self.arange(0, n, 1, dtypes.int64), (n, 1))
        cols = self.reshape(self.arange(0, m, 1, dtypes.int64), (1, m))
        return self.astype(self.equal(rows, cols), dtype)

    # ---- random -------------------------------------------------------------------------------
    def normal(self, gen, shape: Shape, mean: float, std: float, dtype) -> Array:
        """Samples from N(mean, std**2) (Box-Muller over `uniform`)."""
        work = self._work_float()
        u1 = self.uniform(gen, shape, 0.0, 1.0, work)
        u2 = self.uniform(gen, shape, 0.0, 1.0, work)
        radius = self.sqrt(self.mul(self.log1p(self.neg(u1)), -2.0))
        z = self.mul(radius, self.cos(self.mul(u2, 2 * math.pi)))
        return self.astype(self.add(self.mul(z, std), mean), dtype)

    def randint(self, gen, low: int, high: int, shape: Shape, dtype) -> Array:
        """Integers uniform in [low, high) (exact while high - low < 2**53 with float64 support)."""
        work = self._work_float()
        u = self.uniform(gen, shape, 0.0, 1.0, work)
        r = self.floor(self.mul(u, float(high - low)))
        r = self.minimum(self.astype(r, dtypes.int64), high - low - 1)
        return self.astype(self.add(r, low), dtype)

    def permutation(self, gen, n: int, dtype) -> Array:
        """A random permutation of 0..n-1 (the order that sorts n uniform keys)."""
        _, order = self.sort(self.uniform(gen, (n,), 0.0, 1.0, self._work_float()), 0, False)
        return self.astype(order, dtype)

    def multinomial(self, gen, probs: Array, num_samples: int, replacement: bool) -> Array:
        """int64 (rows, num_samples) category indices drawn from each row of the 2-D non-negative
        weights `probs` (rows need not sum to 1)."""
        work = self._work_float()
        p = self.astype(probs, work)
        rows, n = p.shape
        if replacement:  # inverse CDF: the number of cumulative weights <= u * total
            u = self.uniform(gen, (rows, num_samples), 0.0, 1.0, work)
            cdf = self.cumsum(p, 1)
            total = self.getitem(cdf, (slice(None), slice(n - 1, n)))
            below = self.less_equal(self.reshape(cdf, (rows, 1, n)),
                                    self.reshape(self.mul(u, total), (rows, num_samples, 1)))
            return self.sum(below, 2, dtype=dtypes.int64)
        # without replacement: the num_samples largest keys log(u) / p (Efraimidis-Spirakis)
        u = self.uniform(gen, (rows, n), 0.0, 1.0, work)
        keys = self.where(self.less(0, p), self.div(self.log(u), p), -math.inf)
        _, order = self.sort(keys, 1, True)
        return self.getitem(order, (slice(None), slice(0, num_samples)))

    # ---- elementwise: unary -------------------------------------------------------------------
    def tan(self, a: Array, out: Array | None = None) -> Array:
        """tangent"""
        return self._into(self.div(self.sin(a), self.cos(a)), out)

    def abs(self, a: Array, out: Array | None = None) -> Array:
        """`|a|` (0.0 for -0.0)"""
        dt = self.dtype_of(a)
        if dt is dtypes.bool or (not dt.is_floating_point and not dt.is_signed):
            return self._into(self.copy(a), out)
        return self._into(self.where(self.less(a, 0), self.neg(a), self.add(a, 0)), out)

    def sign(self, a: Array, out: Array | None = None) -> Array:
        """-1, 0 or 1 by the sign of a; NaN stays NaN"""
        dt = self.dtype_of(a)
        if dt is dtypes.bool:
            return self._into(self.copy(a), out)
        r = self.sub(self.astype(self.less(0, a), dt), self.astype(self.less(a, 0), dt))
        if dt.is_floating_point:
            r = self.where(self.isnan(a), a, r)
        return self._into(r, out)

    def ceil(self, a: Array, out: Array | None = None) -> Array:
        """round toward +inf"""
        if not self._is_float(a):
            return self._into(self.copy(a), out)
        return self._into(self.neg(self.floor(self.neg(a))), out)

    def round(self, a: Array, decimals: int = 0) -> Array:
        """Round half to even at `decimals` decimal digits (scaled by 10**decimals, as numpy)."""
        if not self._is_float(a):
            return self.copy(a)
        if decimals:
            scale = 10.0 ** decimals
            return self.div(self.round(self.mul(a, scale)), scale)
        special = self.logical_or(self.isinf(a), self.isnan(a))
        x = self.where(special, 0.0, a)  # NaN and inf are their own rounding; keep them out of the arithmetic
        f = self.floor(x)
        frac = self.sub(x, f)
        r = self.where(self.less(0.5, frac), self.add(f, 1), f)
        r = self.where(self.equal(frac, 0.5), self.add(f, self.remainder(f, 2)), r)
        return self.where(special, a, r)

    def isnan(self, a: Array) -> Array:
        """bool: a is NaN"""
        return self.logical_not(self.equal(a, a))

    def isinf(self, a: Array) -> Array:
        """bool: a is +inf or -inf"""
        if not self._is_float(a):
            return self.full(a.shape, False, dtypes.bool)
        return self.equal(self.abs(a), math.inf)

    def logical_not(self, a: Array, out: Array | None = None) -> Array:
        """bool: a is zero"""
        return self._into(self.equal(a, False if self.dtype_of(a) is dtypes.bool else 0), out)

    # ---- elementwise: binary ------------------------------------------------------------------
    def sub(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """a - b (wraps for integers)"""
        if not _is_scalar(b):
            return self._into(self.add(a, self.neg(b)), out)
        dt = self.dtype_of(a)
        if not (dt.is_floating_point or dt.is_signed or dt is dtypes.bool):  # unsigned: -b modulo 2**bits
            return self._into(self.add(a, -int(b) % (1 << 8 * dt.itemsize)), out)
        return self._into(self.add(a, -b), out)

    def remainder(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """a - floor(a / b) * b: the sign of b, as Python's %"""
        if not _is_scalar(b) and self.dtype_of(b).is_signed and not self._is_float(b):
            b = self.where(self.equal(b, -1), 1, b)  # x % -1 == x % 1 == 0, and INT_MIN // -1 would overflow
        elif _is_scalar(b) and b == -1 and not isinstance(b, float):
            b = 1
        return self._into(self.sub(a, self.mul(self.floor_divide(a, b), b)), out)

    def maximum(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """elementwise max; NaN propagates"""
        return self._into(self.where(self.logical_or(self.less(b, a), self._nan_mask(a)), a, b), out)

    def minimum(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """elementwise min; NaN propagates"""
        return self._into(self.where(self.logical_or(self.less(a, b), self._nan_mask(a)), a, b), out)

    def clip(self, a: Array, low: Operand | None, high: Operand | None, out: Array | None = None) -> Array:
        """min(max(a, low), high); either bound may be None"""
        r = a if low is None else self.maximum(a, low)
        r = r if high is None else self.minimum(r, high)
        return self._into(self.copy(r) if r is a else r, out)

    def not_equal(self, a: Operand, b: Operand) -> Array:
        """bool: a != b (True where either is NaN)"""
        return self.logical_not(self.equal(a, b))

    def less_equal(self, a: Operand, b: Operand) -> Array:
        """bool: a <= b"""
        return self.logical_or(self.less(a, b), self.equal(a, b))

    def greater(self, a: Operand, b: Operand) -> Array:
        """bool: a > b"""
        return self.less(b, a)

    def greater_equal(self, a: Operand, b: Operand) -> Array:
        """bool: a >= b"""
        return self.less_equal(b, a)

    def logical_and(self, a: Operand, b: Operand) -> Array:
        """bool: a and b"""
        return self.bitwise_and(self._truth(a), self._truth(b))

    def logical_or(self, a: Operand, b: Operand) -> Array:
        """bool: a or b"""
        return self.bitwise_or(self._truth(a), self._truth(b))

    def logical_xor(self, a: Operand, b: Operand) -> Array:
        """bool: a xor b"""
        return self.bitwise_xor(self._truth(a), self._truth(b))

    def bitwise_or(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """a | b for integers; logical or for bools"""
        return self._into(self._invert(self.bitwise_and(self._invert(a), self._invert(b))), out)

    def bitwise_xor(self, a: Operand, b: Operand, out: Array | None = None) -> Array:
        """a ^ b for integers; logical xor for bools"""
        return self._into(self.bitwise_and(self.bitwise_or(a, b), self._invert(self.bitwise_and(a, b))), out)

    # ---- reductions -----------------------------------------------------------------------------
    def min(self, a: Array, axis=None, keepdims: bool = False) -> Array:
        """Minimum over `axis` (non-empty); NaN propagates."""
        if self._is_float(a):
            return self.neg(self.max(self.neg(a), axis, keepdims))
        return self.bitwise_not(self.max(self.bitwise_not(a), axis, keepdims))

    def argmin(self, a: Array, axis: int | None = None, keepdims: bool = False) -> Array:
        """int64 index of the first minimum along `axis`; a NaN counts as the minimum."""
        return self.argmax(self.neg(a) if self._is_float(a) else self.bitwise_not(a), axis, keepdims)

    def all(self, a: Array, axis=None, keepdims: bool = False) -> Array:
        """bool: every element along `axis` is nonzero (True over no elements)"""
        return self.equal(self.sum(self.logical_not(a), axis, keepdims, dtypes.int64), 0)

    def any(self, a: Array, axis=None, keepdims: bool = False) -> Array:
        """bool: some element along `axis` is nonzero (False over no elements)"""
        return self.less(0, self.sum(self._truth(a), axis, keepdims, dtypes.int64))

    # ---- shape and indexing ---------------------------------------------------------------------
    def flip(self, a: Array, axes: tuple[int, ...]) -> Array:
        """`a` reversed along `axes`."""
        axes = {ax % a.ndim for ax in axes}
        return self.copy(self.getitem(a, tuple(slice(None, None, -1) if d in axes else slice(None)
                                               for d in range(a.ndim))))

    def roll(self, a: Array, shifts: tuple[int, ...], axes: tuple[int, ...]) -> Array:
        """Elements shifted by `shifts` along `axes`, wrapping around."""
        for shift, axis in zip(shifts, axes):
            axis %= a.ndim
            n = a.shape[axis]
            shift = shift % n if n else 0
            if shift:
                head = (slice(None),) * axis
                a = self.concatenate([self.getitem(a, head + (slice(n - shift, n),)),
                                      self.getitem(a, head + (slice(0, n - shift),))], axis)
        return self.copy(a)

    def pad(self, a: Array, pad_width: Sequence[tuple[int, int]], value: Scalar) -> Array:
        """`a` with (before, after) elements of `value` added along each axis (non-negative widths)."""
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, pad_width))
        out = self.full(shape, value, self.dtype_of(a))
        self.setitem(out, tuple(slice(lo, lo + n) for n, (lo, _) in zip(a.shape, pad_width)), a)
        return out

    def _along(self, index: Array, axis: int) -> tuple:
        """An advanced-indexing key selecting `index` along `axis` and every position elsewhere."""
        key: list[Any] = []
        for d, n in enumerate(index.shape):
            if d == axis:
                key.append(index)
            else:
                shape = [1] * index.ndim
                shape[d] = n
                key.append(self.reshape(self.arange(0, n, 1, dtypes.int64), tuple(shape)))
        return tuple(key)

    def take_along_axis(self, a: Array, index: Array, axis: int) -> Array:
        """torch.gather: out[i][j] = a[index[i][j]][j] for axis 0 (index no larger than `a` elsewhere)."""
        return self.getitem(a, self._along(index, axis % a.ndim))

    def scatter_add(self, a: Array, axis: int, index: Array, src: Array) -> Array:
        """torch.scatter_add, functional: a new array, `a` with src[i][j] added at a[index[i][j]][j]
        (axis 0); duplicates accumulate; only the leading index.shape block of `src` is used."""
        values = self.getitem(src, tuple(slice(0, n) for n in index.shape))
        return self.index_add(a, self._along(index, axis % a.ndim), values)
