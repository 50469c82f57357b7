"""ember.distributed in real 2-rank MPI jobs started by `python -m ember.distributed.run` (the tox env `mpi`).

Each job runs many checks and prints one PASS/FAIL line per check and rank (mpirun costs 1-2 s a launch);
the scripts are in tests/distributed_scripts/. Skipped with the reason without mpi4py or mpirun.
"""
from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest
from ember.distributed import run

pytestmark = pytest.mark.no_device

pytest.importorskip("mpi4py", reason="the MPI tests need mpi4py and Open MPI: pip install ember[mpi]")
try:
    run.find_launcher()
except RuntimeError as exc:
    pytest.skip(str(exc), allow_module_level=True)

SCRIPTS = pathlib.Path(__file__).resolve().parent / "distributed_scripts"
EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "train_digits_ddp.py"
TIMEOUT = 240


def launch(script: pathlib.Path, *args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", str(nproc), str(script), *args],
                          check=False, capture_output=True, text=True, timeout=TIMEOUT)


def check_report(out: subprocess.CompletedProcess, nproc: int = 2) -> list[str]:
    """The names of the checks every rank passed; fails listing the FAIL lines otherwise."""
    failures = [line for line in out.stdout.splitlines() if " FAIL " in line]
    assert not failures and out.returncode == 0, "\n".join(failures) + out.stdout[-3000:] + out.stderr[-3000:]
    assert sum("DONE failures=0" in line for line in out.stdout.splitlines()) == nproc, out.stdout
    passed = {}
    for rank, name in re.findall(r"^rank (\d+) PASS (\w+)$", out.stdout, flags=re.MULTILINE):
        passed.setdefault(name, set()).add(rank)
    return sorted(name for name, ranks in passed.items() if len(ranks) == nproc)


def test_every_collective_gives_the_hand_computed_values_on_2_ranks():
    passed = check_report(launch(SCRIPTS / "check_collectives.py"))
    assert {"all_reduce_each_op", "broadcast_from_rank_1", "all_gather_into_a_list",
            "reduce_scatter_sums_block_r_into_rank_r", "gather_to_rank_0", "scatter_from_rank_1",
            "subgroups_reduce_among_their_members_only",
            "mismatched_shapes_raise_on_every_rank", "async_all_reduce_returns_a_work_handle"} <= set(passed)
    assert len(passed) == 19


def test_ddp_on_2_ranks_matches_one_process_and_checkpoints_work(tmp_path):
    passed = check_report(launch(SCRIPTS / "check_ddp.py", str(tmp_path)))
    assert "ddp_five_sgd_steps_equal_one_process_on_the_global_batch" in passed
    assert "every_rank_saving_to_one_path_leaves_a_valid_checkpoint" in passed
    assert len(passed) == 11


def test_a_rank_that_raises_aborts_the_job_with_its_traceback_instead_of_hanging():
    out = launch(SCRIPTS / "fail_on_rank_1.py")  # rank 0 waits in a barrier rank 1 never reaches
    assert out.returncode != 0
    assert "[ember.distributed rank 1] uncaught exception" in out.stderr
    assert "ValueError: deliberate failure on rank 1" in out.stderr


def test_the_launcher_exits_with_mpiruns_exit_code():
    assert launch(SCRIPTS / "exit_with_rank_code.py").returncode == 3


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="the digits example needs scikit-learn")
def test_digits_example_on_2_processes_learns_the_digits(tmp_path):
    out = launch(EXAMPLE, "--epochs", "2", "--checkpoint", str(tmp_path / "ddp.safetensors"))
    assert out.returncode == 0, out.stderr[-3000:]
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out.stdout.splitlines()[-1]).group(1))
    assert accuracy > 80.0, out.stdout
    assert "2 processes" in out.stdout


def test_scaling_benchmark_runs_on_1_and_2_ranks():
    bench = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_distributed.py"
    out = subprocess.run([sys.executable, str(bench), "--quick"], check=False, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ember 1 rank(s)" in out.stdout and "ember 2 rank(s)" in out.stdout
