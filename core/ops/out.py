"""`out=`: write a function's result into a given tensor, with PyTorch's checks and resizing.

Public functions keep their fast path and call `write_out` only when `out` is given.
"""
from __future__ import annotations

import warnings

from .. import dtypes
from ..autograd.grad_mode import state as _grad_state
from .._tensor_base import Tensor


def write_out(fn: str, result: Tensor, out) -> Tensor:
    """Copy `result` into `out` (resized to its shape, cast to its dtype) and return `out`.

    Raises as PyTorch does: `out` not a tensor (TypeError), autograd involved, another device, or a
    result dtype that cannot be cast to `out`'s (RuntimeError). A non-empty `out` of another shape is
    resized with PyTorch's deprecation warning.
    """
    if not isinstance(out, Tensor):
        raise TypeError(f"{fn}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _grad_state.enabled and (result._rg or out._rg):
        raise RuntimeError(f"{fn}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if out._device is not result._device:
        raise RuntimeError(f"{fn}(): expected out on {result.device}, the device of the result, but got out on "
                           f"{out.device}")
    if result._dtype is not out._dtype and not dtypes.can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"result type {result.dtype.name} can't be cast to the desired output type "
                           f"{out.dtype.name}")
    if out.shape != result.shape:
        if out.numel():
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(result.shape)}. This behavior is "
                          "deprecated; resize `out` to zero elements first to reuse it.", UserWarning, stacklevel=3)
        out._data = out._bk.empty(result.shape, out._dtype)
    out._bk.copy_(out._data, result._data)
    out._version[0] += 1
    return out
