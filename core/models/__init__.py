"""`ember.models`: a model zoo with torchvision's architectures, constructors and `state_dict` layout, so
torchvision checkpoints (converted with ``python -m ember convert``) load unchanged.

    import ember.models as models
    model = models.resnet18(num_classes=10)                 # random weights, PyTorch's initialisation
    model = models.resnet18(weights="IMAGENET1K_V1")        # registry weights from the local cache
    model = models.get_model("vgg11_bn", weights="/path/to/vgg11_bn.safetensors")

The registry and the cache are described in `ember.models.weights`, the converter in `ember.models.convert`.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any

from .. import nn
from .alexnet import AlexNet, alexnet
from .lenet import LeNet5, lenet5
from .mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from .vgg import VGG, vgg11, vgg11_bn, vgg16, vgg16_bn
from .weights import (
    AlexNet_Weights,
    MobileNet_V2_Weights,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    Weights,
    WeightsEnum,
)

__all__ = ["list_models", "get_model", "get_model_builder", "get_model_weights", "get_weight", "Weights",
           "WeightsEnum", "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "VGG", "vgg11",
           "vgg11_bn", "vgg16", "vgg16_bn", "AlexNet", "alexnet", "MobileNetV2", "InvertedResidual", "mobilenet_v2",
           "LeNet5", "lenet5", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "VGG11_Weights",
           "VGG11_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "AlexNet_Weights", "MobileNet_V2_Weights"]

_BUILDERS: dict[str, tuple[Callable[..., nn.Module], type[WeightsEnum] | None]] = {
    "resnet18": (resnet18, ResNet18_Weights),
    "resnet34": (resnet34, ResNet34_Weights),
    "resnet50": (resnet50, ResNet50_Weights),
    "vgg11": (vgg11, VGG11_Weights),
    "vgg11_bn": (vgg11_bn, VGG11_BN_Weights),
    "vgg16": (vgg16, VGG16_Weights),
    "vgg16_bn": (vgg16_bn, VGG16_BN_Weights),
    "alexnet": (alexnet, AlexNet_Weights),
    "mobilenet_v2": (mobilenet_v2, MobileNet_V2_Weights),
    "lenet5": (lenet5, None),
}


def list_models(include: Iterable[str] | str | None = None, exclude: Iterable[str] | str | None = None) -> list[str]:
    """The sorted names of the zoo's models, as `torchvision.models.list_models`.

    Args:
        include: shell-style patterns (``"resnet*"``); a model is listed if it matches any. Default: all.
        exclude: patterns applied after `include`; a model matching any is dropped.
    """
    names = set(_BUILDERS)
    if include:
        patterns = [include] if isinstance(include, str) else list(include)
        names = {n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)}
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else list(exclude)
        names = {n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)}
    return sorted(names)


def get_model_builder(name: str) -> Callable[..., nn.Module]:
    """The builder function registered as `name` (``"resnet18"`` gives `resnet18`)."""
    key = name.lower()
    if key not in _BUILDERS:
        raise ValueError(f"Unknown model {name}; ember.models has: {', '.join(list_models())}")
    return _BUILDERS[key][0]


def get_model(name: str, **config: Any) -> nn.Module:
    """The model registered as `name`, built with `config` (``weights=``, ``num_classes=``, ...), as
    `torchvision.models.get_model`."""
    return get_model_builder(name)(**config)


def get_model_weights(name: str | Callable[..., nn.Module]) -> type[WeightsEnum]:
    """The weights enum of a model, given its name or its builder (``get_model_weights("resnet18")`` is
    `ResNet18_Weights`).

    Raises:
        ValueError: the model is unknown or has no registry weights (``lenet5``).
    """
    if callable(name):
        matches = [key for key, (fn, _) in _BUILDERS.items() if fn is name]
        if not matches:
            raise ValueError(f"{name!r} is not a builder of ember.models")
        name = matches[0]
    get_model_builder(name)
    enum = _BUILDERS[name.lower()][1]
    if enum is None:
        raise ValueError(f"{name} has no registry weights; pass weights= the path of a checkpoint instead")
    return enum


def get_weight(name: str) -> WeightsEnum:
    """A weights enum member from its full name, e.g. ``get_weight("ResNet50_Weights.IMAGENET1K_V2")``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    enums = {enum.__name__: enum for _, enum in _BUILDERS.values() if enum is not None}
    if enum_name not in enums:
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
    return enums[enum_name].verify(value_name)
