"""FocalLoss / sigmoid_focal_loss: torchvision's definition, checked against hand-computed values."""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn import functional as F
from ember_plugin_example import FocalLoss, sigmoid_focal_loss

LN3 = math.log(3)
# sigmoid(0) = 1/2 and sigmoid(ln 3) = 3/4, so every factor below is a simple fraction.
LOGITS = [0.0, 0.0, LN3, LN3]
TARGETS = [1.0, 0.0, 1.0, 0.0]
# alpha_t * (1 - p_t)^gamma * ce with alpha = 0.25, gamma = 2:
#   x=0,    t=1: p_t = 1/2, ce = ln 2:      1/4 * 1/4  * ln 2
#   x=0,    t=0: p_t = 1/2, ce = ln 2:      3/4 * 1/4  * ln 2
#   x=ln 3, t=1: p_t = 3/4, ce = ln(4/3):   1/4 * 1/16 * ln(4/3)
#   x=ln 3, t=0: p_t = 1/4, ce = ln 4:      3/4 * 9/16 * ln 4
EXPECTED_DEFAULT = [math.log(2) / 16, 3 * math.log(2) / 16, math.log(4 / 3) / 64, 27 * math.log(4) / 64]


def _tensors(device, logits=LOGITS, targets=TARGETS, requires_grad=False):
    x = ember.tensor(logits, dtype=ember.float64, device=device, requires_grad=requires_grad)
    return x, ember.tensor(targets, dtype=ember.float64, device=device)


def _numpy(t):
    return t.detach().cpu().numpy()


def test_default_alpha_and_gamma_match_hand_computed_values(device):
    x, t = _tensors(device)
    np.testing.assert_allclose(_numpy(FocalLoss(reduction="none")(x, t)), EXPECTED_DEFAULT, rtol=1e-12)


def test_gamma_zero_is_alpha_weighted_binary_cross_entropy(device):
    x, t = _tensors(device)
    expected = [0.25 * math.log(2), 0.75 * math.log(2), 0.25 * math.log(4 / 3), 0.75 * math.log(4)]
    np.testing.assert_allclose(_numpy(FocalLoss(gamma=0.0, reduction="none")(x, t)), expected, rtol=1e-12)


def test_negative_alpha_and_gamma_zero_is_plain_binary_cross_entropy(device):
    x = ember.randn(3, 5, dtype=ember.float64, device=device)
    t = (ember.rand(3, 5, device=device) > 0.5).to(ember.float64)
    loss = FocalLoss(alpha=-1.0, gamma=0.0, reduction="none")(x, t)
    expected = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(_numpy(loss), _numpy(expected), rtol=1e-12)


@pytest.mark.parametrize("reduction, expected", [("mean", sum(EXPECTED_DEFAULT) / 4), ("sum", sum(EXPECTED_DEFAULT))])
def test_reductions_reduce_the_per_element_losses(device, reduction, expected):
    x, t = _tensors(device)
    loss = FocalLoss(reduction=reduction)(x, t)
    assert tuple(loss.shape) == ()
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_module_defaults_to_mean_and_functional_to_none(device):
    x, t = _tensors(device)
    assert FocalLoss()(x, t).item() == pytest.approx(sum(EXPECTED_DEFAULT) / 4, rel=1e-12)
    assert tuple(sigmoid_focal_loss(x, t).shape) == (4,)


def test_integer_targets_are_cast_to_the_logits_dtype(device):
    x, _ = _tensors(device)
    t = ember.tensor([1, 0, 1, 0], device=device)
    np.testing.assert_allclose(_numpy(FocalLoss(reduction="none")(x, t)), EXPECTED_DEFAULT, rtol=1e-12)


def test_saturated_logits_give_finite_loss_and_gradient(device):
    x, t = _tensors(device, logits=[100.0, -100.0, 100.0], targets=[1.0, 1.0, 0.0], requires_grad=True)
    loss = FocalLoss(reduction="none")(x, t)
    # confidently right: (1 - p_t)^2 = 0; confidently wrong: alpha_t * ce = 0.25 * 100 and 0.75 * 100
    np.testing.assert_allclose(_numpy(loss), [0.0, 25.0, 75.0], atol=1e-12)
    loss.sum().backward()
    assert np.isfinite(_numpy(x.grad)).all()


@pytest.mark.parametrize("alpha, gamma", [(0.25, 2.0), (-1.0, 1.5), (0.5, 0.0)])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_gradients_match_finite_differences_in_float64(device, alpha, gamma, reduction):
    x = ember.randn(3, 4, dtype=ember.float64, device=device, requires_grad=True)
    t = (ember.rand(3, 4, device=device) > 0.5).to(ember.float64)
    assert gradcheck(lambda x: sigmoid_focal_loss(x, t, alpha, gamma, reduction), (x,))


@pytest.mark.no_device
@pytest.mark.parametrize("kwargs, match", [({"reduction": "batchmean"}, "reduction"), ({"gamma": -1.0}, "gamma"),
                                           ({"alpha": 1.5}, "alpha")])
def test_invalid_arguments_raise_value_error_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FocalLoss(**kwargs)
