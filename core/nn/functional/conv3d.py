"""3-D convolution, as `torch.nn.functional.conv3d`: a composite of 2-D convolutions.

Each kernel depth offset kd convolves the matching (strided, dilated) depth slices of the input,
folded into the batch, with the weight's kd-th plane; the planes' results are summed. Being made
of differentiable ops, gradients of any order follow, on every backend.
"""
from __future__ import annotations

from ...tensor import Tensor
from .conv import _check_operands, _positive, conv2d, ntuple
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
    _check_operands(op, 3, input, weight, bias, groups, False)
    stride, dilation = ntuple(stride, 3, "stride", op), ntuple(dilation, 3, "dilation", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    kernel = weight.shape[2:]
    unbatched = input.ndim == 4
    x = input.unsqueeze(0) if unbatched else input
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            if any(t % 2 for t in total):
                extra = []
                for t in reversed(total):
                    extra += [0, t % 2]
                x = _pad(x, tuple(extra))
            padding = tuple(t // 2 for t in total)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    else:
        padding = ntuple(padding, 3, "padding", op)
        if any(p < 0 for p in padding):
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}")
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    effective = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(e > p for e, p in zip(effective, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual input size")
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
