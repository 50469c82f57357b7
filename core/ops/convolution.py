"""2-D convolution as three `Op`s on the backend's conv2d kernels: the convolution, its input gradient (the
transposed convolution) and its weight gradient. The backward of each is made of the other two, so
gradients of gradients work to any order; a first-order backward runs the kernels on arrays, the weight and
bias gradients in one kernel."""
from __future__ import annotations

from ..autograd.node import Op
from .._tensor_base import Tensor

__all__ = ["Convolution", "ConvolutionInputGrad", "ConvolutionWeightGrad"]


class Convolution(Op):
    """conv2d of x (N, C, H, W) with weight (O, C/groups, kh, kw), plus an optional bias (O,)."""

    def forward(self, x, weight, bias, stride, padding, dilation, groups):
        bk = self.bk
        if self.needs_input_grad:
            nx, nw = self.needs_input_grad[:2]
            self.save_for_backward(x if nw else None, weight if nx else None)
            self.args = (stride, padding, dilation, groups)
            self.input_size, self.kernel_size = x._data.shape[2:], weight._data.shape[2:]
        if bias is None:
            return bk.conv2d(x._data, weight._data, stride, padding, dilation, groups)
        return bk.conv2d_bias(x._data, weight._data, bias._data, stride, padding, dilation, groups)

    def backward(self, g):
        x, weight = self.saved_tensors
        nx, nw, nb = self.needs_input_grad
        stride, padding, dilation, groups = self.args
        return (ConvolutionInputGrad.apply(g, weight, input_size=self.input_size, stride=stride, padding=padding,
                                           dilation=dilation, groups=groups) if nx else None,
                ConvolutionWeightGrad.apply(x, g, kernel_size=self.kernel_size, stride=stride, padding=padding,
                                            dilation=dilation, groups=groups) if nw else None,
                g.sum(0).sum((1, 2)) if nb else None)  # batch first: ~2x faster than one (0, 2, 3) reduction

    def backward_arrays(self, g):
        x, weight = self.saved_tensors
        nx, nw, nb = self.needs_input_grad
        bk, (stride, padding, dilation, groups) = self.bk, self.args
        gx = bk.conv2d_backward_input(g, weight._data, self.input_size, stride, padding, dilation,
                                      groups) if nx else None
        if nw:
            params = (x._data, g, self.kernel_size, stride, padding, dilation, groups)
            gw, gb = bk.conv2d_backward_weight_bias(*params) if nb else (bk.conv2d_backward_weight(*params), None)
        else:
            gw, gb = None, bk.sum(bk.sum(g, (0,)), (1, 2)) if nb else None
        return gx, gw, gb


class ConvolutionInputGrad(Op):
    """The transposed convolution: the gradient of conv2d w.r.t. an input of `input_size`."""

    def forward(self, g, weight, input_size, stride, padding, dilation, groups):
        if self.needs_input_grad:
            ng, nw = self.needs_input_grad
            self.save_for_backward(g if nw else None, weight if ng else None)
            self.args = (stride, padding, dilation, groups)
            self.grad_size, self.kernel_size = g._data.shape[2:], weight._data.shape[2:]
        return self.bk.conv2d_backward_input(g._data, weight._data, input_size, stride, padding, dilation, groups)

    def backward(self, gg):
        g, weight = self.saved_tensors
        ng, nw = self.needs_input_grad
        stride, padding, dilation, groups = self.args
        return (_crop(Convolution.apply(gg, weight, None, stride=stride, padding=padding, dilation=dilation,
                                        groups=groups), self.grad_size) if ng else None,
                ConvolutionWeightGrad.apply(gg, g, kernel_size=self.kernel_size, stride=stride, padding=padding,
                                            dilation=dilation, groups=groups) if nw else None)


class ConvolutionWeightGrad(Op):
    """The gradient of conv2d w.r.t. its weight, from the input x and the output gradient g."""

    def forward(self, x, g, kernel_size, stride, padding, dilation, groups):
        if self.needs_input_grad:
            nx, ng = self.needs_input_grad
            self.save_for_backward(x if ng else None, g if nx else None)
            self.args = (stride, padding, dilation, groups)
            self.input_size = x._data.shape[2:]
        return self.bk.conv2d_backward_weight(x._data, g._data, kernel_size, stride, padding, dilation, groups)

    def backward(self, gw):
        x, g = self.saved_tensors
        nx, ng = self.needs_input_grad
        stride, padding, dilation, groups = self.args
        return (ConvolutionInputGrad.apply(g, gw, input_size=self.input_size, stride=stride, padding=padding,
                                           dilation=dilation, groups=groups) if nx else None,
                _crop(Convolution.apply(x, gw, None, stride=stride, padding=padding, dilation=dilation,
                                        groups=groups), g.shape[2:]) if ng else None)


def _crop(t: Tensor, size: tuple) -> Tensor:
    """`t` without the rows and columns past `size` (a transposed convolution's output_padding reaches no output)."""
    return t if t.shape[2:] == size else t[:, :, :size[0], :size[1]]
