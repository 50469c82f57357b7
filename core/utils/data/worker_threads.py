"""DataLoader workers run their thread pools on one thread, as PyTorch's workers run torch on one.

``num_workers`` workers whose BLAS or OpenMP each use every core would oversubscribe the CPUs.
``threadpoolctl``, when installed, limits the libraries already loaded; how the limit reaches a
worker depends on how the worker starts:

- forked from the DataLoader process: the worker inherits the loaded libraries with their
  settings, so the DataLoader process lowers its own limits while it forks the workers. Lowering
  them in each worker instead would restart OpenBLAS's whole thread pool in every worker (OpenBLAS
  stops its pool at a fork and restarts it when its thread count is set), and the new pool threads
  spin for about 0.1 s of CPU each. Restoring the DataLoader process's limits restarts its own pool
  instead, once per iterator, as its next multi-threaded BLAS call would have done anyway.
- spawned, or forked by a forkserver: the worker lowers the limits of what it has loaded, at start.

Every worker also sets the thread-count environment variables to 1, which limits the libraries
it loads later and its subprocesses.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from types import ModuleType
from typing import Iterator

# The thread-count variables of OpenMP, OpenBLAS and MKL.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Held while this process's limits are lowered for a fork, so that concurrent DataLoader iterators
# each restore the limits they found.
_fork_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _threadpoolctl() -> ModuleType | None:
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


@contextlib.contextmanager
def single_threaded_for_fork(start_method: str) -> Iterator[None]:
    """Around the start of the workers: under ``fork``, this process's thread pools run one thread.

    Other threads of this process that call BLAS meanwhile run it single-threaded for that moment.
    """
    threadpoolctl = _threadpoolctl() if start_method == "fork" else None
    if threadpoolctl is None:
        yield
        return
    with _fork_lock, threadpoolctl.threadpool_limits(limits=1):
        yield


def limit_worker_threads(forked: bool) -> None:
    """In a worker, at start: one thread per thread pool (``forked``: inherited from the parent, already limited)."""
    os.environ.update(dict.fromkeys(THREAD_ENV_VARS, "1"))
    threadpoolctl = None if forked else _threadpoolctl()
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(limits=1)
