"""Scaling curves: step time against batch size (W1 MLP, W2 CNN) and against depth (W3 chain of ops),
for ember eager, ember compiled (when ``ember.compile`` exists) and PyTorch, on the same axes.

W1 and W2 are the training steps of bench_mlp.py and bench_cnn.py at batch sizes 1 to 1024; W3 is the
forward and backward of a chain of `depth` elementwise ops (h*c, h+c, tanh in turn) on 16 elements,
depth 1 to 64. Each point is the median over interleaved rounds of each framework's median step time.
Every framework runs one thread by default (--threads): on a shared 2-core machine a 2-thread pool
waits for whichever thread another process displaced, and the curves would show the scheduler.
Writes scaling_<workload>.csv (x, framework, ms per step) and, when matplotlib is installed,
scaling_<workload>.png (log-log) into benchmarks/results/ (a temporary directory with --quick).

    python benchmarks/bench_scaling.py [--quick] [--out DIR] [--threads N]
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import statistics
import tempfile
import time
from typing import Callable

from harness import load_torch, median_time

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
BATCHES = (1, 4, 16, 64, 256, 1024)
DEPTHS = (1, 2, 4, 8, 16, 32, 64)


def mlp(fw):
    nn = fw.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def cnn(fw):
    nn = fw.nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1568, 10))


def train_step(fw, model, optimizer, x, y, compiled: bool) -> Callable[[], float]:
    """zero_grad, forward, cross-entropy, backward, optimizer step, loss.item(); with `compiled`, everything
    but the .item() runs under ember.compile (a value read inside would end the recording)."""
    loss_fn = fw.nn.CrossEntropyLoss()

    def train(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    run = fw.compile(train, fullgraph=True) if compiled else train
    return lambda: run(x, y).item()


def w1(fw, batch: int, compiled: bool):
    rng = np.random.default_rng(0)
    x, y = fw.tensor(rng.standard_normal((batch, 784), dtype=np.float32)), fw.tensor(rng.integers(0, 10, batch))
    model = mlp(fw)
    return train_step(fw, model, fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x, y, compiled)


def w2(fw, batch: int, compiled: bool):
    rng = np.random.default_rng(0)
    x = fw.tensor(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
    y = fw.tensor(rng.integers(0, 10, batch))
    model = cnn(fw)
    return train_step(fw, model, fw.optim.Adam(model.parameters(), lr=1e-3), x, y, compiled)


def w3(fw, depth: int, compiled: bool):
    rng = np.random.default_rng(0)
    x = fw.tensor(rng.standard_normal(16, dtype=np.float32), requires_grad=True)
    c = fw.tensor((rng.standard_normal(16) * 0.1 + 1).astype(np.float32))

    def chain(x, c):
        h = x
        for i in range(depth):
            h = h * c if i % 3 == 0 else h + c if i % 3 == 1 else h.tanh()
        h.sum().backward()
        grad = x.grad
        x.grad = None
        return grad

    run = fw.compile(chain, fullgraph=True) if compiled else chain
    return lambda: run(x, c)


def frameworks(ember, torch) -> dict[str, tuple[object, bool]]:
    """name -> (module, compiled)."""
    fws = {"ember eager": (ember, False)}
    if hasattr(ember, "compile"):
        fws["ember compiled"] = (ember, True)
    if torch is not None:
        fws["torch"] = (torch, False)
    return fws


def measure(make, xs, fws, rounds: int, budget: float) -> list[tuple[int, str, float]]:
    """(x, framework, median ms per step) for each x; a framework whose step fails is left out, with a note."""
    rows = []
    for x in xs:
        steps = {}
        for name, (fw, compiled) in fws.items():
            try:
                step = make(fw, x, compiled)
                step()
                step()
            except Exception as exc:  # a compile limitation: the point is left out, and said so
                print(f"  {make.__name__} x={x} {name}: left out ({type(exc).__name__}: {exc})", flush=True)
                continue
            start = time.perf_counter()
            step()
            n = max(3, min(50, int(budget / max(time.perf_counter() - start, 1e-6))))
            steps[name] = (step, n)
        times = {name: [] for name in steps}
        for _ in range(rounds):
            for name, (step, n) in steps.items():
                times[name].append(median_time(step, 1, n))
        for name, ts in times.items():
            rows.append((x, name, statistics.median(ts) * 1e3))
    return rows


def write(out: pathlib.Path, key: str, title: str, xlabel: str, rows) -> str:
    """Write scaling_<key>.csv and, with matplotlib, scaling_<key>.png; returns what was written."""
    csv_path = out / f"scaling_{key}.csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([xlabel, "framework", "ms_per_step"])
        writer.writerows((x, fw, f"{ms:.4f}") for x, fw, ms in rows)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"{csv_path.name} (no plot: matplotlib is not installed)"
    fig, ax = plt.subplots(figsize=(6, 4))
    for fw in dict.fromkeys(fw for _, fw, _ in rows):
        points = [(x, ms) for x, f, ms in rows if f == fw]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=fw)
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="ms per step", title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"scaling_{key}.png", dpi=100)
    plt.close(fig)
    return f"{csv_path.name}, scaling_{key}.png"


def run(out: pathlib.Path, quick: bool, threads: int) -> None:
    import ember

    ember.set_num_threads(threads)
    torch = load_torch()
    if torch is not None:
        torch.set_num_threads(threads)
    fws = frameworks(ember, torch)
    batches, depths, rounds, budget = ((1, 4), (1, 2), 1, 0.02) if quick else (BATCHES, DEPTHS, 3, 0.15)
    for key, make, xs, title, xlabel in (
            ("w1_batch", w1, batches, "W1 MLP training step", "batch size"),
            ("w2_batch", w2, batches, "W2 CNN training step", "batch size"),
            ("w3_depth", w3, depths, "W3 chain of elementwise ops, forward + backward", "depth (ops)")):
        rows = measure(make, xs, fws, rounds, budget)
        for x in xs:
            cells = "; ".join(f"{fw} {ms:.3f}" for x2, fw, ms in rows if x2 == x)
            print(f"{title}, {xlabel} {x}: {cells} ms", flush=True)
        print(f"wrote {write(out, key, f'{title}, {threads} thread(s) each', xlabel, rows)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two points per curve, one round (smoke test)")
    parser.add_argument("--out", type=pathlib.Path, help="output directory (default: benchmarks/results)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of every framework (default: 1)")
    args = parser.parse_args()
    if args.out is not None or not args.quick:
        out = args.out or RESULTS
        out.mkdir(parents=True, exist_ok=True)
        run(out, args.quick, args.threads)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(pathlib.Path(tmp), True, args.threads)


if __name__ == "__main__":
    main()
