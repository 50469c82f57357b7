"""CNN training step (workload W2), ember against PyTorch in one process.

Conv2d(1,16,3,p=1)-ReLU-MaxPool2d(2)-Conv2d(16,32,3,p=1)-ReLU-MaxPool2d(2)-Flatten-Linear(1568,10) on a
batch of 64 1x28x28 images; one step = zero_grad, forward, cross-entropy, backward, Adam(1e-3) step,
loss.item(). Without `ember.nn.CrossEntropyLoss` or `ember.optim.Adam` the step falls back to
forward + `.sum().backward()` (for both frameworks, so the ratio stays fair).

    python benchmarks/bench_cnn.py [--steps 20] [--warmup 3] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import load_torch, median_time, report  # noqa: E402  (pins threads before numpy loads)

import numpy as np  # noqa: E402

import ember  # noqa: E402
import ember.nn  # noqa: E402

try:
    import ember.optim  # noqa: E402,F401
except ImportError:  # the optimizers are not there yet: fall back to forward + backward
    pass

BATCH = 64


def _model(nn):
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1568, 10))


def _full_step_available(fw) -> bool:
    return hasattr(fw.nn, "CrossEntropyLoss") and hasattr(getattr(fw, "optim", None), "Adam")


def make_step(fw, images: np.ndarray, labels: np.ndarray, full: bool):
    """A closure running one training step of `fw` (ember or torch) on the given batch."""
    model = _model(fw.nn)
    x, y = fw.tensor(images), fw.tensor(labels)
    if full:
        loss_fn = fw.nn.CrossEntropyLoss()
        optimizer = fw.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.item()
    else:
        def step():
            for p in model.parameters():
                p.grad = None
            loss = model(x).sum()
            loss.backward()
            return loss.item()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile ember's steps and print the top entries")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH)
    torch = load_torch()
    full = _full_step_available(ember) and (torch is None or _full_step_available(torch))
    name = "W2 CNN train step (Adam, cross-entropy)" if full else "W2 CNN forward+backward (.sum(); no loss/optimizer)"

    ember_step = make_step(ember, images, labels, full)
    if args.profile:
        for _ in range(args.warmup):
            ember_step()
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [ember_step() for _ in range(args.steps)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    results = {"ember": median_time(ember_step, args.warmup, args.steps) * 1e3}
    if torch is not None:
        results["torch"] = median_time(make_step(torch, images, labels, full), args.warmup, args.steps) * 1e3
    report(name, "ms", results, "torch")


if __name__ == "__main__":
    main()
