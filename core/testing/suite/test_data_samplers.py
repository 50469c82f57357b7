"""Samplers of ember.utils.data: order, length, randomness (reproducible from ember's RNG) and argument checks."""
import collections

import pytest

import ember
import ember.utils.data as data


def test_sequential_sampler_yields_every_index_in_order():
    sampler = data.SequentialSampler(range(5))
    assert list(sampler) == [0, 1, 2, 3, 4]
    assert len(sampler) == 5


def test_random_sampler_yields_a_permutation_that_changes_per_epoch():
    sampler = data.RandomSampler(range(50))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != second
    assert len(sampler) == 50


def test_random_sampler_order_is_reproducible_from_manual_seed():
    sampler = data.RandomSampler(range(30))
    ember.manual_seed(11)
    first = list(sampler)
    ember.manual_seed(11)
    assert list(sampler) == first


def test_random_sampler_with_generator_ignores_the_global_seed():
    def draw(seed):
        ember.manual_seed(seed)
        return list(data.RandomSampler(range(30), generator=ember.Generator().manual_seed(5)))

    assert draw(1) == draw(2)


def test_random_sampler_with_replacement_draws_num_samples_in_range():
    sampler = data.RandomSampler(range(4), replacement=True, num_samples=200)
    drawn = list(sampler)
    assert len(sampler) == 200 and len(drawn) == 200
    assert set(drawn) == {0, 1, 2, 3}


def test_random_sampler_without_replacement_chains_permutations_past_the_dataset_length():
    drawn = list(data.RandomSampler(range(4), num_samples=10))
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]
    assert len(set(drawn[8:])) == 2


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"replacement": 1}, TypeError, "replacement should be a boolean value"),
        ({"num_samples": 0}, ValueError, "num_samples should be a positive integer value"),
        ({"num_samples": 2.5}, ValueError, "num_samples should be a positive integer value"),
    ],
)
def test_random_sampler_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.RandomSampler(range(3), **kwargs)


def test_subset_random_sampler_permutes_the_given_indices_reproducibly():
    indices = [10, 20, 30, 40]
    drawn = list(data.SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(1)))
    assert sorted(drawn) == indices
    assert drawn == list(data.SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(1)))
    assert len(data.SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler_follows_the_weights():
    sampler = data.WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=ember.Generator().manual_seed(0))
    counts = collections.Counter(sampler)
    assert counts[0] == 0
    assert 0.7 < counts[2] / 4000 < 0.8
    assert len(sampler) == 4000


def test_weighted_random_sampler_without_replacement_never_repeats():
    drawn = list(data.WeightedRandomSampler([1, 2, 3, 4, 5], num_samples=5, replacement=False))
    assert sorted(drawn) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "weights, kwargs, message",
    [
        ([1.0, 2.0], {"num_samples": True}, "num_samples should be a positive integer value"),
        ([1.0, 2.0], {"num_samples": 0}, "num_samples should be a positive integer value"),
        ([1.0, 2.0], {"num_samples": 2, "replacement": "yes"}, "replacement should be a boolean value"),
        ([[1.0, 2.0]], {"num_samples": 2}, r"weights should be a 1d sequence but given weights have shape \(1, 2\)"),
    ],
)
def test_weighted_random_sampler_argument_errors(weights, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.WeightedRandomSampler(weights, **kwargs)


@pytest.mark.parametrize(
    "drop_last, batches",
    [(False, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]), (True, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])],
)
def test_batch_sampler_groups_indices_and_drops_the_last_partial_batch_on_request(drop_last, batches):
    sampler = data.BatchSampler(data.SequentialSampler(range(10)), batch_size=3, drop_last=drop_last)
    assert list(sampler) == batches
    assert len(sampler) == len(batches)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0, "drop_last": False}, "batch_size should be a positive integer value"),
        ({"batch_size": True, "drop_last": False}, "batch_size should be a positive integer value"),
        ({"batch_size": 2, "drop_last": 1}, "drop_last should be a boolean value"),
    ],
)
def test_batch_sampler_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.BatchSampler(range(4), **kwargs)


def _replicas(n, num_replicas, **kwargs):
    return [data.DistributedSampler(range(n), num_replicas=num_replicas, rank=r, **kwargs) for r in range(num_replicas)]


def test_distributed_sampler_pads_so_every_replica_gets_the_same_count():
    samplers = _replicas(10, 3, shuffle=False)
    shards = [list(s) for s in samplers]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    assert all(len(s) == 4 for s in samplers)


def test_distributed_sampler_drop_last_cuts_the_tail_instead():
    shards = [list(s) for s in _replicas(10, 3, shuffle=False, drop_last=True)]
    assert shards == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_distributed_sampler_shuffles_identically_on_every_replica_and_per_epoch():
    samplers = _replicas(20, 2, seed=4)
    shards = [list(s) for s in samplers]
    assert sorted(shards[0] + shards[1]) == list(range(20))
    assert shards == [list(s) for s in _replicas(20, 2, seed=4)]
    for sampler in samplers:
        sampler.set_epoch(1)
    assert [list(s) for s in samplers] != shards


def test_distributed_sampler_argument_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        data.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="num_replicas= and rank="):
        data.DistributedSampler(range(4))
