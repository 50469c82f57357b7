"""The fused affine map y = x @ w.T (+ b): one node, one backend kernel forward and first-order backward."""
from __future__ import annotations

from ..autograd.node import Op

__all__ = ["Linear"]


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
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        grads = (g.matmul(w) if nx else None,
                 g2.mT.matmul(x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) if nw else None)
        return grads + ((g2.sum(0) if nb[0] else None,) if nb else ())

    def backward_arrays(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        gx, gw, gb = self.bk.linear_backward(g, x._data if nw else None, w._data if nx else None, bool(nb) and nb[0])
        return (gx, gw, gb) if nb else (gx, gw)
