"""`ember.cuda`: PyTorch's `torch.cuda` API, answered through the backend serving device type "cuda".

The built-in cupy backend serves "cuda" (`pip install ember[cupy]`); `ember.cuda` itself never
imports an array library (see `_runtime.py` for the hooks it calls on the backend). On a machine
without a usable CUDA backend (cupy missing, no GPU, or an NVIDIA driver too old for cupy's CUDA
runtime) it answers as PyTorch does on a CPU-only machine: `is_available()` is False,
`device_count()` is 0, seeding is a silent no-op, memory counts are 0, and what needs a device
(`current_device`, `synchronize`, `get_device_name`, streams, events, ...) raises RuntimeError with
the reason; `unavailable_reason()` gives it without raising.
"""
from __future__ import annotations

from .devices import (
    CudaDeviceProperties, current_device, device, device_count, device_of, get_device_capability, get_device_name,
    get_device_properties, init, is_available, is_initialized, set_device, synchronize, unavailable_reason,
)
from .memory import (
    empty_cache, max_memory_allocated, max_memory_reserved, mem_get_info, memory_allocated, memory_reserved,
    memory_stats, reset_peak_memory_stats,
)
from .random import (
    get_rng_state, get_rng_state_all, initial_seed, manual_seed, manual_seed_all, seed, seed_all, set_rng_state,
    set_rng_state_all,
)
from .streams import Event, Stream, StreamContext, current_stream, default_stream, set_stream, stream

__all__ = [
    "CudaDeviceProperties", "Event", "Stream", "StreamContext", "current_device", "current_stream", "default_stream",
    "device", "device_count", "device_of", "empty_cache", "get_device_capability", "get_device_name",
    "get_device_properties", "get_rng_state", "get_rng_state_all", "init", "initial_seed", "is_available",
    "is_initialized", "manual_seed", "manual_seed_all", "max_memory_allocated", "max_memory_reserved",
    "mem_get_info", "memory_allocated", "memory_reserved", "memory_stats", "reset_peak_memory_stats", "seed",
    "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "set_stream", "stream", "synchronize",
    "unavailable_reason",
]
