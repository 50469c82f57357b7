"""ember's dtypes and PyTorch's type-promotion rules, decided here so no array library's rules apply."""
from __future__ import annotations

import builtins


class dtype:
    """A tensor element type, e.g. `ember.float32`. Compared by identity: each one exists once."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "_kind", "_rank")

    def __init__(self, name: str, itemsize: int, kind: int, rank: int, is_signed: bool) -> None:
        self.name = name
        self.itemsize = itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating: the category PyTorch promotes across
        self._rank = rank
        self.is_floating_point = kind == 2
        self.is_signed = is_signed

    @property
    def is_complex(self) -> bool:
        """Always False (ember has no complex dtypes)."""
        return False

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool = dtype("bool", 1, 0, 0, False)
uint8 = dtype("uint8", 1, 1, 1, False)
int8 = dtype("int8", 1, 1, 1, True)
int16 = dtype("int16", 2, 1, 2, True)
int32 = dtype("int32", 4, 1, 3, True)
int64 = dtype("int64", 8, 1, 4, True)
float16 = dtype("float16", 2, 2, 1, True)
float32 = dtype("float32", 4, 2, 2, True)
float64 = dtype("float64", 8, 2, 3, True)

ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
BY_NAME = {d.name: d for d in ALL}
BY_NAME.update({"half": float16, "float": float32, "double": float64, "long": int64, "int": int32,
                "short": int16})

half, double, long, short = float16, float64, int64, int16
# `ember.int` and `ember.float` would shadow builtins inside this module; they are exported by ember/__init__.


def _by_name(name: str) -> dtype:
    return BY_NAME[name]


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors made without an explicit dtype (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating-point dtype; only float16, float32 and float64 are allowed."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {d!r}")
    _default_float = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    if a._kind == 1 and a.is_signed != b.is_signed:
        # uint8 with a signed type: the signed type, widened to hold every uint8 (int8 -> int16).
        signed = a if a.is_signed else b
        return int16 if signed is int8 else signed
    return a if a._rank >= b._rank else b


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype to which both `a` and `b` can be cast, as `torch.promote_types`."""
    return _promote_pair(a, b)


def scalar_kind(value) -> int:
    """Category of a Python scalar: 0 bool, 1 int, 2 float; raises TypeError for anything else."""
    t = type(value)
    if t is builtins.bool:
        return 0
    if t is builtins.int:
        return 1
    if t is builtins.float:
        return 2
    if isinstance(value, builtins.bool):
        return 0
    if isinstance(value, builtins.int):
        return 1
    if isinstance(value, builtins.float):
        return 2
    raise TypeError(f"expected a tensor or a Python number, got {type(value).__name__}")


_SCALAR_DEFAULT = {0: bool, 1: int64}


def result_type(*operands) -> dtype:
    """The dtype of an op on `operands` (tensors and Python numbers), as `torch.result_type`.

    PyTorch's rule: tensors with dimensions decide first, then zero-dimensional tensors, then
    Python numbers; a lower-priority operand only matters when its category (bool < integer <
    floating) is higher, and then it contributes its own dtype (a Python float: the default dtype).
    """
    dim_t = zero_t = scal = None
    for op in operands:
        d = getattr(op, "dtype", None)
        if isinstance(d, dtype):
            if op.ndim:
                dim_t = d if dim_t is None else _promote_pair(dim_t, d)
            else:
                zero_t = d if zero_t is None else _promote_pair(zero_t, d)
        else:
            k = scalar_kind(op)
            sd = _default_float if k == 2 else _SCALAR_DEFAULT[k]
            scal = sd if scal is None or sd._kind > scal._kind else scal
    result = dim_t
    for lower in (zero_t, scal):
        if lower is None:
            continue
        if result is None:
            result = lower
        elif lower._kind > result._kind:
            result = lower
    return result


def int_bounds(d: dtype) -> tuple[builtins.int, builtins.int]:
    """The smallest and largest value of integer dtype `d`, as `torch.iinfo(d).min/.max`."""
    bits = 8 * d.itemsize
    return (-(1 << bits - 1), (1 << bits - 1) - 1) if d.is_signed else (0, (1 << bits) - 1)


def fits(value, d: dtype) -> builtins.bool:
    """Whether PyTorch stores the Python number `value` as integer dtype `d` without an overflow error.

    A float must lie in `d`'s range (NaN and infinities never do). An int must too, except that an
    unsigned dtype also takes negatives down to -max: they wrap, two's complement (`-1` is 255 in uint8).
    """
    lo, hi = int_bounds(d)
    if not d.is_signed and not isinstance(value, builtins.float):
        lo = -hi
    return lo <= value <= hi


def wrap(value: builtins.int, d: dtype) -> builtins.int:
    """The Python int `value` reduced into integer dtype `d`'s range, two's complement, as PyTorch converts
    a scalar operand of integer arithmetic (`int8 tensor + 300` adds 44)."""
    lo, hi = int_bounds(d)
    return (value - lo) % (hi - lo + 1) + lo


def stored_int(value, d: dtype, op: str):
    """The Python number `value` as PyTorch stores it into integer dtype `d` (`full`, `fill_`): a RuntimeError
    naming `op` unless it `fits`, a negative int wrapped into an unsigned dtype."""
    if not fits(value, d):
        raise RuntimeError(f"{op}: value {value!r} cannot be converted to type {d.name} without overflow")
    return wrap(value, d) if isinstance(value, builtins.int) else value


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """True when PyTorch allows casting `from_` to `to` in an in-place op (no category downgrade)."""
    return from_._kind <= to._kind


def as_dtype(value, op: str = "") -> dtype:
    """Accept an ember dtype; anything else (a name such as "float32" too, as PyTorch) is a TypeError naming `op`."""
    if isinstance(value, dtype):
        return value
    where = f"{op}(): argument 'dtype'" if op else "argument 'dtype'"
    hint = f" (use ember.{value})" if isinstance(value, str) and value in BY_NAME else ""
    raise TypeError(f"{where} must be ember.dtype, not {type(value).__name__}{hint}")
