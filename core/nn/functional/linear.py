"""`F.linear` and `F.bilinear`."""
from __future__ import annotations

from ...arguments import check_tensor, not_tensor
from ...dtype_info import scalar_type_name
from ...ops.linear import Linear
from ...tensor import Tensor

__all__ = ["linear", "bilinear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight^T + bias. Shapes: input `(*, in)`, weight (out, in) or (in,), bias (out,) or ()."""
    if not isinstance(input, Tensor):
        raise not_tensor(input, "linear")
    if not isinstance(weight, Tensor):
        raise not_tensor(weight, "linear", "weight", 2)
    w = weight._data
    if (w.ndim == 2 and input._data.ndim >= 1 and input._data.shape[-1] == w.shape[1]
            and input._dtype is weight._dtype and input._device is weight._device
            and (bias is None or (bias._data.shape == w.shape[:1] and bias._dtype is weight._dtype
                                  and bias._device is weight._device))):
        return Linear.apply(input, weight) if bias is None else Linear.apply(input, weight, bias)
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got "
                           f"{scalar_type_name(input._dtype)} and {scalar_type_name(weight._dtype)} (input of shape "
                           f"{list(input.shape)}, weight of shape {list(weight.shape)})")
    out = input.matmul(weight.mT if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o].

    Shapes: input1 `(*, in1)`, input2 `(*, in2)`, weight (out, in1, in2), bias (out,); output `(*, out)`.
    """
    check_tensor(input1, "bilinear", "input1", 1)
    check_tensor(input2, "bilinear", "input2", 2)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), got shape {list(weight.shape)}")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input1 {list(input1.shape)} and input2 {list(input2.shape)} must share "
                           f"their batch dims and end in {in1} and {in2} features (weight {list(weight.shape)})")
    # (*, in1) @ (in1, out*in2) -> (*, out, in2), then contract in2 against input2.
    a = input1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2))
    out = (a.reshape(*input1.shape[:-1], out_f, in2) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias
