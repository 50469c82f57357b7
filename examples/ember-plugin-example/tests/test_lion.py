"""Lion: decoupled weight decay, a signed step, then the momentum update (Chen et al. 2023)."""
import numpy as np
import pytest

import ember
from ember import nn
from ember_plugin_example import Lion


def lion_reference(p, grads, lr, betas, weight_decay):
    """The parameter and momentum after each step, in numpy, as lucidrains/lion-pytorch writes it."""
    beta1, beta2 = betas
    m = np.zeros_like(p)
    history = []
    for g in grads:
        p = p * (1 - lr * weight_decay)
        p = p - lr * np.sign(beta1 * m + (1 - beta1) * g)
        m = beta2 * m + (1 - beta2) * g
        history.append((p, m))
    return history


def _numpy(t):
    return t.detach().cpu().numpy()


def _param(values, device):
    return ember.tensor(values, dtype=ember.float64, device=device, requires_grad=True)


def test_first_step_moves_each_element_by_lr_along_the_gradient_sign(device):
    p = _param([1.0, -2.0, 0.5], device)
    opt = Lion([p], lr=0.1)
    p.grad = ember.tensor([0.3, -0.1, 0.0], dtype=ember.float64, device=device)
    opt.step()
    # m = 0, so c = 0.1 * g and sign(c) = sign(g); a zero gradient leaves its element alone
    np.testing.assert_allclose(_numpy(p), [0.9, -1.9, 0.5], rtol=1e-15)
    np.testing.assert_allclose(_numpy(opt.state[p]["exp_avg"]), [0.003, -0.001, 0.0], rtol=1e-15)


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_steps_match_numpy_reference(device, weight_decay):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(4)]
    lr, betas = 0.05, (0.8, 0.95)
    p = _param(p0, device)
    opt = Lion([p], lr=lr, betas=betas, weight_decay=weight_decay)
    for g, (p_expected, m_expected) in zip(grads, lion_reference(p0, grads, lr, betas, weight_decay)):
        p.grad = ember.tensor(g, device=device)
        opt.step()
        np.testing.assert_allclose(_numpy(p), p_expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(_numpy(opt.state[p]["exp_avg"]), m_expected, rtol=1e-12, atol=1e-15)


def test_param_groups_use_their_own_options_and_params_without_grad_stay(device):
    a, b, frozen = _param([1.0], device), _param([1.0], device), _param([1.0], device)
    opt = Lion([{"params": [a]}, {"params": [b, frozen], "lr": 0.5, "weight_decay": 1.0}], lr=0.1)
    a.grad = ember.tensor([2.0], dtype=ember.float64, device=device)
    b.grad = ember.tensor([2.0], dtype=ember.float64, device=device)
    opt.step()
    assert a.item() == pytest.approx(0.9)
    assert b.item() == pytest.approx(1.0 * (1 - 0.5 * 1.0) - 0.5)
    assert frozen.item() == 1.0
    assert frozen not in opt.state


def test_step_returns_the_closure_loss_computed_with_grad_enabled(device):
    p = _param([3.0], device)
    opt = Lion([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(9.0)
    assert p.item() == pytest.approx(2.9)


def test_state_dict_round_trip_continues_identically(device):
    p0 = np.array([0.5, -1.0])
    grads = [np.array([1.0, 2.0]), np.array([-3.0, 0.5]), np.array([0.2, -0.2])]
    p, q = _param(p0, device), _param(p0, device)
    opt = Lion([p], lr=0.1, betas=(0.5, 0.9))
    p.grad = ember.tensor(grads[0], device=device)
    opt.step()
    with ember.no_grad():
        q.copy_(p)
    resumed = Lion([q], lr=0.1, betas=(0.5, 0.9))
    resumed.load_state_dict(opt.state_dict())
    for g in grads[1:]:
        p.grad = ember.tensor(g, device=device)
        q.grad = ember.tensor(g, device=device)
        opt.step()
        resumed.step()
    np.testing.assert_array_equal(_numpy(q), _numpy(p))


def test_trains_a_tiny_model(device):
    ember.manual_seed(0)
    x = ember.randn(64, 4, device=device)
    y = (x[:, :1] + x[:, 1:2] > 0).to(ember.float32)
    model = nn.Sequential(nn.SwiGLU(4, 16, 1))
    criterion = nn.FocalLoss()
    opt = ember.optim.Lion(model.parameters(), lr=1e-2, weight_decay=0.1)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("kwargs, match", [({"lr": -1e-3}, "learning rate"), ({"betas": (1.0, 0.99)}, "index 0"),
                                           ({"betas": (0.9, -0.1)}, "index 1"),
                                           ({"weight_decay": -0.1}, "weight_decay")])
def test_invalid_arguments_raise_value_error_naming_them(device, kwargs, match):
    p = ember.zeros(2, device=device, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        Lion([p], **kwargs)
