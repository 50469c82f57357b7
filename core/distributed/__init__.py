"""Data-parallel training across processes and machines, as `torch.distributed`, on MPI (mpi4py).

    python -m ember.distributed.run -n 2 train.py     # wraps mpirun; or: mpirun -n 2 python train.py

    import ember.distributed as dist
    dist.init_process_group("mpi")                    # rank and world size from the MPI launcher
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Importing this package never imports mpi4py: that happens in `init_process_group`. `is_available()` says
whether mpi4py is installed, and `unavailable_reason()` why not (`pip install ember[mpi]` installs mpi4py and
Open MPI from PyPI).
"""
from __future__ import annotations

import importlib.util

from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .process_group import (
    ProcessGroup,
    ReduceOp,
    destroy_process_group,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    init_process_group,
    is_initialized,
    new_group,
)

__all__ = [
    "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_reduce", "barrier",
    "broadcast", "destroy_process_group", "gather", "get_global_rank", "get_group_rank", "get_process_group_ranks",
    "get_rank", "get_world_size", "init_process_group", "is_available", "is_initialized", "is_mpi_available",
    "new_group", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter", "unavailable_reason",
]


def unavailable_reason() -> str | None:
    """Why `ember.distributed` cannot run collectives (mpi4py missing), or None when it can."""
    try:
        found = importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError) as exc:
        return f"mpi4py cannot be found ({exc}): pip install ember[mpi]"
    return None if found else "mpi4py is not installed: pip install ember[mpi]"


def is_available() -> bool:
    """True when mpi4py is installed, so that `init_process_group("mpi")` can run; never raises."""
    return unavailable_reason() is None


def is_mpi_available() -> bool:
    """True when the MPI backend is available (the only backend ember has); same as `is_available()`."""
    return is_available()
