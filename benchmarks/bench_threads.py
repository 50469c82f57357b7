"""Thread settings: the digits example (examples/train_digits.py) with the BLAS pools at their default size
and at one thread, as the machine is and with one more process keeping a core busy.

Each run is a fresh process that imports ember, optionally calls ``ember.set_num_threads(n)``, and times
``train_digits.main`` (training, checkpoint, reload, test; import excluded). Settings alternate within a
round. "busy" starts one CPU-bound process (a Python busy loop) for the run's duration, the situation of a
shared 2-core machine; the line gives each setting's median seconds and the ratio to one thread.

    python benchmarks/bench_threads.py [--quick] [--epochs E] [--rounds R]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from harness import record

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

# Runs in the child: argv = [threads or "default", epochs, checkpoint path]; prints the seconds.
CHILD = """
import sys, time
import ember
if sys.argv[1] != "default":
    ember.set_num_threads(int(sys.argv[1]))
sys.path.insert(0, {examples!r})
import train_digits
start = time.perf_counter()
train_digits.main(["--epochs", sys.argv[2], "--quiet", "--checkpoint", sys.argv[3]])
print("threads", ember.get_num_threads(), "seconds", time.perf_counter() - start)
"""


def run_once(threads: str, epochs: int, checkpoint: str) -> tuple[float, int]:
    """(seconds, ember.get_num_threads()) of one training run in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                            "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", CHILD.format(examples=str(EXAMPLES)), threads, str(epochs),
                          checkpoint], capture_output=True, text=True, env=env, check=True)
    words = out.stdout.split()
    return float(words[words.index("seconds") + 1]), int(words[words.index("threads") + 1])


def measure(settings: list[str], epochs: int, rounds: int, busy: bool) -> dict[str, list[float]]:
    """Seconds per run of each setting over `rounds` interleaved rounds, with a busy core when `busy`."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        times: dict[str, list[float]] = {s: [] for s in settings}
        with tempfile.TemporaryDirectory() as tmp:
            checkpoint = os.path.join(tmp, "digits.safetensors")
            for _ in range(rounds):
                for s in settings:
                    times[s].append(run_once(s, epochs, checkpoint)[0])
        return times
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one epoch, one round (smoke test)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    epochs, rounds = (1, 1) if args.quick else (args.epochs, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        default_threads = run_once("default", 1, os.path.join(tmp, "digits.safetensors"))[1]
    settings = ["default", "1"]
    for busy in (False, True):
        times = measure(settings, epochs, rounds, busy)
        med = {s: statistics.median(t) for s, t in times.items()}
        print(f"digits example, {epochs} epochs, {'one core kept busy' if busy else 'no added load'} ({rounds} rounds): "
              f"ember default threads ({default_threads}) {med['default']:.2f} s; 1 thread {med['1']:.2f} s; "
              f"default/1 {med['default'] / med['1']:.2f}x", flush=True)
        record(f"digits example, {'one core kept busy' if busy else 'no added load'}", unit="s", rounds=rounds, medians=med,
               default_threads=default_threads)


if __name__ == "__main__":
    main()
