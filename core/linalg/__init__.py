"""`ember.linalg`: PyTorch's `torch.linalg`, with gradients.

The backend interface has `matmul` but no factorizations, so every decomposition (inverse, determinant,
solve, QR, SVD, eigendecomposition, Cholesky, pseudo-inverse, rank) is computed on the host: the
matrices are copied off their device to numpy, factored with `numpy.linalg`, and the results copied
back (see `host.py`; on a GPU backend this is a device-to-host round trip). The gradients are tensor
ops on the device, so higher-order gradients work on every backend.
"""
from __future__ import annotations

from .decompositions import (
    QR,
    SVD,
    EighResult,
    cholesky,
    eigh,
    eigvalsh,
    qr,
    svd,
    svdvals,
)
from .host import LinAlgError
from .inverse import (
    LstsqResult,
    SlogdetResult,
    det,
    inv,
    lstsq,
    matrix_power,
    matrix_rank,
    pinv,
    slogdet,
    solve,
)
from .norms import matrix_norm, norm, vector_norm

__all__ = [
    "QR",
    "SVD",
    "EighResult",
    "LinAlgError",
    "LstsqResult",
    "SlogdetResult",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vector_norm",
]
