"""`ember.set_num_threads` / `get_num_threads`: the size of the thread pools the CPU kernels use.

ember's CPU work runs in the array library's native pools (BLAS for matmul and convolution, OpenMP in
compiled kernels). When `threadpoolctl` is installed, `set_num_threads` resizes every such pool already
loaded in this process (OpenBLAS, MKL, BLIS, OpenMP). It also sets `OMP_NUM_THREADS`, `MKL_NUM_THREADS`,
`OPENBLAS_NUM_THREADS`, `BLIS_NUM_THREADS`, `VECLIB_MAXIMUM_THREADS` and `NUMEXPR_NUM_THREADS`, which
pools that start later (a library imported afterwards, a DataLoader worker process) read when they start;
without threadpoolctl those variables are all it controls. Elementwise numpy ops are single-threaded.
"""
from __future__ import annotations

import builtins
import os

_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_num_threads: int | None = None


def set_num_threads(int: int) -> None:  # PyTorch's parameter name
    """Set the number of threads used for intra-op parallelism on the CPU, as `torch.set_num_threads`."""
    global _num_threads
    if isinstance(int, builtins.bool) or not hasattr(int, "__index__"):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(int).__name__}")
    n = int.__index__()
    if n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    for var in _ENV_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(limits=n)
    _num_threads = n


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism on the CPU, as `torch.get_num_threads`: the value
    last set, else the size of the loaded pools (threadpoolctl), else `OMP_NUM_THREADS`, else the CPU count."""
    if _num_threads is not None:
        return _num_threads
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        sizes = [pool["num_threads"] for pool in threadpool_info()]
        if sizes:
            return max(sizes)
    env = os.environ.get("OMP_NUM_THREADS", "")
    return builtins.int(env) if env.isdigit() and builtins.int(env) > 0 else (os.cpu_count() or 1)
