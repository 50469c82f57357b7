"""Checkpoint peak memory: ember.save / ember.load, and torch.save / torch.load for reference.

A state dict of float32 tensors (layers of 1024x1024 weights and 1024 biases, SIZE MiB in all, random
values so that every page is really written) is saved to a file and loaded back. Every measurement runs
in a fresh process, so one operation's memory never hides another's:

S1 save: peak memory while saving, the state dict itself included (ideal: 1.0x).
S2 load: peak memory while loading, the loaded state dict included (ideal: 1.0x).
S3 load with mmap=True: the tensors map the file; pages read count as resident (file-backed) memory, and
    ember reads every page once to verify its checksums.
S4 (ember only) load with mmap=True, verify=False: nothing is read until it is used.

Each line gives peak memory as a ratio to the state dict's size (lower is better), measured two ways:
RSS (the process's peak resident set above its resident set before the state dict existed; Linux resets
the peak through /proc/self/clear_refs, elsewhere the lifetime peak is used) and, for ember only,
tracemalloc (numpy's buffers and Python objects; PyTorch's allocator is invisible to it).

    python benchmarks/bench_checkpoint.py [--quick] [--size-mb N]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import tracemalloc

from harness import load_torch, report

import numpy as np

LAYER = 1024


def _lifetime_peak_rss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _rss_bytes() -> int:
    """The current resident set size (Linux); elsewhere the lifetime peak, which is all there is."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return _lifetime_peak_rss_bytes()


def _reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux; elsewhere the peak cannot be reset)."""
    with contextlib.suppress(OSError):
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")


def _peak_rss_bytes() -> int:
    """The peak resident set size since the last reset (Linux) or since the process started."""
    with contextlib.suppress(OSError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return _lifetime_peak_rss_bytes()


def _shapes(size_mb: int) -> dict[str, tuple[int, ...]]:
    """{name: shape} of float32 layers totalling about `size_mb` MiB."""
    layers = max(1, size_mb * 2 ** 20 // (LAYER * LAYER * 4))
    shapes = {}
    for i in range(layers):
        shapes[f"layers.{i}.weight"] = (LAYER, LAYER)
        shapes[f"layers.{i}.bias"] = (LAYER,)
    return shapes


def _state_dict(fw, shapes: dict[str, tuple[int, ...]]) -> dict:
    """{name: tensor} of random float32 values, built without temporaries."""
    rng = np.random.default_rng(0)
    return {name: fw.from_numpy(rng.standard_normal(shape, dtype=np.float32)) for name, shape in shapes.items()}


def child(op: str, framework: str, path: str, size_mb: int) -> dict:
    """Run one operation in this (fresh) process; return its peak memory as ratios to the state dict."""
    if framework == "ember":
        import ember as fw
    else:
        fw = load_torch()
    shapes = _shapes(size_mb)
    nbytes = 4 * sum(int(np.prod(shape)) for shape in shapes.values())
    warmup = path + ".warmup"  # first-use setup (backend, lazy imports) is not the checkpoint's cost
    fw.save({"w": fw.from_numpy(np.ones(1, np.float32))}, warmup)
    fw.load(warmup)
    os.remove(warmup)
    kwargs = {"load": {}, "load-mmap": {"mmap": True}, "load-mmap-noverify": {"mmap": True, "verify": False}}
    baseline = _rss_bytes()
    tracemalloc.start()
    if op == "save":
        state_dict = _state_dict(fw, shapes)
        tracemalloc.reset_peak()
        _reset_peak_rss()
        fw.save(state_dict, path)
    else:
        _reset_peak_rss()
        state_dict = fw.load(path, **kwargs[op])
        if len(state_dict) != len(shapes):
            raise RuntimeError(f"loaded {len(state_dict)} tensors, saved {len(shapes)}")
    traced = tracemalloc.get_traced_memory()[1]
    return {"rss": (_peak_rss_bytes() - baseline) / nbytes, "traced": traced / nbytes}


def measure(op: str, framework: str, path: str, size_mb: int) -> dict:
    """`child` in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--child", op, "--framework", framework, "--file", path,
                          "--size-mb", str(size_mb)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{framework} {op} failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a 16 MiB state dict, one round (smoke test)")
    parser.add_argument("--size-mb", type=int, default=256, help="state dict size in MiB (default 256)")
    parser.add_argument("--child", choices=["save", "load", "load-mmap", "load-mmap-noverify"], help=argparse.SUPPRESS)
    parser.add_argument("--framework", default="ember", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.framework, args.file, args.size_mb)))
        return
    size_mb, rounds = (16, 1) if args.quick else (args.size_mb, 3)
    frameworks = ["ember"] + (["torch"] if load_torch() is not None else [])
    with tempfile.TemporaryDirectory() as tmp:
        paths = {fw: os.path.join(tmp, f"{fw}.ckpt") for fw in frameworks}
        for title, op, fws in [("S1 save", "save", frameworks), ("S2 load", "load", frameworks),
                               ("S3 load mmap=True", "load-mmap", frameworks),
                               ("S4 load mmap=True verify=False", "load-mmap-noverify", ["ember"])]:
            results = [{fw: measure(op, fw, paths[fw], size_mb) for fw in fws} for _ in range(rounds)]
            name = f"{title}, {size_mb} MiB state dict"
            report(f"{name}, peak RSS", "x state dict", [{fw: r[fw]["rss"] for fw in r} for r in results],
                   ("torch",))
            report(f"{name}, peak tracemalloc", "x state dict", [{"ember": r["ember"]["traced"]} for r in results],
                   ())


if __name__ == "__main__":
    main()
