"""LeNet-5 for small grayscale images such as MNIST digits (torchvision has no LeNet).

The layers are LeCun's (two 5x5 convolutions with 6 and 16 channels, then 120, 84 and `num_classes`
units) with today's ReLU and max pooling. The network is defined on 32x32 inputs; a 28x28 input (MNIST)
is zero-padded by 2 pixels on each side first, as LeCun padded MNIST, so one set of weights serves both.
"""
from __future__ import annotations

from typing import Any

from .. import flatten, nn
from ..nn import functional as F
from ..tensor import Tensor
from .weights import load_weights, resolve

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5 over (N, C, 32, 32) or (N, C, 28, 28) images, returning (N, num_classes) logits.

    Args:
        num_classes: the size of the output layer. Default: 10.
        in_channels: the number of image channels. Default: 1.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),
            nn.Linear(120, 84), nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, 32, 32) or (N, C, 28, 28) images to (N, num_classes) logits."""
        size = tuple(x.shape[-2:])
        if size == (28, 28):
            x = F.pad(x, (2, 2, 2, 2))
        elif size != (32, 32):
            raise ValueError(f"LeNet5 expects 32x32 or 28x28 images, got input of shape {tuple(x.shape)}; resize "
                             f"or pad the images to 32x32")
        return self.classifier(flatten(self.features(x), 1))


def lenet5(*, weights: str | None = None, progress: bool = True, **kwargs: Any) -> LeNet5:
    """LeNet-5 for 1x32x32 or 1x28x28 images (see `LeNet5`); PyTorch's default initialisation.

    Args:
        weights: None, or the path of a checkpoint file (there are no registry weights for LeNet-5).
        progress: unused (no registry weights to download); accepted for the zoo's common signature.
        **kwargs: passed to `LeNet5` (``num_classes``, ``in_channels``).
    """
    weights = resolve(None, weights, kwargs)
    model = LeNet5(**kwargs)
    load_weights(model, weights, progress)
    return model
