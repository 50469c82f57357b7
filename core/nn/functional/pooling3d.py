"""3-D pooling, as `torch.nn.functional`: max_pool3d, avg_pool3d and adaptive_avg_pool3d as composites of the
2-D pools.

The 2-D pool runs over (H, W) with depth folded into the channels; the depth windows are then
reduced from strided depth slices. Made of differentiable ops, gradients of any order follow.
"""
from __future__ import annotations

from ... import creation, dtypes
from ...dtype_info import iinfo
from ...ops.shape import stack
from ...tensor import Tensor
from .padding import pad as _pad
from .pooling import _adaptive_args, _mean_matrix, _restore, _pool_args, adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d"]


def _depth_windows(t: Tensor, depth_out: int, k: int, s: int, p: int, d: int, value: float) -> Tensor:
    """(N, C, D, ...) as (N, C, D_out, k, ...): each output depth's window, padded with `value`."""
    right = max(0, (depth_out - 1) * s + (k - 1) * d + 1 - t.shape[2] - p)
    if p or right:
        t = _pad(t, (0, 0, 0, 0, p, right), value=value)
    return stack([t[:, :, j * d:j * d + (depth_out - 1) * s + 1:s] for j in range(k)], 3)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W): the maximum of each window (stride defaults to
    kernel_size).

    Arguments are ints or (d, h, w) triples; padding (at most half the effective kernel) never wins; with
    `ceil_mode` a last partial window is kept when it starts inside the input or front padding. With
    `return_indices`, also returns the int64 flat position `(d * H * W + h * W + w)` of each maximum.
    """
    x, unbatched, kernel, stride, padding, dilation, out = _pool_args("max_pool3d", 3, input, kernel_size, stride,
                                                                      padding, dilation, ceil_mode)
    n, c, depth, h, w = x.shape
    planes, index = max_pool2d(x.reshape(n, c * depth, h, w), kernel[1:], stride[1:], padding[1:], dilation[1:],
                               ceil_mode, True)
    planes = planes.reshape(n, c, depth, out[1], out[2])
    lowest = (float("-inf") if x.dtype.is_floating_point else False if x.dtype is dtypes.bool
              else iinfo(x.dtype).min)
    windows = _depth_windows(planes, out[0], kernel[0], stride[0], padding[0], dilation[0], lowest)
    best = windows.argmax(3, keepdim=True)
    result = windows.gather(3, best).squeeze(3)
    if unbatched:
        result = result.squeeze(0)
    if not return_indices:
        return result
    index = _depth_windows(index.reshape(n, c, depth, out[1], out[2]), out[0], kernel[0], stride[0], padding[0],
                           dilation[0], 0).gather(3, best).squeeze(3)
    starts = creation.arange(out[0], dtype=dtypes.int64, device=x.device) * stride[0] - padding[0]
    plane = starts.reshape(-1, 1, 1) + best.squeeze(3) * dilation[0]
    index = plane * (h * w) + index
    return result, (index.squeeze(0) if unbatched else index)


def _counts(size: int, out: int, k: int, s: int, p: int, include_pad: bool) -> list:
    """PyTorch's per-dimension divisor factor of each output position."""
    counts = []
    for o in range(out):
        start = o * s - p
        end = min(start + k, size + p)
        counts.append(end - start if include_pad else min(end, size) - max(start, 0))
    return counts


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling of (N, C, D, H, W) or (C, D, H, W) (stride defaults to kernel_size).

    Each window's sum is divided by `divisor_override` when given, else by the window volume (including
    zero padding, clipped to input + padding in ceil mode), or by the number of input elements in it
    when `count_include_pad=False`.
    """
    op = "avg_pool3d"
    x, unbatched, kernel, stride, padding, _, out = _pool_args(op, 3, input, kernel_size, stride, padding, 1,
                                                               ceil_mode)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    n, c, depth, h, w = x.shape
    sums = avg_pool2d(x.reshape(n, c * depth, h, w), kernel[1:], stride[1:], padding[1:], ceil_mode, True, 1)
    sums = sums.reshape(n, c, depth, out[1], out[2])
    sums = _depth_windows(sums, out[0], kernel[0], stride[0], padding[0], 1, 0.0).sum(3)
    if divisor_override is not None:
        result = sums / divisor_override
    else:
        factors = [creation.tensor(_counts(size, o, k, s, p, bool(count_include_pad)), dtype=x.dtype, device=x.device)
                   for size, o, k, s, p in zip((depth, h, w), out, kernel, stride, padding)]
        result = sums / (factors[0].reshape(-1, 1, 1) * factors[1].reshape(-1, 1) * factors[2])
    return result.squeeze(0) if unbatched else result


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to `output_size` (an int, or a (d, h, w) triple where
    None keeps that input size); window i along each axis covers [floor(i*size/out), ceil((i+1)*size/out)).

    The mean over a box is separable: the 2-D adaptive pool averages (H, W), then one matrix product the depth.
    """
    x, unbatched, (od, oh, ow) = _adaptive_args("adaptive_avg_pool3d", 3, input, output_size)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"adaptive_avg_pool3d: expected a floating point input, got {x.dtype}")
    n, c, d, h, w = x.shape
    planes = adaptive_avg_pool2d(x.reshape(n, c * d, h, w), (oh, ow)).reshape(n, c, d, oh * ow)
    if od != d:
        planes = _mean_matrix(d, od, planes) @ planes
    return _restore(planes.reshape(n, c, od, oh, ow), 3, unbatched)
