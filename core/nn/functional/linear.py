"""`F.linear` and `F.bilinear`."""
from __future__ import annotations

from ...arguments import check_tensor, not_tensor
from ...dtype_info import scalar_type_name
from ...autograd.grad_mode import state as _grad_state
from ...autograd.node import Op
from ...tensor import Tensor, _wrap

__all__ = ["linear", "bilinear"]


class Linear(Op):
    """x @ w.T (+ b) in one node and one backend kernel; the weight gradient is one GEMM, g.T @ x."""
    keeps_dtype = True

    def forward(self, x, w, bias=None):
        needs = self.needs_input_grad
        if needs:
            self.save_for_backward(x if needs[1] else None, w if needs[0] else None)
        return self.bk.linear(x._data, w._data, None if bias is None else bias._data)

    def backward(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        if not _grad_state.enabled:  # first order: one backend kernel, no graph
            bk, device, dtype = self.bk, self.device, g._dtype
            gx, gw, gb = bk.linear_backward(g._data, x._data if nw else None, w._data if nx else None,
                                            bool(nb) and nb[0])
            return ((None if gx is None else _wrap(gx, bk, device, dtype),
                     None if gw is None else _wrap(gw, bk, device, dtype))
                    + ((None if gb is None else _wrap(gb, bk, device, dtype),) if nb else ()))
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        grads = (g.matmul(w) if nx else None,
                 g2.mT.matmul(x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) if nw else None)
        return grads + ((g2.sum(0) if nb[0] else None,) if nb else ())


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight^T + bias. Shapes: input (*, in), weight (out, in) or (in,), bias (out,) or ()."""
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

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,); output (*, out).
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
