"""The benchmark scripts still run (a smoke test with --quick; speed is reported, never asserted)."""
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.no_device
@pytest.mark.parametrize("script", ["bench_autograd.py", "bench_mlp.py", "bench_cnn.py", "bench_dataloader.py",
                                    "bench_checkpoint.py", "bench_gpu.py"])
def test_benchmark_script_runs_and_reports_ember(script):
    out = subprocess.run([sys.executable, script, "--quick"], cwd=BENCHMARKS, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "ember" in out.stdout
