"""Data-parallel scaling of W1 (bench_mlp.py's MLP train step) with DistributedDataParallel over MPI.

Runs itself under `python -m ember.distributed.run` with 1 and 2 ranks and reports training samples per
second (all ranks together) and the time per step spent in the gradient all-reduce (which includes waiting
for the slower rank), next to the time of a bare all-reduce of the same 2.1 MB of gradients. The cores are
split between the ranks (BLAS threads = cores // ranks), so the figures compare equal hardware.

    python benchmarks/bench_distributed.py [--quick] [--ranks 1 2] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PER_RANK_BATCH = 128


def worker(per_rank_batch: int, warmup: int, steps: int) -> None:
    """One rank: time W1 steps under DDP; rank 0 prints one JSON line of results."""
    import ember
    import ember.distributed as dist
    import numpy as np
    from ember import nn
    from ember.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(0)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                                  nn.Linear(512, 10)))
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    x = ember.tensor(rng.standard_normal((per_rank_batch, 784)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 10, per_rank_batch))

    comm = [0.0]
    all_reduce = dist.all_reduce

    def timed_all_reduce(*args, **kwargs):
        start = time.perf_counter()
        result = all_reduce(*args, **kwargs)
        comm[0] += time.perf_counter() - start
        return result
    dist.all_reduce = timed_all_reduce  # the reducer looks it up at each call

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    dist.barrier()
    times, comms = [], []
    for _ in range(steps):
        comm[0] = 0.0
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        comms.append(comm[0])
    dist.all_reduce = all_reduce

    grads = ember.zeros(sum(p.numel() for p in model.parameters()))
    bare = []
    for _ in range(steps):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(grads)
        bare.append(time.perf_counter() - start)
    step_s = statistics.median(times)
    # a step ends when the slowest rank is done: take the largest median over ranks
    slowest = ember.tensor([step_s, statistics.median(comms), statistics.median(bare)], dtype=ember.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    step_s, comm_s, bare_s = slowest.tolist()
    if rank == 0:
        print(json.dumps({"ranks": world, "per_rank_batch": per_rank_batch, "step_ms": step_s * 1e3,
                          "comm_ms": comm_s * 1e3, "bare_allreduce_ms": bare_s * 1e3,
                          "samples_per_s": world * per_rank_batch / step_s,
                          "buckets": len(model.reducer.buckets)}), flush=True)
    dist.destroy_process_group()


def launch(ranks: int, per_rank_batch: int, warmup: int, steps: int) -> dict:
    """Run the worker on `ranks` processes; the results rank 0 printed."""
    cores = os.cpu_count() or 1
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(max(1, cores // ranks))
    cmd = [sys.executable, "-m", "ember.distributed.run", "-n", str(ranks), os.path.abspath(__file__), "--worker",
           "--per-rank-batch", str(per_rank_batch), "--warmup", str(warmup), "--steps", str(steps)]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="rank counts to measure")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every configuration")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--per-rank-batch", type=int, default=PER_RANK_BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=40, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.per_rank_batch, args.warmup, args.steps)
        return
    warmup, steps, rounds = (1, 3, 1) if args.quick else (5, 40, args.rounds)
    print(f"W1 MLP train step under ember DistributedDataParallel (MPI), {os.cpu_count()} cores split between the "
          f"ranks; medians over {rounds} interleaved round(s) [min-max]", flush=True)
    configs = [(ranks, batch) for ranks in args.ranks
               for batch in sorted({PER_RANK_BATCH, PER_RANK_BATCH // ranks}, reverse=True)]
    results: dict[tuple[int, int], list[dict]] = {c: [] for c in configs}
    for _ in range(rounds):  # the machine is shared and its speed drifts: interleave the configurations
        for ranks, batch in configs:
            results[(ranks, batch)].append(launch(ranks, batch, warmup, steps))
    base = statistics.median(r["samples_per_s"] for r in results[configs[0]])

    def cell(rs: list[dict], key: str) -> str:
        values = [r[key] for r in rs]
        digits = 0 if key == "samples_per_s" else 2
        return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"
    for (ranks, batch), rs in results.items():
        speed = statistics.median(r["samples_per_s"] for r in rs)
        print(f"ember {ranks} rank(s) x batch {batch}: {cell(rs, 'samples_per_s')} samples/s "
              f"({speed / base:.2f}x of {configs[0][0]} rank(s)), step {cell(rs, 'step_ms')} ms, gradient all-reduce "
              f"{cell(rs, 'comm_ms')} ms/step in {rs[0]['buckets']} bucket(s), bare all-reduce of the gradients "
              f"{cell(rs, 'bare_allreduce_ms')} ms", flush=True)


if __name__ == "__main__":
    main()
