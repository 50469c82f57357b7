"""Dropout, as `torch.nn.functional`: masks are drawn on the input's device from its default generator,
so `ember.manual_seed` makes them reproducible."""
from __future__ import annotations

from ...arguments import check_tensor
from ...creation import empty
from ...tensor import Tensor
from .activation import _SELU_ALPHA, _SELU_SCALE, _maybe_inplace

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, shape: tuple, p: float) -> Tensor:
    """1/(1-p) with probability 1-p, else 0, in `input`'s dtype and device."""
    mask = empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1.0 - p)
    return mask.mul_(1.0 / (1.0 - p))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (identity when not `training`)."""
    check_tensor(input, "dropout")
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0)
    mask = _keep_mask(input, input.shape, p)
    return _maybe_inplace(input, inplace, lambda x: x * mask)


def _feature_dropout(name: str, input: Tensor, p: float, training: bool, inplace: bool, spatial: int) -> Tensor:
    """Zero whole channels: the mask has shape (N, C, 1, ...) (or (C, 1, ...) for unbatched input)."""
    _check_p(p)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}: expected {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, "
                           f"got input of shape {list(input.shape)}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0)
    mask = _keep_mask(input, tuple(input.shape[:input.ndim - spatial]) + (1,) * spatial, p)
    return _maybe_inplace(input, inplace, lambda x: x * mask)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability `p`, scaling the rest by 1/(1-p)."""
    check_tensor(input, "dropout1d")
    return _feature_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability `p`, scaling the rest by 1/(1-p)."""
    check_tensor(input, "dropout2d")
    return _feature_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability `p`."""
    check_tensor(input, "dropout3d")
    return _feature_dropout("dropout3d", input, p, training, inplace, 3)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value and an affine
    correction keeps zero mean and unit variance."""
    check_tensor(input, "alpha_dropout")
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, inplace, lambda x: x * 0.0)
    alpha = -_SELU_ALPHA * _SELU_SCALE
    a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
    b = -a * alpha * p
    keep = empty(input.shape, dtype=input.dtype, device=input.device).bernoulli_(1.0 - p)
    shift = (1.0 - keep) * (a * alpha) + b
    return _maybe_inplace(input, inplace, lambda x: x * (keep * a) + shift)
