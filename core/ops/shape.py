"""Shape ops: views (reshape, permute, expand) and copies (cat, flip, pad, clone, to)."""
from __future__ import annotations

from .. import dtypes
from ..arguments import check_tensor, not_tensor, tensor_seq_arg
from ..autograd.function import Function
from ..autograd.node import Op
from ..autograd.views import index_layout, layout, make_view, reshape_strides
from ..device import as_device, device as device_cls
from .._tensor_base import Tensor, _dim
from .elementwise import cast, unbroadcast_array
from .out import write_out


def dims_tuple(dims, ndim: int, op: str) -> tuple:
    """Normalise an int or sequence of dims to a tuple of non-negative ints."""
    if isinstance(dims, int):
        return (_dim(dims, ndim, op),)
    out = tuple(_dim(int(d), ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {list(dims)} appears multiple times in the list of dims")
    return out


def _view_of(out: Tensor, base: Tensor, fn, layout_fn, overlap: bool = False) -> Tensor:
    """Record `out` as a view of `base` (`fn` recomputes it from a tensor like `base`, `layout_fn` its layout)."""
    return make_view(out, base, fn, layout_fn, overlap=overlap)


def _permuted_layout(dims):
    return lambda lay: (tuple(lay[0][d] for d in dims), tuple(lay[1][d] for d in dims), lay[2])


def _expanded_layout(shape):
    def f(lay):
        lead = len(shape) - len(lay[0])
        strides = tuple(0 if i < lead or lay[0][i - lead] != n else lay[1][i - lead] for i, n in enumerate(shape))
        return shape, strides, lay[2]
    return f


class Reshape(Op):
    keeps_dtype = True

    def forward(self, a, shape):
        self.in_shape = a._data.shape
        return self.bk.reshape(a._data, shape)

    def backward(self, g):
        return (reshape(g, self.in_shape),)


def infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in `shape` so it holds `numel` elements; RuntimeError when impossible."""
    shape = tuple(shape)
    known = 1
    unknown = None
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if unknown is not None:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:unknown] + (numel // known,) + shape[unknown + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(a: Tensor, shape) -> Tensor:
    """The same elements in `shape` (one dim may be -1); a view when the layout allows."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "reshape")
    shape = infer_shape(shape, a.numel())
    if shape == a._data.shape:
        return a
    if a._base is not None and reshape_strides(*layout(a)[:2], shape) is None:
        return Reshape.apply(clone(a), shape=shape)  # the layout needs a copy, as PyTorch's reshape takes
    return _view_of(Reshape.apply(a, shape=shape), a, lambda t: Reshape.apply(t, shape=shape),
                    lambda lay: (shape, reshape_strides(lay[0], lay[1], shape), lay[2]))


def view(a: Tensor, shape) -> Tensor:
    """`a` seen with `shape` (one dim may be -1), sharing its memory; an error when its layout needs a copy."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "view")
    shape = infer_shape(shape, a.numel())
    if a._base is not None and reshape_strides(*layout(a)[:2], shape) is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.")
    return reshape(a, shape)


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (a 0-d tensor becomes 1-d; its only dims are 0 and -1)."""
    if not isinstance(a, Tensor):
        raise not_tensor(a, "flatten")
    if a.ndim == 0:
        _dim(start_dim, 0, "flatten")
        _dim(end_dim, 0, "flatten")
        return reshape(a, (1,))
    s, e = _dim(start_dim, a.ndim, "flatten"), _dim(end_dim, a.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = a.shape
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(a, shape[:s] + (n,) + shape[e + 1:])


def unflatten(a: Tensor, dim: int, sizes) -> Tensor:
    """Split dim `dim` into `sizes` (one may be -1)."""
    check_tensor(a, "unflatten")
    d = _dim(dim, a.ndim, "unflatten")
    sizes = infer_shape(tuple(sizes), a.shape[d])
    return reshape(a, a.shape[:d] + sizes + a.shape[d + 1:])


def squeeze(a: Tensor, dim=None) -> Tensor:
    """Remove dims of size 1 (all of them, or those in `dim`)."""
    check_tensor(a, "squeeze")
    shape = a.shape
    if dim is None:
        return reshape(a, tuple(s for s in shape if s != 1))
    dims = dims_tuple(dim, a.ndim, "squeeze")
    return reshape(a, tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1)))


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at `dim`."""
    check_tensor(a, "unsqueeze")
    d = _dim(dim, a.ndim + 1, "unsqueeze")
    shape = a.shape
    return reshape(a, shape[:d] + (1,) + shape[d:])


class Permute(Op):
    keeps_dtype = True

    def forward(self, a, dims):
        self.dims = dims
        return self.bk.transpose(a._data, dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (permute(g, tuple(inverse)),)


def permute(a: Tensor, dims) -> Tensor:
    """Reorder the dims (a view)."""
    if len(dims) != a.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {a.ndim} is not "
                           f"equal to len(dims) = {len(dims)}")
    dims = dims_tuple(dims, a.ndim, "permute")
    if dims == tuple(range(a.ndim)):
        return a
    return _view_of(Permute.apply(a, dims=dims), a, lambda t: Permute.apply(t, dims=dims), _permuted_layout(dims))


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    check_tensor(a, "transpose")
    n = a.ndim
    if n < 2:
        _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
        return a
    d0, d1 = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    if d0 == d1:
        return a
    dims = list(range(n))
    dims[d0], dims[d1] = d1, d0
    dims = tuple(dims)
    return _view_of(Permute.apply(a, dims=dims), a, lambda t: Permute.apply(t, dims=dims), _permuted_layout(dims))


def movedim(a: Tensor, source, destination) -> Tensor:
    """Move dims `source` to positions `destination`."""
    check_tensor(a, "movedim")
    src = dims_tuple(source, a.ndim, "movedim")
    dst = dims_tuple(destination, a.ndim, "movedim")
    if len(src) != len(dst):
        raise RuntimeError("movedim: Invalid source or destination dims")
    order = [d for d in range(a.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(a, tuple(order))


class Expand(Op):
    keeps_dtype = True

    def forward(self, a, shape):
        self.in_shape = a._data.shape
        return self.bk.broadcast_to(a._data, shape)

    def backward(self, g):
        return (sum_to_size(g, self.in_shape),)


def expand(a: Tensor, sizes) -> Tensor:
    """A broadcast view with `sizes` (-1 keeps a dim); only size-1 dims grow."""
    shape = a.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shape)})")
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size {s} is not allowed in a leading, non-existing dimension")
            out.append(s)
            continue
        cur = shape[i - lead]
        if s == -1 or s == cur:
            out.append(cur)
        elif cur == 1:
            out.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
    out = tuple(out)
    if out == shape:
        return a
    overlap = any(n > 1 and (i < lead or shape[i - lead] == 1) for i, n in enumerate(out))
    return _view_of(Expand.apply(a, shape=out), a, lambda t: Expand.apply(t, shape=out), _expanded_layout(out),
                    overlap)


class SumToSize(Op):
    keeps_dtype = True

    def forward(self, a, shape):
        self.in_shape = a._data.shape
        return self.bk.reshape(unbroadcast_array(self.bk, a._data, shape), shape)

    def backward(self, g):
        return (expand(g, self.in_shape),)


def sum_to_size(a: Tensor, shape) -> Tensor:
    """Sum `a` down to the broadcastable `shape` (the reverse of `expand`)."""
    shape = tuple(shape)
    if shape == a._data.shape:
        return a
    lead = a.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != a.shape[lead + i] for i, s in enumerate(shape)):
        raise RuntimeError(f"size {list(shape)} is not expandable to size {list(a.shape)}")
    return SumToSize.apply(a, shape=shape)


class Flip(Op):
    def forward(self, a, dims):
        self.dims = dims
        return self.bk.flip(a._data, dims)

    def backward(self, g):
        return (flip(g, self.dims),)


def flip(a: Tensor, dims) -> Tensor:
    """Reverse the order of elements along `dims`."""
    check_tensor(a, "flip")
    return Flip.apply(a, dims=dims_tuple(dims, a.ndim, "flip"))


class Roll(Op):
    def forward(self, a, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return self.bk.roll(a._data, shifts, dims)

    def backward(self, g):
        return (Roll.apply(g, shifts=tuple(-s for s in self.shifts), dims=self.dims),)


def roll(a: Tensor, shifts, dims=None) -> Tensor:
    """Roll elements along `dims` (the flattened tensor when None) by `shifts`."""
    check_tensor(a, "roll")
    if dims is None:
        return reshape(roll(flatten(a), shifts, 0), a.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    return Roll.apply(a, shifts=shifts, dims=tuple(_dim(d, a.ndim, "roll") for d in dims))


class Cat(Op):
    def forward(self, *tensors, dim):
        self.dim = dim
        self.sizes = [t._data.shape[dim] for t in tensors]
        return self.bk.concatenate([t._data for t in tensors], dim)

    def backward(self, g):
        out, start = [], 0
        for size, need in zip(self.sizes, self.needs_input_grad):
            out.append(narrow(g, self.dim, start, size) if need else None)
            start += size
        return tuple(out)


def cat(tensors, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Concatenate tensors along an existing dim; dtypes promote, devices must agree."""
    if out is not None:
        return write_out("cat", cat(tensors, dim), out)
    tensors = tensor_seq_arg(tensors, "cat")
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    first = tensors[0]
    d = _dim(dim, first.ndim, "cat")
    dt = dtypes.result_type(*tensors) if any(t._dtype is not first._dtype for t in tensors) else first._dtype
    for i, t in enumerate(tensors):
        if t._device is not first._device:
            raise RuntimeError(f"cat(): expected all tensors to be on the same device, but found tensors on "
                               f"{first.device} and {t.device} (tensor {i})")
        if t.ndim != first.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, first.shape)) if j != d):
            raise RuntimeError(f"cat(): sizes of tensors must match except in dimension {d}; got {list(first.shape)} "
                               f"and {list(t.shape)} (tensor {i})")
    if dt is not first._dtype or any(t._dtype is not dt for t in tensors):
        tensors = [t.to(dt) for t in tensors]
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    if out is not None:
        return write_out("stack", stack(tensors, dim), out)
    tensors = tensor_seq_arg(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(t.shape)} at entry {i}")
    d = _dim(dim, len(shape) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def narrow(a: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice start:start+length of dim `dim` (a view)."""
    d = _dim(dim, a.ndim, "narrow")
    size = a.shape[d]
    if start < 0:
        start += size
    if not (0 <= start and length >= 0 and start + length <= size):
        raise IndexError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return a[(slice(None),) * d + (slice(start, start + length),)]


def select(a: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` of dim `dim`, without that dim (a view)."""
    check_tensor(a, "select")
    d = _dim(dim, a.ndim, "select")
    size = a.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(a.shape)} at dimension {d}")
    return a[(slice(None),) * d + (index,)]


def split(a: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of `split_size` (the last may be smaller) or of the listed sizes."""
    check_tensor(a, "split")
    d = _dim(dim, a.ndim, "split")
    size = a.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [min(step, size - s) for s in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sections}")
    out, start = [], 0
    name = "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes"
    for i, length in enumerate(sections):
        piece = narrow(a, d, start, length)
        piece._view_multi = f"Output {i} of {name}"
        out.append(piece)
        start += length
    return tuple(out)


def chunk(a: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into `chunks` nearly equal parts (fewer when the dim is small)."""
    check_tensor(a, "chunk")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    size = a.shape[_dim(dim, a.ndim, "chunk")]
    return split(a, max(1, -(-size // chunks)), dim)


class Unbind(Function):
    """All slices as ONE graph node whose backward stacks their gradients: slicing one at a time would
    make each slice's backward scatter into a zero tensor of the full shape (quadratic in the count)."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return tuple(a[(slice(None),) * dim + (i,)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def unbind(a: Tensor, dim: int = 0) -> tuple:
    """All slices along `dim`, with that dim removed."""
    check_tensor(a, "unbind")
    d = _dim(dim, a.ndim, "unbind")
    out = Unbind.apply(a, d)
    for i, piece in enumerate(out):
        key = (slice(None),) * d + (i, Ellipsis)
        make_view(piece, a, lambda t, key=key: t[key], index_layout(key), multi=f"Output {i} of Unbind")
    return out


def repeat(a: Tensor, sizes) -> Tensor:
    """Tile `a` `sizes[i]` times along each dim (new leading dims allowed)."""
    if len(sizes) < a.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(sizes) - a.ndim) + a.shape
    x = reshape(a, shape)
    interleaved = []
    for r, s in zip(sizes, shape):
        interleaved += [1, s]
    x = reshape(x, tuple(interleaved))
    target = []
    for r, s in zip(sizes, shape):
        target += [r, s]
    x = expand(x, tuple(target))
    return reshape(x, tuple(r * s for r, s in zip(sizes, shape)))


def tile(a: Tensor, dims) -> Tensor:
    """Like `repeat`, but missing leading reps count as 1."""
    dims = tuple(dims)
    if len(dims) < a.ndim:
        dims = (1,) * (a.ndim - len(dims)) + dims
    return repeat(a, dims)


class Pad(Op):
    def forward(self, a, pad_width, value):
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, a._data.shape))
        return self.bk.pad(a._data, pad_width, value)

    def backward(self, g):
        return (g[self.slices],)


def pad(a: Tensor, pad_width, value=0.0) -> Tensor:
    """Constant padding; `pad_width` is one (before, after) pair per dim, all non-negative."""
    return Pad.apply(a, pad_width=tuple(tuple(p) for p in pad_width), value=value)


class Clone(Op):
    def forward(self, a):
        return self.bk.copy(a._data)

    def backward(self, g):
        return (g,)


def clone(a: Tensor) -> Tensor:
    """A copy with its own memory; gradients flow back to `a`."""
    return Clone.apply(a)


class Transfer(Op):
    def forward(self, a, device):
        self.src = a._device
        self.bk, self.device = device.backend, device
        return self.bk.asarray(a._bk.to_numpy(a._data), a._dtype)

    def backward(self, g):
        return (transfer(g, self.src),)


def transfer(a: Tensor, device) -> Tensor:
    """`a` copied to `device` (through host memory); differentiable."""
    device.backend.check_dtype(a._dtype)
    return Transfer.apply(a, device=device)


def to_args(*args, **kwargs) -> tuple:
    """(device, dtype, copy) from the arguments of `Tensor.to` / `Module.to`; None where not given.

    As PyTorch, positional bools are `non_blocking` then `copy`. `non_blocking` is accepted and ignored:
    ember's transfers go through host memory and return when the copy is done."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    flags = 0
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dt = arg
        elif isinstance(arg, Tensor):
            dev, dt = arg.device, arg.dtype
        elif isinstance(arg, bool):
            if flags == 1:  # the first is non_blocking
                copy = arg
            flags += 1
        elif isinstance(arg, (str, device_cls, int)):
            dev = arg
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {arg!r}")
    return dev, (None if dt is None else dtypes.as_dtype(dt)), copy


def to(a: Tensor, *args, **kwargs) -> Tensor:
    """`to(dtype)`, `to(device[, dtype])`, `to(tensor)`, with keywords `dtype`, `device`, `copy`, `non_blocking`."""
    dev, dt, copy = to_args(*args, **kwargs)
    out = a
    if dev is not None:
        target = as_device(dev)
        if target is not a._device:
            out = transfer(out, target)
    if dt is not None:
        out = cast(out, dt)
    if copy and out is a:
        out = clone(a)
    return out
