"""Bundled datasets: Digits (scikit-learn's digits, a fixed offline split) and FakeData; the ember.data alias."""
import sys

import numpy as np
import pytest

import ember
import ember.data
import ember.utils.data
from ember import transforms
from ember.data.datasets import Digits, FakeData
from ember.data.datasets import digits as digits_module


def test_ember_data_is_an_alias_of_ember_utils_data():
    assert ember.data.DataLoader is ember.utils.data.DataLoader
    assert ember.data.TensorDataset is ember.utils.data.TensorDataset
    assert set(ember.utils.data.__all__) <= set(ember.data.__all__)


def test_digits_splits_the_1797_images_into_fixed_disjoint_train_and_test_sets():
    pytest.importorskip("sklearn")
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1438, 359)
    assert train.data.shape == (1438, 8, 8) and train.data.dtype == ember.uint8
    assert train.targets.dtype == ember.int64 and set(train.targets.tolist()) == set(range(10))
    # The split is the same every time: no global RNG takes part in it.
    ember.manual_seed(1)
    np.testing.assert_array_equal(Digits(train=False).data.numpy(), test.data.numpy())
    # Together the two splits are exactly the bundled images, each once.
    split_rows = sorted(row.tobytes() for row in np.concatenate([train.data.numpy(), test.data.numpy()]))
    assert split_rows == sorted(row.tobytes() for row in digits_module._load_digits()[0])


def test_digits_samples_are_uint8_images_and_int_labels_until_transformed():
    pytest.importorskip("sklearn")
    image, label = Digits()[0]
    assert image.shape == (8, 8) and image.dtype == np.uint8
    assert Digits().data.numpy().max() == 255
    assert isinstance(label, int)
    tensor, target = Digits(transform=transforms.ToTensor(), target_transform=lambda y: y + 100)[0]
    assert tensor.shape == (1, 8, 8) and tensor.dtype == ember.float32
    np.testing.assert_allclose(tensor.numpy()[0], image / 255.0, rtol=1e-6)
    assert target == label + 100


def test_digits_loads_in_batches_through_the_dataloader():
    pytest.importorskip("sklearn")
    loader = ember.data.DataLoader(Digits(train=False, transform=transforms.ToTensor()), batch_size=100)
    images, labels = next(iter(loader))
    assert images.shape == (100, 1, 8, 8) and labels.dtype == ember.int64
    assert len(loader) == 4


def test_digits_without_scikit_learn_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    digits_module._load_digits.cache_clear()
    with pytest.raises(ImportError, match=r"pip install ember\[examples\]"):
        Digits()
    digits_module._load_digits.cache_clear()


def test_fake_data_items_are_fixed_random_images_and_labels():
    dataset = FakeData(size=5, image_size=(3, 6, 4), num_classes=3)
    image, label = dataset[2]
    assert len(dataset) == 5
    assert image.shape == (6, 4, 3) and image.dtype == np.uint8
    assert 0 <= label < 3
    np.testing.assert_array_equal(dataset[2][0], image)
    assert not np.array_equal(dataset[3][0], image)
    assert not np.array_equal(FakeData(5, (3, 6, 4), 3, random_offset=1)[2][0], image)
    np.testing.assert_array_equal(dataset[-3][0], image)


def test_fake_data_applies_transforms_and_batches():
    dataset = FakeData(size=6, image_size=(1, 5, 5), transform=transforms.ToTensor(), target_transform=float)
    images, labels = next(iter(ember.data.DataLoader(dataset, batch_size=4)))
    assert images.shape == (4, 1, 5, 5) and images.dtype == ember.float32
    assert labels.dtype == ember.float64


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": -1}, "size should be non-negative"),
        ({"image_size": (4, 4)}, r"image_size should be \(C, H, W\)"),
        ({"num_classes": 0}, "num_classes should be positive"),
        ({"random_offset": -2}, "random_offset should be non-negative"),
    ],
)
def test_fake_data_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FakeData(**kwargs)


def test_fake_data_index_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match="out of range"):
        FakeData(size=3)[3]
