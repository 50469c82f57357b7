"""Vector and matrix norms: `vector_norm`, `matrix_norm`, `norm`. Vector norms reuse `ember.norm`; the
spectral and nuclear matrix norms use `svdvals` (computed on the host)."""
from __future__ import annotations

from ..arguments import check_tensor
from ..dtypes import promote_types
from ..ops import elementwise as ew
from ..ops.reduction import amax, amin
from ..ops.reduction import norm as _norm
from ..ops.reduction import sum as _sum
from ..ops.shape import dims_tuple, movedim
from .._tensor_base import Tensor
from .decompositions import svdvals
from .host import type_name

_INF = float("inf")


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector `ord`-norm of `x` over `dim` (all elements when None); `ord` is a number, inf or -inf.

    `dtype` casts `x` first.
    """
    check_tensor(x, "linalg.vector_norm")
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}")
    if dtype is not None:
        if promote_types(x.dtype, dtype) is not dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({type_name(x.dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({type_name(dtype)})")
        x = ew.cast(x, dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {type_name(x.dtype)}")
    return _norm(x, ord, dim, keepdim)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The matrix norm of `A` over the two dims `dim`: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2.

    'nuc', 2 and -2 use the singular values (computed on the host).
    """
    check_tensor(A, "linalg.matrix_norm")
    if dtype is not None:
        A = ew.cast(A, dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = dims_tuple(dim, A.ndim, "linalg.matrix_norm")
    if len(dims) != 2 or dims[0] == dims[1]:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of different dims. Got {dim}")
    if ord == "fro":
        return _norm(A, 2, dims, keepdim)
    if ord == "nuc" or ord in (2, -2):
        S = svdvals(movedim(A, dims, (-2, -1)))
        out = S.sum(-1) if ord == "nuc" else amax(S, -1) if ord == 2 else amin(S, -1)
        if keepdim:
            for d in sorted(dims):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, _INF, -_INF):
        inner, outer = (dims[0], dims[1]) if ord in (1, -1) else (dims[1], dims[0])
        sums = _sum(ew.abs(A), inner, keepdim=True)
        out = amax(sums, outer, keepdim=True) if ord > 0 else amin(sums, outer, keepdim=True)
        return out if keepdim else out.squeeze(max(dims)).squeeze(min(dims))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector or matrix norm, as `torch.linalg.norm`: a matrix norm when `dim` is a 2-tuple (or `A` is
    2-D and `ord` is given without `dim`), else a vector norm; `ord=None` means 2 or 'fro'."""
    check_tensor(A, "linalg.norm")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
