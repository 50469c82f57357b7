"""Image operations behind the transforms, as functions (``torchvision.transforms.functional``).

An image is either a numpy array laid out HxW or HxWxC (a PIL-free image, as loaded from disk)
or an ember Tensor laid out [..., H, W] (e.g. CxHxW after ``to_tensor``). Every function keeps
the input's kind, layout and dtype. Flips and in-bounds crops are tensor ops; padding,
resizing and rotation compute on host (numpy) arrays, and tensors come back on their device.
"""
from __future__ import annotations

import enum
import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

import ember

__all__ = [
    "InterpolationMode",
    "center_crop",
    "crop",
    "get_dimensions",
    "hflip",
    "normalize",
    "pad",
    "resize",
    "rotate",
    "to_tensor",
    "vflip",
]


class InterpolationMode(str, enum.Enum):
    """How ``resize`` and ``rotate`` sample the input: ``NEAREST`` or ``BILINEAR``."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"

    def __str__(self) -> str:
        return self.value


def _interpolation(mode: InterpolationMode | str) -> InterpolationMode:
    try:
        return InterpolationMode(mode)
    except ValueError:
        supported = [m.value for m in InterpolationMode]
        raise ValueError(f"interpolation should be one of {supported}, but got {mode!r}") from None


def _check_image(img: Any) -> None:
    if isinstance(img, ember.Tensor):
        if img.ndim < 2:
            raise ValueError(f"Expected a tensor image of shape [..., H, W], got shape {tuple(img.shape)}")
    elif isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"Expected a numpy image of shape HxW or HxWxC, got shape {img.shape}")
    else:
        raise TypeError(f"img should be an ember Tensor or a numpy ndarray, got {type(img).__name__}")


def get_dimensions(img: Any) -> list[int]:
    """Return ``[channels, height, width]`` of a tensor ([..., H, W]) or numpy (HxW[xC]) image."""
    _check_image(img)
    if isinstance(img, ember.Tensor):
        channels = img.shape[-3] if img.ndim > 2 else 1
        return [channels, img.shape[-2], img.shape[-1]]
    height, width = img.shape[:2]
    return [img.shape[2] if img.ndim == 3 else 1, height, width]


def _on_host(img: Any, kernel: Callable[[np.ndarray], np.ndarray]) -> Any:
    """Apply ``kernel`` (an op on an array whose first two axes are H and W) to either kind of image."""
    if isinstance(img, np.ndarray):
        return kernel(img)
    array = np.moveaxis(img.detach().cpu().numpy(), (-2, -1), (0, 1))
    result = np.ascontiguousarray(np.moveaxis(kernel(array), (0, 1), (-2, -1)))
    return ember.from_numpy(result).to(img.device)


def to_tensor(pic: np.ndarray) -> ember.Tensor:
    """Convert a numpy image (HxW or HxWxC) to a CxHxW tensor.

    A ``uint8`` image becomes the default float dtype scaled to [0, 1]; other dtypes keep their
    values and dtype.
    """
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be a numpy ndarray (HxW or HxWxC). Got {type(pic).__name__}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    tensor = ember.from_numpy(np.ascontiguousarray(pic.transpose(2, 0, 1)))
    if tensor.dtype == ember.uint8:
        return tensor.to(ember.get_default_dtype()).div(255)
    return tensor


def normalize(tensor: ember.Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> ember.Tensor:
    """Normalize a float tensor image [..., C, H, W] per channel: ``(x - mean[c]) / std[c]``."""
    if not isinstance(tensor, ember.Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tuple(tensor.shape)}"
        )
    mean_t = ember.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std_t = ember.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if bool((std_t == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean_t.ndim == 1:
        mean_t = mean_t.view(-1, 1, 1)
    if std_t.ndim == 1:
        std_t = std_t.view(-1, 1, 1)
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t


def hflip(img: Any) -> Any:
    """Flip an image left to right."""
    _check_image(img)
    if isinstance(img, np.ndarray):
        return img[:, ::-1].copy()
    return img.flip([-1])


def vflip(img: Any) -> Any:
    """Flip an image top to bottom."""
    _check_image(img)
    if isinstance(img, np.ndarray):
        return img[::-1].copy()
    return img.flip([-2])


def _padding_ltrb(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int, a (left/right, top/bottom) pair or a 4-sequence."""
    if isinstance(padding, numbers.Integral):
        padding = [int(padding)]
    if not isinstance(padding, Sequence) or len(padding) not in (1, 2, 4):
        raise ValueError(f"padding must be an int or a 1, 2, or 4 element sequence, got {padding!r}")
    if len(padding) == 1:
        left = top = right = bottom = padding[0]
    elif len(padding) == 2:
        left = right = padding[0]
        top = bottom = padding[1]
    else:
        left, top, right, bottom = padding
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"padding values should be non-negative, got {padding!r}")
    return left, top, right, bottom


def pad(
    img: Any, padding: int | Sequence[int], fill: float | Sequence[float] = 0, padding_mode: str = "constant"
) -> Any:
    """Pad the borders of an image.

    Args:
        padding: an int for all borders, ``(left/right, top/bottom)``, or ``(left, top, right, bottom)``.
        fill: value of the ``constant`` border; a sequence gives one value per channel (the last
            axis of a numpy image, the channel axis of a CxHxW tensor).
        padding_mode: ``constant``, ``edge`` (repeat the last value), ``reflect`` (mirror without
            repeating the edge) or ``symmetric`` (mirror repeating the edge).
    """
    _check_image(img)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got {padding_mode!r}")
    left, top, right, bottom = _padding_ltrb(padding)

    def kernel(array: np.ndarray) -> np.ndarray:
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
        if padding_mode != "constant":
            return np.pad(array, widths, mode=padding_mode)
        height, width = array.shape[:2]
        out = np.empty((height + top + bottom, width + left + right, *array.shape[2:]), dtype=array.dtype)
        out[...] = _fill_value(fill, array)
        out[top : top + height, left : left + width] = array
        return out

    return _on_host(img, kernel)


def _fill_value(fill: float | Sequence[float] | None, array: np.ndarray) -> np.ndarray:
    """``fill`` as an array that broadcasts over a host array; a sequence runs along the channels, the
    last axis both of numpy images (HxWxC) and of moved tensors (HxWx...xC)."""
    values = np.asarray(0 if fill is None else fill, dtype=np.float64)
    if values.size == 1:
        values = values.reshape(())
    if values.ndim and (array.ndim < 3 or array.shape[-1] != values.size):
        channels = array.shape[-1] if array.ndim >= 3 else 1
        raise ValueError(f"fill has {values.size} values but the image has {channels} channels")
    return values.astype(array.dtype)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """Crop the ``height`` x ``width`` region at (``top``, ``left``); parts outside the image are zero."""
    _, img_height, img_width = get_dimensions(img)
    bottom, right = top + height, left + width
    if top < 0 or left < 0 or bottom > img_height or right > img_width:
        padding = [max(-left, 0), max(-top, 0), max(right - img_width, 0), max(bottom - img_height, 0)]
        img = pad(img, padding, fill=0)
        top, left = max(top, 0), max(left, 0)
        bottom, right = top + height, left + width
    if isinstance(img, np.ndarray):
        return img[top:bottom, left:right]
    return img[..., top:bottom, left:right]


def _size_pair(size: int | Sequence[int], name: str = "size") -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"Please provide only two dimensions (h, w) for {name}, got {size!r}")


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """Crop the center of an image to ``output_size`` (h, w); a smaller image is zero-padded first."""
    crop_height, crop_width = _size_pair(output_size, "output_size")
    _, height, width = get_dimensions(img)
    top = int(round((height - crop_height) / 2.0))
    left = int(round((width - crop_width) / 2.0))
    return crop(img, top, left, crop_height, crop_width)


def _resized_size(height: int, width: int, size: int | Sequence[int], max_size: int | None) -> tuple[int, int]:
    if isinstance(size, Sequence) and len(size) == 2:
        if max_size is not None:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller edge, "
                "i.e. size should be an int or a sequence of length 1"
            )
        return int(size[0]), int(size[1])
    requested = _size_pair(size)[0]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(
                f"max_size = {max_size} must be strictly greater than the requested size for the smaller "
                f"edge size = {size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    # PyTorch's "nearest": source index floor(dst * in / out).
    return np.minimum(np.floor(np.arange(out_size) * (in_size / out_size)).astype(np.int64), in_size - 1)


def _linear_weights(in_size: int, out_size: int, antialias: bool) -> np.ndarray:
    """The (out, in) matrix of bilinear (triangle filter) weights with half-pixel centers.

    With ``antialias`` and downscaling, the triangle widens by the scale factor (as PIL and
    torchvision do), so every input pixel contributes; otherwise it is plain linear interpolation
    with edge clamping.
    """
    scale = in_size / out_size
    support = max(scale, 1.0) if antialias else 1.0
    centers = (np.arange(out_size) + 0.5) * scale
    distance = np.abs(np.arange(in_size)[None, :] + 0.5 - centers[:, None]) / support
    weights = np.maximum(0.0, 1.0 - distance)
    return weights / weights.sum(axis=1, keepdims=True)


def _cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def resize(
    img: Any,
    size: int | Sequence[int],
    interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool = True,
) -> Any:
    """Resize an image.

    Args:
        size: ``(h, w)``, or an int to match the smaller edge keeping the aspect ratio.
        interpolation: ``InterpolationMode.NEAREST`` or ``InterpolationMode.BILINEAR`` (default).
        max_size: with an int ``size``, the most the longer edge may be after resizing.
        antialias: when downscaling bilinearly, low-pass filter first (a wider triangle filter).
    """
    mode = _interpolation(interpolation)
    _, height, width = get_dimensions(img)
    out_height, out_width = _resized_size(height, width, size, max_size)
    if (out_height, out_width) == (height, width):
        return img

    def kernel(array: np.ndarray) -> np.ndarray:
        if mode is InterpolationMode.NEAREST:
            return array[_nearest_indices(height, out_height)][:, _nearest_indices(width, out_width)]
        rows = _linear_weights(height, out_height, antialias)
        cols = _linear_weights(width, out_width, antialias)
        work = array.astype(np.float32 if array.dtype != np.float64 else np.float64)
        resized = np.tensordot(cols, np.tensordot(rows, work, axes=(1, 0)), axes=(1, 1)).swapaxes(0, 1)
        return _cast_like(resized, array.dtype)

    return _on_host(img, kernel)


def rotate(
    img: Any,
    angle: float,
    interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
    expand: bool = False,
    center: Sequence[float] | None = None,
    fill: float | Sequence[float] | None = None,
) -> Any:
    """Rotate an image by ``angle`` degrees counter-clockwise.

    Args:
        interpolation: ``NEAREST`` (default) or ``BILINEAR``.
        expand: enlarge the output to hold the whole rotated image (assumes rotation about the center).
        center: (x, y) center of rotation, origin at the top-left corner; default the image center.
        fill: value of the pixels outside the rotated image (a sequence: one per channel); default 0.
    """
    mode = _interpolation(interpolation)
    _, height, width = get_dimensions(img)
    radians = math.radians(angle)
    cos, sin = math.cos(radians), math.sin(radians)
    # Coordinates are continuous, relative to each image's center, with pixel i's center at i + 0.5.
    cx, cy = (0.0, 0.0) if center is None else (center[0] - width / 2, center[1] - height / 2)
    out_height, out_width = height, width
    if expand:
        corners = np.array([[-width, -height], [-width, height], [width, height], [width, -height]]) / 2
        xs = corners[:, 0] * cos + corners[:, 1] * sin
        ys = -corners[:, 0] * sin + corners[:, 1] * cos
        # Round away float noise before ceil/floor, so that a 90-degree turn keeps exact sizes.
        out_width = int(np.ceil(np.round(xs.max(), 4)) - np.floor(np.round(xs.min(), 4)))
        out_height = int(np.ceil(np.round(ys.max(), 4)) - np.floor(np.round(ys.min(), 4)))

    out_y, out_x = np.meshgrid(
        np.arange(out_height) + 0.5 - out_height / 2, np.arange(out_width) + 0.5 - out_width / 2, indexing="ij"
    )
    dx, dy = out_x - cx, out_y - cy
    # Inverse rotation: the source of each output pixel (y points down, so CCW turns x towards -y).
    src_x = dx * cos - dy * sin + cx + width / 2
    src_y = dx * sin + dy * cos + cy + height / 2

    def kernel(array: np.ndarray) -> np.ndarray:
        fill_value = _fill_value(fill, array)
        if mode is InterpolationMode.NEAREST:
            return _sample(array, np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64), fill_value)
        y0, x0 = np.floor(src_y - 0.5), np.floor(src_x - 0.5)
        wy, wx = src_y - 0.5 - y0, src_x - 0.5 - x0
        y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
        total = 0.0
        for oy, weight_y in ((0, 1 - wy), (1, wy)):
            for ox, weight_x in ((0, 1 - wx), (1, wx)):
                weight = (weight_y * weight_x).reshape(weight_y.shape + (1,) * (array.ndim - 2))
                total = total + weight * _sample(array, y0 + oy, x0 + ox, fill_value).astype(np.float64)
        return _cast_like(total, array.dtype)

    return _on_host(img, kernel)


def _sample(array: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill_value: np.ndarray) -> np.ndarray:
    """``array[rows, cols]`` where in bounds, ``fill_value`` elsewhere."""
    height, width = array.shape[:2]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    out = array[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
    mask = inside.reshape(inside.shape + (1,) * (array.ndim - 2))
    return np.where(mask, out, fill_value)
