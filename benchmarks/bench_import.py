"""Import time: ``import ember`` against ``import numpy`` (ember imports numpy), each in a fresh process.

Each run is a new interpreter that times one import statement with perf_counter; runs alternate between
the two modules and the line gives the median of each and of ``ember - numpy`` (target: <= 0.15 s).
Measured twice: with a bytecode cache (as after ``pip install``, which writes .pyc files; the cache here
lives in a temporary PYTHONPYCACHEPREFIX, warmed by one untimed run) and compiling ember from source,
as a checkout run with PYTHONDONTWRITEBYTECODE=1 does. Also lists the optional libraries in
``sys.modules`` after the import (there should be none).

    python benchmarks/bench_import.py [--quick] [--runs N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from harness import record

OPTIONAL = ("scipy", "safetensors", "cupy", "tqdm", "sklearn", "mpi4py", "torch", "threadpoolctl", "matplotlib")

CHILD = """
import sys, time, json
start = time.perf_counter()
import {module}
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "optional": sorted(set(sys.modules) & set({optional!r}))}}))
"""


def import_once(module: str, env: dict[str, str]) -> dict:
    """{"seconds": the import's wall time, "optional": optional libraries loaded} from a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(module=module, optional=OPTIONAL)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def measure(env: dict[str, str], runs: int) -> tuple[float, float, float, list[str]]:
    """Medians of (numpy seconds, ember seconds, ember - numpy per run pair) and the optional modules seen."""
    import_once("ember", env)  # warms the bytecode cache where there is one
    numpy_s, ember_s, optional = [], [], set()
    for _ in range(runs):
        numpy_s.append(import_once("numpy", env)["seconds"])
        result = import_once("ember", env)
        ember_s.append(result["seconds"])
        optional.update(result["optional"])
    extra = statistics.median(e - n for e, n in zip(ember_s, numpy_s))
    return statistics.median(numpy_s), statistics.median(ember_s), extra, sorted(optional)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs (smoke test)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as cache:
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = cache
        source = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        source.pop("PYTHONPYCACHEPREFIX", None)
        for label, env in (("with bytecode cache", cached), ("compiled from source", source)):
            numpy_s, ember_s, extra, optional = measure(env, runs)
            print(f"import time, {label} ({runs} runs): numpy {numpy_s:.3f} s; ember {ember_s:.3f} s; "
                  f"ember - numpy {extra:.3f} s (target <= 0.150 s); optional libraries loaded: "
                  f"{', '.join(optional) or 'none'}", flush=True)
            record(f"import time, {label}", unit="s", rounds=runs, medians={"numpy": numpy_s, "ember": ember_s},
                   extra=extra, optional=optional)


if __name__ == "__main__":
    main()
