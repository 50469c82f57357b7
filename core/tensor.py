"""`ember.Tensor`: a native array of some backend, its device and dtype, and its place in the graph.

Methods are thin: the math lives in `ember.ops` (one file per family), written against the
backend interface, so this file reads as the list of what a tensor offers. The class itself, with
its storage and metadata, is defined at the bottom of the import stack (`ember._tensor_base`); this
module sits above the ops and installs the methods on it.
"""
from __future__ import annotations

import builtins
import weakref

from . import creation, dtypes, legacy_types, special
from ._tensor_base import Size, Tensor, _dim, _size_args, _wrap  # noqa: F401  (Size: ember.tensor.Size)
from .autograd.functional import backward as autograd_backward
from .autograd.node import leaf_edge
from .autograd.views import is_contiguous, layout
from .linalg import legacy as mla
from .ops import diagonal as diagonal_ops, rearrange
from .ops import elementwise as ew, indexing as idx, inplace, linalg, reduction as red, shape as shp
from .ops import products as prod, special_math as smath
from .ops import scan, scatter as sct, sorting
from .printing import format_tensor


class _TensorMethods:
    """`Tensor`'s methods beyond storage and metadata, installed on `Tensor` by `_install` below."""

    # ---- conversion ----------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        """The data as a host numpy array (shares memory on the CPU). Raises for tensors requiring grad
        unless `force=True`; call `.detach()` first."""
        if self._rg and not force:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self._bk.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        arr = self._bk.to_numpy(self._data)
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to a Python scalar")
        return self._bk.to_numpy(self._data).item()

    def tolist(self):
        return self._bk.to_numpy(self._data).tolist()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of a Tensor with {self.numel()} elements is ambiguous")
        return builtins.bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._dtype._kind != 1 or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self) -> str:
        return format_tensor(self)

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its Python number (`f"{loss:.4f}"`); others only with an empty spec."""
        if not self._data.ndim:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule sharing this tensor's memory, for `numpy.from_dlpack`, `torch.from_dlpack`, ...
        (BufferError when the tensor requires grad: detach it first)."""
        from .utils.dlpack import export

        return export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple:
        """(DLPack device type, device id) of this tensor's memory, e.g. (DLDeviceType.kDLCPU, 0)."""
        from .utils.dlpack import export_device

        return export_device(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._bk.to_numpy(self._data), str(self._device), self._rg))

    # ---- autograd ------------------------------------------------------------------------
    def _edge(self):
        """(node, output_nr) where this tensor's gradient flows."""
        if self._grad_fn is not None:
            return (self._grad_fn, self._output_nr)
        if not self._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        return leaf_edge(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether autograd records ops on this (leaf) tensor; returns self."""
        if self._grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use .detach() "
                               "to get a tensor that does not require grad")
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self._dtype}")
        self._rg = builtins.bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, outside the graph."""
        t = _wrap(self._data, self._bk, self._device)
        t._version = self._version
        return t

    def stride(self, dim: int | None = None):
        """Elements to step in memory per index of each dim (row-major unless this is a view; see
        `ember.autograd.views.layout`)."""
        strides = layout(self)[1]
        return strides if dim is None else strides[_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self) -> int:
        """Where this tensor starts in its base's memory, in elements (0 unless a view)."""
        return layout(self)[2]

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements are in row-major order in memory (PyTorch's rule, dims of size 1 ignored)."""
        if self._base is None:
            return True
        shape, strides, _ = layout(self)
        return is_contiguous(shape, strides)

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (whose memory and version counter it shares)."""
        return self._base is not None

    def detach_(self) -> Tensor:
        self._grad_fn = None
        self._rg = False
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward."""
        if self._grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)
        lock = self._grad_fn.grad_lock

        def store(grad):
            t = ref()
            if t is not None:
                with lock:
                    t._grad = grad.detach().clone() if t._grad is None else t._grad + grad
        self._add_pre_hook(store)

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            self._hooks = (self._hooks or []) + [hook]
        else:
            self._add_pre_hook(hook)
        return _RemovableHandle(self, hook)

    def _add_pre_hook(self, hook) -> None:
        node = self._grad_fn
        if node._pre_hooks is None:
            node._pre_hooks = {}
        node._pre_hooks.setdefault(self._output_nr, []).append(hook)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad` (see `ember.autograd.backward`)."""
        autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- copies and moves ----------------------------------------------------------------
    def clone(self) -> Tensor:
        return shp.clone(self)

    def contiguous(self, memory_format=None) -> Tensor:
        """This tensor when it is contiguous, else a contiguous copy."""
        return self if self.is_contiguous() else shp.clone(self)

    def to(self, *args, **kwargs) -> Tensor:
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other_tensor)`; `copy=True` always copies."""
        return shp.to(self, *args, **kwargs)

    def cpu(self, memory_format=None) -> Tensor:
        """This tensor on the CPU (itself when it is there already)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """This tensor on CUDA device `device` (an index, "cuda:N" or a device; default: the current device)."""
        return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}",
                       non_blocking=non_blocking)

    def pin_memory(self, device=None) -> Tensor:
        """A copy of this CPU tensor in page-locked host memory, from which copies to a CUDA device are
        faster; RuntimeError when no CUDA device is available (as PyTorch). Outside the autograd graph."""
        if self._device.type != "cpu":
            raise RuntimeError(f"cannot pin '{self._device}' memory: only CPU tensors can be pinned")
        if self._pinned:
            return self
        from .cuda.memory import pinned_copy

        out = _wrap(pinned_copy(self._bk.to_numpy(self._data)), self._bk, self._device, self._dtype)
        out._pinned = True
        return out

    def is_pinned(self, device=None) -> bool:
        """True for a tensor made by `pin_memory()`."""
        return self._pinned

    def get_device(self) -> int:
        """The device index of a CUDA tensor, -1 on the CPU (as `torch.Tensor.get_device`)."""
        return -1 if self._device.type == "cpu" else self._device.index

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def short(self) -> Tensor:
        return self.to(dtypes.int16)

    def byte(self) -> Tensor:
        return self.to(dtypes.uint8)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype=None, non_blocking: bool = False):
        """With no argument, the legacy type name ("ember.FloatTensor"); else this tensor converted to
        `dtype` (a dtype, a legacy type such as `ember.DoubleTensor`, or its name)."""
        return legacy_types.tensor_type(self, dtype, non_blocking)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        return creation.tensor(data, dtype=dtype or self._dtype, device=device or self._device,
                               requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return creation.zeros(*size, dtype=dtype or self._dtype, device=device or self._device,
                              requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return creation.ones(*size, dtype=dtype or self._dtype, device=device or self._device,
                             requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
        return creation.full(size, fill_value, dtype=dtype or self._dtype, device=device or self._device,
                             requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return creation.empty(*size, dtype=dtype or self._dtype, device=device or self._device,
                              requires_grad=requires_grad)

    # ---- arithmetic operators ------------------------------------------------------------
    # the common binary operators are the ops themselves: one Python call less per operation
    __add__ = __radd__ = ew.add
    __sub__ = ew.sub
    def __rsub__(self, other): return ew.rsub(self, other)
    __mul__ = __rmul__ = ew.mul
    __truediv__ = ew.div
    def __rtruediv__(self, other): return ew.rdiv(self, other)
    def __floordiv__(self, other): return ew.floor_divide(self, other)
    def __rfloordiv__(self, other): return ew.floor_divide(ew.as_operand(other, self), self)
    def __mod__(self, other): return ew.remainder(self, other)
    def __rmod__(self, other): return ew.remainder(ew.as_operand(other, self), self)
    def __pow__(self, other): return ew.pow(self, other)
    def __rpow__(self, other): return ew.rpow(self, other)
    def __matmul__(self, other): return linalg.matmul(self, other)
    def __rmatmul__(self, other): return linalg.matmul(ew.as_operand(other, self), self)
    def __neg__(self): return ew.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ew.abs(self)
    def __invert__(self): return ew.bitwise_not(self)
    def __and__(self, other): return ew.bitwise_and(self, other)
    def __rand__(self, other): return ew.bitwise_and(self, other)
    def __or__(self, other): return ew.bitwise_or(self, other)
    def __ror__(self, other): return ew.bitwise_or(self, other)
    def __xor__(self, other): return ew.bitwise_xor(self, other)
    def __rxor__(self, other): return ew.bitwise_xor(self, other)
    def __eq__(self, other): return ew.eq(self, other)
    def __ne__(self, other): return ew.ne(self, other)
    def __lt__(self, other): return ew.lt(self, other)
    def __le__(self, other): return ew.le(self, other)
    def __gt__(self, other): return ew.gt(self, other)
    def __ge__(self, other): return ew.ge(self, other)

    def __iadd__(self, other): return inplace.add_(self, other)
    def __isub__(self, other): return inplace.sub_(self, other)
    def __imul__(self, other): return inplace.mul_(self, other)
    def __itruediv__(self, other): return inplace.div_(self, other)
    def __ipow__(self, other): return inplace.pow_(self, other)
    def __iand__(self, other): return inplace.binary_(self, other, "bitwise_and", ew.bitwise_and)
    def __ior__(self, other): return inplace.binary_(self, other, "bitwise_or", ew.bitwise_or)
    def __ixor__(self, other): return inplace.binary_(self, other, "bitwise_xor", ew.bitwise_xor)

    # ---- elementwise methods -------------------------------------------------------------
    def add(self, other, *, alpha=1): return ew.add(self, other, alpha=alpha)
    def sub(self, other, *, alpha=1): return ew.sub(self, other, alpha=alpha)
    subtract = sub
    def mul(self, other): return ew.mul(self, other)
    multiply = mul
    def div(self, other, *, rounding_mode=None): return ew.div(self, other, rounding_mode=rounding_mode)
    divide = true_divide = div
    def floor_divide(self, other): return ew.floor_divide(self, other)
    def remainder(self, other): return ew.remainder(self, other)
    def pow(self, exponent): return ew.pow(self, exponent)
    def neg(self): return ew.neg(self)
    negative = neg
    def abs(self): return ew.abs(self)
    absolute = abs
    def exp(self): return ew.exp(self)
    def log(self): return ew.log(self)
    def log2(self): return ew.log(self) * (1.0 / 0.6931471805599453)
    def log10(self): return ew.log(self) * (1.0 / 2.302585092994046)
    def log1p(self): return ew.log1p(self)
    def expm1(self): return ew.expm1(self)
    def sqrt(self): return ew.sqrt(self)
    def rsqrt(self): return ew.rsqrt(self)
    def square(self): return ew.mul(self, self)
    def reciprocal(self): return ew.rdiv(self, 1.0)
    def sin(self): return ew.sin(self)
    def cos(self): return ew.cos(self)
    def tan(self): return ew.tan(self)
    def tanh(self): return ew.tanh(self)
    def sigmoid(self): return ew.sigmoid(self)
    def relu(self): return ew.relu(self)
    def erf(self): return ew.erf(self)
    def sign(self): return ew.sign(self)
    def floor(self): return ew.floor(self)
    def ceil(self): return ew.ceil(self)
    def round(self, *, decimals: int = 0): return ew.round(self, decimals=decimals)
    def trunc(self): return ew.trunc(self)
    def frac(self): return self - ew.trunc(self)
    def clamp(self, min=None, max=None): return ew.clamp(self, min, max)
    clip = clamp
    def clamp_min(self, min): return ew.clamp(self, min, None)
    def clamp_max(self, max): return ew.clamp(self, None, max)
    def maximum(self, other): return ew.maximum(self, other)
    def minimum(self, other): return ew.minimum(self, other)
    def where(self, condition, other): return ew.where(condition, self, other)
    def lerp(self, end, weight): return ew.add(self, ew.mul(ew.sub(end, self), weight))
    def eq(self, other): return ew.eq(self, other)
    def ne(self, other): return ew.ne(self, other)
    def lt(self, other): return ew.lt(self, other)
    def le(self, other): return ew.le(self, other)
    def gt(self, other): return ew.gt(self, other)
    def ge(self, other): return ew.ge(self, other)
    less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne
    def equal(self, other) -> builtins.bool: return ew.equal(self, other)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> builtins.bool:
        return ew.allclose(self, other, rtol, atol, equal_nan)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False): return ew.isclose(self, other, rtol, atol, equal_nan)
    def logical_and(self, other): return ew.logical_and(self, other)
    def logical_or(self, other): return ew.logical_or(self, other)
    def logical_xor(self, other): return ew.logical_xor(self, other)
    def logical_not(self): return ew.logical_not(self)
    def bitwise_not(self): return ew.bitwise_not(self)
    def isnan(self): return ew.isnan(self)
    def isinf(self): return ew.isinf(self)
    def isfinite(self): return ew.isfinite(self)

    # ---- reductions ----------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None): return red.sum(self, dim, keepdim, dtype=dtype)
    def mean(self, dim=None, keepdim=False, *, dtype=None): return red.mean(self, dim, keepdim, dtype=dtype)
    def prod(self, dim=None, keepdim=False, *, dtype=None): return red.prod(self, dim, keepdim, dtype=dtype)
    def max(self, dim=None, keepdim=False): return red.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return red.min(self, dim, keepdim)
    def amax(self, dim=(), keepdim=False): return red.amax(self, dim, keepdim)
    def amin(self, dim=(), keepdim=False): return red.amin(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return red.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return red.argmin(self, dim, keepdim)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return red.var(self, dim, unbiased, keepdim, correction=correction)
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return red.std(self, dim, unbiased, keepdim, correction=correction)
    def logsumexp(self, dim, keepdim=False): return red.logsumexp(self, dim, keepdim)
    def norm(self, p=2, dim=None, keepdim=False): return red.norm(self, p, dim, keepdim)
    def all(self, dim=None, keepdim=False): return red.all(self, dim, keepdim)
    def any(self, dim=None, keepdim=False): return red.any(self, dim, keepdim)
    def cumsum(self, dim, *, dtype=None): return red.cumsum(self, dim, dtype=dtype)
    def sort(self, dim=-1, descending=False, *, stable=False): return red.sort(self, dim, descending)
    def argsort(self, dim=-1, descending=False, *, stable=False): return red.sort(self, dim, descending)[1]
    def topk(self, k, dim=-1, largest=True, sorted=True): return red.topk(self, k, dim, largest, sorted)
    def cumprod(self, dim, *, dtype=None): return scan.cumprod(self, dim, dtype=dtype)
    def cummax(self, dim): return scan.cummax(self, dim)
    def cummin(self, dim): return scan.cummin(self, dim)
    def logcumsumexp(self, dim): return scan.logcumsumexp(self, dim)
    def msort(self): return sorting.msort(self)
    def kthvalue(self, k, dim=-1, keepdim=False): return sorting.kthvalue(self, k, dim, keepdim)
    def median(self, dim=None, keepdim=False): return sorting.median(self, dim, keepdim)
    def nanmedian(self, dim=None, keepdim=False): return sorting.nanmedian(self, dim, keepdim)
    def mode(self, dim=-1, keepdim=False): return sorting.mode(self, dim, keepdim)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return sorting.unique(self, sorted, return_inverse, return_counts, dim)
    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return sorting.unique_consecutive(self, return_inverse, return_counts, dim)
    def histc(self, bins=100, min=0, max=0): return sorting.histc(self, bins, min, max)
    def bincount(self, weights=None, minlength=0): return sorting.bincount(self, weights, minlength)

    # ---- shape ---------------------------------------------------------------------------
    def reshape(self, *shape): return shp.reshape(self, _size_args(shape, "reshape", "shape"))
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
            raise TypeError("view(dtype) is not supported; use .to(dtype)")
        return shp.view(self, _size_args(shape, "view"))
    def view_as(self, other): return shp.reshape(self, other.shape)
    def reshape_as(self, other): return shp.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return shp.flatten(self, start_dim, end_dim)
    def unflatten(self, dim, sizes): return shp.unflatten(self, dim, sizes)
    def squeeze(self, dim=None): return shp.squeeze(self, dim)
    def unsqueeze(self, dim): return shp.unsqueeze(self, dim)
    def transpose(self, dim0, dim1): return shp.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose
    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else shp.transpose(self, 0, 1)
    def permute(self, *dims): return shp.permute(self, _size_args(dims, "permute", "dims"))
    def movedim(self, source, destination): return shp.movedim(self, source, destination)
    def expand(self, *sizes): return shp.expand(self, _size_args(sizes, "expand"))
    def expand_as(self, other): return shp.expand(self, other.shape)
    def broadcast_to(self, shape): return shp.expand(self, tuple(shape))
    def sum_to_size(self, *size): return shp.sum_to_size(self, _size_args(size, "sum_to_size"))
    def repeat(self, *sizes): return shp.repeat(self, _size_args(sizes, "repeat", "repeats"))
    def tile(self, dims): return shp.tile(self, dims)
    def flip(self, dims): return shp.flip(self, dims)
    def roll(self, shifts, dims=None): return shp.roll(self, shifts, dims)
    def narrow(self, dim, start, length): return shp.narrow(self, dim, start, length)
    def select(self, dim, index): return shp.select(self, dim, index)
    def split(self, split_size_or_sections, dim=0): return shp.split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return shp.chunk(self, chunks, dim)
    def unbind(self, dim=0): return shp.unbind(self, dim)
    # diagonals, triangles and rearranging (ops/diagonal.py, ops/rearrange.py)
    def diagonal(self, offset=0, dim1=0, dim2=1): return diagonal_ops.diagonal(self, offset, dim1, dim2)
    def diag(self, diagonal=0): return diagonal_ops.diag(self, diagonal)
    def diag_embed(self, offset=0, dim1=-2, dim2=-1): return diagonal_ops.diag_embed(self, offset, dim1, dim2)
    def diagflat(self, offset=0): return diagonal_ops.diagflat(self, offset)
    def tril(self, diagonal=0): return diagonal_ops.tril(self, diagonal)
    def triu(self, diagonal=0): return diagonal_ops.triu(self, diagonal)
    def tril_(self, diagonal=0): return inplace.assign_(self, diagonal_ops.tril(inplace.alias(self), diagonal))
    def triu_(self, diagonal=0): return inplace.assign_(self, diagonal_ops.triu(inplace.alias(self), diagonal))
    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return rearrange.repeat_interleave(self, repeats, dim, output_size=output_size)
    def rot90(self, k=1, dims=(0, 1)): return rearrange.rot90(self, k, dims)
    moveaxis = movedim
    def adjoint(self): return self.mH

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of the last two dims (ember has no complex dtypes, so the same as `mT`)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
        return shp.transpose(self, -2, -1)

    @property
    def T(self) -> Tensor:
        return shp.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
        return shp.transpose(self, -2, -1)

    # ---- indexing ------------------------------------------------------------------------
    def __getitem__(self, key): return idx.getitem(self, key)
    def __setitem__(self, key, value): idx.setitem(self, key, value)
    def gather(self, dim, index): return idx.gather(self, dim, index)
    def scatter_add(self, dim, index, src): return idx.scatter_add(self, dim, index, src)
    def scatter_add_(self, dim, index, src): return inplace.assign_(self, idx.scatter_add(inplace.alias(self), dim, index, src))
    def index_select(self, dim, index): return idx.index_select(self, dim, index)
    def masked_fill(self, mask, value): return idx.masked_fill(self, mask, value)
    def masked_fill_(self, mask, value): return inplace.assign_(self, idx.masked_fill(inplace.alias(self), mask, value))
    def nonzero(self, *, as_tuple=False): return idx.nonzero(self, as_tuple=as_tuple)
    # scatter / index family (ops/scatter.py)
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return sct.scatter(self, dim, index, src, value=value, reduce=reduce)
    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return sct.scatter_(self, dim, index, src, value=value, reduce=reduce)
    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return sct.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)
    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return sct.scatter_reduce_(self, dim, index, src, reduce, include_self=include_self)
    def index_add(self, dim, index, source, *, alpha=1): return sct.index_add(self, dim, index, source, alpha=alpha)
    def index_add_(self, dim, index, source, *, alpha=1): return sct.index_add_(self, dim, index, source, alpha=alpha)
    def index_copy(self, dim, index, source): return sct.index_copy(self, dim, index, source)
    def index_copy_(self, dim, index, source): return sct.index_copy_(self, dim, index, source)
    def index_fill(self, dim, index, value): return sct.index_fill(self, dim, index, value)
    def index_fill_(self, dim, index, value): return sct.index_fill_(self, dim, index, value)
    def index_put(self, indices, values, accumulate=False): return sct.index_put(self, indices, values, accumulate)
    def index_put_(self, indices, values, accumulate=False): return sct.index_put_(self, indices, values, accumulate)
    def masked_select(self, mask): return sct.masked_select(self, mask)
    def masked_scatter(self, mask, source): return sct.masked_scatter(self, mask, source)
    def masked_scatter_(self, mask, source): return sct.masked_scatter_(self, mask, source)
    def take(self, index): return sct.take(self, index)
    def take_along_dim(self, indices, dim=None): return sct.take_along_dim(self, indices, dim)
    def put(self, index, source, accumulate=False): return sct.put(self, index, source, accumulate)
    def put_(self, index, source, accumulate=False): return sct.put_(self, index, source, accumulate)
    def argwhere(self): return sct.argwhere(self)

    # ---- linear algebra ------------------------------------------------------------------
    def matmul(self, other): return linalg.matmul(self, other)
    def mm(self, other): return linalg.mm(self, other)
    def bmm(self, other): return linalg.bmm(self, other)
    def dot(self, other): return linalg.dot(self, other)
    def outer(self, other): return linalg.outer(self, other)
    def det(self): return mla.det(self)
    def inverse(self): return mla.inverse(self)
    def slogdet(self): return mla.slogdet(self)
    def pinverse(self, rcond=1e-15): return mla.pinverse(self, rcond)
    def matrix_power(self, n): return mla.matrix_power(self, n)
    def cholesky(self, upper=False): return mla.cholesky(self, upper)
    def qr(self, some=True): return mla.qr(self, some)
    def svd(self, some=True, compute_uv=True): return mla.svd(self, some, compute_uv)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1): return prod.addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def addmv(self, mat, vec, *, beta=1, alpha=1): return prod.addmv(self, mat, vec, beta=beta, alpha=alpha)
    def addbmm(self, batch1, batch2, *, beta=1, alpha=1): return prod.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return prod.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def mv(self, vec): return prod.mv(self, vec)
    def inner(self, other): return prod.inner(self, other)
    def kron(self, other): return prod.kron(self, other)
    def cross(self, other, dim=None): return prod.cross(self, other, dim)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None): return smath.nan_to_num(self, nan, posinf, neginf)
    def logaddexp(self, other): return smath.logaddexp(self, other)
    def logaddexp2(self, other): return smath.logaddexp2(self, other)
    def hypot(self, other): return smath.hypot(self, other)
    def xlogy(self, other): return smath.xlogy(self, other)
    def softmax(self, dim, dtype=None): return special.softmax(self, dim, dtype)
    def log_softmax(self, dim, dtype=None): return special.log_softmax(self, dim, dtype)
    def logit(self, eps=None): return special.logit(self, eps)
    def exp2(self): return special.exp2(self)
    def sinc(self): return special.sinc(self)
    def erfc(self): return special.erfc(self)
    def erfinv(self): return smath.erfinv(self)

    # ---- in place ------------------------------------------------------------------------
    def add_(self, other, *, alpha=1): return inplace.add_(self, other, alpha=alpha)
    def sub_(self, other, *, alpha=1): return inplace.sub_(self, other, alpha=alpha)
    def mul_(self, other): return inplace.mul_(self, other)
    def div_(self, other): return inplace.div_(self, other)
    def pow_(self, exponent): return inplace.pow_(self, exponent)
    def addcmul_(self, tensor1, tensor2, *, value=1): return inplace.addcmul_(self, tensor1, tensor2, value)
    def addcdiv_(self, tensor1, tensor2, *, value=1): return inplace.addcdiv_(self, tensor1, tensor2, value)
    def lerp_(self, end, weight): return inplace.lerp_(self, end, weight)
    def maximum_(self, other): return inplace.binary_(self, other, "maximum", ew.maximum)
    def clamp_(self, min=None, max=None): return inplace.clamp_(self, min, max)
    clip_ = clamp_
    def sqrt_(self): return inplace.unary_(self, "sqrt", ew.sqrt)
    def exp_(self): return inplace.unary_(self, "exp", ew.exp)
    def neg_(self): return inplace.unary_(self, "neg", ew.neg)
    def abs_(self): return inplace.unary_(self, "abs", ew.abs)
    def tanh_(self): return inplace.unary_(self, "tanh", ew.tanh)
    def relu_(self): return inplace.assign_(self, ew.relu(inplace.alias(self)))
    def sigmoid_(self): return inplace.assign_(self, ew.sigmoid(inplace.alias(self)))
    def zero_(self): return inplace.fill_(self, 0)
    def fill_(self, value): return inplace.fill_(self, value)
    def copy_(self, src, non_blocking=False): return inplace.copy_(self, src)
    def uniform_(self, a=0.0, b=1.0, *, generator=None): return inplace.uniform_(self, a, b, generator)
    def normal_(self, mean=0.0, std=1.0, *, generator=None): return inplace.normal_(self, mean, std, generator)
    def bernoulli_(self, p=0.5, *, generator=None): return inplace.bernoulli_(self, p, generator)
    def random_(self, from_=0, to=None, *, generator=None): return inplace.random_(self, from_, to, generator)
    def exponential_(self, lambd=1.0, *, generator=None): return inplace.exponential_(self, lambd, generator)


class _RemovableHandle:
    def __init__(self, tensor: Tensor, hook) -> None:
        self._tensor, self._hook = tensor, hook

    def remove(self) -> None:
        t, hook = self._tensor, self._hook
        if t._grad_fn is None:
            t._hooks = [h for h in (t._hooks or []) if h is not hook] or None
        elif t._grad_fn._pre_hooks:
            hooks = t._grad_fn._pre_hooks.get(t._output_nr, [])
            if hook in hooks:
                hooks.remove(hook)


def _rebuild(array, device: str, requires_grad: bool) -> Tensor:
    return creation.tensor(array, device=device, requires_grad=requires_grad)


def _install(methods: type) -> None:
    """Put the attributes of class `methods` on `Tensor`, as if written in its class body."""
    # `__hash__` is None on a class defining `__eq__`; Tensor keeps its own (identity)
    skip = set(vars(type("_Empty", (), {}))) | {"__hash__"}
    for name, value in vars(methods).items():
        if name in skip:
            continue
        for fn in (value.fget, value.fset) if isinstance(value, property) else (value,):
            if hasattr(fn, "__qualname__"):
                fn.__qualname__ = f"Tensor.{fn.__name__}"
        setattr(Tensor, name, value)


_install(_TensorMethods)
del _TensorMethods
