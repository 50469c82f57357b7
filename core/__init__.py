"""ember: a deep-learning framework with PyTorch's API whose core knows no array library.

Every computation goes through a backend (numpy for "cpu" built in; others are pluggy plugins
from the entry-point group ``ember``). See README.md for the tour.
"""
from __future__ import annotations

import sys as _sys

__version__ = "0.1.0"

from . import dtypes as _dtypes
from .dtypes import (
    bool, double, dtype, float16, float32, float64, get_default_dtype, half, int8, int16, int32, int64, long,
    promote_types, result_type, set_default_dtype, short, uint8,
)
from .device import device, get_default_device, set_default_device
from .tensor import Size, Tensor
from .creation import (
    OutOfMemoryError, arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    multinomial, normal, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, tensor,
    zeros, zeros_like,
)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .ops.elementwise import (
    abs, add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, clamp, cos, div, eq, equal, erf,
    exp, expm1, floor, floor_divide, ge, gt, isclose, isfinite, isinf, isnan, le, log, log1p, logical_and,
    logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg, pow, relu, remainder, round, rsqrt,
    sigmoid, sign, sin, sqrt, sub, tan, tanh, trunc, where,
)
from .ops.reduction import (
    all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean, min, norm, prod, sort, std, sum, topk, var,
)
from .ops.shape import (
    cat, chunk, clone, flatten, flip, movedim, narrow, permute, repeat, reshape, roll, select, split, squeeze,
    stack, tile, transpose, unbind, unflatten, unsqueeze,
)
from .ops.indexing import gather, index_select, masked_fill, nonzero, scatter_add
from .ops.scatter import (
    argwhere, index_add, index_copy, index_fill, index_put, index_put_, masked_scatter, masked_select, put, scatter,
    scatter_reduce, take, take_along_dim,
)
from .ops.linalg import bmm, dot, matmul, mm, outer
from .ops.diagonal import diag, diag_embed, diagflat, diagonal, tril, tril_indices, triu, triu_indices
from .ops.stacking import (
    atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, broadcast_to, column_stack, dstack,
    hstack, meshgrid, row_stack, vstack,
)
from .ops.rearrange import adjoint, repeat_interleave, rot90, t
from . import linalg  # noqa: E402
from .linalg.legacy import cholesky, det, inverse, matrix_power, pinverse, qr, slogdet, svd  # noqa: E402
from .ops.products import addbmm, addmm, addmv, baddbmm, cdist, cross, einsum, inner, kron, mv, tensordot
from .ops.special_math import erfinv, hypot, logaddexp, logaddexp2, nan_to_num, xlogy
from .ops.scan import cummax, cummin, cumprod, logcumsumexp
from .ops.sorting import (
    argsort, bincount, bucketize, histc, kthvalue, median, mode, msort, nanmedian, searchsorted, unique,
    unique_consecutive,
)
from .backend_lookup import backend_by_name
from . import utils, nn  # noqa: E402  (need Tensor and the creation functions above)
from .utils.dlpack import from_dlpack  # noqa: E402
from . import special  # noqa: E402
from .special import log_softmax, softmax  # noqa: E402
from .printing import get_printoptions, printoptions, set_printoptions
from .dtype_info import finfo, iinfo
from .threads import get_num_threads, set_num_threads
from .legacy_types import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
)
from .arguments import check_tensor as _check_tensor

float = float32  # noqa: A001  (PyTorch's aliases ember.float / ember.int)
int = int32  # noqa: A001
concat = concatenate = cat
clip = clamp
divide = true_divide = div
multiply = mul
subtract = sub
swapaxes = swapdims = transpose
moveaxis = movedim


def is_tensor(obj) -> _dtypes.builtins.bool:
    """True when `obj` is an ember Tensor."""
    return isinstance(obj, Tensor)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    """The absolute value of each element."""
    _check_tensor(input, "abs")
    return input.abs()


def neg(input: Tensor) -> Tensor:
    """The negation of each element."""
    _check_tensor(input, "neg")
    return -input


absolute = abs
negative = neg


def is_floating_point(t: Tensor) -> _dtypes.builtins.bool:
    """True when `t`'s dtype is a floating-point dtype."""
    _check_tensor(t, "is_floating_point")
    return t.dtype.is_floating_point


def numel(t: Tensor) -> _dtypes.builtins.int:
    """The number of elements of `t`."""
    _check_tensor(t, "numel")
    return t.numel()


def square(t: Tensor) -> Tensor:
    """Each element of `t` squared."""
    _check_tensor(t, "square")
    return t * t


def log2(t: Tensor) -> Tensor:
    """The base-2 logarithm of each element."""
    _check_tensor(t, "log2")
    return t.log2()


def log10(t: Tensor) -> Tensor:
    """The base-10 logarithm of each element."""
    _check_tensor(t, "log10")
    return t.log10()


def reciprocal(t: Tensor) -> Tensor:
    """1 / each element."""
    _check_tensor(t, "reciprocal")
    return t.reciprocal()


def synchronize(device=None) -> None:
    """Wait for queued work on `device` (default: the default device) to finish."""
    dev = get_default_device() if device is None else globals()["device"](device)
    dev.backend.synchronize()


from .tensor_docs import document as _document  # noqa: E402

_document(Tensor, _sys.modules[__name__])


#: submodules imported on first use (`ember.optim`, `import ember.optim` and `from ember import optim` all work)
_LAZY_MODULES = frozenset({"backends", "compiler", "cuda", "data", "distributed", "hub", "models", "optim",
                           "serialization", "transforms"})


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"ember.{name}")
    if name in ("save", "load"):  # with serialization: zip, hashing and json
        from . import serialization

        return getattr(serialization, name)
    if name == "compile":  # `ember.compile`, as `torch.compile` (the builtin stays unshadowed inside ember)
        from .compiler import compile

        return compile
    if name == "default_generator":
        from .random import default_generator_for

        return default_generator_for("cpu")
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


def __dir__() -> list:
    return sorted(set(globals()) | _LAZY_MODULES | {"compile", "save", "load", "default_generator"})
