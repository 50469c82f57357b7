"""Distances between batches of vectors, as `torch.nn.functional`: `cosine_similarity`, `pairwise_distance`."""
from __future__ import annotations

from ...arguments import check_same_device, check_tensor
from ...tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance"]


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along `dim`, after broadcasting x1 and x2."""
    check_tensor(x1, "cosine_similarity")
    check_tensor(x2, "cosine_similarity")
    check_same_device("cosine_similarity", x1, x2=x2)
    shape = _broadcast_shape(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim, after broadcasting x1 and x2."""
    check_tensor(x1, "pairwise_distance")
    check_tensor(x2, "pairwise_distance")
    check_same_device("pairwise_distance", x1, x2=x2)
    dim = -1 if max(x1.ndim, x2.ndim) > 0 else 0
    return (x1 - x2 + eps).norm(p, dim, keepdim=keepdim)


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        raise RuntimeError(f"cosine_similarity: the size of x1 {list(a)} must match the size of x2 {list(b)} "
                           f"except at singleton dimensions")
    return tuple(max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b))
