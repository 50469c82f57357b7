"""The host fallback for matrix decompositions: the backend interface offers `matmul` but no
factorizations, so `ember.linalg` copies the (batched) matrices to the host with `bk.to_numpy`,
runs `numpy.linalg` there and copies the results back with `bk.asarray`. Every decomposition's
forward goes through `compute`; the backward formulas are tensor ops and stay on the device.
numpy's own errors become ember's (`LinAlgError` for singular or indefinite matrices), never a
silently wrong result.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy

from .. import dtypes
from ..arguments import check_tensor
from .._tensor_base import Tensor, _wrap


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (a singular or non positive-definite matrix), as
    `torch.linalg.LinAlgError`."""


def check_matrix(A: Tensor, op: str, *, square: bool = True, name: str = "A") -> None:
    """PyTorch's checks on a matrix argument: a floating tensor with at least 2 dims, square if required."""
    check_tensor(A, op)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if A._dtype not in (dtypes.float32, dtypes.float64):
        kind = "Expected a floating point or complex tensor as input." if not A._dtype.is_floating_point \
            else "Low precision dtypes not supported."
        raise RuntimeError(f"{op}: {kind} Got {type_name(A._dtype)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def type_name(dt) -> str:
    """PyTorch's scalar-type name of an ember dtype, as its error messages print it."""
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double"}.get(dt.name, dt.name)


def compute(op: str, fn: Callable, *tensors: Tensor, failure: Callable[[numpy.ndarray], str] | None = None):
    """`fn(*host arrays)` computed on the host: copies `tensors` off their device, returns numpy results.

    A `numpy.linalg.LinAlgError` becomes `LinAlgError`; `failure(matrix)` words the reason for the first
    matrix of the batch that fails (PyTorch's "(Batch element i): " prefix for batched inputs).
    """
    arrays = [t._bk.to_numpy(t._data) for t in tensors]
    try:
        with numpy.errstate(all="ignore"):
            return fn(*arrays)
    except numpy.linalg.LinAlgError:
        if failure is None:
            raise LinAlgError(f"{op}: the computation did not converge") from None
        A = arrays[0]
        batch = A.reshape((-1,) + A.shape[-2:])
        for i, matrix in enumerate(batch):
            reason = failure(matrix)
            if reason:
                prefix = f"(Batch element {i}): " if A.ndim > 2 else ""
                raise LinAlgError(f"{op}: {prefix}{reason}") from None
        raise LinAlgError(f"{op}: {failure(batch[0]) or 'the computation failed'}") from None


def singular(matrix: numpy.ndarray) -> str:
    """The reason numpy rejected `matrix` for inversion, or "" when it did not."""
    try:
        numpy.linalg.inv(matrix)
    except numpy.linalg.LinAlgError:
        return "the inversion could not be completed because the input matrix is singular."
    return ""


def not_positive_definite(matrix: numpy.ndarray) -> str:
    """PyTorch's wording for a Cholesky failure: the order of the first leading minor that is not positive-definite."""
    for k in range(1, matrix.shape[-1] + 1):
        try:
            numpy.linalg.cholesky(matrix[:k, :k])
        except numpy.linalg.LinAlgError:
            return ("The factorization could not be completed because the input is not positive-definite "
                    f"(the leading minor of order {k} is not positive-definite).")
    return ""


def to_device(array: numpy.ndarray, like: Tensor, dtype=None) -> Tensor:
    """A host result copied back to `like`'s device, as a tensor of `dtype` (default: `like`'s)."""
    dt = like._dtype if dtype is None else dtype
    return _wrap(like._bk.asarray(numpy.asarray(array, order="C"), dt), like._bk, like._device, dt)
