"""``DataLoader``: batches from a dataset, in the main process or in worker processes."""
from __future__ import annotations

import abc
import atexit
import itertools
import math
import multiprocessing
import multiprocessing.context
import os
import queue
import signal
import threading
import time
import warnings
from typing import Any, Callable, Iterable, Iterator

from ...tensor import Tensor
from . import shared_batches
from . import worker as _worker
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .fetch import _DatasetKind
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed
from .worker import ExceptionWrapper, get_worker_info
from .worker_threads import single_threaded_for_fork

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# How long shutdown waits for a worker to finish its current task before terminating it.
_SHUTDOWN_JOIN_TIMEOUT = 2.0

_python_is_exiting = False


def _set_python_is_exiting() -> None:
    # At interpreter exit, multiprocessing itself terminates the (daemonic) workers; queues and
    # modules may already be torn down, so iterators must not try a clean shutdown then.
    global _python_is_exiting
    _python_is_exiting = True


atexit.register(_set_python_is_exiting)


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of an IterableDataset: yields ``None`` forever; the stream decides the end."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


def _available_cpus() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader:
    """Combines a dataset and a sampler, and provides an iterable over the given dataset.

    Supports map-style and iterable-style datasets, single- or multi-process loading, custom
    loading order and automatic batching (collation). Batches land on the CPU; ``.to(device)``
    moves them.

    Args:
        dataset (Dataset): dataset from which to load the data.
        batch_size (int, optional): how many samples per batch to load (default ``1``); ``None``
            disables automatic batching.
        shuffle (bool, optional): ``True`` to reshuffle the data at every epoch (default ``False``).
        sampler (Sampler or Iterable, optional): strategy to draw indices; excludes ``shuffle``.
        batch_sampler (Sampler or Iterable, optional): like ``sampler`` but yields lists of
            indices; excludes ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers (int, optional): how many subprocesses load data; ``0`` (default) loads in the
            main process.
        collate_fn (Callable, optional): merges a list of samples into a batch
            (default ``default_collate``; ``default_convert`` when batching is disabled).
        pin_memory (bool, optional): copy the batches' CPU tensors into page-locked memory
            (`Tensor.pin_memory`), from which copies to a CUDA device are faster; without a CUDA device it
            warns, as PyTorch does, and has no effect (default ``False``).
        drop_last (bool, optional): ``True`` to drop the last incomplete batch (default ``False``).
        timeout (numeric, optional): if positive, seconds to wait for a batch from the workers
            before raising ``RuntimeError`` and stopping them (default ``0``: wait as long as the
            workers live).
        worker_init_fn (Callable, optional): called in each worker with its id, after seeding and
            before loading.
        multiprocessing_context (str or multiprocessing context, optional): start method of the
            workers (``"fork"``, ``"spawn"``, ``"forkserver"``); ``None`` uses the platform default.
        generator (Generator, optional): RNG of the ``RandomSampler`` and of the workers' base seed.
        prefetch_factor (int, optional, keyword-only): batches loaded in advance by each worker
            (default ``2`` when ``num_workers > 0``).
        persistent_workers (bool, optional, keyword-only): keep the workers (and their dataset
            copies) alive between epochs (default ``False``).
        in_order (bool, optional, keyword-only): ``False`` lets workers' batches arrive in completion
            order rather than sampler order (default ``True``).

    With ``num_workers > 0``, worker ``i`` seeds Python's ``random``, ``ember`` and ``numpy.random``
    from ``base_seed + i``, where ``base_seed`` is drawn from ``generator`` (or the default
    generator) when an iterator is created, so ``ember.manual_seed`` makes the workers'
    randomness reproducible. A worker's exception is re-raised in the main process with its
    type and the worker's traceback; a worker that dies raises ``RuntimeError`` naming it.

    Beyond PyTorch: a batch that the main process cannot unpickle raises ``RuntimeError`` naming
    the worker and the batch (and the iteration can go on), and the workers die with the main
    process even when it is killed in the middle of a fetch. As in PyTorch, the workers run
    single-threaded: their BLAS and OpenMP thread pools are limited to one thread (through
    ``threadpoolctl`` for the libraries already loaded), and ``ember.get_num_threads()`` is 1 in them.
    Also as in PyTorch, workers hand large CPU tensors over in shared memory (on Linux): a batch's
    tensor then shares memory with a block that a worker reuses once no tensor uses it any more.
    """

    _immutable_after_init = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    _initialized = False

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler[list] | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, but got timeout={timeout}")
        if timeout > 0 and num_workers == 0:
            raise ValueError(f"timeout option needs num_workers > 0, but got timeout={timeout} with num_workers=0")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing; let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor <= 0:
            raise ValueError(f"prefetch_factor option should be positive, but got prefetch_factor={prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # Iterable-style datasets are checked first: their samplers are meaningless, so say so before
        # anything else about samplers.
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in (False, None):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator: _BaseDataLoaderIter | None = None
        self._initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self) -> multiprocessing.context.BaseContext | None:
        """The start method context of the workers; None for the platform default."""
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: str | multiprocessing.context.BaseContext | None) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                    f"but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                        f"but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string specifying the "
                    f"start method, but got multiprocessing_context={context!r}"
                )
        self._multiprocessing_context = context

    def __setattr__(self, name: str, value: Any) -> None:
        if self._initialized and name in self._immutable_after_init:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __iter__(self) -> _BaseDataLoaderIter:
        # Persistent workers live in one iterator for the loader's whole life; it is reset per epoch.
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.pin_memory:
            from ember import cuda

            if not cuda.is_available():
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                              "pinned memory won't be used.", stacklevel=3)
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Sampler | Iterable:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # An estimate from the dataset's own length: the workers' sharding is the dataset's business.
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn when ``num_workers`` exceeds the CPUs this process may run on."""
        if self.num_workers == 0:
            return
        cpus = _available_cpus()
        if cpus is None or self.num_workers > cpus:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total, more than the {cpus} CPUs "
                "this process may use; excessive worker creation might get the DataLoader running slow or even "
                "freeze: lower num_workers if necessary.",
                stacklevel=3,
            )


class _BaseDataLoaderIter(abc.ABC):
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _draw_seed(loader.generator)
        self._pin = loader.pin_memory and _cuda_available()

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)

    def _next_index(self):
        return next(self._sampler_iter)  # StopIteration ends the epoch

    @abc.abstractmethod
    def _next_data(self) -> Any:
        """The next batch (the single- and multi-process iterators each load it their way)."""

    def __next__(self) -> Any:
        batch = self._next_data()
        return pin_memory(batch) if self._pin else batch

    def __len__(self) -> int:
        return len(self._index_sampler)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn, self._drop_last
        )

    def _next_data(self) -> Any:
        index = self._next_index()
        return self._dataset_fetcher.fetch(index)  # an exhausted IterableDataset raises StopIteration


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Loads batches in ``num_workers`` worker processes.

    The main process sends ``(send_idx, indices)`` tasks round-robin to one index queue per worker,
    keeping ``prefetch_factor * num_workers`` tasks outstanding; every worker puts
    ``(send_idx, pickled batch)`` on one shared result queue, its large CPU tensors in shared memory
    blocks of the worker's pool (``shared_batches``). Results that arrive early wait in
    ``_task_info`` (the reorder buffer) until their turn, so batches come out in sampler order. A
    batch is unpickled when its turn comes, so one that cannot be unpickled raises in its turn,
    naming the worker and the batch, and the iteration can go on.

    While waiting for a result the main process polls the workers' health, so a dead worker raises
    ``RuntimeError`` naming it, and ``timeout`` raises instead of hanging. The workers are shut
    down at the end of the epoch (unless persistent), on a fatal error, and when the iterator is
    garbage collected (e.g. after ``break``); a worker also dies with this process.
    """

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        self._shutdown = True  # until there is something to shut down
        # A forked process inherits this object; only the process that started the workers stops them.
        self._owner_pid = os.getpid()
        self._workers: list = []
        self._index_queues: list = []
        context = loader.multiprocessing_context or multiprocessing.get_context()
        self._worker_result_queue = context.Queue()
        self._workers_done_event = context.Event()
        # What a worker needs to die with this process (worker._die_with_parent): a forkserver
        # worker is the server's child, not this process's.
        start_method = context.get_start_method()
        parent_pid = None if start_method == "forkserver" else os.getpid()
        started_by_main_thread = threading.current_thread() is threading.main_thread()
        self._receiver = None
        if shared_batches.available():
            self._receiver = shared_batches.BatchReceiver(context, self._num_workers)
        self._shutdown = False
        try:
            with single_threaded_for_fork(start_method):
                for worker_id in range(self._num_workers):
                    index_queue = context.Queue()
                    # Tasks left in an index queue at shutdown are dropped, not flushed.
                    index_queue.cancel_join_thread()
                    process = context.Process(
                        target=_worker._worker_loop,
                        args=(
                            self._dataset_kind,
                            self._dataset,
                            index_queue,
                            self._worker_result_queue,
                            self._workers_done_event,
                            self._auto_collation,
                            self._collate_fn,
                            self._drop_last,
                            self._base_seed,
                            loader.worker_init_fn,
                            worker_id,
                            self._num_workers,
                            parent_pid,
                            started_by_main_thread,
                            start_method == "fork",
                            None if self._receiver is None else self._receiver.worker_pool_args(worker_id),
                        ),
                        name=f"ember-data-worker-{worker_id}",
                        daemon=True,
                    )
                    process.start()
                    self._index_queues.append(index_queue)
                    self._workers.append(process)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        unfinished = {} if first_iter else self._task_info
        self._send_idx = 0  # index of the next task to send
        self._rcvd_idx = 0  # index of the next task to return
        # send_idx -> (worker_id,) while outstanding, (worker_id, pickled batch) once it arrived early.
        self._task_info: dict[int, tuple] = {}
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: finish what the last epoch left in flight, then restart their fetchers.
            for index_queue in self._index_queues:
                index_queue.put(_worker._ResumeIteration())
            resumed = 0
            while resumed < self._num_workers:
                idx, data = self._get_data()
                if isinstance(idx, _worker._ResumeIteration):
                    resumed += 1
                elif idx in unfinished:
                    unfinished[idx] += (data,)
            # The last epoch's results nobody will read give their shared memory blocks back.
            for info in unfinished.values():
                if len(info) == 2:
                    self._discard(info[1], info[0])
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _failed_workers_error(self) -> RuntimeError | None:
        """Mark the workers that died while still expected to work; describe them, or return None."""
        failed = []
        for worker_id, process in enumerate(self._workers):
            if self._workers_status[worker_id] and not process.is_alive():
                self._workers_status[worker_id] = False
                code = process.exitcode
                if code is not None and code < 0:
                    how = f"killed by signal {signal.Signals(-code).name}"
                else:
                    how = f"exit code {code}"
                failed.append(f"DataLoader worker {worker_id} (pid {process.pid}) exited unexpectedly ({how})")
        if not failed:
            return None
        return RuntimeError("; ".join(failed))

    def _get_data(self) -> tuple:
        """Wait for the next ``(send_idx, data)`` from any worker, watching the workers' health."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _worker.POLL_INTERVAL
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            try:
                return self._worker_result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            # Past a dead worker or a timeout the workers' state is unknown: stop them without waiting.
            error = self._failed_workers_error()
            if error is not None:
                self._shutdown_workers(join_timeout=0.0)
                raise error
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown_workers(join_timeout=0.0)
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _next_data(self) -> Any:
        while True:
            if self._shutdown:
                raise StopIteration
            # Skip tasks of workers that ended (an exhausted IterableDataset) and returned nothing.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:
                idx = self._rcvd_idx
                worker_id, data = self._task_info.pop(idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id, idx)

            idx, data = self._get_data()
            if isinstance(data, _worker._IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                if not self._persistent_workers:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                worker_id = self._task_info.pop(idx)[0]
                if idx == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process_data(data, worker_id, idx)
            self._task_info[idx] += (data,)

    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id] and (
                self._in_order or self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status)
            ):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._send_idx += 1

    def _process_data(self, payload: tuple, worker_id: int, idx: int) -> Any:
        """Account for the finished task ``idx``, queue the next one, and return its unpickled batch."""
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        data = _worker._decode_result(payload, worker_id, idx, self._receiver)
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _discard(self, data: Any, worker_id: int) -> None:
        """Give back the shared memory blocks of a result of worker ``worker_id`` that will not be read."""
        if self._receiver is not None and isinstance(data, tuple):
            self._receiver.discard(data, worker_id)

    def _shutdown_workers(self, join_timeout: float = _SHUTDOWN_JOIN_TIMEOUT) -> None:
        """Tell the workers to stop, wait up to ``join_timeout`` seconds for them, then kill the rest."""
        if _python_is_exiting or self._shutdown or os.getpid() != self._owner_pid:
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            deadline = time.monotonic() + join_timeout
            for process in self._workers:
                process.join(timeout=max(0.0, deadline - time.monotonic()))
            for index_queue in self._index_queues:
                index_queue.close()
            self._worker_result_queue.cancel_join_thread()
            self._worker_result_queue.close()
        finally:
            for process in self._workers:
                if process.is_alive():
                    process.kill()
                    process.join()
            if getattr(self, "_receiver", None) is not None:
                self._receiver.release()

    def __del__(self) -> None:
        if hasattr(self, "_shutdown"):
            self._shutdown_workers()


def _cuda_available() -> bool:
    from ember import cuda

    return cuda.is_available()


def pin_memory(data: Any) -> Any:
    """`data` with every CPU tensor in it (through lists, tuples, named tuples and dicts) pinned."""
    if isinstance(data, Tensor):
        return data.pin_memory() if data.device.type == "cpu" else data
    if isinstance(data, dict):
        pinned = {k: pin_memory(v) for k, v in data.items()}
        try:
            return type(data)(pinned)
        except TypeError:  # a mapping type that cannot be built from a dict
            return pinned
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(pin_memory(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(pin_memory(v) for v in data)
    return data
