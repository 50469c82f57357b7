"""`ember.compile` against eager ember, PyTorch (CPU) and raw numpy, in one process.

W3 per-op overhead (the workload of bench_autograd.py: 100 ops on 16 elements, forward and
backward; the step returns the input's gradient), ember compiled vs PyTorch eager, in microseconds
per op. W1 MLP training step (the
workload of bench_mlp.py: zero_grad, forward, cross-entropy, backward, SGD momentum step), ember
compiled vs the hand-written numpy step (the limit), in milliseconds; the compiled step returns the
loss tensor and `.item()` runs outside it (a value read inside would break the recording). W1 again
with only the model compiled (`ember.compile(model)`, the usual PyTorch pattern): the forward and its
backward replay, the loss, `backward()` and the optimizer step run eagerly; against eager ember and
PyTorch eager.

    python benchmarks/bench_compile.py [--quick]
"""
from __future__ import annotations

import argparse

from bench_mlp import framework_step, numpy_step
from bench_scaling import mlp, train_step
from harness import compare, load_torch, report

import numpy as np


def w3_step(fw, x, c):
    """bench_autograd.py's W3 step, returning the input's gradient (a compiled step that discarded it
    would drop the backward pass as dead code)."""
    def step():
        h = x
        for i in range(100):
            k = i % 3
            h = h * c if k == 0 else h + c if k == 1 else h.tanh()
        h.sum().backward()
        grad, x.grad = x.grad, None
        return grad
    return step


def compiled_mlp_step(ember, x, y):
    """bench_mlp.py's step with everything but `.item()` under `ember.compile`."""
    model = mlp(ember)
    return train_step(ember, model, ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x, y, True)


def compiled_module_step(ember, x, y):
    """bench_mlp.py's step with only the model compiled (`ember.compile(model)`): the loss, `backward()`
    and the optimizer step run eagerly around the replayed forward and its replayed backward."""
    model = mlp(ember)
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return train_step(ember, ember.compile(model), opt, x, y, False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    args = parser.parse_args()
    n, mlp_n, rounds = (5, 5, 1) if args.quick else (50, 30, 7)
    import ember

    torch = load_torch()
    rng = np.random.default_rng(0)
    x16 = rng.standard_normal(16).astype(np.float32)
    c16 = (rng.standard_normal(16) * 0.1 + 1).astype(np.float32)
    steps = {"ember": ember.compile(w3_step(ember, ember.tensor(x16, requires_grad=True), ember.tensor(c16)),
                                    fullgraph=True),
             "ember eager": w3_step(ember, ember.tensor(x16, requires_grad=True), ember.tensor(c16))}
    if torch is not None:
        steps["torch"] = w3_step(torch, torch.tensor(x16, requires_grad=True), torch.tensor(c16))
    report("W3 per-op overhead (fwd+bwd), ember compiled", "us/op", compare(steps, 5, n, rounds),
           ("torch", "ember eager"), scale=1e6 / 100)

    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    steps = {"numpy": numpy_step(x, y), "ember": compiled_mlp_step(ember, ember.tensor(x), ember.tensor(y)),
             "ember eager": framework_step(ember, ember.tensor(x), ember.tensor(y))}
    if torch is not None:
        steps["torch"] = framework_step(torch, torch.tensor(x), torch.tensor(y))
    report("W1 MLP train step, ember compiled", "ms/step", compare(steps, 3, mlp_n, rounds),
           ("numpy", "ember eager", "torch"), scale=1e3)

    steps = {"ember": compiled_module_step(ember, ember.tensor(x), ember.tensor(y)),
             "ember eager": framework_step(ember, ember.tensor(x), ember.tensor(y))}
    if torch is not None:
        steps["torch"] = framework_step(torch, torch.tensor(x), torch.tensor(y))
    report("W1 MLP train step, ember.compile(model) with eager loss, backward and step", "ms/step",
           compare(steps, 3, mlp_n, rounds), ("ember eager", "torch"), scale=1e3)


if __name__ == "__main__":
    main()
