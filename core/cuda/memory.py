"""GPU memory as ember's CUDA backend sees it, with `torch.cuda`'s names.

For the cupy backend these are the bytes of cupy's memory pool on the device: "allocated" is held
by arrays, "reserved" by the pool (allocated plus cached free blocks), as PyTorch's caching
allocator reports them. Without CUDA every count is 0 and `empty_cache` does nothing, as PyTorch
does before CUDA is initialized.

Peaks: cupy's pool does not record them, so the backend follows every allocation and free from
the first `reset_peak_memory_stats()` (on that thread) on; until then `max_memory_allocated()` and
`max_memory_reserved()` answer the current values. Call `reset_peak_memory_stats()` before the code
to measure, as with PyTorch.
"""
from __future__ import annotations

from ..backend_lookup import instantiated
from ._runtime import backend, hook, status


def _stat(device, key: str, what: str) -> int:
    if not status()[0]:
        return 0
    return hook(backend(device, what), "memory_stats")()[key]


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on `device` (default: the current device); 0 without CUDA."""
    return _stat(device, "allocated", "memory_allocated")


def max_memory_allocated(device=None) -> int:
    """The peak of `memory_allocated` since `reset_peak_memory_stats` (see the module docstring); 0 without CUDA."""
    return _stat(device, "peak_allocated", "max_memory_allocated")


def memory_reserved(device=None) -> int:
    """Bytes held by the memory pool on `device` (in use or cached for reuse); 0 without CUDA."""
    return _stat(device, "reserved", "memory_reserved")


def max_memory_reserved(device=None) -> int:
    """The peak of `memory_reserved` since `reset_peak_memory_stats`; 0 without CUDA."""
    return _stat(device, "peak_reserved", "max_memory_reserved")


def memory_stats(device=None) -> dict[str, int]:
    """PyTorch's keys for the counts above ({} without CUDA): "allocated_bytes.all.current"/".peak" and
    "reserved_bytes.all.current"/".peak"."""
    if not status()[0]:
        return {}
    s = hook(backend(device, "memory_stats"), "memory_stats")()
    return {"allocated_bytes.all.current": s["allocated"], "allocated_bytes.all.peak": s["peak_allocated"],
            "reserved_bytes.all.current": s["reserved"], "reserved_bytes.all.peak": s["peak_reserved"]}


def reset_peak_memory_stats(device=None) -> None:
    """Restart the peaks of `device` (default: the current device) from the current counts, and start
    following allocations on this thread (RuntimeError without CUDA, as PyTorch)."""
    hook(backend(device, "reset_peak_memory_stats"), "reset_peak_memory_stats")()


def empty_cache() -> None:
    """Return the cached, unused blocks of every device ember has used to the driver (a no-op without CUDA)."""
    if not status()[0]:
        return
    for index in instantiated("cuda"):
        hook(backend(index, "empty_cache"), "empty_cache")()


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of `device`'s memory as the driver reports them (RuntimeError without CUDA)."""
    return tuple(hook(backend(device, "mem_get_info"), "mem_get_info")())


def pinned_copy(host):
    """A copy of the host numpy array `host` in page-locked memory; RuntimeError when CUDA is unavailable."""
    bk = backend(None, "pin_memory")
    out = hook(bk, "pinned_empty")(host.shape, bk.dtype_of(host))
    out[...] = host
    return out
