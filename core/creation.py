"""Tensor creation: from data, filled, ranges and random, each with `dtype=`, `device=`, `requires_grad=`."""
from __future__ import annotations

import math

import numpy as np  # the host interchange format: Python data becomes a numpy array first

from . import dtypes
from .arguments import check_tensor
from .device import as_device
from .random import generator_for
from ._tensor_base import Tensor, _size_args, _wrap


def _make(data, device, requires_grad: bool) -> Tensor:
    t = _wrap(data, device.backend, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


class OutOfMemoryError(RuntimeError):
    """An allocation the device cannot satisfy, as `torch.OutOfMemoryError` (a RuntimeError)."""


def _allocation_error(exc: Exception, op: str, shape: tuple, dtype: dtypes.dtype, device) -> Exception:
    """The error to raise when the backend's allocation of `shape` fails with `exc`: PyTorch's RuntimeErrors
    for a size no memory holds (`exc` itself when it is about something else)."""
    nbytes = math.prod(shape) * dtype.itemsize
    if isinstance(exc, MemoryError):
        size, unit = float(nbytes), "B"
        for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
            if size < 1024 or unit == "EiB":
                break
            size /= 1024
        return OutOfMemoryError(f"{op}: out of memory: tried to allocate {size:.2f} {unit} ({nbytes} bytes) for a "
                                f"tensor of shape {list(shape)} and dtype {dtype.name} on {device}")
    if nbytes >= 1 << 63:
        return RuntimeError(f"{op}: Storage size calculation overflowed with sizes={list(shape)}")
    return exc


_HOST_DTYPES = {np.dtype(d.name): d for d in dtypes.ALL}


def _host_dtype(arr: np.ndarray, from_python: bool) -> dtypes.dtype:
    if from_python:
        kind = arr.dtype.kind
        if kind == "f" or kind == "O" and any(isinstance(v, float) for v in arr.flat):
            return dtypes.get_default_dtype()
        if kind in "iuO":
            return dtypes.int64
        if kind == "b":
            return dtypes.bool
    d = _HOST_DTYPES.get(arr.dtype)
    if d is None:
        raise TypeError(f"can't convert a numpy array of dtype {arr.dtype} to an ember tensor; supported: "
                        f"{', '.join(x.name for x in dtypes.ALL)}")
    return d


def _to_host(data) -> tuple[np.ndarray, bool]:
    if isinstance(data, np.ndarray):
        return data, False
    if isinstance(data, np.generic):
        return np.asarray(data), False
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"ember.tensor: can't make a tensor from ragged or invalid data: {exc}") from None
    if arr.dtype == object and all(isinstance(v, (int, float)) for v in arr.flat):
        return arr, True  # Python ints beyond 64 bits: _python_values decides
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"ember.tensor: can't make a tensor from {type(data).__name__} of non-numbers")
    return arr, True


def _python_values(arr: np.ndarray, dt: dtypes.dtype, op: str) -> np.ndarray:
    """Python data (as numpy made it) checked and converted as PyTorch stores it as `dt`.

    Into an integer dtype, an int beyond int64 raises ValueError and a value outside `dt`'s range
    RuntimeError (see `dtypes.fits`), where numpy would wrap silently or warn; a float too large for a
    floating dtype becomes inf, without numpy's warning.
    """
    kind = arr.dtype.kind
    if dt._kind != 1:
        with np.errstate(over="ignore"):
            return arr.astype(np.float64 if kind == "O" else dt.name, copy=False)
    if not arr.size or kind == "b":
        return arr
    lo, hi = (v.item() if isinstance(v, np.generic) else v for v in (arr.min(), arr.max()))
    if kind in "uO" and not (-(1 << 63) <= lo and hi < 1 << 63):
        raise ValueError(f"{op}: Overflow when unpacking long long: {lo if lo < -(1 << 63) else hi} is outside "
                         "int64 (pass a floating-point dtype to keep it)")
    for v in (lo, hi):
        if not dtypes.fits(v, dt):
            raise RuntimeError(f"{op}: value {v} cannot be converted to type {dt.name} without overflow")
    return arr.astype(np.int64, copy=False) if kind == "O" else arr


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor (always a copy) from a number, nested sequences, a numpy array or a tensor."""
    if isinstance(data, Tensor):
        out = data.detach().to(device=device if device is not None else data.device,
                                dtype=dtype if dtype is not None else data.dtype, copy=True)
        return out.requires_grad_(requires_grad) if requires_grad else out
    arr, from_python = _to_host(data)
    dt = dtypes.as_dtype(dtype, "tensor") if dtype is not None else _host_dtype(arr, from_python)
    if from_python:
        arr = _python_values(arr, dt, "ember.tensor")
    dev = as_device(device)
    bk = dev.backend
    bk.check_dtype(dt)
    native = bk.asarray(arr, dt)
    if native is arr and not from_python:  # the caller's array, unconverted: tensor() never shares memory
        native = bk.copy(native)
    return _make(native, dev, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like `tensor`, but shares memory with a numpy array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device,
                       dtype=dtype if dtype is not None else data.dtype)
    arr, from_python = _to_host(data)
    dt = dtypes.as_dtype(dtype, "as_tensor") if dtype is not None else _host_dtype(arr, from_python)
    if from_python:
        arr = _python_values(arr, dt, "ember.as_tensor")
    dev = as_device(device)
    dev.backend.check_dtype(dt)
    return _make(dev.backend.asarray(arr, dt), dev, False)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dev = as_device("cpu")
    return _make(dev.backend.asarray(ndarray, _host_dtype(ndarray, False)), dev, False)


def _filled(size, value, dtype, device, requires_grad, op: str) -> Tensor:
    dev = as_device(device)
    shape = _size_args(size, op)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    if dtype._kind == 1:
        value = dtypes.stored_int(value, dtype, op)
    dev.backend.check_dtype(dtype)
    try:
        data = dev.backend.full(shape, value, dtype)
    except (MemoryError, ValueError) as exc:
        raise _allocation_error(exc, op, shape, dtype, dev) from None
    return _make(data, dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape `size`."""
    return _filled(size, 0, dtypes.as_dtype(dtype, "zeros") if dtype else dtypes.get_default_dtype(), device, requires_grad,
                   "zeros")


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape `size`."""
    return _filled(size, 1, dtypes.as_dtype(dtype, "ones") if dtype else dtypes.get_default_dtype(), device, requires_grad,
                   "ones")


def _scalar_dtype(value) -> dtypes.dtype:
    k = dtypes.scalar_kind(value)
    return dtypes.get_default_dtype() if k == 2 else dtypes.int64 if k == 1 else dtypes.bool


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape `size` filled with `fill_value` (dtype inferred from it by default); a value outside
    an integer dtype's range raises, as in PyTorch."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = dtypes.as_dtype(dtype, "full") if dtype else _scalar_dtype(fill_value)
    return _filled((size,), fill_value, dt, device, requires_grad, "full")


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of shape `size`."""
    dev = as_device(device)
    dt = dtypes.as_dtype(dtype, "empty") if dtype else dtypes.get_default_dtype()
    dev.backend.check_dtype(dt)
    shape = _size_args(size, "empty")
    try:
        data = dev.backend.empty(shape, dt)
    except (MemoryError, ValueError) as exc:
        raise _allocation_error(exc, "empty", shape, dt, dev) from None
    return _make(data, dev, requires_grad)


def _like(t: Tensor, dtype, device):
    return (dtypes.as_dtype(dtype) if dtype else t.dtype), (device if device is not None else t.device)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros shaped like `input` (its dtype and device unless given)."""
    check_tensor(input, "zeros_like")
    dt, dev = _like(input, dtype, device)
    return zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones shaped like `input` (its dtype and device unless given)."""
    check_tensor(input, "ones_like")
    dt, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor shaped like `input` filled with `fill_value` (its dtype and device unless given)."""
    check_tensor(input, "full_like")
    dt, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor shaped like `input` (its dtype and device unless given)."""
    check_tensor(input, "empty_like")
    dt, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values in [start, end) by `step`; int64 when all arguments are integers."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("arange: upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(x, int) for x in (start, end, step)) else dtypes.get_default_dtype()
    dt = dtypes.as_dtype(dtype, "arange")
    dev = as_device(device)
    dev.backend.check_dtype(dt)
    n = max(0, math.ceil((end - start) / step))
    data = dev.backend.arange(start, start + n * step, step, dt)
    if data.shape[0] != n:  # float rounding in the library's own length computation
        data = dev.backend.getitem(data, (slice(0, n),))
    return _make(data, dev, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """`steps` values evenly spaced from `start` to `end` inclusive."""
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    dev = as_device(device)
    dt = dtypes.as_dtype(dtype, "linspace") if dtype else dtypes.get_default_dtype()
    dev.backend.check_dtype(dt)
    return _make(dev.backend.linspace(start, end, steps, dt), dev, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An n x m matrix with ones on the diagonal."""
    dev = as_device(device)
    dt = dtypes.as_dtype(dtype, "eye") if dtype else dtypes.get_default_dtype()
    dev.backend.check_dtype(dt)
    return _make(dev.backend.eye(n, n if m is None else m, dt), dev, requires_grad)


# ---- random ----------------------------------------------------------------------------------
def _float_dtype(dtype, op: str = "") -> dtypes.dtype:
    dt = dtypes.as_dtype(dtype, op) if dtype else dtypes.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"expected a floating-point dtype, got {dt}")
    return dt


def _sampled(op: str, draw: str, size, generator, dtype, device, requires_grad: bool) -> Tensor:
    """Floating samples of shape `size` from the backend's `draw` ("uniform" on [0, 1) or "normal")."""
    dev = as_device(device)
    gen = generator_for(dev, generator)
    dt = _float_dtype(dtype, op)
    dev.backend.check_dtype(dt)
    shape = _size_args(size, op)
    try:
        data = getattr(dev.backend, draw)(gen.native, shape, 0.0, 1.0, dt)
    except (MemoryError, ValueError) as exc:
        raise _allocation_error(exc, op, shape, dt, dev) from None
    return _make(data, dev, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples from U[0, 1)."""
    return _sampled("rand", "uniform", size, generator, dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples from the standard normal distribution."""
    return _sampled("randn", "normal", size, generator, dtype, device, requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high): `randint(high, size)` or `randint(low, high, size)`."""
    args = list(args)
    if size is None:
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dev = as_device(device)
    gen = generator_for(dev, generator)
    dt = dtypes.as_dtype(dtype, "randint") if dtype else dtypes.int64
    dev.backend.check_dtype(dt)
    data = dev.backend.randint(gen.native, int(low), int(high), _size_args((size,), "randint"), dt)
    return _make(data, dev, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    dev = as_device(device)
    gen = generator_for(dev, generator)
    dt = dtypes.as_dtype(dtype, "randperm") if dtype else dtypes.int64
    dev.backend.check_dtype(dt)
    return _make(dev.backend.permutation(gen.native, int(n), dt), dev, requires_grad)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples from U[0, 1) shaped like `input`."""
    check_tensor(input, "rand_like")
    dt, dev = _like(input, dtype, device)
    return rand(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples from the standard normal distribution shaped like `input`."""
    check_tensor(input, "randn_like")
    dt, dev = _like(input, dtype, device)
    return randn(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high) shaped like `input`."""
    check_tensor(input, "randint_like")
    if high is None:
        low, high = 0, low
    dt, dev = _like(input, dtype, device)
    return randint(low, high, input.shape, dtype=dt, device=dev)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices sampled from the rows of the non-negative weights `input` (1-D or 2-D)."""
    check_tensor(input, "multinomial")
    if input.ndim not in (1, 2):
        raise RuntimeError("multinomial: prob_dist must be 1 or 2 dim")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if bool((input < 0).any()) or not bool(input.isfinite().all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    rows = input.detach().reshape(-1, n)
    if bool((rows.sum(1) == 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    gen = generator_for(input.device, generator)
    out = _wrap(input._bk.multinomial(gen.native, rows._data, int(num_samples), bool(replacement)),
                input._bk, input._device)
    return out.reshape(num_samples) if input.ndim == 1 else out


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`) elementwise, else 0; same dtype as `input`."""
    check_tensor(input, "bernoulli")
    out = empty_like(input)
    return out.bernoulli_(input if p is None else p, generator=generator)


def normal(mean, std, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Samples from N(mean, std**2): tensor mean/std broadcast, or numbers with `size`."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        return randn(shape, generator=generator, dtype=like.dtype, device=like.device) * std + mean
    return randn(size, generator=generator, dtype=dtype, device=device) * std + mean
