"""2-D max and average pooling as `Op`s on the backend's pooling kernels. Each op's backward is an op whose
own backward is the forward again (average pooling and its gradient are adjoint linear maps; max pooling's
gradient scatters to the maxima, and its gradient gathers from them), so gradients of gradients work."""
from __future__ import annotations

from .. import creation, dtypes
from ..autograd.node import Op
from .._tensor_base import Tensor, _wrap

__all__ = ["max_pool2d", "avg_pool2d"]


def max_pool2d(x: Tensor, kernel_size, stride, padding, dilation, output_size,
               return_indices: bool = False) -> tuple[Tensor, Tensor | None]:
    """Max pooling of x (N, C, H, W) to `output_size` (arguments checked, all (h, w) pairs): the values and,
    with `return_indices`, PyTorch's int64 flat position of each maximum in its H*W plane (else None)."""
    values, argmax = x._bk.max_pool2d(x._data, kernel_size, stride, padding, dilation, output_size)
    out = MaxPool2DWithIndices.apply(x, values=values, argmax=argmax, kernel_size=kernel_size, stride=stride,
                                     padding=padding, dilation=dilation)
    if not return_indices:
        return out, None
    return out, _flat_indices(_wrap(argmax, x._bk, x._device), output_size, x.shape[2:], kernel_size, stride,
                              padding, dilation)


class MaxPool2DWithIndices(Op):
    """Max pooling of (N, C, H, W); `values` and `argmax` come from the backend's max_pool2d kernel."""

    def forward(self, x, values, argmax, kernel_size, stride, padding, dilation):
        if self.needs_input_grad:
            self.argmax, self.input_size = argmax, x._data.shape[2:]
            self.args = (kernel_size, stride, padding, dilation)
        return values

    def backward(self, g):
        kernel_size, stride, padding, dilation = self.args
        return (MaxPool2DWithIndicesBackward.apply(g, argmax=self.argmax, input_size=self.input_size,
                                                   kernel_size=kernel_size, stride=stride, padding=padding,
                                                   dilation=dilation),)


class MaxPool2DWithIndicesBackward(Op):
    """The gradient of max pooling: each output gradient added at its window's maximum."""

    def forward(self, g, argmax, input_size, kernel_size, stride, padding, dilation):
        if self.needs_input_grad:
            self.argmax, self.args = argmax, (g._data.shape[2:], input_size, kernel_size, stride, padding, dilation)
        return self.bk.max_pool2d_backward(g._data, argmax, input_size, kernel_size, stride, padding, dilation)

    def backward(self, gg):
        index = _flat_indices(_wrap(self.argmax, self.bk, self.device), *self.args)
        n, c, ho, wo = index.shape
        return (gg.reshape(n, c, -1).gather(2, index.reshape(n, c, ho * wo)).reshape(n, c, ho, wo),)


def _flat_indices(argmax: Tensor, output_size, input_size, kernel_size, stride, padding, dilation) -> Tensor:
    """PyTorch's max-pooling indices (flat positions in each H*W input plane) from window offsets."""
    kw, width = kernel_size[1], input_size[1]
    offset = argmax.to(dtypes.int64)
    rows = creation.arange(output_size[0], dtype=dtypes.int64, device=argmax.device).reshape(-1, 1)
    cols = creation.arange(output_size[1], dtype=dtypes.int64, device=argmax.device)
    row = rows * stride[0] - padding[0] + (offset // kw) * dilation[0]
    col = cols * stride[1] - padding[1] + (offset % kw) * dilation[1]
    return row * width + col


class AvgPool2D(Op):
    """Average pooling of (N, C, H, W) with PyTorch's divisor."""

    def forward(self, x, kernel_size, stride, padding, output_size, count_include_pad, divisor_override):
        if self.needs_input_grad:
            self.input_size = x._data.shape[2:]
            self.args = (kernel_size, stride, padding, count_include_pad, divisor_override)
        return self.bk.avg_pool2d(x._data, kernel_size, stride, padding, output_size, count_include_pad,
                                  divisor_override)

    def backward(self, g):
        kernel_size, stride, padding, count_include_pad, divisor_override = self.args
        return (AvgPool2DBackward.apply(g, input_size=self.input_size, kernel_size=kernel_size, stride=stride,
                                        padding=padding, count_include_pad=count_include_pad,
                                        divisor_override=divisor_override),)


class AvgPool2DBackward(Op):
    """The gradient of average pooling (its adjoint): each output gradient spread over its window."""

    def forward(self, g, input_size, kernel_size, stride, padding, count_include_pad, divisor_override):
        if self.needs_input_grad:
            self.output_size = g._data.shape[2:]
            self.args = (kernel_size, stride, padding, count_include_pad, divisor_override)
        return self.bk.avg_pool2d_backward(g._data, input_size, kernel_size, stride, padding, count_include_pad,
                                           divisor_override)

    def backward(self, gg):
        kernel_size, stride, padding, count_include_pad, divisor_override = self.args
        return (avg_pool2d(gg, kernel_size, stride, padding, self.output_size, count_include_pad, divisor_override),)


def avg_pool2d(x: Tensor, kernel_size, stride, padding, output_size, count_include_pad: bool,
                divisor_override) -> Tensor:
    """Average pooling of x (N, C, H, W) to `output_size` with PyTorch's divisor (arguments checked)."""
    return AvgPool2D.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, output_size=output_size,
                           count_include_pad=count_include_pad, divisor_override=divisor_override)
