"""The linear-algebra functions at the top level of `torch` (`torch.det`, `torch.svd`, ...), in terms of
`ember.linalg`; their argument conventions differ from `torch.linalg`'s where PyTorch's do."""
from __future__ import annotations

from collections import namedtuple

from .._tensor_base import Tensor
from . import decompositions, host
from . import inverse as inverses

_svd_result = namedtuple("svd", ["U", "S", "V"])
_qr_result = namedtuple("qr", ["Q", "R"])
_slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])


def det(input: Tensor) -> Tensor:
    """`linalg.det`: determinants, computed on the host."""
    return inverses.det(input)


def inverse(input: Tensor) -> Tensor:
    """`linalg.inv`: inverses, computed on the host."""
    return inverses.inv(input)


def slogdet(input: Tensor):
    """`linalg.slogdet`: (sign, logabsdet), computed on the host."""
    return _slogdet_result(*inverses.slogdet(input))


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """`linalg.cholesky`, computed on the host (PyTorch's older spelling, `upper` positional)."""
    return decompositions.cholesky(input, upper=upper)


def qr(input: Tensor, some: bool = True):
    """(Q, R): `linalg.qr` with mode 'reduced' when `some`, else 'complete'; computed on the host."""
    return _qr_result(*decompositions.qr(input, "reduced" if some else "complete"))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """(U, S, V) with `input = U diag(S) V^T` (V, not Vh), computed on the host.

    `some=True` gives the reduced decomposition; `compute_uv=False` returns zero-filled U (m x m) and
    V (n x n) beside the singular values, as PyTorch.
    """
    host.check_matrix(input, "svd", square=False)
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        return _svd_result(input.new_zeros(batch + (m, m)), decompositions.svdvals(input),
                           input.new_zeros(batch + (n, n)))
    U, S, Vh = decompositions.svd(input, full_matrices=not some)
    return _svd_result(U, S, Vh.mT)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """`linalg.pinv` with relative tolerance `rcond`, computed on the host."""
    return inverses.pinv(input, rtol=rcond)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """`linalg.matrix_power`."""
    return inverses.matrix_power(input, n)
