"""Zero-copy exchange with other array libraries through DLPack, as `torch.utils.dlpack`.

`ember.from_dlpack(x)` takes any object with `__dlpack__`/`__dlpack_device__` (a numpy array, a
cupy array, a torch tensor, another ember tensor) or a DLPack capsule, and returns an ember tensor on
the matching device (kDLCPU: "cpu"; kDLCUDA: "cuda:<id>") that shares the memory when that device's
backend can (numpy and cupy can; a backend that cannot copies, see `Backend.from_dlpack`).
`Tensor.__dlpack__` / `__dlpack_device__` export a tensor the same way, so `numpy.from_dlpack(t)`
and `torch.from_dlpack(t)` share ember's memory.
"""
from __future__ import annotations

import ctypes
import enum
from typing import Any

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device types (`DLDeviceType` in dlpack.h)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


_DEVICE_TYPES = {DLDeviceType.kDLCPU: "cpu", DLDeviceType.kDLCUDA: "cuda", DLDeviceType.kDLCUDAManaged: "cuda"}
_CAPSULE_NAMES = (b"dltensor", b"dltensor_versioned")
# byte offset of DLTensor in the capsule's struct: DLManagedTensor starts with it; DLManagedTensorVersioned
# has a version (2 x uint32), manager_ctx, deleter and uint64 flags first
_TENSOR_OFFSET = {b"dltensor": 0, b"dltensor_versioned": 32}


def export(tensor, stream=None, max_version=None, dl_device=None, copy=None):
    """`tensor.__dlpack__(...)`: a DLPack capsule sharing the tensor's memory (keywords as the DLPack
    protocol; those left None are not passed on). BufferError for a tensor that requires grad."""
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    fn = getattr(tensor._data, "__dlpack__", None)
    if fn is None:
        raise BufferError(f"the {tensor._bk.name} backend's arrays do not support DLPack; copy the tensor to the "
                          f"CPU first: tensor.cpu()")
    kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
    return fn(**kwargs)


def export_device(tensor) -> tuple[DLDeviceType | int, int]:
    """`tensor.__dlpack_device__()`: (DLPack device type, device id) of the tensor's memory."""
    fn = getattr(tensor._data, "__dlpack_device__", None)
    if fn is None:
        raise BufferError(f"the {tensor._bk.name} backend's arrays do not support DLPack")
    kind, index = fn()
    try:
        kind = DLDeviceType(kind)
    except ValueError:
        pass
    return kind, index


def to_dlpack(tensor) -> Any:
    """A DLPack capsule sharing `tensor`'s memory (the legacy interface: pass the tensor itself to the
    consumer's `from_dlpack` instead where it accepts objects). Consume a capsule only once."""
    return tensor.__dlpack__()


class _Capsule:
    """A DLPack capsule dressed as a DLPack object, so consumers that want `__dlpack__` accept it."""

    def __init__(self, capsule, device: tuple[int, int]) -> None:
        self._capsule, self._device = capsule, device

    def __dlpack__(self, **kwargs):
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._device


def _capsule_device(capsule) -> tuple[int, int]:
    """(device type, device id) read from a DLPack capsule's DLTensor, without consuming it."""
    get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(("PyCapsule_GetName", ctypes.pythonapi))
    get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
        ("PyCapsule_GetPointer", ctypes.pythonapi))
    name = get_name(capsule)
    if name not in _CAPSULE_NAMES:
        raise ValueError(f"from_dlpack: expected a DLPack capsule named 'dltensor', got one named {name!r} "
                         f"(a capsule can be consumed only once)")
    device = ctypes.cast(get_pointer(capsule, name) + _TENSOR_OFFSET[name] + ctypes.sizeof(ctypes.c_void_p),
                         ctypes.POINTER(ctypes.c_int32))
    return device[0], device[1]


def from_dlpack(ext_tensor, *, device=None, copy: bool | None = None):
    """An ember tensor holding the data of `ext_tensor` (an object with `__dlpack__`, or a DLPack capsule),
    sharing its memory where the device's backend can, as `torch.from_dlpack`.

    Args:
        ext_tensor: the array or tensor to import, or a capsule from a `to_dlpack` function.
        device: where the result goes (default: the device the data is on); another device copies.
        copy: True always copies; False refuses to copy (ValueError when `device` needs one); None copies
            only when needed.
    """
    from ..device import as_device, device as device_cls
    from ..tensor import _wrap

    obj = ext_tensor
    if type(obj).__name__ == "PyCapsule":
        obj = _Capsule(obj, _capsule_device(obj))
    elif not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a numpy/cupy array, a tensor) or a "
                        f"DLPack capsule, got {type(ext_tensor).__name__}")
    kind, index = obj.__dlpack_device__()
    try:
        device_type = _DEVICE_TYPES[DLDeviceType(kind)]
    except (ValueError, KeyError):
        name = DLDeviceType(kind).name if kind in DLDeviceType._value2member_map_ else str(kind)
        raise RuntimeError(f"from_dlpack: data on DLPack device {name} is not supported: ember imports from the "
                           f"CPU (kDLCPU) and CUDA (kDLCUDA) devices") from None
    source = device_cls(device_type) if device_type == "cpu" else device_cls(device_type, index)
    bk = source.backend
    out = _wrap(bk.from_dlpack(obj), bk, source)
    target = source if device is None else as_device(device)
    if target is not source:
        if copy is False:
            raise ValueError(f"from_dlpack: the data is on {source} and device={target} needs a copy, but copy=False")
        return out.to(target)
    return out.clone() if copy else out
