"""`F.embedding` and `F.one_hot`."""
from __future__ import annotations

from ... import dtypes
from ...arguments import check_same_device, check_tensor
from ...autograd.grad_mode import no_grad
from ...creation import arange
from ...ops.embedding import Embedding
from ...tensor import Tensor

__all__ = ["embedding", "one_hot"]


def _check_indices(input: Tensor, num: int) -> None:
    if input._dtype._kind != 1:
        raise RuntimeError(f"embedding(): expected indices of an integer dtype (ember.int64 or ember.int32), got "
                           f"{input.dtype}")
    if input.numel():
        lo, hi = int(input.min()), int(input.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"embedding(): index {hi if hi >= num else lo} is out of range for an embedding "
                             f"of {num} rows (valid: 0..{num - 1})")


def _renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows of `weight` that `input` references whose norm exceeds `max_norm`."""
    with no_grad():
        rows = weight[input.reshape(-1)]
        norms = rows.norm(norm_type, dim=-1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).clamp(max=1.0)
        weight[input.reshape(-1)] = rows * scale


def prepare_lookup(fn: str, input: Tensor, weight: Tensor, padding_idx: int | None, max_norm: float | None,
                   norm_type: float) -> int | None:
    """The checks and `max_norm` renormalisation shared by `embedding` and `embedding_bag`; returns
    `padding_idx` as a non-negative row (or None)."""
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"{fn}(): padding_idx {padding_idx} must be within num_embeddings ({num})")
        if padding_idx < 0:
            padding_idx += num
    _check_indices(input, num)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return padding_idx


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of `weight` (num_embeddings, embedding_dim) at integer `input` `(*)`: output `(*, embedding_dim)`.

    Args:
        padding_idx: the row at this index gets no gradient.
        max_norm: rows referenced by `input` with a larger `norm_type`-norm are rescaled to it, in place.
        scale_grad_by_freq: scale each row's gradient by the inverse of its frequency in `input`.
        sparse: accepted for compatibility; ember has no sparse tensors, gradients are always dense.
    """
    check_tensor(input, "embedding")
    check_tensor(weight, "embedding", "weight", 2)
    check_same_device("embedding", weight, indices=input)
    padding_idx = prepare_lookup("embedding", input, weight, padding_idx, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape `(*, num_classes)` with a 1 at each index of `tensor` `(*)`; num_classes=-1 infers
    it as max + 1."""
    check_tensor(tensor, "one_hot")
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel():
        lo, hi = int(tensor.min()), int(tensor.max())
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    classes = arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).to(dtypes.int64)
