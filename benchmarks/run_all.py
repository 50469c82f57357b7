"""Run every benchmark and write benchmarks/results/summary.md: the issue's targets with the measured
ratios, whether each is met, and every script's output.

Each script runs in its own process (in sequence, so that they do not compete for the 2 cores) and
appends its numbers to a JSON-lines file (harness.record), from which the table is built. Absent scripts
(bench_compile.py before ember.compile exists) and absent frameworks (PyTorch) leave their rows "not
measured".

    python benchmarks/run_all.py [--quick] [--out DIR] [--skip NAME ...]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
from typing import Callable, NamedTuple

HERE = pathlib.Path(__file__).resolve().parent
SCRIPTS = ("bench_import.py", "bench_memory.py", "bench_autograd.py", "bench_mlp.py", "bench_cnn.py",
           "bench_dataloader.py", "bench_compile.py", "bench_threads.py", "bench_scaling.py")


class Target(NamedTuple):
    workload: str
    target: str
    record: str  # the harness record's name, or its start followed by "*"
    measure: Callable[[dict], float]  # the measured value from the record
    met: Callable[[float], bool]
    shown: str  # format of the measured value


def _ratio(key: str) -> Callable[[dict], float]:
    return lambda rec: rec["ratios"][key]


def _speedup(rec: dict) -> float:  # batches per second relative to PyTorch: the inverse of the time ratio
    return 1 / rec["ratios"]["ember/torch"]


TARGETS = (
    Target("W3 per-op overhead, eager", "<= 0.8x PyTorch", "W3 per-op overhead (fwd+bwd)", _ratio("ember/torch"),
           lambda v: v <= 0.8, "{:.2f}x"),
    Target("W3 compiled", "<= 0.3x PyTorch eager", "W3 per-op overhead (fwd+bwd), ember compiled",
           _ratio("ember/torch"), lambda v: v <= 0.3, "{:.2f}x"),
    Target("W1 MLP step, eager", "<= 1.05x the numpy limit", "W1 MLP train step", _ratio("ember/numpy"),
           lambda v: v <= 1.05, "{:.2f}x"),
    Target("W1 MLP step, compiled", "<= 1.02x the numpy limit", "W1 MLP train step, ember compiled",
           _ratio("ember/numpy"), lambda v: v <= 1.02, "{:.2f}x"),
    Target("W2 CNN step, eager", "<= 1.3x PyTorch", "W2 CNN train step", _ratio("ember/torch"),
           lambda v: v <= 1.3, "{:.2f}x"),
    Target("W4 GEMM chain", "<= 1.02x the numpy limit", "W4 GEMM chain fwd+bwd", _ratio("ember/numpy"),
           lambda v: v <= 1.02, "{:.2f}x"),
    Target("W5 DataLoader, num_workers=0", ">= 3x PyTorch's batches/s", "W5 DataLoader epoch*num_workers=0",
           _speedup, lambda v: v >= 3, "{:.2f}x"),
    Target("W5 DataLoader, num_workers=2", ">= 3x PyTorch's batches/s", "W5 DataLoader epoch*num_workers=2",
           _speedup, lambda v: v >= 3, "{:.2f}x"),
    Target("peak RSS of 20 W2 steps", "<= 0.3x PyTorch", "W2 steps, peak RSS growth", _ratio("ember/torch"),
           lambda v: v <= 0.3, "{:.2f}x"),
    Target("`import ember` (bytecode cached, as installed)", "<= `import numpy` + 0.15 s",
           "import time, with bytecode cache", lambda rec: rec["extra"], lambda v: v <= 0.15, "+{:.3f} s"),
    Target("`import ember` (compiled from source, this checkout)", "<= `import numpy` + 0.15 s",
           "import time, compiled from source", lambda rec: rec["extra"], lambda v: v <= 0.15, "+{:.3f} s"),
)


def _matches(pattern: str, name: str) -> bool:
    if "*" not in pattern:
        return name == pattern
    start, end = pattern.split("*")
    return name.startswith(start) and name.endswith(end)


def run_scripts(scripts: list[str], quick: bool, records: pathlib.Path) -> dict[str, str]:
    """Run each script, echoing its output; returns script -> its output (or why it did not run)."""
    outputs = {}
    env = dict(os.environ, EMBER_BENCH_RECORD=str(records))
    for script in scripts:
        if not (HERE / script).exists():
            outputs[script] = "(not present)"
            continue
        print(f"== {script}", flush=True)
        proc = subprocess.run([sys.executable, script] + (["--quick"] if quick else []), cwd=HERE, env=env,
                              capture_output=True, text=True)
        text = proc.stdout + (f"\n(exit status {proc.returncode})\n{proc.stderr[-2000:]}" if proc.returncode else "")
        print(text, flush=True)
        outputs[script] = text.strip()
    return outputs


def summarize(records: list[dict], outputs: dict[str, str], quick: bool, load: tuple[str, str]) -> str:
    """The summary.md text: the targets table, the machine, and every script's output."""
    rows = ["| workload | target | measured | met? |", "| --- | --- | --- | --- |"]
    for t in TARGETS:
        rec = next((r for r in reversed(records) if _matches(t.record, r["name"])), None)
        try:
            value = None if rec is None else t.measure(rec)
        except KeyError:  # PyTorch absent: no ratio to it
            value = None
        if value is None:
            rows.append(f"| {t.workload} | {t.target} | not measured | – |")
        else:
            rows.append(f"| {t.workload} | {t.target} | {t.shown.format(value)} | {'yes' if t.met(value) else 'no'} |")
    versions = [f"Python {platform.python_version()}"]
    for module in ("numpy", "torch"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            versions.append(f"{module} not installed")
    lines = [
        "# Benchmark summary" + (" (--quick: smoke-test sizes, not results)" if quick else ""),
        "",
        f"Written by `benchmarks/run_all.py` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{os.cpu_count()} CPUs; {', '.join(versions)}; 1-minute load average {load[0]} before and {load[1]} "
        "after (the machine is shared: other processes' load makes single runs noisy, so every number is a "
        "median over interleaved rounds or fresh processes). Ratios are ember / reference time (or memory); the "
        "W5 rows give ember's batches per second over PyTorch's.",
        "",
        *rows,
        "",
        "## Script output",
    ]
    for script, text in outputs.items():
        lines += ["", f"### {script}", "", "```", text, "```"]
    return "\n".join(lines) + "\n"


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every script with --quick (smoke test)")
    parser.add_argument("--out", type=pathlib.Path, help="where summary.md goes (default: benchmarks/results; "
                                                         "a temporary directory with --quick)")
    parser.add_argument("--skip", nargs="*", default=[], help="scripts to leave out, e.g. bench_threads.py")
    args = parser.parse_args()
    scripts = [s for s in SCRIPTS if s not in args.skip]
    with tempfile.TemporaryDirectory() as tmp:
        records_path = pathlib.Path(tmp) / "records.jsonl"
        before = _load()
        outputs = run_scripts(scripts, args.quick, records_path)
        after = _load()
        records = [json.loads(line) for line in records_path.read_text().splitlines()] if records_path.exists() else []
        out = args.out or (pathlib.Path(tmp) if args.quick else HERE / "results")
        out.mkdir(parents=True, exist_ok=True)
        summary = summarize(records, outputs, args.quick, (before, after))
        (out / "summary.md").write_text(summary)
        print(summary.split("## Script output")[0], flush=True)


if __name__ == "__main__":
    main()
