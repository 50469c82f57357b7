"""The fused affine map y = x @ w.T (+ b) as `Op`s on the backend's `linear` and `linear_backward` kernels: the
map itself and its three gradients. The kernel is the one first-order formula (the engine's array walk calls it
once for all three gradients; each gradient op calls it for its own), and the backward of each gradient op is
made of the others, so gradients of gradients work to any order."""
from __future__ import annotations

from ..autograd.node import Op

__all__ = ["Linear", "LinearInputGrad", "LinearWeightGrad", "LinearBiasGrad"]


class Linear(Op):
    """x `(*, in)` @ w.T (w `(out, in)`) (+ b `(out,)`) in one node and one backend kernel."""
    keeps_dtype = True

    def forward(self, x, w, bias=None):
        needs = self.needs_input_grad
        if needs:
            self.save_for_backward(x if needs[1] else None, w if needs[0] else None)
        return self.bk.linear(x._data, w._data, None if bias is None else bias._data)

    def backward(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        grads = (LinearInputGrad.apply(g, w) if nx else None, LinearWeightGrad.apply(g, x) if nw else None)
        return grads + ((LinearBiasGrad.apply(g) if nb[0] else None,) if nb else ())

    def backward_arrays(self, g):
        x, w = self.saved_tensors
        nx, nw, *nb = self.needs_input_grad
        gx, gw, gb = self.bk.linear_backward(g, x._data if nw else None, w._data if nx else None, bool(nb) and nb[0])
        return (gx, gw, gb) if nb else (gx, gw)


class LinearInputGrad(Op):
    """The gradient of `Linear` w.r.t. x from the output gradient g `(*, out)`: g @ w, `(*, in)`."""
    keeps_dtype = True

    def forward(self, g, w):
        if self.needs_input_grad:
            ng, nw = self.needs_input_grad
            self.save_for_backward(g if nw else None, w if ng else None)
        return self.bk.linear_backward(g._data, None, w._data, False)[0]

    def backward(self, gg):
        g, w = self.saved_tensors
        ng, nw = self.needs_input_grad
        return (Linear.apply(gg, w) if ng else None, LinearWeightGrad.apply(g, gg) if nw else None)


class LinearWeightGrad(Op):
    """The gradient of `Linear` w.r.t. w from the output gradient g `(*, out)` and x `(*, in)`: g.T @ x over the
    flattened leading dims, `(out, in)`."""
    keeps_dtype = True

    def forward(self, g, x):
        if self.needs_input_grad:
            ng, nx = self.needs_input_grad
            self.save_for_backward(g if nx else None, x if ng else None)
        return self.bk.linear_backward(g._data, x._data, None, False)[1]

    def backward(self, gw):
        g, x = self.saved_tensors
        ng, nx = self.needs_input_grad
        return (Linear.apply(x, gw) if ng else None, LinearInputGrad.apply(g, gw) if nx else None)


class LinearBiasGrad(Op):
    """The gradient of `Linear` w.r.t. its bias from the output gradient g `(*, out)`: g summed over the
    leading dims, `(out,)`."""
    keeps_dtype = True

    def forward(self, g):
        self.grad_shape = g._data.shape
        return self.bk.linear_backward(g._data, None, None, True)[2]

    def backward(self, gb):
        return (gb.expand(self.grad_shape),)
