"""SwiGLU: w2(silu(w1 x) * w3 x)."""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember_plugin_example import SwiGLU


def _numpy(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("out_features, expected_last", [(None, 4), (6, 6)])
def test_output_shape_keeps_leading_dims_and_defaults_out_features_to_in_features(device, out_features,
                                                                                   expected_last):
    layer = SwiGLU(4, 8, out_features, device=device)
    x = ember.randn(2, 5, 4, device=device)
    assert tuple(layer(x).shape) == (2, 5, expected_last)


def test_bias_false_gives_three_weight_matrices_only(device):
    layer = SwiGLU(4, 8, 3, bias=False, device=device)
    shapes = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    assert shapes == {"w1.weight": (8, 4), "w3.weight": (8, 4), "w2.weight": (3, 8)}


def test_forward_matches_a_hand_computation(device):
    # w1 = I, w3 = diag(2, -1), w2 = [1, 1], x = (1, -1):
    # w1 x = (1, -1), w3 x = (2, 1), so y = 2 silu(1) + silu(-1) = 2 sigmoid(1) - sigmoid(-1) = 3 sigmoid(1) - 1.
    layer = SwiGLU(2, 2, 1, bias=False, device=device, dtype=ember.float64)
    with ember.no_grad():
        layer.w1.weight.copy_(ember.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=ember.float64, device=device))
        layer.w3.weight.copy_(ember.tensor([[2.0, 0.0], [0.0, -1.0]], dtype=ember.float64, device=device))
        layer.w2.weight.copy_(ember.tensor([[1.0, 1.0]], dtype=ember.float64, device=device))
    y = layer(ember.tensor([[1.0, -1.0]], dtype=ember.float64, device=device))
    sigmoid1 = 1 / (1 + math.exp(-1))
    assert y.item() == pytest.approx(3 * sigmoid1 - 1, rel=1e-12)


def test_forward_matches_numpy_reference_with_bias(device):
    layer = SwiGLU(3, 5, 2, device=device, dtype=ember.float64)
    x = ember.randn(4, 3, dtype=ember.float64, device=device)
    w1, b1 = _numpy(layer.w1.weight), _numpy(layer.w1.bias)
    w3, b3 = _numpy(layer.w3.weight), _numpy(layer.w3.bias)
    w2, b2 = _numpy(layer.w2.weight), _numpy(layer.w2.bias)
    xn = _numpy(x)
    gate = xn @ w1.T + b1
    expected = (gate / (1 + np.exp(-gate)) * (xn @ w3.T + b3)) @ w2.T + b2
    np.testing.assert_allclose(_numpy(layer(x)), expected, rtol=1e-12, atol=1e-12)


def test_gradients_match_finite_differences_in_float64(device):
    layer = SwiGLU(3, 4, 2, device=device, dtype=ember.float64)
    x = ember.randn(2, 3, dtype=ember.float64, device=device, requires_grad=True)
    weights = (layer.w1.weight, layer.w3.weight, layer.w2.weight)

    def f(x, w1, w3, w2):
        gate = x @ w1.T + layer.w1.bias
        return (ember.nn.functional.silu(gate) * (x @ w3.T + layer.w3.bias)) @ w2.T + layer.w2.bias

    np.testing.assert_allclose(_numpy(f(x, *weights)), _numpy(layer(x)), rtol=1e-12)
    assert gradcheck(layer, (x,))
    assert gradcheck(f, (x, *weights))


@pytest.mark.no_device
@pytest.mark.parametrize("args, name", [((0, 4), "in_features"), ((4, 0), "hidden_features"),
                                        ((4, 4, -1), "out_features")])
def test_non_positive_sizes_raise_value_error_naming_the_argument(args, name):
    with pytest.raises(ValueError, match=name):
        SwiGLU(*args)
