"""`ember.finfo` and `ember.iinfo`: the numerical limits of floating-point and integer dtypes, as PyTorch's."""
from __future__ import annotations

from . import dtypes

# (bits, mantissa bits, largest exponent, smallest normal exponent, decimal digits) per IEEE-754 binary format
_FLOAT_LAYOUT = {
    dtypes.float16: (16, 10, 15, -14, 3),
    dtypes.float32: (32, 23, 127, -126, 6),
    dtypes.float64: (64, 52, 1023, -1022, 15),
}


class finfo:
    """Machine limits of a floating-point dtype (default: the default dtype), as `torch.finfo`.

    Attributes: `bits`, `eps` (gap between 1.0 and the next value), `max`, `min` (= -max), `tiny` and
    `smallest_normal` (the smallest positive normal number), `resolution` (10 ** -decimal digits), `dtype`
    (the dtype's name).
    """

    def __init__(self, type: dtypes.dtype | None = None) -> None:
        d = dtypes.get_default_dtype() if type is None else type
        if d not in _FLOAT_LAYOUT:
            raise TypeError("ember.finfo() requires a floating point input type. Use ember.iinfo to handle "
                            "'ember.finfo'")
        bits, mant, emax, emin, digits = _FLOAT_LAYOUT[d]
        self.bits = bits
        self.eps = 2.0 ** -mant
        self.max = (2.0 - 2.0 ** -mant) * 2.0 ** emax
        self.min = -self.max
        self.tiny = self.smallest_normal = 2.0 ** emin
        self.resolution = 10.0 ** -digits
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype, as `torch.iinfo`: `bits`, `max`, `min` and `dtype` (its name)."""

    def __init__(self, type: dtypes.dtype) -> None:
        if type is dtypes.bool:
            raise TypeError("ember.bool is not supported by ember.iinfo")
        if not isinstance(type, dtypes.dtype) or type._kind != 1:
            raise TypeError("ember.iinfo() requires an integer input type. Use ember.finfo to handle "
                            "'ember.iinfo'")
        self.bits = 8 * type.itemsize
        self.min, self.max = dtypes.int_bounds(type)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


_SCALAR_TYPE_NAMES = {dtypes.bool: "Bool", dtypes.uint8: "Byte", dtypes.int8: "Char", dtypes.int16: "Short",
                      dtypes.int32: "Int", dtypes.int64: "Long", dtypes.float16: "Half", dtypes.float32: "Float",
                      dtypes.float64: "Double"}


def scalar_type_name(d: dtypes.dtype) -> str:
    """PyTorch's ScalarType name of `d` ("Long", "Float"), as its error messages write dtypes."""
    return _SCALAR_TYPE_NAMES[d]
