"""F.pad in every mode: values against numpy's np.pad (and hand-computed crops for negative pads),
gradients in float64, PyTorch's errors, and PyTorch itself where it is installed."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

# (input shape, pad) with non-negative pads: np.pad is the reference
POSITIVE_CASES = [
    ((2, 5), (1, 2)),
    ((2, 3, 6), (3, 0)),
    ((1, 2, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4), (2, 2, 1, 2)),
    ((1, 1, 3, 4, 5), (1, 1, 2, 0, 0, 2)),
    ((2, 2, 3, 4), (0, 0, 2, 2)),
]


def _numpy_pad(x, pad, mode, value=0.0):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    extra = {"constant_values": value} if mode == "constant" else {}
    return np.pad(x, widths, mode=NUMPY_MODE[mode], **extra)


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
@pytest.mark.parametrize("shape, pad", POSITIVE_CASES)
def test_pad_matches_numpy_and_finite_differences(device, mode, shape, pad):
    x = np.random.default_rng(0).standard_normal(shape)
    t = ember.tensor(x, device=device, requires_grad=True)
    out = F.pad(t, pad, mode=mode)
    np.testing.assert_array_equal(out.detach().numpy(), _numpy_pad(x, pad, mode))
    assert gradcheck(lambda a: F.pad(a, pad, mode=mode), [t])


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
def test_pad_second_derivatives_match_finite_differences(device, mode):
    t = ember.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 4)), device=device, requires_grad=True)
    assert gradgradcheck(lambda a: F.pad(a, (2, 1, 1, 2), mode=mode) ** 2, [t])


# negative pads crop; these expectations are PyTorch's outputs on [0, 1, 2, 3, 4]
@pytest.mark.parametrize("mode, pad, expected", [
    ("reflect", (-1, 2), [1, 2, 3, 4, 3, 2]),
    ("reflect", (2, -1), [2, 1, 0, 1, 2, 3]),
    ("reflect", (4, 0), [4, 3, 2, 1, 0, 1, 2, 3, 4]),
    ("replicate", (-1, 2), [1, 2, 3, 4, 4, 4]),
    ("replicate", (2, -1), [0, 0, 0, 1, 2, 3]),
    ("replicate", (6, 0), [0] * 7 + [1, 2, 3, 4]),
    ("circular", (-1, 2), [1, 2, 3, 4, 1, 2]),
    ("circular", (2, -1), [2, 3, 0, 1, 2, 3]),
    ("circular", (5, 0), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]),
    ("constant", (-2, -1), [2, 3]),
    ("constant", (1, -2), [7, 0, 1, 2]),
])
def test_pad_negative_and_large_pads_follow_pytorch(device, mode, pad, expected):
    x = ember.arange(5.0, device=device).reshape(1, 1, 5)
    out = F.pad(x, pad, mode=mode, value=7.0) if mode == "constant" else F.pad(x, pad, mode=mode)
    assert out.reshape(-1).tolist() == expected


def test_pad_gradient_accumulates_over_repeated_sources(device):
    x = ember.arange(3.0, device=device, requires_grad=True)
    F.pad(x.reshape(1, 3), (2, 2), mode="replicate").sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 3.0]


def test_pad_pads_more_trailing_dims_than_pytorch_allows(device):
    x = np.arange(24.0).reshape(2, 3, 4)
    out = F.pad(ember.tensor(x, device=device), (1, 1, 1, 1, 1, 1), mode="reflect")
    np.testing.assert_array_equal(out.numpy(), np.pad(x, 1, mode="reflect"))


@pytest.mark.parametrize("call, error, match", [
    (lambda x: F.pad(x, (5, 0), mode="reflect"), RuntimeError, "Padding size should be less than the corresponding"),
    (lambda x: F.pad(x, (6, 0), mode="circular"), RuntimeError, "wrapping around more than once"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=3.0), RuntimeError, "doesn't take in value argument"),
    (lambda x: F.pad(x, (1, 1), mode="mirror"), NotImplementedError, "Unrecognised padding mode mirror"),
    (lambda x: F.pad(x, (1, 1, 1)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda x: F.pad(x, (-3, -2), mode="replicate"), RuntimeError, "leaves an empty dimension"),
])
def test_pad_rejects_bad_arguments_like_pytorch(device, call, error, match):
    with pytest.raises(error, match=match):
        call(ember.zeros(1, 2, 5, device=device))


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
@pytest.mark.parametrize("shape, pad", [((2, 3, 6), (-1, 3)), ((1, 2, 4, 5), (2, -1, 1, 3)), ((2, 1, 3, 4, 5), (1, 2, 0, 1, 2, 2))])
def test_pad_matches_torch(device, mode, shape, pad):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal(shape)
    t = ember.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, expected = F.pad(t, pad, mode=mode), torch.nn.functional.pad(tx, pad, mode=mode)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(ember.tensor(g, device=device))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
