"""How `ember.cuda` reaches the backend serving device type "cuda", and what it expects of it.

`ember.cuda` never imports an array library. It asks the backend class registered for "cuda"
(`is_available()`, `device_count()`), and for what only a CUDA runtime knows it calls these
methods of the backend instance of a device (the built-in cupy backend has them all; a third-party
CUDA backend provides the ones it supports, and `ember.cuda` names any that is missing):

- `set_current_device(index)`: make the library's current device follow `ember.cuda.set_device`;
- `synchronize()` (every backend has it);
- `device_properties() -> dict` (name, major, minor, total_memory, multi_processor_count,
  is_integrated, is_multi_gpu_board) and `mem_get_info() -> (free, total)`;
- `memory_stats() -> dict` (allocated, reserved, peak_allocated, peak_reserved: bytes),
  `reset_peak_memory_stats()`, `empty_cache()`, `pinned_empty(shape, dtype)` (a host numpy array in
  page-locked memory);
- streams: `new_stream(priority)`, `current_stream()`, `default_stream()`, `use_stream(s)` (a
  context manager), `set_current_stream(s)`, `stream_handle(s)`, `stream_synchronize(s)`,
  `stream_query(s)`, `stream_wait_event(s, e)`;
- events: `new_event(enable_timing, blocking, interprocess)`, `event_record(e, s)`,
  `event_synchronize(e)`, `event_query(e)`, `event_elapsed_time(start, end)` (milliseconds).
"""
from __future__ import annotations

from typing import Any, Callable

from ..device import current_index, device as device_cls


def backend_class() -> type | None:
    """The backend class registered for device type "cuda", or None."""
    from ember.plugins import get_plugin_manager

    return get_plugin_manager().backends.by_device_type.get("cuda")


def status() -> tuple[bool, str, int]:
    """(available, the reason when not, device count); never raises."""
    cls = backend_class()
    if cls is None:
        return False, ("no ember backend serves the device type 'cuda' (install cupy with `pip install ember[cupy]`; "
                       "check that EMBER_DISABLE_PLUGINS does not disable the cupy backend)"), 0
    try:
        ok, reason = cls.is_available()
        count = cls.device_count() if ok else 0
    except Exception as exc:  # a backend that breaks while answering means: not available
        return False, f"the {cls.name} backend failed to answer is_available(): {type(exc).__name__}: {exc}", 0
    if ok and count <= 0:
        return False, f"the {cls.name} backend reports no CUDA device", 0
    return bool(ok), reason, count


def require(what: str) -> int:
    """The device count; RuntimeError naming `what` and the reason when CUDA is not available."""
    ok, reason, count = status()
    if not ok:
        raise RuntimeError(f"ember.cuda.{what}: CUDA is not available: {reason}")
    return count


def index_of(device, what: str) -> int:
    """The index named by `device`: None (the current device), an int, "cuda:1" or an ember.device of type
    cuda ("cuda" alone: the current device). A negative int is returned as is (PyTorch's "no device")."""
    if device is None:
        return current_index("cuda")
    if isinstance(device, bool):
        raise TypeError(f"ember.cuda.{what}: expected a device index, a 'cuda:N' string or an ember.device, "
                        f"got {device!r}")
    if isinstance(device, int):
        return device
    dev = device_cls(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return current_index("cuda") if dev.index is None else dev.index


def backend(device, what: str):
    """The backend instance of CUDA device `device` (see `index_of`); RuntimeError says why there is none."""
    count = require(what)
    index = index_of(device, what)
    if not 0 <= index < count:
        raise RuntimeError(f"ember.cuda.{what}: invalid device index {index}: there are {count} CUDA device(s) "
                           f"(indices 0..{count - 1})")
    return device_cls("cuda", index).backend


def hook(bk, name: str) -> Callable[..., Any]:
    """The CUDA runtime hook `name` of backend instance `bk`; RuntimeError names it when the backend lacks it."""
    fn = getattr(bk, name, None)
    if fn is None:
        raise RuntimeError(f"ember.cuda: the {bk.name} backend serving device type 'cuda' does not provide "
                           f"{name}(), which this function needs")
    return fn
