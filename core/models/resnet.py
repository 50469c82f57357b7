"""ResNet-18/34/50 as in torchvision (`torchvision.models.resnet`): the same constructors, module names,
`state_dict` keys and shapes, and initialisation, so torchvision checkpoints load unchanged."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import flatten, nn
from ..tensor import Tensor
from .weights import ResNet18_Weights, ResNet34_Weights, ResNet50_Weights, WeightsEnum, load_weights, resolve

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""

    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise ValueError(f"BasicBlock only supports dilation=1, got {dilation}")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        """The residual branch plus the (downsampled) input, through ReLU."""
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1, 3x3, 1x1 convolutions with a residual connection (ResNet-50); the stride sits on the 3x3
    convolution (ResNet V1.5), as in torchvision."""

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        """The residual branch plus the (downsampled) input, through ReLU."""
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """A residual network over (N, 3, H, W) images, returning (N, num_classes) logits.

    Args:
        block: `BasicBlock` or `Bottleneck`.
        layers: the number of blocks in each of the four stages.
        num_classes: the size of the output layer ``fc``. Default: 1000.
        zero_init_residual: initialise the last BatchNorm of each block to zero, so each block starts as
            an identity. Default: False.
        groups, width_per_group: the grouped-convolution width of `Bottleneck` (ResNeXt). Defaults: 1, 64.
        replace_stride_with_dilation: three booleans, one per stage 2-4: dilate instead of striding.
        norm_layer: the normalisation layer. Default: `nn.BatchNorm2d`.
    """

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int], num_classes: int = 1000,
                 zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
                 replace_stride_with_dilation: list[bool] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None "
                             f"or a 3-element tuple, got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) images to (N, num_classes) logits."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = flatten(self.avgpool(x), 1)
        return self.fc(x)


def _resnet(block: type[BasicBlock | Bottleneck], layers: list[int], weights: WeightsEnum | str | None,
            progress: bool, enum: type[WeightsEnum], **kwargs: Any) -> ResNet:
    weights = resolve(enum, weights, kwargs)
    model = ResNet(block, layers, **kwargs)
    load_weights(model, weights, progress)
    return model


def resnet18(*, weights: ResNet18_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-18 from `Deep Residual Learning for Image Recognition`, as `torchvision.models.resnet18`.

    Args:
        weights: None (PyTorch's default initialisation), a `ResNet18_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `ResNet` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, ResNet18_Weights, **kwargs)


def resnet34(*, weights: ResNet34_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-34 from `Deep Residual Learning for Image Recognition`, as `torchvision.models.resnet34`.

    Args:
        weights: None (PyTorch's default initialisation), a `ResNet34_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `ResNet` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, ResNet34_Weights, **kwargs)


def resnet50(*, weights: ResNet50_Weights | str | None = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-50 (V1.5: the stride on the 3x3 convolution), as `torchvision.models.resnet50`.

    Args:
        weights: None (PyTorch's default initialisation), a `ResNet50_Weights` member or its name (``"DEFAULT"``),
            or the path of a checkpoint file (see `ember.models.weights`).
        progress: show a progress bar when downloading. Default: True.
        **kwargs: passed to `ResNet` (e.g. ``num_classes``; with registry weights it must match theirs).
    """
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, ResNet50_Weights, **kwargs)
