"""Run under 2 MPI ranks: rank 1 raises while rank 0 waits in a barrier that rank 1 never reaches.

The job must end (MPI abort from ember.distributed's excepthook) with a non-zero exit code and rank 1's
traceback, instead of hanging. Launched by tests/test_distributed_mpi.py.
"""
import time

import ember.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    time.sleep(0.5)  # rank 0 is waiting in the barrier by now
    raise ValueError("deliberate failure on rank 1")
dist.barrier()
