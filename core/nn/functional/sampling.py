"""Resampling, as `torch.nn.functional`: `interpolate`, `pixel_shuffle`, `pixel_unshuffle`, `affine_grid` and
`grid_sample`.

Every interpolation mode is separable, so each resamples one spatial dim at a time: the source
positions and weights are computed on the host from the sizes alone (with PyTorch's index rules),
and the resampling is `index_select` plus a weighted sum in tensor ops, so gradients of any order
come from those ops. `grid_sample` gathers the corners of each sampling point from the flattened
input and weights them with tensor ops of the grid, so it is differentiable in both.
"""
from __future__ import annotations

import math
import struct
import warnings

from ... import creation, dtypes
from ...arguments import check_same_device, check_tensor
from ...ops.shape import stack
from ...tensor import Tensor
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from .pooling3d import adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "affine_grid", "grid_sample"]

_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75


def _f32(x: float) -> float:
    """`x` rounded to float32, as PyTorch's nearest-neighbour kernels compute their source index in float."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _scale(in_size: int, out_size: int, scale: float | None, align_corners: bool) -> float:
    """The step between source positions of consecutive outputs (PyTorch's `area_pixel_compute_scale`)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _nearest_index(in_size: int, out_size: int, scale: float | None, exact: bool) -> list[int]:
    step = _f32(1.0 / scale) if scale is not None and scale > 0 else _f32(in_size / out_size)
    offset = 0.5 if exact else 0.0
    return [min(math.floor(_f32((i + offset) * step)), in_size - 1) for i in range(out_size)]


def _source(i: int, step: float, align_corners: bool, cubic: bool) -> float:
    if align_corners:
        return step * i
    src = step * (i + 0.5) - 0.5
    return 0.0 if not cubic and src < 0 else src


def _linear_taps(in_size: int, out_size: int, scale, align_corners: bool) -> list[tuple[list[int], list[float]]]:
    step = _scale(in_size, out_size, scale, align_corners)
    lo, hi, w_lo, w_hi = [], [], [], []
    for i in range(out_size):
        src = _source(i, step, align_corners, False)
        i0 = int(src)
        lam = min(max(src - i0, 0.0), 1.0)
        lo.append(i0)
        hi.append(i0 + 1 if i0 < in_size - 1 else i0)
        w_lo.append(1.0 - lam)
        w_hi.append(lam)
    return [(lo, w_lo), (hi, w_hi)]


def _cubic_weights(t: float) -> tuple[float, float, float, float]:
    a = _CUBIC_A

    def near(x: float) -> float:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: float) -> float:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic_taps(in_size: int, out_size: int, scale, align_corners: bool) -> list[tuple[list[int], list[float]]]:
    step = _scale(in_size, out_size, scale, align_corners)
    taps = [([], []) for _ in range(4)]
    for i in range(out_size):
        src = _source(i, step, align_corners, True)
        i0 = math.floor(src)
        for k, w in enumerate(_cubic_weights(src - i0)):
            taps[k][0].append(min(max(i0 - 1 + k, 0), in_size - 1))
            taps[k][1].append(w)
    return taps


def _antialias_weight(x: float, cubic: bool) -> float:
    """The anti-aliasing filter at distance `x` (PIL's): a triangle, or Keys' cubic with a = -0.5."""
    x = abs(x)
    if not cubic:
        return 1.0 - x if x < 1.0 else 0.0
    if x < 1.0:
        return (1.5 * x - 2.5) * x * x + 1.0
    return (((x - 5.0) * x + 8.0) * x - 4.0) * -0.5 if x < 2.0 else 0.0


def _antialias_taps(in_size: int, out_size: int, scale, align_corners: bool,
                    cubic: bool) -> list[tuple[list[int], list[float]]]:
    """PyTorch's anti-aliased taps: when downsampling by `step` the filter is stretched by it, so each output
    averages every input it covers; the weights of each output are normalised to sum to 1."""
    step = _scale(in_size, out_size, scale, align_corners)
    support = (2.0 if cubic else 1.0) * max(step, 1.0)
    stretch = max(step, 1.0)
    rows = []
    for i in range(out_size):
        center = step * (i + 0.5)
        first = max(int(center - support + 0.5), 0)
        count = min(int(center + support + 0.5), in_size) - first
        weights = [_antialias_weight((first + j - center + 0.5) / stretch, cubic) for j in range(count)]
        total = sum(weights)
        rows.append((first, [w / total if total else 0.0 for w in weights]))
    width = max(len(w) for _, w in rows)
    return [([min(first + k, in_size - 1) for first, _ in rows], [w[k] if k < len(w) else 0.0 for _, w in rows])
            for k in range(width)]


def _resample(x: Tensor, dim: int, taps: list[tuple[list[int], list[float]]]) -> Tensor:
    """sum_k x.index_select(dim, index_k) * weight_k, the weights broadcast along `dim`."""
    shape = [1] * x.ndim
    shape[dim] = -1
    out = None
    for index, weight in taps:
        picked = x.index_select(dim, creation.tensor(index, dtype=dtypes.int64, device=x.device))
        term = picked * creation.tensor(weight, dtype=x.dtype, device=x.device).reshape(shape)
        out = term if out is None else out + term
    return out


def _output_size(input: Tensor, size, scale_factor, recompute_scale_factor, mode: str) -> tuple[list, list]:
    """PyTorch's resolution of `size` / `scale_factor` into (output sizes, scale factors passed to the kernel)."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 f"format.")
            out = [int(s) for s in size]
        else:
            out = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {spatial} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out = [math.floor(n * s) for n, s in zip(spatial, scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = [None] * dim
    if any(n <= 0 for n in spatial) or any(n <= 0 for n in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input {tuple(spatial)} "
                           f"output {tuple(out)}")
    return out, scales


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resample the spatial dims of `input` (N, C, d1, ..., dK) to `size` or `scale_factor` times their size.

    Modes: 'nearest' and 'nearest-exact' (K = 1, 2, 3), 'linear' (K = 1), 'bilinear' and 'bicubic'
    (K = 2; bicubic with a = -0.75 and clamped borders), 'trilinear' (K = 3) and 'area' (adaptive
    average pooling, K = 1, 2). `align_corners` (interpolating modes only) maps the corner pixels'
    centres onto each other; a given `scale_factor` is used for the source positions unless
    `recompute_scale_factor` is True, as in PyTorch. `antialias` (bilinear and bicubic on 4-D input) stretches
    the filter when downsampling, so that every input pixel counts (PIL's resize), as PyTorch does.
    """
    check_tensor(input, "interpolate")
    if antialias:
        if mode not in ("bilinear", "bicubic") or input.ndim != 4:
            raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D "
                             "tensor as input")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    nearest_like = mode in ("nearest", "nearest-exact", "area")
    if not (nearest_like and input.ndim in (3, 4, 5) or mode in _MODE_DIMS and input.ndim == _MODE_DIMS[mode] + 2):
        if mode in _MODE_DIMS and input.ndim in (3, 4, 5):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    out_size, scales = _output_size(input, size, scale_factor, recompute_scale_factor, mode)
    if mode == "area":
        pool = {3: adaptive_avg_pool1d, 4: adaptive_avg_pool2d, 5: adaptive_avg_pool3d}[input.ndim]
        return pool(input, tuple(out_size))
    if mode not in ("nearest", "nearest-exact") and not input.dtype.is_floating_point:
        raise RuntimeError(f"interpolate: mode '{mode}' needs a floating-point input, got {input.dtype}")
    out = input
    for k, (n_out, scale) in enumerate(zip(out_size, scales)):
        d, n_in = k + 2, input.shape[k + 2]
        if mode in ("nearest", "nearest-exact"):
            index = _nearest_index(n_in, n_out, scale, mode == "nearest-exact")
            out = out.index_select(d, creation.tensor(index, dtype=dtypes.int64, device=input.device))
        elif antialias:
            out = _resample(out, d, _antialias_taps(n_in, n_out, scale, align_corners, mode == "bicubic"))
        elif mode == "bicubic":
            out = _resample(out, d, _cubic_taps(n_in, n_out, scale, align_corners))
        else:
            out = _resample(out, d, _linear_taps(n_in, n_out, scale, align_corners))
    return out


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of `interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: `interpolate(input, size, scale_factor, mode='nearest')`."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: `interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)`."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _factor(value, name: str, op: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {value}")
    return value


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange `(*, C*r^2, H, W)` into `(*, C, H*r, W*r)`, r = `upscale_factor`."""
    check_tensor(input, "pixel_shuffle")
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    b = len(batch)
    out = input.reshape(*batch, c // (r * r), r, r, h, w)
    out = out.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return out.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange `(*, C, H*r, W*r)` into `(*, C*r^2, H, W)`, r = `downscale_factor` (the inverse of `pixel_shuffle`)."""
    check_tensor(input, "pixel_unshuffle")
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    *batch, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    b = len(batch)
    out = input.reshape(*batch, c, h // r, r, w // r, r)
    out = out.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return out.reshape(*batch, c * r * r, h // r, w // r)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps `theta` (N, 2, 3) (or (N, 3, 4))
    over the normalised [-1, 1] coordinates of an output of `size` (N, C, H, W) (or (N, C, D, H, W))."""
    check_tensor(theta, "affine_grid")
    align_corners = bool(align_corners)
    size = [int(n) for n in size]
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    k = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape) != (size[0], k, k + 1):
        raise ValueError(f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size {size}. "
                         f"Got {list(theta.shape)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    spatial = size[2:][::-1]  # x (width) first, as the grid's last dim
    axes = []
    for i, n in enumerate(spatial):
        ramp = [(2 * j - (n - 1)) / (max(n - 1, 1) if align_corners else n) for j in range(n)]
        shape = [1] * k
        shape[k - 1 - i] = n
        axes.append(creation.tensor(ramp, dtype=theta.dtype, device=theta.device).reshape(shape).expand(*size[2:]))
    axes.append(creation.ones(*size[2:], dtype=theta.dtype, device=theta.device))
    points = stack(axes, -1).reshape(1, -1, 1, k + 1)
    grid = (points * theta.reshape(size[0], 1, k, k + 1)).sum(-1)
    return grid.reshape(size[0], *size[2:], k)


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """Grid coordinates in [-1, 1] as pixel positions along an axis of `size` pixels."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """`coord` reflected off the bounds twice_low/2 and twice_high/2 until it lies between them."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    extra = dist.remainder(span)
    even = (dist / span).floor().remainder(2) == 0
    return (extra + low).where(even, span - extra + low)


def _padded_coord(x: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Pixel positions `x` moved inside the image by `padding_mode` ('zeros' leaves them where they are)."""
    if padding_mode == "border":
        return x.clamp(0, size - 1)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        return x.clamp(0, size - 1)
    return x


def _gather_corner(flat: Tensor, coords: list, sizes: tuple) -> Tensor:
    """input[n, c, *coords] for integer-valued (N, P) positions along each spatial axis, zero where they fall
    outside the input; `flat` is the input with its spatial dims flattened, (N, C, prod(sizes))."""
    inside, index = None, None
    for coord, size in zip(coords, sizes):
        ok = (coord >= 0).logical_and(coord <= size - 1)
        inside = ok if inside is None else inside.logical_and(ok)
        clamped = coord.clamp(0, size - 1)
        index = clamped if index is None else index * size + clamped
    index = index.long()
    n, c = flat.shape[:2]
    picked = flat.gather(2, index.unsqueeze(1).expand(n, c, index.shape[1]))
    return picked * inside.unsqueeze(1).to(flat.dtype)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample `input` (N, C, H, W) at the normalised (x, y) points of `grid` (N, Ho, Wo, 2) into (N, C, Ho, Wo),
    or (N, C, D, H, W) at the (x, y, z) points of `grid` (N, Do, Ho, Wo, 3) into (N, C, Do, Ho, Wo).

    Modes 'bilinear' (trilinear for 5-D), 'nearest' (round half to even) and 'bicubic' (a = -0.75, 4-D
    only); padding_mode 'zeros', 'border' or 'reflection' for points outside [-1, 1]; `align_corners` as
    in `interpolate`. Differentiable in input and grid.
    """
    check_tensor(input, "grid_sample")
    check_tensor(grid, "grid_sample")
    check_same_device("grid_sample", input, grid=grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    k = input.ndim - 2
    if grid.shape[-1] != k:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {k} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic" and k == 3:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    align_corners = bool(align_corners)
    n, c, *sizes = input.shape
    out_shape = (n, c, *grid.shape[1:-1])
    points = grid.reshape(n, -1, k)
    # the grid's last dim is (x, y[, z]): the spatial axes in reverse
    coords = [_unnormalize(points[..., k - 1 - a], size, align_corners) for a, size in enumerate(sizes)]
    flat = input.reshape(n, c, -1)
    if mode == "bicubic":  # the 4x4 neighbours are padded one by one, the point itself is not
        (y, x), (h, w) = coords, sizes
        x0, y0 = x.floor(), y.floor()
        wx, wy = _cubic_weights(x - x0), _cubic_weights(y - y0)
        out = None
        for i in range(4):
            cy = _padded_coord(y0 + (i - 1), h, padding_mode, align_corners)
            for j in range(4):
                cx = _padded_coord(x0 + (j - 1), w, padding_mode, align_corners)
                term = _gather_corner(flat, [cy, cx], sizes) * (wx[j] * wy[i]).unsqueeze(1)
                out = term if out is None else out + term
        return out.reshape(out_shape)
    coords = [_padded_coord(x, size, padding_mode, align_corners) for x, size in zip(coords, sizes)]
    if mode == "nearest":
        return _gather_corner(flat, [x.round() for x in coords], sizes).reshape(out_shape)
    out = None
    lows = [x.floor() for x in coords]
    for corner in range(2 ** k):
        picked, weight = [], None
        for a, (x, low) in enumerate(zip(coords, lows)):
            upper = corner >> (k - 1 - a) & 1
            picked.append(low + 1 if upper else low)
            w_a = x - low if upper else low + 1 - x
            weight = w_a if weight is None else weight * w_a
        term = _gather_corner(flat, picked, sizes) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape(out_shape)
