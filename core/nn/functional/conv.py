"""Convolutions, as `torch.nn.functional`: conv1d, conv2d, conv_transpose1d, conv_transpose2d.

Argument checks and padding rules; the ops (`ember.ops.convolution`) run on the backend's conv2d
kernels, 1-D calls adding a unit height.
"""
from __future__ import annotations

import operator

from ...ops.convolution import Convolution, ConvolutionInputGrad
from ...tensor import Tensor
from .padding import pad as _pad

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def ntuple(value, n: int, name: str, op: str) -> tuple:
    """`value` (an int or a sequence of n ints) as a tuple of n ints, as PyTorch's `_pair`; a float or a
    string is a TypeError, never truncated or parsed."""
    if isinstance(value, int):
        return (value,) * n
    try:
        out = tuple(map(operator.index, value))
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values to match "
                           f"the convolution dimensions, but got {name}={list(out)}")
    return out


def _check_operands(op: str, dims: int, input: Tensor, weight: Tensor, bias, groups: int, transposed: bool) -> None:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {op}, but got "
                           f"input of size: {list(input.shape)}")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected a {dims + 2}-D weight, got weight of shape {tuple(weight.shape)}")
    if not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    if not input.dtype.is_floating_point or input.dtype is not weight.dtype:
        raise RuntimeError(f"{op}: expected floating point input and weight of one dtype, got input {input.dtype} "
                           f"and weight {weight.dtype}; convert with .to(weight.dtype)")
    if input.device is not weight.device:
        raise RuntimeError(f"{op}: input is on {input.device} but weight is on {weight.device}; move one with .to()")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight.shape)} instead")
    in_channels, out_channels = weight.shape[1] * groups, weight.shape[0]
    if transposed:
        in_channels, out_channels = out_channels, in_channels
    channels = input.shape[-dims - 1]
    if channels != in_channels:
        raise RuntimeError(f"{op}: expected input with {in_channels} channels (weight {tuple(weight.shape)}, groups "
                           f"{groups}), got input of shape {tuple(input.shape)}")
    if bias is not None:
        if not isinstance(bias, Tensor) or bias.shape != (out_channels,):
            raise RuntimeError(f"{op}: expected bias of shape ({out_channels},), got "
                               f"{tuple(bias.shape) if isinstance(bias, Tensor) else type(bias).__name__}")
        if bias.dtype is not input.dtype or bias.device is not input.device:
            raise RuntimeError(f"{op}: bias ({bias.dtype} on {bias.device}) must match the input ({input.dtype} on "
                               f"{input.device}); convert it with .to(input)")


def _positive(values: tuple, name: str, op: str) -> None:
    if any(v <= 0 for v in values):
        raise RuntimeError(f"{op}: {name} must be positive, got {name}={values}")


def _as_2d(t: Tensor, dims: int) -> Tensor:
    """A 1-D convolution's (N, C, L) operand as (N, C, 1, L)."""
    return t if dims == 2 else t.unsqueeze(-2)


def _lift(values: tuple, fill: int, dims: int) -> tuple:
    return values if dims == 2 else (fill,) + values


def prepare_conv(op: str, dims: int, input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups):
    """PyTorch's argument checks and padding rules of a `dims`-D convolution: (input batched and with any
    odd 'same' padding applied, stride, padding, dilation, padded size, effective kernel size, unbatched)."""
    _check_operands(op, dims, input, weight, bias, groups, False)
    stride, dilation = ntuple(stride, dims, "stride", op), ntuple(dilation, dims, "dilation", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    kernel = weight.shape[2:]
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            if any(t % 2 for t in total):  # PyTorch puts the odd element on the right
                extra = []
                for t in reversed(total):
                    extra += [0, t % 2]
                x = _pad(x, tuple(extra))
            padding = tuple(t // 2 for t in total)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    else:
        padding = ntuple(padding, dims, "padding", op)
        if any(p < 0 for p in padding):
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}")
    size = x.shape[2:]
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    effective = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(e > p for e, p in zip(effective, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual input size")
    return x, stride, padding, dilation, padded, effective, unbatched


def _conv(op: str, dims: int, input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups) -> Tensor:
    x, stride, padding, dilation, _, _, unbatched = prepare_conv(op, dims, input, weight, bias, stride, padding,
                                                                 dilation, groups)
    out = Convolution.apply(_as_2d(x, dims), _as_2d(weight, dims), bias, stride=_lift(stride, 1, dims),
                            padding=_lift(padding, 0, dims), dilation=_lift(dilation, 1, dims), groups=groups)
    if dims == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation of input (N, C_in, L) or (C_in, L) with weight (C_out, C_in/groups, k).

    `padding` is an int, a 1-tuple, 'valid' (none) or 'same' (output length = input length, stride 1).
    Returns (N, C_out, L_out) with L_out = (L + 2*padding - dilation*(k-1) - 1) // stride + 1.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation of input (N, C_in, H, W) or (C_in, H, W) with weight (C_out, C_in/groups, kH, kW).

    `stride`, `padding` and `dilation` are ints or (h, w) pairs; `padding` may also be 'valid' (none) or
    'same' (output size = input size, stride 1; an odd total padding puts the extra row/column at the
    bottom/right, as PyTorch). `bias` is (C_out,). Returns (N, C_out, H_out, W_out) with
    H_out = (H + 2*padding[0] - dilation[0]*(kH-1) - 1) // stride[0] + 1, likewise W_out.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op: str, dims: int, input: Tensor, weight: Tensor, bias, stride, padding, output_padding,
                    groups: int, dilation) -> Tensor:
    _check_operands(op, dims, input, weight, bias, groups, True)
    stride, dilation = ntuple(stride, dims, "stride", op), ntuple(dilation, dims, "dilation", op)
    padding, output_padding = ntuple(padding, dims, "padding", op), ntuple(output_padding, dims, "output_padding", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    if any(p < 0 for p in padding + output_padding):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}, "
                           f"output_padding={output_padding}")
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    kernel = weight.shape[2:]
    size = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                 for i, s, p, d, k, o in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(s <= 0 for s in size):
        raise RuntimeError(f"{op}: given input size {tuple(x.shape[2:])} and these parameters the output size "
                           f"{size} is too small")
    out = ConvolutionInputGrad.apply(_as_2d(x, dims), _as_2d(weight, dims), input_size=_lift(size, 1, dims),
                                     stride=_lift(stride, 1, dims), padding=_lift(padding, 0, dims),
                                     dilation=_lift(dilation, 1, dims), groups=groups)
    if dims == 1:
        out = out.squeeze(2)
    if bias is not None:
        out = out + bias.reshape((bias.shape[0],) + (1,) * dims)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution ("deconvolution") of input (N, C_in, L) with weight (C_in, C_out/groups, k).

    Returns (N, C_out, L_out), L_out = (L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution of input (N, C_in, H, W) with weight (C_in, C_out/groups, kH, kW): the
    gradient of conv2d w.r.t. its input.

    Returns (N, C_out, H_out, W_out), H_out = (H-1)*stride[0] - 2*padding[0] + dilation[0]*(kH-1)
    + output_padding[0] + 1, likewise W_out; output_padding must be smaller than stride or dilation.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)
