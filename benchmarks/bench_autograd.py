"""Foundation workloads, ember vs PyTorch (CPU) vs raw numpy, in one process.

W3 per-op overhead: x of 16 elements (requires_grad); 100 ops alternating h*c, h+c, h.tanh();
    .sum().backward(); reported per op (forward + backward), in microseconds.
W4 GEMM chain: x (1024x1024) @W1 relu @W2 relu @W3 relu @W4, .sum().backward(): 11 GEMMs,
    milliseconds per step; the limit is the same GEMMs and masks in raw numpy.

    python benchmarks/bench_autograd.py [--quick]
"""
from __future__ import annotations

import argparse

from harness import compare, load_torch, report

import numpy as np


def w3_step(fw, x, c):
    def step():
        h = x
        for i in range(100):
            k = i % 3
            h = h * c if k == 0 else h + c if k == 1 else h.tanh()
        h.sum().backward()
        x.grad = None
    return step


def w4_step(fw, x, ws):
    def step():
        h = x
        for i, w in enumerate(ws):
            h = h @ w
            if i < len(ws) - 1:
                h = h.relu()
        h.sum().backward()
        for w in ws:
            w.grad = None
    return step


def w4_numpy(x, ws):
    def step():
        acts, masks, h = [], [], x
        for i, w in enumerate(ws):
            acts.append(h)
            h = h @ w
            if i < len(ws) - 1:
                masks.append(h > 0)
                h = np.maximum(h, 0)
        g = np.ones_like(h)
        grads = []
        for i in range(len(ws) - 1, -1, -1):
            grads.append(acts[i].T @ g)
            if i:
                g = g @ ws[i].T
                g *= masks[i - 1]
        return grads
    return step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    args = parser.parse_args()
    n, gemm_n, rounds = (5, 2, 1) if args.quick else (50, 10, 5)
    import ember

    torch = load_torch()
    rng = np.random.default_rng(0)
    x16 = rng.standard_normal(16).astype(np.float32)
    c16 = (rng.standard_normal(16) * 0.1 + 1).astype(np.float32)
    steps = {"ember": w3_step(ember, ember.tensor(x16, requires_grad=True), ember.tensor(c16))}
    if torch is not None:
        steps["torch"] = w3_step(torch, torch.tensor(x16, requires_grad=True), torch.tensor(c16))
    report("W3 per-op overhead (fwd+bwd)", "us/op", compare(steps, 5, n, rounds), ("torch",), scale=1e6 / 100)

    x = rng.standard_normal((1024, 1024)).astype(np.float32)
    ws = [(rng.standard_normal((1024, 1024)) / 32).astype(np.float32) for _ in range(4)]
    steps = {"numpy": w4_numpy(x, ws),
             "ember": w4_step(ember, ember.tensor(x), [ember.tensor(w, requires_grad=True) for w in ws])}
    if torch is not None:
        steps["torch"] = w4_step(torch, torch.tensor(x), [torch.tensor(w, requires_grad=True) for w in ws])
    report("W4 GEMM chain fwd+bwd", "ms/step", compare(steps, 2, gemm_n, rounds), ("numpy", "torch"), scale=1e3)

if __name__ == "__main__":
    main()
