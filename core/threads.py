"""`ember.set_num_threads` / `get_num_threads`: the size of the thread pools the CPU kernels use.

ember's CPU work runs in the array library's native pools (BLAS for matmul and convolution, OpenMP in
compiled kernels). `set_num_threads` resizes every such pool already loaded in this process (OpenBLAS,
MKL, BLIS, OpenMP) through `threadpoolctl`, and sets `OMP_NUM_THREADS`, `MKL_NUM_THREADS`,
`OPENBLAS_NUM_THREADS`, `BLIS_NUM_THREADS`, `VECLIB_MAXIMUM_THREADS` and `NUMEXPR_NUM_THREADS`, which
pools that start later (a library imported afterwards, a subprocess) read when they start. Elementwise
numpy ops are single-threaded.

Defaults, chosen not to oversubscribe the CPUs: the pools keep their library's default (one thread per
CPU this process may run on); the numpy backend runs small matrix products on one thread (waking a
pool costs more than they do); DataLoader workers run one thread each, as PyTorch's.
"""
from __future__ import annotations

import builtins
import os

_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_num_threads: int | None = None


def set_num_threads(int: int) -> None:  # PyTorch's parameter name
    """Set the number of threads used for intra-op parallelism on the CPU, as `torch.set_num_threads`.

    Args:
        int: the number of threads, a positive integer.
    """
    if isinstance(int, builtins.bool) or not hasattr(int, "__index__"):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(int).__name__}")
    n = int.__index__()
    if n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    _apply(n, resize_loaded=True)


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism on the CPU, as `torch.get_num_threads`.

    Returns:
        The value last set in this process (one in a DataLoader worker), else the size of the largest
        loaded pool, else `OMP_NUM_THREADS`, else the CPU count.
    """
    if _num_threads is not None:
        return _num_threads
    from threadpoolctl import threadpool_info  # imported on first use: it inspects every loaded library

    sizes = [pool["num_threads"] for pool in threadpool_info()]
    if sizes:
        return max(sizes)
    env = os.environ.get("OMP_NUM_THREADS", "")
    return builtins.int(env) if env.isdigit() and builtins.int(env) > 0 else (os.cpu_count() or 1)


def _apply(n: int, resize_loaded: bool) -> None:
    """Record `n` threads and set the variables; `resize_loaded`: also resize the pools already loaded
    (a forked DataLoader worker inherits pools its parent already limited)."""
    global _num_threads
    os.environ.update(dict.fromkeys(_ENV_VARS, str(n)))
    if resize_loaded:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    _num_threads = n
