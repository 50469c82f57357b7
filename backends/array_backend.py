"""A Backend written once against a numpy-like array module `xp`; numpy and cupy subclass it.

A subclass sets `xp` (and overrides what its library does differently); the elementwise
methods are bound to the library's ufuncs when the subclass is created, so an op is one call.
"""
from __future__ import annotations

import abc
import json

from ember import dtypes

from .base import Backend

# ember primitive -> xp function, for ufuncs taking (a[, b], out=)
_UNARY = {
    "neg": "negative", "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1",
    "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "abs": "absolute",
    "sign": "sign", "floor": "floor", "ceil": "ceil", "logical_not": "logical_not",
    "bitwise_not": "invert",
}
_BINARY = {
    "add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide",
    "floor_divide": "floor_divide", "remainder": "remainder", "pow": "power",
    "maximum": "maximum", "minimum": "minimum", "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor",
}
_COMPARE = {
    "equal": "equal", "not_equal": "not_equal", "less": "less", "less_equal": "less_equal",
    "greater": "greater", "greater_equal": "greater_equal", "logical_and": "logical_and",
    "logical_or": "logical_or", "logical_xor": "logical_xor",
}


def _unary(fn, ndarray, asarray):
    def op(self, a, out=None):
        r = fn(a, out=out)
        return r if r.__class__ is ndarray else asarray(r)
    return op


def _binary(fn, ndarray, asarray):
    def op(self, a, b, out=None):
        r = fn(a, b, out=out)
        return r if r.__class__ is ndarray else asarray(r)
    return op


def _compare(fn, ndarray, asarray):
    def op(self, a, b):
        r = fn(a, b)
        return r if r.__class__ is ndarray else asarray(r)
    return op


class ArrayBackend(Backend):
    """Backend over a numpy-compatible module; `xp` is set by the subclass."""

    xp = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        xp = cls.xp
        if xp is None:
            return
        for table, make in ((_UNARY, _unary), (_BINARY, _binary), (_COMPARE, _compare)):
            for name, fn in table.items():
                if name not in cls.__dict__:
                    setattr(cls, name, make(getattr(xp, fn), xp.ndarray, xp.asarray))
        abc.update_abstractmethods(cls)

    def __init__(self) -> None:
        xp = self.xp
        self._to_native = {d: xp.dtype(d.name) for d in dtypes.ALL}
        self._from_native = {xp.dtype(d.name): d for d in dtypes.ALL}

    def _arr(self, r):
        return r if r.__class__ is self.xp.ndarray else self.xp.asarray(r)

    # ---- dtypes and transfer ----
    def native_dtype(self, dtype):
        return self._to_native[dtype]

    def dtype_of(self, a):
        try:
            return self._from_native[a.dtype]
        except KeyError:
            raise TypeError(f"{self.name} backend: arrays of dtype {a.dtype} are not supported by ember; "
                            f"supported: {', '.join(d.name for d in dtypes.ALL)}") from None

    def is_native(self, obj) -> bool:
        return isinstance(obj, self.xp.ndarray)

    def astype(self, a, dtype):
        return a.astype(self._to_native[dtype])

    def copy(self, a):
        return a.copy()

    def copy_(self, dst, src) -> None:
        self.xp.copyto(dst, src, casting="unsafe")

    # ---- creation ----
    def empty(self, shape, dtype, index=None):
        return self.xp.empty(shape, self._to_native[dtype])

    def full(self, shape, value, dtype, index=None):
        return self.xp.full(shape, value, self._to_native[dtype])

    def arange(self, start, end, step, dtype, index=None):
        return self.xp.arange(start, end, step, dtype=self._to_native[dtype])

    def linspace(self, start, end, steps, dtype, index=None):
        return self.xp.linspace(start, end, steps, dtype=self._to_native[dtype])

    def eye(self, n, m, dtype, index=None):
        return self.xp.eye(n, m, dtype=self._to_native[dtype])

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

    def normal(self, gen, shape, mean, std, dtype):
        r = self._float_sample(gen.standard_normal, shape, dtype)
        if std != 1.0:
            r *= std
        if mean != 0.0:
            r += mean
        return r

    def randint(self, gen, low, high, shape, dtype):
        native = self._to_native[dtype]
        if dtype.is_floating_point or dtype is dtypes.bool:
            return self._arr(gen.integers(low, high, size=shape, dtype=self.xp.int64)).astype(native)
        return self._arr(gen.integers(low, high, size=shape, dtype=native))

    def permutation(self, gen, n, dtype):
        return gen.permutation(n).astype(self._to_native[dtype])

    def multinomial(self, gen, probs, num_samples, replacement):
        xp = self.xp
        p = probs.astype(xp.float64)
        p = p / p.sum(axis=1, keepdims=True)
        rows = [gen.choice(p.shape[1], size=num_samples, replace=replacement, p=row) for row in p]
        return xp.stack(rows).astype(xp.int64)

    # ---- elementwise extras ----
    def round(self, a, decimals=0):
        return self._arr(self.xp.round(a, decimals))

    def isnan(self, a):
        return self._arr(self.xp.isnan(a))

    def isinf(self, a):
        return self._arr(self.xp.isinf(a))

    def clip(self, a, low, high, out=None):
        return self._arr(self.xp.clip(a, low, high, out=out))

    def sigmoid(self, a):
        return self._arr(self.xp.exp(-self.xp.logaddexp(0, -a)))

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

    def min(self, a, axis=None, keepdims=False):
        return self._arr(a.min(axis=axis, keepdims=keepdims))

    def argmax(self, a, axis=None, keepdims=False):
        return self._arr(a.argmax(axis=axis, keepdims=keepdims)).astype(self.xp.int64, copy=False)

    def argmin(self, a, axis=None, keepdims=False):
        return self._arr(a.argmin(axis=axis, keepdims=keepdims)).astype(self.xp.int64, copy=False)

    def all(self, a, axis=None, keepdims=False):
        return self._arr(a.all(axis=axis, keepdims=keepdims))

    def any(self, a, axis=None, keepdims=False):
        return self._arr(a.any(axis=axis, keepdims=keepdims))

    def cumsum(self, a, axis):
        return a.cumsum(axis=axis, dtype=a.dtype if a.dtype.kind == "f" else None)

    def sort(self, a, axis, descending):
        xp = self.xp
        idx = xp.argsort(a, axis=axis, kind="stable")
        if descending:
            idx = xp.flip(idx, axis)
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

    def flip(self, a, axes):
        return self.xp.flip(a, axes)

    def roll(self, a, shifts, axes):
        return self.xp.roll(a, shifts, axes)

    def pad(self, a, pad_width, value):
        return self.xp.pad(a, pad_width, constant_values=value)

    def getitem(self, a, key):
        return self._arr(a[key])

    def setitem(self, a, key, value) -> None:
        a[key] = value

    def index_add(self, a, key, values):
        out = a.copy()
        self.xp.add.at(out, key, values)
        return out

    def take_along_axis(self, a, index, axis):
        return self.xp.take_along_axis(a, index, axis)

    def scatter_add(self, a, axis, index, src):
        xp = self.xp
        out = a.copy()
        idx = list(xp.indices(index.shape, sparse=True))
        idx[axis] = index
        xp.add.at(out, tuple(idx), src[tuple(slice(0, n) for n in index.shape)])
        return out

    def nonzero(self, a):
        return self.xp.argwhere(a).astype(self.xp.int64, copy=False)

    def matmul(self, a, b):
        return self._arr(self.xp.matmul(a, b))
