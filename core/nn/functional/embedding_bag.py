"""`F.embedding_bag`: sums, means or maxima of bags of embedding rows, built from differentiable tensor ops."""
from __future__ import annotations

from ... import dtypes
from ...arguments import check_same_device, check_tensor
from ...creation import arange, zeros
from ...ops.scatter import index_add, scatter_reduce
from ...tensor import Tensor
from .sparse import embedding, prepare_lookup

__all__ = ["embedding_bag"]


def _bag_ids(input: Tensor, offsets: Tensor | None, include_last_offset: bool) -> tuple[Tensor, int, Tensor | None]:
    """(the bag of each flat index, number of bags, mask of the indices inside a bag or None when all are) of
    a 2-D input or a 1-D input with offsets."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets).__name__}")
        bags, length = input.shape
        ids = arange(bags, device=input.device).unsqueeze(1).expand(bags, length).reshape(-1)
        return ids, bags, None
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    check_tensor(offsets, "embedding_bag", "offsets")
    check_same_device("embedding_bag", input, offsets=offsets)
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if offsets._dtype._kind != 1:
        raise RuntimeError(f"embedding_bag(): expected offsets of an integer dtype, got {offsets.dtype}")
    offsets = offsets.to(dtypes.int64)
    if include_last_offset:
        if offsets.shape[0] < 1:
            raise RuntimeError("include_last_offset: number of offsets should be at least 1")
        starts = offsets[:-1]
    else:
        starts = offsets
    if offsets.shape[0] and int(offsets[0]) != 0:
        raise ValueError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                         f"position 0. However, got {int(offsets[0])}")
    if offsets.shape[0] and int(offsets[-1]) > input.shape[0]:
        raise ValueError(f"offsets[-1] can not be greater than input's length ({input.shape[0]}), but got "
                         f"offsets[-1] of {int(offsets[-1])}")
    bags = starts.shape[0]
    pos = arange(input.shape[0], device=input.device)
    ids = (pos.unsqueeze(1) >= starts.unsqueeze(0)).to(dtypes.int64).sum(1) - 1
    return ids, bags, pos < offsets[-1] if include_last_offset else None


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Reduce bags of rows of `weight` (num_embeddings, embedding_dim) by `mode` ("sum", "mean" or "max").

    A 2-D `input` (B, N) holds B bags of N indices; a 1-D `input` is split into bags starting at `offsets`.
    Output (B, embedding_dim); an empty bag gives zeros; indices equal to `padding_idx` are left out.
    `per_sample_weights` (same shape as `input`) scales each row before summing (mode "sum" only).
    `sparse` is accepted for compatibility; gradients are always dense.
    """
    check_tensor(input, "embedding_bag")
    check_tensor(weight, "embedding_bag", "weight", 2)
    check_same_device("embedding_bag", weight, indices=input)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None:
        check_tensor(per_sample_weights, "embedding_bag", "per_sample_weights")
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
                f"mode='sum' (got mode='{mode}'). Please open a feature request on the Pytorch GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({list(input.shape)})")
        check_same_device("embedding_bag", weight, per_sample_weights=per_sample_weights)
    num, dim = weight.shape
    padding_idx = prepare_lookup("embedding_bag", input, weight, padding_idx, max_norm, norm_type)
    ids, bags, keep = _bag_ids(input, offsets, include_last_offset)
    indices = input.reshape(-1)
    psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    if padding_idx is not None:
        not_pad = indices != padding_idx
        keep = not_pad if keep is None else keep & not_pad
    if keep is not None:
        indices, ids = indices[keep], ids[keep]
        if psw is not None:
            psw = psw[keep]
    rows = embedding(indices, weight, scale_grad_by_freq=scale_grad_by_freq)
    out = zeros((bags, dim), dtype=weight.dtype, device=weight.device)
    if mode == "max":
        return scatter_reduce(out, 0, ids.unsqueeze(1).expand(ids.shape[0], dim), rows, "amax", include_self=False)
    if psw is not None:
        rows = rows * psw.to(rows.dtype).unsqueeze(1)
    out = index_add(out, 0, ids, rows)
    if mode == "mean":
        counts = index_add(zeros((bags,), dtype=weight.dtype, device=weight.device), 0, ids,
                           zeros(ids.shape, dtype=weight.dtype, device=weight.device) + 1)
        out = out / counts.clamp(min=1).unsqueeze(1)
    return out
