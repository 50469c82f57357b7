"""ember.distributed without an MPI job: availability, errors before init_process_group, the launcher's command
line and its error without MPI, DDP's bucketing. (The collectives under mpirun: tests/test_distributed_mpi.py.)"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import ember
import ember.distributed as dist
import pytest
from ember.distributed import run
from ember.nn.parallel.reducer import assign_buckets

pytestmark = pytest.mark.no_device


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False, capture_output=True, text=True,
                          timeout=120)


def test_import_ember_and_ember_distributed_never_imports_mpi4py():
    out = _python("""
        import sys, ember
        assert "ember.distributed" not in sys.modules
        ember.distributed.is_available(), ember.nn.parallel.DistributedDataParallel
        print("mpi4py" in sys.modules)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_is_available_is_false_with_the_reason_when_mpi4py_cannot_be_imported():
    out = _python("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "mpi4py":
                    raise ImportError("blocked for the test")
        sys.meta_path.insert(0, Block())
        import ember.distributed as dist
        print(dist.is_available(), dist.is_mpi_available())
        print(dist.unavailable_reason())
        try:
            dist.init_process_group("mpi")
        except RuntimeError as exc:
            print(exc)
    """)
    assert out.returncode == 0, out.stderr
    available, reason, error = out.stdout.splitlines()
    assert available == "False False"
    assert "blocked for the test" in reason and "pip install ember[mpi]" in reason
    assert "pip install ember[mpi]" in error


def test_is_available_is_false_when_mpi4py_is_not_installed():
    out = _python("""
        import sys
        sys.modules["mpi4py"] = None  # what Python does for a package that is absent after a failed import
        import ember.distributed as dist
        print(dist.is_available(), dist.unavailable_reason())
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("False mpi4py is not installed: pip install ember[mpi]")


NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


@pytest.mark.parametrize("call", [
    dist.get_rank, dist.get_world_size, dist.barrier, dist.destroy_process_group, lambda: dist.new_group([0]),
    lambda: dist.all_reduce(ember.zeros(2)), lambda: dist.broadcast(ember.zeros(2), src=0),
    lambda: ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2)),
], ids=["get_rank", "get_world_size", "barrier", "destroy_process_group", "new_group", "all_reduce", "broadcast",
        "DistributedDataParallel"])
def test_before_init_process_group_calls_raise_pytorchs_value_error(call):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        call()


@pytest.mark.parametrize("backend", ["gloo", "nccl", "ucc"])
def test_init_process_group_rejects_other_backends_naming_the_supported_one(backend):
    with pytest.raises(ValueError, match=f"backend '{backend}' is not supported by ember; supported backends: 'mpi'"):
        dist.init_process_group(backend)
    assert not dist.is_initialized()


@pytest.mark.parametrize("kwargs, match", [
    ({"init_method": "tcp://10.0.0.1:23456"}, "init_method"),
    ({"store": object()}, "store="),
    ({"pg_options": object()}, "pg_options="),
    ({"timeout": 30}, "timedelta"),
])
def test_init_process_group_rejects_arguments_the_mpi_backend_cannot_use(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        dist.init_process_group("mpi", **kwargs)


def test_reduce_op_has_pytorchs_members():
    assert {op.name for op in dist.ReduceOp} >= {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}


def test_distributed_sampler_without_a_group_or_arguments_says_what_to_pass():
    with pytest.raises(RuntimeError, match="num_replicas= and rank=, or a process group"):
        ember.utils.data.DistributedSampler(range(4))


def test_buckets_hold_hundreds_of_parameters_in_a_handful_of_collectives():
    params = [ember.zeros(1000) for _ in range(300)]  # 4000 bytes each, 1.2 MB in all
    assert len(assign_buckets(params, 25 * 2**20)) == 1
    buckets = assign_buckets(params, 2**18)  # 256 kB: 65 parameters of 4000 bytes per bucket
    assert [len(b) for b in buckets] == [65, 65, 65, 65, 40]
    assert buckets[0][0] == 299 and sorted(i for b in buckets for i in b) == list(range(300))


def test_buckets_keep_one_dtype_each_and_give_an_oversized_parameter_its_own():
    params = [ember.zeros(10), ember.zeros(10, dtype=ember.float64), ember.zeros(10), ember.zeros(1000)]
    buckets = assign_buckets(params, 100)
    assert buckets == [[3], [2, 0], [1]]


def _args(*argv: str):
    return run.parse_args(list(argv))


@pytest.mark.parametrize("flag", ["-n", "--nproc-per-node", "--nproc_per_node"])
def test_launcher_accepts_torchruns_process_count_flags_and_passes_the_script_its_arguments(flag):
    args = _args(flag, "3", "train.py", "--epochs", "2", "-n", "9")
    assert args.nproc == 3 and args.script == "train.py" and args.script_args == ["--epochs", "2", "-n", "9"]


def test_launcher_command_adds_oversubscribe_and_root_permission_for_open_mpi(monkeypatch):
    monkeypatch.setattr(run, "_is_open_mpi", lambda launcher: True)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.delenv("OMPI_ALLOW_RUN_AS_ROOT", raising=False)
    cmd, env = run.build_command(_args("-n", "4", "train.py", "--lr", "1"), "/x/mpirun")
    assert cmd == ["/x/mpirun", "-n", "4", "--oversubscribe", sys.executable, "train.py", "--lr", "1"]
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"
    cmd, _ = run.build_command(_args("-n", "2", "--hostfile", "hosts", "-m", "pkg.train"), "/x/mpirun")
    assert cmd == ["/x/mpirun", "-n", "2", "--hostfile", "hosts", sys.executable, "-m", "pkg.train"]


def test_launcher_command_for_another_mpi_adds_no_open_mpi_flags(monkeypatch):
    monkeypatch.setattr(run, "_is_open_mpi", lambda launcher: False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    cmd, _ = run.build_command(_args("-n", "4", "train.py"), "/x/mpiexec")
    assert cmd == ["/x/mpiexec", "-n", "4", sys.executable, "train.py"]


def test_launcher_without_mpi_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run.main(["-n", "2", "train.py"]) == 1
    assert "pip install ember[mpi]" in capsys.readouterr().err


def test_launcher_finds_mpirun_next_to_the_interpreter_first(monkeypatch, tmp_path):
    fake = tmp_path / "mpirun"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert run.find_launcher() == str(fake)


def test_launcher_rejects_a_non_positive_process_count():
    with pytest.raises(SystemExit):
        _args("-n", "0", "train.py")
