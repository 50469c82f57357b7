"""Shared timing helpers for the benchmark scripts: ember and PyTorch measured in one process.

Threads are pinned to 2 before numpy or torch is imported, as in shared/research/performance-anchors.md.
Frameworks are timed in interleaved rounds (the machine is shared and its speed drifts), and a
workload reports each framework's median over rounds and the median of the per-round ratios. With
EMBER_BENCH_RECORD set to a path, every reported line is also appended there as one JSON object
(run_all.py reads them into benchmarks/results/summary.md).
"""
from __future__ import annotations

import json
import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import statistics
import time
from typing import Callable


def median_time(step: Callable[[], object], warmup: int, steps: int) -> float:
    """Run `step` `warmup` times untimed, then `steps` times; return the median in seconds."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(steps: dict[str, Callable[[], object]], warmup: int, n: int, rounds: int = 5) -> list[dict[str, float]]:
    """Time every step function in `rounds` interleaved rounds; one {name: median seconds} per round."""
    results = []
    for _ in range(rounds):
        results.append({name: median_time(step, warmup, n) for name, step in steps.items()})
    return results


def load_torch():
    """Return the torch module pinned to 2 threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def report(name: str, unit: str, rounds: list[dict[str, float]], baselines: tuple[str, ...], scale: float = 1.0) -> None:
    """Print each framework's median over rounds (times `scale`, in `unit`) and its median ratio to each baseline."""
    names = list(rounds[0])
    cells = [f"{fw} {statistics.median(r[fw] for r in rounds) * scale:.3f} {unit}" for fw in names]
    ratios = [f"ember/{b} {statistics.median(r['ember'] / r[b] for r in rounds):.2f}x "
              f"[{min(r['ember'] / r[b] for r in rounds):.2f}-{max(r['ember'] / r[b] for r in rounds):.2f}]"
              for b in baselines if b in names and "ember" in names]
    print(f"{name} ({len(rounds)} rounds): " + "; ".join(cells + ratios), flush=True)
    record(name, unit=unit, rounds=len(rounds),
           medians={fw: statistics.median(r[fw] for r in rounds) * scale for fw in names},
           ratios={f"ember/{b}": statistics.median(r["ember"] / r[b] for r in rounds)
                   for b in baselines if b in names and "ember" in names})


def record(name: str, **fields) -> None:
    """Append {"name": name, **fields} as one JSON line to $EMBER_BENCH_RECORD, when it is set."""
    path = os.environ.get("EMBER_BENCH_RECORD")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"name": name, **fields}) + "\n")
