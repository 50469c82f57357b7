"""Attention and the Transformer: `F.scaled_dot_product_attention` against a numpy reference (masks, causal,
scale, grouped-query, fully masked rows, dropout, gradients), `nn.MultiheadAttention` against a manual
computation with the packed in-projection split (both mask conventions, key padding, head averaging,
layouts, gradients), the Transformer encoder/decoder layers and stacks, and (where torch is installed)
state dicts and outputs interchangeable with torch's."""
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F


def _t(a, device, requires_grad=False, dtype=np.float64):
    return ember.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=requires_grad)


def _np(t):
    return t.detach().cpu().numpy()


def ref_softmax(s):
    """Softmax over the last axis; rows that are all -inf give zeros (PyTorch's SDPA)."""
    m = s.max(-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def ref_sdpa(q, k, v, mask=None, is_causal=False, scale=None):
    L, S = q.shape[-2], k.shape[-2]
    s = q @ np.swapaxes(k, -1, -2) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        s = np.where(np.tril(np.ones((L, S), bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    return ref_softmax(s) @ v


# ---- scaled_dot_product_attention -------------------------------------------------------------------
def _rng_mask(shape, seed=0):
    m = np.random.default_rng(seed).random(shape) < 0.6
    m[..., 0] = True
    return m


SDPA_CASES = {  # name: (q shape, k shape, v shape, mask or None, kwargs)
    "4d": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {}),
    "3d": ((3, 4, 5), (3, 6, 5), (3, 6, 2), None, {}),
    "2d": ((4, 5), (6, 5), (6, 3), None, {}),
    "bool mask (L, S)": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), _rng_mask((4, 6)), {}),
    "bool mask (N, 1, 1, S)": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), _rng_mask((2, 1, 1, 6)), {}),
    "float mask (N, 1, L, S)": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7),
                                np.random.default_rng(1).standard_normal((2, 1, 4, 6)), {}),
    "causal L < S": ((2, 4, 5), (2, 6, 5), (2, 6, 3), None, {"is_causal": True}),
    "causal L > S": ((2, 6, 5), (2, 4, 5), (2, 4, 3), None, {"is_causal": True}),
    "scale": ((2, 4, 5), (2, 6, 5), (2, 6, 3), None, {"scale": 0.3}),
}


@pytest.mark.parametrize("case", SDPA_CASES, ids=str)
def test_sdpa_matches_reference(device, case):
    qs, ks, vs, mask, kw = SDPA_CASES[case]
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(vs)
    out = F.scaled_dot_product_attention(_t(q, device), _t(k, device), _t(v, device),
                                         None if mask is None else _t(mask, device, dtype=mask.dtype), **kw)
    np.testing.assert_allclose(_np(out), ref_sdpa(q, k, v, mask, **kw), rtol=1e-12, atol=1e-12)


def test_sdpa_grouped_query_heads_share_each_key_value_head(device):
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((2, 6, 4, 5)), rng.standard_normal((2, 2, 3, 5)), rng.standard_normal((2, 2, 3, 4))
    out = F.scaled_dot_product_attention(_t(q, device), _t(k, device), _t(v, device), enable_gqa=True)
    expected = ref_sdpa(q, np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1))
    np.testing.assert_allclose(_np(out), expected, rtol=1e-12)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_rows_with_every_key_masked_give_zero_output_and_gradient(device, kind):
    rng = np.random.default_rng(4)
    q, k, v = (_t(rng.standard_normal(s), device, True) for s in ((1, 3, 4), (1, 5, 4), (1, 5, 2)))
    allowed = np.ones((3, 5), bool)
    allowed[1] = False
    mask = _t(allowed, device, dtype=bool) if kind == "bool" else _t(np.where(allowed, 0.0, -np.inf), device)
    out = F.scaled_dot_product_attention(q, k, v, mask)
    assert np.isfinite(_np(out)).all() and not _np(out)[0, 1].any()
    out.sum().backward()
    assert np.isfinite(_np(q.grad)).all() and not _np(q.grad)[0, 1].any()
    np.testing.assert_allclose(_np(out)[0, [0, 2]], ref_sdpa(_np(q), _np(k), _np(v))[0, [0, 2]], rtol=1e-12)


@pytest.mark.parametrize("mask_kind, kw", [(None, {}), ("bool", {}), ("float", {}), (None, {"is_causal": True}),
                                           (None, {"scale": 0.7})])
def test_sdpa_gradients_match_finite_differences(device, mask_kind, kw):
    rng = np.random.default_rng(5)
    q, k, v = (_t(rng.standard_normal(s), device, True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    inputs = [q, k, v]
    if mask_kind == "bool":
        mask = _t(_rng_mask((3, 5)), device, dtype=bool)
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask)  # noqa: E731
    elif mask_kind == "float":
        inputs.append(_t(rng.standard_normal((3, 5)), device, True))
        fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m)  # noqa: E731
    else:
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw)  # noqa: E731
    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


def test_sdpa_dropout_zeroes_weights_and_follows_the_seed(device):
    rng = np.random.default_rng(6)
    q, k, v = (_t(rng.standard_normal(s), device) for s in ((2, 8, 4), (2, 8, 4), (2, 8, 3)))
    assert not _np(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)).any()
    ember.manual_seed(1)
    a = _np(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    ember.manual_seed(1)
    b = _np(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, _np(F.scaled_dot_product_attention(q, k, v)))


@pytest.mark.parametrize("shapes, kw, error, match", [
    (((2, 4, 5), (2, 6, 5), (2, 6, 3)), {"attn_mask": np.ones((4, 6), bool), "is_causal": True}, RuntimeError,
     "is_causal"),
    (((2, 4, 5), (2, 6, 4), (2, 6, 3)), {}, RuntimeError, "disagree on E or S"),
    (((2, 4, 5), (2, 6, 5), (2, 7, 3)), {}, RuntimeError, "disagree on E or S"),
    (((2, 4, 5), (2, 6, 5), (2, 6, 3)), {"attn_mask": np.ones((3, 4, 6), bool)}, RuntimeError, "broadcast"),
    (((1, 3, 4, 5), (1, 2, 6, 5), (1, 2, 6, 3)), {"enable_gqa": True}, RuntimeError, "divide"),
    (((2, 4, 5), (2, 6, 5), (2, 6, 3)), {"dropout_p": 1.5}, ValueError, "dropout_p"),
])
def test_sdpa_bad_arguments_raise(device, shapes, kw, error, match):
    q, k, v = (ember.randn(s, device=device) for s in shapes)
    if "attn_mask" in kw:
        kw = dict(kw, attn_mask=ember.tensor(kw["attn_mask"], device=device))
    with pytest.raises(error, match=match):
        F.scaled_dot_product_attention(q, k, v, **kw)


def test_sdpa_mask_and_input_dtypes(device):
    q = ember.randn(2, 3, 4, device=device)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(3, 3, dtype=ember.int64, device=device))
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(3, 3, dtype=ember.float64, device=device))
    mask = ember.randn(3, 3, device=device)  # a float32 mask also serves float64 inputs
    out = F.scaled_dot_product_attention(q.double(), q.double(), q.double(), attn_mask=mask)
    assert out.dtype == ember.float64
    np.testing.assert_allclose(_np(out), _np(F.scaled_dot_product_attention(q, q, q, attn_mask=mask)), rtol=1e-5)


# ---- MultiheadAttention -----------------------------------------------------------------------------
def ref_mha(mha, q, k, v, mask=None, key_padding_mask=None):
    """Manual multi-head attention, sequence-first (L, N, E), masks as float additions; returns
    (output, per-head weights (N, H, L, S))."""
    p = {name: _np(t) for name, t in mha.named_parameters()}
    E, H = mha.embed_dim, mha.num_heads
    if mha._qkv_same_embed_dim:
        w_q, w_k, w_v = np.split(p["in_proj_weight"], 3)
    else:
        w_q, w_k, w_v = p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"]
    b_q, b_k, b_v = np.split(p["in_proj_bias"], 3) if "in_proj_bias" in p else (0.0, 0.0, 0.0)

    def heads(x):  # (L, N, E) -> (N, H, L, E/H)
        return x.reshape(x.shape[0], x.shape[1], H, E // H).transpose(1, 2, 0, 3)
    qh, kh, vh = heads(q @ w_q.T + b_q), heads(k @ w_k.T + b_k), heads(v @ w_v.T + b_v)
    s = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(E // H)
    if mask is not None:
        s = s + (mask.reshape(q.shape[1], H, *mask.shape[-2:]) if mask.ndim == 3 else mask)
    if key_padding_mask is not None:
        s = s + key_padding_mask[:, None, None, :]
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    out = (w @ vh).transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], E)
    return out @ p["out_proj.weight"].T + p.get("out_proj.bias", 0.0), w


def _as_float_mask(m):
    return np.where(m, -np.inf, 0.0) if m.dtype == bool else m


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask_kind", [None, "bool", "float", "3d", "bool+padding", "float+padding"])
def test_mha_self_attention_equals_manual_in_proj_split(device, need_weights, mask_kind):
    E, H, L, N = 6, 3, 4, 2
    rng = np.random.default_rng(7)
    mha = nn.MultiheadAttention(E, H, device=device, dtype=ember.float64)
    with ember.no_grad():
        mha.in_proj_bias.copy_(_t(rng.standard_normal(3 * E), device))
    x = rng.standard_normal((L, N, E))
    mask = kpm = None
    if mask_kind in ("bool", "bool+padding"):
        mask = rng.random((L, L)) < 0.3
        mask[:, 0] = False
    elif mask_kind in ("float", "float+padding"):
        mask = rng.standard_normal((L, L))
    elif mask_kind == "3d":
        mask = rng.standard_normal((N * H, L, L))
    if mask_kind and mask_kind.endswith("padding"):
        kpm = np.zeros((N, L), bool) if mask.dtype == bool else rng.standard_normal((N, L))
        if mask.dtype == bool:
            kpm[1, 2:] = True
    xe = _t(x, device)
    out, weights = mha(xe, xe, xe, need_weights=need_weights,
                       attn_mask=None if mask is None else _t(mask, device, dtype=mask.dtype),
                       key_padding_mask=None if kpm is None else _t(kpm, device, dtype=kpm.dtype))
    ref_out, ref_w = ref_mha(mha, x, x, x, None if mask is None else _as_float_mask(mask),
                             None if kpm is None else _as_float_mask(kpm))
    np.testing.assert_allclose(_np(out), ref_out, rtol=1e-10, atol=1e-12)
    if need_weights:
        np.testing.assert_allclose(_np(weights), ref_w.mean(1), rtol=1e-10, atol=1e-12)
    else:
        assert weights is None


def test_mha_per_head_weights_average_to_the_default_and_rows_sum_to_one(device):
    mha = nn.MultiheadAttention(8, 4, kdim=3, vdim=5, device=device)
    q, k, v = (ember.randn(s, device=device) for s in ((4, 2, 8), (6, 2, 3), (6, 2, 5)))
    _, per_head = mha(q, k, v, average_attn_weights=False)
    _, averaged = mha(q, k, v)
    assert per_head.shape == (2, 4, 4, 6) and averaged.shape == (2, 4, 6)
    np.testing.assert_allclose(_np(per_head.mean(1)), _np(averaged), rtol=1e-6)
    np.testing.assert_allclose(_np(per_head.sum(-1)), np.ones((2, 4, 4)), rtol=1e-5)


def test_mha_bool_true_blocks_attention_exactly_like_a_minus_inf_float_mask(device):
    mha = nn.MultiheadAttention(4, 2, device=device)
    x = ember.randn(5, 3, 4, device=device)
    blocked = np.zeros((5, 5), bool)
    blocked[:, 3] = True
    padding = np.zeros((3, 5), bool)
    padding[0, 4] = True
    out_b, w_b = mha(x, x, x, attn_mask=ember.tensor(blocked, device=device),
                     key_padding_mask=ember.tensor(padding, device=device))
    out_f, w_f = mha(x, x, x, attn_mask=ember.tensor(np.where(blocked, -np.inf, 0.0).astype(np.float32), device=device),
                     key_padding_mask=ember.tensor(np.where(padding, -np.inf, 0.0).astype(np.float32), device=device))
    np.testing.assert_allclose(_np(out_b), _np(out_f), rtol=1e-6)
    np.testing.assert_allclose(_np(w_b), _np(w_f), rtol=1e-6)
    assert not _np(w_b)[:, :, 3].any() and not _np(w_b)[0, :, 4].any() and _np(w_b)[1, :, 4].all()


def test_mha_mismatched_mask_dtypes_warn(device):
    mha = nn.MultiheadAttention(4, 2, device=device)
    x = ember.randn(3, 1, 4, device=device)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        mha(x, x, x, key_padding_mask=ember.zeros(1, 3, dtype=ember.bool, device=device),
            attn_mask=ember.zeros(3, 3, device=device))


def test_mha_batch_first_and_unbatched_agree_with_the_sequence_first_layout(device):
    mha = nn.MultiheadAttention(4, 2, device=device, dtype=ember.float64)
    q, kv = _t(np.random.default_rng(8).standard_normal((3, 2, 4)), device), \
        _t(np.random.default_rng(9).standard_normal((5, 2, 4)), device)
    out, w = mha(q, kv, kv)
    single, w_single = mha(q[:, 1], kv[:, 1], kv[:, 1])
    assert single.shape == (3, 4) and w_single.shape == (3, 5)
    np.testing.assert_allclose(_np(single), _np(out[:, 1]), rtol=1e-12)
    np.testing.assert_allclose(_np(w_single), _np(w[1]), rtol=1e-12)
    mha.batch_first = True
    out_bf, w_bf = mha(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1))
    np.testing.assert_allclose(_np(out_bf), _np(out.transpose(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(_np(w_bf), _np(w), rtol=1e-12)


@pytest.mark.parametrize("kw, names, src_extra", [
    ({}, ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], 0),
    ({"bias": False}, ["in_proj_weight", "out_proj.weight"], 0),
    ({"kdim": 3, "vdim": 5}, ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
                              "out_proj.bias"], 0),
    ({"add_bias_kv": True}, ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
                             "out_proj.bias"], 1),
    ({"add_bias_kv": True, "add_zero_attn": True}, ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                                    "out_proj.weight", "out_proj.bias"], 2),
])
def test_mha_parameters_and_extra_source_positions(device, kw, names, src_extra):
    mha = nn.MultiheadAttention(8, 2, **kw, device=device)
    assert list(mha.state_dict()) == names
    if "in_proj_bias" in names:
        assert not _np(mha.in_proj_bias).any() and not _np(mha.out_proj.bias).any()
    kd, vd = kw.get("kdim", 8), kw.get("vdim", 8)
    q, k, v = (ember.randn(s, device=device) for s in ((3, 2, 8), (4, 2, kd), (4, 2, vd)))
    out, w = mha(q, k, v, attn_mask=ember.zeros(3, 4, dtype=ember.bool, device=device),
                 key_padding_mask=ember.zeros(2, 4, dtype=ember.bool, device=device))
    assert out.shape == (3, 2, 8) and w.shape == (2, 3, 4 + src_extra)


def test_mha_functional_gradients_match_finite_differences(device):
    rng = np.random.default_rng(10)
    E, H = 4, 2
    q, k, v = (_t(rng.standard_normal(s), device, True) for s in ((3, 2, E), (4, 2, E), (4, 2, E)))
    w_in, b_in = _t(rng.standard_normal((3 * E, E)), device, True), _t(rng.standard_normal(3 * E), device, True)
    w_out, b_out = _t(rng.standard_normal((E, E)), device, True), _t(rng.standard_normal(E), device, True)
    mask = _t(rng.standard_normal((3, 4)), device)
    kpm = _t([[0.0, 0.0, 0.0, -np.inf], [0.0, 0.0, 0.0, 0.0]], device)

    def fn(q, k, v, w_in, b_in, w_out, b_out, need_weights, masks=True):
        return F.multi_head_attention_forward(q, k, v, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                              key_padding_mask=kpm if masks else None,
                                              attn_mask=mask if masks else None, need_weights=need_weights)
    for need_weights in (True, False):
        assert gradcheck(lambda *a: fn(*a, need_weights), (q, k, v, w_in, b_in, w_out, b_out))
    x = _t(rng.standard_normal((2, 1, E)), device, True)
    assert gradgradcheck(lambda x, w: fn(x, x, x, w, b_in, w_out, b_out, True, masks=False), (x, w_in))


@pytest.mark.parametrize("call, error, match", [
    (lambda m, x, d: m(x, x, x, attn_mask=ember.zeros(2, 2, device=d)), RuntimeError, "2D attn_mask"),
    (lambda m, x, d: m(x, x, x, attn_mask=ember.zeros(3, 3, 3, device=d)), RuntimeError, "3D attn_mask"),
    (lambda m, x, d: m(x, x, x, key_padding_mask=ember.zeros(2, 2, dtype=ember.bool, device=d)), RuntimeError,
     "key_padding_mask shape"),
    (lambda m, x, d: m(x, x, x, is_causal=True), RuntimeError, "need attn_mask"),
    (lambda m, x, d: m(x, x, x, attn_mask=ember.zeros(3, 3, dtype=ember.int64, device=d)), TypeError,
     "only bool and floating"),
    (lambda m, x, d: m(x[0], x, x), RuntimeError, "expected `key` and `value` to be 2-D"),
])
def test_mha_bad_inputs_raise(device, call, error, match):
    mha = nn.MultiheadAttention(4, 2, device=device)
    with pytest.raises(error, match=match):
        call(mha, ember.randn(3, 2, 4, device=device), device)


def test_mha_heads_must_divide_embed_dim():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 1)


# ---- Transformer ------------------------------------------------------------------------------------
def test_generate_square_subsequent_mask_is_minus_inf_above_the_diagonal(device):
    mask = nn.Transformer.generate_square_subsequent_mask(4, device=device)
    assert mask.dtype == ember.float32 and mask.device == device
    np.testing.assert_array_equal(_np(mask), np.triu(np.full((4, 4), -np.inf), 1))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_shapes_and_eval_determinism(device, batch_first, norm_first):
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=batch_first, norm_first=norm_first,
                                       device=device)
    x = ember.randn(2, 5, 8, device=device) if batch_first else ember.randn(5, 2, 8, device=device)
    layer.train()
    assert not np.allclose(_np(layer(x)), _np(layer(x)))  # dropout active in training
    layer.eval()
    out = layer(x)
    assert out.shape == x.shape
    np.testing.assert_array_equal(_np(out), _np(layer(x)))
    single = layer(x[0] if batch_first else x[:, 0])
    assert single.shape == (5, 8)
    np.testing.assert_allclose(_np(single), _np(out[0] if batch_first else out[:, 0]), rtol=1e-5, atol=1e-6)


def test_encoder_layer_norm_first_changes_where_normalisation_happens(device):
    ember.manual_seed(1)
    post = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, device=device)
    pre = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, norm_first=True, device=device)
    pre.load_state_dict(post.state_dict())
    x = ember.randn(3, 2, 4, device=device) * 5 + 3
    out_post, out_pre = _np(post(x)), _np(pre(x))
    np.testing.assert_allclose(out_post.mean(-1), 0.0, atol=1e-5)  # post-norm output is normalised
    assert np.abs(out_pre.mean(-1)).max() > 0.1  # pre-norm output keeps the residual stream


def test_encoder_layer_gradients_match_finite_differences(device):
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu", device=device, dtype=ember.float64)
    x = _t(np.random.default_rng(11).standard_normal((3, 1, 4)), device, True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, device=device, dtype=ember.float64)
    assert gradcheck(lambda x: layer(x, src_mask=mask), (x,))


def test_encoder_stacks_independent_copies_and_applies_the_final_norm(device):
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, device=device)
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(4, device=device))
    assert len(enc.layers) == 3 and enc.layers[0] is not layer
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and np.array_equal(_np(w0), _np(w1))
    x = ember.randn(5, 2, 4, device=device)
    manual = x
    for mod in enc.layers:
        manual = mod(manual)
    np.testing.assert_allclose(_np(enc(x)), _np(enc.norm(manual)), rtol=1e-6)


def test_encoder_causal_mask_detection_and_bool_masks_match_float_masks(device):
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, device=device), 2)
    x = ember.randn(5, 2, 4, device=device)
    causal = nn.Transformer.generate_square_subsequent_mask(5, device=device)
    out = _np(enc(x, mask=causal))
    np.testing.assert_allclose(_np(enc(x, mask=causal, is_causal=True)), out, rtol=1e-6)
    bool_causal = ember.tensor(np.triu(np.ones((5, 5), bool), 1), device=device)
    np.testing.assert_allclose(_np(enc(x, mask=bool_causal)), out, rtol=1e-6)
    padding = ember.tensor(np.array([[False] * 4 + [True], [False] * 5]), device=device)
    with_padding = _np(enc(x, src_key_padding_mask=padding))
    # the padded key changes nothing for the unpadded sequence
    np.testing.assert_allclose(with_padding[:, 1], _np(enc(x))[:, 1], rtol=1e-6)


def test_decoder_layer_and_transformer_shapes(device):
    model = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True, device=device)
    src, tgt = ember.randn(3, 5, 8, device=device), ember.randn(3, 4, 8, device=device)
    out = model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, device=device))
    assert out.shape == (3, 4, 8)
    assert len(model.encoder.layers) == 1 and len(model.decoder.layers) == 2
    with pytest.raises(RuntimeError, match="batch number"):
        model(src, tgt[:2])
    with pytest.raises(RuntimeError, match="d_model"):
        model(src, ember.randn(3, 4, 6, device=device))


def test_unknown_activation_name_raises():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")


# ---- interchange with torch -------------------------------------------------------------------------
def _load_from_torch(em, tm, device):
    em.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"kdim": 3, "vdim": 5},
                                {"add_bias_kv": True, "add_zero_attn": True}, {"batch_first": True}])
@pytest.mark.parametrize("need_weights", [True, False])
def test_torch_mha_state_dict_loads_and_outputs_agree(device, kw, need_weights):
    torch = pytest.importorskip("torch")
    tm, em = torch.nn.MultiheadAttention(8, 2, **kw), nn.MultiheadAttention(8, 2, **kw, device=device)
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_from_torch(em, tm, device)
    rng = np.random.default_rng(12)
    bf = kw.get("batch_first", False)
    q = rng.standard_normal((2, 3, 8) if bf else (3, 2, 8)).astype(np.float32)
    k = rng.standard_normal((2, 4, kw.get("kdim", 8)) if bf else (4, 2, kw.get("kdim", 8))).astype(np.float32)
    v = rng.standard_normal((2, 4, kw.get("vdim", 8)) if bf else (4, 2, kw.get("vdim", 8))).astype(np.float32)
    mask = rng.random((3, 4)) < 0.3
    mask[:, 0] = False
    kpm = np.array([[False, False, True, False], [False] * 4])
    t_out, t_w = tm(torch.tensor(q), torch.tensor(k), torch.tensor(v), attn_mask=torch.tensor(mask),
                    key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
    e_out, e_w = em(*(ember.tensor(a, device=device) for a in (q, k, v)), attn_mask=ember.tensor(mask, device=device),
                    key_padding_mask=ember.tensor(kpm, device=device), need_weights=need_weights)
    np.testing.assert_allclose(_np(e_out), t_out.detach().numpy(), atol=1e-5)
    if need_weights:
        np.testing.assert_allclose(_np(e_w), t_w.detach().numpy(), atol=1e-5)
    t_out.sum().backward()
    e_out.sum().backward()
    for name, p in em.named_parameters():
        np.testing.assert_allclose(_np(p.grad), tm.get_parameter(name).grad.numpy(), atol=1e-4, err_msg=name)


def test_torch_sdpa_agrees_on_masks_causal_and_fully_masked_rows(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)))
    mask = _rng_mask((4, 6))
    mask[2] = False
    float_mask = np.where(mask, 0.0, -np.inf).astype(np.float32)
    for kw in ({}, {"is_causal": True}, {"attn_mask": mask}, {"attn_mask": float_mask}):
        t = torch.nn.functional.scaled_dot_product_attention(
            *(torch.tensor(a) for a in (q, k, v)),
            **{n: torch.tensor(a) if n == "attn_mask" else a for n, a in kw.items()})
        e = F.scaled_dot_product_attention(
            *(ember.tensor(a, device=device) for a in (q, k, v)),
            **{n: ember.tensor(a, device=device) if n == "attn_mask" else a for n, a in kw.items()})
        np.testing.assert_allclose(_np(e), t.numpy(), atol=1e-5)


@pytest.mark.parametrize("kw", [{}, {"norm_first": True}, {"batch_first": True, "activation": "gelu"}, {"bias": False}])
def test_torch_transformer_encoder_state_dict_loads_and_outputs_agree(device, kw):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that its nested-tensor fast path is off
        tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw), 2,
                                         norm=torch.nn.LayerNorm(8))
    em = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw), 2,
                               norm=nn.LayerNorm(8)).to(device)
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_from_torch(em, tm, device)
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, 5, 8)).astype(np.float32)
    bf = kw.get("batch_first", False)
    kpm = np.zeros((3, 5) if bf else (5, 3), bool)
    kpm[0, -1] = True
    L = 5 if bf else 3
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(L)
    kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    t_out = tm(torch.tensor(x), mask=t_mask, src_key_padding_mask=torch.tensor(kpm))
    e_out = em(ember.tensor(x, device=device), mask=nn.Transformer.generate_square_subsequent_mask(L, device=device),
               src_key_padding_mask=ember.tensor(kpm, device=device))
    np.testing.assert_allclose(_np(e_out), t_out.detach().numpy(), atol=1e-5)


def test_torch_transformer_state_dict_loads_and_outputs_agree(device):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that its nested-tensor fast path is off
        tm = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0)
    em = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, device=device)
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_from_torch(em, tm, device)
    rng = np.random.default_rng(15)
    src, tgt = rng.standard_normal((5, 3, 8)).astype(np.float32), rng.standard_normal((4, 3, 8)).astype(np.float32)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    t_out = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask)
    e_out = em(ember.tensor(src, device=device), ember.tensor(tgt, device=device),
               tgt_mask=ember.tensor(mask.numpy(), device=device))
    np.testing.assert_allclose(_np(e_out), t_out.detach().numpy(), atol=1e-5)
