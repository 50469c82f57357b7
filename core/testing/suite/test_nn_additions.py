"""The resampling, distance, sliding-block, padding and local-response-norm additions to `nn` and
`nn.functional`: hand-computed values, gradients against finite differences (first and second
order, float64), PyTorch's errors and reprs, and PyTorch itself (values and gradients) where installed."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck


def _t(x, device, grad=False):
    return ember.tensor(np.asarray(x, dtype=np.float64), device=device, requires_grad=grad)


def _rand(shape, device, seed=0):
    return _t(np.random.default_rng(seed).standard_normal(shape), device, grad=True)


# (name, function of the inputs, input shapes): each is gradchecked to first and second order
GRAD_CASES = [
    ("nearest", lambda a: F.interpolate(a, size=(5, 3)), [(1, 2, 3, 4)]),
    ("linear", lambda a: F.interpolate(a, scale_factor=1.6, mode="linear"), [(2, 2, 4)]),
    ("linear_align_corners", lambda a: F.interpolate(a, size=7, mode="linear", align_corners=True), [(1, 2, 4)]),
    ("bilinear", lambda a: F.interpolate(a, size=(5, 3), mode="bilinear"), [(1, 2, 3, 4)]),
    ("bicubic", lambda a: F.interpolate(a, scale_factor=(1.5, 0.75), mode="bicubic"), [(1, 1, 4, 4)]),
    ("trilinear", lambda a: F.interpolate(a, size=(3, 2, 3), mode="trilinear"), [(1, 1, 2, 3, 2)]),
    ("area", lambda a: F.interpolate(a, size=(2, 3), mode="area"), [(1, 2, 5, 4)]),
    ("area_3d", lambda a: F.interpolate(a, size=(2, 2, 3), mode="area"), [(1, 2, 3, 4, 4)]),
    ("bilinear_antialias", lambda a: F.interpolate(a, size=(2, 5), mode="bilinear", antialias=True), [(1, 1, 5, 3)]),
    ("bicubic_antialias", lambda a: F.interpolate(a, size=(2, 2), mode="bicubic", antialias=True), [(1, 1, 5, 4)]),
    ("adaptive_avg_pool3d", lambda a: F.adaptive_avg_pool3d(a, (2, None, 1)), [(2, 5, 3, 2)]),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=-1), [(3, 4), (1, 4)]),
    ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, p=3.0), [(3, 4), (3, 4)]),
    ("unfold", lambda a: F.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [(2, 2, 4, 5)]),
    ("fold", lambda a: F.fold(a, (4, 5), 2, padding=(1, 0), stride=(2, 1)), [(2, 8, 12)]),
    ("pixel_shuffle", lambda a: F.pixel_shuffle(a, 2), [(1, 8, 2, 3)]),
    ("pixel_unshuffle", lambda a: F.pixel_unshuffle(a, 2), [(1, 2, 4, 2)]),
    ("local_response_norm", lambda a: F.local_response_norm(a, 3, alpha=0.1, k=2.0), [(2, 4, 3)]),
]


@pytest.mark.parametrize("name, fn, shapes", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_finite_differences(device, name, fn, shapes):
    inputs = [_rand(s, device, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_adaptive_avg_pool3d_averages_each_box_and_keeps_none_sizes(device):
    x = ember.arange(16.0, device=device).reshape(1, 1, 2, 2, 4)
    np.testing.assert_allclose(F.adaptive_avg_pool3d(x, 1).numpy().ravel(), [7.5])
    np.testing.assert_allclose(nn.AdaptiveAvgPool3d((1, None, 2))(x).numpy(), [[[[[4.5, 6.5], [8.5, 10.5]]]]])
    assert F.adaptive_avg_pool3d(x[0], (1, 1, 1)).shape == (1, 1, 1, 1)
    with pytest.raises(RuntimeError, match="adaptive_avg_pool3d: expected a floating point input"):
        F.adaptive_avg_pool3d(x.long(), 1)


def test_antialiased_bilinear_downsampling_stretches_the_triangle_by_the_step(device):
    x = _t([[[[0.0, 2.0, 4.0, 6.0]]]], device)
    # step 2: the triangle has half-width 2 around centres 1 and 3, so pixel centres 0.5, 1.5, 2.5 weigh
    # 0.75, 0.75, 0.25 for the first output (and 0.25, 0.75, 0.75 for 1.5, 2.5, 3.5), normalised by 1.75
    np.testing.assert_allclose(F.interpolate(x, size=(1, 2), mode="bilinear", antialias=True).numpy(),
                               [[[[2.5 / 1.75, 8.0 / 1.75]]]])


def test_interpolate_nearest_uses_the_floor_index_rule(device):
    x = _t([[[0, 1, 2]]], device)
    assert F.interpolate(x, size=5).tolist() == [[[0, 0, 1, 1, 2]]]
    assert F.interpolate(x, size=2).tolist() == [[[0, 1]]]
    assert F.interpolate(x, size=5, mode="nearest-exact").tolist() == [[[0, 0, 1, 2, 2]]]


def test_interpolate_linear_values_with_and_without_align_corners(device):
    x = _t([[[0, 2, 4]]], device)
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear", align_corners=True).numpy(),
                               [[[0, 1, 2, 3, 4]]])
    # half-pixel centres: source = (i + 0.5) * 3/6 - 0.5, clamped at 0
    np.testing.assert_allclose(F.interpolate(x, scale_factor=2, mode="linear").numpy(),
                               [[[0, 0.5, 1.5, 2.5, 3.5, 4]]])


def test_interpolate_bilinear_is_separable_linear(device):
    x = _t([[[[0, 1], [2, 3]]]], device)
    out = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(out.numpy()[0, 0], [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])


def test_interpolate_bicubic_passes_through_the_samples(device):
    x = _rand((1, 1, 4, 5), device)
    out = F.interpolate(x, size=(7, 9), mode="bicubic", align_corners=True)
    np.testing.assert_allclose(out.detach().numpy()[..., ::2, ::2], x.detach().numpy(), atol=1e-12)


def test_interpolate_scale_factor_output_size_and_recompute(device):
    x = _rand((1, 1, 5), device)
    assert F.interpolate(x, scale_factor=1.5).shape == (1, 1, 7)
    # the given scale (1/1.5) picks the sources unless recomputed from the sizes (5/7)
    a = _t([[[0, 1, 2, 3, 4]]], device)
    assert F.interpolate(a, scale_factor=1.5).tolist() == [[[0, 0, 1, 2, 2, 3, 4]]]
    assert F.interpolate(a, scale_factor=1.5, recompute_scale_factor=True).tolist() == [[[0, 0, 1, 2, 2, 3, 4]]]
    np.testing.assert_allclose(F.interpolate(a, scale_factor=1.5, mode="linear").numpy()[0, 0],
                               np.clip((np.arange(7) + 0.5) / 1.5 - 0.5, 0, 4))
    np.testing.assert_allclose(F.interpolate(a, scale_factor=1.5, mode="linear", recompute_scale_factor=True)
                               .numpy()[0, 0], np.clip((np.arange(7) + 0.5) * 5 / 7 - 0.5, 0, 4))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(), ValueError, "either size or scale_factor"),
    (dict(size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (dict(size=(3, 3, 3)), ValueError, "same number of spatial dimensions"),
    (dict(scale_factor=(2, 2, 2)), ValueError, "same number of spatial dimensions"),
    (dict(size=3, align_corners=True), ValueError, "align_corners option can only be set"),
    (dict(size=3, recompute_scale_factor=True), ValueError, "recompute_scale_factor is not meaningful"),
    (dict(size=3, mode="linear"), NotImplementedError, "Got 4D input, but linear mode needs 3D input"),
    (dict(size=3, mode="bogus"), NotImplementedError, "Only 3D, 4D and 5D input"),
    (dict(size=0), RuntimeError, "greater than 0"),
    (dict(size=3, antialias=True), ValueError, "Anti-alias option is restricted"),
])
def test_interpolate_errors_match_pytorch(device, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(_rand((1, 1, 2, 2), device), **kwargs)


def test_deprecated_upsample_functions_warn_and_interpolate(device):
    x = _rand((1, 1, 2, 3), device)
    with pytest.warns(UserWarning, match="nn.functional.upsample` is deprecated"):
        assert F.upsample(x, scale_factor=2).tolist() == F.interpolate(x, scale_factor=2).tolist()
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        assert F.upsample_nearest(x, size=(3, 4)).tolist() == F.interpolate(x, size=(3, 4)).tolist()
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        out = F.upsample_bilinear(x, size=(3, 4))
    np.testing.assert_allclose(out.detach().numpy(), F.interpolate(x, size=(3, 4), mode="bilinear",
                                                                   align_corners=True).detach().numpy())


def test_cosine_similarity_and_pairwise_distance_values(device):
    a, b = _t([[1, 0], [3, 4]], device), _t([[0, 2], [6, 8]], device)
    np.testing.assert_allclose(F.cosine_similarity(a, b).numpy(), [0, 1])
    np.testing.assert_allclose(nn.CosineSimilarity(dim=0)(a, b).numpy(),
                               [18 / np.sqrt(10 * 36), 32 / np.sqrt(16 * 68)])
    # each norm is clamped to eps separately: a zero vector gives 0, not nan
    assert F.cosine_similarity(_t([0, 0], device), _t([1, 1], device), dim=0).item() == 0
    np.testing.assert_allclose(F.pairwise_distance(a, b, eps=0).numpy(), [np.sqrt(5), 5])
    np.testing.assert_allclose(nn.PairwiseDistance(p=1, eps=0, keepdim=True)(a, b).numpy(), [[3], [7]])


def test_unfold_then_fold_counts_block_overlaps(device):
    x = _t(np.ones((1, 1, 3, 3)), device)
    cols = F.unfold(x, 2)
    assert cols.shape == (1, 4, 4)
    np.testing.assert_array_equal(F.fold(cols, (3, 3), 2).numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    assert F.unfold(x[0], 2).shape == (4, 4)
    assert nn.Fold((3, 3), 2)(cols[0]).shape == (1, 3, 3)


@pytest.mark.parametrize("call, match", [
    (lambda x: F.unfold(x[0, 0], 2), "Expected 3D or 4D"),
    (lambda x: F.unfold(x, 4), "sliding blocks"),
    (lambda x: F.unfold(x, 2, stride=0), "stride should be greater than zero"),
    (lambda x: F.fold(x.reshape(1, 9, 1), (3, 3), 2), "divisible by the product of kernel_size"),
    (lambda x: F.fold(x.reshape(1, 9)[:, :8].reshape(1, 4, 2), (3, 3), 2), "number of sliding blocks 2 \\* 2 = 4"),
    (lambda x: F.pixel_shuffle(x, 2), "divisible by the square of upscale_factor"),
    (lambda x: F.pixel_unshuffle(x, 2), "height to be divisible by downscale_factor"),
    (lambda x: F.pixel_shuffle(x[0, 0], 1), "at least 3 dimensions"),
])
def test_block_and_shuffle_errors_match_pytorch(device, call, match):
    with pytest.raises(RuntimeError, match=match):
        call(_rand((1, 1, 3, 3), device))


def test_pixel_shuffle_values_and_round_trip(device):
    x = _t(np.arange(8.0).reshape(1, 4, 1, 2), device)
    out = F.pixel_shuffle(x, 2)
    assert out.tolist() == [[[[0, 2, 1, 3], [4, 6, 5, 7]]]]
    assert F.pixel_unshuffle(out, 2).tolist() == x.tolist()


@pytest.mark.parametrize("module, expected", [
    (nn.ZeroPad1d((1, 2)), [[[0, 1, 2, 3, 0, 0]]]),
    (nn.ConstantPad1d(1, 9.0), [[[9, 1, 2, 3, 9]]]),
    (nn.ReflectionPad1d((2, 1)), [[[3, 2, 1, 2, 3, 2]]]),
    (nn.ReplicationPad1d((2, 1)), [[[1, 1, 1, 2, 3, 3]]]),
    (nn.CircularPad1d((2, 1)), [[[2, 3, 1, 2, 3, 1]]]),
    (nn.ZeroPad2d((0, 0, 1, 0)), [[[0, 0, 0], [1, 2, 3]]]),
    (nn.ConstantPad3d((1, 0, 0, 0, 0, 0), 5.0), [[[5, 1, 2, 3]]]),
])
def test_padding_modules_values(device, module, expected):
    assert module(_t([[[1, 2, 3]]], device)).tolist() == expected


@pytest.mark.parametrize("cls", ["ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_padding_modules_pad_like_f_pad(device, cls, dims):
    module = getattr(nn, f"{cls}{dims}d")(1, 2.0) if cls == "ConstantPad" else getattr(nn, f"{cls}{dims}d")(1)
    mode = {"ZeroPad": "constant", "ConstantPad": "constant", "ReflectionPad": "reflect",
            "ReplicationPad": "replicate", "CircularPad": "circular"}[cls]
    x = _rand((1, 2) + (3,) * dims, device)
    assert module.padding == (1,) * (2 * dims)
    expected = F.pad(x, module.padding, mode, 2.0 if cls == "ConstantPad" else None)
    assert module(x).tolist() == expected.tolist()


def test_circular_pad_checks_the_input_dims(device):
    with pytest.raises(ValueError, match="expected 3D or 4D input \\(got 2D input\\)"):
        nn.CircularPad2d(1)(_rand((2, 3), device))


def test_local_response_norm_values(device):
    x = _t(np.arange(1.0, 5.0).reshape(1, 4, 1), device)
    out = F.local_response_norm(x, 2, alpha=1.0, beta=1.0, k=1.0)
    # window of channels c-1, c (size // 2 = 1 before, 0 after), zero-padded, mean of squares
    sq = np.array([0, 1, 4, 9, 16.0])
    np.testing.assert_allclose(out.numpy().ravel(), np.arange(1.0, 5.0) / (1 + (sq[:-1] + sq[1:]) / 2))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input \\(got 2 dimensions\\)"):
        F.local_response_norm(x[0], 2)


@pytest.mark.parametrize("module, expected", [
    (nn.Upsample(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
    (nn.Upsample(size=(3, 4), mode="bilinear"), "Upsample(size=(3, 4), mode='bilinear')"),
    (nn.UpsamplingNearest2d(scale_factor=3), "UpsamplingNearest2d(scale_factor=3.0, mode='nearest')"),
    (nn.UpsamplingBilinear2d(size=4), "UpsamplingBilinear2d(size=4, mode='bilinear')"),
    (nn.PixelShuffle(2), "PixelShuffle(upscale_factor=2)"),
    (nn.PixelUnshuffle(3), "PixelUnshuffle(downscale_factor=3)"),
    (nn.CosineSimilarity(), "CosineSimilarity()"),
    (nn.PairwiseDistance(), "PairwiseDistance()"),
    (nn.Fold(3, 2), "Fold(output_size=3, kernel_size=2, dilation=1, padding=0, stride=1)"),
    (nn.Unfold((2, 3), padding=1), "Unfold(kernel_size=(2, 3), dilation=1, padding=1, stride=1)"),
    (nn.ZeroPad2d(1), "ZeroPad2d((1, 1, 1, 1))"),
    (nn.ConstantPad1d((1, 2), 3.5), "ConstantPad1d(padding=(1, 2), value=3.5)"),
    (nn.ReflectionPad2d([1, 2, 3, 4]), "ReflectionPad2d((1, 2, 3, 4))"),
    (nn.ReplicationPad3d(1), "ReplicationPad3d((1, 1, 1, 1, 1, 1))"),
    (nn.CircularPad1d(2), "CircularPad1d((2, 2))"),
    (nn.LocalResponseNorm(3), "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"),
])
def test_module_reprs_match_pytorch(module, expected):
    assert repr(module) == expected


# (ember and torch function of the inputs (same call on both libraries' namespaces), input shapes)
TORCH_CASES = [
    ("nearest_2d", lambda F, a: F.interpolate(a, scale_factor=1.7), [(2, 3, 5, 7)]),
    ("nearest_downscale", lambda F, a: F.interpolate(a, scale_factor=0.6), [(2, 3, 9, 7)]),
    ("nearest_3d", lambda F, a: F.interpolate(a, size=(4, 7, 3)), [(1, 2, 3, 4, 5)]),
    ("nearest_exact", lambda F, a: F.interpolate(a, size=(9, 4), mode="nearest-exact"), [(2, 3, 5, 7)]),
    ("linear", lambda F, a: F.interpolate(a, scale_factor=2.3, mode="linear"), [(2, 3, 5)]),
    ("linear_recompute", lambda F, a: F.interpolate(a, scale_factor=2.3, mode="linear",
                                                    recompute_scale_factor=True), [(2, 3, 5)]),
    ("bilinear", lambda F, a: F.interpolate(a, size=(9, 4), mode="bilinear"), [(2, 3, 5, 7)]),
    ("bilinear_align", lambda F, a: F.interpolate(a, scale_factor=(1.5, 0.5), mode="bilinear",
                                                  align_corners=True), [(2, 3, 5, 7)]),
    ("bicubic", lambda F, a: F.interpolate(a, size=(11, 4), mode="bicubic"), [(2, 3, 5, 7)]),
    ("bicubic_align", lambda F, a: F.interpolate(a, scale_factor=1.7, mode="bicubic", align_corners=True),
     [(2, 3, 5, 7)]),
    ("trilinear", lambda F, a: F.interpolate(a, scale_factor=1.5, mode="trilinear"), [(1, 2, 3, 4, 5)]),
    ("area", lambda F, a: F.interpolate(a, scale_factor=0.5, mode="area"), [(2, 3, 6, 7)]),
    ("area_3d", lambda F, a: F.interpolate(a, size=(3, 2, 4), mode="area"), [(2, 3, 5, 6, 7)]),
    ("bilinear_antialias", lambda F, a: F.interpolate(a, size=(4, 20), mode="bilinear", antialias=True),
     [(2, 3, 13, 11)]),
    ("bilinear_antialias_align", lambda F, a: F.interpolate(a, scale_factor=(0.4, 0.3), mode="bilinear",
                                                            align_corners=True, antialias=True), [(1, 2, 13, 11)]),
    ("bicubic_antialias", lambda F, a: F.interpolate(a, size=(5, 3), mode="bicubic", antialias=True),
     [(2, 3, 13, 11)]),
    ("adaptive_avg_pool3d", lambda F, a: F.adaptive_avg_pool3d(a, (2, 3, 4)), [(2, 3, 5, 6, 8)]),
    ("cosine_similarity", lambda F, a, b: F.cosine_similarity(a, b, dim=0, eps=1e-3), [(4, 5), (4, 1)]),
    ("pairwise_distance", lambda F, a, b: F.pairwise_distance(a, b, p=1.5, keepdim=True), [(3, 4), (1, 4)]),
    ("unfold", lambda F, a: F.unfold(a, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), [(2, 3, 7, 8)]),
    ("fold", lambda F, a: F.fold(a, (7, 8), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), [(2, 18, 28)]),
    ("pixel_shuffle", lambda F, a: F.pixel_shuffle(a, 3), [(2, 2, 18, 2, 3)]),
    ("pixel_unshuffle", lambda F, a: F.pixel_unshuffle(a, 2), [(2, 3, 4, 6)]),
    ("local_response_norm", lambda F, a: F.local_response_norm(a, 4, 1e-2, 0.5, 2.0), [(2, 6, 3, 4, 2)]),
]


@pytest.mark.parametrize("name, fn, shapes", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_values_and_gradients_match_torch(device, name, fn, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [_t(a, device, grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(F, *ours), fn(torch.nn.functional, *theirs)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(expected.shape))
    out.backward(_t(g, device))
    expected.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_nearest_indices_match_torch_in_float32(device):
    torch = pytest.importorskip("torch")
    for n_in in range(1, 12):
        for n_out in range(1, 30):
            x = np.arange(float(n_in), dtype=np.float32).reshape(1, 1, n_in)
            ours = F.interpolate(ember.tensor(x, device=device), size=n_out).numpy()
            np.testing.assert_array_equal(ours, torch.nn.functional.interpolate(torch.tensor(x), size=n_out).numpy())
        for scale in (0.3, 1.1, 1.7, 2.5, 3.0):
            x = np.arange(float(n_in), dtype=np.float32).reshape(1, 1, n_in)
            if int(n_in * scale) < 1:
                continue
            ours = F.interpolate(ember.tensor(x, device=device), scale_factor=scale).numpy()
            expected = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale).numpy()
            np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("align_corners", [False, True])
def test_identity_affine_grid_samples_the_input_back(device, align_corners):
    x = _rand((2, 3, 4, 5), device)
    theta = _t(np.tile([[1.0, 0, 0], [0, 1, 0]], (2, 1, 1)), device)
    grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align_corners)
    assert grid.shape == (2, 4, 5, 2)
    for mode in ("bilinear", "nearest", "bicubic"):
        out = F.grid_sample(x, grid, mode=mode, align_corners=align_corners)
        np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy(), atol=1e-12)


def test_affine_grid_values(device):
    grid = F.affine_grid(_t([[[1.0, 0, 0], [0, 1, 0]]], device), (1, 1, 2, 2), align_corners=False)
    assert grid.tolist() == [[[[-0.5, -0.5], [0.5, -0.5]], [[-0.5, 0.5], [0.5, 0.5]]]]


def test_grid_sample_padding_modes_outside_the_image(device):
    x = _t([[[[1.0, 2.0]]]], device)  # H = 1, W = 2; grid x = 3 is pixel 2, past the right edge (align_corners)
    grid = _t([[[[3.0, 0.0]]]], device)
    expect = {"zeros": 0.0, "border": 2.0, "reflection": 1.0}
    for padding_mode, value in expect.items():
        out = F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=True)
        assert out.item() == pytest.approx(value)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradients_match_finite_differences(device, mode, padding_mode, align_corners):
    x = _rand((1, 1, 3, 4), device)
    grid = _t(np.random.default_rng(3).uniform(-1.3, 1.3, (1, 2, 2, 2)), device, grad=True)

    def fn(a, g):
        return F.grid_sample(a, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    assert gradcheck(fn, [x, grid])
    assert gradgradcheck(fn, [x, grid])


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_5d_gradients_match_finite_differences(device, mode):
    x = _rand((1, 1, 2, 3, 2), device)
    # nearest sampling is piecewise constant in the grid: only the input's gradient is checked
    grid = _t(np.random.default_rng(4).uniform(-1.2, 1.2, (1, 2, 1, 2, 3)), device, grad=mode == "bilinear")

    def fn(a, g=grid):
        return F.grid_sample(a, g, mode=mode, padding_mode="reflection")

    assert gradcheck(fn, [x, grid] if mode == "bilinear" else [x])
    assert gradgradcheck(fn, [x, grid] if mode == "bilinear" else [x])


def test_affine_grid_gradients_match_finite_differences(device):
    theta = _rand((2, 2, 3), device)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), [theta])
    assert gradgradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False) ** 2, [theta])


@pytest.mark.parametrize("call, error, match", [
    (lambda x, g: F.grid_sample(x, g, mode="cubic"), ValueError, "expected mode to be"),
    (lambda x, g: F.grid_sample(x, g, padding_mode="wrap"), ValueError, "expected padding_mode to be"),
    (lambda x, g: F.grid_sample(x, g[..., :1]), RuntimeError, "size 2 in last dimension"),
    (lambda x, g: F.grid_sample(x, g.expand(2, 2, 2, 2)), RuntimeError, "same batch size"),
    (lambda x, g: F.grid_sample(x.unsqueeze(0), g.reshape(1, 1, 2, 2, 2)[..., :1].expand(1, 1, 2, 2, 3), "bicubic"),
     RuntimeError, "bicubic interpolation only supports 4D input"),
    (lambda x, g: F.affine_grid(g.reshape(1, 2, 4), (1, 1, 2, 2)), ValueError, "shape Nx2x3"),
    (lambda x, g: F.affine_grid(g[0, 0, :1].reshape(1, 1, 2), (1, 1, 2)), NotImplementedError, "4D and 5D sizes"),
    (lambda x, g: F.affine_grid(g.reshape(-1)[:6].reshape(1, 2, 3), (1, 1, 0, 2)), ValueError, "positive output"),
])
def test_grid_errors_match_pytorch(device, call, error, match):
    with pytest.raises(error, match=match):
        call(_rand((1, 1, 3, 3), device), _rand((1, 2, 2, 2), device))


GRID_CASES = [(mode, padding_mode, align_corners, spread) for mode in ("bilinear", "nearest", "bicubic")
              for padding_mode in ("zeros", "border", "reflection") for align_corners in (False, True)
              for spread in (1.0, 2.5)]


@pytest.mark.parametrize("mode, padding_mode, align_corners, spread", GRID_CASES)
def test_grid_sample_and_affine_grid_match_torch(device, mode, padding_mode, align_corners, spread):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, theta = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 2, 3)) * spread
    ours = [_t(x, device, grad=True), _t(theta, device, grad=True)]
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(theta, requires_grad=True)]

    def run(lib, a, t):
        grid = lib.nn.functional.affine_grid(t, (2, 3, 6, 7), align_corners=align_corners)
        return lib.nn.functional.grid_sample(a, grid, mode, padding_mode, align_corners)

    _compare_with_torch(torch, run, ours, theirs, rng)


@pytest.mark.parametrize("mode, padding_mode, align_corners, spread",
                         [case for case in GRID_CASES if case[0] != "bicubic"])
def test_grid_sample_and_affine_grid_5d_match_torch(device, mode, padding_mode, align_corners, spread):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, theta = rng.standard_normal((2, 2, 3, 4, 5)), rng.standard_normal((2, 3, 4)) * spread
    ours = [_t(x, device, grad=True), _t(theta, device, grad=True)]
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(theta, requires_grad=True)]

    def run(lib, a, t):
        grid = lib.nn.functional.affine_grid(t, (2, 2, 4, 3, 2), align_corners=align_corners)
        return lib.nn.functional.grid_sample(a, grid, mode, padding_mode, align_corners)

    _compare_with_torch(torch, run, ours, theirs, rng)


def _compare_with_torch(torch, run, ours, theirs, rng):
    """run(ember, ...) against run(torch, ...): values, then the gradients of a random cotangent."""
    out, expected = run(ember, *ours), run(torch, *theirs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(expected.shape))
    out.backward(_t(g, ours[0].device))
    expected.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        ours_grad = a.grad.numpy() if a.grad is not None else np.zeros(a.shape)  # nearest: no path to the grid
        np.testing.assert_allclose(ours_grad, b.grad.numpy(), rtol=1e-10, atol=1e-11)
