"""Run under 2 MPI ranks: DistributedDataParallel, DistributedSampler and checkpoints in a distributed job.

Prints `rank R PASS name` / `rank R FAIL name: why` per check, then `rank R DONE failures=N`; exits 1 when a
check failed. argv[1] is a scratch directory shared by the ranks. Launched by tests/test_distributed_mpi.py.
"""
from __future__ import annotations

import os
import sys

import ember
import ember.distributed as dist
from ember import nn, optim
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DistributedSampler
from rank_checks import RANK, WORLD, check, finish

SCRATCH = sys.argv[1]
ember.set_default_dtype(ember.float64)


def build(seed: int) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def global_batch(n: int = 16):
    gen = ember.Generator().manual_seed(1234)
    return ember.randn(n, 6, generator=gen), ember.randint(0, 3, (n,), generator=gen)


def my_half(t):
    return t.chunk(WORLD)[RANK]


def max_difference(a: nn.Module, b: nn.Module) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


def train(model, x, y, steps: int):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


@check
def ddp_five_sgd_steps_equal_one_process_on_the_global_batch():
    x, y = global_batch()
    for cap_mb in (25, 0.0005):  # one bucket; a bucket per parameter or so
        reference = build(0)
        train(reference, x, y, steps=5)
        ddp = DDP(build(RANK), bucket_cap_mb=cap_mb)  # rank 1 starts elsewhere: construction broadcasts rank 0's
        train(ddp, my_half(x), my_half(y), steps=5)
        difference = max_difference(ddp.module, reference)
        assert difference < 1e-6, f"bucket_cap_mb={cap_mb}: parameters differ by {difference}"
        buckets = len(ddp.reducer.buckets)
        assert ddp.reducer.collectives == 5 * buckets, (ddp.reducer.collectives, buckets)
        assert (buckets == 1) if cap_mb == 25 else (buckets > 2), buckets


@check
def ddp_on_a_backend_without_shared_host_memory_matches_too():
    x, y = global_batch()
    reference = build(0)
    train(reference, x, y, steps=2)
    ddp = DDP(build(RANK).to("reference"), bucket_cap_mb=0.0005)
    train(ddp, my_half(x).to("reference"), my_half(y).to("reference"), steps=2)
    assert max_difference(ddp.module.to("cpu"), reference) < 1e-6


@check
def construction_broadcasts_rank_0s_parameters():
    ddp = DDP(build(RANK))
    assert max_difference(ddp.module, build(0)) == 0.0


@check
def no_sync_accumulates_locally_then_averages_the_sum():
    x, y = global_batch()
    reference = build(0)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(reference(x), y).backward()
    ddp = DDP(build(0))
    xs, ys = my_half(x).chunk(2), my_half(y).chunk(2)
    with ddp.no_sync():
        (loss_fn(ddp(xs[0]), ys[0]) / 2).backward()
    assert ddp.reducer.collectives == 0
    (loss_fn(ddp(xs[1]), ys[1]) / 2).backward()
    assert ddp.reducer.collectives == 1
    for p, q in zip(ddp.module.parameters(), reference.parameters()):
        assert (p.grad - q.grad).abs().max().item() < 1e-12


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Linear(4, 2)
        self.extra = nn.Linear(4, 2)
        self.never = nn.Linear(4, 2)

    def forward(self, x, use_extra: bool):
        out = self.main(x)
        return out + self.extra(x) if use_extra else out


@check
def find_unused_parameters_averages_a_branch_only_rank_0_uses():
    ember.manual_seed(0)
    ddp = DDP(Branches(), find_unused_parameters=True)
    x = ember.ones(3, 4) * (RANK + 1)
    ddp(x, use_extra=RANK == 0).sum().backward()
    assert ddp.module.extra.weight.grad.tolist() == [[1.5] * 4] * 2  # rank 0's 3 (sum of ones) / 2
    assert ddp.module.main.weight.grad.tolist() == [[4.5] * 4] * 2  # (3 + 6) / 2
    assert ddp.module.never.weight.grad is None
    ddp(x, use_extra=False).sum().backward()  # a second iteration works


@check
def an_unused_parameter_without_find_unused_parameters_raises_at_the_next_forward():
    ember.manual_seed(0)
    ddp = DDP(Branches())
    x = ember.ones(3, 4)
    ddp(x, use_extra=True).sum().backward()
    try:
        ddp(x, use_extra=True)
    except RuntimeError as exc:
        assert "find_unused_parameters=True" in str(exc) and "never.weight" in str(exc), str(exc)
    else:
        raise AssertionError("no error for a parameter that got no gradient")


@check
def buffers_follow_rank_0_at_each_forward_with_grad():
    ember.manual_seed(0)
    ddp = DDP(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
    ddp.eval()  # running statistics used, not updated: after the forward they are rank 0's exactly
    ddp.module[1].running_mean.fill_(float(RANK + 5))
    ddp(ember.randn(4, 2)).sum().backward()
    assert ddp.module[1].running_mean.tolist() == [5.0, 5.0]
    with ember.no_grad():
        if RANK == 0:
            ddp(ember.randn(4, 2))  # a forward without grad on one rank alone makes no collective


@check
def state_dict_keys_carry_the_module_prefix():
    ddp = DDP(build(0))
    assert list(ddp.state_dict()) == ["module." + k for k in build(0).state_dict()]


@check
def rank_0_saves_and_every_rank_loads_the_checkpoint():
    ddp = DDP(build(RANK))
    path = os.path.join(SCRATCH, "rank0.safetensors")
    if RANK == 0:
        ember.save(ddp.module.state_dict(), path)
    dist.barrier()
    fresh = build(7)
    fresh.load_state_dict(ember.load(path))
    assert max_difference(fresh, ddp.module) == 0.0


@check
def every_rank_saving_to_one_path_leaves_a_valid_checkpoint():
    ddp = DDP(build(0))
    path = os.path.join(SCRATCH, "everyone.safetensors")
    for _ in range(5):
        ember.save(ddp.module.state_dict(), path)
    dist.barrier()
    fresh = build(7)
    fresh.load_state_dict(ember.load(path))
    assert max_difference(fresh, ddp.module) == 0.0
    assert sorted(os.listdir(SCRATCH)) == ["everyone.safetensors", "rank0.safetensors"], os.listdir(SCRATCH)


@check
def distributed_sampler_reads_replicas_and_rank_from_the_group():
    sampler = DistributedSampler(range(10), shuffle=False)
    assert (sampler.num_replicas, sampler.rank) == (WORLD, RANK)
    assert list(sampler) == list(range(RANK, 10, WORLD))
    shuffled = DistributedSampler(range(10), seed=3)
    first = list(shuffled)
    shuffled.set_epoch(1)
    assert list(shuffled) != first
    everyone = [ember.zeros(5, dtype=ember.int64) for _ in range(WORLD)]
    dist.all_gather(everyone, ember.tensor(first))
    assert sorted(ember.cat(everyone).tolist()) == list(range(10))


finish()
