"""Launch a training script on N processes under MPI: `python -m ember.distributed.run -n 4 train.py args...`.

A thin wrapper over `mpirun` (the one next to this Python first, as `pip install ember[mpi]` puts it there,
then the one on PATH) that adds the flags a plain `mpirun` would need here: `--oversubscribe` when N exceeds
the cores (Open MPI), permission to run as root when the user is root, and this Python as the interpreter.
The exit code is mpirun's.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Sequence

_LAUNCHERS = ("mpirun", "mpiexec")


def find_launcher() -> str:
    """The path of `mpirun`/`mpiexec` next to `sys.executable`, else on PATH; RuntimeError naming the fix."""
    here = pathlib.Path(sys.executable).parent
    for name in _LAUNCHERS:
        candidate = here / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    for name in _LAUNCHERS:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"no MPI launcher (mpirun or mpiexec) next to {sys.executable} or on PATH: "
                       f"pip install ember[mpi] (mpi4py and Open MPI from PyPI)")


def _is_open_mpi(launcher: str) -> bool:
    try:
        out = subprocess.run([launcher, "--version"], check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    text = (out.stdout + out.stderr).lower()
    return "open mpi" in text or "open-mpi" in text or "open-rte" in text


def build_command(args: argparse.Namespace, launcher: str) -> tuple[list[str], dict[str, str]]:
    """The mpirun command line and environment for the parsed arguments."""
    env = dict(os.environ)
    cmd = [launcher, "-n", str(args.nproc)]
    if args.hostfile:
        cmd += ["--hostfile", args.hostfile]
    if _is_open_mpi(launcher):
        if not args.hostfile and args.nproc > (os.cpu_count() or 1):
            cmd.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    cmd += args.mpirun_arg or []
    cmd.append(sys.executable)
    cmd += ["-m", args.script] if args.module else [args.script]
    return cmd + list(args.script_args), env


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                     description="Run a script on N processes under mpirun (ember.distributed).")
    parser.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1,
                        help="number of processes to start (default: 1)")
    parser.add_argument("--hostfile", default=None,
                        help="MPI hostfile listing the machines (and their slots) to start processes on")
    parser.add_argument("--mpirun-arg", action="append", metavar="ARG",
                        help="one more argument for mpirun (repeatable), e.g. --mpirun-arg=--bind-to=none")
    parser.add_argument("-m", "--module", action="store_true", help="run the script argument as a module (-m)")
    parser.add_argument("script", help="the training script (or module, with -m)")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments for the script")
    args = parser.parse_args(argv)
    if args.nproc < 1:
        parser.error(f"-n must be a positive number of processes, got {args.nproc}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the script under mpirun; returns mpirun's exit code (1 with a message when there is no MPI)."""
    args = parse_args(argv)
    try:
        launcher = find_launcher()
    except RuntimeError as exc:
        sys.stderr.write(f"ember.distributed.run: {exc}\n")
        return 1
    cmd, env = build_command(args, launcher)
    code = subprocess.call(cmd, env=env)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
