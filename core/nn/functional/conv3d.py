"""3-D convolution, as `torch.nn.functional.conv3d`: a composite of 2-D convolutions.

Each kernel depth offset kd convolves the matching (strided, dilated) depth slices of the input,
folded into the batch, with the weight's kd-th plane; the planes' results are summed. Being made
of differentiable ops, gradients of any order follow, on every backend.
"""
from __future__ import annotations

from ...tensor import Tensor
from .conv import conv2d, prepare_conv
from .padding import pad as _pad

__all__ = ["conv3d"]


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D cross-correlation of input (N, C_in, D, H, W) or (C_in, D, H, W) with weight
    (C_out, C_in/groups, kD, kH, kW).

    `stride`, `padding` and `dilation` are ints or (d, h, w) triples; `padding` may also be 'valid' or
    'same' (stride 1; an odd total padding puts the extra element at the end, as PyTorch). `bias` is
    (C_out,). Returns (N, C_out, D_out, H_out, W_out) with
    D_out = (D + 2*padding[0] - dilation[0]*(kD-1) - 1) // stride[0] + 1, likewise H_out and W_out.
    """
    op = "conv3d"
    x, stride, padding, dilation, padded, effective, unbatched = prepare_conv(op, 3, input, weight, bias, stride,
                                                                              padding, dilation, groups)
    kernel = weight.shape[2:]
    if padding[0]:
        x = _pad(x, (0, 0, 0, 0, padding[0], padding[0]))
    n, c, _, h, w = x.shape
    depth_out = (padded[0] - effective[0]) // stride[0] + 1
    out = None
    for k in range(kernel[0]):
        start = k * dilation[0]
        planes = x[:, :, start:start + (depth_out - 1) * stride[0] + 1:stride[0]]
        planes = planes.permute(0, 2, 1, 3, 4).reshape(n * depth_out, c, h, w)
        part = conv2d(planes, weight[:, :, k], None, stride[1:], padding[1:], dilation[1:], groups)
        out = part if out is None else out + part
    out = out.reshape((n, depth_out) + out.shape[1:]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1, 1)
    return out.squeeze(0) if unbatched else out
