"""DataLoader workers run their thread pools on one thread, as PyTorch's workers run torch on one.

``num_workers`` workers whose BLAS or OpenMP each use every core would oversubscribe the CPUs.
``threadpoolctl`` limits the libraries already loaded; how the limit reaches a worker depends on
how the worker starts:

- forked from the DataLoader process: the worker inherits the loaded libraries with their
  settings, so the DataLoader process lowers its own limits while it forks the workers. Lowering
  them in each worker instead would restart OpenBLAS's whole thread pool in every worker (OpenBLAS
  stops its pool at a fork and restarts it when its thread count is set), and the new pool threads
  spin for about 0.1 s of CPU each. Restoring the DataLoader process's limits restarts its own pool
  instead, once per iterator, as its next multi-threaded BLAS call would have done anyway.
- spawned, or forked by a forkserver: the worker lowers the limits of what it has loaded, at start.

Every worker also sets the thread-count environment variables to 1, which limits the libraries
it loads later and its subprocesses, and reports 1 from ``ember.get_num_threads()``.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from ... import threads

# Held while this process's limits are lowered for a fork, so that concurrent DataLoader iterators
# each restore the limits they found.
_fork_lock = threading.Lock()


@contextlib.contextmanager
def single_threaded_for_fork(start_method: str) -> Iterator[None]:
    """Around the start of the workers: under ``fork``, this process's thread pools run one thread.

    Other threads of this process that call BLAS meanwhile run it single-threaded for that moment.
    """
    if start_method != "fork":
        yield
        return
    from threadpoolctl import threadpool_limits  # imported on first use: it inspects every loaded library

    with _fork_lock, threadpool_limits(limits=1):
        yield


def limit_worker_threads(forked: bool) -> None:
    """In a worker, at start: one thread per thread pool (``forked``: inherited from the parent, already limited)."""
    threads._apply(1, resize_loaded=not forked)
