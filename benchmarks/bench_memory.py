"""Peak memory of 20 W2 training steps (the CNN of bench_cnn.py, batch 64, Adam), ember against PyTorch.

Each measurement is a fresh process running one framework: it imports the framework, reads its peak
resident set size (``ru_maxrss``: the baseline after imports), builds the model, runs 20 steps and reads
the peak again. The line gives each framework's median increase over the runs (MiB; processes
alternate between frameworks) and ember's ratio to PyTorch (target: <= 0.3x), plus the baselines.

    python benchmarks/bench_memory.py [--quick] [--runs N]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import statistics
import subprocess
import sys

from harness import record

HERE = pathlib.Path(__file__).resolve().parent

CHILD = """
import json, resource, sys
sys.path.insert(0, {here!r})
import harness  # pins the thread count before numpy and the framework load
import numpy as np
import {fw} as fw
from bench_cnn import BATCH, make_step
if {fw!r} == "torch":
    fw.set_num_threads(2)
rng = np.random.default_rng(0)
images = rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32)
labels = rng.integers(0, 10, BATCH)
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
step = make_step(fw, images, labels)
for _ in range({steps}):
    step()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"baseline": baseline / 1024, "peak": peak / 1024}}))
"""


def run_once(fw: str, steps: int) -> dict[str, float]:
    """{"baseline", "peak"} in MiB (ru_maxrss is in KiB on Linux) from a fresh process running `fw`."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE), fw=fw, steps=steps)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of 2 steps each (smoke test)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs, steps = (1, 2) if args.quick else (args.runs, 20)
    # not imported here: a child inherits its parent's ru_maxrss high-water mark across fork and exec
    frameworks = ["ember", "torch"] if importlib.util.find_spec("torch") else ["ember"]
    results: dict[str, list[dict[str, float]]] = {fw: [] for fw in frameworks}
    for _ in range(runs):
        for fw in frameworks:
            results[fw].append(run_once(fw, steps))
    growth = {fw: statistics.median(r["peak"] - r["baseline"] for r in rs) for fw, rs in results.items()}
    baseline = {fw: statistics.median(r["baseline"] for r in rs) for fw, rs in results.items()}
    cells = [f"{fw} +{growth[fw]:.1f} MiB (after imports {baseline[fw]:.0f} MiB)" for fw in frameworks]
    ratios = {}
    if "torch" in growth:
        ratios["ember/torch"] = growth["ember"] / growth["torch"]
        cells.append(f"ember/torch {ratios['ember/torch']:.2f}x (target <= 0.30x)")
    print(f"W2 x{steps} steps, peak RSS growth over the baseline after imports ({runs} runs): " + "; ".join(cells),
          flush=True)
    record("W2 steps, peak RSS growth", steps=steps, unit="MiB", rounds=runs, medians=growth, baselines=baseline,
           ratios=ratios)


if __name__ == "__main__":
    main()
