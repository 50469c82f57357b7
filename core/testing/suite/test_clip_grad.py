"""ember.nn.utils: clip_grad_norm_, clip_grad_value_, get_total_norm and the parameter/vector conversions,
against hand-computed norms (and torch.nn.utils where torch is installed)."""
import math

import numpy as np
import pytest

import ember
from ember.nn.utils import (
    clip_grad_norm, clip_grad_norm_, clip_grad_value_, get_total_norm, parameters_to_vector, vector_to_parameters,
)

GRADS = [np.array([3.0, -4.0]), np.array([[1.0, 2.0], [-2.0, 0.5]]), np.array([-12.0])]


def _params(device, grads=GRADS, dtype=ember.float64):
    params = []
    for g in grads:
        p = ember.zeros(g.shape, dtype=dtype, device=device, requires_grad=True)
        p.grad = ember.tensor(g, dtype=dtype, device=device)
        params.append(p)
    return params


def _grads(params):
    return [p.grad.cpu().numpy() for p in params]


def _norm(grads, p):
    flat = np.concatenate([g.ravel() for g in grads])
    if p == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** p).sum() ** (1 / p)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_scales_all_gradients_by_max_norm_over_the_total_norm(norm_type, device):
    params = _params(device)
    total = clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
    expected = _norm(GRADS, norm_type)
    assert total.shape == () and total.item() == pytest.approx(expected)
    scale = 1.5 / (expected + 1e-6)
    for got, g in zip(_grads(params), GRADS):
        np.testing.assert_allclose(got, g * scale, rtol=1e-12)
    assert _norm(_grads(params), norm_type) == pytest.approx(1.5, rel=1e-5)


def test_gradients_below_max_norm_are_left_unchanged(device):
    params = _params(device)
    total = clip_grad_norm_(params, max_norm=100.0)
    assert total.item() == pytest.approx(_norm(GRADS, 2))
    for got, g in zip(_grads(params), GRADS):
        np.testing.assert_array_equal(got, g)


def test_clip_grad_norm_accepts_one_tensor_skips_missing_grads_and_keeps_dtype(device):
    p = ember.zeros(2, device=device, requires_grad=True)
    p.grad = ember.tensor([6.0, 8.0], device=device)
    frozen = ember.zeros(3, device=device, requires_grad=True)
    total = clip_grad_norm_([p, frozen], 5.0)
    assert total.dtype == ember.float32 and total.item() == pytest.approx(10.0)
    np.testing.assert_allclose(p.grad.cpu().numpy(), [3.0, 4.0], rtol=1e-5)
    assert frozen.grad is None
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0, rel=1e-5)


def test_no_gradients_give_a_zero_norm_and_an_empty_generator_warns(device):
    assert clip_grad_norm_([ember.zeros(2, device=device, requires_grad=True)], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        clip_grad_norm_((p for p in []), 1.0)


def test_nonfinite_total_norm_raises_only_when_asked(device):
    params = _params(device, [np.array([1.0, math.nan])])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_(params, 1.0).item())
    inf_params = _params(device, [np.array([1.0, math.inf])])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(inf_params, 1.0, norm_type=math.inf, error_if_nonfinite=True)


def test_get_total_norm_of_tensors_mixes_dtypes(device):
    tensors = [ember.tensor([3.0], device=device), ember.tensor([4.0], dtype=ember.float64, device=device)]
    total = get_total_norm(tensors)
    assert total.dtype == ember.float64 and total.item() == 5.0


def test_clip_grad_norm_is_not_recorded_by_autograd(device):
    params = _params(device)
    total = clip_grad_norm_(params, 1.0)
    assert not total.requires_grad and all(p.grad.grad_fn is None for p in params)


def test_deprecated_clip_grad_norm_warns_and_clips(device):
    params = _params(device)
    with pytest.warns(FutureWarning, match="deprecated in favor of `ember.nn.utils.clip_grad_norm_`"):
        clip_grad_norm(params, 1.0)
    assert _norm(_grads(params), 2) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value_clamps_each_gradient_element(device):
    params = _params(device)
    assert clip_grad_value_(params, 2.5) is None
    for got, g in zip(_grads(params), GRADS):
        np.testing.assert_array_equal(got, np.clip(g, -2.5, 2.5))
    single = _params(device, [np.array([-3.0, 0.1])])[0]
    clip_grad_value_(single, 1)
    np.testing.assert_array_equal(single.grad.cpu().numpy(), [-1.0, 0.1])


@pytest.mark.parametrize("norm_type", [2.0, 0.5, math.inf])
def test_clip_grad_norm_matches_torch(norm_type, device):
    torch = pytest.importorskip("torch")
    params = _params(device)
    tparams = []
    for g in GRADS:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g)
        tparams.append(p)
    total = clip_grad_norm_(params, 2.0, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 2.0, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for got, p in zip(_grads(params), tparams):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-12)


# ---- parameters <-> vector ----------------------------------------------------------------------
def test_parameters_to_vector_concatenates_flattened_parameters(device):
    params = [ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device), ember.tensor([5.0], device=device)]
    vec = parameters_to_vector(params)
    assert vec.shape == (5,)
    np.testing.assert_array_equal(vec.cpu().numpy(), [1, 2, 3, 4, 5])


def test_parameters_to_vector_is_differentiable(device):
    w = ember.tensor([[1.0, 2.0]], device=device, requires_grad=True)
    (parameters_to_vector([w]) * ember.tensor([3.0, 4.0], device=device)).sum().backward()
    np.testing.assert_array_equal(w.grad.cpu().numpy(), [[3.0, 4.0]])


def test_vector_to_parameters_is_the_inverse_and_parameters_view_the_vector(device):
    params = [ember.zeros((2, 2), device=device, requires_grad=True), ember.zeros(3, device=device, requires_grad=True)]
    vec = ember.arange(7, dtype=ember.float32, device=device)
    vector_to_parameters(vec, params)
    np.testing.assert_array_equal(params[0].detach().cpu().numpy(), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(params[1].detach().cpu().numpy(), [4, 5, 6])
    assert params[0].requires_grad and params[0].shape == (2, 2)
    np.testing.assert_array_equal(parameters_to_vector(params).detach().cpu().numpy(), np.arange(7))


def test_vector_to_parameters_rejects_non_tensors_and_short_vectors(device):
    params = [ember.zeros(3, device=device)]
    with pytest.raises(TypeError, match="expected ember.Tensor, but got: list"):
        vector_to_parameters([1.0, 2.0, 3.0], params)
    with pytest.raises(ValueError, match="at least 3 elements"):
        vector_to_parameters(ember.zeros(2, device=device), params)
