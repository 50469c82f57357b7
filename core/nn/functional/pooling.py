"""Pooling, as `torch.nn.functional`: max, average and adaptive pooling in 1-D and 2-D.

Argument checks and output sizes; max and average pooling run on the `Op`s of `ember.ops.pooling`
(the backend's 2-D pooling kernels; 1-D calls add a unit height).
"""
from __future__ import annotations

from ... import creation, dtypes
from ...ops import pooling as _ops
from ...tensor import Tensor
from .conv import ntuple

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d"]


def _pool_output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: in ceil mode the last window must start inside input + left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(op: str, dims: int, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool):
    """(4-D input, unbatched, kernel, stride, padding, dilation, output size), all as (h, w) pairs."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2) or input.numel() == 0:
        raise RuntimeError(f"{op}: non-empty {dims + 1}D or {dims + 2}D (batch mode) tensor expected for input, "
                           f"got input of shape {tuple(input.shape)}")
    kernel = ntuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else ntuple(stride, dims, "stride", op)
    padding, dilation = ntuple(padding, dims, "padding", op), ntuple(dilation, dims, "dilation", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: stride should not be zero, got stride={stride}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dilation={dilation}")
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    size = input.shape[-dims:]
    out = tuple(_pool_output_size(*args, ceil_mode) for args in zip(size, kernel, stride, padding, dilation))
    if any(o < 1 for o in out):
        channels = input.shape[-dims - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (channels,) + size))}). Calculated output size: "
                           f"({'x'.join(map(str, (channels,) + out))}). Output size is too small")
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x = x.unsqueeze(2)
        kernel, stride, padding, dilation, out = ((1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation,
                                                  (1,) + out)
    return x, unbatched, kernel, stride, padding, dilation, out


def _restore(t: Tensor, dims: int, unbatched: bool) -> Tensor:
    if dims == 1:
        t = t.squeeze(2)
    return t.squeeze(0) if unbatched else t


def _max_pool(op: str, dims: int, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool,
              return_indices: bool):
    x, unbatched, kernel, stride, padding, dilation, out = _pool_args(op, dims, input, kernel_size, stride, padding,
                                                                      dilation, ceil_mode)
    values, index = _ops.max_pool2d(x, kernel, stride, padding, dilation, out, return_indices)
    result = _restore(values, dims, unbatched)
    if not return_indices:
        return result
    return result, _restore(index, dims, unbatched)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """1-D max pooling of (N, C, L) or (C, L): the maximum of each window (stride defaults to kernel_size).

    Padding (at most half the effective kernel) never wins; with `ceil_mode` a last partial window is kept
    when it starts inside the input or left padding. With `return_indices`, also returns the int64
    position of each maximum in L.
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling of (N, C, H, W) or (C, H, W): the maximum of each window (stride defaults to kernel_size).

    Arguments are ints or (h, w) pairs; padding (at most half the effective kernel) never wins; with
    `ceil_mode` a last partial window is kept when it starts inside the input or top/left padding.
    With `return_indices`, also returns the int64 flat position `(h * W + w)` of each maximum in its plane.
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(op: str, dims: int, input: Tensor, kernel_size, stride, padding, ceil_mode: bool,
              count_include_pad: bool, divisor_override) -> Tensor:
    x, unbatched, kernel, stride, padding, _, out = _pool_args(op, dims, input, kernel_size, stride, padding, 1,
                                                               ceil_mode)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    result = _ops.avg_pool2d(x, kernel, stride, padding, out, bool(count_include_pad), divisor_override)
    return _restore(result, dims, unbatched)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling of (N, C, L) or (C, L) (stride defaults to kernel_size).

    Each window's sum is divided by the kernel size (including zero padding, clipped to input + padding
    in ceil mode), or by the number of input elements when `count_include_pad=False`.
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling of (N, C, H, W) or (C, H, W) (stride defaults to kernel_size).

    Each window's sum is divided by `divisor_override` when given, else by the window area (including
    zero padding, clipped to input + padding in ceil mode), or by the number of input elements in it
    when `count_include_pad=False`.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_args(op: str, dims: int, input: Tensor, output_size):
    """(4-D input, unbatched, (Ho, Wo)); None in output_size keeps that input size."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2) or any(s == 0 for s in input.shape[-dims:]):
        raise RuntimeError(f"{op}: expected {dims + 1}D or {dims + 2}D input with non-zero sizes in the pooled "
                           f"dims, got input of shape {tuple(input.shape)}")
    sizes = (output_size,) * dims if output_size is None or isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != dims:
        raise RuntimeError(f"{op}: output_size must be {dims} ints (or None), got {output_size!r}")
    out = tuple(s if o is None else int(o) for s, o in zip(input.shape[-dims:], sizes))
    if any(o < 1 for o in out):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 1, got {out}")
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x, out = x.unsqueeze(2), (1,) + out
    return x, unbatched, out


def _bins(size: int, out: int, device) -> tuple[Tensor, Tensor]:
    """PyTorch's adaptive windows along one axis: start = floor(i*size/out), end = ceil((i+1)*size/out)."""
    i = creation.arange(out, dtype=dtypes.int64, device=device)
    return (i * size) // out, ((i + 1) * size + out - 1) // out


def _mean_matrix(size: int, out: int, like: Tensor) -> Tensor:
    """(out, size) matrix whose row i averages window i."""
    start, end = _bins(size, out, like.device)
    pos = creation.arange(size, dtype=dtypes.int64, device=like.device)
    inside = (pos >= start.reshape(-1, 1)).logical_and(pos < end.reshape(-1, 1)).to(like.dtype)
    return inside / (end - start).to(like.dtype).reshape(-1, 1)


def _adaptive_avg(op: str, dims: int, input: Tensor, output_size) -> Tensor:
    x, unbatched, (ho, wo) = _adaptive_args(op, dims, input, output_size)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    h, w = x.shape[2:]
    if h % ho == 0 and w % wo == 0:
        kernel = (h // ho, w // wo)
        result = _ops.avg_pool2d(x, kernel, kernel, (0, 0), (ho, wo), True, None)
    else:  # windows of varying size: the mean is separable, rows then columns
        rows = x if ho == h else _mean_matrix(h, ho, x) @ x
        result = rows if wo == w else rows @ _mean_matrix(w, wo, x).mT
    return _restore(result, dims, unbatched)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, L) or (C, L) to length `output_size`; window i covers
    [floor(i*L/out), ceil((i+1)*L/out))."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, H, W) or (C, H, W) to `output_size` (an int, or an (h, w) pair where None
    keeps that input size); windows as in `adaptive_avg_pool1d` along each axis."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def _window_index(size: int, out: int, device) -> tuple[Tensor, int]:
    """(out, k) input positions of each adaptive window (short windows repeat their last position), and k."""
    start, end = _bins(size, out, device)
    k = max((((i + 1) * size + out - 1) // out) - (i * size) // out for i in range(out))
    pos = start.reshape(-1, 1) + creation.arange(k, dtype=dtypes.int64, device=device)
    return pos.minimum(end.reshape(-1, 1) - 1), k


def _adaptive_max(op: str, dims: int, input: Tensor, output_size, return_indices: bool):
    x, unbatched, (ho, wo) = _adaptive_args(op, dims, input, output_size)
    h, w = x.shape[2:]
    if h % ho == 0 and w % wo == 0:
        kernel = (h // ho, w // wo)
        result, index = _ops.max_pool2d(x, kernel, kernel, (0, 0), (1, 1), (ho, wo), return_indices)
    else:  # windows of varying size: gather each (padded to the largest) and take the max
        rows, kh = _window_index(h, ho, x.device)
        cols, kw = _window_index(w, wo, x.device)
        n, c = x.shape[:2]
        windows = x[:, :, rows.reshape(ho, kh, 1, 1), cols.reshape(1, 1, wo, kw)]  # (N, C, Ho, kh, Wo, kw)
        windows = windows.permute(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, kh * kw)
        result, offset = windows.max(-1)
        index = None
        if return_indices:
            out_rows = creation.arange(ho, dtype=dtypes.int64, device=x.device).reshape(ho, 1)
            out_cols = creation.arange(wo, dtype=dtypes.int64, device=x.device)
            index = rows[out_rows, offset // kw] * w + cols[out_cols, offset % kw]
    result = _restore(result, dims, unbatched)
    return (result, _restore(index, dims, unbatched)) if return_indices else result


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to length `output_size`, windows as in `adaptive_avg_pool1d`;
    with `return_indices`, also the int64 position of each maximum."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, H, W) or (C, H, W) to `output_size` (int or (h, w), None keeps a size);
    with `return_indices`, also the int64 flat position `(h * W + w)` of each maximum in its plane."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)
