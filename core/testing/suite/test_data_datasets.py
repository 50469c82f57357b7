"""Datasets of ember.utils.data: Dataset, IterableDataset, TensorDataset, StackDataset, ConcatDataset,
ChainDataset, Subset and random_split, with torch.utils.data's contract."""
import numpy as np
import pytest

import ember
import ember.utils.data as data
from ember.utils.data.collate import StackedSamples


class Squares(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        return index * index

    def __len__(self):
        return self.n


class Stream(data.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def _tensor_dataset(device, n=10):
    x = ember.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3), device=device)
    y = ember.tensor(np.arange(n, dtype=np.int64), device=device)
    return data.TensorDataset(x, y), x, y


def test_dataset_base_getitem_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        data.Dataset()[0]


def test_adding_datasets_concatenates_them():
    both = Squares(3) + Squares(2)
    assert isinstance(both, data.ConcatDataset)
    assert [both[i] for i in range(len(both))] == [0, 1, 4, 0, 1]


def test_adding_iterable_datasets_chains_them():
    both = Stream(0, 2) + Stream(5, 7)
    assert isinstance(both, data.ChainDataset)
    assert list(both) == [0, 1, 5, 6]


def test_tensor_dataset_indexes_every_tensor_along_the_first_dimension(device):
    dataset, x, y = _tensor_dataset(device)
    assert len(dataset) == 10
    sample_x, sample_y = dataset[4]
    assert sample_x.device == device and sample_y.device == device
    assert sample_x.tolist() == [12.0, 13.0, 14.0]
    assert sample_y.item() == 4


def test_tensor_dataset_rejects_tensors_of_different_lengths(device):
    with pytest.raises(ValueError, match="Size mismatch"):
        data.TensorDataset(ember.zeros(3, device=device), ember.zeros(4, device=device))


def test_tensor_dataset_getitems_gathers_a_batch_per_tensor(device):
    dataset, x, y = _tensor_dataset(device)
    batch = dataset.__getitems__([7, 2, 7])
    assert isinstance(batch, StackedSamples)
    bx, by = batch.fields
    assert bx.shape == (3, 3) and bx.device == device
    assert by.tolist() == [7, 2, 7]
    # It still reads as the list of samples that a custom collate_fn expects.
    assert len(batch) == 3
    assert batch[1][0].tolist() == dataset[2][0].tolist()
    assert [s[1].item() for s in batch] == [7, 2, 7]


def test_stack_dataset_zips_datasets_into_tuples_or_dicts():
    assert data.StackDataset(Squares(3), Squares(3))[2] == (4, 4)
    assert data.StackDataset(a=Squares(3), b=Squares(3))[1] == {"a": 1, "b": 1}
    assert data.StackDataset(Squares(3), Squares(3)).__getitems__([0, 2]) == [(0, 0), (4, 4)]
    assert data.StackDataset(a=Squares(3)).__getitems__([2]) == [{"a": 4}]


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((), {}, "At least one dataset"),
        ((Squares(2), Squares(3)), {}, "Size mismatch"),
        ((Squares(2),), {"b": Squares(2)}, "both types"),
    ],
)
def test_stack_dataset_argument_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.StackDataset(*args, **kwargs)


def test_concat_dataset_maps_indices_across_boundaries_and_from_the_end():
    dataset = data.ConcatDataset([Squares(2), Squares(3), Squares(1)])
    assert len(dataset) == 6
    assert dataset.cumulative_sizes == [2, 5, 6]
    assert [dataset[i] for i in range(6)] == [0, 1, 0, 1, 4, 0]
    assert dataset[-2] == 4
    with pytest.raises(ValueError, match="absolute value of index"):
        dataset[-7]


def test_concat_dataset_rejects_empty_and_iterable_datasets():
    with pytest.raises(ValueError, match="empty"):
        data.ConcatDataset([])
    with pytest.raises(TypeError, match="IterableDataset"):
        data.ConcatDataset([Stream(0, 2)])


def test_chain_dataset_sums_lengths_and_rejects_map_style_members():
    chained = data.ChainDataset([Stream(0, 3), Stream(3, 5)])
    assert len(chained) == 5
    assert list(chained) == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(data.ChainDataset([Squares(2)]))


def test_subset_reads_the_selected_indices():
    subset = data.Subset(Squares(10), [9, 3, 5])
    assert len(subset) == 3
    assert [subset[i] for i in range(3)] == [81, 9, 25]
    assert subset.__getitems__([2, 0]) == [25, 81]


def test_subset_of_tensor_dataset_keeps_the_batched_fast_path(device):
    dataset, _, _ = _tensor_dataset(device)
    batch = data.Subset(dataset, [9, 8, 7, 6]).__getitems__([0, 3])
    assert isinstance(batch, StackedSamples)
    assert batch.fields[1].tolist() == [9, 6]


def test_subset_subclass_overriding_only_getitem_is_rejected():
    class Doubled(data.Subset):
        def __getitem__(self, idx):
            return 2 * super().__getitem__(idx)

    with pytest.raises(NotImplementedError, match="__getitems__"):
        Doubled(Squares(4), [1, 2])


def test_random_split_by_lengths_gives_disjoint_subsets_covering_the_dataset():
    parts = data.random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(42))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))


def test_random_split_by_fractions_deals_the_remainder_round_robin():
    parts = data.random_split(range(11), [0.3, 0.3, 0.4], generator=ember.Generator().manual_seed(0))
    # floor gives 3, 3, 4; the one left over goes to the first split.
    assert [len(p) for p in parts] == [4, 3, 4]


def test_random_split_is_reproducible_with_a_generator_or_the_global_seed():
    def split(generator=None):
        return [p.indices for p in data.random_split(range(20), [0.5, 0.5], generator=generator)]

    assert split(ember.Generator().manual_seed(7)) == split(ember.Generator().manual_seed(7))
    ember.manual_seed(3)
    first = split()
    ember.manual_seed(3)
    assert split() == first


def test_random_split_errors_and_empty_split_warning():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0"):
        data.random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        data.random_split(range(2), [1.0, 0.0])
