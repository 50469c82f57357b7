"""Matrix products."""
from __future__ import annotations

from .. import dtypes
from ..arguments import check_tensor, not_tensor
from ..autograd.node import Op
from .._tensor_base import Tensor
from .out import write_out
from .elementwise import _operands, unbroadcast
from .shape import reshape, unsqueeze


class MatMul(Op):
    keeps_dtype = True

    def forward(self, a, b):
        na, nb = self.needs_input_grad or (False, False)
        self.shapes = (a._data.shape, b._data.shape)
        self.save_for_backward(a if nb else None, b if na else None)
        return self.bk.matmul(a._data, b._data)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        if nb and len(sb) == 2 and len(sa) > 2:
            # (*, k) @ (k, n): b's gradient is one GEMM over the folded leading dims, not a batch then a sum
            gb = MatMul.apply(a.reshape(-1, sa[-1]).mT, g.reshape(-1, g.shape[-1]))
        else:
            gb = unbroadcast(MatMul.apply(a.mT, g), sb) if nb else None
        return (unbroadcast(MatMul.apply(g, b.mT), sa) if na else None, gb)


def matmul(a: Tensor, b: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D operands are vectors, leading dims broadcast."""
    if out is not None:
        return write_out("matmul", matmul(a, b), out)
    if not isinstance(a, Tensor):
        raise not_tensor(a, "matmul")
    if not isinstance(b, Tensor):
        raise not_tensor(b, "matmul", "other", 2)
    if a._dtype is not b._dtype or a._device is not b._device:
        if a._dtype is not b._dtype:
            raise RuntimeError(f"matmul: expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != "
                               f"{b.dtype.name} (shapes {list(a.shape)} and {list(b.shape)})")
        a, b = _operands(a, b, "matmul")
    if a._dtype is dtypes.bool:
        raise RuntimeError("matmul: bool tensors are not supported")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                           f"({k_a} != {k_b})")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(MatMul.apply(unsqueeze(a, 0), unsqueeze(b, 1)), ())
    if a.ndim == 1:
        out = MatMul.apply(unsqueeze(a, 0), b)
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = MatMul.apply(a, unsqueeze(b, 1))
        return reshape(out, out.shape[:-1])
    try:
        return MatMul.apply(a, b)
    except RuntimeError as exc:
        raise RuntimeError(f"matmul: batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast") from exc


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D matrices."""
    check_tensor(a, "mm")
    check_tensor(b, "mm", "b", 2)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of (B, n, m) and (B, m, p) tensors."""
    check_tensor(a, "bmm")
    check_tensor(b, "bmm", "b", 2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected 3-D tensors with the same batch size, got {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    check_tensor(a, "dot")
    check_tensor(b, "dot", "b", 2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    check_tensor(a, "outer")
    check_tensor(b, "outer", "b", 2)
    return unsqueeze(a, 1) * unsqueeze(b, 0)
