"""Run under 2 MPI ranks: every rank exits with code 3 (the launcher must pass mpirun's exit code on)."""
import sys

sys.exit(3)
