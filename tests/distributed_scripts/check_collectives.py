"""Run under 2 MPI ranks: every collective of ember.distributed against hand-computed values.

Prints one line per check, `rank R PASS name` or `rank R FAIL name: why`, then `rank R DONE failures=N`,
and exits 1 when a check failed. Launched by tests/test_distributed_mpi.py.
"""
from __future__ import annotations

import ember
import ember.distributed as dist
from ember.distributed import ReduceOp
from rank_checks import RANK, WORLD, check, finish


def equal(t, expected):
    got = t.tolist()
    assert got == expected, f"got {got}, expected {expected}"


def mine(dtype=ember.float32, device="cpu"):
    """[r + 1, 2 (r + 1)] on rank r: sums to [3, 6] on 2 ranks."""
    return ember.tensor([RANK + 1, 2 * (RANK + 1)], dtype=dtype, device=device)


@check
def all_reduce_each_op():
    expected = {ReduceOp.SUM: [3.0, 6.0], ReduceOp.AVG: [1.5, 3.0], ReduceOp.PRODUCT: [2.0, 8.0],
                ReduceOp.MIN: [1.0, 2.0], ReduceOp.MAX: [2.0, 4.0]}
    for op, values in expected.items():
        t = mine()
        assert dist.all_reduce(t, op=op) is None
        equal(t, values)


@check
def all_reduce_integer_bool_and_half_dtypes():
    t = mine(ember.int64)
    dist.all_reduce(t)
    equal(t, [3, 6])
    t = ember.tensor([RANK == 0, True, False])
    dist.all_reduce(t)  # SUM on bool is a logical or
    equal(t, [True, True, False])
    t = ember.tensor([RANK + 1, 3], dtype=ember.int32)
    dist.all_reduce(t, op=ReduceOp.BAND)
    equal(t, [(1 & 2), 3])
    t = mine(ember.float16)
    dist.all_reduce(t)
    equal(t, [3.0, 6.0])


@check
def all_reduce_writes_through_a_strided_view_into_its_base():
    base = ember.tensor([[RANK + 1.0, 10.0], [2.0 * (RANK + 1), 20.0]])
    column = base[:, 0]
    dist.all_reduce(column)
    equal(base, [[3.0, 10.0], [6.0, 20.0]])
    equal(column, [3.0, 6.0])


@check
def all_reduce_on_a_backend_without_shared_host_memory_goes_through_the_host():
    t = mine(device="reference")
    dist.all_reduce(t)
    assert t.device.type == "reference"
    equal(t, [3.0, 6.0])


@check
def all_reduce_on_a_parameter_changes_it_in_place_and_bumps_its_version():
    p = ember.nn.Parameter(mine())
    x = ember.ones(2, requires_grad=True)
    y = (p * x).sum()  # saves p for x's gradient
    dist.all_reduce(p)
    equal(p, [3.0, 6.0])
    try:
        y.backward()
    except RuntimeError as exc:
        assert "modified by an inplace operation" in str(exc) or "version" in str(exc), str(exc)
    else:
        raise AssertionError("backward through a tensor changed by all_reduce did not raise")


@check
def async_all_reduce_returns_a_work_handle():
    t = mine()
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() is True
    assert work.is_completed() and work.is_success() and work.exception() is None
    equal(t, [3.0, 6.0])
    assert work.result()[0] is t


@check
def broadcast_from_rank_1():
    t = ember.full((2, 2), float(RANK * 7))
    dist.broadcast(t, src=1)
    equal(t, [[7.0, 7.0], [7.0, 7.0]])
    t = ember.full((3,), RANK, dtype=ember.int64)
    dist.broadcast(t, src=0, async_op=True).wait()
    equal(t, [0, 0, 0])


@check
def reduce_into_rank_1_only():
    t = mine()
    dist.reduce(t, dst=1)
    equal(t, [3.0, 6.0] if RANK == 1 else [1.0, 2.0])
    t = mine()
    dist.reduce(t, dst=0, op=ReduceOp.MAX)
    equal(t, [2.0, 4.0])  # MAX lands on rank 0, and rank 1 already holds the maximum


@check
def all_gather_into_a_list():
    out = [ember.zeros(2) for _ in range(WORLD)]
    dist.all_gather(out, mine())
    equal(ember.stack(out), [[1.0, 2.0], [2.0, 4.0]])
    out = [ember.zeros(2, dtype=ember.int64) for _ in range(WORLD)]
    dist.all_gather(out, mine(ember.int64), async_op=True).wait()
    equal(ember.stack(out), [[1, 2], [2, 4]])


@check
def all_gather_into_tensor_concatenated_and_stacked():
    flat = ember.zeros(4)
    dist.all_gather_into_tensor(flat, mine())
    equal(flat, [1.0, 2.0, 2.0, 4.0])
    stacked = ember.zeros(2, 2)
    dist.all_gather_into_tensor(stacked, mine())
    equal(stacked, [[1.0, 2.0], [2.0, 4.0]])


@check
def reduce_scatter_sums_block_r_into_rank_r():
    inputs = [ember.full((2,), float(10 * RANK + i)) for i in range(WORLD)]
    out = ember.zeros(2)
    dist.reduce_scatter(out, inputs)
    equal(out, [10.0 + 2 * RANK] * 2)  # (0 + r) + (10 + r)
    out = ember.zeros(2)
    dist.reduce_scatter_tensor(out, ember.cat(inputs), op=ReduceOp.AVG)
    equal(out, [5.0 + RANK] * 2)


@check
def gather_to_rank_0():
    if RANK == 0:
        out = [ember.zeros(2) for _ in range(WORLD)]
        dist.gather(mine(), out, dst=0)
        equal(ember.stack(out), [[1.0, 2.0], [2.0, 4.0]])
    else:
        dist.gather(mine(), dst=0)


@check
def scatter_from_rank_1():
    t = ember.zeros(2)
    if RANK == 1:
        dist.scatter(t, [ember.full((2,), 100.0), ember.full((2,), 101.0)], src=1)
    else:
        dist.scatter(t, src=1)
    equal(t, [100.0 + RANK] * 2)


@check
def subgroups_reduce_among_their_members_only():
    solo = dist.new_group([1])
    pair = dist.new_group([0, 1])
    assert dist.get_rank(solo) == (0 if RANK == 1 else -1)
    assert dist.get_world_size(solo) == 1 and dist.get_process_group_ranks(solo) == [1]
    t = mine()
    assert dist.all_reduce(t, group=solo) is None
    equal(t, [1.0, 2.0] if RANK == 0 else [2.0, 4.0])
    t = mine()
    dist.all_reduce(t, group=pair)
    equal(t, [3.0, 6.0])
    t = ember.full((1,), float(RANK))
    dist.broadcast(t, src=1, group=pair)
    equal(t, [1.0])
    dist.destroy_process_group(solo)
    dist.destroy_process_group(pair)


@check
def mismatched_shapes_raise_on_every_rank():
    t = ember.zeros(2 + RANK)
    try:
        dist.all_reduce(t)
    except RuntimeError as exc:
        assert "do not match" in str(exc) and "[2]" in str(exc) and "[3]" in str(exc), str(exc)
    else:
        raise AssertionError("no error for mismatched shapes")


@check
def mismatched_dtypes_raise_on_every_rank():
    t = ember.zeros(2, dtype=ember.float32 if RANK == 0 else ember.float64)
    try:
        dist.all_reduce(t)
    except RuntimeError as exc:
        assert "float32" in str(exc) and "float64" in str(exc), str(exc)
    else:
        raise AssertionError("no error for mismatched dtypes")


@check
def different_collectives_raise_on_every_rank():
    t = ember.zeros(2)
    try:
        dist.all_reduce(t) if RANK == 0 else dist.broadcast(t, src=0)
    except RuntimeError as exc:
        assert "all_reduce" in str(exc) and "broadcast" in str(exc), str(exc)
    else:
        raise AssertionError("no error for different collectives")


@check
def argument_errors():
    for call, error, text in [
        (lambda: dist.all_reduce(ember.zeros(2, dtype=ember.int64), op=ReduceOp.AVG), ValueError, "AVG"),
        (lambda: dist.all_reduce([1.0]), TypeError, "must be Tensor"),
        (lambda: dist.all_gather([ember.zeros(2)], ember.zeros(2)), ValueError, "2 ranks"),
        (lambda: dist.broadcast(ember.zeros(2)), ValueError, "src"),
        (lambda: dist.init_process_group("mpi"), RuntimeError, "twice"),
    ]:
        try:
            call()
        except error as exc:
            assert text in str(exc), str(exc)
        else:
            raise AssertionError(f"no {error.__name__} ({text})")


@check
def barrier_and_async_barrier():
    dist.barrier()
    assert dist.barrier(async_op=True).wait()


finish()
