"""``DistributedSampler``: each of ``num_replicas`` processes loads its own share of a dataset."""
from __future__ import annotations

import math
from typing import Iterator, Sized

import ember

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """Sampler that restricts data loading to the subset of the dataset for one replica (``rank``).

    Every replica sees ``num_samples = ceil(len(dataset) / num_replicas)`` indices: the
    (shuffled) index list is padded by repeating its head, or with ``drop_last`` cut, to a
    multiple of ``num_replicas``, and replica ``rank`` takes every ``num_replicas``-th index
    from position ``rank``.

    Args:
        dataset: dataset used for sampling.
        num_replicas (int): number of processes taking part; by default the world size of the
            process group (``ember.distributed``).
        rank (int): rank of the current process within ``num_replicas``; by default its rank in the
            process group.
        shuffle (bool): if ``True`` (default), shuffle the indices with ``seed + epoch``.
        seed (int): random seed used to shuffle; identical across all replicas. Default ``0``.
        drop_last (bool): if ``True``, drop the tail of the data to make it evenly divisible
            across the replicas; if ``False``, add repeated indices instead.

    Call ``set_epoch(epoch)`` at the start of every epoch, before iterating the DataLoader, to get
    a different order each epoch.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from ember import distributed as dist

            if not dist.is_initialized():
                reason = dist.unavailable_reason() or ("Default process group has not been initialized, please "
                                                       "make sure to call init_process_group.")
                raise RuntimeError(f"DistributedSampler needs num_replicas= and rank=, or a process group to read "
                                   f"them from: {reason}")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer, but got num_replicas={num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            generator = ember.Generator().manual_seed(self.seed + self.epoch)
            indices = ember.randperm(len(self.dataset), generator=generator, device="cpu").tolist()
        else:
            indices = list(range(len(self.dataset)))
        if self.drop_last:
            indices = indices[: self.total_size]
        elif self.total_size > len(indices):
            padding_size = self.total_size - len(indices)
            indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; with ``shuffle=True`` it makes every epoch use a different ordering."""
        self.epoch = epoch
