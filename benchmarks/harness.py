"""Shared timing helpers for the benchmark scripts: ember and PyTorch measured in one process.

Threads are pinned to 2 before numpy or torch is imported, as in shared/research/performance-anchors.md.
Every script prints one line per workload: the median time of each framework and the ratio.
"""
from __future__ import annotations

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


def load_torch():
    """Return the torch module pinned to 2 threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def report(name: str, unit: str, results: dict[str, float], baseline: str) -> None:
    """Print one workload's results and each one's ratio to `baseline` (lower is better)."""
    base = results.get(baseline)
    cells = []
    for fw, value in results.items():
        ratio = f" ({value / base:.2f}x {baseline})" if base and fw != baseline else ""
        cells.append(f"{fw} {value:.3f} {unit}{ratio}")
    print(f"{name}: " + "; ".join(cells), flush=True)
