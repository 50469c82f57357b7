"""W1: one training step of an MLP 784-512-512-10 (ReLU), batch 128, cross-entropy, SGD(lr=0.01, momentum=0.9).

Measured for ember, PyTorch (CPU) and the same step hand-written in numpy (the limit: numpy's
BLAS does the GEMMs), in one process. Step = zero_grad, forward, loss, backward, step, loss.item().

    python benchmarks/bench_mlp.py [--quick]
"""
from __future__ import annotations

import argparse

from harness import compare, load_torch, report

import numpy as np


def framework_step(fw, x, y):
    nn = fw.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def numpy_step(x, y):
    """The same step by hand: forward, softmax cross-entropy, backward (GEMMs), momentum SGD in place."""
    rng = np.random.default_rng(0)
    sizes = [(784, 512), (512, 512), (512, 10)]
    ws = [(rng.uniform(-1, 1, (o, i)) / np.sqrt(i)).astype(np.float32) for i, o in sizes]
    bs = [np.zeros(o, np.float32) for _, o in sizes]
    params = ws + bs
    bufs = [np.zeros_like(p) for p in params]
    n = x.shape[0]
    onehot = np.zeros((n, 10), np.float32)
    onehot[np.arange(n), y] = 1

    def step():
        h1 = x @ ws[0].T + bs[0]
        a1 = np.maximum(h1, 0)
        h2 = a1 @ ws[1].T + bs[1]
        a2 = np.maximum(h2, 0)
        z = a2 @ ws[2].T + bs[2]
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        s = e.sum(1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), y]))
        g = (e / s - onehot) / n
        grads_w = [None] * 3
        grads_b = [None] * 3
        grads_w[2], grads_b[2] = g.T @ a2, g.sum(0)
        g = g @ ws[2]
        g *= h2 > 0
        grads_w[1], grads_b[1] = g.T @ a1, g.sum(0)
        g = g @ ws[1]
        g *= h1 > 0
        grads_w[0], grads_b[0] = g.T @ x, g.sum(0)
        for p, gr, buf in zip(params, grads_w + grads_b, bufs):
            buf *= 0.9
            buf += gr
            p -= 0.01 * buf
        return loss
    return step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    args = parser.parse_args()
    warmup, n, rounds = (2, 5, 1) if args.quick else (5, 30, 11)
    import ember

    torch = load_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    steps = {"numpy": numpy_step(x, y), "ember": framework_step(ember, ember.tensor(x), ember.tensor(y))}
    if torch is not None:
        steps["torch"] = framework_step(torch, torch.tensor(x), torch.tensor(y))
    report("W1 MLP train step", "ms/step", compare(steps, warmup, n, rounds), ("numpy", "torch"), scale=1e3)

if __name__ == "__main__":
    main()
