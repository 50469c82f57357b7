"""Moving tensors, modules and optimizer state between the CPU and the device under test: `Tensor.to`,
`.cpu()`, `Module.to`, gradients across a move, `non_blocking`, and optimizer state that follows its
parameters."""
from __future__ import annotations

import numpy as np

import ember


def test_to_and_cpu_move_values_and_back(device):
    t = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device="cpu")
    moved = t.to(device, non_blocking=True)
    assert moved.device == device
    back = moved.cpu()
    assert back.device == ember.device("cpu") and back.tolist() == t.tolist()


def test_to_takes_non_blocking_then_copy_positionally_as_pytorch(device):
    t = ember.ones(3, device=device)
    assert t.to(device, ember.float32, True) is t  # non_blocking=True: nothing to do
    copied = t.to(device, ember.float32, False, True)  # copy=True
    assert copied is not t and copied.tolist() == t.tolist()


def test_gradients_flow_back_across_a_move(device):
    x = ember.tensor([1.0, -2.0, 3.0], device="cpu", requires_grad=True)
    y = (x.to(device) * ember.tensor([2.0, 3.0, 4.0], device=device)).sum()
    y.backward()
    assert x.grad.device == ember.device("cpu") and x.grad.tolist() == [2.0, 3.0, 4.0]


def test_module_to_moves_parameters_and_keeps_their_identity(device):
    model = ember.nn.Linear(3, 2, device="cpu")
    weight = model.weight
    assert model.to(device, non_blocking=True) is model and model.weight is weight
    assert all(p.device == device for p in model.parameters())


def test_optimizer_state_follows_parameters_that_moved(device):
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2, device="cpu")
    opt = ember.optim.Adam(model.parameters(), lr=0.1)
    x = np.ones((4, 3), np.float32)
    model(ember.tensor(x, device="cpu")).sum().backward()
    opt.step()
    model.to(device)
    opt.zero_grad()
    model(ember.tensor(x, device=device)).sum().backward()
    opt.step()
    for p in model.parameters():
        state = opt.state[p]
        assert state["exp_avg"].device == device and state["exp_avg_sq"].device == device
        assert state["step"].device == ember.device("cpu") and state["step"].item() == 2
        assert np.isfinite(p.detach().cpu().numpy()).all()


def test_sgd_momentum_buffer_follows_parameters_that_moved(device):
    p = ember.nn.Parameter(ember.ones(2, device="cpu"))
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = ember.ones(2, device="cpu")
    opt.step()
    with ember.no_grad():
        p.data = p.data.to(device)
    p.grad = ember.ones(2, device=device)
    opt.step()
    assert opt.state[p]["momentum_buffer"].device == device
    np.testing.assert_allclose(p.detach().cpu().numpy(), [1 - 0.1 - 0.1 * 1.9] * 2, rtol=1e-6)
