"""Flatten parameters into one vector and back, as `torch.nn.utils.parameters_to_vector` / `vector_to_parameters`."""
from __future__ import annotations

from typing import Iterable

from ...ops.shape import cat
from ...tensor import Tensor


def _check_same_device(params: list[Tensor], op: str) -> None:
    for p in params[1:]:
        if p.device != params[0].device:
            raise TypeError(f"{op}: found two parameters on different devices ({params[0].device} and {p.device}), "
                            "this is not supported; move them to one device first")


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter's elements, flattened and concatenated in order."""
    params = list(parameters)
    _check_same_device(params, "parameters_to_vector")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make the parameters views of consecutive slices of the 1-D tensor `vec`, in order
    (the inverse of `parameters_to_vector`)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    _check_same_device(params, "vector_to_parameters")
    needed = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() < needed:
        raise ValueError(f"vector_to_parameters: vec must be a 1-D tensor of at least {needed} elements (the "
                         f"parameters' total), got shape {list(vec.shape)}")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
