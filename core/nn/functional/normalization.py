"""Normalisation, as `torch.nn.functional`: `batch_norm` and `layer_norm` check their arguments and apply
the `Op`s of `ember.ops.normalization`; `group_norm`, `rms_norm` and `normalize` compose tensor ops."""
from __future__ import annotations

from ... import dtypes
from ...arguments import check_same_device, check_tensor
from ...autograd.grad_mode import no_grad
from ...ops.normalization import BatchNorm, LayerNorm
from ...ops.shape import pad as _constant_pad
from ...tensor import Size, Tensor

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "normalize",
           "local_response_norm"]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation over dim 1 of input `(N, C, *)`.

    In `training`, normalises with the batch statistics and, when given, updates `running_mean` and
    `running_var` in place: running = (1 - momentum) * running + momentum * batch (the unbiased batch
    variance for `running_var`). Otherwise normalises with the running statistics.
    """
    check_tensor(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input with at least 2 dims (N, C, *), got shape {list(input.shape)}")
    c = input.shape[1]
    check_same_device("batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight,
                      bias=bias)
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements (one per channel of input "
                               f"{list(input.shape)}), not {t.numel()}")
    if training:
        if input.numel() // c <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{Size(input.shape)}")
        if (running_mean is None) != (running_var is None):
            raise RuntimeError("batch_norm: running_mean and running_var must both be given or both be None")
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
    return BatchNorm.apply(input, weight, bias, running_mean, running_var, training=training, momentum=momentum,
                           eps=eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation: each channel of each sample of input `(N, C, *)` normalised over its spatial
    dims (batch_norm on the `(1, N*C, *)` view). Running statistics, when given, are updated with the average
    over the batch of the per-instance statistics, and used when `use_input_stats` is False."""
    check_tensor(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input (N, C, *) with spatial dims, got shape {list(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and input.numel() // (n * c) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {Size(input.shape)}")
    rm = running_mean.repeat(n) if running_mean is not None else None
    rv = running_var.repeat(n) if running_var is not None else None
    out = batch_norm(input.reshape(1, n * c, *input.shape[2:]), rm, rv,
                     weight.repeat(n) if weight is not None else None, bias.repeat(n) if bias is not None else None,
                     use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:
        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    return out.reshape(input.shape)


def _normalized_shape(normalized_shape) -> tuple:
    return (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)


def _check_normalized(op: str, input: Tensor, shape: tuple) -> None:
    if not shape or tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise RuntimeError(f"{op}: Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size{list(input.shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the trailing dims `normalized_shape` (biased variance); `weight` and `bias`
    have shape `normalized_shape`."""
    check_tensor(input, "layer_norm")
    shape = _normalized_shape(normalized_shape)
    _check_normalized("layer_norm", input, shape)
    check_same_device("layer_norm", input, weight=weight, bias=bias)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm: {name} of shape {list(t.shape)} should have the normalized_shape "
                               f"{list(shape)}")
    return LayerNorm.apply(input, weight, bias, n=len(shape), eps=eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation of input `(N, C, *)`: channels split into `num_groups` groups, each normalised over
    its channels and spatial dims; `weight` and `bias` (C,) are per channel."""
    check_tensor(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected input (N, C, *), got shape {list(input.shape)}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    x = input.reshape(n, num_groups, -1)
    xc = x - x.mean(-1, keepdim=True)
    y = (xc * ((xc * xc).mean(-1, keepdim=True) + eps).rsqrt()).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the trailing dims `normalized_shape`, times `weight`; eps defaults to the
    machine epsilon of input's dtype."""
    check_tensor(input, "rms_norm")
    shape = _normalized_shape(normalized_shape)
    _check_normalized("rms_norm", input, shape)
    if eps is None:
        eps = {dtypes.float16: 2 ** -10, dtypes.float32: 2 ** -23}.get(input.dtype, 2 ** -52)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p along `dim`, eps)."""
    check_tensor(input, "normalize")
    result = input / input.norm(p, dim, keepdim=True).clamp_min(eps)
    return result if out is None else out.copy_(result)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """input / (k + alpha * mean of input**2 over `size` neighbouring channels (dim 1, zero-padded)) ** beta."""
    check_tensor(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    widths = [(0, 0)] * input.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = _constant_pad(input * input, widths, 0.0)
    window = padded.narrow(1, 0, channels)
    for j in range(1, size):
        window = window + padded.narrow(1, j, channels)
    return input / (window * (alpha / size) + k) ** beta
