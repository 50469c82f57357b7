"""Collectives with `torch.distributed`'s signatures and in-place semantics, run by MPI's non-blocking collectives.

Every collective first gathers a small row of metadata from each member (which collective, op, root, dtype,
shape: one `MPI_Allgather` of 16 integers, about a microsecond on one machine) and raises the same
RuntimeError on every rank when the rows differ, so ranks that disagree fail with a message instead of
hanging or mixing up memory. Then the MPI collective starts; `async_op=True` returns its `Work` handle.
"""
from __future__ import annotations

import datetime
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy
from ember.tensor import Tensor

from .host_buffer import HostBuffer, empty_like_host, host_array, write
from .process_group import ProcessGroup, ReduceOp, get_group_rank, mpi, resolve

_ROW = 16
_MAX_DIMS = _ROW - 6
_COLLECTIVES = ("all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter",
                "reduce_scatter_tensor", "gather", "scatter", "barrier")
_OPS = tuple(ReduceOp)


class Work:
    """The handle of a collective started with `async_op=True`: `wait()` blocks until it is done.

    The output tensors hold the result only after `wait()` (or `is_completed()` returning True).
    """

    def __init__(self, request: Any, finish: Callable[[], None], outputs: list[Tensor]) -> None:
        self._request = request
        self._finish = finish
        self._outputs = outputs
        self._done = False

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            self._finish()

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        """Block until the collective has completed and its results are in the output tensors; returns True.

        Args:
            timeout: accepted for PyTorch compatibility; an MPI request cannot time out.
        """
        if not self._done:
            if self._request is not None:
                self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        """True when the collective has completed (its results are then in the output tensors)."""
        if not self._done and (self._request is None or self._request.Test()):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        """True when the collective completed (MPI errors abort the job instead of failing one handle)."""
        return self.is_completed()

    def exception(self) -> None:
        """None: an MPI error aborts the job rather than being stored in the handle."""

    def result(self) -> list[Tensor]:
        """The output tensors, after waiting for the collective."""
        self.wait()
        return list(self._outputs)


def _code(name: str) -> int:
    return zlib.crc32(name.encode())


def _row(collective: str, op: ReduceOp | None, root: int, tensor: Tensor, row: numpy.ndarray) -> numpy.ndarray:
    """Fill `row` (16 int64) with the call's description: collective, op, root, dtype, shape."""
    shape = tuple(tensor.shape)
    row[:] = 0
    row[:5] = (_COLLECTIVES.index(collective), -1 if op is None else _OPS.index(op), root, _code(tensor.dtype.name),
               len(shape))
    head = shape[:_MAX_DIMS]
    row[5:5 + len(head)] = head
    row[-1] = int(numpy.prod(shape[_MAX_DIMS:], dtype=numpy.int64)) if len(shape) > _MAX_DIMS else 0
    return row


def _describe(row: numpy.ndarray) -> str:
    name = _COLLECTIVES[row[0]]
    ndim = int(row[4])
    dims = [int(d) for d in row[5:5 + min(ndim, _MAX_DIMS)]]
    if ndim > _MAX_DIMS:
        dims.append(f"...({int(row[-1])} elements)")
    dtypes = {_code(n): n for n in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                    "float64")}
    extra = f" op={_OPS[row[1]].name}" if row[1] >= 0 else ""
    extra += f" root={int(row[2])}" if row[2] >= 0 else ""
    return f"{name}({dtypes.get(int(row[3]), '?')} {dims}{extra})"


def _check_matching(group: ProcessGroup, collective: str, op: ReduceOp | None, root: int, tensor: Tensor) -> None:
    """RuntimeError on every member when the members' collective, op, root, dtype or shape differ.

    The group keeps its two metadata arrays: MPI is 50x slower on freshly allocated small buffers."""
    if group.metadata is None:
        group.metadata = (numpy.empty(_ROW, dtype=numpy.int64), numpy.empty((group.size(), _ROW), dtype=numpy.int64))
    mine, rows = group.metadata
    group.comm.Allgather(_row(collective, op, root, tensor, mine), rows)
    if (rows != rows[0]).any():
        ranks = ", ".join(f"rank {r} {_describe(row)}" for r, row in zip(group.ranks, rows))
        raise RuntimeError(f"{collective}: the ranks' calls do not match ({ranks}); every rank of the group must "
                           f"call the same collective with tensors of the same shape and dtype (and the same op "
                           f"and root)")


def _mpi_op(op: ReduceOp, tensor: Tensor, collective: str) -> Any:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{collective}: op must be a ReduceOp, not {type(op).__name__}")
    MPI = mpi()
    if op is ReduceOp.AVG and not tensor.dtype.is_floating_point:
        raise ValueError(f"{collective}: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    if tensor.dtype.name == "bool":
        return {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND,
                ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND, ReduceOp.BXOR: MPI.LXOR}[op]
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and tensor.dtype.is_floating_point:
        raise ValueError(f"{collective}: ReduceOp.{op.name} needs an integer or bool tensor, got {tensor.dtype}")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


def _check_tensor(tensor: Any, collective: str, name: str = "tensor") -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{collective}(): argument '{name}' must be Tensor, not {type(tensor).__name__}")


def _check_list(tensors: Any, like: Tensor, count: int, collective: str, name: str) -> list[Tensor]:
    """`tensors` as a list of `count` tensors of `like`'s shape and dtype (ValueError naming the mismatch)."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{collective}(): argument '{name}' must be a list of Tensors, not {type(tensors).__name__}")
    if len(tensors) != count:
        raise ValueError(f"{collective}: {name} has {len(tensors)} tensors but the group has {count} ranks")
    for i, t in enumerate(tensors):
        _check_tensor(t, collective, f"{name}[{i}]")
        if t.shape != like.shape or t.dtype is not like.dtype:
            raise ValueError(f"{collective}: {name}[{i}] is {t.dtype} {list(t.shape)}, expected {like.dtype} "
                             f"{list(like.shape)} (as the input tensor)")
    return list(tensors)


def _root(group: ProcessGroup, rank: int | None, group_rank: int | None, collective: str, what: str) -> int:
    """The root's rank within `group`, from a global rank or a group rank (PyTorch's `src`/`group_src`)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"{collective}: pass {what} or group_{what}, not both")
    if group_rank is not None:
        if not 0 <= group_rank < group.size():
            raise ValueError(f"{collective}: group_{what}={group_rank} is not a rank of the group "
                             f"(size {group.size()})")
        return group_rank
    return get_group_rank(group, 0 if rank is None else rank)


def _run(group: ProcessGroup, start: Callable[[], Any], finish: Callable[[], None], outputs: list[Tensor],
         async_op: bool) -> Work | None:
    work = Work(start(), finish, outputs)
    if async_op:
        return work
    work.wait()
    return None


def _member(group: ProcessGroup | None) -> ProcessGroup | None:
    """The resolved group, or None when this rank is not a member (the collective then does nothing)."""
    group = resolve(group)
    return group if group.comm is not None else None


def _averaged(buffer: HostBuffer, op: ReduceOp, size: int) -> Callable[[], None]:
    def finish() -> None:
        buffer.write_back()
        if op is ReduceOp.AVG:
            from ember import no_grad

            with no_grad():
                buffer.tensor.div_(size)
    return finish


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Reduce `tensor` across the group in place: every rank ends with the result (e.g. the sum)."""
    _check_tensor(tensor, "all_reduce")
    group = _member(group)
    if group is None:
        return None
    mpi_op = _mpi_op(op, tensor, "all_reduce")
    _check_matching(group, "all_reduce", op, -1, tensor)
    buffer = HostBuffer(tensor)
    MPI = mpi()
    return _run(group, lambda: group.comm.Iallreduce(MPI.IN_PLACE, buffer.array, op=mpi_op),
                _averaged(buffer, op, group.size()), [tensor], async_op)


def reduce(tensor: Tensor, dst: int | None = None, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Reduce `tensor` across the group into rank `dst`'s tensor (in place there; the others keep theirs)."""
    _check_tensor(tensor, "reduce")
    group = _member(group)
    if group is None:
        return None
    mpi_op = _mpi_op(op, tensor, "reduce")
    root = _root(group, dst, group_dst, "reduce", "dst")
    _check_matching(group, "reduce", op, root, tensor)
    buffer = HostBuffer(tensor)
    MPI = mpi()
    if group.rank() == root:
        return _run(group, lambda: group.comm.Ireduce(MPI.IN_PLACE, buffer.array, op=mpi_op, root=root),
                    _averaged(buffer, op, group.size()), [tensor], async_op)
    return _run(group, lambda: group.comm.Ireduce(buffer.array, None, op=mpi_op, root=root), lambda: None,
                [tensor], async_op)


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy rank `src`'s `tensor` into `tensor` on every rank of the group (in place)."""
    _check_tensor(tensor, "broadcast")
    if src is None and group_src is None:
        raise ValueError("broadcast: either group_src or src must be specified")
    group = _member(group)
    if group is None:
        return None
    root = _root(group, src, group_src, "broadcast", "src")
    _check_matching(group, "broadcast", None, root, tensor)
    buffer = HostBuffer(tensor)
    finish = (lambda: None) if group.rank() == root else buffer.write_back
    return _run(group, lambda: group.comm.Ibcast(buffer.array, root=root), finish, [tensor], async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Put every rank's `tensor` into `tensor_list` (entry i from group rank i) on every rank."""
    _check_tensor(tensor, "all_gather")
    group = _member(group)
    if group is None:
        return None
    outputs = _check_list(tensor_list, tensor, group.size(), "all_gather", "tensor_list")
    _check_matching(group, "all_gather", None, -1, tensor)
    send, recv = host_array(tensor), empty_like_host(tensor, (group.size(),))

    def finish() -> None:
        for out, values in zip(outputs, recv):
            write(out, values)
    return _run(group, lambda: group.comm.Iallgather(send, recv), finish, outputs, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """Gather every rank's `input_tensor` into `output_tensor`, concatenated along dim 0 (or stacked: shape
    `(world_size, *input.shape)`), on every rank."""
    _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    group = _member(group)
    if group is None:
        return None
    _check_sizes(output_tensor, input_tensor, group.size(), "all_gather_into_tensor", "output_tensor")
    _check_matching(group, "all_gather_into_tensor", None, -1, input_tensor)
    recv = HostBuffer(output_tensor)
    send = host_array(input_tensor)
    return _run(group, lambda: group.comm.Iallgather(send, recv.array), recv.write_back, [output_tensor], async_op)


def _check_sizes(big: Tensor, small: Tensor, size: int, collective: str, name: str) -> None:
    if big.dtype is not small.dtype or big.numel() != size * small.numel():
        raise ValueError(f"{collective}: {name} is {big.dtype} {list(big.shape)}; it must have the other tensor's "
                         f"dtype ({small.dtype}) and world_size ({size}) times its {small.numel()} elements")


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Reduce `input_list[i]` across the group into `output` of group rank i (in place)."""
    _check_tensor(output, "reduce_scatter", "output")
    group = _member(group)
    if group is None:
        return None
    mpi_op = _mpi_op(op, output, "reduce_scatter")
    inputs = _check_list(input_list, output, group.size(), "reduce_scatter", "input_list")
    _check_matching(group, "reduce_scatter", op, -1, output)
    send = numpy.stack([host_array(t) for t in inputs]) if inputs else empty_like_host(output, (0,))
    recv = HostBuffer(output)
    return _run(group, lambda: group.comm.Ireduce_scatter_block(send, recv.array, op=mpi_op),
                _averaged(recv, op, group.size()), [output], async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Reduce `input` (world_size blocks along dim 0) across the group; group rank i gets block i in `output`."""
    _check_tensor(output, "reduce_scatter_tensor", "output")
    _check_tensor(input, "reduce_scatter_tensor", "input")
    group = _member(group)
    if group is None:
        return None
    mpi_op = _mpi_op(op, output, "reduce_scatter_tensor")
    _check_sizes(input, output, group.size(), "reduce_scatter_tensor", "input")
    _check_matching(group, "reduce_scatter_tensor", op, -1, output)
    send = host_array(input)
    recv = HostBuffer(output)
    return _run(group, lambda: group.comm.Ireduce_scatter_block(send, recv.array, op=mpi_op),
                _averaged(recv, op, group.size()), [output], async_op)


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None,
           group: ProcessGroup | None = None, async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Collect every rank's `tensor` into `gather_list` on rank `dst` (entry i from group rank i)."""
    _check_tensor(tensor, "gather")
    group = _member(group)
    if group is None:
        return None
    root = _root(group, dst, group_dst, "gather", "dst")
    if group.rank() == root:
        if gather_list is None:
            raise ValueError("gather: Argument ``gather_list`` must be specified on destination rank.")
        outputs = _check_list(gather_list, tensor, group.size(), "gather", "gather_list")
    elif gather_list:
        raise ValueError("gather: Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    else:
        outputs = []
    _check_matching(group, "gather", None, root, tensor)
    send = host_array(tensor)
    recv = empty_like_host(tensor, (group.size(),)) if outputs else None

    def finish() -> None:
        for out, values in zip(outputs, recv if recv is not None else ()):
            write(out, values)
    return _run(group, lambda: group.comm.Igather(send, recv, root=root), finish, outputs, async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None,
            group: ProcessGroup | None = None, async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Send `scatter_list[i]` of rank `src` into `tensor` of group rank i (in place)."""
    _check_tensor(tensor, "scatter")
    group = _member(group)
    if group is None:
        return None
    root = _root(group, src, group_src, "scatter", "src")
    if group.rank() == root:
        if scatter_list is None:
            raise ValueError("scatter: Argument ``scatter_list`` must be specified on source rank.")
        inputs = _check_list(scatter_list, tensor, group.size(), "scatter", "scatter_list")
        send = numpy.stack([host_array(t) for t in inputs])
    elif scatter_list:
        raise ValueError("scatter: Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    else:
        send = None
    _check_matching(group, "scatter", None, root, tensor)
    recv = HostBuffer(tensor)
    return _run(group, lambda: group.comm.Iscatter(send, recv.array, root=root), recv.write_back, [tensor], async_op)


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: Sequence[int] | None = None,
            timeout: datetime.timedelta | None = None) -> Work | None:
    """Wait until every rank of the group has reached this call (with `async_op=True`, the returned handle is
    already complete). `device_ids` and `timeout` are accepted for PyTorch compatibility and not used."""
    group = _member(group)
    if group is None:
        return None
    from ember import zeros

    _check_matching(group, "barrier", None, -1, zeros(0))
    return _run(group, lambda: None, lambda: None, [], async_op)
