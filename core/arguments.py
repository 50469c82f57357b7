"""Argument type checks at the API boundary, with PyTorch's messages: a wrong type is a `TypeError` that
names the function and the argument.

Callers check once, where the user's value enters (a public function, a layer constructor), never per
backend call; hot functions test `isinstance(x, Tensor)` inline and call these only on failure.
"""
from __future__ import annotations

import operator

from ._tensor_base import Tensor


def _type_name(value) -> str:
    return type(value).__name__


def not_tensor(value, fn: str, name: str = "input", position: int = 1) -> TypeError:
    """PyTorch's `TypeError: fn(): argument 'name' (position n) must be Tensor, not T`, for a caller that
    tested `isinstance(value, Tensor)` inline."""
    return TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, not {_type_name(value)}")


def check_tensor(value, fn: str, name: str = "input", position: int = 1) -> None:
    """Raise `not_tensor(...)` unless `value` is a Tensor."""
    if not isinstance(value, Tensor):
        raise not_tensor(value, fn, name, position)


def tensor_seq_arg(value, fn: str, name: str = "tensors") -> list[Tensor]:
    """`value`, a tuple or list of Tensors, as a list; PyTorch's TypeError for anything else (a lone Tensor too)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn}(): argument '{name}' (position 1) must be tuple of Tensors, not {_type_name(value)}")
    for i, t in enumerate(value):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): expected Tensor as element {i} in argument '{name}', but got {_type_name(t)}")
    return list(value)


def int_arg(value, fn: str, name: str) -> int:
    """`value` as an int (Python and numpy integers, one-element integer tensors); TypeError for anything else
    (a float or a string is never silently truncated or parsed)."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {_type_name(value)}") from None


def check_same_device(fn: str, input: Tensor, **others: Tensor | None) -> None:
    """PyTorch's RuntimeError when a tensor argument in `others` (None: absent) is not on `input`'s device."""
    dev = input._device
    for name, t in others.items():
        if t is not None and t._device is not dev:
            raise RuntimeError(f"{fn}: expected all tensors to be on the same device, but found input on {dev} and "
                               f"{name} on {t._device}; move {name} with .to({str(dev)!r})")
