"""Activation `Op`s with an analytic backward: leaky ReLU, GELU, log-sigmoid, softmax and log-softmax
(ReLU, sigmoid and tanh are in `ember.ops.elementwise`)."""
from __future__ import annotations

import math
import warnings

from .. import dtypes
from .._tensor_base import Tensor, _dim
from ..autograd.node import Op
from . import elementwise as ew

__all__ = ["LeakyRelu", "Gelu", "LogSigmoid", "Softmax", "LogSoftmax"]

_SQRT1_2 = 1 / math.sqrt(2.0)
_INV_SQRT_2PI = 1 / math.sqrt(2.0 * math.pi)


class LeakyRelu(Op):
    def forward(self, x, slope):
        if self.needs_input_grad:
            self.save_for_backward(x)
            self.slope = slope
        bk = self.bk
        return bk.where(bk.greater(x._data, 0), x._data, bk.mul(x._data, slope))

    def backward(self, g):
        (x,) = self.saved_tensors
        return (ew.where(x > 0, g, g * self.slope),)


class Gelu(Op):
    """x * Phi(x), Phi the standard normal CDF through erf."""

    def forward(self, x):
        if self.needs_input_grad:
            self.save_for_backward(x)
        bk = self.bk
        return bk.mul(bk.mul(x._data, 0.5), bk.add(bk.erf(bk.mul(x._data, _SQRT1_2)), 1.0))

    def backward(self, g):
        (x,) = self.saved_tensors
        cdf = (ew.erf(x * _SQRT1_2) + 1.0) * 0.5
        pdf = ew.exp(x * x * -0.5) * _INV_SQRT_2PI
        return (g * (cdf + x * pdf),)


class LogSigmoid(Op):
    def forward(self, x):
        self.save_for_backward(x)
        bk, d = self.bk, x._data
        return bk.sub(bk.minimum(d, 0), bk.log1p(bk.exp(bk.neg(bk.abs(d)))))

    def backward(self, g):
        return (g * ew.sigmoid(-self.saved_tensors[0]),)


class Softmax(Op):
    save_output = True

    def forward(self, x, dim):
        self.dim = dim
        return self.bk.softmax(x._data, dim)

    def backward(self, g):
        y = self.saved_output()
        return (y * (g - (g * y).sum(self.dim, keepdim=True)),)

    def backward_arrays(self, g):
        bk, y = self.bk, self.saved_output_array()
        return (bk.mul(y, bk.sub(g, bk.sum(bk.mul(g, y), self.dim, True))),)


class LogSoftmax(Op):
    save_output = True

    def forward(self, x, dim):
        self.dim = dim
        return self.bk.log_softmax(x._data, dim)

    def backward(self, g):
        y = self.saved_output()
        return (g - ew.exp(y) * g.sum(self.dim, keepdim=True),)

    def backward_arrays(self, g):
        bk = self.bk
        return (bk.sub(g, bk.mul(bk.exp(self.saved_output_array()), bk.sum(g, self.dim, True))),)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax_like(op, name: str, input: Tensor, dim, dtype) -> Tensor:
    """`op` (Softmax or LogSoftmax) applied along `dim` after casting to `dtype` when given; PyTorch's
    implicit-dim warning when `dim` is None. `name` is the public function, for the messages."""
    if dim is None:
        dim = _softmax_dim(name, input.ndim)
    if dtype is not None:
        input = ew.cast(input, dtypes.as_dtype(dtype))
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating-point input, got {input.dtype} (pass dtype=ember.float32)")
    if input.ndim == 0:
        _dim(dim, 0, name)
        return op.apply(input.reshape(1), dim=0).reshape(())
    return op.apply(input, dim=_dim(dim, input.ndim, name))
