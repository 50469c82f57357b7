"""DataLoader in the main process (num_workers=0), default_collate and default_convert: PyTorch's
argument checks, batching, shuffling reproducibility and the batched __getitems__ fast path."""
import collections

import numpy as np
import pytest

import ember
import ember.utils.data as data
from ember.utils.data.collate import StackedSamples

Point = collections.namedtuple("Point", ["x", "y"])


class Squares(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        return index * index

    def __len__(self):
        return self.n


class Stream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class NoPerSampleAccess(data.TensorDataset):
    def __getitem__(self, index):
        raise AssertionError("the DataLoader should fetch whole batches with __getitems__")


def _tensor_dataset(n=10, cls=data.TensorDataset):
    x = ember.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = ember.tensor(np.arange(n, dtype=np.int64))
    return cls(x, y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shuffle": True, "sampler": [0, 1]}, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "shuffle": True}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "sampler": [0]}, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
        ({"num_workers": -1}, "num_workers option should be non-negative"),
        ({"timeout": -1}, "timeout option should be non-negative"),
        ({"timeout": 5}, "timeout option needs num_workers > 0"),
        ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
        ({"num_workers": 1, "prefetch_factor": 0}, "prefetch_factor option should be positive"),
        ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
        ({"multiprocessing_context": "fork"}, "multiprocessing_context can only be used with multi-process loading"),
        ({"num_workers": 1, "multiprocessing_context": "teleport"}, "should specify a valid start method"),
    ],
)
def test_dataloader_rejects_inconsistent_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.DataLoader(Squares(4), **kwargs)


def test_dataloader_rejects_a_multiprocessing_context_of_the_wrong_type():
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context object"):
        data.DataLoader(Squares(4), num_workers=1, multiprocessing_context=3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shuffle": True}, "expected unspecified shuffle option"),
        ({"sampler": [0]}, "expected unspecified sampler option"),
        ({"batch_sampler": [[0]]}, "expected unspecified batch_sampler option"),
    ],
)
def test_dataloader_with_iterable_dataset_rejects_samplers_and_shuffle(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.DataLoader(Stream(4), **kwargs)


@pytest.mark.parametrize(
    "attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"]
)
def test_dataloader_attributes_that_define_the_iteration_are_frozen(attr):
    loader = data.DataLoader(Squares(4))
    with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
        setattr(loader, attr, None)


def test_dataloader_batches_a_tensor_dataset_in_order_with_a_smaller_last_batch():
    loader = data.DataLoader(_tensor_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3
    assert [tuple(x.shape) for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert [y.tolist() for _, y in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].dtype == ember.float32 and batches[0][1].dtype == ember.int64


def test_dataloader_drop_last_drops_the_incomplete_batch():
    loader = data.DataLoader(_tensor_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_dataloader_fetches_tensor_dataset_batches_without_per_sample_calls():
    loader = data.DataLoader(_tensor_dataset(10, NoPerSampleAccess), batch_size=3, shuffle=True)
    assert sorted(i for _, y in loader for i in y.tolist()) == list(range(10))


def test_dataloader_calls_getitems_once_per_batch():
    class Batched(Squares):
        calls = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [self[i] for i in indices]

    dataset = Batched(5)
    assert [b.tolist() for b in data.DataLoader(dataset, batch_size=2)] == [[0, 1], [4, 9], [16]]
    assert dataset.calls == [[0, 1], [2, 3], [4]]


def test_dataloader_batches_of_cpu_data_land_on_the_cpu_and_move_with_to(device):
    dataset = data.TensorDataset(ember.arange(12.0, device="cpu").reshape(6, 2), ember.arange(6, device="cpu"))
    x, y = next(iter(data.DataLoader(dataset, batch_size=3)))
    assert x.device == ember.device("cpu")
    moved = x.to(device)
    assert moved.device == device
    assert moved.tolist() == x.tolist()


def test_dataloader_serves_a_dataset_of_device_tensors(device):
    dataset = data.TensorDataset(ember.tensor([[1.0], [2.0], [3.0]], device=device))
    (batch,) = next(iter(data.DataLoader(dataset, batch_size=2)))
    assert batch.device == device and batch.tolist() == [[1.0], [2.0]]


def test_dataloader_shuffle_covers_the_dataset_and_differs_between_epochs():
    loader = data.DataLoader(Squares(40), batch_size=8, shuffle=True)
    first = [v for batch in loader for v in batch.tolist()]
    second = [v for batch in loader for v in batch.tolist()]
    assert sorted(first) == sorted(second) == [i * i for i in range(40)]
    assert first != second


def test_dataloader_shuffle_is_reproducible_from_manual_seed():
    loader = data.DataLoader(Squares(40), batch_size=8, shuffle=True)
    ember.manual_seed(123)
    first = [batch.tolist() for batch in loader]
    ember.manual_seed(123)
    assert [batch.tolist() for batch in loader] == first


def test_dataloader_shuffle_is_reproducible_from_a_generator():
    def epoch():
        generator = ember.Generator().manual_seed(9)
        return [b.tolist() for b in data.DataLoader(Squares(40), batch_size=8, shuffle=True, generator=generator)]

    assert epoch() == epoch()


def test_dataloader_uses_a_custom_sampler_and_batch_sampler():
    assert [b.tolist() for b in data.DataLoader(Squares(5), batch_size=2, sampler=[4, 0, 2])] == [[16, 0], [4]]
    assert [b.tolist() for b in data.DataLoader(Squares(5), batch_sampler=[[1], [3, 2]])] == [[1], [9, 4]]
    assert len(data.DataLoader(Squares(5), batch_sampler=[[1], [3, 2]])) == 2


def test_dataloader_without_batching_converts_each_sample():
    class NumpySamples(Squares):
        def __getitem__(self, index):
            return np.full(2, index, dtype=np.int32)

    items = list(data.DataLoader(NumpySamples(3), batch_size=None))
    assert all(isinstance(t, ember.Tensor) and t.dtype == ember.int32 for t in items)
    assert [t.tolist() for t in items] == [[0, 0], [1, 1], [2, 2]]


def test_dataloader_passes_the_list_of_samples_to_a_custom_collate_fn():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return [int(y) for _, y in samples]

    assert list(data.DataLoader(_tensor_dataset(5), batch_size=2, collate_fn=collate)) == [[0, 1], [2, 3], [4]]
    assert seen == [2, 2, 1]


def test_dataloader_over_an_iterable_dataset_batches_the_stream():
    assert [b.tolist() for b in data.DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in data.DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(data.DataLoader(Stream(7), batch_size=3)) == 3
    assert len(data.DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert [int(v) for v in data.DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]


@pytest.mark.parametrize(
    "batch, expected",
    [
        ([1, 2, 3], ("int64", [1, 2, 3])),
        ([1.5, 2.5], ("float64", [1.5, 2.5])),
        ([True, False], ("bool", [True, False])),
        ([np.float32(1.5), np.float32(2.0)], ("float32", [1.5, 2.0])),
        ([np.zeros(2, np.uint8), np.ones(2, np.uint8)], ("uint8", [[0, 0], [1, 1]])),
    ],
)
def test_default_collate_turns_numbers_and_arrays_into_tensors(batch, expected):
    out = data.default_collate(batch)
    assert (out.dtype.name, out.tolist()) == expected


def test_default_collate_stacks_tensors_along_a_new_first_dimension(device):
    out = data.default_collate([ember.tensor([1.0, 2.0], device=device), ember.tensor([3.0, 4.0], device=device)])
    assert out.shape == (2, 2) and out.device == device
    assert out.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_default_collate_keeps_the_structure_of_nested_samples():
    batch = [
        {"image": np.zeros((2, 2), np.float32), "meta": {"name": "a", "ids": [1, 2]}, "point": Point(1, 2.0)},
        {"image": np.ones((2, 2), np.float32), "meta": {"name": "b", "ids": [3, 4]}, "point": Point(3, 4.0)},
    ]
    out = data.default_collate(batch)
    assert out["image"].shape == (2, 2, 2)
    assert out["meta"]["name"] == ["a", "b"]
    assert [t.tolist() for t in out["meta"]["ids"]] == [[1, 3], [2, 4]]
    assert isinstance(out["point"], Point)
    assert out["point"].x.tolist() == [1, 3] and out["point"].y.dtype == ember.float64


def test_default_collate_turns_tuple_samples_into_a_list_of_fields():
    out = data.default_collate([(1, "a"), (2, "b")])
    assert isinstance(out, list)
    assert out[0].tolist() == [1, 2] and out[1] == ("a", "b")  # strings stay as zip gives them, as in PyTorch


def test_default_collate_of_stacked_samples_returns_the_stacked_fields():
    dataset = _tensor_dataset(6)
    fast = data.default_collate(dataset.__getitems__([5, 1, 3]))
    slow = data.default_collate([dataset[i] for i in [5, 1, 3]])
    assert [t.tolist() for t in fast] == [t.tolist() for t in slow]
    assert isinstance(dataset.__getitems__([0]), StackedSamples)


@pytest.mark.parametrize(
    "batch, error, message",
    [
        ([np.array(["a"]), np.array(["b"])], TypeError, "default_collate: batch must contain"),
        ([object(), object()], TypeError, "default_collate: batch must contain"),
        ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ],
)
def test_default_collate_errors(batch, error, message):
    with pytest.raises(error, match=message):
        data.default_collate(batch)


def test_default_convert_converts_numpy_inside_structures_only():
    out = data.default_convert({"a": np.arange(3), "b": (np.float64(2.0), "text"), "c": np.array(["s"])})
    assert isinstance(out["a"], ember.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and out["b"][0].item() == 2.0 and out["b"][1] == "text"
    assert isinstance(out["c"], np.ndarray)
    point = data.default_convert(Point(np.int64(1), 2))
    assert isinstance(point, Point) and point.x.item() == 1 and point.y == 2
