"""``Digits``: scikit-learn's bundled 8x8 handwritten digits, split into fixed train and test sets."""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

import ember
from ember.utils.data import Dataset

__all__ = ["Digits"]

_TEST_FRACTION = 0.2
_SPLIT_SEED = 0


@functools.lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return all 1797 images as uint8 in [0, 255] (N x 8 x 8) and their int64 labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "ember.data.datasets.Digits needs scikit-learn, which is not installed: pip install ember[examples]"
        ) from error
    bunch = load_digits()
    # The bundled pixels are counts in [0, 16]; scale them to the 8-bit range images use.
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    return images, bunch.target.astype(np.int64)


class Digits(Dataset):
    """scikit-learn's bundled handwritten digits: 1797 grayscale 8x8 images of 0-9, offline.

    The images are split once, by a fixed seeded permutation (the same on every machine), into
    1438 training and 359 test images; each split keeps the bundled order.

    Args:
        train (bool): the training split if ``True`` (default), else the test split.
        transform (callable, optional): applied to the image, an 8x8 ``uint8`` numpy array (HxW,
            values in [0, 255]); ``ember.transforms.ToTensor()`` makes it a 1x8x8 float tensor in [0, 1].
        target_transform (callable, optional): applied to the label, an ``int``.

    Attributes:
        data (Tensor): the split's images, ``uint8`` of shape (N, 8, 8).
        targets (Tensor): the split's labels, ``int64`` of shape (N,).
        classes (list[str]): the class names, ``"0"`` to ``"9"``.

    Raises ``ImportError`` naming the extra to install (``pip install ember[examples]``) when
    scikit-learn is missing.
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(
        self,
        train: bool = True,
        transform: Callable[[np.ndarray], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
    ) -> None:
        images, labels = _load_digits()
        order = np.random.RandomState(_SPLIT_SEED).permutation(len(images))
        n_test = int(len(images) * _TEST_FRACTION)
        split = np.sort(order[n_test:] if train else order[:n_test])
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self._images = images[split]
        self._labels = labels[split]
        self.data = ember.from_numpy(self._images)
        self.targets = ember.from_numpy(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(self._images)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"Digits(split={split}, size={len(self)}, transform={self.transform!r})"
