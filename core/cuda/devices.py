"""Which CUDA devices there are, which one is current, and what each one is (`torch.cuda`'s device functions)."""
from __future__ import annotations

from dataclasses import dataclass

from ..device import current_index, set_current_index
from ._runtime import backend, hook, index_of, require, status


def is_available() -> bool:
    """True when a backend serves "cuda" and finds a usable GPU; False on a CPU-only machine (no cupy, no
    GPU, or a driver too old), never an error. Why not: `ember.cuda.unavailable_reason()`."""
    return status()[0]


def unavailable_reason() -> str:
    """Why CUDA is not available here ("" when it is): e.g. "cupy is not installed; install it with ..."."""
    return status()[1]


def device_count() -> int:
    """The number of CUDA devices ember can use (0 without a usable CUDA backend)."""
    return status()[2]


def is_initialized() -> bool:
    """Whether ember has used a CUDA device in this process."""
    from ..backend_lookup import instantiated

    return bool(instantiated("cuda"))


def init() -> None:
    """Initialize CUDA on the current device (it also happens on first use); RuntimeError says why it cannot."""
    backend(None, "init")


def current_device() -> int:
    """The index of the current CUDA device of this thread (RuntimeError without CUDA, as PyTorch)."""
    require("current_device")
    return current_index("cuda")


def set_device(device) -> None:
    """Make `device` (an index, "cuda:N" or an ember.device) the current CUDA device of this thread: "cuda"
    tensors are created there. A negative index does nothing, as in PyTorch."""
    index = index_of(device, "set_device")
    if index < 0:
        return
    bk = backend(index, "set_device")
    hook(bk, "set_current_device")(index)
    set_current_index("cuda", index)


class device:
    """Context manager that makes `device` the current CUDA device and restores the previous one on exit;
    None or a negative index does nothing, as `torch.cuda.device`."""

    def __init__(self, device) -> None:
        self.idx = -1 if device is None else index_of(device, "device")
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx < 0:
            return
        require("device")
        self.prev_idx = current_index("cuda")
        if self.prev_idx != self.idx:
            set_device(self.idx)

    def __exit__(self, *exc) -> None:
        if self.prev_idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)


class device_of(device):
    """Context manager that makes the device of tensor `obj` current (does nothing for a CPU tensor)."""

    def __init__(self, obj) -> None:
        super().__init__(obj.device.index if obj.device.type == "cuda" else -1)


def synchronize(device=None) -> None:
    """Wait until all queued work on `device` (default: the current device) has finished."""
    backend(device, "synchronize").synchronize()


@dataclass(frozen=True)
class CudaDeviceProperties:
    """What `get_device_properties` reports about a GPU (the fields of `torch.cuda.get_device_properties`
    that ember knows): `total_memory` is in bytes, (major, minor) the compute capability."""

    name: str
    major: int
    minor: int
    total_memory: int
    multi_processor_count: int
    is_integrated: bool
    is_multi_gpu_board: bool

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> CudaDeviceProperties:
    """The properties of `device` (default: the current device)."""
    props = hook(backend(device, "get_device_properties"), "device_properties")()
    return CudaDeviceProperties(**{k: props[k] for k in CudaDeviceProperties.__dataclass_fields__})


def get_device_name(device=None) -> str:
    """The name of `device` (default: the current device), e.g. "NVIDIA H100 80GB HBM3"."""
    return hook(backend(device, "get_device_name"), "device_properties")()["name"]


def get_device_capability(device=None) -> tuple[int, int]:
    """The (major, minor) compute capability of `device` (default: the current device)."""
    props = hook(backend(device, "get_device_capability"), "device_properties")()
    return props["major"], props["minor"]
