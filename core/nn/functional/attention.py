"""Attention, as `torch.nn.functional`: `scaled_dot_product_attention` and `multi_head_attention_forward`.

Mask conventions differ between the two, exactly as in PyTorch: a bool `attn_mask` of
`scaled_dot_product_attention` marks with True the places that TAKE PART in attention, while the bool
masks of `multi_head_attention_forward` (and `nn.MultiheadAttention`) mark with True the places that are
NOT allowed to attend. Float masks are added to the attention scores in both.
"""
from __future__ import annotations

import math
import warnings

from ... import dtypes
from ...arguments import check_tensor
from ...creation import arange, zeros
from ...ops.shape import cat
from ...tensor import Tensor
from .activation import softmax
from .dropout import dropout
from .linear import linear
from .padding import pad

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value, with dropout on the attention weights.

    Shapes: query (N, ..., Hq, L, E), key (N, ..., H, S, E), value (N, ..., H, S, Ev) -> (N, ..., Hq, L, Ev).
    `attn_mask` broadcasts to (N, ..., Hq, L, S): bool (True = take part in attention) or float (float32 or
    query's dtype, added to the scores). `is_causal=True` lets query i attend to keys 0..i only (then no
    `attn_mask`). `scale` defaults to 1/sqrt(E). `dropout_p` always applies (there is no training flag:
    pass 0.0 in eval).
    `enable_gqa=True` lets H divide Hq: each key/value head serves Hq/H query heads (grouped-query
    attention). Query rows whose keys are all masked out get zero output, as in PyTorch.
    """
    check_tensor(query, "scaled_dot_product_attention", "query", 1)
    check_tensor(key, "scaled_dot_product_attention", "key", 2)
    check_tensor(value, "scaled_dot_product_attention", "value", 3)
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        key = _repeat_heads(key, query.shape[-3])
        value = _repeat_heads(value, query.shape[-3])
    L, S = query.shape[-2], key.shape[-2]
    scores = (query * (1.0 / math.sqrt(query.shape[-1]) if scale is None else scale)) @ key.mT
    empty = None
    if is_causal:
        scores = scores.masked_fill(arange(S, device=query.device) > arange(L, device=query.device).unsqueeze(1),
                                    _NEG_INF)
    elif attn_mask is not None:
        if attn_mask.dtype is dtypes.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), _NEG_INF)
            empty = attn_mask.any(-1, keepdim=True).logical_not()
        else:
            scores = scores + attn_mask.to(scores.dtype)
            empty = (attn_mask == _NEG_INF).all(-1, keepdim=True)
        if not empty.any():
            empty = None
    if empty is not None:
        # Rows with no key to attend to would be softmax(all -inf) = NaN; PyTorch returns zeros there
        # (with zero gradients), so the rows are neutralised before and after the softmax.
        scores = scores.masked_fill(empty, 0.0)
    weights = softmax(scores, dim=-1)
    if empty is not None:
        weights = weights.masked_fill(empty, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa) -> None:
    op = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"{op}: query, key and value must be at least 2-D, got shapes {tuple(query.shape)}, "
                           f"{tuple(key.shape)} and {tuple(value.shape)}")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"{op}: expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype}")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected floating-point query, key and value, got {query.dtype}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: query (..., L, E) {tuple(query.shape)}, key (..., S, E) {tuple(key.shape)} "
                           f"and value (..., S, Ev) {tuple(value.shape)} disagree on E or S")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa:
        hq, hk, hv = query.shape[-3:-2], key.shape[-3:-2], value.shape[-3:-2]
        if not hq or not hk or hk != hv or hq[0] % hk[0]:
            raise RuntimeError(f"{op}: with enable_gqa=True, query (..., Hq, L, E), key and value (..., H, S, E) "
                               f"need H to divide Hq; got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
                               f"{tuple(value.shape)}")
    if attn_mask is None:
        return
    if is_causal:
        raise RuntimeError(f"{op}: explicit attn_mask should not be set when is_causal=True")
    if attn_mask.dtype not in (dtypes.bool, dtypes.float32, query.dtype):
        raise RuntimeError(f"{op}: expected attn_mask dtype to be bool or float or to match query dtype "
                           f"({query.dtype}), got {attn_mask.dtype}")
    target = tuple(query.shape[:-1]) + (key.shape[-2],)
    mshape = tuple(attn_mask.shape)
    if len(mshape) > len(target) or any(m not in (1, t) for m, t in zip(mshape[::-1], target[::-1])):
        raise RuntimeError(f"{op}: attn_mask of shape {mshape} does not broadcast to the attention scores' "
                           f"shape {target} (..., L, S)")


def _repeat_heads(t: Tensor, heads: int) -> Tensor:
    """(..., H, S, E) -> (..., heads, S, E), each head repeated heads/H times in a row (repeat_interleave)."""
    shape = tuple(t.shape)
    h = shape[-3]
    return t.unsqueeze(-3).expand(shape[:-2] + (heads // h,) + shape[-2:]).reshape(shape[:-3] + (heads,) + shape[-2:])


def _canonical_mask(mask: Tensor | None, name: str, other: Tensor | None, other_name: str,
                    target_dtype) -> Tensor | None:
    """`mask` as a float mask to add to the scores (bool True -> -inf); warns when its dtype differs from
    the `other` mask's, as PyTorch does."""
    if mask is None:
        return None
    if mask.dtype is not dtypes.bool and not mask.dtype.is_floating_point:
        raise TypeError(f"only bool and floating types of {name} are supported, got {mask.dtype}")
    if other is not None and other.dtype is not mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                      f"instead.", stacklevel=3)
    if mask.dtype is dtypes.bool:
        return zeros(mask.shape, dtype=target_dtype, device=mask.device).masked_fill(mask, _NEG_INF)
    return mask


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Tensor | None = None,
        need_weights: bool = True, attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None, static_v: Tensor | None = None,
        average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """The computation of `nn.MultiheadAttention` (sequence-first layout).

    Shapes: query (L, N, E) or unbatched (L, E); key (S, N, kdim), value (S, N, vdim);
    key_padding_mask (N, S) or (S,); attn_mask (L, S) or `(N*num_heads, L, S)`. Bool masks: True = NOT
    allowed to attend; float masks are added to the scores. Returns (attn_output (L, N, E),
    attn_weights (N, L, S) averaged over heads, or (N, num_heads, L, S), or None unless need_weights).
    `is_causal` is a hint that `attn_mask` is the causal mask; an `attn_mask` is still required.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("multi_head_attention_forward: need attn_mask if specifying the is_causal hint; "
                           "you may use nn.Transformer.generate_square_subsequent_mask to create it")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone drives the causal masking
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"multi_head_attention_forward: was expecting embedding dimension of "
                         f"{embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"multi_head_attention_forward: embed_dim {embed_dim} not divisible by num_heads "
                         f"{num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"multi_head_attention_forward: key's sequence and batch dims {tuple(key.shape[:2])} "
                             f"do not match value's {tuple(value.shape[:2])}")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k), linear(value, v_proj_weight, b_v)
    else:
        if key.shape != value.shape:
            raise ValueError(f"multi_head_attention_forward: key shape {tuple(key.shape)} does not match value "
                             f"shape {tuple(value.shape)}")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, key.shape[0]):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, key.shape[0])}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, key.shape[0]):
            raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                               f"{(bsz * num_heads, tgt_len, key.shape[0])}.")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError("multi_head_attention_forward: bias_k/bias_v cannot be added to static_k/static_v")
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given together")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _static_or_heads(static_k, k, bsz * num_heads, head_dim, "static_k")
    v = _static_or_heads(static_v, v, bsz * num_heads, head_dim, "static_v")
    if add_zero_attn:
        k = cat([k, zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros(bsz * num_heads, 1, head_dim, dtype=v.dtype, device=v.device)], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise RuntimeError(f"multi_head_attention_forward: expecting key_padding_mask shape of "
                               f"{(bsz, src_len)}, but got {tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len) \
            .reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.mT
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, dim=-1)
        out = (dropout(weights, p=dropout_p) if dropout_p > 0.0 else weights) @ v
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    return (out if is_batched else out.squeeze(1)), None


def _static_or_heads(static: Tensor | None, t: Tensor, batch_heads: int, head_dim: int, name: str) -> Tensor:
    """(S, N, E) -> `(N*num_heads, S, head_dim)`, or the given static keys/values after a shape check."""
    if static is None:
        return t.reshape(t.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.ndim != 3 or static.shape[0] != batch_heads or static.shape[2] != head_dim:
        raise RuntimeError(f"multi_head_attention_forward: expecting {name} of shape ({batch_heads}, S, "
                           f"{head_dim}), but got {tuple(static.shape)}")
    return static


def _in_projection_packed(q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | None) -> tuple:
    """q, k, v projected by the packed (3E, E) weight: one matmul for self-attention, two when key is
    value (encoder-decoder attention), three otherwise."""
    E = q.shape[-1]
    if k is v:
        if q is k:
            return linear(q, w, b).unflatten(-1, (3, E)).unbind(-2)
        w_q, w_kv = w.split([E, 2 * E])
        b_q, b_kv = (None, None) if b is None else b.split([E, 2 * E])
        return (linear(q, w_q, b_q),) + linear(k, w_kv, b_kv).unflatten(-1, (2, E)).unbind(-2)
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """Whether the inputs are batched (3-D query) or not (2-D), after checking the other ranks agree."""
    op = "multi_head_attention_forward"
    if query.ndim not in (2, 3):
        raise RuntimeError(f"{op}: query should be unbatched 2D or batched 3D tensor but received "
                           f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    what = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(f"{op}: for {what} `query`, expected `key` and `value` to be {query.ndim}-D but found "
                           f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise RuntimeError(f"{op}: for {what} `query`, expected `key_padding_mask` to be `None` or "
                           f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise RuntimeError(f"{op}: for {what} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                               f"found {attn_mask.ndim}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"{op}: expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
    return batched
