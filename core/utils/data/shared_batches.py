"""DataLoader batches through shared memory: a worker copies each large CPU tensor of a batch into
a POSIX shared memory block of its pool and pickles only the block's number; the main process
wraps its own mapping of the block in a tensor, without copying.

Each worker keeps a pool of at most ``POOL_BLOCKS`` blocks, named ``{prefix}_{worker_id}_{k}``
where ``prefix`` is unique to one iterator (`new_prefix`). The main process maps a block and unlinks
its name the first time it receives it, and keeps the mapping for the iterator's life; from then
on the block exists only as these two mappings, so nothing stays in ``/dev/shm``. A block is in use
from the moment the worker fills it until the main process lets go of the last array on it (or
drops the result unread); a byte per block in memory shared with the worker (``flags``) says so,
and the worker fills only free blocks. With every block of its pool in use, a worker pickles the
tensor whole, as it does with small tensors (below ``SHARED_MEMORY_THRESHOLD`` bytes).

A block still named when the workers stop (created but not received) is unlinked then
(`BatchReceiver.release`); one left when the DataLoader process dies without a clean shutdown
is unlinked by multiprocessing's resource tracker, where each block is registered until unlinked.
"""
from __future__ import annotations

import io
import math
import mmap
import os
import pickle
import secrets
import sys
import threading
import weakref
from multiprocessing import resource_tracker
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from ...creation import _make
from ...device import as_device
from ...tensor import Tensor

try:
    import _posixshmem
    from multiprocessing.shared_memory import SharedMemory
except ImportError:  # no POSIX shared memory (Windows): batches are pickled whole
    _posixshmem = None

__all__ = ["POOL_BLOCKS", "SHARED_MEMORY_THRESHOLD", "BatchReceiver", "WorkerBlocks", "available", "encode"]

# Tensors of at least this many bytes cross in shared memory, smaller ones stay in the pickle.
SHARED_MEMORY_THRESHOLD = 32768

# The most shared memory blocks one worker keeps (each the size of the largest tensor it first held).
POOL_BLOCKS = 32

_RESOURCE_TYPE = "shared_memory"

# Set while a BatchReceiver unpickles a batch: (receiver, worker id, numbers of the blocks attached).
_receiving = threading.local()


def available() -> bool:
    """Whether DataLoader workers can hand batches over in shared memory here (POSIX shared memory, Linux)."""
    return _posixshmem is not None and sys.platform.startswith("linux")


def new_prefix() -> str:
    """A block name prefix unique to one DataLoader iterator of this process."""
    return f"ember_{os.getpid()}_{secrets.token_hex(6)}"


def _unlink(name: str) -> bool:
    """Unlink block ``name`` and take it off the resource tracker; False if it was already gone."""
    path = "/" + name
    try:
        _posixshmem.shm_unlink(path)
    except FileNotFoundError:
        return False
    resource_tracker.unregister(path, _RESOURCE_TYPE)
    return True


def _map_and_unlink(name: str) -> mmap.mmap:
    """A mapping of block ``name``, whose name is unlinked: the memory lasts as long as its mappings."""
    fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)
        _unlink(name)


class WorkerBlocks:
    """A worker's pool of shared memory blocks; ``flags[k]`` is nonzero while block ``k`` is in use."""

    def __init__(self, prefix: str, worker_id: int, flags) -> None:
        self.name_prefix = f"{prefix}_{worker_id}"
        self.flags = flags
        self.blocks: list[SharedMemory] = []

    def acquire(self, nbytes: int) -> int | None:
        """The number of a free block of at least ``nbytes`` (the smallest), now in use; None if the pool is full."""
        best = None
        for k, block in enumerate(self.blocks):
            if block.size >= nbytes and not self.flags[k] and (best is None or block.size < self.blocks[best].size):
                best = k
        if best is None:
            if len(self.blocks) == len(self.flags):
                return None
            best = len(self.blocks)
            self.blocks.append(SharedMemory(name=f"{self.name_prefix}_{best}", create=True, size=nbytes))
        self.flags[best] = 1
        return best


class _SharedMemoryPickler(ForkingPickler):
    """Pickles the large CPU tensors of a batch as blocks of a worker's pool (their numbers in ``used``)."""

    def __init__(self, file: io.BytesIO, pool: WorkerBlocks) -> None:
        super().__init__(file)
        self.pool = pool
        self.used: list[int] = []

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not Tensor or not obj._bk.shares_host_memory or obj.device.type != "cpu":
            return NotImplemented
        array = obj._bk.to_numpy(obj._data)
        if array.nbytes < SHARED_MEMORY_THRESHOLD:
            return NotImplemented
        k = self.pool.acquire(array.nbytes)
        if k is None:
            return NotImplemented
        self.used.append(k)
        np.ndarray(array.shape, array.dtype, buffer=self.pool.blocks[k].buf)[...] = array
        return _rebuild_tensor, (k, array.shape, array.dtype, obj.dtype, obj._rg)


def encode(data: Any, pool: WorkerBlocks | None) -> tuple[bytes, tuple[int, ...]]:
    """Pickle ``data`` in a worker: ``(payload, numbers of the pool's blocks it uses)``.

    With ``pool`` None everything is in the payload. If pickling fails, the blocks taken are freed
    and the error propagates.
    """
    buffer = io.BytesIO()
    if pool is None:
        ForkingPickler(buffer).dump(data)
        return buffer.getvalue(), ()
    pickler = _SharedMemoryPickler(buffer, pool)
    try:
        pickler.dump(data)
    except BaseException:
        for k in pickler.used:
            pool.flags[k] = 0
        raise
    return buffer.getvalue(), tuple(pickler.used)


def _free(flags, k: int) -> None:
    flags[k] = 0


def _rebuild_tensor(k: int, shape: tuple[int, ...], np_dtype: np.dtype, dtype, requires_grad: bool) -> Tensor:
    """The tensor in block ``k`` of the sending worker's pool, sharing the block's memory where the CPU backend can."""
    state = getattr(_receiving, "state", None)
    if state is None:
        raise RuntimeError("a DataLoader batch in shared memory can only be unpickled by the DataLoader iterator "
                           "that received it")
    receiver, worker_id, attached = state
    array = receiver._attach(worker_id, k, shape, np_dtype)
    attached.append(k)
    device = as_device("cpu")
    return _make(device.backend.asarray(array, dtype), device, requires_grad)


class BatchReceiver:
    """The main process's side of the workers' block pools, for one DataLoader iterator.

    Args:
        context: the multiprocessing context of the workers (it allocates the shared ``flags``).
        num_workers: how many workers send batches.
    """

    def __init__(self, context: BaseContext, num_workers: int) -> None:
        self.prefix = new_prefix()
        self.flags = [context.RawArray("B", POOL_BLOCKS) for _ in range(num_workers)]
        self._mappings: dict[tuple[int, int], mmap.mmap] = {}
        # Forked workers then share this process's tracker, which unlinks their blocks if it dies.
        resource_tracker.ensure_running()

    def worker_pool_args(self, worker_id: int) -> tuple:
        """What worker ``worker_id`` builds its `WorkerBlocks` from."""
        return self.prefix, worker_id, self.flags[worker_id]

    def _mapping(self, worker_id: int, k: int) -> mmap.mmap:
        mapping = self._mappings.get((worker_id, k))
        if mapping is None:
            mapping = self._mappings[(worker_id, k)] = _map_and_unlink(f"{self.prefix}_{worker_id}_{k}")
        return mapping

    def _attach(self, worker_id: int, k: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An array on block ``k`` of worker ``worker_id``; the block is free again once it and its views are gone."""
        array = np.frombuffer(self._mapping(worker_id, k), dtype, math.prod(shape))
        weakref.finalize(array, _free, self.flags[worker_id], k).atexit = False
        return array.reshape(shape)

    def decode(self, encoded: tuple[bytes, tuple[int, ...]], worker_id: int) -> Any:
        """Unpickle what `encode` made in worker ``worker_id``; if that fails, the blocks not attached are freed."""
        payload, used = encoded
        attached: list[int] = []
        _receiving.state = (self, worker_id, attached)
        try:
            return pickle.loads(payload)
        except BaseException:
            self.discard((payload, tuple(k for k in used if k not in attached)), worker_id)
            raise
        finally:
            _receiving.state = None

    def discard(self, encoded: tuple[bytes, tuple[int, ...]], worker_id: int) -> None:
        """Free the blocks of a result of worker ``worker_id`` that will not be unpickled."""
        for k in encoded[1]:
            try:
                self._mapping(worker_id, k)
            except FileNotFoundError:  # unlinked at shutdown: the worker is gone
                continue
            self.flags[worker_id][k] = 0

    def release(self) -> None:
        """Once the workers are stopped: unlink the blocks they made that never arrived, and drop the mappings."""
        for worker_id in range(len(self.flags)):
            for k in range(POOL_BLOCKS):
                if (worker_id, k) not in self._mappings:
                    _unlink(f"{self.prefix}_{worker_id}_{k}")
        self._mappings.clear()
