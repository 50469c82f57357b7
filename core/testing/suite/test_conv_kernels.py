"""The backend's convolution kernels against the interface's default bodies, on the layouts their fast paths
take apart: sample-major layers (C/groups*kh*kw <= O), channel-major ones split into several batch chunks,
strided, padded, dilated and grouped windows, odd sizes, non-contiguous inputs, and output gradients smaller
than the convolution's output (a transposed convolution's output_padding). Float64, so the tolerances are
tight; on the reference backend both sides are the defaults and the checks are trivially met.
"""
import numpy as np
import pytest

import ember
from ember.backends.fused import FusedKernels

# (name, input shape, weight shape, stride, padding, dilation, groups)
CASES = [
    ("sample_major_padded", (3, 1, 7, 6), (9, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ("sample_major_strided_dilated", (2, 2, 9, 8), (8, 2, 2, 2), (2, 1), (0, 1), (1, 2), 1),
    ("sample_major_1x1", (2, 3, 5, 4), (4, 3, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    ("channel_major_wide", (5, 4, 6, 5), (3, 4, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ("channel_major_valid", (2, 3, 6, 7), (2, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ("channel_major_1x1_padded", (3, 5, 4, 5), (2, 5, 1, 1), (1, 1), (1, 1), (1, 1), 1),
    ("channel_major_wide_padding_dilation", (2, 3, 7, 8), (2, 3, 3, 3), (1, 1), (2, 3), (1, 2), 1),
    ("channel_major_one_column", (2, 2, 5, 1), (3, 2, 2, 1), (1, 1), (1, 0), (1, 1), 1),
    ("channel_major_strided", (5, 3, 9, 7), (2, 3, 3, 2), (2, 3), (2, 1), (1, 2), 1),
    ("channel_major_groups", (4, 4, 7, 6), (6, 2, 3, 2), (1, 1), (1, 0), (2, 1), 2),
    ("depthwise", (3, 3, 5, 5), (3, 1, 2, 2), (2, 2), (0, 0), (1, 1), 3),
]
IDS = [c[0] for c in CASES]


def _conv_out(size, kernel, stride, padding, dilation):
    return tuple((size[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1 for d in (0, 1))


def _layouts(bk, host):
    """The backend arrays of float64 `host` (N, C, H, W): contiguous, a view of a channel-major array, a view
    with flipped rows."""
    native = bk.asarray(np.ascontiguousarray(host), ember.float64)
    channel_major = bk.transpose(bk.asarray(np.ascontiguousarray(host.transpose(1, 0, 2, 3)), ember.float64),
                                 (1, 0, 2, 3))
    flipped = bk.getitem(bk.asarray(np.ascontiguousarray(host[:, :, ::-1]), ember.float64),
                         (slice(None), slice(None), slice(None, None, -1)))
    return [("contiguous", native), ("channel_major_view", channel_major), ("flipped_view", flipped)]


@pytest.fixture(params=[None, 1], ids=["one_chunk", "sample_chunks"])
def bk(request, device, monkeypatch):
    """The backend under test; with `sample_chunks` its channel-major kernels split every batch per sample."""
    backend = device.backend
    if request.param is not None:
        if not hasattr(backend, "conv_chunk_bytes"):
            pytest.skip(f"the {backend.name} backend does not run convolutions in batch chunks")
        monkeypatch.setattr(backend, "conv_chunk_bytes", request.param)
    return backend


def _host(bk, a):
    return np.asarray(bk.to_numpy(a))


@pytest.mark.parametrize("name, x_shape, w_shape, stride, padding, dilation, groups", CASES, ids=IDS)
def test_conv2d_with_and_without_bias_matches_the_default(bk, name, x_shape, w_shape, stride, padding, dilation,
                                                          groups):
    rng = np.random.default_rng(0)
    weight = bk.asarray(rng.standard_normal(w_shape), ember.float64)
    bias = bk.asarray(rng.standard_normal(w_shape[0]), ember.float64)
    for layout, x in _layouts(bk, rng.standard_normal(x_shape)):
        for b in (None, bias):
            got = bk.conv2d_bias(x, weight, b, stride, padding, dilation, groups)
            want = FusedKernels.conv2d_bias(bk, x, weight, b, stride, padding, dilation, groups)
            np.testing.assert_allclose(_host(bk, got), _host(bk, want), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}, {layout}, bias={b is not None}")
        np.testing.assert_allclose(_host(bk, bk.conv2d(x, weight, stride, padding, dilation, groups)),
                                   _host(bk, FusedKernels.conv2d(bk, x, weight, stride, padding, dilation, groups)),
                                   rtol=1e-12, atol=1e-12, err_msg=f"{name}, {layout}, conv2d")


@pytest.mark.parametrize("name, x_shape, w_shape, stride, padding, dilation, groups", CASES, ids=IDS)
@pytest.mark.parametrize("crop", [0, 1], ids=["full_grad", "cropped_grad"])
def test_weight_and_bias_gradients_match_the_default(bk, name, x_shape, w_shape, stride, padding, dilation, groups,
                                                     crop):
    rng = np.random.default_rng(1)
    ho, wo = _conv_out(x_shape[2:], w_shape[2:], stride, padding, dilation)
    grad_host = rng.standard_normal((x_shape[0], w_shape[0], ho, max(1, wo - crop)))
    for layout, x in _layouts(bk, rng.standard_normal(x_shape)):
        for grad in (bk.asarray(grad_host, ember.float64), _layouts(bk, grad_host)[1][1]):
            dw, db = bk.conv2d_backward_weight_bias(x, grad, w_shape[2:], stride, padding, dilation, groups)
            want_w, want_b = FusedKernels.conv2d_backward_weight_bias(bk, x, grad, w_shape[2:], stride, padding,
                                                                       dilation, groups)
            assert tuple(dw.shape) == w_shape and tuple(db.shape) == (w_shape[0],)
            np.testing.assert_allclose(_host(bk, dw), _host(bk, want_w), rtol=1e-11, atol=1e-11,
                                       err_msg=f"{name}, {layout}: weight")
            np.testing.assert_allclose(_host(bk, db), _host(bk, want_b), rtol=1e-11, atol=1e-11,
                                       err_msg=f"{name}, {layout}: bias")
            np.testing.assert_allclose(
                _host(bk, bk.conv2d_backward_weight(x, grad, w_shape[2:], stride, padding, dilation, groups)),
                _host(bk, want_w), rtol=1e-11, atol=1e-11, err_msg=f"{name}, {layout}: weight alone")


def test_an_empty_batch_gives_zero_parameter_gradients(bk):
    x = bk.asarray(np.zeros((0, 1, 5, 5)), ember.float64)
    grad = bk.asarray(np.zeros((0, 4, 5, 5)), ember.float64)
    dw, db = bk.conv2d_backward_weight_bias(x, grad, (3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert tuple(dw.shape) == (4, 1, 3, 3) and not _host(bk, dw).any() and not _host(bk, db).any()
    out = bk.conv2d_bias(x, bk.asarray(np.ones((4, 1, 3, 3)), ember.float64),
                         bk.asarray(np.ones(4), ember.float64), (1, 1), (1, 1), (1, 1), 1)
    assert tuple(out.shape) == (0, 4, 5, 5)


@pytest.mark.parametrize("name, x_shape, w_shape, stride, padding, dilation, groups", CASES, ids=IDS)
@pytest.mark.parametrize("crop", [0, 1], ids=["full_grad", "cropped_grad"])
def test_input_gradient_matches_the_default(bk, name, x_shape, w_shape, stride, padding, dilation, groups, crop):
    rng = np.random.default_rng(2)
    ho, wo = _conv_out(x_shape[2:], w_shape[2:], stride, padding, dilation)
    weight = bk.asarray(rng.standard_normal(w_shape), ember.float64)
    for layout, grad in _layouts(bk, rng.standard_normal((x_shape[0], w_shape[0], max(1, ho - crop), wo))):
        got = bk.conv2d_backward_input(grad, weight, x_shape[2:], stride, padding, dilation, groups)
        want = FusedKernels.conv2d_backward_input(bk, grad, weight, x_shape[2:], stride, padding, dilation, groups)
        assert tuple(got.shape) == x_shape
        np.testing.assert_allclose(_host(bk, got), _host(bk, want), rtol=1e-11, atol=1e-11, err_msg=f"{name}, {layout}")
