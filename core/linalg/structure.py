"""Masks and diagonals of (batched) matrices, built from tensor ops so backward formulas stay differentiable."""
from __future__ import annotations

from ..creation import arange, eye
from ..ops.elementwise import where
from .._tensor_base import Tensor


def identity(n: int, like: Tensor) -> Tensor:
    """The n x n identity with `like`'s dtype and device."""
    return eye(n, dtype=like.dtype, device=like.device)


def tril(X: Tensor, k: int = 0) -> Tensor:
    """The lower triangle of `X` (elements with column - row <= k); zeros elsewhere."""
    rows = arange(X.shape[-2], device=X.device).unsqueeze(1)
    cols = arange(X.shape[-1], device=X.device)
    return where(cols - rows <= k, X, 0.0)


def diagonal(X: Tensor) -> Tensor:
    """The main diagonals of square matrices `X` (..., n, n), as (..., n)."""
    return (X * identity(X.shape[-1], X)).sum(-1)


def diag_embed(v: Tensor) -> Tensor:
    """Diagonal matrices (..., n, n) with the vectors `v` (..., n) on their diagonals."""
    return v.unsqueeze(-1) * identity(v.shape[-1], v)


def off_diagonal_mask(n: int, like: Tensor) -> Tensor:
    """A bool n x n matrix, True off the diagonal."""
    rows = arange(n, device=like.device).unsqueeze(1)
    return rows != arange(n, device=like.device)
