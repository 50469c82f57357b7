"""The benchmark scripts still run (a smoke test with --quick; speed is reported, never asserted)."""
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.no_device
@pytest.mark.parametrize("script", ["bench_autograd.py", "bench_mlp.py", "bench_cnn.py", "bench_dataloader.py",
                                    "bench_checkpoint.py", "bench_gpu.py",
                                    "bench_compile.py",
                                    "bench_import.py", "bench_memory.py", "bench_scaling.py", "bench_threads.py"])
def test_benchmark_script_runs_and_reports_ember(script):
    out = subprocess.run([sys.executable, script, "--quick"], cwd=BENCHMARKS, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "ember" in out.stdout


@pytest.mark.no_device
def test_run_all_writes_the_targets_table(tmp_path):
    skip = ["bench_memory.py", "bench_autograd.py", "bench_mlp.py", "bench_cnn.py", "bench_dataloader.py",
            "bench_compile.py", "bench_threads.py", "bench_scaling.py"]
    out = subprocess.run([sys.executable, "run_all.py", "--quick", "--out", str(tmp_path), "--skip", *skip],
                         cwd=BENCHMARKS, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert "| workload | target | measured | met? |" in summary
    assert "| W2 CNN step, eager | <= 1.3x PyTorch | not measured | – |" in summary  # bench_cnn.py was skipped
    assert "`import ember` (bytecode cached, as installed)" in summary and "### bench_import.py" in summary
