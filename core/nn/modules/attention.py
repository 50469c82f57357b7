"""`MultiheadAttention`, as in `torch.nn`."""
from __future__ import annotations

from ...creation import empty
from ...tensor import Tensor
from .. import functional as F, init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Attention over `num_heads` subspaces: concat(head_1..head_h) W_O, head_i = Attention(Q W_Q_i, K W_K_i, V W_V_i).

    Args:
        embed_dim: model dimension E (split evenly across heads).
        num_heads: number of parallel heads; must divide embed_dim.
        dropout: dropout probability on the attention weights, in training. Default: 0.0.
        bias: if True, the input and output projections have biases. Default: True.
        add_bias_kv: if True, learned biases bias_k, bias_v (1, 1, E) are appended to the keys and values
            (one extra source position). Default: False.
        add_zero_attn: if True, a zero key and value are appended (one extra source position). Default: False.
        kdim, vdim: features of key and value. Default: embed_dim. When they differ from embed_dim the
            projections are the separate q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight
            (E, vdim); otherwise one packed in_proj_weight (3E, E).
        batch_first: if True, inputs and outputs are (N, L, E) instead of (L, N, E). Default: False.

    Parameters: in_proj_weight (`xavier_uniform_`) or q/k/v_proj_weight, in_proj_bias (3E,) zeros,
    out_proj (a Linear(E, E), bias zeros), bias_k and bias_v (`xavier_normal_`).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), device=device, dtype=dtype))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), device=device, dtype=dtype))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), device=device, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), device=device, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, device=device, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), device=device, dtype=dtype))
            self.bias_v = Parameter(empty((1, 1, embed_dim), device=device, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Attend from `query` to `key`/`value`.

        Shapes: query (L, N, E) ((N, L, E) with batch_first, (L, E) unbatched), key (S, N, kdim), value
        (S, N, vdim); key_padding_mask (N, S) or (S,); attn_mask (L, S) or `(N*num_heads, L, S)`. In both
        masks a bool True means NOT allowed to attend (the opposite of scaled_dot_product_attention's bool
        mask); float masks are added to the attention scores. `is_causal` is a hint that attn_mask is the
        causal mask (attn_mask is still required).
        Returns (attn_output (L, N, E), attn_weights): the weights are (N, L, S) averaged over heads, or
        (N, num_heads, L, S) with average_attn_weights=False, or None with need_weights=False.
        """
        batched = query.ndim == 3
        if self.batch_first and batched:
            # keep `key is value` (and `query is key`) true: they select the packed projection path
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = query.transpose(1, 0), key.transpose(1, 0), value.transpose(1, 0)
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
