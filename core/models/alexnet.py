"""AlexNet (the "one weird trick" variant) as in torchvision (`torchvision.models.alexnet`): the same
constructor, module names, `state_dict` keys and shapes; every layer keeps PyTorch's default
initialisation, as in torchvision."""
from __future__ import annotations

from typing import Any

from .. import flatten, nn
from ..tensor import Tensor
from .weights import AlexNet_Weights, load_weights, resolve

__all__ = ["AlexNet", "alexnet", "AlexNet_Weights"]


class AlexNet(nn.Module):
    """AlexNet over (N, 3, H, W) images (H, W >= 63), returning (N, num_classes) logits.

    Args:
        num_classes: the size of the last classifier layer. Default: 1000.
        dropout: the dropout probability of the classifier. Default: 0.5.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) images to (N, num_classes) logits."""
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def alexnet(*, weights: AlexNet_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> AlexNet:
    """AlexNet from `One weird trick for parallelizing convolutional neural networks`, as
    `torchvision.models.alexnet`.

    Args:
        weights: None (PyTorch's default initialisation), an `AlexNet_Weights` member or its name
            (``"DEFAULT"``), or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `AlexNet` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    weights = resolve(AlexNet_Weights, weights, kwargs)
    model = AlexNet(**kwargs)
    load_weights(model, weights, progress)
    return model
