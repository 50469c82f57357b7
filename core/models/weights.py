"""The weight registry: which pretrained files each architecture knows, where ember finds them, and how
they are checked, as torchvision's `WeightsEnum` (``ResNet18_Weights.IMAGENET1K_V1``).

ember never unpickles PyTorch's ``.pth`` format itself, so registry weights live in the cache as ember
checkpoints (safetensors files written by `ember.save`) under ``ember.hub.get_dir()/checkpoints``
(``$EMBER_HOME/hub/checkpoints``, default ``~/.cache/ember/hub/checkpoints``), named after torchvision's
file with a ``.safetensors`` suffix: ``resnet18-f37072fd.safetensors``. `WeightsEnum.get_state_dict` looks
there first; failing that it converts torchvision's original file placed next to it
(``resnet18-f37072fd.pth``, checked against the hash prefix in its name), or downloads and converts it
(both need PyTorch to read the file). When none of that works, the error names the path to put the file
at, the URL of the original and the ``python -m ember convert`` command that converts it.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..tensor import Tensor

__all__ = ["Weights", "WeightsEnum", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights",
           "VGG11_Weights", "VGG11_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "AlexNet_Weights",
           "MobileNet_V2_Weights", "checkpoints_dir"]

_HASH_PREFIX = re.compile(r"-([a-f0-9]*)\.")  # torchvision's (and torch.hub's) "name-<sha256 prefix>.pth"


@dataclass(frozen=True)
class Weights:
    """One known weight file.

    Args:
        url: where torchvision publishes the original PyTorch file.
        arch: the `ember.models` builder the weights fit (``"resnet18"``).
        meta: ``num_params``, ``num_classes``, ``min_size`` and the preprocessing the weights expect:
            ``resize_size``, ``crop_size``, ``mean``, ``std``, ``interpolation``.
        sha256: the full SHA-256 of the original file when known; else the hash prefix in its name is
            checked.
    """

    url: str
    arch: str
    meta: dict[str, Any] = field(hash=False)
    sha256: str | None = None

    @property
    def file_name(self) -> str:
        """The original file's name, e.g. ``resnet18-f37072fd.pth``."""
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str | None:
        """The leading hex digits of the original file's SHA-256, taken from its name as torch.hub does."""
        match = _HASH_PREFIX.search(self.file_name)
        return match.group(1) if match else None

    @property
    def checkpoint_name(self) -> str:
        """The ember checkpoint's file name in the cache, e.g. ``resnet18-f37072fd.safetensors``."""
        return os.path.splitext(self.file_name)[0] + ".safetensors"


class WeightsEnum(Enum):
    """The base of every architecture's weights enum; each member's value is a `Weights`."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """`obj` as a member of this enum: None stays None, a name (``"IMAGENET1K_V1"``, ``"DEFAULT"`` or
        ``"ResNet18_Weights.IMAGENET1K_V1"``) is looked up; anything else must already be a member."""
        if obj is None:
            return None
        if type(obj) is str:
            name = obj.replace(cls.__name__ + ".", "")
            if name not in cls.__members__:
                raise ValueError(f"{cls.__name__} has no weights named {obj!r}; known: "
                                 f"{', '.join(cls.__members__)}")
            return cls[name]
        if not isinstance(obj, cls):
            raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                            f"{type(obj).__name__}.")
        return obj

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"

    @property
    def url(self) -> str:
        """The URL of the original PyTorch file."""
        return self.value.url

    @property
    def meta(self) -> dict[str, Any]:
        """The weights' metadata (see `Weights`)."""
        return self.value.meta

    def transforms(self) -> Callable[[Tensor], Tensor]:
        """The evaluation preprocessing for a float (C, H, W) image in [0, 1]: resize, center crop, normalize
        (torchvision's ``ImageClassification`` preset for these weights)."""
        from .. import transforms as T

        meta = self.meta
        return T.Compose([T.Resize(meta["resize_size"], interpolation=meta["interpolation"], antialias=True),
                          T.CenterCrop(meta["crop_size"]), T.Normalize(meta["mean"], meta["std"])])

    @property
    def path(self) -> str:
        """Where the ember checkpoint of these weights lives in the cache."""
        return os.path.join(checkpoints_dir(), self.value.checkpoint_name)

    def get_state_dict(self, progress: bool = True, check_hash: bool = True) -> dict[str, Tensor]:
        """The weights as a state dict of CPU tensors, from the cache (see the module docstring).

        Args:
            progress: show a progress bar while downloading. Default: True.
            check_hash: check the original PyTorch file's SHA-256 (or the prefix in its name) before
                converting it. The ember checkpoint itself is verified by `ember.load`'s checksums.

        Raises:
            FileNotFoundError: the weights are not in the cache and could not be downloaded and converted;
                the message says where to put them and how to convert torchvision's file.
        """
        from .. import load

        if not os.path.exists(self.path):
            self._install(progress, check_hash)
        return load(self.path, map_location="cpu")

    def _install(self, progress: bool, check_hash: bool) -> None:
        """Convert the original file into the cache, downloading it first when it is not there."""
        original = os.path.join(checkpoints_dir(), self.value.file_name)
        present = os.path.exists(original)
        if present and check_hash:
            _check_sha256(original, self.value)
        if not _torch_available():
            raise FileNotFoundError(self._missing_message(
                original, f"PyTorch, needed to read {original if present else 'the original file'}, is not installed"))
        if not present:
            from .. import hub

            os.makedirs(checkpoints_dir(), exist_ok=True)
            try:
                hub.download_url_to_file(self.url, original, hash_prefix=self.value.hash_prefix if check_hash
                                         else None, progress=progress)
            except OSError as exc:  # urllib's URLError is an OSError: no network, proxy, HTTP error
                raise FileNotFoundError(self._missing_message(original, f"downloading failed: {exc}")) from exc
        from .convert import convert_checkpoint

        convert_checkpoint(original, self.path, arch=self.value.arch)

    def _missing_message(self, original: str, why: str) -> str:
        name = self.value.file_name
        return (f"{self!r}: the ember checkpoint {self.path} does not exist and could not be made ({why}). "
                f"Download the original PyTorch file from {self.url} and either convert it yourself "
                f"(needs `pip install torch`):\n"
                f"    python -m ember convert {name} {self.path} --arch {self.value.arch}\n"
                f"or, with PyTorch installed, put it at {original} and it is converted on first use.")


def checkpoints_dir() -> str:
    """``ember.hub.get_dir()/checkpoints``: where registry weights are cached."""
    from .. import hub

    return os.path.join(hub.get_dir(), "checkpoints")


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None  # without importing it (seconds)


def _check_sha256(path: str, weights: Weights) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    actual = digest.hexdigest()
    expected = weights.sha256 or weights.hash_prefix
    if expected and not actual.startswith(expected):
        raise RuntimeError(f'invalid hash value (expected "{expected}", got "{actual}") for {path}: the file is '
                           f"damaged or is not {weights.file_name}; delete it and download {weights.url} again")


def resolve(enum: type[WeightsEnum] | None, weights: Any, kwargs: dict[str, Any]) -> WeightsEnum | str | None:
    """The `weights=` argument of a builder as an `enum` member, a checkpoint path, or None.

    A registry member also fixes ``num_classes`` in `kwargs` to its number of classes (another value raises
    ValueError, as in torchvision). `enum` is None for an architecture without registry weights.
    """
    if isinstance(weights, os.PathLike) or (type(weights) is str and _is_path(enum, weights)):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            known = f" (and it is not one of {enum.__name__}: {', '.join(enum.__members__)})" if enum else ""
            raise FileNotFoundError(f"weights={weights!r}: no checkpoint file at {os.path.abspath(path)}{known}")
        return path
    if enum is None:
        if weights is None:
            return None
        raise TypeError(f"weights must be None or the path of a checkpoint file (this architecture has no "
                        f"registry weights), got {weights!r}")
    member = enum.verify(weights)
    if member is not None:
        _overwrite_named_param(kwargs, "num_classes", member.meta["num_classes"])
    return member


def _is_path(enum: type[WeightsEnum] | None, name: str) -> bool:
    if enum is None:
        return True
    if name.replace(enum.__name__ + ".", "") in enum.__members__:
        return False
    return os.sep in name or "/" in name or os.path.splitext(name)[1] != "" or os.path.exists(name)


def _overwrite_named_param(kwargs: dict[str, Any], param: str, new_value: Any) -> None:
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def load_weights(model: Any, weights: WeightsEnum | str | None, progress: bool) -> None:
    """Load resolved `weights` (see `resolve`) into `model`, strictly."""
    if weights is None:
        return
    if isinstance(weights, WeightsEnum):
        state_dict = weights.get_state_dict(progress=progress, check_hash=True)
    else:
        from .convert import read_checkpoint

        state_dict = read_checkpoint(weights)
    model.load_state_dict(state_dict)


_IMAGENET = {"num_classes": 1000, "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225),
             "interpolation": "bilinear", "crop_size": 224, "resize_size": 256}
_RESIZE_232 = {**_IMAGENET, "resize_size": 232}
_URL = "https://download.pytorch.org/models/"


class ResNet18_Weights(WeightsEnum):
    """Weights for `resnet18`."""

    IMAGENET1K_V1 = Weights(_URL + "resnet18-f37072fd.pth", "resnet18",
                            {**_IMAGENET, "num_params": 11689512, "min_size": (1, 1)})
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    """Weights for `resnet34`."""

    IMAGENET1K_V1 = Weights(_URL + "resnet34-b627a593.pth", "resnet34",
                            {**_IMAGENET, "num_params": 21797672, "min_size": (1, 1)})
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    """Weights for `resnet50`."""

    IMAGENET1K_V1 = Weights(_URL + "resnet50-0676ba61.pth", "resnet50",
                            {**_IMAGENET, "num_params": 25557032, "min_size": (1, 1)})
    IMAGENET1K_V2 = Weights(_URL + "resnet50-11ad3fa6.pth", "resnet50",
                            {**_RESIZE_232, "num_params": 25557032, "min_size": (1, 1)})
    DEFAULT = IMAGENET1K_V2


class VGG11_Weights(WeightsEnum):
    """Weights for `vgg11`."""

    IMAGENET1K_V1 = Weights(_URL + "vgg11-8a719046.pth", "vgg11",
                            {**_IMAGENET, "num_params": 132863336, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    """Weights for `vgg11_bn`."""

    IMAGENET1K_V1 = Weights(_URL + "vgg11_bn-6002323d.pth", "vgg11_bn",
                            {**_IMAGENET, "num_params": 132868840, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    """Weights for `vgg16`."""

    IMAGENET1K_V1 = Weights(_URL + "vgg16-397923af.pth", "vgg16",
                            {**_IMAGENET, "num_params": 138357544, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    """Weights for `vgg16_bn`."""

    IMAGENET1K_V1 = Weights(_URL + "vgg16_bn-6c64b313.pth", "vgg16_bn",
                            {**_IMAGENET, "num_params": 138365992, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class AlexNet_Weights(WeightsEnum):
    """Weights for `alexnet`."""

    IMAGENET1K_V1 = Weights(_URL + "alexnet-owt-7be5be79.pth", "alexnet",
                            {**_IMAGENET, "num_params": 61100840, "min_size": (63, 63)})
    DEFAULT = IMAGENET1K_V1


class MobileNet_V2_Weights(WeightsEnum):
    """Weights for `mobilenet_v2`."""

    IMAGENET1K_V1 = Weights(_URL + "mobilenet_v2-b0353104.pth", "mobilenet_v2",
                            {**_IMAGENET, "num_params": 3504872, "min_size": (1, 1)})
    IMAGENET1K_V2 = Weights(_URL + "mobilenet_v2-7ebf99e0.pth", "mobilenet_v2",
                            {**_RESIZE_232, "num_params": 3504872, "min_size": (1, 1)})
    DEFAULT = IMAGENET1K_V2
