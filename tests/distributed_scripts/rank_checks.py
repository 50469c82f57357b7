"""What the 2-rank check scripts share: the process group, `check` (runs one check and prints
`rank R PASS name` or `rank R FAIL name: why`) and `finish` (prints `rank R DONE failures=N` and exits 1
when a check failed). The scripts import it from their own folder (it is on sys.path as the script's)."""
from __future__ import annotations

import sys
import traceback

import ember.distributed as dist

dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
assert WORLD == 2, "run me on 2 ranks"
FAILURES: list[str] = []


def check(fn):
    """Run `fn` now and report it; used as a decorator."""
    try:
        fn()
    except Exception:
        FAILURES.append(fn.__name__)
        print(f"rank {RANK} FAIL {fn.__name__}: {traceback.format_exc()}", flush=True)
    else:
        print(f"rank {RANK} PASS {fn.__name__}", flush=True)
    return fn


def finish() -> None:
    """Report the number of failed checks once every rank is done, and exit with 1 when there were any."""
    failed = len(FAILURES)
    dist.barrier()
    print(f"rank {RANK} DONE failures={failed}", flush=True)
    dist.destroy_process_group()
    sys.exit(1 if failed else 0)
