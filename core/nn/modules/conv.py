"""Convolution layers: `Conv1d`, `Conv2d`, `Conv3d`, `ConvTranspose1d`, `ConvTranspose2d`."""
from __future__ import annotations


from ...arguments import int_arg
from ...creation import empty
from ...tensor import Tensor
from .. import functional as F, init
from ..functional.conv import ntuple
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared state of the convolution layers: hyper-parameters, weight, bias and PyTorch's default init."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, padding, dilation, groups: int,
                 bias: bool, padding_mode: str, output_padding=0, device=None, dtype=None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        in_channels = int_arg(in_channels, name, "in_channels")
        out_channels = int_arg(out_channels, name, "out_channels")
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups (in_channels={in_channels}, "
                             f"groups={groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups (out_channels={out_channels}, "
                             f"groups={groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode="
                             f"'{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name)
        self.stride = ntuple(stride, n, "stride", name)
        self.dilation = ntuple(dilation, n, "dilation", name)
        self.output_padding = ntuple(output_padding, n, "output_padding", name)
        self.transposed, self.padding_mode = self._transposed, padding_mode
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of ['same', 'valid']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
            total = [0 if padding == "valid" else d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            halves = [(t // 2, t - t // 2) for t in total]
        else:
            self.padding = ntuple(padding, n, "padding", name)
            halves = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = tuple(p for pair in reversed(halves) for p in pair)
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight from `kaiming_uniform_(a=sqrt(5))`, bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch."""
        init._layer_default_(self.weight, self.bias)

    def extra_repr(self) -> str:
        n = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._dims - 1]
        if self.padding_mode != "zeros":
            return conv(F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                        self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) or (C_in, L) inputs, as `torch.nn.Conv1d`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0 (int, 'valid' or 'same'),
    dilation=1, groups=1, bias=True, padding_mode='zeros' ('reflect', 'replicate', 'circular').
    weight: (out_channels, in_channels/groups, kernel_size); bias: (out_channels,).
    Output: (N, C_out, L_out), L_out = (L + 2*padding - dilation*(kernel_size-1) - 1) // stride + 1.
    """

    _dims = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) inputs, as `torch.nn.Conv2d`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0 (int, pair, 'valid' or 'same'),
    dilation=1, groups=1, bias=True, padding_mode='zeros' ('reflect', 'replicate', 'circular').
    weight: (out_channels, in_channels/groups, kH, kW); bias: (out_channels,).
    Output: (N, C_out, H_out, W_out), H_out = (H + 2*padding[0] - dilation[0]*(kH-1) - 1) // stride[0] + 1.
    """

    _dims = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W) inputs, as `torch.nn.Conv3d`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0 (int, triple, 'valid' or 'same'),
    dilation=1, groups=1, bias=True, padding_mode='zeros' ('reflect', 'replicate', 'circular').
    weight: (out_channels, in_channels/groups, kD, kH, kW); bias: (out_channels,).
    Output: (N, C_out, D_out, H_out, W_out), D_out = (D + 2*padding[0] - dilation[0]*(kD-1) - 1) // stride[0] + 1.
    """

    _dims = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise TypeError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """output_padding that gives `output_size` (PyTorch's rule), or the layer's own when None."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        lead = 2 if input.ndim == n + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} or {lead + n} "
                             f"elements (got {len(output_size)})")
        smallest = [(input.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        largest = [s + self.stride[d] - 1 for d, s in enumerate(smallest)]
        for size, lo, hi in zip(output_size, smallest, largest):
            if not lo <= size <= hi:
                raise ValueError(f"requested an output size of {list(output_size)}, but valid sizes range from "
                                 f"{smallest} to {largest} (for an input of {list(input.shape[lead:])})")
        return tuple(size - lo for size, lo in zip(output_size, smallest))

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        conv = F.conv_transpose2d if self._dims == 2 else F.conv_transpose1d
        return conv(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L) inputs, as `torch.nn.ConvTranspose1d`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
    bias=True, dilation=1. weight: (in_channels, out_channels/groups, kernel_size).
    Output length (L-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1;
    `forward(input, output_size)` picks output_padding to reach `output_size`.
    """

    _dims = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W) inputs, as `torch.nn.ConvTranspose2d`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
    bias=True, dilation=1. weight: (in_channels, out_channels/groups, kH, kW).
    H_out = (H-1)*stride[0] - 2*padding[0] + dilation[0]*(kH-1) + output_padding[0] + 1, likewise W_out;
    `forward(input, output_size)` picks output_padding to reach `output_size`.
    """

    _dims = 2
