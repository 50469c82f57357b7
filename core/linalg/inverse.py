"""Inverses, determinants and linear solves: `inv`, `det`, `slogdet`, `solve`, `pinv`, `lstsq`,
`matrix_power`, `matrix_rank`. Forwards are computed on the host (see `host.py`); backwards are
tensor ops, so higher-order gradients work."""
from __future__ import annotations

from collections import namedtuple

import numpy

from .. import dtypes
from ..arguments import check_same_device, check_tensor, int_arg
from ..autograd.node import Op
from ..ops.elementwise import where
from ..ops.shape import expand
from .._tensor_base import Tensor
from . import host
from .structure import identity, off_diagonal_mask

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])


class Inv(Op):
    keeps_dtype = True
    save_output = True

    def forward(self, A):
        out = host.compute("linalg.inv", numpy.linalg.inv, A, failure=host.singular)
        return A._bk.asarray(out, A._dtype)

    def backward(self, g):
        Ainv_t = self.saved_output().mT
        return (-(Ainv_t @ g @ Ainv_t),)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in `A` (..., n, n), computed on the host.

    Raises `LinAlgError` when a matrix is singular.
    """
    host.check_matrix(A, "linalg.inv")
    return Inv.apply(A)


class Det(Op):
    keeps_dtype = True
    save_output = True

    def forward(self, A):
        self.save_for_backward(A)
        return A._bk.asarray(host.compute("linalg.det", numpy.linalg.det, A), A._dtype)

    def backward(self, g):
        (A,) = self.saved_tensors
        d = self.saved_output()
        if bool((d == 0).any()):
            return (_det_grad_singular(A, g),)
        # d det(A) = det(A) tr(A^-1 dA)
        return ((g * d).unsqueeze(-1).unsqueeze(-1) * inv(A).mT,)


def _det_grad_singular(A: Tensor, g: Tensor) -> Tensor:
    """g times the adjugate's transpose, through the SVD (PyTorch's path for singular matrices):
    A = U diag(S) Vh gives adj(A)^T = det(U) det(Vh) U diag(prod of the other S) Vh."""
    from .decompositions import svd

    U, S, Vh = svd(A)
    alpha = (det(U) * det(Vh)).detach()
    others = where(off_diagonal_mask(S.shape[-1], S), S.unsqueeze(-2), 1.0).prod(-1)
    D = (g * alpha).unsqueeze(-1) * others
    return (U * D.unsqueeze(-2)) @ Vh


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in `A` (..., n, n), computed on the host.

    The gradient is `det(A) inv(A)^T`, and at singular matrices the adjugate computed through the SVD
    (as PyTorch).
    """
    host.check_matrix(A, "linalg.det")
    return Det.apply(A)


class LogAbsDet(Op):
    keeps_dtype = True

    def forward(self, A, value):
        self.save_for_backward(A)
        return value

    def backward(self, g):
        (A,) = self.saved_tensors
        return (g.unsqueeze(-1).unsqueeze(-1) * inv(A).mT,)


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, logabsdet) of the determinants of `A` (..., n, n), computed on the host.

    `det(A) = sign * exp(logabsdet)`; only `logabsdet` has a gradient (`inv(A)^T`).
    """
    host.check_matrix(A, "linalg.slogdet")
    sign, logabsdet = host.compute("linalg.slogdet", numpy.linalg.slogdet, A)
    value = A._bk.asarray(numpy.asarray(logabsdet, order="C"), A._dtype)
    return SlogdetResult(host.to_device(sign, A), LogAbsDet.apply(A, value=value))


class Solve(Op):
    keeps_dtype = True
    save_output = True

    def forward(self, A, B):
        self.save_for_backward(A)
        out = host.compute("torch.linalg.solve", numpy.linalg.solve, A, B, failure=_solve_failure)
        return A._bk.asarray(out, A._dtype)

    def backward(self, g):
        (A,) = self.saved_tensors
        gB = solve(A.mT, g)
        return (-(gB @ self.saved_output().mT), gB)


def _solve_failure(matrix: numpy.ndarray) -> str:
    return "The solver failed because the input matrix is singular." if host.singular(matrix) else ""


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution X of `A X = B` (or `X A = B` when `left=False`), computed on the host.

    `A` is `(*, n, n)`; `B` is `(*, n, k)`, or `(*, n)` (a batch of vectors) when its shape is `A`'s without the
    last dim, as in PyTorch; batch dims broadcast. Raises `LinAlgError` when `A` is singular.
    """
    host.check_matrix(A, "linalg.solve")
    check_tensor(B, "linalg.solve", "B", 2)
    check_same_device("linalg.solve", A, B=B)
    if B._dtype is not A._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{host.type_name(A._dtype)} and B of type {host.type_name(B._dtype)} instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if vector:
        B = B.unsqueeze(-1)
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if not left:
        A, B = A.mT, B.mT
    batch = tuple(numpy.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    A = expand(A, batch + tuple(A.shape[-2:]))
    B = expand(B, batch + tuple(B.shape[-2:]))
    X = Solve.apply(A, B)
    if not left:
        X = X.mT
    return X.squeeze(-1) if vector else X


def _tolerance(S: numpy.ndarray, shape: tuple, dtype, atol, rtol) -> numpy.ndarray:
    """PyTorch's cut-off for "nonzero" singular values: max(atol, rtol * largest singular value)."""
    atol_v = 0.0 if atol is None else _host_value(atol)
    if rtol is None:
        rtol_v = 0.0 if atol is not None and numpy.any(atol_v > 0) else \
            numpy.finfo(numpy.float64 if dtype is dtypes.float64 else numpy.float32).eps * max(shape[-2:])
    else:
        rtol_v = _host_value(rtol)
    largest = S.max(axis=-1) if S.shape[-1] else numpy.zeros(S.shape[:-1])
    return numpy.maximum(atol_v, rtol_v * largest)


def _host_value(x):
    return x._bk.to_numpy(x._data) if isinstance(x, Tensor) else x


def _singular_values(A: Tensor, hermitian: bool, op: str) -> numpy.ndarray:
    if hermitian:
        return host.compute(op, lambda a: numpy.abs(numpy.linalg.eigvalsh(a)), A)
    return host.compute(op, lambda a: numpy.linalg.svd(a, compute_uv=False), A)


def _pinv_host(a: numpy.ndarray, tol: numpy.ndarray, hermitian: bool) -> numpy.ndarray:
    if hermitian:
        w, V = numpy.linalg.eigh(a)
        keep = numpy.abs(w) > tol[..., None]
        winv = numpy.where(keep, 1.0 / numpy.where(keep, w, 1.0), 0.0)
        return (V * winv[..., None, :]) @ numpy.swapaxes(V, -1, -2)
    U, S, Vh = numpy.linalg.svd(a, full_matrices=False)
    keep = S > tol[..., None]
    sinv = numpy.where(keep, 1.0 / numpy.where(keep, S, 1.0), 0.0)
    return numpy.swapaxes(Vh, -1, -2) @ (sinv[..., :, None] * numpy.swapaxes(U, -1, -2))


class Pinv(Op):
    keeps_dtype = True
    save_output = True

    def forward(self, A, atol, rtol, hermitian):
        self.save_for_backward(A)
        S = _singular_values(A, hermitian, "linalg.pinv")
        tol = _tolerance(S, A.shape, A._dtype, atol, rtol)
        out = host.compute("linalg.pinv", lambda a: _pinv_host(a, tol, hermitian), A)
        return A._bk.asarray(out, A._dtype)

    def backward(self, g):
        # Golub & Pereyra's derivative of P = pinv(A) where the rank of A is locally constant:
        # gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)
        (A,) = self.saved_tensors
        P = self.saved_output()
        m, n = A.shape[-2], A.shape[-1]
        gT = g.mT
        PT = P.mT
        out = -(PT @ g @ PT)
        out = out + (identity(m, A) - A @ P) @ (gT @ (P @ PT))
        out = out + (PT @ P) @ (gT @ (identity(n, A) - P @ A))
        return (out,)


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of `A` (..., m, n), computed on the host.

    Singular values at or below `max(atol, rtol * largest)` count as zero (default rtol: eps * max(m, n)
    when `atol` is not positive). `hermitian=True` uses the eigendecomposition of a symmetric `A`.
    The gradient holds where the rank of `A` does not change.
    """
    host.check_matrix(A, "linalg.pinv", square=hermitian)
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The numerical rank of each matrix in `A` (int64): the count of singular values above
    `max(atol, rtol * largest)`, computed on the host."""
    host.check_matrix(A, "linalg.matrix_rank", square=hermitian)
    S = _singular_values(A, hermitian, "linalg.matrix_rank")
    tol = _tolerance(S, A.shape, A._dtype, atol, rtol)
    return host.to_device((S > tol[..., None]).sum(-1), A, dtypes.int64)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> LstsqResult:
    """The least-squares solution of `A X = B` for `A` `(*, m, n)` and `B` `(*, m, k)`, computed on the host.

    Returns (solution, residuals, rank, singular_values) as PyTorch on the CPU: the minimum-norm solution
    `pinv(A) @ B` (singular values below `rcond * largest` count as zero); `rank` for the drivers 'gelsy'
    (default), 'gelsd' and 'gelss'; `singular_values` for 'gelsd' and 'gelss'; `residuals` (squared, per
    column) when m > n, every matrix has full rank and the driver is not 'gelsy'. The others are empty.
    """
    host.check_matrix(A, "torch.linalg.lstsq", square=False)
    check_tensor(B, "linalg.lstsq", "B", 2)
    check_same_device("linalg.lstsq", A, B=B)
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if B._dtype is not A._dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {host.type_name(A._dtype)} and other's dtype {host.type_name(B._dtype)}")
    vector = B.ndim == 1
    if vector:
        B = B.unsqueeze(-1)
    m, n = A.shape[-2], A.shape[-1]
    if B.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    X = pinv(A, rtol=rcond) @ B
    empty = A.new_zeros((0,))
    ranks = matrix_rank(A, rtol=rcond)
    rank = ranks if driver != "gels" else empty.long()
    S = svdvals_of(A) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if m > n and driver != "gelsy" and bool((ranks == n).all()):
        residuals = ((A @ X - B) ** 2).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, S)


def svdvals_of(A: Tensor) -> Tensor:
    """The singular values of `A` (no gradient), computed on the host."""
    return host.to_device(host.compute("linalg.svdvals", lambda a: numpy.linalg.svd(a, compute_uv=False), A), A)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """`A` (..., m, m) multiplied by itself `n` times; n = 0 gives the identity, n < 0 powers of `inv(A)`."""
    check_tensor(A, "linalg.matrix_power")
    n = int_arg(n, "linalg.matrix_power", "n")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        return expand(identity(A.shape[-1], A), tuple(A.shape)).clone()
    if n < 0:
        A, n = inv(A), -n
    result = None
    base = A
    while True:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if not n:
            return result
        base = base @ base
