"""Loss `Op`s with an analytic backward: negative log likelihood and cross entropy with class indices (one
fused log_softmax, a gather and the reduction), binary cross entropy (finite gradient at 0 and 1) and
binary cross entropy with logits (stable for any logit)."""
from __future__ import annotations

import math

from .. import dtypes
from ..autograd.node import Op
from .._tensor_base import Tensor, _wrap
from . import elementwise as ew
from .activations import Softmax

__all__ = ["NllLoss", "CrossEntropyIndex", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "value_range"]


def value_range(t: Tensor) -> tuple[int, int]:
    """(min, max) of the integer tensor `t` as Python ints, read on the host; (0, -1) when `t` is empty.

    Two reductions on the native array (no graph nodes): the class-index check of every cross-entropy call."""
    data = t._data
    if 0 in data.shape:
        return 0, -1
    bk = t._bk
    return int(bk.to_numpy(bk.min(data))), int(bk.to_numpy(bk.max(data)))


class _ClassIndexLoss(Op):
    """Shared forward of nll_loss and cross_entropy with class indices: pick log p[target], weight, reduce.

    The common case (every target a valid class, nothing to ignore) takes no mask at all.
    """

    def _pick(self, logp, target: Tensor, weight: Tensor | None, ignore_index: int, masked: bool, reduction: str):
        bk = self.bk
        n_classes = logp.shape[1]
        t = target._data
        valid = None
        if masked:
            valid = bk.not_equal(t, ignore_index)
            t = bk.where(valid, t, 0)
        dtype = bk.dtype_of(logp)
        w_t = None
        if weight is not None:
            w_t = bk.getitem(bk.astype(weight._data, dtype), t)
        if valid is not None:
            mask = bk.astype(valid, dtype)
            w_t = mask if w_t is None else bk.mul(w_t, mask)
        if logp.ndim == 2:
            self.picks = (bk.arange(0, t.shape[0], 1, dtypes.int64), t)
            picked = bk.getitem(logp, self.picks)
        else:
            picked = bk.reshape(bk.take_along_axis(logp, bk.reshape(t, _with_class_axis(t.shape)), 1), t.shape)
        loss = bk.neg(picked)
        if w_t is not None:
            bk.mul(loss, w_t, out=loss)
        self.reduction = reduction
        if self.needs_input_grad:
            self.t, self.w_t, self.n_classes = t, w_t, n_classes
        if reduction == "none":
            return loss
        total = bk.sum(loss)
        if reduction == "sum":
            return total
        self.denom = bk.sum(w_t) if w_t is not None else float(math.prod(t.shape))
        return bk.div(total, self.denom)

    def _scale(self):
        """d loss / d(-log p[target]) per unit of incoming gradient: the target's weight (a native array, or
        None for 1), divided by the mean's denominator; the one formula both backward passes use."""
        if self.reduction != "mean":
            return self.w_t
        if self.w_t is None:
            return 1.0 / self.denom if isinstance(self.denom, float) else self.bk.div(1.0, self.denom)
        return self.bk.div(self.w_t, self.denom)

    def _coef_array(self, g):
        """`_scale` times the incoming gradient `g` (a native array), class axis kept."""
        scale = self._scale()
        c = g if scale is None else self.bk.mul(g, scale)
        return self.bk.reshape(c, _with_class_axis(self.t.shape)) if c.ndim else c

    def _coef(self, g: Tensor) -> Tensor:
        """`_scale` times the incoming gradient `g` as tensor ops, differentiable in g (for double backward)."""
        scale = self._scale()
        if scale is not None:
            g = g * (scale if isinstance(scale, float) else _wrap(scale, self.bk, self.device))
        return g.reshape(_with_class_axis(self.t.shape)) if g.ndim else g

    def _onehot_array(self, dtype):
        bk = self.bk
        shape = (1, self.n_classes) + (1,) * (self.t.ndim - 1)
        classes = bk.reshape(bk.arange(0, self.n_classes, 1, dtypes.int64), shape)
        return bk.astype(bk.equal(classes, bk.reshape(self.t, _with_class_axis(self.t.shape))), dtype)

    def _onehot(self, dtype) -> Tensor:
        return _wrap(self._onehot_array(dtype), self.bk, self.device)


def _with_class_axis(shape: tuple) -> tuple:
    return (shape[0], 1) + tuple(shape[1:])


class NllLoss(_ClassIndexLoss):
    def forward(self, logp, target, weight, ignore_index, masked, reduction):
        return self._pick(logp._data, target, weight, ignore_index, masked, reduction)

    def backward(self, g):
        return (-(self._onehot(g.dtype) * self._coef(g)), None, None)


class CrossEntropyIndex(_ClassIndexLoss):
    """log_softmax over dim 1 fused with nll_loss; backward (softmax - onehot) * coef."""

    def forward(self, x, target, weight, ignore_index, masked, reduction):
        logp = self.bk.log_softmax(x._data, 1)
        if self.needs_input_grad:
            self.save_for_backward(x)
            self.logp = logp
        return self._pick(logp, target, weight, ignore_index, masked, reduction)

    def backward(self, g):
        (x,) = self.saved_tensors
        return ((Softmax.apply(x, dim=1) - self._onehot(x.dtype)) * self._coef(g), None, None)

    def backward_arrays(self, g):
        bk = self.bk
        dx = bk.exp(self.logp)
        if dx.ndim == 2:  # each row's target entry once: subtract 1 in place
            bk.setitem(dx, self.picks, bk.sub(bk.getitem(dx, self.picks), 1))
        else:
            bk.sub(dx, self._onehot_array(bk.dtype_of(dx)), out=dx)
        bk.mul(dx, self._coef_array(g), out=dx)
        return (dx, None, None)


class BinaryCrossEntropy(Op):
    """-(y log x + (1 - y) log(1 - x)) with each log clamped at -100; d/dx = (x - y) / max(x (1 - x), 1e-12)."""

    def forward(self, x, y):
        bk = self.bk
        xd, yd = x._data, y._data
        if self._outside_unit(xd):
            raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply "
                               "sigmoid first, or use binary_cross_entropy_with_logits on the logits)")
        if self._outside_unit(yd):
            raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1 (targets are "
                               "probabilities)")
        if self.needs_input_grad:
            self.save_for_backward(x, y)
        log_x, log_1mx = self._clamped_log(xd), self._clamped_log(bk.sub(1.0, xd))
        # -(y * log_x + (1 - y) * log_1mx) = (y - 1) * log_1mx - y * log_x
        return bk.sub(bk.mul(bk.sub(yd, 1.0), log_1mx), bk.mul(yd, log_x))

    def _outside_unit(self, a) -> bool:
        """True when some element of `a` is outside [0, 1] or NaN, as PyTorch checks input and target."""
        bk = self.bk
        return bool(bk.any(bk.logical_not(bk.logical_and(bk.greater_equal(a, 0), bk.less_equal(a, 1)))))

    def _clamped_log(self, a):
        """max(log(a), -100), with log(0) = -100 computed without a division-by-zero warning."""
        bk = self.bk
        positive = bk.greater(a, 0)
        return bk.maximum(bk.where(positive, bk.log(bk.where(positive, a, 1.0)), -100.0), -100.0)

    def backward(self, g):
        x, y = self.saved_tensors
        nx, ny = self.needs_input_grad
        gx = g * (x - y) / ew.clamp(x * (1 - x), 1e-12, None) if nx else None
        gy = g * (_clamped_log(1 - x) - _clamped_log(x)) if ny else None
        return (gx, gy)


def _clamped_log(t: Tensor) -> Tensor:
    """max(log(t), -100) as tensor ops (log(0) = -100), as PyTorch clamps binary_cross_entropy's logs."""
    positive = t > 0
    return ew.where(positive, ew.clamp(ew.log(ew.where(positive, t, 1.0)), -100.0, None), -100.0)


class BinaryCrossEntropyWithLogits(Op):
    """(1 - z) x + L * softplus(-x), L = 1 + (pos_weight - 1) z, with softplus(-x) = max(-x, 0) + log1p(exp(-|x|))."""

    def forward(self, x, z, pos_weight):
        bk = self.bk
        xd, zd = x._data, z._data
        sp = bk.add(bk.maximum(bk.neg(xd), 0.0), bk.log1p(bk.exp(bk.neg(bk.abs(xd)))))
        if pos_weight is not None:
            pw = pos_weight._data
            sp = bk.mul(bk.add(bk.mul(bk.sub(pw, 1.0), zd), 1.0), sp)
        if self.needs_input_grad:
            self.save_for_backward(x, z, pos_weight)
        return bk.add(bk.mul(bk.sub(1.0, zd), xd), sp)

    def backward(self, g):
        x, z, pw = self.saved_tensors
        nx, nz, npw = self.needs_input_grad
        s = ew.sigmoid(x)
        gx = gz = gpw = None
        if pw is None:
            if nx:
                gx = g * (s - z)
            if nz:
                gz = -g * x
        else:
            if nx:
                gx = g * ((1 + (pw - 1) * z) * s - pw * z)
            if nz or npw:
                sp = ew.clamp(-x, 0.0, None) + ew.log1p(ew.exp(-ew.abs(x)))
                if nz:
                    gz = ew.unbroadcast(g * ((pw - 1) * sp - x), z.shape)
                if npw:
                    gpw = ew.unbroadcast(g * z * sp, pw.shape)
        return (gx, gz, gpw)
