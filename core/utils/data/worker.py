"""What runs inside a DataLoader worker process, and what it sends back to the main process.

A worker pickles each result itself and the main process unpickles it when its turn comes
(``_encode_result`` / ``_decode_result``), so that a batch that fails either way is reported with
the worker and the batch it belongs to, and the iteration can go on past it. Large CPU tensors
cross in shared memory blocks rather than in the pickle (see ``shared_batches``).
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import threading
import traceback
from typing import Any, Callable

import numpy as np

import ember

from . import shared_batches
from .fetch import _DatasetKind
from .worker_threads import limit_worker_threads

__all__ = ["ExceptionWrapper", "WorkerInfo", "get_worker_info"]

# How long a blocking queue read waits before the reader looks at the other side's health.
POLL_INTERVAL = 0.1


class WorkerInfo:
    """Information about the current DataLoader worker process (read-only).

    Attributes:
        id (int): the current worker id, in ``[0, num_workers - 1]``.
        num_workers (int): the total number of workers.
        seed (int): the random seed set for this worker: the loader's base seed plus ``id``.
        dataset: this worker's copy of the dataset object.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, *, id: int, num_workers: int, seed: int, dataset: Any) -> None:
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed), ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Return the ``WorkerInfo`` of the current DataLoader worker process, or ``None`` in the main process.

    Use it in ``IterableDataset.__iter__`` or in ``worker_init_fn`` to give each worker its own
    shard of the data (``id`` and ``num_workers``) or to seed other libraries (``seed``).
    """
    return _worker_info


class KeyErrorMessage(str):
    """A str whose repr is itself, so that a re-raised KeyError shows its traceback readably."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception plus its formatted traceback, picklable so that it can cross processes.

    ``reraise()`` raises an exception of the original type whose message holds the original
    traceback text (``RuntimeError`` if the type cannot be built from one message, or cannot be
    pickled, e.g. a class defined inside a function).
    """

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        # Only the formatted text is kept: a traceback object holds frames and cannot be pickled.
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where
        try:
            pickle.dumps(self.exc_type)
        except Exception:
            self.exc_type = RuntimeError

    def reraise(self) -> None:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


def _encode_result(
    data: Any, worker_id: int, pool: shared_batches.WorkerBlocks | None = None
) -> tuple[bytes, tuple[int, ...]]:
    """Pickle one result in the worker; a result that cannot be pickled becomes its ``ExceptionWrapper``.

    Returns ``(payload, block numbers)``: with ``pool``, the large CPU tensors go to its shared
    memory blocks (``shared_batches.encode``).
    """
    try:
        return shared_batches.encode(data, pool)
    except Exception:
        error = ExceptionWrapper(where=f"sending a batch in DataLoader worker process {worker_id}")
        return shared_batches.encode(error, None)


def _decode_result(
    encoded: tuple[bytes, tuple[int, ...]], worker_id: int, batch: int,
    receiver: shared_batches.BatchReceiver | None = None,
) -> Any:
    """Unpickle, in the main process, the result of task ``batch`` that worker ``worker_id`` sent."""
    try:
        return pickle.loads(encoded[0]) if receiver is None else receiver.decode(encoded, worker_id)
    except Exception as error:
        raise RuntimeError(
            f"DataLoader worker process {worker_id} sent batch {batch}, which cannot be unpickled in the main "
            f"process: {type(error).__name__}: {error}. Everything in a batch must be rebuildable there: its "
            "classes importable in the main process, and their __reduce__ / __setstate__ working there."
        ) from error


class _IterableDatasetStopIteration:
    """Sent by a worker whose IterableDataset stream is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch, and echoed back by them."""


# prctl(2) option: the signal this process gets when the thread that created it exits.
_PR_SET_PDEATHSIG = 1


def _arm_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent thread exits; ``False`` where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: multiprocessing.process.BaseProcess, parent_pid: int | None) -> None:
    """Exit the process once ``parent`` is gone: its sentinel pipe closes, or this process is re-parented."""
    while True:
        parent.join(POLL_INTERVAL)
        if not parent.is_alive() or (parent_pid is not None and os.getppid() != parent_pid):
            os._exit(1)


def _die_with_parent(parent_pid: int | None, started_by_main_thread: bool) -> None:
    """Make this worker end as soon as the DataLoader process does, even in the middle of a fetch.

    Linux kills the worker itself (``PR_SET_PDEATHSIG``) when the DataLoader process is its parent and
    that process's main thread started it: the signal follows the thread that created a process, so a
    worker started by another thread would die with that thread. Otherwise a daemon thread watches
    the DataLoader process and exits this one, as PyTorch's ``ManagerWatchdog`` does.

    Args:
        parent_pid: pid of the DataLoader process if it is this worker's parent (``fork``, ``spawn``);
            ``None`` if a server process forked the worker (``forkserver``).
        started_by_main_thread: whether the DataLoader process's main thread started this worker.
    """
    if parent_pid is not None and started_by_main_thread and _arm_parent_death_signal():
        if os.getppid() != parent_pid:  # the parent died before the signal was armed
            os._exit(1)
        return
    watchdog = threading.Thread(
        target=_watch_parent,
        args=(multiprocessing.parent_process(), parent_pid),
        name="ember-data-worker-watchdog",
        daemon=True,
    )
    watchdog.start()


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, ember's and numpy's global RNGs for one worker; return the worker's seed."""
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    # numpy gets a state hashed from both numbers, so that it differs from the stream of `random`.
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _worker_loop(
    dataset_kind: int,
    dataset: Any,
    index_queue,
    data_queue,
    done_event,
    auto_collation: bool,
    collate_fn: Callable,
    drop_last: bool,
    base_seed: int,
    init_fn: Callable[[int], None] | None,
    worker_id: int,
    num_workers: int,
    parent_pid: int | None,
    started_by_main_thread: bool,
    forked: bool,
    pool_args: tuple | None = None,
) -> None:
    """Serve ``(send_idx, index)`` tasks from ``index_queue`` until told to stop (``None``).

    Each result goes to ``data_queue`` as ``(send_idx, _encode_result(batch))``, where an exception
    is sent as an ``ExceptionWrapper``; the end of an IterableDataset is sent unpickled, as
    ``(send_idx, _IterableDatasetStopIteration)``. The worker dies with the DataLoader process
    (``parent_pid``, ``started_by_main_thread``: see ``_die_with_parent``) and runs its thread pools
    on one thread (``forked``: from the DataLoader process, whose limits it inherits). With
    ``pool_args`` (``BatchReceiver.worker_pool_args``), large CPU tensors go in the shared memory
    blocks of a ``shared_batches.WorkerBlocks`` pool.
    """
    global _worker_info
    _die_with_parent(parent_pid, started_by_main_thread)
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_exception = None
        fetcher = None
        try:
            limit_worker_threads(forked)
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)

        iteration_end = False
        pool = None if pool_args is None else shared_batches.WorkerBlocks(*pool_args)
        while True:
            try:
                task = index_queue.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                # The stop message can be lost when the main process stops the workers while its
                # queues are being garbage collected (their feeder threads already finalized).
                if done_event.is_set():
                    break
                continue
            if isinstance(task, _ResumeIteration):
                data_queue.put((task, None))
                iteration_end = False
                try:
                    fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
                except Exception:
                    init_exception = ExceptionWrapper(where=where)
                continue
            if task is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            send_idx, index = task
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as error:
                    if isinstance(error, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=where)
            if not isinstance(data, _IterableDatasetStopIteration):
                data = _encode_result(data, worker_id, pool)
            data_queue.put((send_idx, data))
            del data, task, index
    except KeyboardInterrupt:
        # The main process receives the same SIGINT and shuts the workers down.
        pass
    if done_event.is_set():
        # Do not block exit on flushing results nobody will read.
        data_queue.cancel_join_thread()
        data_queue.close()
