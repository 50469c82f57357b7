"""VGG-11 and VGG-16, with and without BatchNorm, as in torchvision (`torchvision.models.vgg`): the same
constructors, module names, `state_dict` keys and shapes, and initialisation."""
from __future__ import annotations

from typing import Any

from .. import flatten, nn
from ..tensor import Tensor
from .weights import (
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    WeightsEnum,
    load_weights,
    resolve,
)

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "make_layers",
           "VGG11_Weights", "VGG11_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights"]


class VGG(nn.Module):
    """A VGG network over (N, 3, H, W) images (H, W >= 32), returning (N, num_classes) logits.

    Args:
        features: the convolutional part (see `make_layers`).
        num_classes: the size of the last classifier layer. Default: 1000.
        init_weights: torchvision's initialisation (kaiming normal convolutions, N(0, 0.01) linear layers,
            zero biases); False keeps each layer's default. Default: True.
        dropout: the dropout probability of the classifier. Default: 0.5.
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) images to (N, num_classes) logits."""
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def make_layers(cfg: list[str | int], batch_norm: bool = False) -> nn.Sequential:
    """The convolutional layers of a VGG: an int is a 3x3 convolution with that many channels (then
    BatchNorm when `batch_norm`, then ReLU), ``"M"`` a 2x2 max pooling."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = int(v)
    return nn.Sequential(*layers)


cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


def _vgg(cfg: str, batch_norm: bool, weights: WeightsEnum | str | None, progress: bool, enum: type[WeightsEnum],
         **kwargs: Any) -> VGG:
    weights = resolve(enum, weights, kwargs)
    if weights is not None:
        kwargs["init_weights"] = False  # every parameter is overwritten by the weights
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    load_weights(model, weights, progress)
    return model


def vgg11(*, weights: VGG11_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 (configuration "A"), as `torchvision.models.vgg11`.

    Args:
        weights: None (torchvision's initialisation), a `VGG11_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `VGG` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _vgg("A", False, weights, progress, VGG11_Weights, **kwargs)


def vgg11_bn(*, weights: VGG11_BN_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 with BatchNorm, as `torchvision.models.vgg11_bn`.

    Args:
        weights: None (torchvision's initialisation), a `VGG11_BN_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `VGG` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _vgg("A", True, weights, progress, VGG11_BN_Weights, **kwargs)


def vgg16(*, weights: VGG16_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 (configuration "D"), as `torchvision.models.vgg16`.

    Args:
        weights: None (torchvision's initialisation), a `VGG16_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `VGG` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _vgg("D", False, weights, progress, VGG16_Weights, **kwargs)


def vgg16_bn(*, weights: VGG16_BN_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 with BatchNorm, as `torchvision.models.vgg16_bn`.

    Args:
        weights: None (torchvision's initialisation), a `VGG16_BN_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `VGG` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _vgg("D", True, weights, progress, VGG16_BN_Weights, **kwargs)
