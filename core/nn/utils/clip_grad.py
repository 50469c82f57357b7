"""Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`."""
from __future__ import annotations

import types
import warnings
from typing import Iterable

from ... import creation, dtypes
from ...autograd.grad_mode import no_grad
from ...ops.shape import stack
from ...tensor import Tensor

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


@no_grad()
def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The `norm_type`-norm of the norms of `tensors`: the norm of all their elements as one vector.

    `norm_type` may be inf (largest absolute value). Returns a 0-d tensor (0.0 for no tensors) on the
    first tensor's device. `foreach` is accepted for compatibility.
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return creation.tensor(0.0)
    first = tensors[0].device
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    norms = [t.norm(norm_type).to(device=first, dtype=dtype) for t in tensors]
    total = stack(norms).norm(norm_type)
    if error_if_nonfinite and not total.isfinite().item():
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total


@no_grad()
def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients of `parameters` in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
    by_kind: dict = {}
    for g in grads:
        key = (g.device, g.dtype)
        c = by_kind.get(key)
        if c is None:
            c = by_kind[key] = coef.to(device=g.device, dtype=g.dtype)
        g.mul_(c)


@no_grad()
def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Clip the gradient norm of `parameters` in place.

    The norm is computed over all gradients together, as if concatenated into one vector, and the
    gradients are scaled by min(1, max_norm / (total_norm + 1e-6)).

    Args:
        parameters: a tensor or an iterable of tensors whose `.grad` is clipped.
        max_norm: the largest norm allowed.
        norm_type: the p of the p-norm; may be inf (default: 2.0).
        error_if_nonfinite: raise RuntimeError when the total norm is nan or inf (default: False).
        foreach: accepted for compatibility.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.
    """
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated alias of `clip_grad_norm_`."""
    warnings.warn("`ember.nn.utils.clip_grad_norm` is now deprecated in favor of `ember.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@no_grad()
def clip_grad_value_(parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp the gradients of `parameters` in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
