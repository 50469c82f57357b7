"""Layers and their functionals: shapes, documented values checked by hand, PyTorch's default
initialisation, gradients (layer inputs and parameters) against finite differences in float64,
BatchNorm's running statistics, Dropout in train and eval, Embedding's padding and duplicate indices."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

F64 = ember.float64


def t(values, device, **kw):
    return ember.tensor(values, dtype=kw.pop("dtype", F64), device=device, **kw)


# ---- gradients through layers: one table, one harness ------------------------------------------
def _bn_eval(layer):
    with ember.no_grad():
        layer.running_mean.copy_(ember.tensor([0.5, -1.0, 0.25], device=layer.running_mean.device))
        layer.running_var.copy_(ember.tensor([2.0, 0.5, 1.5], device=layer.running_var.device))
    return layer.eval()


# name -> (layer factory taking device and dtype, input shape, also check second order)
LAYERS = {
    "linear": (lambda **kw: nn.Linear(3, 2, **kw), (4, 3), True),
    "linear_batched_no_bias": (lambda **kw: nn.Linear(3, 2, bias=False, **kw), (2, 4, 3), True),
    "linear_1d_input": (lambda **kw: nn.Linear(3, 2, **kw), (3,), True),
    "batchnorm1d_train": (lambda **kw: nn.BatchNorm1d(3, **kw), (5, 3), True),
    "batchnorm1d_3d_train": (lambda **kw: nn.BatchNorm1d(3, **kw), (4, 3, 2), True),
    "batchnorm2d_train": (lambda **kw: nn.BatchNorm2d(3, **kw), (2, 3, 2, 2), True),
    "batchnorm2d_no_affine": (lambda **kw: nn.BatchNorm2d(3, affine=False, **kw), (2, 3, 2, 2), True),
    "batchnorm1d_eval": (lambda **kw: _bn_eval(nn.BatchNorm1d(3, **kw)), (4, 3), True),
    "batchnorm1d_no_running_stats": (lambda **kw: nn.BatchNorm1d(3, track_running_stats=False, **kw).eval(), (4, 3),
                                     False),
    "instancenorm1d": (lambda **kw: nn.InstanceNorm1d(2, affine=True, **kw), (2, 2, 3), True),
    "instancenorm2d_running_stats": (lambda **kw: nn.InstanceNorm2d(2, track_running_stats=True, **kw), (2, 2, 2, 2),
                                     False),
    "layernorm": (lambda **kw: nn.LayerNorm(4, **kw), (3, 4), True),
    "layernorm_2d_shape": (lambda **kw: nn.LayerNorm((2, 3), **kw), (2, 2, 3), True),
    "layernorm_no_bias": (lambda **kw: nn.LayerNorm(4, bias=False, **kw), (2, 4), False),
    "layernorm_no_affine": (lambda **kw: nn.LayerNorm(4, elementwise_affine=False, **kw), (2, 4), True),
    "groupnorm": (lambda **kw: nn.GroupNorm(2, 4, **kw), (2, 4, 3), True),
    "rmsnorm": (lambda **kw: nn.RMSNorm(3, **kw), (2, 3), True),
    "prelu": (lambda **kw: nn.PReLU(3, **kw), (2, 3, 2), False),
    "flatten": (lambda **kw: nn.Flatten(), (2, 3, 2), False),
    "unflatten": (lambda **kw: nn.Unflatten(1, (2, 3)), (2, 6), False),
    "identity": (lambda **kw: nn.Identity(), (2, 3), False),
}


def _randomise(layer):
    """Non-trivial parameter values (normalisation layers start at weight 1, bias 0)."""
    gen = np.random.default_rng(5)
    with ember.no_grad():
        for p in layer.parameters():
            p.copy_(ember.tensor(gen.uniform(0.5, 1.5, size=p.shape) * gen.choice([-1, 1], size=p.shape),
                                 device=p.device))
    return layer


def _as_function(layer):
    """f(x, *params) calling `layer` with the given tensors as its parameters (so gradcheck can perturb them)."""
    names = [n for n, p in layer._parameters.items() if p is not None]

    def f(x, *params):
        for n, p in zip(names, params):
            layer._parameters[n] = p
        return layer(x)
    return f, [layer._parameters[n].detach().requires_grad_() for n in names]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradients_for_input_and_parameters_match_finite_differences(name, device):
    factory, shape, second_order = LAYERS[name]
    layer = _randomise(factory(device=device, dtype=F64))
    x = ember.tensor(np.random.default_rng(2).normal(size=shape), dtype=F64, device=device, requires_grad=True)
    fn, params = _as_function(layer)
    assert gradcheck(fn, [x] + params)
    if second_order:
        assert gradgradcheck(fn, [x] + params)


FUNCTIONALS = {
    "linear": (lambda x, w, b: F.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    "linear_broadcast_bias": (lambda x, w, b: F.linear(x, w, b), [(2, 5, 3), (4, 3), (1,)]),
    "linear_1d_input_no_bias": (lambda x, w: F.linear(x, w), [(3,), (4, 3)]),
    "bilinear": (F.bilinear, [(2, 3), (2, 4), (5, 3, 4), (5,)]),
    "bilinear_batched": (lambda a, b, w: F.bilinear(a, b, w), [(2, 2, 3), (2, 2, 4), (5, 3, 4)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(4, 3, 2), (3,), (3,)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (2, 2), w, b, eps=1e-3), [(3, 2, 2), (2, 2), (2, 2)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 3, w, b), [(2, 6, 2), (6,), (6,)]),
    "rms_norm": (lambda x, w: F.rms_norm(x, (3,), w, eps=1e-6), [(2, 3), (3,)]),
    "normalize": (lambda x: F.normalize(x, dim=1), [(3, 4)]),
    "normalize_p1": (lambda x: F.normalize(x, p=1.0, dim=0), [(3, 4)]),
    "embedding": (lambda w: F.embedding(ember.tensor([[0, 2], [2, 2]], device=w.device), w), [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONALS))
def test_functional_gradients_match_finite_differences(name, device):
    fn, shapes = FUNCTIONALS[name]
    gen = np.random.default_rng(3)
    inputs = [ember.tensor(gen.normal(size=s), dtype=F64, device=device, requires_grad=True) for s in shapes]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ---- Linear, Bilinear, Identity, Flatten ------------------------------------------------------
def test_linear_computes_x_at_weight_transposed_plus_bias(device):
    layer = nn.Linear(2, 3, device=device, dtype=F64)
    with ember.no_grad():
        layer.weight.copy_(t([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], device))
        layer.bias.copy_(t([0.5, 0.0, -1.0], device))
    out = layer(t([[1.0, 1.0], [2.0, -2.0]], device))
    np.testing.assert_allclose(out.detach().numpy(), [[3.5, -1.0, 2.5], [-1.5, 2.0, 4.0]])
    assert layer(ember.zeros(5, 4, 2, device=device, dtype=F64)).shape == (5, 4, 3)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (3,)
    assert repr(layer) == "Linear(in_features=2, out_features=3, bias=True)"
    assert nn.Linear(2, 3, bias=False, device=device).bias is None


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in(device):
    ember.manual_seed(0)
    layer = nn.Linear(400, 300, device=device)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(b).max() <= bound
    assert layer.weight.dtype is ember.float32 and layer.weight.device == device
    assert nn.Linear(2, 2, device=device, dtype=F64).weight.dtype is F64


def test_linear_wrong_input_size_raises(device):
    with pytest.raises(RuntimeError):
        nn.Linear(3, 2, device=device)(ember.zeros(4, 5, device=device))


def test_bilinear_computes_x1_a_x2_plus_b(device):
    layer = nn.Bilinear(2, 3, 2, device=device, dtype=F64)
    gen = np.random.default_rng(0)
    a, x1, x2 = gen.normal(size=(2, 2, 3)), gen.normal(size=(4, 2)), gen.normal(size=(4, 3))
    with ember.no_grad():
        layer.weight.copy_(t(a, device))
        layer.bias.copy_(t([1.0, -1.0], device))
    out = layer(t(x1, device), t(x2, device)).detach().numpy()
    np.testing.assert_allclose(out, np.einsum("ni,oij,nj->no", x1, a, x2) + [1.0, -1.0], rtol=1e-12)
    assert repr(layer) == "Bilinear(in1_features=2, in2_features=3, out_features=2, bias=True)"
    bound = 1 / math.sqrt(2)
    assert np.abs(nn.Bilinear(2, 3, 4, device=device).weight.detach().numpy()).max() <= bound
    with pytest.raises(RuntimeError, match="bilinear"):
        layer(t(x1, device), t(x1, device))


def test_identity_flatten_unflatten_shapes_and_reprs(device):
    x = ember.randn(2, 3, 4, 5, device=device)
    assert nn.Identity(7, key="ignored")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 1))(ember.zeros(2, 3, device=device)).shape == (2, 3, 1)
    assert nn.Unflatten(-1, [2, -1])(ember.zeros(2, 6, device=device)).shape == (2, 2, 3)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    assert repr(nn.Identity()) == "Identity()"
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 6)


# ---- Embedding ----------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_initialises_from_standard_normal(device):
    ember.manual_seed(0)
    emb = nn.Embedding(1000, 64, device=device)
    w = emb.weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    idx = ember.tensor([[3, 1], [999, 3]], device=device)
    out = emb(idx)
    assert out.shape == (2, 2, 64)
    np.testing.assert_array_equal(out.detach().numpy()[1, 1], w[3])
    assert repr(emb) == "Embedding(1000, 64)"


def test_embedding_gradient_accumulates_duplicate_indices(device):
    emb = nn.Embedding(4, 2, device=device)
    idx = ember.tensor([[1, 1], [2, 1]], device=device)
    (emb(idx) * t([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], device, dtype=ember.float32)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), [[0, 0], [11, 14], [5, 6], [0, 0]])


def test_embedding_padding_idx_row_starts_at_zero_and_gets_no_gradient(device):
    emb = nn.Embedding(5, 3, padding_idx=-1, device=device)
    assert emb.padding_idx == 4
    assert not emb.weight[4].detach().numpy().any()
    emb(ember.tensor([4, 0, 4, 2], device=device)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), [[1] * 3, [0] * 3, [1] * 3, [0] * 3, [0] * 3])
    assert repr(emb) == "Embedding(5, 3, padding_idx=4)"
    with pytest.raises(ValueError, match="Padding_idx"):
        nn.Embedding(5, 3, padding_idx=5, device=device)


def test_embedding_scale_grad_by_freq_divides_by_the_count_in_the_batch(device):
    emb = nn.Embedding(3, 1, scale_grad_by_freq=True, device=device)
    emb(ember.tensor([0, 0, 0, 2], device=device)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy().ravel(), [1, 0, 1])


def test_embedding_max_norm_renormalises_looked_up_rows_in_place(device):
    emb = nn.Embedding(3, 2, max_norm=1.0, device=device, dtype=F64)
    with ember.no_grad():
        emb.weight.copy_(t([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], device))
    out = emb(ember.tensor([0, 1, 0], device=device))
    np.testing.assert_allclose(out.detach().numpy(), [[0.6, 0.8], [0.3, 0.4], [0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(emb.weight.detach().numpy()[2], [6.0, 8.0])  # not looked up: unchanged
    assert repr(emb) == "Embedding(3, 2, max_norm=1.0)"


def test_embedding_from_pretrained_shares_and_freezes(device):
    table = t([[1.0, 2.0], [3.0, 4.0]], device)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb.num_embeddings == 2 and emb.embedding_dim == 2
    np.testing.assert_array_equal(emb(ember.tensor([1], device=device)).numpy(), [[3.0, 4.0]])
    table[0, 0] = 9.0
    assert emb.weight[0, 0].item() == 9.0
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(ember.zeros(3, device=device))


def test_embedding_rejects_out_of_range_and_float_indices(device):
    emb = nn.Embedding(3, 2, device=device)
    with pytest.raises(IndexError, match="out of range"):
        emb(ember.tensor([3], device=device))
    with pytest.raises(IndexError, match="out of range"):
        emb(ember.tensor([-1], device=device))
    with pytest.raises(RuntimeError, match="integer"):
        emb(ember.tensor([1.0], device=device))


def test_one_hot_encodes_indices_as_int64(device):
    out = F.one_hot(ember.tensor([[0, 2], [1, 0]], device=device))
    assert out.dtype is ember.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [1, 0, 0]]])
    assert F.one_hot(ember.tensor([1], device=device), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ember.tensor([4], device=device), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ember.tensor([-1], device=device))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ember.tensor([1], dtype=ember.int32, device=device))


# ---- Dropout ------------------------------------------------------------------------------------
def test_dropout_zeroes_with_probability_p_and_scales_the_rest_in_training(device):
    ember.manual_seed(0)
    layer = nn.Dropout(0.3)
    x = ember.ones(100000, device=device)
    y = layer(x).numpy()
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y == 0).mean() - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    assert repr(layer) == "Dropout(p=0.3, inplace=False)"


def test_dropout_is_the_identity_in_eval_mode(device):
    layer = nn.Dropout(0.5).eval()
    x = ember.randn(10, device=device)
    assert layer(x) is x
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_masks_are_reproducible_from_the_seed(device):
    x = ember.ones(50, device=device)
    ember.manual_seed(7)
    a = F.dropout(x).numpy()
    ember.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x).numpy(), a)


def test_dropout_gradient_is_the_scaled_mask(device):
    x = ember.randn(1000, device=device, dtype=F64, requires_grad=True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    mask = (y.detach().numpy() != 0)
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.75)


def test_dropout_extremes_validation_and_inplace(device):
    x = ember.ones(5, device=device)
    assert not F.dropout(x, 1.0).numpy().any()
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)
    y = ember.ones(1000, device=device)
    assert F.dropout(y, 0.5, inplace=True) is y and (y.numpy() == 0).any()


@pytest.mark.parametrize("layer,shape,channels", [
    (nn.Dropout1d(0.5), (4, 8, 5), 32), (nn.Dropout2d(0.5), (4, 8, 3, 3), 32), (nn.Dropout3d(0.5), (2, 8, 2, 2, 2), 16),
    (nn.Dropout2d(0.5), (8, 3, 3), 8)])
def test_channel_dropout_zeroes_whole_channels(layer, shape, channels, device):
    ember.manual_seed(1)
    y = layer(ember.ones(*shape, device=device)).numpy().reshape(channels, -1)
    assert all(len(np.unique(c)) == 1 for c in y)
    assert set(np.unique(y)) <= {0.0, 2.0} and (y == 0).any() and (y == 2).any()


def test_alpha_dropout_keeps_zero_mean_unit_variance_of_standard_normal_input(device):
    ember.manual_seed(0)
    x = ember.randn(200000, device=device, dtype=F64)
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    assert nn.AlphaDropout(0.2).eval()(x) is x


# ---- BatchNorm ----------------------------------------------------------------------------------
def test_batchnorm_normalises_with_batch_stats_and_updates_running_stats(device):
    bn = nn.BatchNorm1d(2, device=device, dtype=F64)
    x = t([[1.0, 2.0], [3.0, 6.0]], device)
    y = bn(x)
    # batch mean [2, 4], biased var [1, 4]: deviations +-1 and +-2 over sqrt(var + eps)
    s1, s2 = 1 / math.sqrt(1 + 1e-5), 2 / math.sqrt(4 + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), [[-s1, -s2], [s1, s2]], rtol=1e-12)
    # running = 0.9 * running + 0.1 * batch, with the unbiased variance [2, 8]
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 0.4], rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), [1.1, 1.7], rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype is ember.int64
    bn.eval()
    out = bn(t([[0.2, 2.1]], device))
    np.testing.assert_allclose(out.detach().numpy(), [[0.0, 1.7 / math.sqrt(1.7 + 1e-5)]], rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_momentum_none_keeps_a_cumulative_average(device):
    bn = nn.BatchNorm1d(1, momentum=None, device=device, dtype=F64)
    for batch in ([[0.0], [2.0]], [[4.0], [6.0]], [[9.0], [9.0]]):
        bn(t(batch, device))
    np.testing.assert_allclose(bn.running_mean.numpy(), [(1 + 5 + 9) / 3])
    np.testing.assert_allclose(bn.running_var.numpy(), [(2 + 2 + 0) / 3])
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm2d_uses_channel_statistics_over_batch_and_space(device):
    gen = np.random.default_rng(0)
    data = gen.normal(size=(3, 2, 4, 5)) * [[[[2.0]], [[0.5]]]] + [[[[1.0]], [[-3.0]]]]
    bn = nn.BatchNorm2d(2, device=device, dtype=F64)
    _randomise(bn)
    y = bn(t(data, device)).detach().numpy()
    w, b = bn.weight.detach().numpy(), bn.bias.detach().numpy()
    mean, var = data.mean((0, 2, 3), keepdims=True), data.var((0, 2, 3), keepdims=True)
    expect = (data - mean) / np.sqrt(var + 1e-5) * w[None, :, None, None] + b[None, :, None, None]
    np.testing.assert_allclose(y, expect, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * data.var((0, 2, 3), ddof=1), rtol=1e-12)


def test_batchnorm_without_running_stats_always_uses_batch_stats(device):
    bn = nn.BatchNorm1d(2, track_running_stats=False, device=device).eval()
    assert bn.running_mean is None and bn.num_batches_tracked is None and list(bn.state_dict()) == ["weight", "bias"]
    y = bn(ember.tensor([[1.0, 2.0], [3.0, 6.0]], device=device))
    np.testing.assert_allclose(y.detach().numpy(), [[-1, -1], [1, 1]], rtol=1e-4)


def test_batchnorm_state_dict_layout_repr_and_input_checks(device):
    bn = nn.BatchNorm2d(3, device=device)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(bn) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert np.all(bn.weight.detach().numpy() == 1) and not bn.bias.detach().numpy().any()
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        bn(ember.zeros(2, 3, 4, device=device))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3, device=device)(ember.zeros(2, 3, 4, 4, device=device))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3, device=device)(ember.zeros(1, 3, device=device))
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    assert nn.BatchNorm2d(3, device=device).load_state_dict(sd).missing_keys == []
    bn.running_mean.fill_(5.0)
    bn.reset_running_stats()
    assert not bn.running_mean.numpy().any() and bn.num_batches_tracked.item() == 0


def test_batchnorm_moves_with_its_module_and_keeps_buffers_dtypes():
    bn = nn.BatchNorm1d(2).double()
    assert bn.running_mean.dtype is F64 and bn.num_batches_tracked.dtype is ember.int64


# ---- LayerNorm, GroupNorm, RMSNorm, normalize -----------------------------------------------------
def test_layernorm_normalises_each_sample_over_the_trailing_dims(device):
    ln = nn.LayerNorm(3, device=device, dtype=F64)
    y = ln(t([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]], device)).detach().numpy()
    s = math.sqrt(2 / 3 + 1e-5)
    np.testing.assert_allclose(y[0], [-1 / s, 0, 1 / s], rtol=1e-12)
    np.testing.assert_allclose(y[1], np.array([-2.0, -2.0, 4.0]) / math.sqrt(8 + 1e-5), rtol=1e-12)
    assert repr(ln) == "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert ln.weight.shape == (3,) and list(ln.state_dict()) == ["weight", "bias"]
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 3\]"):
        ln(ember.zeros(2, 4, device=device, dtype=F64))


def test_groupnorm_normalises_groups_of_channels(device):
    gen = np.random.default_rng(1)
    data = gen.normal(size=(2, 4, 3))
    gn = _randomise(nn.GroupNorm(2, 4, device=device, dtype=F64))
    y = gn(t(data, device)).detach().numpy()
    g = data.reshape(2, 2, 6)
    expect = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(2, 4, 3)
    expect = expect * gn.weight.detach().numpy()[:, None] + gn.bias.detach().numpy()[:, None]
    np.testing.assert_allclose(y, expect, rtol=1e-10, atol=1e-12)
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4, device=device)


def test_rmsnorm_divides_by_the_root_mean_square(device):
    layer = nn.RMSNorm(2, eps=0.0, device=device, dtype=F64)
    np.testing.assert_allclose(layer(t([[3.0, 4.0]], device)).detach().numpy(), [[3 / math.sqrt(12.5),
                                                                                  4 / math.sqrt(12.5)]])
    assert repr(nn.RMSNorm(3, device=device)) == "RMSNorm((3,), eps=None, elementwise_affine=True)"


def test_instance_norm_normalises_each_channel_of_each_sample(device):
    data = np.random.default_rng(4).normal(size=(2, 3, 5)) * 3 + 1
    y = nn.InstanceNorm1d(3, device=device, dtype=F64)(t(data, device)).numpy()
    expect = (data - data.mean(-1, keepdims=True)) / np.sqrt(data.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, expect, rtol=1e-10, atol=1e-12)
    assert repr(nn.InstanceNorm2d(3)) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                                          "track_running_stats=False)")
    with pytest.raises(ValueError, match="match num_features"):
        nn.InstanceNorm1d(4, affine=True, device=device)(ember.zeros(2, 3, 5, device=device))
    with pytest.raises(ValueError, match="spatial element"):
        F.instance_norm(ember.zeros(2, 3, 1, device=device))


def test_normalize_divides_by_the_p_norm_clamped_at_eps(device):
    x = t([[3.0, 4.0], [0.0, 0.0]], device)
    np.testing.assert_allclose(F.normalize(x).numpy(), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(F.normalize(x, p=1.0).numpy()[0], [3 / 7, 4 / 7])
    np.testing.assert_allclose(F.normalize(t([[3.0, 4.0]], device), dim=0).numpy(), [[1.0, 1.0]])


def test_layer_norm_backward_is_as_fast_a_path_as_forward(device):
    """The hot path stays in one Op: layer_norm and batch_norm record a single graph node."""
    x = ember.randn(4, 3, device=device, requires_grad=True)
    assert F.layer_norm(x, (3,)).grad_fn.name() == "LayerNormBackward0"
    assert F.batch_norm(x, None, None, training=True).grad_fn.name() == "BatchNormBackward0"
