"""Batch and layer normalisation as `Op`s with an analytic backward. Each formula (the statistics, the
gradients) is written once against backend method names and runs on native arrays with the backend
(forward, first-order backward) or on tensors through `_TENSOR_MATH` (a backward differentiable again)."""
from __future__ import annotations

from ..autograd.node import Op
from .._tensor_base import Tensor, _wrap

__all__ = ["BatchNorm", "LayerNorm"]


class _TensorMath:
    """Tensor ops under the backend's method names, so that each formula below is written once and serves
    both native arrays (`bk`, the first-order backward) and tensors (a backward differentiable again)."""

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def sub(a, b):
        return a - b

    @staticmethod
    def mul(a, b):
        return a * b

    @staticmethod
    def div(a, b):
        return a / b

    @staticmethod
    def sqrt(a):
        return a.sqrt()

    @staticmethod
    def sum(a, axes, keepdims=False):
        return a.sum(axes, keepdim=keepdims)

    @staticmethod
    def reshape(a, shape):
        return a.reshape(shape)


_TENSOR_MATH = _TensorMath()


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _standardize(m, x, axes: tuple, eps: float):
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance), with mean, biased var and 1/std kept;
    `m` is a backend (native arrays) or `_TENSOR_MATH` (tensors)."""
    n = _count(x.shape, axes)
    mean = m.div(m.sum(x, axes, True), n)
    xc = m.sub(x, mean)
    var = m.div(m.sum(m.mul(xc, xc), axes, True), n)
    invstd = m.div(1.0, m.sqrt(m.add(var, eps)))
    return m.mul(xc, invstd), mean, var, invstd


def _affine(bk, y, weight, bias, shape):
    if weight is not None:
        y = bk.mul(y, bk.reshape(weight._data, shape))
    if bias is not None:
        y = bk.add(y, bk.reshape(bias._data, shape))
    return y


def _norm_input_grad(m, g, xhat, invstd, axes: tuple):
    """d(loss)/dx for xhat = (x - mean(x)) * invstd(x) over `axes`, given g = d(loss)/d(xhat)."""
    n = _count(g.shape, axes)
    mean_g = m.div(m.sum(g, axes, True), n)
    mean_gx = m.div(m.sum(m.mul(g, xhat), axes, True), n)
    return m.mul(m.sub(m.sub(g, mean_g), m.mul(xhat, mean_gx)), invstd)


def _batch_norm_grads(m, g, xhat, invstd, weight, needs, axes: tuple, shape: tuple, training: bool) -> tuple:
    """The gradients of batch norm (input, weight, bias, and None for the running statistics)."""
    gx = gw = gb = None
    if needs[0]:
        gxhat = m.mul(g, m.reshape(weight, shape)) if weight is not None else g
        gx = _norm_input_grad(m, gxhat, xhat, invstd, axes) if training else m.mul(gxhat, invstd)
    if needs[1]:
        gw = m.sum(m.mul(g, xhat), axes)
    if needs[2]:
        gb = m.sum(g, axes)
    return gx, gw, gb, None, None


def _layer_norm_grads(m, g, xhat, invstd, weight, needs, axes: tuple) -> tuple:
    """The gradients of layer norm over the trailing `axes` (input, weight, bias)."""
    lead = tuple(range(len(g.shape) - len(axes)))
    gx = gw = gb = None
    if needs[0]:
        gx = _norm_input_grad(m, m.mul(g, weight) if weight is not None else g, xhat, invstd, axes)
    if needs[1]:
        gw = m.sum(m.mul(g, xhat), lead) if lead else m.mul(g, xhat)
    if needs[2]:
        gb = m.sum(g, lead) if lead else g
    return gx, gw, gb


class BatchNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1): batch statistics when
    `training` (then the running statistics, when given, are updated in place), else the running ones."""

    def forward(self, x, weight, bias, running_mean, running_var, training, momentum, eps):
        bk = self.bk
        data = x._data
        c = data.shape[1]
        shape = (1, c) + (1,) * (data.ndim - 2)
        axes = (0,) + tuple(range(2, data.ndim))
        if training:
            xhat, mean, var, invstd = _standardize(bk, data, axes, eps)
            if running_mean is not None:
                n = x.numel() // c
                _blend_(running_mean, bk.reshape(mean, (c,)), momentum)
                _blend_(running_var, bk.mul(bk.reshape(var, (c,)), n / (n - 1)), momentum)
        else:
            mean = bk.reshape(bk.astype(running_mean._data, x._dtype), shape)
            invstd = bk.div(1.0, bk.sqrt(bk.add(bk.reshape(bk.astype(running_var._data, x._dtype), shape), eps)))
            xhat = bk.mul(bk.sub(data, mean), invstd)
        if self.needs_input_grad:
            self.save_for_backward(x, weight)
            self.xhat, self.mean, self.invstd = xhat, mean, invstd
            self.axes, self.shape, self.training, self.eps = axes, shape, training, eps
        return _affine(bk, xhat, weight, bias, shape)

    def backward(self, g):
        x, weight = self.saved_tensors
        if self.training:  # statistics recomputed from x, so this backward is differentiable in x
            xhat, _, _, invstd = _standardize(_TENSOR_MATH, x, self.axes, self.eps)
        else:
            invstd = _wrap(self.invstd, self.bk, self.device)
            xhat = (x - _wrap(self.mean, self.bk, self.device)) * invstd
        return _batch_norm_grads(_TENSOR_MATH, g, xhat, invstd, weight, self.needs_input_grad, self.axes, self.shape,
                                 self.training)

    def backward_arrays(self, g):
        weight = self.saved_tensors[1]
        return _batch_norm_grads(self.bk, g, self.xhat, self.invstd, None if weight is None else weight._data,
                                 self.needs_input_grad, self.axes, self.shape, self.training)


def _blend_(running: Tensor, batch, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch, in place (a buffer: no graph)."""
    bk = running._bk
    data = running._data
    bk.mul(data, 1.0 - momentum, out=data)
    bk.add(data, bk.astype(bk.mul(batch, momentum), running._dtype), out=data)
    running._version[0] += 1


class LayerNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last `n` dims."""

    def forward(self, x, weight, bias, n, eps):
        bk = self.bk
        data = x._data
        axes = tuple(range(data.ndim - n, data.ndim))
        xhat, _, _, invstd = _standardize(bk, data, axes, eps)
        if self.needs_input_grad:
            self.save_for_backward(x, weight)
            self.xhat, self.invstd, self.axes, self.eps = xhat, invstd, axes, eps
        shape = data.shape[data.ndim - n:]
        return _affine(bk, xhat, weight, bias, shape)

    def backward(self, g):
        x, weight = self.saved_tensors
        xhat, _, _, invstd = _standardize(_TENSOR_MATH, x, self.axes, self.eps)  # differentiable in x
        return _layer_norm_grads(_TENSOR_MATH, g, xhat, invstd, weight, self.needs_input_grad, self.axes)

    def backward_arrays(self, g):
        weight = self.saved_tensors[1]
        return _layer_norm_grads(self.bk, g, self.xhat, self.invstd, None if weight is None else weight._data,
                                 self.needs_input_grad, self.axes)
