"""DataLoader workloads, ember vs PyTorch (CPU), in one process.

W5 epoch: TensorDataset(60000x784 float32, int64 labels), DataLoader(batch_size=128, shuffle=True),
    num_workers=0 and num_workers=2, one full epoch (469 batches).
W6 workers: the same data behind a per-sample Python transform ((x - 0.5) / 0.5 on each image, in
    the framework's own tensor ops), DataLoader(batch_size=128, shuffle=True, num_workers=2).

Each line gives batches per second (higher is better) and ember's ratio to torch; W6 also gives the
CPU seconds an epoch costs in all processes, steadier than wall time on a shared machine.

    python benchmarks/bench_dataloader.py [--quick]
"""
from __future__ import annotations

import argparse
import os

from harness import load_torch, median_time, report

import numpy as np

N, FEATURES, BATCH = 60_000, 784, 128


class Normalized:
    """A map-style dataset applying ``(x - 0.5) / 0.5`` to each image as it is read (both frameworks)."""

    def __init__(self, base):
        self.base = base

    def __getitem__(self, index):
        x, y = self.base[index]
        return (x - 0.5) / 0.5, y

    def __len__(self):
        return len(self.base)


def epoch(loader):
    def step():
        for _ in loader:
            pass
    return step


def _cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the workers, joined at each epoch's end)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(loaders: dict, rounds: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Per round: seconds of one epoch of each loader, and CPU seconds of it (main process and workers).

    One warm-up epoch each, then `rounds` rounds of one epoch per framework, alternating so that
    background load on the machine hits every framework alike.
    """
    for loader in loaders.values():
        epoch(loader)()
    times, cpu = [], []
    for _ in range(rounds):
        t, c = {}, {}
        for fw, loader in loaders.items():
            start = _cpu_seconds()
            t[fw] = median_time(epoch(loader), 0, 1)
            c[fw] = _cpu_seconds() - start
        times.append(t)
        cpu.append(c)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one timed epoch each (smoke test)")
    args = parser.parse_args()
    import ember
    import ember.utils.data as edata

    torch = load_torch()
    rng = np.random.default_rng(0)
    x = rng.random((N, FEATURES), dtype=np.float32)
    y = rng.integers(0, 10, N).astype(np.int64)
    datasets = {"ember": (edata, edata.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)))}
    if torch is not None:
        import torch.utils.data as tdata

        datasets["torch"] = (tdata, tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))

    loaders = {fw: data.DataLoader(ds, batch_size=BATCH, shuffle=True) for fw, (data, ds) in datasets.items()}
    times, _ = measure(loaders, 1 if args.quick else 7)
    report(f"W5 DataLoader epoch of {len(loaders['ember'])} batches, num_workers=0", "s", times, ("torch",))

    loaders = {fw: data.DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=2)
               for fw, (data, ds) in datasets.items()}
    times, _ = measure(loaders, 1 if args.quick else 5)
    report(f"W5 DataLoader epoch of {len(loaders['ember'])} batches, num_workers=2", "s", times, ("torch",))

    loaders = {
        fw: data.DataLoader(Normalized(ds), batch_size=BATCH, shuffle=True, num_workers=2)
        for fw, (data, ds) in datasets.items()
    }
    times, cpu = measure(loaders, 1 if args.quick else 5)
    report("W6 DataLoader epoch, num_workers=2, per-sample transform", "s", times, ("torch",))
    report("W6 CPU seconds per epoch, main process + workers", "s", cpu, ("torch",))


if __name__ == "__main__":
    main()
