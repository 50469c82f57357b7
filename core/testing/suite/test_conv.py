"""Convolutions (F.conv1d/conv2d/conv_transpose1d/conv_transpose2d, nn.Conv1d/Conv2d/ConvTranspose1d/2d).

One table of configurations drives every check: output shape and values against a naive numpy
reference (loops over output positions, fine on tiny inputs), first and second derivatives
against finite differences in float64, and PyTorch where it is installed.
"""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck


def naive_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of x (N, C, *spatial) with w (O, C/groups, *kernel), 1-D or 2-D, numpy loops."""
    dims = x.ndim - 2
    stride, padding, dilation = ((v,) * dims if isinstance(v, int) else tuple(v) for v in (stride, padding, dilation))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    kernel = w.shape[2:]
    out_size = [(xp.shape[2 + d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1 for d in range(dims)]
    out = np.zeros((x.shape[0], w.shape[0], *out_size))
    cg, og = w.shape[1], w.shape[0] // groups
    for o in range(w.shape[0]):
        chans = slice((o // og) * cg, (o // og + 1) * cg)
        for pos in np.ndindex(*out_size):
            window = tuple(slice(p * s, p * s + d * (k - 1) + 1, d) for p, s, d, k in zip(pos, stride, dilation, kernel))
            out[(slice(None), o) + pos] = (xp[(slice(None), chans) + window] * w[o]).reshape(x.shape[0], -1).sum(1)
    if b is not None:
        out += b.reshape((1, -1) + (1,) * dims)
    return out


def naive_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution by scattering every input value times the kernel, numpy loops."""
    dims = x.ndim - 2
    stride, padding, output_padding, dilation = ((v,) * dims if isinstance(v, int) else tuple(v)
                                                 for v in (stride, padding, output_padding, dilation))
    kernel = w.shape[2:]
    full = [(x.shape[2 + d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 + output_padding[d]
            for d in range(dims)]
    out = np.zeros((x.shape[0], w.shape[1] * groups, *full))
    cg_in, cg_out = x.shape[1] // groups, w.shape[1]
    for c in range(x.shape[1]):
        g = c // cg_in
        for pos in np.ndindex(*x.shape[2:]):
            window = tuple(slice(p * s, p * s + d * (k - 1) + 1, d) for p, s, d, k in zip(pos, stride, dilation, kernel))
            value = x[(slice(None), c) + pos].reshape((-1,) + (1,) * (dims + 1))
            out[(slice(None), slice(g * cg_out, (g + 1) * cg_out)) + window] += value * w[c]
    crop = tuple(slice(p, f - p) for p, f in zip(padding, full))
    out = out[(slice(None), slice(None)) + crop]
    if b is not None:
        out += b.reshape((1, -1) + (1,) * dims)
    return out


# (name, input shape, weight shape, bias, kwargs)
CONV_CASES = [
    ("2d_plain", (2, 3, 5, 6), (4, 3, 3, 3), True, {}),
    ("2d_padding", (2, 2, 5, 5), (3, 2, 3, 3), True, dict(padding=1)),
    ("2d_stride_padding_pairs", (1, 2, 7, 6), (3, 2, 3, 2), False, dict(stride=(2, 1), padding=(1, 2))),
    ("2d_dilation", (1, 2, 7, 7), (2, 2, 3, 3), True, dict(dilation=2, padding=1)),
    ("2d_groups", (2, 4, 5, 5), (6, 2, 3, 3), True, dict(groups=2, padding=1)),
    ("2d_depthwise_strided", (1, 3, 6, 5), (3, 1, 2, 2), False, dict(groups=3, stride=2)),
    ("2d_everything", (2, 4, 8, 7), (4, 2, 3, 2), True, dict(stride=(2, 3), padding=(2, 1), dilation=(1, 2), groups=2)),
    ("2d_same_odd_kernel", (1, 2, 5, 4), (2, 2, 3, 3), True, dict(padding="same")),
    ("2d_same_even_kernel", (1, 2, 5, 4), (2, 2, 4, 2), False, dict(padding="same", dilation=(1, 3))),
    ("2d_valid", (1, 2, 5, 4), (2, 2, 3, 3), False, dict(padding="valid")),
    ("2d_1x1", (2, 3, 3, 4), (5, 3, 1, 1), True, {}),
    ("2d_first_layer", (3, 1, 7, 6), (9, 1, 3, 3), True, dict(padding=1)),  # C*kh*kw <= O: sample-major kernels
    ("2d_first_layer_strided_dilated", (2, 1, 9, 8), (5, 1, 2, 2), True, dict(stride=(2, 1), padding=(0, 1),
                                                                              dilation=(1, 2))),
    ("1d_plain", (2, 3, 7), (4, 3, 3), True, {}),
    ("1d_stride_padding_dilation", (2, 2, 9), (3, 2, 3), True, dict(stride=2, padding=2, dilation=2)),
    ("1d_groups_same", (1, 4, 6), (4, 2, 4), False, dict(groups=2, padding="same")),
]

TRANSPOSE_CASES = [
    ("2d_plain", (2, 3, 3, 4), (3, 2, 3, 3), True, {}),
    ("2d_stride_padding", (1, 2, 3, 3), (2, 3, 3, 2), True, dict(stride=2, padding=1)),
    ("2d_output_padding", (1, 2, 3, 2), (2, 2, 3, 3), False, dict(stride=(2, 3), output_padding=(1, 2))),
    ("2d_groups_dilation", (2, 4, 3, 3), (4, 1, 2, 3), True, dict(groups=2, dilation=(2, 1), padding=(1, 0))),
    ("2d_dilation_output_padding", (1, 2, 3, 3), (2, 2, 3, 3), False, dict(dilation=2, output_padding=1)),
    ("1d_plain", (2, 3, 4), (3, 2, 3), True, dict(stride=2, output_padding=1)),
]


def _conv_fn(shape):
    return F.conv2d if len(shape) == 4 else F.conv1d


def _transpose_fn(shape):
    return F.conv_transpose2d if len(shape) == 4 else F.conv_transpose1d


def _operands(device, x_shape, w_shape, bias, seed=0, requires_grad=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if bias:
        arrays.append(rng.standard_normal(w_shape[0]))
    return arrays, [ember.tensor(a, dtype=ember.float64, device=device, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("name, x_shape, w_shape, bias, kwargs", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_matches_naive_reference(device, name, x_shape, w_shape, bias, kwargs):
    arrays, tensors = _operands(device, x_shape, w_shape, bias)
    out = _conv_fn(x_shape)(*tensors, **kwargs)
    padding = kwargs.get("padding", 0)
    ref_kwargs = dict(kwargs)
    x = arrays[0]
    if padding == "valid":
        ref_kwargs["padding"] = 0
    elif padding == "same":  # total padding d*(k-1), the odd element on the right
        total = [kwargs.get("dilation", 1) * (k - 1) if isinstance(kwargs.get("dilation", 1), int)
                 else kwargs["dilation"][i] * (k - 1) for i, k in enumerate(w_shape[2:])]
        x = np.pad(x, [(0, 0), (0, 0)] + [(t // 2, t - t // 2) for t in total])
        ref_kwargs["padding"] = 0
    expected = naive_conv(x, arrays[1], arrays[2] if bias else None, **ref_kwargs)
    assert out.shape == expected.shape
    if padding == "same":
        assert out.shape[2:] == x_shape[2:]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, x_shape, w_shape, bias, kwargs", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_gradients_match_finite_differences(device, name, x_shape, w_shape, bias, kwargs):
    _, tensors = _operands(device, x_shape, w_shape, bias, requires_grad=True)
    fn = _conv_fn(x_shape)
    assert gradcheck(lambda *t: fn(*t, **kwargs), tensors)


@pytest.mark.parametrize("name, x_shape, w_shape, bias, kwargs",
                         [c for c in CONV_CASES if c[0] in ("2d_everything", "2d_same_even_kernel", "1d_plain")],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_conv_second_derivatives_match_finite_differences(device, name, x_shape, w_shape, bias, kwargs):
    _, tensors = _operands(device, x_shape, w_shape, bias, requires_grad=True)
    fn = _conv_fn(x_shape)
    assert gradgradcheck(lambda *t: fn(*t, **kwargs), tensors)


@pytest.mark.parametrize("name, x_shape, w_shape, bias, kwargs", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_matches_naive_reference(device, name, x_shape, w_shape, bias, kwargs):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    groups = kwargs.get("groups", 1)
    b = rng.standard_normal(w_shape[1] * groups) if bias else None
    out = _transpose_fn(x_shape)(ember.tensor(x, device=device), ember.tensor(w, device=device),
                                 None if b is None else ember.tensor(b, device=device), **kwargs)
    expected = naive_conv_transpose(x, w, b, **kwargs)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, x_shape, w_shape, bias, kwargs", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_gradients_match_finite_differences(device, name, x_shape, w_shape, bias, kwargs):
    rng = np.random.default_rng(2)
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if bias:
        arrays.append(rng.standard_normal(w_shape[1] * groups))
    tensors = [ember.tensor(a, device=device, requires_grad=True) for a in arrays]
    fn = _transpose_fn(x_shape)
    assert gradcheck(lambda *t: fn(*t, **kwargs), tensors)
    if name in ("2d_output_padding", "2d_dilation_output_padding"):
        assert gradgradcheck(lambda *t: fn(*t, **kwargs), tensors)


def test_conv_transpose_is_the_input_gradient_of_conv(device):
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((2, 3, 7, 6)), device=device, requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 3, 3, 2)), device=device)
    g = ember.tensor(rng.standard_normal((2, 4, 3, 4)), device=device)
    F.conv2d(x, w, stride=2, padding=(0, 1)).backward(g)
    transposed = F.conv_transpose2d(g, w, stride=2, padding=(0, 1))
    assert transposed.shape == x.shape
    np.testing.assert_allclose(transposed.numpy(), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unbatched_input_gives_unbatched_output(device):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 3))
    out = F.conv2d(ember.tensor(x, device=device), ember.tensor(w, device=device), padding=1)
    assert out.shape == (2, 6, 5)
    np.testing.assert_allclose(out.numpy(), naive_conv(x[None], w, padding=1)[0], rtol=1e-10, atol=1e-12)
    out1 = F.conv1d(ember.tensor(x[:, 0], device=device), ember.tensor(w[:, :, 0], device=device))
    assert out1.shape == (2, 3)


def test_conv_accepts_non_contiguous_inputs_and_float32(device):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3, 2, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    xt = ember.tensor(x, device=device).permute(2, 1, 0, 3)  # (2, 3, 5, 6), a strided view
    out = F.conv2d(xt, ember.tensor(w, device=device), padding=1)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), naive_conv(x.transpose(2, 1, 0, 3), w, padding=1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("call, error, match", [
    (lambda x, w: F.conv2d(x[0, 0], w), RuntimeError, r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"),
    (lambda x, w: F.conv2d(x, w[:, :2]), RuntimeError,
     r"conv2d: expected input with 2 channels \(weight \(4, 2, 3, 3\), groups 1\), got input of shape \(2, 3, 5, 5\)"),
    (lambda x, w: F.conv2d(x, w, groups=3), RuntimeError, "expected weight to be divisible by 3"),
    (lambda x, w: F.conv2d(x, w, groups=0), RuntimeError, "non-positive groups"),
    (lambda x, w: F.conv2d(x, w, bias=ember.zeros(3, dtype=ember.float64, device=x.device)), RuntimeError,
     r"expected bias of shape \(4,\)"),
    (lambda x, w: F.conv2d(x, w, stride=2, padding="same"), RuntimeError, "not supported for strided convolutions"),
    (lambda x, w: F.conv2d(x, w, padding="full"), ValueError, "Invalid padding string 'full'"),
    (lambda x, w: F.conv2d(x, w, padding=(1, 2, 3)), RuntimeError, "padding to be a single integer value or a list of 2"),
    (lambda x, w: F.conv2d(x, w, stride=0), RuntimeError, "stride must be positive"),
    (lambda x, w: F.conv2d(x[:, :, :2], w), RuntimeError, "Kernel size can't be greater than actual input size"),
    (lambda x, w: F.conv2d(x.to(ember.float32), w), RuntimeError, "input ember.float32 and weight ember.float64"),
    (lambda x, w: F.conv2d(x, w[:, :, 0]), RuntimeError, "expected a 4-D weight"),
    (lambda x, w: F.conv_transpose2d(x, w.permute(1, 0, 2, 3), stride=2, output_padding=2), RuntimeError,
     "output padding must be smaller than either stride or dilation"),
    (lambda x, w: F.conv_transpose2d(x, w), RuntimeError, r"conv_transpose2d: expected input with 4 channels"),
])
def test_conv_rejects_bad_arguments_with_clear_errors(device, call, error, match):
    x = ember.zeros(2, 3, 5, 5, dtype=ember.float64, device=device)
    w = ember.zeros(4, 3, 3, 3, dtype=ember.float64, device=device)
    with pytest.raises(error, match=match):
        call(x, w)


@pytest.mark.parametrize("layer, text", [
    (lambda: nn.Conv2d(1, 16, 3, padding=1), "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"),
    (lambda: nn.Conv2d(2, 4, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect"),
     "Conv2d(2, 4, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, bias=False, "
     "padding_mode=reflect)"),
    (lambda: nn.Conv2d(1, 2, 3, padding="same"), "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"),
    (lambda: nn.Conv1d(2, 3, 3), "Conv1d(2, 3, kernel_size=(3,), stride=(1,))"),
    (lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1),
     "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    (lambda: nn.ConvTranspose1d(2, 4, 3, bias=False), "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,), bias=False)"),
])
def test_conv_layer_repr_matches_pytorch(device, layer, text):
    assert repr(layer()) == text


@pytest.mark.parametrize("make, weight_shape, fan_in", [
    (lambda **kw: nn.Conv2d(6, 8, (3, 2), groups=2, **kw), (8, 3, 3, 2), 18),
    (lambda **kw: nn.Conv1d(4, 5, 7, **kw), (5, 4, 7), 28),
    (lambda **kw: nn.ConvTranspose2d(4, 6, 3, groups=2, **kw), (4, 3, 3, 3), 27),
])
def test_conv_layer_default_init_is_uniform_within_pytorch_bounds(device, make, weight_shape, fan_in):
    ember.manual_seed(0)
    layer = make(dtype=ember.float64, device=device)
    assert layer.weight.shape == weight_shape and layer.weight.dtype == ember.float64
    assert layer.weight.device == device
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule give the same bound
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.7 * bound
    assert len(list(layer.parameters())) == 2


@pytest.mark.parametrize("mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_conv2d_padding_modes_pad_the_input_before_a_valid_convolution(device, mode, np_mode):
    ember.manual_seed(1)
    layer = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=ember.float64, device=device)
    x = np.random.default_rng(7).standard_normal((2, 2, 5, 6))
    out = layer(ember.tensor(x, device=device))
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (2, 2)], mode=np_mode)
    expected = naive_conv(padded, layer.weight.detach().numpy(), layer.bias.detach().numpy())
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv_layers_forward_and_backward_through_parameters(device):
    layer = nn.Conv1d(3, 4, 3, padding=1, device=device)
    x = ember.randn(2, 3, 8, device=device)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (4, 3, 3) and layer.bias.grad.shape == (4,)
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(4, 16.0), rtol=1e-6)


def test_conv_transpose2d_output_size_picks_output_padding(device):
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, device=device)
    x = ember.randn(1, 2, 4, 5, device=device)
    assert layer(x).shape == (1, 3, 7, 9)
    assert layer(x, output_size=(8, 10)).shape == (1, 3, 8, 10)
    assert layer(x, output_size=[1, 3, 8, 9]).shape == (1, 3, 8, 9)
    with pytest.raises(ValueError, match="valid sizes range from"):
        layer(x, output_size=(9, 9))


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same"), ValueError, "not supported for strided"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), ValueError, 'Only "zeros" padding mode'),
])
def test_conv_layers_reject_bad_hyper_parameters(device, make, error, match):
    with pytest.raises(error, match=match):
        make()


def _torch_case(torch, fn_name, x, w, b, kwargs):
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    out = getattr(torch.nn.functional, fn_name)(tx, tw, tb, **kwargs)
    return out, [t for t in (tx, tw, tb) if t is not None]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CONV_CASES + [("T" + c[0],) + c[1:] for c in TRANSPOSE_CASES],
                         ids=[c[0] for c in CONV_CASES] + ["transpose_" + c[0] for c in TRANSPOSE_CASES])
def test_conv_matches_torch_forward_and_gradients(device, case):
    torch = pytest.importorskip("torch")
    name, x_shape, w_shape, bias, kwargs = case
    transposed = name.startswith("T")
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[1] * kwargs.get("groups", 1) if transposed else w_shape[0]) if bias else None
    dims = len(x_shape) - 2
    fn_name = f"conv_transpose{dims}d" if transposed else f"conv{dims}d"
    expected, t_inputs = _torch_case(torch, fn_name, x, w, b, kwargs)
    inputs = [ember.tensor(a, device=device, requires_grad=True) for a in (x, w, b) if a is not None]
    out = getattr(F, fn_name)(*inputs[:2], inputs[2] if bias else None, **kwargs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(out.shape)
    out.backward(ember.tensor(g, device=device))
    expected.backward(torch.tensor(g))
    for mine, theirs in zip(inputs, t_inputs):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-10)
