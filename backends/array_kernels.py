"""`ArrayKernels`: the fast paths numpy and cupy share, written against the array module `xp`.

Overrides of derived primitives (bound straight to the module's ufuncs and functions) and of
fused kernels (linear layers, log-softmax, the SGD update, convolution and pooling over strided
views). Every override here is held against its default body by the consistency test. Tuning
that only one library needs lives in that library's backend.
"""
from __future__ import annotations

from ember import dtypes

from .array_backend import ArrayBackend, bind_ufuncs, install_ufunc_methods, ufunc_tables
from .fused import _conv_out, _overhang, _window, first_inside, lowest

DERIVED_UNARY = {
    "tan": "tan", "abs": "absolute", "sign": "sign", "ceil": "ceil", "logical_not": "logical_not",
}
DERIVED_BINARY = {
    "sub": "subtract", "remainder": "remainder", "maximum": "maximum", "minimum": "minimum",
    "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor",
}
DERIVED_COMPARE = {
    "not_equal": "not_equal", "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
}
_DERIVED_TABLES = ufunc_tables(DERIVED_UNARY, DERIVED_BINARY, DERIVED_COMPARE)


class _Constants(dict):
    """0-d arrays holding `value`, one per native dtype, made on first use."""

    def __init__(self, xp, value: int) -> None:
        super().__init__()
        self.xp, self.value = xp, value

    def __missing__(self, dtype):
        const = self[dtype] = self.xp.full((), self.value, dtype)
        return const


class ArrayKernels(ArrayBackend):
    """`ArrayBackend` plus direct array-module implementations of derived primitives and fused kernels."""

    def __init__(self, index: int | None = None) -> None:
        super().__init__(index)
        bind_ufuncs(self, _DERIVED_TABLES)
        # 0-d operands for the backward kernels: NumPy 2 takes a slower path for a Python scalar
        # operand (weak-scalar promotion), ~1.5x an array-array op on small arrays
        self._zeros = _Constants(self.xp, 0)
        self._ones = _Constants(self.xp, 1)

    # ---- transfer and creation ----
    def from_dlpack(self, obj):
        return self.xp.from_dlpack(obj)  # shares the memory

    def copy(self, a):
        return a.copy()

    def copy_(self, dst, src) -> None:
        self.xp.copyto(dst, src, casting="unsafe")

    def empty(self, shape, dtype):
        return self.xp.empty(shape, self._to_native[dtype])

    def linspace(self, start, end, steps, dtype):
        return self.xp.linspace(start, end, steps, dtype=self._to_native[dtype])

    def eye(self, n, m, dtype):
        return self.xp.eye(n, m, dtype=self._to_native[dtype])

    # ---- random ----
    def normal(self, gen, shape, mean, std, dtype):
        r = self._float_sample(gen.standard_normal, shape, dtype)
        if std != 1.0:
            r *= std
        if mean != 0.0:
            r += mean
        return r

    def randint(self, gen, low, high, shape, dtype):
        native = self._to_native[dtype]
        if dtype.is_floating_point or dtype is dtypes.bool:
            return self._arr(gen.integers(low, high, size=shape, dtype=self.xp.int64)).astype(native)
        return self._arr(gen.integers(low, high, size=shape, dtype=native))

    def permutation(self, gen, n, dtype):
        return gen.permutation(n).astype(self._to_native[dtype])

    def multinomial(self, gen, probs, num_samples, replacement):
        xp = self.xp
        p = probs.astype(xp.float64)
        p = p / p.sum(axis=1, keepdims=True)
        rows = [gen.choice(p.shape[1], size=num_samples, replace=replacement, p=row) for row in p]
        return xp.stack(rows).astype(xp.int64)

    # ---- elementwise extras ----
    def round(self, a, decimals=0):
        return self._arr(self.xp.round(a, decimals))

    def isnan(self, a):
        return self._arr(self.xp.isnan(a))

    def isinf(self, a):
        return self._arr(self.xp.isinf(a))

    def clip(self, a, low, high, out=None):
        return self._arr(self.xp.clip(a, low, high, out=out))

    def relu_backward(self, grad, out):
        mask = self.xp.greater(out, self._zeros[out.dtype]).astype(grad.dtype)  # a float mask: faster than where()
        return self.xp.multiply(mask, grad, out=mask)

    def tanh_backward(self, grad, out):
        xp = self.xp
        return xp.multiply(grad, xp.subtract(self._ones[out.dtype], xp.multiply(out, out)))

    def sigmoid_backward(self, grad, out):
        xp = self.xp
        return xp.multiply(xp.multiply(grad, out), xp.subtract(self._ones[out.dtype], out))

    def sigmoid(self, a):
        # exp(-|a|) never overflows and keeps relative precision in both tails; ~10x faster than logaddexp
        xp = self.xp
        e = xp.exp(-xp.abs(a))
        r = 1 / (1 + e)
        return self._arr(xp.where(a >= 0, r, e * r))

    # ---- reductions ----
    def min(self, a, axis=None, keepdims=False):
        return self._arr(a.min(axis=axis, keepdims=keepdims))

    def argmin(self, a, axis=None, keepdims=False):
        return self._arr(a.argmin(axis=axis, keepdims=keepdims)).astype(self.xp.int64, copy=False)

    def all(self, a, axis=None, keepdims=False):
        return self._arr(a.all(axis=axis, keepdims=keepdims))

    def any(self, a, axis=None, keepdims=False):
        return self._arr(a.any(axis=axis, keepdims=keepdims))

    # ---- shape and indexing ----
    def flip(self, a, axes):
        return self.xp.flip(a, axes)

    def roll(self, a, shifts, axes):
        return self.xp.roll(a, shifts, axes)

    def pad(self, a, pad_width, value):
        return self.xp.pad(a, pad_width, constant_values=value)

    def take_along_axis(self, a, index, axis):
        return self.xp.take_along_axis(a, index, axis)

    def scatter_add(self, a, axis, index, src):
        xp = self.xp
        out = a.copy()
        idx = list(xp.indices(index.shape, sparse=True))
        idx[axis] = index
        xp.add.at(out, tuple(idx), src[tuple(slice(0, n) for n in index.shape)])
        return out

    def _gemm(self, a, b):
        """The products of the fused kernels (linear, convolution): a backend may choose how each one runs."""
        return self.xp.matmul(a, b)

    def linear(self, x, weight, bias):
        lead = x.shape[:-1]
        out = self._gemm(x if x.ndim == 2 else x.reshape(-1, x.shape[-1]), weight.T)
        if bias is not None:
            self.xp.add(out, bias, out=out)
        return out if len(lead) == 1 else out.reshape(lead + out.shape[-1:])

    def linear_backward(self, grad, x, weight, needs_bias):
        matmul = self._gemm
        g2 = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])
        gx = None
        if weight is not None:
            gx = matmul(g2, weight)
            if grad.ndim != 2:
                gx = gx.reshape(grad.shape[:-1] + weight.shape[1:])
        gw = None if x is None else matmul(g2.T, x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
        return gx, gw, g2.sum(0) if needs_bias else None

    def log_softmax(self, a, axis):
        if a.ndim == 0:
            return super().log_softmax(a, axis)
        xp = self.xp
        shifted = xp.subtract(a, a.max(axis, keepdims=True))
        total = xp.exp(shifted).sum(axis, keepdims=True)
        return xp.subtract(shifted, xp.log(total, out=total), out=shifted)

    def sgd_step(self, param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                 maximize):
        if momentum_buffer is None or momentum == 0 or weight_decay != 0 or dampening != 0 or nesterov or maximize:
            return super().sgd_step(param, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
                                    weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        xp = self.xp  # plain momentum, the common case: three ufunc calls
        xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
        xp.add(momentum_buffer, grad, out=momentum_buffer)
        xp.subtract(param, xp.multiply(momentum_buffer, lr), out=param)
        return momentum_buffer

    # ---- convolution and pooling ----
    # Convolutions run as GEMMs over channel-major columns (C*kh*kw, B*Ho*row) of chunks of B
    # samples: numpy's stacked matmul would run one small GEMM per sample (layers with few column
    # rows are the exception, below). With stride 1 the columns are built on a "wide" grid whose
    # rows hold a padded input row, so each kernel offset is one contiguous shift of the flattened
    # padded planes (long copies and adds instead of short strided rows); the extra columns are
    # cropped from the output and zero in gradients. Adjacent rows share their zero columns (a
    # window reaching past a row's right end reads the next row's left padding), which keeps the
    # wide rows, and the products' wasted columns, short.
    @staticmethod
    def _wide_row(width: int, kernel_width: int, padding: int, dilation: int) -> int:
        """The row length of the wide grid: the input row and one shared run of zeros, long enough
        to pad either side and to hold a row of outputs."""
        return width + max(padding, 2 * padding - (kernel_width - 1) * dilation)

    def _padded_planes(self, x, padding, extra_rows: int, row: int):
        """`x` (N, C, H, W) in a new zero (C, N, H + 2ph + extra_rows, row) array, at rows ph:ph+H and
        columns pw:pw+W."""
        n, c, h, w = x.shape
        ph, pw = padding
        buf = self.xp.zeros((c, n, h + 2 * ph + extra_rows, row), x.dtype)
        buf[:, :, ph:ph + h, pw:pw + w] = x.transpose(1, 0, 2, 3)
        return buf

    def _conv_columns(self, x, kernel_size, stride, padding, dilation, output_size, ones: bool = False):
        """(columns `(C*kh*kw, N*Ho*row)`, row): the patches of `x` for the first `output_size` outputs,
        row = the wide row (stride 1) or Wo; with `ones`, a last row of ones (it sums a bias gradient)."""
        n, c = x.shape[:2]
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_size, stride, dilation, output_size
        as_strided = self.xp.lib.stride_tricks.as_strided
        if sh == 1 and sw == 1:
            row = self._wide_row(x.shape[3], kw, padding[1], dw)
            # the last sample's windows read up to (kw-1)*dw past its last row
            buf = self._padded_planes(x, padding, -(-(kw - 1) * dw // row), row)
            sc, sn, sr, it = buf.strides
            view = as_strided(buf, (c, kh, kw, n, ho * row), (sc, dh * sr, dw * it, sn, it))
        else:
            buf = self._padded_planes(x, padding, 0, x.shape[3] + 2 * padding[1])
            sc, sn, sr, it = buf.strides
            row = wo
            view = as_strided(buf, (c, kh, kw, n, ho, wo), (sc, dh * sr, dw * it, sn, sh * sr, sw * it))
        k = c * kh * kw
        cols = self.xp.empty((k + ones, n * ho * row), x.dtype)
        cols[:k].reshape(view.shape)[...] = view
        if ones:
            cols[k] = 1
        return cols, row

    #: the most bytes of columns one product of the channel-major layout covers: the batch runs in
    #: chunks of samples whose columns stay in cache while they are copied and multiplied (the
    #: products stay large enough for OpenBLAS's full speed), and memory stays flat for large batches
    conv_chunk_bytes = 1 << 21

    def _batch_chunks(self, x, kernel_size, stride, output_size) -> list[tuple[int, int]]:
        """(start, stop) sample ranges whose channel-major columns take about `conv_chunk_bytes`."""
        n, c = x.shape[:2]
        (kh, kw), (ho, wo) = kernel_size, output_size
        row = x.shape[3] + kw if stride[0] == stride[1] == 1 else wo  # a bound on the padded width
        per_sample = c * kh * kw * ho * row * x.dtype.itemsize
        step = max(1, self.conv_chunk_bytes // max(1, per_sample))
        return [(start, min(n, start + step)) for start in range(0, n, step)] or [(0, 0)]

    # Without groups, a layer with fewer column rows than output channels (C*kh*kw <= O: the first
    # layers, C=1 or 3) runs sample-major: one product per sample of the weight (O, C*kh*kw) with that
    # sample's columns (C*kh*kw, Ho*Wo) writes its (O, Ho*Wo) output straight in NCHW, where the
    # channel-major layout above would transpose an output (and its gradient) much larger than the
    # columns. A row of ones under the columns adds the bias in the same product (and sums its
    # gradient). Wider layers keep the large channel-major GEMMs, which OpenBLAS runs faster (and on
    # several threads).
    @staticmethod
    def _sample_major(weight_shape, groups: int) -> bool:
        o, c, kh, kw = weight_shape
        return groups == 1 and c * kh * kw <= o

    def _sample_columns(self, x, kernel_size, stride, padding, dilation, output_size, ones: bool):
        """The patches of `x` (N, C, H, W) for the first `output_size` outputs as per-sample columns
        `(N, C*kh*kw (+1), Ho*Wo)`, rows ordered (c, i, j), then a row of ones when `ones`."""
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (dh, dw), (ho, wo), (ph, pw) = kernel_size, stride, dilation, output_size, padding
        src = x
        if ph or pw:
            src = self.xp.zeros((n, c, h + 2 * ph, w + 2 * pw), x.dtype)
            src[:, :, ph:ph + h, pw:pw + w] = x
        sn, sc, sr, it = src.strides
        view = self.xp.lib.stride_tricks.as_strided(src, (n, c, kh, kw, ho, wo),
                                                    (sn, sc, dh * sr, dw * it, sh * sr, sw * it))
        k = c * kh * kw
        cols = self.xp.empty((n, k + ones, ho * wo), x.dtype)
        cols[:, :k].reshape(view.shape)[...] = view  # splits axes only: a view of cols, never a copy
        if ones:
            cols[:, k] = 1
        return cols

    def _grad_rows(self, grad, row: int):
        """`grad` (N, O, Ho, Wo) as `(O, N*Ho*row)`, zero in the columns past Wo."""
        n, o, ho, wo = grad.shape
        if row == wo:
            return grad.transpose(1, 0, 2, 3).reshape(o, n * ho * wo)
        rows = self.xp.zeros((o, n, ho, row), grad.dtype)  # one memset: faster than zeroing the strided tail
        rows[..., :wo] = grad.transpose(1, 0, 2, 3)
        return rows.reshape(o, n * ho * row)

    def _grouped_matmul(self, a, b, groups: int):
        """a `(G*m, k)` @ b `(G*k, n)` per group: `(G*m, n)`."""
        if groups == 1:
            return self._gemm(a, b)
        out = self._gemm(a.reshape(groups, a.shape[0] // groups, a.shape[1]),
                             b.reshape(groups, b.shape[0] // groups, b.shape[1]))
        return out.reshape(-1, out.shape[2])

    def conv2d(self, x, weight, stride, padding, dilation, groups):
        return self.conv2d_bias(x, weight, None, stride, padding, dilation, groups)

    def conv2d_bias(self, x, weight, bias, stride, padding, dilation, groups):
        n, o = x.shape[0], weight.shape[0]
        ho, wo = _conv_out(x.shape[2:], weight.shape[2:], stride, padding, dilation)
        w2 = weight.reshape(o, -1)
        ones = bias is not None and groups == 1  # the bias as the weight of a row of ones in the columns
        if ones:
            w2 = self.xp.concatenate((w2, bias.reshape(o, 1)), axis=1)
        if self._sample_major(weight.shape, groups):
            cols = self._sample_columns(x, weight.shape[2:], stride, padding, dilation, (ho, wo), ones)
            return self._gemm(w2, cols).reshape(n, o, ho, wo)
        # a dense NCHW result (one copy) keeps the ReLU, pooling and their gradients that follow on
        # contiguous arrays: on the strided product each runs about 2x slower
        nchw = self.xp.empty((n, o, ho, wo), x.dtype)
        for start, stop in self._batch_chunks(x, weight.shape[2:], stride, (ho, wo)):
            cols, row = self._conv_columns(x[start:stop], weight.shape[2:], stride, padding, dilation, (ho, wo),
                                           ones)
            out = self._grouped_matmul(w2, cols, groups).reshape(o, stop - start, ho, row)[:, :, :, :wo]
            nchw[start:stop].transpose(1, 0, 2, 3)[...] = out
            if bias is not None and not ones:
                self.xp.add(nchw[start:stop], bias.reshape(1, o, 1, 1), out=nchw[start:stop])
        return nchw

    def conv2d_backward_input(self, grad, weight, input_size, stride, padding, dilation, groups):
        xp = self.xp
        n, o, ho, wo = grad.shape
        (kh, kw), (h, w), (ph, pw), (dh, dw) = weight.shape[2:], input_size, padding, dilation
        c = weight.shape[1] * groups
        hp, wp = h + 2 * ph, w + 2 * pw
        wt = weight.reshape(groups, o // groups, -1).transpose(0, 2, 1).reshape(-1, o // groups)
        if stride[0] == 1 and stride[1] == 1:
            # the gradient rows span whole planes of wide rows, zero past (Ho, Wo), so the columns are
            # zero there too: each kernel offset then adds to the planes of all samples with one shift
            # (one long add, where per-sample rows run ~3x slower). A plane holds the top padding and
            # the input rows; its bottom padding overlaps the next plane's top padding (both are
            # dropped), and past a row's end a window lands in the next row's left padding. So every
            # nonzero column lands in its own sample's input rows or in padding, and the zeros
            # shifted past them add nothing.
            row, plane = self._wide_row(w, kw, pw, dw), max(h + ph, ho)
            rows = xp.zeros((o, n, plane, row), grad.dtype)
            rows[:, :, :ho, :wo] = grad.transpose(1, 0, 2, 3)
            span = n * plane * row
            cols = self._grouped_matmul(wt, rows.reshape(o, span), groups).reshape(c, kh, kw, span)
            planes = xp.zeros((c, span + (kh - 1) * dh * row + (kw - 1) * dw), grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    start = i * dh * row + j * dw
                    planes[:, start:start + span] += cols[:, i, j]
            planes = planes[:, :span].reshape(c, n, plane, row)
        else:
            cols = self._grouped_matmul(wt, self._grad_rows(grad, wo), groups).reshape(c, kh, kw, n, ho * wo)
            planes = xp.zeros((c, n, hp, wp), grad.dtype)
            cols = cols.reshape(c, kh, kw, n, ho, wo)
            for i in range(kh):
                for j in range(kw):
                    planes[_window(i, j, stride, dilation, (ho, wo))] += cols[:, i, j]
        # dense NCHW, as conv2d's result: the pooling and activation gradients that follow run ~1.5x
        # faster on it than on the strided crop, more than the copy costs
        nchw = xp.empty((n, c, h, w), grad.dtype)
        nchw.transpose(1, 0, 2, 3)[...] = planes[:, :, ph:ph + h, pw:pw + w]
        return nchw

    def conv2d_backward_weight(self, x, grad, kernel_size, stride, padding, dilation, groups):
        return self._conv_parameter_grads(x, grad, kernel_size, stride, padding, dilation, groups, False)[0]

    def conv2d_backward_weight_bias(self, x, grad, kernel_size, stride, padding, dilation, groups):
        return self._conv_parameter_grads(x, grad, kernel_size, stride, padding, dilation, groups, True)

    def _conv_parameter_grads(self, x, grad, kernel_size, stride, padding, dilation, groups, bias: bool):
        """(weight gradient, bias gradient or None): without groups the bias gradient comes out of the
        weight gradient's product, as the column of its row of ones."""
        n, o = grad.shape[:2]
        shape = (o, x.shape[1] // groups) + tuple(kernel_size)
        ones = bias and groups == 1
        if self._sample_major(shape, groups):
            cols = self._sample_columns(x, kernel_size, stride, padding, dilation, grad.shape[2:], ones)
            dw = self._gemm(grad.reshape(n, o, -1), cols.transpose(0, 2, 1)).sum(0)
        else:
            dw = None
            for start, stop in self._batch_chunks(x, kernel_size, stride, grad.shape[2:]):
                cols, row = self._conv_columns(x[start:stop], kernel_size, stride, padding, dilation, grad.shape[2:],
                                               ones)
                part = self._weight_gradient(self._grad_rows(grad[start:stop], row), cols, stop - start, groups)
                dw = part.reshape(o, -1) if dw is None else self.xp.add(dw, part.reshape(o, -1), out=dw)
        if ones:
            return dw[:, :-1].reshape(shape), dw[:, -1]
        return dw.reshape(shape), grad.sum(axis=(0, 2, 3)) if bias else None

    def _weight_gradient(self, g, cols, n: int, groups: int):
        """g `(O, N*P)` @ cols `(C*kh*kw, N*P)`.T per group: the `(O, C/groups*kh*kw)` weight gradient."""
        o = g.shape[0]
        return self._gemm(g.reshape(groups, o // groups, -1),
                          cols.reshape(groups, cols.shape[0] // groups, -1).transpose(0, 2, 1))

    def _pool_input(self, x, kernel_size, stride, padding, dilation, output_size, value: float):
        (ph, pw), (eh, ew) = padding, _overhang(x.shape[2:], kernel_size, stride, padding, dilation, output_size)
        if not (ph or pw or eh or ew):
            return x
        n, c, h, w = x.shape
        buf = self.xp.full((n, c, h + 2 * ph + eh, w + 2 * pw + ew), value, x.dtype)
        buf[:, :, ph:ph + h, pw:pw + w] = x
        return buf

    @staticmethod
    def _tiled(kernel_size, stride, padding, dilation, input_size, output_size) -> bool:
        """Whether the windows tile the input without overlap or padding (kernel == stride, the common
        MaxPool2d(k)): then the input reshapes to (N, C, Ho, kh, Wo, kw) windows."""
        return (tuple(kernel_size) == tuple(stride) and not any(padding) and tuple(dilation) == (1, 1)
                and all(o * k <= n for o, k, n in zip(output_size, kernel_size, input_size)))

    def _tiles(self, x, kernel_size, output_size):
        """`x` (N, C, H, W) as its (N, C, Ho, kh, Wo, kw) windows (a view; rows/columns past them dropped)."""
        (kh, kw), (ho, wo) = kernel_size, output_size
        return x[:, :, :ho * kh, :wo * kw].reshape(x.shape[:2] + (ho, kh, wo, kw))

    def _max_pool_2x2(self, x, output_size):
        """2x2 tiles: the larger of each row's two values, then of the two rows; ties keep the first
        maximum in raster order (strict comparisons), as PyTorch. The four corners are first copied
        apart into contiguous planes: one strided copy, then every comparison runs on long
        contiguous loops (~1.5x faster than comparing the strided corner views)."""
        xp = self.xp
        corners = xp.empty((2, 2) + tuple(x.shape[:2]) + tuple(output_size), x.dtype)
        corners[...] = self._tiles(x, (2, 2), output_size).transpose(3, 5, 0, 1, 2, 4)
        a, b, c, d = corners[0, 0], corners[0, 1], corners[1, 0], corners[1, 1]
        right, lower_right = xp.greater(b, a), xp.greater(d, c)
        top, bottom = xp.maximum(a, b, out=a), xp.maximum(c, d, out=c)
        lower = xp.greater(bottom, top)
        out = xp.maximum(top, bottom)
        # arg = lower ? 2 + lower_right : right, with int8 arithmetic (masked selection is slower)
        arg = xp.subtract(lower_right.view(xp.int8), right.view(xp.int8))
        arg += 2
        arg *= lower
        arg += right
        return out, arg

    # Masked numpy calls (where, copyto(where=), boolean indexing) branch per element and run
    # several times slower on the random masks pooling makes; these kernels use arithmetic on
    # masks instead.
    def max_pool2d(self, x, kernel_size, stride, padding, dilation, output_size):
        xp = self.xp
        if tuple(kernel_size) == (2, 2) and self._tiled(kernel_size, stride, padding, dilation, x.shape[2:],
                                                        output_size):
            out, arg = self._max_pool_2x2(x, output_size)
            if not xp.isnan(out).any():  # NaN windows (rare) need the general kernel's last-NaN rule
                return out, arg
        src = self._pool_input(x, kernel_size, stride, padding, dilation, output_size, lowest(self.dtype_of(x)))
        kw = kernel_size[1]
        views = [src[_window(k // kw, k % kw, stride, dilation, output_size)]
                 for k in range(kernel_size[0] * kw)]
        index_dtype = xp.int8 if len(views) < 128 else xp.int32
        if src is x:  # no padding: every window starts with a real value
            first = 1
            out = xp.copy(views[0], order="K")
            arg = xp.zeros(out.shape, index_dtype)
        else:  # padding never wins: start below everything, at each window's first real position
            first = 0
            out = xp.full(views[0].shape, lowest(self.dtype_of(x)), x.dtype)
            arg = xp.empty(out.shape, index_dtype)
            arg[...] = xp.asarray(first_inside(kernel_size, stride, padding, dilation, output_size), index_dtype)
        better = xp.empty(out.shape, bool)
        step = xp.empty(out.shape, arg.dtype)
        for k in range(first, len(views)):
            # the last k whose value beats the running maximum is the largest such k (and any
            # such k comes after the window's first real position)
            xp.greater(views[k], out, out=better)
            xp.multiply(better, k, out=step)
            xp.maximum(arg, step, out=arg)
            xp.maximum(out, views[k], out=out)
        nan = xp.isnan(out)
        if nan.any():  # PyTorch's rule: the last NaN of a window wins
            last = xp.zeros(out.shape, arg.dtype)
            for k in range(len(views)):
                xp.isnan(views[k], out=better)
                xp.multiply(better, k, out=step)
                xp.maximum(last, step, out=last)
            arg = xp.where(nan, last, arg)
        return out, arg

    def _pool_planes(self, like, input_size, kernel_size, stride, padding, dilation):
        """A zero (N, C, Hp, Wp) gradient of the padded pooling input, and the crop back to (H, W)."""
        (h, w), (ph, pw) = input_size, padding
        eh, ew = _overhang(input_size, kernel_size, stride, padding, dilation, like.shape[2:])
        planes = self.xp.zeros(like.shape[:2] + (h + 2 * ph + eh, w + 2 * pw + ew), like.dtype)
        return planes, (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + w))

    def max_pool2d_backward(self, grad, argmax, input_size, kernel_size, stride, padding, dilation):
        xp = self.xp
        kh, kw = kernel_size
        if self._tiled(kernel_size, stride, padding, dilation, input_size, grad.shape[2:]):
            return self._max_pool_tiled_backward(grad, argmax, input_size, kernel_size)
        planes, crop = self._pool_planes(grad, input_size, kernel_size, stride, padding, dilation)
        disjoint = all(stride[d] >= dilation[d] * (kernel_size[d] - 1) + 1 for d in (0, 1))
        mask = xp.empty(argmax.shape, bool)
        for k in range(kh * kw):
            xp.equal(argmax, k, out=mask)
            view = planes[_window(k // kw, k % kw, stride, dilation, grad.shape[2:])]
            if disjoint:  # each position is in at most one window: write, do not add
                self._select(grad, mask, view)
            else:
                view += self._select(grad, mask, xp.empty(grad.shape, grad.dtype))
        return planes[crop]

    def _max_pool_tiled_backward(self, grad, argmax, input_size, kernel_size):
        """Tiled windows: every input position is in exactly one window (or past them all), so each
        kernel offset's select is written straight into its slot and only the uncovered tail is zeroed.
        (One broadcast select over all offsets is ~8x slower: numpy's inner loop becomes the kw axis.)"""
        xp = self.xp
        (kh, kw), (ho, wo) = kernel_size, grad.shape[2:]
        (h, w), covered = input_size, ho * kh == input_size[0] and wo * kw == input_size[1]
        planes = (xp.empty if covered else xp.zeros)(grad.shape[:2] + (h, w), grad.dtype)
        tiles = self._tiles(planes, kernel_size, (ho, wo))
        mask = xp.empty(argmax.shape, bool)
        for k in range(kh * kw):
            xp.equal(argmax, k, out=mask)
            self._select(grad, mask, tiles[:, :, :, k // kw, :, k % kw])
        return planes

    def _select(self, a, mask, out):
        """`out` = a where mask else 0, exactly (NaN and inf stay where mask is False): the bits of
        `a` times the mask, which numpy runs without branching."""
        bits = self.xp.dtype(f"u{a.dtype.itemsize}")
        self.xp.multiply(a.view(bits), mask, out=out.view(bits))
        return out

    def avg_pool2d(self, x, kernel_size, stride, padding, output_size, count_include_pad, divisor_override):
        xp = self.xp
        kh, kw = kernel_size
        src = self._pool_input(x, kernel_size, stride, padding, (1, 1), output_size, 0.0)
        total = xp.copy(src[_window(0, 0, stride, (1, 1), output_size)], order="K")
        for k in range(1, kh * kw):
            total += src[_window(k // kw, k % kw, stride, (1, 1), output_size)]
        total *= self._pool_scale(x, kernel_size, stride, padding, output_size, count_include_pad, divisor_override)
        return total

    def avg_pool2d_backward(self, grad, input_size, kernel_size, stride, padding, count_include_pad,
                            divisor_override):
        kh, kw = kernel_size
        g = grad * self._pool_scale(grad, kernel_size, stride, padding, grad.shape[2:], count_include_pad,
                                    divisor_override, input_size)
        planes, crop = self._pool_planes(grad, input_size, kernel_size, stride, padding, (1, 1))
        for k in range(kh * kw):
            planes[_window(k // kw, k % kw, stride, (1, 1), grad.shape[2:])] += g
        return planes[crop]


install_ufunc_methods(ArrayKernels, _DERIVED_TABLES)
