"""``FakeData``: random images with random labels, for tests and benchmarks."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ember.utils.data import Dataset

__all__ = ["FakeData"]


class FakeData(Dataset):
    """A dataset of random images and labels; item ``i`` is the same on every access and machine.

    Args:
        size (int): number of samples (default 1000).
        image_size (tuple): image shape as (C, H, W) (default (3, 224, 224)).
        num_classes (int): number of classes (default 10).
        transform (callable, optional): applied to the image, an HxWxC ``uint8`` numpy array;
            ``ember.transforms.ToTensor()`` makes it a CxHxW float tensor in [0, 1].
        target_transform (callable, optional): applied to the label, an ``int`` in ``[0, num_classes)``.
        random_offset (int): offset of the per-item seeds, to get another fixed dataset (default 0).
    """

    def __init__(
        self,
        size: int = 1000,
        image_size: Sequence[int] = (3, 224, 224),
        num_classes: int = 10,
        transform: Callable[[np.ndarray], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        random_offset: int = 0,
    ) -> None:
        if size < 0:
            raise ValueError(f"FakeData size should be non-negative, but got size={size}")
        if len(image_size) != 3:
            raise ValueError(f"FakeData image_size should be (C, H, W), but got image_size={tuple(image_size)}")
        if num_classes <= 0:
            raise ValueError(f"FakeData num_classes should be positive, but got num_classes={num_classes}")
        if random_offset < 0:
            raise ValueError(f"FakeData random_offset should be non-negative, but got random_offset={random_offset}")
        self.size = size
        self.image_size = tuple(image_size)
        self.num_classes = num_classes
        self.transform = transform
        self.target_transform = target_transform
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData index {index} out of range for size {self.size}")
        index %= self.size
        # Seeding by index (not from a shared stream) makes an item independent of access order
        # and of the worker that loads it.
        rng = np.random.default_rng(index + self.random_offset)
        channels, height, width = self.image_size
        image = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
        target = int(rng.integers(0, self.num_classes))
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"FakeData(size={self.size}, image_size={self.image_size}, num_classes={self.num_classes})"
