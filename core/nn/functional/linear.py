"""`F.linear` and `F.bilinear`."""
from __future__ import annotations

from ...autograd.node import Op
from ...tensor import Tensor

__all__ = ["linear", "bilinear"]


class Linear(Op):
    """x @ w.T (+ b) in one node; the weight gradient comes out as one row-major GEMM, g.T @ x."""
    keeps_dtype = True

    def forward(self, x, w, *bias):
        if self.needs_input_grad:
            nx, nw = self.needs_input_grad[:2]
            self.save_for_backward(x if nw else None, w if nx else None)
        bk = self.bk
        out = bk.matmul(x._data, bk.transpose(w._data, (1, 0)))
        if bias:
            bk.add(out, bias[0]._data, out=out)
        return out

    def backward(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        grads = (g.matmul(w) if nx else None,
                 g2.mT.matmul(x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) if nw else None)
        return grads + ((g2.sum(0) if nb[0] else None,) if nb else ())


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight^T + bias. Shapes: input (*, in), weight (out, in) or (in,), bias (out,) or ()."""
    if (weight.ndim == 2 and input.ndim >= 1 and input.shape[-1] == weight.shape[1]
            and input.dtype is weight.dtype and input.device is weight.device
            and (bias is None or (bias.shape == weight.shape[:1] and bias.dtype is weight.dtype
                                  and bias.device is weight.device))):
        return Linear.apply(input, weight) if bias is None else Linear.apply(input, weight, bias)
    out = input.matmul(weight.mT if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o].

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,); output (*, out).
    """
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
