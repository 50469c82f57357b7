"""W2: one training step of a small CNN, ember against PyTorch (CPU) in one process.

Conv2d(1,16,3,p=1)-ReLU-MaxPool2d(2)-Conv2d(16,32,3,p=1)-ReLU-MaxPool2d(2)-Flatten-Linear(1568,10) on a
batch of 64 1x28x28 images; one step = zero_grad, forward, cross-entropy, backward, Adam(1e-3) step,
loss.item().

    python benchmarks/bench_cnn.py [--quick] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats

from harness import compare, load_torch, report

import numpy as np

BATCH = 64


def make_step(fw, images: np.ndarray, labels: np.ndarray):
    """A closure running one training step of `fw` (ember or torch) on the given batch."""
    nn = fw.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(1568, 10))
    x, y = fw.tensor(images), fw.tensor(labels)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = fw.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    parser.add_argument("--profile", action="store_true", help="cProfile ember's steps and print the top entries")
    args = parser.parse_args()
    warmup, n, rounds = (2, 3, 1) if args.quick else (3, 15, 5)
    import ember

    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH)
    torch = load_torch()
    steps = {"ember": make_step(ember, images, labels)}
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [steps["ember"]() for _ in range(n)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    if torch is not None:
        steps["torch"] = make_step(torch, images, labels)
    report("W2 CNN train step", "ms/step", compare(steps, warmup, n, rounds), ("torch",), scale=1e3)


if __name__ == "__main__":
    main()
