"""Tier 3 of the backend interface: fused kernels, with default bodies over the primitives.

Core calls one of these where a whole computation (a linear layer, a convolution, an optimizer
update) is one step of a model; a backend overrides a kernel to run it faster (fewer passes,
less memory, a library routine), and ember's consistency test holds every override against the
default here. Kernels with more than a few parameters take them by keyword.
"""
from __future__ import annotations

from typing import Callable

from ember import dtypes

from .derived import DerivedPrimitives
from .required import Array

A = Array


class FusedKernels(DerivedPrimitives):
    """Kernels with defaults written over the primitives (tier 3)."""

    def linear(self, x: A, weight: A, bias: A | None) -> A:
        """x @ weight.T (+ bias): x `(*, in)`, weight (out, in), bias (out,) or None; output `(*, out)`."""
        out = self.matmul(x, self.transpose(weight, (1, 0)))
        return out if bias is None else self.add(out, bias, out=out)

    def linear_backward(self, grad: A, x: A | None, weight: A | None,
                        needs_bias: bool) -> tuple[A | None, A | None, A | None]:
        """Gradients of `linear` from `grad` `(*, out)`: (`grad @ weight` if weight is given,
        `grad.T @ x` over the flattened leading dims if x is given, grad summed over them if needs_bias)."""
        g2 = grad if grad.ndim == 2 else self.reshape(grad, (-1, grad.shape[-1]))
        gx = None if weight is None else self.matmul(grad, weight)
        gw = None
        if x is not None:
            gw = self.matmul(self.transpose(g2, (1, 0)), x if x.ndim == 2 else self.reshape(x, (-1, x.shape[-1])))
        return gx, gw, self.sum(g2, (0,)) if needs_bias else None

    def logsumexp(self, a: A, axis: int, keepdims: bool = False) -> A:
        """log(sum(exp(a))) along `axis`, computed stably."""
        m = self.max(a, axis, True)
        m = self.where(self.isinf(m), 0.0, m)
        s = self.log(self.sum(self.exp(self.sub(a, m)), axis, True))
        out = self.add(s, m)
        return out if keepdims else self.reshape(out, _drop_axis(out.shape, axis))

    def softmax(self, a: A, axis: int) -> A:
        """exp(a) / sum(exp(a)) along `axis`, computed stably."""
        e = self.exp(self.sub(a, self.max(a, axis, True)))
        return self.div(e, self.sum(e, axis, True))

    def sigmoid(self, a: A) -> A:
        """1 / (1 + exp(-a)), with full relative precision in both tails and no overflow."""
        e = self.exp(self.neg(self.abs(a)))  # exp(-|a|) never overflows
        r = self.div(1, self.add(e, 1))
        return self.where(self.less(a, 0), self.mul(e, r), r)

    def tanh_backward(self, grad: A, out: A) -> A:
        """grad * (1 - out**2): the tanh gradient from its output."""
        return self.mul(grad, self.sub(1, self.mul(out, out)))

    def sigmoid_backward(self, grad: A, out: A) -> A:
        """grad * out * (1 - out): the sigmoid gradient from its output."""
        return self.mul(self.mul(grad, out), self.sub(1, out))

    def relu_backward(self, grad: A, out: A) -> A:
        """`grad` where the ReLU output `out` is positive, else 0 (same shape and dtype as grad)."""
        return self.where(self.greater(out, 0), grad, 0)

    def log_softmax(self, a: A, axis: int) -> A:
        """a - logsumexp(a) along `axis`, as (a - max) - log(sum(exp(a - max))): exact shifts keep the
        precision of the result even for logits of magnitude 1e4. A row holding +inf, or only -inf, is NaN."""
        shifted = self.sub(a, self.max(a, axis, True))
        return self.sub(shifted, self.log(self.sum(self.exp(shifted), axis, True)))

    # -- convolution and pooling (2-D, NCHW; 1-D callers add a unit height) --
    # Shared arguments: `kernel_size`, `stride`, `padding` (zeros on both sides; max pooling's
    # padding never wins), `dilation` and `output_size` are (height, width) pairs of ints; output
    # sizes are PyTorch's, computed by the caller. A pooling window may run past the padded input
    # on the bottom/right (ceil_mode); those positions are padding too. Results may be strided
    # views (any layout); inputs may be too.
    def im2col(self, x: A, kernel_size, stride, padding, dilation) -> A:
        """The patches of `x` (N, C, H, W) as columns: `(N, C*kh*kw, Ho*Wo)`, rows ordered (c, i, j)."""
        n, c = x.shape[:2]
        (kh, kw), (ho, wo) = kernel_size, _conv_out(x.shape[2:], kernel_size, stride, padding, dilation)
        xp = _pad2d(self, x, padding, (0, 0), 0.0)
        patches = [self.reshape(self.getitem(xp, _window(i, j, stride, dilation, (ho, wo))), (n, c, 1, ho * wo))
                   for i in range(kh) for j in range(kw)]
        return self.reshape(self.concatenate(patches, 2), (n, c * kh * kw, ho * wo))

    def col2im(self, cols: A, input_size, kernel_size, stride, padding, dilation) -> A:
        """The adjoint of `im2col`: sums the columns `(N, C*kh*kw, Ho*Wo)` back into (N, C, H, W)."""
        (kh, kw), (h, w), (ph, pw) = kernel_size, input_size, padding
        ho, wo = _conv_out(input_size, kernel_size, stride, padding, dilation)
        n, c = cols.shape[0], cols.shape[1] // (kh * kw)
        cols = self.reshape(cols, (n, c, kh, kw, ho, wo))
        out = self.full((n, c, h + 2 * ph, w + 2 * pw), 0, self.dtype_of(cols))
        for i in range(kh):
            for j in range(kw):
                key = _window(i, j, stride, dilation, (ho, wo))
                self.setitem(out, key, self.add(self.getitem(out, key), self.getitem(cols, (slice(None),) * 2 + (i, j))))
        return self.getitem(out, (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + w)))

    def conv2d(self, x: A, weight: A, stride, padding, dilation, groups: int) -> A:
        """Cross-correlation of `x` (N, C, H, W) with `weight` (O, C/groups, kh, kw): (N, O, Ho, Wo), no bias."""
        n, o, (kh, kw) = x.shape[0], weight.shape[0], weight.shape[2:]
        ho, wo = _conv_out(x.shape[2:], (kh, kw), stride, padding, dilation)
        cols = self.im2col(x, (kh, kw), stride, padding, dilation)
        cols = self.reshape(cols, (n, groups, cols.shape[1] // groups, ho * wo))
        out = self.matmul(self.reshape(weight, (groups, o // groups, cols.shape[2])), cols)
        return self.reshape(out, (n, o, ho, wo))

    def conv2d_backward_input(self, grad: A, weight: A, input_size, stride, padding, dilation, groups: int) -> A:
        """Gradient of `conv2d` w.r.t. its input (the transposed convolution of `grad` (N, O, Ho, Wo)
        with `weight`): (N, C, H, W) with (H, W) = `input_size`. (Ho, Wo) may be smaller than conv2d's
        output for `input_size` (a transposed convolution's `output_padding`): the missing rows and
        columns have zero gradient."""
        kh, kw = weight.shape[2:]
        full = _conv_out(input_size, (kh, kw), stride, padding, dilation)
        if tuple(grad.shape[2:]) != full:
            grad = self.pad(grad, ((0, 0), (0, 0), (0, full[0] - grad.shape[2]), (0, full[1] - grad.shape[3])), 0)
        n, o, ho, wo = grad.shape
        k = weight.shape[1] * kh * kw
        w = self.transpose(self.reshape(weight, (groups, o // groups, k)), (0, 2, 1))
        cols = self.matmul(w, self.reshape(grad, (n, groups, o // groups, ho * wo)))
        return self.col2im(self.reshape(cols, (n, groups * k, ho * wo)), input_size, (kh, kw), stride, padding,
                           dilation)

    def conv2d_backward_weight(self, x: A, grad: A, kernel_size, stride, padding, dilation, groups: int) -> A:
        """Gradient of `conv2d` w.r.t. its weight, from input `x` (N, C, H, W) and `grad` (N, O, Ho, Wo):
        (O, C/groups, kh, kw). (Ho, Wo) may be smaller than conv2d's output for `x` (the extra rows
        and columns of a transposed convolution's `output_padding`)."""
        n, o, ho, wo = grad.shape
        cols = self.im2col(x, kernel_size, stride, padding, dilation)
        full = _conv_out(x.shape[2:], kernel_size, stride, padding, dilation)
        if full != (ho, wo):
            cols = self.reshape(cols, cols.shape[:2] + full)
            cols = self.reshape(self.getitem(cols, (slice(None), slice(None), slice(0, ho), slice(0, wo))),
                                (n, cols.shape[1], ho * wo))
        k = cols.shape[1] // groups
        cols = self.transpose(self.reshape(cols, (n, groups, k, ho * wo)), (0, 1, 3, 2))
        dw = self.sum(self.matmul(self.reshape(grad, (n, groups, o // groups, ho * wo)), cols), 0)
        return self.reshape(dw, (o, x.shape[1] // groups) + tuple(kernel_size))

    def conv2d_bias(self, x: A, weight: A, bias: A | None, stride, padding, dilation, groups: int) -> A:
        """`conv2d` with `bias` (O,) added to every output channel in the same kernel (None: no bias):
        (N, O, Ho, Wo)."""
        out = self.conv2d(x, weight, stride, padding, dilation, groups)
        if bias is None:
            return out
        return self.add(out, self.reshape(bias, (1, bias.shape[0], 1, 1)))

    def conv2d_backward_weight_bias(self, x: A, grad: A, kernel_size, stride, padding, dilation,
                                    groups: int) -> tuple[A, A]:
        """The gradients of `conv2d_bias` w.r.t. its weight and its bias, from input `x` (N, C, H, W) and
        `grad` (N, O, Ho, Wo): (`conv2d_backward_weight`'s (O, C/groups, kh, kw), `grad` summed to (O,))."""
        dw = self.conv2d_backward_weight(x, grad, kernel_size, stride, padding, dilation, groups)
        return dw, self.sum(self.sum(grad, (0,)), (1, 2))

    def max_pool2d(self, x: A, kernel_size, stride, padding, dilation, output_size) -> tuple[A, A]:
        """Max over each window of `x` (N, C, H, W): (values (N, C, Ho, Wo), argmax). `argmax` is an
        integer array (any integer dtype) holding each maximum's offset i*kw + j inside its window;
        padding never wins, the first maximum does, and a NaN beats every number (PyTorch's rules)."""
        kh, kw = kernel_size
        low = lowest(self.dtype_of(x))
        xp = _pad2d(self, x, padding, _overhang(x.shape[2:], kernel_size, stride, padding, dilation, output_size), low)
        shape = x.shape[:2] + tuple(output_size)
        out = self.full(shape, low, self.dtype_of(x))
        arg = self.broadcast_to(self.asarray(first_inside(kernel_size, stride, padding, dilation, output_size),
                                             dtypes.int64), shape)
        for i in range(kh):
            for j in range(kw):
                v = self.getitem(xp, _window(i, j, stride, dilation, output_size))
                better = self.logical_or(self.greater(v, out), self.isnan(v))
                out, arg = self.where(better, v, out), self.where(better, i * kw + j, arg)
        return out, arg

    def max_pool2d_backward(self, grad: A, argmax: A, input_size, kernel_size, stride, padding, dilation) -> A:
        """Gradient of `max_pool2d` w.r.t. its input: each `grad` (N, C, Ho, Wo) value added at its
        window's maximum (`argmax` from `max_pool2d`); returns (N, C, H, W)."""
        return self._pool_scatter(lambda i, j: self.where(self.equal(argmax, i * kernel_size[1] + j), grad, 0),
                                  grad, input_size, kernel_size, stride, padding, dilation)

    def avg_pool2d(self, x: A, kernel_size, stride, padding, output_size, count_include_pad: bool,
                   divisor_override: int | None) -> A:
        """Mean over each window of `x` (N, C, H, W), with PyTorch's divisor: (N, C, Ho, Wo)."""
        kh, kw = kernel_size
        xp = _pad2d(self, x, padding, _overhang(x.shape[2:], kernel_size, stride, padding, (1, 1), output_size), 0.0)
        total = None
        for i in range(kh):
            for j in range(kw):
                v = self.getitem(xp, _window(i, j, stride, (1, 1), output_size))
                total = v if total is None else self.add(total, v)
        return self.mul(total, self._pool_scale(x, kernel_size, stride, padding, output_size, count_include_pad,
                                                divisor_override))

    def avg_pool2d_backward(self, grad: A, input_size, kernel_size, stride, padding, count_include_pad: bool,
                            divisor_override: int | None) -> A:
        """Gradient of `avg_pool2d` w.r.t. its input, from `grad` (N, C, Ho, Wo): (N, C, H, W)."""
        scale = self._pool_scale(grad, kernel_size, stride, padding, grad.shape[2:], count_include_pad,
                                 divisor_override, input_size)
        g = self.mul(grad, scale)
        return self._pool_scatter(lambda i, j: g, grad, input_size, kernel_size, stride, padding, (1, 1))

    def _pool_scatter(self, part, grad: A, input_size, kernel_size, stride, padding, dilation) -> A:
        """Sum part(i, j) (shaped like `grad`) into each window offset (i, j) of a zero input gradient."""
        (h, w), (ph, pw), output_size = input_size, padding, grad.shape[2:]
        eh, ew = _overhang(input_size, kernel_size, stride, padding, dilation, output_size)
        out = self.full(grad.shape[:2] + (h + 2 * ph + eh, w + 2 * pw + ew), 0, self.dtype_of(grad))
        for i in range(kernel_size[0]):
            for j in range(kernel_size[1]):
                key = _window(i, j, stride, dilation, output_size)
                self.setitem(out, key, self.add(self.getitem(out, key), part(i, j)))
        return self.getitem(out, (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + w)))

    def _pool_scale(self, like: A, kernel_size, stride, padding, output_size, count_include_pad: bool,
                    divisor_override: int | None, input_size=None):
        """1 / divisor of `avg_pool2d`: a Python float, or an (Ho, Wo) array of `like`'s dtype."""
        if divisor_override:
            return 1.0 / divisor_override
        size = like.shape[2:] if input_size is None else input_size
        rows, cols = (_window_counts(size[d], kernel_size[d], stride[d], padding[d], output_size[d], count_include_pad)
                      for d in (0, 1))
        dtype = self.dtype_of(like)
        return self.div(1.0, self.mul(self.reshape(self.asarray(rows, dtype), (len(rows), 1)),
                                      self.reshape(self.asarray(cols, dtype), (1, len(cols)))))

    def sgd_step(self, param: A, grad: A, momentum_buffer: A | None, *, lr: float, momentum: float,
                 dampening: float, weight_decay: float, nesterov: bool, maximize: bool) -> A | None:
        """One `torch.optim.SGD` update of `param`, in place.

        `param`, `grad` and `momentum_buffer` (None before the first step) are arrays of one shape
        and floating dtype; the rest are Python numbers. With d = (-grad if maximize else grad) +
        weight_decay * param: buf = momentum * buf + (1 - dampening) * d (buf = d on the first step),
        then param -= lr * (d + momentum * buf if nesterov else buf), or lr * d without momentum.
        Returns the momentum buffer (a new array on the first step), None when momentum == 0.
        """
        d, owned = grad, False
        if weight_decay != 0:
            d = self.mul(param, weight_decay)
            (self.sub if maximize else self.add)(d, grad, out=d)
            owned = True
        elif maximize:
            d, owned = self.neg(grad), True
        update = d
        if momentum != 0:
            if momentum_buffer is None:
                momentum_buffer = d if owned else self.copy(d)
            else:
                self.mul(momentum_buffer, momentum, out=momentum_buffer)
                self.add(momentum_buffer, d if dampening == 0 else self.mul(d, 1 - dampening), out=momentum_buffer)
            if nesterov:
                update = self.mul(momentum_buffer, momentum)
                self.add(update, d, out=update)
                owned = True
            else:
                update, owned = momentum_buffer, False
        if owned:
            self.mul(update, lr, out=update)
        else:
            update = self.mul(update, lr)
        self.sub(param, update, out=param)
        return momentum_buffer if momentum != 0 else None

    def adam_step(self, param: A, grad: A, exp_avg: A, exp_avg_sq: A, max_exp_avg_sq: A | None, *, step: float,
                  lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                  decoupled_weight_decay: bool, maximize: bool) -> None:
        """One `torch.optim.Adam` (AdamW when `decoupled_weight_decay`) update, in place.

        `param`, `grad`, `exp_avg`, `exp_avg_sq` and `max_exp_avg_sq` (None unless amsgrad) are
        arrays of one shape and floating dtype; `step` is the step number after this update (1 on
        the first). Updates param, exp_avg, exp_avg_sq (and max_exp_avg_sq) as PyTorch does.
        """
        g = self.neg(grad) if maximize else grad
        if weight_decay != 0:
            if decoupled_weight_decay:
                self.mul(param, 1 - lr * weight_decay, out=param)
            else:
                wd = self.mul(param, weight_decay)
                g = self.add(wd, g, out=wd)
        tmp = self.sub(g, exp_avg)
        self.mul(tmp, 1 - beta1, out=tmp)
        self.add(exp_avg, tmp, out=exp_avg)
        self.mul(g, g, out=tmp)
        self.mul(tmp, 1 - beta2, out=tmp)
        self.mul(exp_avg_sq, beta2, out=exp_avg_sq)
        self.add(exp_avg_sq, tmp, out=exp_avg_sq)
        second = exp_avg_sq
        if max_exp_avg_sq is not None:
            self.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second = max_exp_avg_sq
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        self.sqrt(second, out=tmp)
        self.div(tmp, bias_correction2_sqrt, out=tmp)
        self.add(tmp, eps, out=tmp)
        self.div(exp_avg, tmp, out=tmp)
        self.mul(tmp, lr / (1 - beta1 ** step), out=tmp)
        self.sub(param, tmp, out=param)

    # -- compiler hooks --
    def fuse_elementwise(self, chain) -> Callable | None:
        """A function computing `chain` (an `ember.backends.elementwise_chain.ElementwiseChain`) in one call,
        or None to decline (the default: the calls run one by one).

        `ember.compile` asks once per chain of a recorded program. The function is called as
        `fn(*inputs, out=None)` with the chain's input arrays, and returns the last step's result, written
        into `out` (an array of the chain's shape and dtype, overlapping no input) when given. Its result must
        equal `elementwise_chain.run_unfused` bit for bit.
        """
        return None


def _drop_axis(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    axis = axis % len(shape)
    return shape[:axis] + shape[axis + 1:]


def _conv_out(input_size, kernel_size, stride, padding, dilation) -> tuple[int, int]:
    return tuple((input_size[d] + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1) // stride[d] + 1
                 for d in (0, 1))


def _window(i: int, j: int, stride, dilation, output_size) -> tuple:
    """Index of kernel offset (i, j) of every window: a strided (N, C, Ho, Wo) view of the padded input."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, output_size
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


def _overhang(input_size, kernel_size, stride, padding, dilation, output_size) -> tuple[int, int]:
    """Extra bottom/right padding the last (ceil_mode) windows need beyond `padding`."""
    return tuple(max(0, (output_size[d] - 1) * stride[d] + dilation[d] * (kernel_size[d] - 1) + 1
                     - input_size[d] - 2 * padding[d]) for d in (0, 1))


def _pad2d(bk: FusedKernels, x: A, padding, overhang, value: float) -> A:
    (ph, pw), (eh, ew) = padding, overhang
    if not (ph or pw or eh or ew):
        return x
    return bk.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), value)


def lowest(dtype) -> float | int:
    """The value max pooling pads with: -inf, or the smallest value of an integer dtype."""
    if dtype.is_floating_point:
        return float("-inf")
    return -(1 << (8 * dtype.itemsize - 1)) if dtype.is_signed else 0


def first_inside(kernel_size, stride, padding, dilation, output_size) -> list[list[int]]:
    """(Ho, Wo) nested lists: the window offset i*kw + j of each window's first non-padding position."""
    rows, cols = ([-(-max(0, p - o * s) // d) for o in range(n)]
                  for s, p, d, n in zip(stride, padding, dilation, output_size))
    return [[i * kernel_size[1] + j for j in cols] for i in rows]


def _window_counts(size: int, k: int, s: int, p: int, out: int, count_include_pad: bool) -> list[int]:
    """avg_pool's divisor along one axis, per output position (PyTorch's rule)."""
    counts = []
    for o in range(out):
        start = o * s - p
        end = min(start + k, size + p)
        counts.append(end - start if count_include_pad else min(end, size) - max(start, 0))
    return counts
