"""Samplers: iterables of dataset indices (or of lists of indices) that the DataLoader draws from."""
from __future__ import annotations

import itertools
from typing import Generic, Iterable, Iterator, Sequence, Sized, TypeVar

import ember

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)

# Seeds drawn from a generator stay below 2**62 so that `seed + worker_id` is a valid seed.
_SEED_BOUND = 2**62


def _draw_seed(generator: ember.Generator | None) -> int:
    """Draw a fresh seed from ``generator`` (the default generator when ``None``)."""
    return int(ember.randint(0, _SEED_BOUND, (), generator=generator, device="cpu").item())


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")


class Sampler(Generic[T_co]):
    """Base class for all samplers.

    A sampler provides ``__iter__`` over indices (or lists of indices for a batch sampler) and,
    usually, ``__len__``.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of Sampler should implement __iter__.")


class SequentialSampler(Sampler[int]):
    """Samples elements sequentially, always in the same order.

    Args:
        data_source (Sized): data source to sample from.
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Samples elements randomly: a fresh permutation each epoch, or draws with replacement.

    Args:
        data_source (Sized): data source to sample from.
        replacement (bool): samples are drawn on demand with replacement if ``True`` (default ``False``).
        num_samples (int): number of samples to draw (default ``len(data_source)``); without
            replacement, more than ``len(data_source)`` chains several permutations.
        generator (Generator): generator used in sampling. With ``None``, each epoch draws a seed
            from the default generator, so ``ember.manual_seed`` makes the order reproducible.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: ember.Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        # The dataset's size may change between epochs.
        """The number of indices drawn per epoch (the dataset's size unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = ember.Generator().manual_seed(_draw_seed(None))
        if self.replacement:
            yield from ember.randint(0, n, (self.num_samples,), generator=generator, device="cpu").tolist()
            return
        for _ in range(self.num_samples // n):
            yield from ember.randperm(n, generator=generator, device="cpu").tolist()
        yield from ember.randperm(n, generator=generator, device="cpu").tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """Samples elements randomly from a given list of indices, without replacement.

    Args:
        indices (sequence): a sequence of indices.
        generator (Generator): generator used in sampling.
    """

    def __init__(self, indices: Sequence[int], generator: ember.Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in ember.randperm(len(self.indices), generator=self.generator, device="cpu").tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Samples elements from ``[0, .., len(weights) - 1]`` with the given probabilities (weights).

    Args:
        weights (sequence): a sequence of weights, not necessarily summing up to one.
        num_samples (int): number of samples to draw.
        replacement (bool): if ``True``, samples are drawn with replacement; if not, a sample index
            cannot be drawn again within one iteration.
        generator (Generator): generator used in sampling.
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: ember.Generator | None = None,
    ) -> None:
        _check_positive_int("num_samples", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        weights_tensor = ember.as_tensor(weights, dtype=ember.float64, device="cpu")
        if len(weights_tensor.shape) != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(weights_tensor.shape)}"
            )
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        drawn = ember.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Wraps another sampler to yield mini-batches of indices.

    Args:
        sampler (Sampler or Iterable): base sampler; any iterable of indices.
        batch_size (int): size of mini-batch.
        drop_last (bool): if ``True``, drop the last batch when it is smaller than ``batch_size``.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_positive_int("batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip stops at the first incomplete group, which is exactly the dropped batch.
            yield from (list(batch) for batch in zip(*[sampler_iter] * self.batch_size))
            return
        batch = list(itertools.islice(sampler_iter, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(sampler_iter, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
