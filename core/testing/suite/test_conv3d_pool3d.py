"""Conv3d, MaxPool3d and AvgPool3d (modules and functions): values, shapes, errors and gradients, against
hand-computed expectations, finite differences and PyTorch."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

CONV_CASES = [  # (N, C, O, groups, (D, H, W), kernel, stride, padding, dilation)
    (2, 4, 6, 2, (5, 6, 7), (3, 2, 3), (2, 1, 2), (1, 0, 1), (1, 2, 1)),
    (1, 3, 3, 1, (4, 4, 4), 2, 1, "same", 2),
    (1, 3, 3, 3, (4, 4, 4), (3, 1, 2), 1, "valid", 1),
    (2, 2, 4, 1, (3, 5, 4), 1, (1, 2, 1), 2, 1),
]

AVG_CASES = [  # (shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ((2, 3, 5, 6, 7), 3, 2, 1, False, True, None),
    ((2, 3, 5, 6, 7), 3, 2, 1, True, False, None),
    ((2, 3, 5, 6, 7), (2, 3, 2), (1, 2, 3), (1, 1, 0), True, True, None),
    ((3, 5, 6, 7), 2, None, 0, False, True, 3),
    ((2, 3, 7, 6, 5), (3, 2, 2), (2, 2, 1), (1, 1, 1), True, True, None),
]

MAX_CASES = [  # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 5, 6, 7), 3, 2, 1, 1, False),
    ((2, 3, 5, 6, 7), 3, 2, 1, 2, True),
    ((3, 5, 6, 7), (2, 3, 2), (1, 2, 3), (1, 1, 0), (2, 1, 1), True),
]


def test_conv3d_of_ones_counts_the_window(device):
    x = ember.ones(1, 1, 3, 3, 3, device=device)
    w = ember.ones(1, 1, 2, 2, 2, device=device)
    out = F.conv3d(x, w, ember.tensor([0.5], device=device))
    assert out.shape == (1, 1, 2, 2, 2)
    np.testing.assert_allclose(out.numpy(), np.full((1, 1, 2, 2, 2), 8.5))


def test_conv3d_unbatched_input_gives_unbatched_output(device):
    x = ember.randn(2, 4, 4, 4, device=device)
    w = ember.randn(3, 2, 3, 3, 3, device=device)
    out = F.conv3d(x, w, padding=1)
    assert out.shape == (3, 4, 4, 4)
    np.testing.assert_allclose(out.numpy(), F.conv3d(x.unsqueeze(0), w, padding=1)[0].numpy(), rtol=1e-5)


def test_conv3d_module_weight_shape_and_output(device):
    m = nn.Conv3d(4, 6, (3, 2, 1), stride=2, padding=1, groups=2, device=device)
    assert m.weight.shape == (6, 2, 3, 2, 1) and m.bias.shape == (6,)
    bound = 1 / np.sqrt(2 * 3 * 2 * 1)
    assert float(m.weight.abs().max()) <= bound + 1e-6 and float(m.bias.abs().max()) <= bound + 1e-6
    assert m(ember.randn(2, 4, 5, 5, 5, device=device)).shape == (2, 6, 3, 3, 4)


def test_conv3d_errors(device):
    w = ember.randn(2, 3, 2, 2, 2, device=device)
    with pytest.raises(RuntimeError, match="4D .unbatched. or 5D"):
        F.conv3d(ember.randn(3, 4, 4, device=device), w)
    with pytest.raises(RuntimeError, match="channels"):
        F.conv3d(ember.randn(1, 2, 4, 4, 4, device=device), w)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv3d(ember.randn(1, 3, 1, 4, 4, device=device), w)
    with pytest.raises(RuntimeError, match="strided"):
        F.conv3d(ember.randn(1, 3, 4, 4, 4, device=device), w, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv3d(3, 4, 2, groups=2)


def test_pool3d_values_by_hand(device):
    x = ember.arange(8.0, device=device).reshape(1, 1, 2, 2, 2)
    np.testing.assert_allclose(F.max_pool3d(x, 2).numpy().ravel(), [7.0])
    np.testing.assert_allclose(F.avg_pool3d(x, 2).numpy().ravel(), [3.5])
    values, index = F.max_pool3d(x, 2, return_indices=True)
    assert index.dtype == ember.int64 and index.numpy().ravel().tolist() == [7]
    np.testing.assert_allclose(F.avg_pool3d(x, 2, divisor_override=2).numpy().ravel(), [14.0])


def test_pool3d_errors(device):
    x = ember.randn(1, 1, 4, 4, 4, device=device)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool3d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="5D"):
        F.avg_pool3d(ember.randn(4, 4, device=device), 2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool3d(ember.randn(1, 1, 1, 4, 4, device=device), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool3d(x, 2, divisor_override=0)


def test_reprs():
    assert repr(nn.Conv3d(4, 6, 3, stride=2, padding=(1, 0, 1), groups=2, bias=False)) == (
        "Conv3d(4, 6, kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 0, 1), groups=2, bias=False)")
    assert repr(nn.Conv3d(2, 3, (1, 2, 3))) == "Conv3d(2, 3, kernel_size=(1, 2, 3), stride=(1, 1, 1))"
    assert repr(nn.MaxPool3d(3, 2, 1)) == "MaxPool3d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool3d((2, 3, 2))) == "AvgPool3d(kernel_size=(2, 3, 2), stride=(2, 3, 2), padding=0)"


@pytest.mark.parametrize("case", CONV_CASES[:3])
def test_conv3d_gradcheck_and_gradgradcheck(device, case):
    n, c, o, groups, _, kernel, stride, padding, dilation = case
    rng = np.random.default_rng(0)
    ks = (kernel,) * 3 if isinstance(kernel, int) else kernel
    x = ember.tensor(rng.standard_normal((1, c, 4, 3, 4)), device=device, requires_grad=True)
    w = ember.tensor(rng.standard_normal((o, c // groups) + tuple(min(k, 2) for k in ks)), device=device,
                     requires_grad=True)
    b = ember.tensor(rng.standard_normal(o), device=device, requires_grad=True)

    def f(x, w, b):
        return F.conv3d(x, w, b, stride, padding, 1, groups)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_pool3d_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(1)
    data = rng.permutation(60).reshape(1, 1, 3, 4, 5) * 0.1 + rng.standard_normal((1, 1, 3, 4, 5)) * 0.01
    x = ember.tensor(data, device=device, requires_grad=True)
    for f in (lambda t: F.max_pool3d(t, 2, 1, 1, ceil_mode=True),
              lambda t: F.avg_pool3d(t, 2, (1, 2, 2), 1, ceil_mode=True, count_include_pad=False)):
        assert gradcheck(f, (x,))
        assert gradgradcheck(f, (x,))


def _pair(rng, shape, device, torch):
    data = rng.standard_normal(shape)
    return ember.tensor(data, device=device, requires_grad=True), torch.tensor(data, requires_grad=True)


def _backward_both(rng, ours, theirs, device, torch):
    g = rng.standard_normal(tuple(theirs.shape))
    ours.backward(ember.tensor(g, device=device))
    theirs.backward(torch.tensor(g))


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv3d_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    n, c, o, groups, size, kernel, stride, padding, dilation = case
    ks = (kernel,) * 3 if isinstance(kernel, int) else kernel
    rng = np.random.default_rng(2)
    x, xt = _pair(rng, (n, c) + size, device, torch)
    w, wt = _pair(rng, (o, c // groups) + ks, device, torch)
    b, bt = _pair(rng, (o,), device, torch)
    ours, theirs = F.conv3d(x, w, b, stride, padding, dilation, groups), \
        torch.nn.functional.conv3d(xt, wt, bt, stride, padding, dilation, groups)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-10)
    _backward_both(rng, ours, theirs, device, torch)
    for a, t in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-10)


def test_conv3d_padding_modes_match_torch(device):
    torch = pytest.importorskip("torch")
    for mode in ("reflect", "replicate", "circular"):
        torch.manual_seed(0)
        theirs = torch.nn.Conv3d(2, 3, 2, padding=1, padding_mode=mode).double()
        ours = nn.Conv3d(2, 3, 2, padding=1, padding_mode=mode, device=device, dtype=ember.float64)
        ours.weight.data = ember.tensor(theirs.weight.detach().numpy(), device=device)
        ours.bias.data = ember.tensor(theirs.bias.detach().numpy(), device=device)
        data = np.random.default_rng(3).standard_normal((1, 2, 3, 4, 3))
        np.testing.assert_allclose(ours(ember.tensor(data, device=device)).detach().numpy(),
                                   theirs(torch.tensor(data)).detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool3d_matches_torch(device, case):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor = case
    rng = np.random.default_rng(4)
    x, xt = _pair(rng, shape, device, torch)
    ours = F.avg_pool3d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    theirs = torch.nn.functional.avg_pool3d(xt, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-12)
    _backward_both(rng, ours, theirs, device, torch)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool3d_matches_torch_with_indices(device, case):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding, dilation, ceil_mode = case
    rng = np.random.default_rng(5)
    x, xt = _pair(rng, shape, device, torch)
    ours, index = nn.MaxPool3d(kernel, stride, padding, dilation, True, ceil_mode)(x)
    theirs, tindex = torch.nn.MaxPool3d(kernel, stride, padding, dilation, True, ceil_mode)(xt)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())
    _backward_both(rng, ours, theirs, device, torch)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)


def test_max_pool3d_ties_send_the_gradient_to_one_element_as_torch(device):
    torch = pytest.importorskip("torch")
    data = np.round(np.random.default_rng(6).standard_normal((2, 2, 4, 4, 4)))
    x, xt = ember.tensor(data, device=device, requires_grad=True), torch.tensor(data, requires_grad=True)
    F.max_pool3d(x, 2, 1).sum().backward()
    torch.nn.functional.max_pool3d(xt, 2, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_max_pool3d_of_integers_pads_below_every_value(device):
    x = ember.arange(27, device=device).reshape(1, 1, 3, 3, 3)
    out = F.max_pool3d(x, 3, 2, 1)
    assert out.dtype == ember.int64
    assert out.flatten().tolist() == [13, 14, 16, 17, 22, 23, 25, 26]
