"""Data parallelism across processes, as `torch.nn.parallel`: `DistributedDataParallel` (on `ember.distributed`)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
