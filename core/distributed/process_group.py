"""The default process group (every process an MPI launcher started) and sub-groups, as `torch.distributed`.

A group wraps an MPI communicator. mpi4py is imported when the first group is made, never before, so
`import ember.distributed` works without it. A process that `mpirun` did not start is a world of one.
"""
from __future__ import annotations

import datetime
import enum
import sys
import traceback
from collections.abc import Sequence
from typing import Any

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."
SUPPORTED_BACKENDS = ("mpi",)


class ReduceOp(enum.Enum):
    """How a reducing collective combines the ranks' values (`ReduceOp.SUM` is the default everywhere).

    `AVG` is the sum divided by the group's size (floating-point tensors only). On `bool` tensors `SUM` and
    `MAX` are a logical or, `PRODUCT` and `MIN` a logical and.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator, or none on ranks outside the group.

    Args:
        comm: the MPI communicator of the members (None on a rank that is not a member).
        ranks: the global ranks of the members, in group-rank order.
    """

    def __init__(self, comm: Any, ranks: Sequence[int]) -> None:
        self.comm = comm
        self.ranks = tuple(ranks)
        self.metadata: tuple | None = None  # the collectives' reusable metadata buffers

    def rank(self) -> int:
        """This process's rank within the group (-1 when it is not a member)."""
        return self.comm.Get_rank() if self.comm is not None else -1

    def size(self) -> int:
        """The number of ranks in the group."""
        return len(self.ranks)

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', ranks={list(self.ranks)})"


class _State:
    def __init__(self) -> None:
        self.world: ProcessGroup | None = None
        self.subgroups: list[ProcessGroup] = []
        self.previous_excepthook: Any = None


_state = _State()


def mpi() -> Any:
    """mpi4py's `MPI` module (importing it initialises MPI); RuntimeError naming the fix when it cannot load."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise RuntimeError(f"ember.distributed needs mpi4py and an MPI library ({exc}): "
                           f"pip install ember[mpi]") from exc
    return MPI


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Initialise the default process group: every process the MPI launcher started (`mpirun -n N`).

    Rank and world size come from the launcher. From then on an exception that no one catches prints this rank's
    traceback and aborts the whole job (`MPI_Abort`), so a failing rank never leaves the others waiting.

    Args:
        backend: `"mpi"` (the default; Open MPI or another MPI through mpi4py). Other PyTorch backends
            (`"gloo"`, `"nccl"`, ...) are a ValueError.
        init_method: None or `"env://"`; MPI's launcher already connects the processes.
        timeout: accepted for PyTorch compatibility; MPI collectives have no timeout (a failing rank aborts
            the job instead).
        world_size: -1, or the launcher's world size (a check).
        rank: -1, or this process's rank from the launcher (a check).
        store: must be None; MPI needs no key-value store.
        group_name: ignored, as in PyTorch (deprecated there).
        pg_options: must be None.
        device_id: None, or the device this process uses (accepted; collectives follow each tensor's device).
    """
    if _state.world is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in SUPPORTED_BACKENDS:
        raise ValueError(f"init_process_group: backend {backend!r} is not supported by ember; supported backends: "
                         f"{', '.join(repr(b) for b in SUPPORTED_BACKENDS)} (Open MPI through mpi4py: "
                         f"pip install ember[mpi], launch with python -m ember.distributed.run -n N script.py)")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method {init_method!r} is not used by the MPI backend; "
                         f"the MPI launcher connects the processes (pass None)")
    if store is not None:
        raise ValueError("init_process_group: store= is not used by the MPI backend (pass None)")
    if pg_options is not None:
        raise ValueError("init_process_group: pg_options= is not supported by the MPI backend (pass None)")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"init_process_group: timeout must be a datetime.timedelta, not {type(timeout).__name__}")
    MPI = mpi()
    comm = MPI.COMM_WORLD
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, size):
        raise ValueError(f"init_process_group: world_size={world_size} but the MPI launcher started {size} "
                         f"process(es); pass -1 or {size}")
    if rank not in (-1, me):
        raise ValueError(f"init_process_group: rank={rank} but the MPI launcher gave this process rank {me}; "
                         f"pass -1")
    _state.world = ProcessGroup(comm, range(size))
    if size > 1:
        _state.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def _abort_on_uncaught_exception(exc_type, exc, tb) -> None:
    """Print the traceback with this rank's number, then abort every rank of the job (exit code 1)."""
    world = _state.world
    rank = world.rank() if world is not None else "?"
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[ember.distributed rank {rank}] uncaught exception, aborting the job:\n{text}")
    sys.stderr.flush()
    mpi().COMM_WORLD.Abort(1)


def is_initialized() -> bool:
    """True once `init_process_group` has run (and `destroy_process_group` has not)."""
    return _state.world is not None


def world() -> ProcessGroup:
    """The default group; ValueError (PyTorch's message) before `init_process_group`."""
    if _state.world is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state.world


def resolve(group: ProcessGroup | None) -> ProcessGroup:
    """`group`, or the default group for None."""
    if group is None:
        return world()
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup from new_group() or None, not {type(group).__name__}")
    world()
    return group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in `group` (default: the world); -1 when it is not a member."""
    return resolve(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in `group` (default: the world)."""
    return resolve(group).size()


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks of `group`'s members, in group-rank order."""
    return list(resolve(group).ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of the member with rank `group_rank` in `group`."""
    ranks = resolve(group).ranks
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {list(ranks)}")
    return ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank within `group` of the process with global rank `global_rank`."""
    ranks = resolve(group).ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {list(ranks)}")
    return ranks.index(global_rank)


def new_group(ranks: Sequence[int] | None = None, timeout: datetime.timedelta | None = None,
              backend: str | None = None, pg_options: Any = None, use_local_synchronization: bool = False,
              group_desc: str | None = None, device_id: Any = None, sort_ranks: bool = True) -> ProcessGroup:
    """A group of the given global ranks (default: all), an MPI sub-communicator.

    Every process of the world must call it, members or not, with the same `ranks`. On a non-member the
    returned group has rank -1 and collectives on it do nothing.
    """
    group = world()
    if backend is not None and str(backend).lower() not in SUPPORTED_BACKENDS:
        raise ValueError(f"new_group: backend {backend!r} is not supported by ember; supported backends: "
                         f"{', '.join(repr(b) for b in SUPPORTED_BACKENDS)}")
    size = group.size()
    members = list(range(size)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        members.sort()
    bad = [r for r in members if not 0 <= r < size]
    if bad or len(set(members)) != len(members):
        raise ValueError(f"new_group: ranks {members} must be distinct ranks in [0, {size - 1}]")
    MPI = mpi()
    me = group.rank()
    color = 0 if me in members else MPI.UNDEFINED
    comm = group.comm.Split(color, members.index(me) if me in members else 0)
    sub = ProcessGroup(None if comm == MPI.COMM_NULL else comm, members)
    _state.subgroups.append(sub)
    return sub


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free `group` (default: the default group and every sub-group, after which `init_process_group` may run
    again). MPI itself stays initialised until the process exits."""
    if group is not None and group is not _state.world:
        _free(group)
        if group in _state.subgroups:
            _state.subgroups.remove(group)
        return
    world()
    for sub in _state.subgroups:
        _free(sub)
    _state.subgroups = []
    if _state.previous_excepthook is not None and sys.excepthook is _abort_on_uncaught_exception:
        sys.excepthook = _state.previous_excepthook
    _state.previous_excepthook = None
    _state.world = None


def _free(group: ProcessGroup) -> None:
    if group.comm is not None:
        group.comm.Free()
        group.comm = None
