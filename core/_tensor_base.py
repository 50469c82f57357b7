"""The bottom of the core's import stack: `Tensor`'s storage, metadata and `_wrap`, no math.

`ember.tensor` installs the methods (which call `ember.ops`) on this same class; everything between
(autograd, creation, the ops) imports `Tensor` from here, so no module needs a module above it.
"""
from __future__ import annotations

from operator import index as _index

from . import dtypes

_new = object.__new__


def _wrap(data, bk, device, dtype=None):
    """A new tensor (no graph) around native array `data`; `dtype` when the caller knows it."""
    t = _new(Tensor)
    t._data = data
    t._bk = bk
    t._device = device
    t._dtype = bk.dtype_of(data) if dtype is None else dtype
    t._version = [0]
    return t


class Tensor:
    """A multi-dimensional array with autograd, as `torch.Tensor`.

    Create tensors with `ember.tensor`, `ember.zeros`, `ember.randn`, ...; not with this class.
    """
    __module__ = "ember.tensor"  # its public home, where `ember.tensor` completes it with the methods

    # Defaults for attributes most tensors never set (instances set them only when they change).
    _rg = False
    _grad = None
    _grad_fn = None
    _output_nr = 0
    _leaf_edge = None  # (AccumulateGrad, 0) of a leaf that requires grad, once a graph used it
    _hooks = None
    _retains_grad = False
    _pinned = False
    _copy_of_view = None  # the op ("diagonal") whose result is a copy here but a view in PyTorch
    _size = None  # the last `shape` returned, reused while the data's shape equals it
    # views (ember.autograd.views): the tensor owning the memory, how to recompute this view from it,
    # the live views of a base, and what PyTorch forbids changing in place
    _base = None
    _view_fn = None
    _view_layout = None
    _views = None
    _view_multi = None
    _view_overlap = False
    _view_no_grad = False
    __array_priority__ = 1000  # numpy defers `ndarray op tensor` to Tensor's reflected operators

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError("create tensors with ember.tensor(data), ember.zeros(shape), ember.empty(shape), ...")

    # ---- metadata ------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        shape = self._data.shape
        size = self._size
        if size == shape:  # reuse the Size object: building one per access would double the cost
            return size
        size = self._size = Size(shape)
        return size

    @property
    def dtype(self) -> dtypes.dtype:
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def grad(self):
        """The accumulated gradient (a leaf's, or a non-leaf's after `retain_grad()`); None before backward."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has shape {list(value.shape)} but the tensor has shape "
                                   f"{list(self.shape)}")
            if value._device is not self._device:
                raise RuntimeError(f"assigned grad is on {value.device} but the tensor is on {self.device}")
        self._grad = value

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's data, outside the graph (prefer `detach()`)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data, self._bk, self._device, self._dtype = value._data, value._bk, value._device, value._dtype

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        shape = self._data.shape
        return shape[_dim(dim, len(shape), "size")]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    nelement = numel

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element, as `element_size()`."""
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        """The bytes the elements take, `numel() * itemsize`."""
        return self.numel() * self._dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__  # identity, as PyTorch (== is elementwise); the C slot keeps dict lookups fast


class Size(tuple):
    """A tensor's shape: a tuple of ints, as `torch.Size`."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this size holds (the product of the sizes)."""
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"


def _size_args(args, op: str, name: str = "size") -> tuple:
    """Accept both `f(2, 3)` and `f((2, 3))`, as PyTorch does for sizes and dims. Integers only (Python or
    numpy ints, one-element integer tensors): anything else is PyTorch's TypeError naming `op` and `name`."""
    packed = len(args) == 1 and isinstance(args[0], (tuple, list))
    if packed:
        args = args[0]
    try:
        return tuple(map(_index, args))
    except TypeError:
        raise _size_error(args, packed, op, name) from None


def _size_error(args, packed: bool, op: str, name: str) -> TypeError:
    """PyTorch's TypeError for a size holding something that is not an integer (a float, a string, None)."""
    for i, a in enumerate(args):
        try:
            _index(a)
        except TypeError:
            break
    what = (f"not {type(a).__name__}" if len(args) == 1 and not packed
            else f"but found element of type {type(a).__name__} at pos {i}")
    return TypeError(f"{op}(): argument '{name}' must be tuple of ints, {what}")


def _dim(d: int, ndim: int, op: str) -> int:
    """Normalise dimension `d` of an `ndim`-d tensor, with PyTorch's IndexError otherwise."""
    n = ndim if ndim else 1
    if not -n <= d < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n if ndim else 0
