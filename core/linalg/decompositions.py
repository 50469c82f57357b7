"""Matrix decompositions: `cholesky`, `qr`, `eigh`, `eigvalsh`, `svd`, `svdvals`. Each forward is computed
on the host (see `host.py`); each backward is written in tensor ops (PyTorch's formulas), so gradients of
any order work on every backend."""
from __future__ import annotations

from collections import namedtuple

import numpy

from ..autograd.function import Function
from ..autograd.node import Op
from ..ops.elementwise import where
from ..ops.shape import cat, narrow
from .._tensor_base import Tensor
from . import host
from .inverse import inv, solve
from .structure import diag_embed, off_diagonal_mask, tril

QR = namedtuple("QR", ["Q", "R"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVD = namedtuple("SVD", ["U", "S", "Vh"])


class Cholesky(Op):
    keeps_dtype = True
    save_output = True

    def forward(self, A, upper):
        self.upper = upper
        L = host.compute("linalg.cholesky", numpy.linalg.cholesky, A, failure=host.not_positive_definite)
        return A._bk.asarray(numpy.asarray(numpy.swapaxes(L, -1, -2) if upper else L, order="C"), A._dtype)

    def backward(self, g):
        # Murray (2016), as PyTorch: gA = L^-H Phi(L^H gL) L^-1, Phi = the lower triangle, symmetrized
        # with half its diagonal
        L = self.saved_output()
        if self.upper:
            L, g = L.mT, g.mT
        X = tril(L.mT @ g)
        phi = 0.5 * (X + tril(X, -1).mT)
        Linv = inv(L)
        return (Linv.mT @ phi @ Linv,)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor L (`A = L L^T`) of each symmetric positive-definite matrix in `A` (..., n, n),
    computed on the host from `A`'s lower triangle; `upper=True` returns `L^T`.

    Raises `LinAlgError` when a matrix is not positive-definite.
    """
    host.check_matrix(A, "linalg.cholesky")
    return Cholesky.apply(A, upper=bool(upper))


class LinalgQr(Function):
    @staticmethod
    def forward(ctx, A, mode):
        ctx.set_materialize_grads(False)
        ctx.mode = mode
        if mode == "r":
            R = host.compute("linalg.qr", lambda a: numpy.linalg.qr(a, mode="r"), A)
            Q, R = A.new_zeros((0,)), host.to_device(R, A)
        else:
            Q, R = host.compute("linalg.qr", lambda a: numpy.linalg.qr(a, mode=mode), A)
            Q, R = host.to_device(Q, A), host.to_device(R, A)
        ctx.save_for_backward(Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        gQ = Q.new_zeros(Q.shape) if gQ is None else gQ
        gR = R.new_zeros(R.shape) if gR is None else gR
        if m >= n:
            return _qr_tall_grad(Q, R, gQ, gR), None
        # A = [X | Y] with X square: Y = Q V depends on Q too
        U, V = narrow(R, -1, 0, m), narrow(R, -1, m, n - m)
        gU, gV = narrow(gR, -1, 0, m), narrow(gR, -1, m, n - m)
        Y = Q @ V
        gX = _qr_tall_grad(Q, U, gQ + Y @ gV.mT, gU)
        return cat([gX, Q @ gV], -1), None


def _qr_tall_grad(Q: Tensor, R: Tensor, gQ: Tensor, gR: Tensor) -> Tensor:
    """gA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q, for m >= n (Walter & Lehmann 2018)."""
    M = R @ gR.mT - gQ.mT @ Q
    sym = tril(M) + tril(M, -1).mT
    b = gQ + Q @ sym
    return solve(R, b.mT).mT


def qr(A: Tensor, mode: str = "reduced") -> QR:
    """The QR decomposition `A = Q R` of `A` (..., m, n), computed on the host.

    `mode`: 'reduced' (Q is m x k, R is k x n, k = min(m, n)), 'complete' (Q is m x m) or 'r' (R only;
    Q is empty and nothing is differentiable).
    """
    host.check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    return QR(*LinalgQr.apply(A, mode))


class LinalgEigh(Function):
    @staticmethod
    def forward(ctx, A, UPLO):
        ctx.set_materialize_grads(False)
        w, V = host.compute("linalg.eigh", lambda a: numpy.linalg.eigh(a, UPLO=UPLO), A)
        L, V = host.to_device(w, A), host.to_device(V, A)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        # as PyTorch: gA = V (diag(gL) + skew(V^T gV) / E) V^T, E_ij = L_j - L_i; repeated eigenvalues make
        # the eigenvector gradient infinite (only losses that do not depend on the eigenvectors' choice
        # within an eigenspace are differentiable there)
        L, V = ctx.saved_tensors
        if gV is None:
            inner = diag_embed(gL)
        else:
            off = off_diagonal_mask(L.shape[-1], L)
            VhgV = V.mT @ gV
            E = L.unsqueeze(-2) - L.unsqueeze(-1)
            inner = where(off, 0.5 * (VhgV - VhgV.mT) / where(off, E, 1.0), 0.0)
            if gL is not None:
                inner = inner + diag_embed(gL)
        return V @ inner @ V.mT, None


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of each symmetric matrix in `A`
    (..., n, n), computed on the host from its lower (`UPLO='L'`) or upper ('U') triangle.

    Eigenvectors are defined up to sign: only losses invariant to that choice have meaningful gradients,
    and those gradients are infinite where eigenvalues repeat (as PyTorch documents).
    """
    host.check_matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return EighResult(*LinalgEigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix in `A` (..., n, n), computed on the host."""
    host.check_matrix(A, "linalg.eigvalsh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return LinalgEigh.apply(A, UPLO)[0]


class LinalgSvd(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        ctx.set_materialize_grads(False)
        ctx.full_matrices = full_matrices
        U, S, Vh = host.compute("linalg.svd", lambda a: numpy.linalg.svd(a, full_matrices=full_matrices), A)
        U, S, Vh = host.to_device(U, A), host.to_device(S, A), host.to_device(Vh, A)
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = U.shape[-2], Vh.shape[-1]
        k = S.shape[-1]
        if ctx.full_matrices:  # as PyTorch: only the first k singular vectors enter the gradient
            U, Vh = narrow(U, -1, 0, k), narrow(Vh, -2, 0, k)
            gU = None if gU is None else narrow(gU, -1, 0, k)
            gVh = None if gVh is None else narrow(gVh, -2, 0, k)
        if gU is None and gVh is None:
            return U @ (gS.unsqueeze(-1) * Vh), None
        # PyTorch's svd_backward: gA = U [skew(U^T gU) S / E + S skew(V^T gV) / E + diag(gS)] V^T
        #   + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T), with E_jk = S_k^2 - S_j^2
        off = off_diagonal_mask(k, S)
        S2 = S * S
        E = where(off, S2.unsqueeze(-2) - S2.unsqueeze(-1), 1.0)
        inner = 0.0
        if gU is not None:
            UhgU = U.mT @ gU
            inner = (UhgU - UhgU.mT) / E * S.unsqueeze(-2)
        if gVh is not None:
            V, gV = Vh.mT, gVh.mT
            VhgV = V.mT @ gV
            inner = inner + S.unsqueeze(-1) * ((VhgV - VhgV.mT) / E)
        inner = where(off, inner, 0.0)
        if gS is not None:
            inner = inner + diag_embed(gS)
        gA = U @ inner @ Vh
        if gU is not None and m > k:
            gA = gA + ((gU - U @ UhgU) / S.unsqueeze(-2)) @ Vh
        if gVh is not None and n > k:
            gA = gA + U @ ((gV - V @ VhgV) / S.unsqueeze(-2)).mT
        return gA, None


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> SVD:
    """The singular value decomposition `A = U diag(S) Vh` of `A` (..., m, n), computed on the host.

    S is descending; with `full_matrices=False` U is m x k and Vh is k x n (k = min(m, n)). Singular
    vectors are defined up to sign: only losses invariant to that choice have meaningful gradients, and
    those are infinite where singular values repeat (as PyTorch documents). `driver` names a cuSOLVER
    method: accepted on CUDA tensors (where the host computes the result anyway), an error elsewhere.
    """
    host.check_matrix(A, "linalg.svd", square=False)
    _check_driver(A, driver)
    return SVD(*LinalgSvd.apply(A, bool(full_matrices)))


def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """The singular values (descending) of `A` (..., m, n), computed on the host."""
    host.check_matrix(A, "linalg.svdvals", square=False)
    _check_driver(A, driver)
    return LinalgSvd.apply(A, False)[1]


def _check_driver(A: Tensor, driver: str | None) -> None:
    if driver is None:
        return
    if A.device.type != "cuda":
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")
    if driver not in ("gesvd", "gesvdj", "gesvda"):
        raise RuntimeError(f"torch.linalg.svd: driver should be one of 'gesvd', 'gesvdj', 'gesvda', got {driver!r}")
