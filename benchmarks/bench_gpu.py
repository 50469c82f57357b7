"""The GPU rows of W1 (MLP step), W2 (CNN step) and W4 (GEMM chain): ember on "cuda" against the same math
written directly in cupy (the limit), and PyTorch on CUDA when it sees the GPU, in one process.

Workloads as in bench_mlp.py / bench_cnn.py (W1: 784-512-512-10 MLP, batch 128, SGD momentum 0.9;
W2: the small CNN, batch 64, Adam 1e-3) and W4: x (1024x1024) @ W1 relu @ W2 relu @ W3 relu @ W4,
`.sum().backward()` (11 GEMMs). A W1/W2 step ends with `loss.item()`, a W4 step with a device
synchronize. Targets: W1 and W2 within 1.3x of the cupy limit, W4 within 1.05x. Without a usable GPU
the script prints "skipped: <reason>" and exits 0.

    python benchmarks/bench_gpu.py [--quick]
"""
from __future__ import annotations

import argparse

from harness import compare, load_torch, report

import numpy as np

TARGETS = {"W1": 1.3, "W2": 1.3, "W4": 1.05}


# ---- the frameworks (ember, torch) ----------------------------------------------------------------------
def mlp_step(fw, device, x, y):
    nn = fw.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    model.to(device)
    opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x, y = fw.tensor(x, device=device), fw.tensor(y, device=device)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def cnn_step(fw, device, images, labels):
    nn = fw.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(1568, 10))
    model.to(device)
    opt = fw.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = fw.tensor(images, device=device), fw.tensor(labels, device=device)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def chain_step(fw, device, x, weights, synchronize):
    x = fw.tensor(x, device=device)
    ws = [fw.tensor(w, device=device, requires_grad=True) for w in weights]

    def step():
        for w in ws:
            w.grad = None
        h = x
        for i, w in enumerate(ws):
            h = h @ w
            if i < len(ws) - 1:
                h = h.relu()
        h.sum().backward()
        synchronize()
    return step


# ---- the limits: the same math by hand, on the array module xp (cupy here) ------------------------------
def _softmax_cross_entropy(xp, z, onehot):
    """(loss as a float, gradient of the mean loss w.r.t. the logits z)."""
    z = z - z.max(1, keepdims=True)
    e = xp.exp(z)
    s = e.sum(1, keepdims=True)
    n = z.shape[0]
    loss = float((xp.log(s[:, 0]) - (z * onehot).sum(1)).mean())
    return loss, (e / s - onehot) / n


def _onehot(xp, labels, classes: int):
    out = xp.zeros((labels.shape[0], classes), xp.float32)
    out[xp.arange(labels.shape[0]), labels] = 1
    return out


def mlp_limit(xp, x, y):
    rng = np.random.default_rng(0)
    sizes = [(784, 512), (512, 512), (512, 10)]
    ws = [xp.asarray((rng.uniform(-1, 1, (o, i)) / np.sqrt(i)).astype(np.float32)) for i, o in sizes]
    bs = [xp.zeros(o, xp.float32) for _, o in sizes]
    params = ws + bs
    bufs = [xp.zeros_like(p) for p in params]
    x, onehot = xp.asarray(x), _onehot(xp, xp.asarray(y), 10)

    def step():
        h1 = x @ ws[0].T + bs[0]
        a1 = xp.maximum(h1, 0)
        h2 = a1 @ ws[1].T + bs[1]
        a2 = xp.maximum(h2, 0)
        loss, g = _softmax_cross_entropy(xp, a2 @ ws[2].T + bs[2], onehot)
        gw, gb = [None] * 3, [None] * 3
        gw[2], gb[2] = g.T @ a2, g.sum(0)
        g = (g @ ws[2]) * (h2 > 0)
        gw[1], gb[1] = g.T @ a1, g.sum(0)
        g = (g @ ws[1]) * (h1 > 0)
        gw[0], gb[0] = g.T @ x, g.sum(0)
        for p, gr, buf in zip(params, gw + gb, bufs):
            buf *= 0.9
            buf += gr
            p -= 0.01 * buf
        return loss
    return step


def _columns(xp, x, k: int = 3):
    """im2col of `x` (N, C, H, W), stride 1, padding k // 2: (N, C*k*k, H*W) and the padded input."""
    n, c, h, w = x.shape
    p = k // 2
    padded = xp.zeros((n, c, h + 2 * p, w + 2 * p), x.dtype)
    padded[:, :, p:p + h, p:p + w] = x
    sn, sc, sh, sw = padded.strides
    view = xp.lib.stride_tricks.as_strided(padded, (n, c, k, k, h, w), (sn, sc, sh, sw, sh, sw))
    return view.reshape(n, c * k * k, h * w)


def _conv_input_grad(xp, gcols, shape, k: int = 3):
    """col2im: sums (N, C*k*k, H*W) columns back into the (N, C, H, W) input."""
    n, c, h, w = shape
    p = k // 2
    cols = gcols.reshape(n, c, k, k, h, w)
    padded = xp.zeros((n, c, h + 2 * p, w + 2 * p), gcols.dtype)
    for i in range(k):
        for j in range(k):
            padded[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return padded[:, :, p:p + h, p:p + w]


def _pool(xp, a):
    """2x2 max pooling of (N, C, H, W): (pooled, argmax in 0..3 per window)."""
    n, c, h, w = a.shape
    windows = a.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = windows.argmax(-1)
    return xp.take_along_axis(windows, arg[..., None], -1)[..., 0], arg


def _pool_grad(xp, g, arg):
    n, c, h, w = g.shape
    spread = (xp.arange(4) == arg[..., None]) * g[..., None]
    return spread.reshape(n, c, h, w, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * h, 2 * w)


def _conv_forward(xp, x, w, b):
    cols = _columns(xp, x)
    out = xp.matmul(w.reshape(w.shape[0], -1), cols) + b[:, None]
    return out.reshape(x.shape[0], w.shape[0], x.shape[2], x.shape[3]), cols


def _conv_weight_grad(g, cols):
    """(O, C*k*k) weight gradient from g (N, O, H, W) and the columns (N, C*k*k, H*W)."""
    n, o = g.shape[:2]
    g2 = g.reshape(n, o, -1).transpose(1, 0, 2).reshape(o, -1)
    c2 = cols.transpose(1, 0, 2).reshape(cols.shape[1], -1)
    return g2 @ c2.T


def cnn_limit(xp, images, labels):
    rng = np.random.default_rng(0)

    def init(*shape, fan_in):
        return xp.asarray((rng.uniform(-1, 1, shape) / np.sqrt(fan_in)).astype(np.float32))
    params = [init(16, 1, 3, 3, fan_in=9), init(16, fan_in=9), init(32, 16, 3, 3, fan_in=144), init(32, fan_in=144),
              init(10, 1568, fan_in=1568), init(10, fan_in=1568)]
    moments = [(xp.zeros_like(p), xp.zeros_like(p)) for p in params]
    x, onehot = xp.asarray(images), _onehot(xp, xp.asarray(labels), 10)
    adam = adam_update(xp)
    t = [0]

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1, cols1 = _conv_forward(xp, x, w1, b1)
        p1, arg1 = _pool(xp, xp.maximum(h1, 0))
        h2, cols2 = _conv_forward(xp, p1, w2, b2)
        p2, arg2 = _pool(xp, xp.maximum(h2, 0))
        flat = p2.reshape(p2.shape[0], -1)
        loss, g = _softmax_cross_entropy(xp, flat @ w3.T + b3, onehot)
        grads = [None] * 6
        grads[4], grads[5] = g.T @ flat, g.sum(0)
        g = _pool_grad(xp, (g @ w3).reshape(p2.shape), arg2) * (h2 > 0)
        grads[2], grads[3] = _conv_weight_grad(g, cols2).reshape(w2.shape), g.sum((0, 2, 3))
        gcols = xp.matmul(w2.reshape(32, -1).T, g.reshape(g.shape[0], 32, -1))
        g = _pool_grad(xp, _conv_input_grad(xp, gcols, p1.shape), arg1) * (h1 > 0)
        grads[0], grads[1] = _conv_weight_grad(g, cols1).reshape(w1.shape), g.sum((0, 2, 3))
        t[0] += 1
        for p, gr, (m, v) in zip(params, grads, moments):
            adam(p, gr, m, v, t[0])
        return loss
    return step


def adam_update(xp, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam's update of (param, grad, m, v) in place at step t: one fused kernel on cupy."""
    if xp.__name__ == "cupy":
        kernel = xp.ElementwiseKernel(
            "T g, T lr_t, T beta1, T beta2, T eps, T bc2", "T p, T m, T v",
            "m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g;"
            "p -= lr_t * m / (sqrt(v) / bc2 + eps)", "bench_adam")

        def update(p, g, m, v, t):
            kernel(g, lr / (1 - beta1 ** t), beta1, beta2, eps, (1 - beta2 ** t) ** 0.5, p, m, v)
        return update

    def update(p, g, m, v, t):
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        p -= lr / (1 - beta1 ** t) * m / (xp.sqrt(v) / (1 - beta2 ** t) ** 0.5 + eps)
    return update


def chain_limit(xp, x, weights, synchronize):
    x = xp.asarray(x)
    ws = [xp.asarray(w) for w in weights]

    def step():
        hs, masks, h = [x], [], x
        for i, w in enumerate(ws):
            h = h @ w
            if i < len(ws) - 1:
                masks.append(h > 0)
                h = xp.maximum(h, 0)
                hs.append(h)
        g = xp.ones_like(h)
        grads = [None] * len(ws)
        for i in range(len(ws) - 1, -1, -1):
            grads[i] = hs[i].T @ g
            if i > 0:
                g = (g @ ws[i].T) * masks[i - 1]
        synchronize()
        return grads
    return step


# ---- main ---------------------------------------------------------------------------------------------
def _report(name: str, key: str, rounds) -> None:
    report(f"{name} (target ember/cupy <= {TARGETS[key]}x)", "ms/step", rounds, ("cupy", "torch"), scale=1e3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    args = parser.parse_args()
    import ember

    if not ember.cuda.is_available():
        print(f"skipped: no usable CUDA device for ember: {ember.cuda.unavailable_reason()}")
        return 0
    import cupy

    warmup, n, rounds = (2, 3, 1) if args.quick else (5, 30, 7)
    torch = load_torch()
    torch = torch if torch is not None and torch.cuda.is_available() else None
    device = "cuda"
    print(f"ember on {ember.cuda.get_device_name()}: {ember.device(device).backend.library_version()}", flush=True)
    rng = np.random.default_rng(0)

    x, y = rng.standard_normal((128, 784)).astype(np.float32), rng.integers(0, 10, 128)
    steps = {"cupy": mlp_limit(cupy, x, y), "ember": mlp_step(ember, device, x, y)}
    if torch is not None:
        steps["torch"] = mlp_step(torch, device, x, y)
    _report("W1 MLP train step, GPU", "W1", compare(steps, warmup, n, rounds))

    images, labels = rng.standard_normal((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    steps = {"cupy": cnn_limit(cupy, images, labels), "ember": cnn_step(ember, device, images, labels)}
    if torch is not None:
        steps["torch"] = cnn_step(torch, device, images, labels)
    _report("W2 CNN train step, GPU", "W2", compare(steps, warmup, n, rounds))

    x = rng.standard_normal((1024, 1024), dtype=np.float32)
    weights = [(rng.standard_normal((1024, 1024)) / 32).astype(np.float32) for _ in range(4)]
    steps = {"cupy": chain_limit(cupy, x, weights, cupy.cuda.Device().synchronize),
             "ember": chain_step(ember, device, x, weights, ember.cuda.synchronize)}
    if torch is not None:
        steps["torch"] = chain_step(torch, device, x, weights, torch.cuda.synchronize)
    _report("W4 GEMM chain fwd+bwd, GPU", "W4", compare(steps, warmup, n, rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
