"""What runs inside a DataLoader worker process, and what it sends back to the main process."""
from __future__ import annotations

import multiprocessing.queues
import os
import pickle
import queue
import random
import sys
import traceback
from typing import Any, Callable

import numpy as np

import ember

from .fetch import _DatasetKind

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


class _ResultQueue(multiprocessing.queues.Queue):
    """The queue of the workers' results.

    A result that cannot be pickled is replaced by an ``ExceptionWrapper`` of the pickling error
    (a plain multiprocessing queue would drop it, and the main process would wait for it forever).
    """

    def _on_queue_feeder_error(self, error: Exception, obj: Any) -> None:
        is_result = isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], int)
        if not is_result or isinstance(obj[1], ExceptionWrapper):
            super()._on_queue_feeder_error(error, obj)
            return
        info = get_worker_info()
        where = "sending a batch in DataLoader worker process" + ("" if info is None else f" {info.id}")
        self.put((obj[0], ExceptionWrapper((type(error), error, error.__traceback__), where=where)))


class _IterableDatasetStopIteration:
    """Sent by a worker whose IterableDataset stream is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch, and echoed back by them."""


class _ParentWatchdog:
    """Tells a worker whether the process that started it is still alive (it is re-parented if not)."""

    def __init__(self) -> None:
        self.parent_pid = os.getppid()

    def is_alive(self) -> bool:
        return os.getppid() == self.parent_pid


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
) -> None:
    """Serve ``(send_idx, index)`` tasks from ``index_queue`` until told to stop (``None``).

    Each result goes to ``data_queue`` as ``(send_idx, batch)``, where an exception is sent as an
    ``ExceptionWrapper`` and the end of an IterableDataset as ``_IterableDatasetStopIteration``.
    The loop also ends when the parent process dies.
    """
    global _worker_info
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)

        iteration_end = False
        watchdog = _ParentWatchdog()
        while watchdog.is_alive():
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
            data_queue.put((send_idx, data))
            del data, task, index
    except KeyboardInterrupt:
        # The main process receives the same SIGINT and shuts the workers down.
        pass
    if done_event.is_set():
        # Do not block exit on flushing results nobody will read.
        data_queue.cancel_join_thread()
        data_queue.close()
