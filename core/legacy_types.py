"""PyTorch's legacy tensor types (`ember.FloatTensor`, `ember.LongTensor`, ...) and `Tensor.type()`.

Each type is a CPU dtype: `isinstance(t, ember.FloatTensor)` is true exactly for float32 tensors on the
CPU, `ember.FloatTensor(2, 3)` makes an uninitialised 2x3 float32 tensor and `ember.FloatTensor([1, 2])` one
from data. `t.type()` names a tensor's legacy type ("ember.FloatTensor", "ember.cuda.FloatTensor").
"""
from __future__ import annotations

from operator import index as _index

from . import creation, dtypes
from ._tensor_base import Tensor


class _LegacyTypeMeta(type):
    """Makes `isinstance(t, ember.FloatTensor)` check a tensor's dtype and device instead of its class."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args) -> Tensor:
        return _construct(cls, args)

    def __repr__(cls) -> str:
        return f"<class 'ember.{cls.__name__}'>"


def _construct(cls, args: tuple) -> Tensor:
    """`FloatTensor()`, `FloatTensor(*sizes)`, `FloatTensor(sequence)` or `FloatTensor(tensor)`."""
    if not args:
        return creation.empty(0, dtype=cls.dtype, device="cpu")
    if len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0]
        if t.dtype is not cls.dtype or t.device.type != "cpu":
            raise TypeError(f"expected {cls.dtype.name} on cpu (got {t.dtype.name} on {t.device})")
        return t
    try:
        size = tuple(map(_index, args))
    except TypeError:
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence of data, got "
                            f"{tuple(type(a).__name__ for a in args)}") from None
        return creation.tensor(args[0], dtype=cls.dtype, device="cpu")
    return creation.empty(*size, dtype=cls.dtype, device="cpu")


def _legacy(name: str, dtype: dtypes.dtype) -> type:
    return _LegacyTypeMeta(name, (), {"dtype": dtype, "__doc__": f"Legacy type of CPU {dtype.name} tensors.",
                                      "__module__": "ember"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool)

LEGACY_TYPES = (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
                BoolTensor)
_BY_DTYPE = {cls.dtype: cls.__name__ for cls in LEGACY_TYPES}
_BY_NAME = {cls.__name__: cls.dtype for cls in LEGACY_TYPES}


def type_name(t: Tensor) -> str:
    """The legacy type name of `t`: "ember.FloatTensor" on the CPU, "ember.cuda.FloatTensor" on cuda."""
    where = "" if t.device.type == "cpu" else f"{t.device.type}."
    return f"ember.{where}{_BY_DTYPE[t.dtype]}"


def tensor_type(t: Tensor, dtype, non_blocking: bool = False):
    """`Tensor.type(dtype)`: the type name when `dtype` is None, else `t` converted (itself if it already is).

    `dtype` is a dtype, a legacy type (`ember.DoubleTensor`) or a legacy type name ("ember.DoubleTensor",
    "ember.cuda.FloatTensor": the device moves too).
    """
    if dtype is None:
        return type_name(t)
    device = None
    if isinstance(dtype, _LegacyTypeMeta):
        dtype, device = dtype.dtype, "cpu"
    elif isinstance(dtype, str):
        parts = dtype.split(".")
        if parts[0] not in ("ember", "torch") or parts[-1] not in _BY_NAME or len(parts) > 3:
            raise ValueError(f"invalid type: '{dtype}'")
        device = parts[1] if len(parts) == 3 else "cpu"
        dtype = _BY_NAME[parts[-1]]
    elif not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"type(): dtype must be a type, str, or dtype object, not {type(dtype).__name__}")
    if device is not None and device != t.device.type:
        return t.to(device=device, dtype=dtype, non_blocking=non_blocking)
    return t.to(dtype, non_blocking=non_blocking)
