"""Sliding blocks as `Op`s on the backend's im2col/col2im kernels. They are adjoint linear maps, so the
backward of each is the other, and gradients of gradients work to any order."""
from __future__ import annotations

from ..autograd.node import Op

__all__ = ["Im2Col", "Col2Im"]


class Im2Col(Op):
    """The sliding blocks of x (N, C, H, W) as columns `(N, C*kh*kw, L)`."""

    def forward(self, x, kernel_size, stride, padding, dilation):
        self.args = (kernel_size, stride, padding, dilation)
        self.input_size = x._data.shape[2:]
        return self.bk.im2col(x._data, kernel_size, stride, padding, dilation)

    def backward(self, g):
        kernel_size, stride, padding, dilation = self.args
        return (Col2Im.apply(g, input_size=self.input_size, kernel_size=kernel_size, stride=stride, padding=padding,
                             dilation=dilation),)


class Col2Im(Op):
    """The sum of columns `(N, C*kh*kw, L)` back into the blocks of an (N, C, H, W) output of `input_size`."""

    def forward(self, cols, input_size, kernel_size, stride, padding, dilation):
        self.args = (kernel_size, stride, padding, dilation)
        return self.bk.col2im(cols._data, input_size, kernel_size, stride, padding, dilation)

    def backward(self, g):
        kernel_size, stride, padding, dilation = self.args
        return (Im2Col.apply(g, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation),)
