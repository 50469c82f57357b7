"""ember.optim against numpy references of PyTorch's documented update rules (and torch.optim itself
where torch is installed): every optimizer and option, param groups, state dicts, hooks, errors."""
import numpy as np
import pytest

import ember
from ember import optim

# ---- the problem: f(w) = 0.5 * ||A w - b||^2 in float64 -------------------------------------------
_RNG = np.random.default_rng(1234)
A = _RNG.standard_normal((6, 4))
B = _RNG.standard_normal(6)
W0 = _RNG.standard_normal(4)
STEPS = 5


def _grad(w):
    return A.T @ (A @ w - B)


def _run_ember(name, kwargs, device, steps=STEPS):
    w = ember.tensor(W0, dtype=ember.float64, device=device, requires_grad=True)
    a, b = ember.tensor(A, device=device), ember.tensor(B, device=device)
    opt = getattr(optim, name)([w], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        r = a @ w - b
        (0.5 * (r * r).sum()).backward()
        opt.step()
    return w.detach().cpu().numpy()


# ---- numpy references, transcribed from the algorithm boxes of PyTorch's documentation ----------------
def ref_sgd(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    w, buf = W0.copy(), None
    for _ in range(STEPS):
        g = -_grad(w) if maximize else _grad(w)
        g = g + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
    return w


def ref_adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
             decoupled_weight_decay=False):
    b1, b2 = betas
    w, m, v, vmax = W0.copy(), 0.0, 0.0, 0.0
    for t in range(1, STEPS + 1):
        g = -_grad(w) if maximize else _grad(w)
        if decoupled_weight_decay:
            w = w - lr * weight_decay * w
        else:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            v_hat = vmax / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def ref_adamw(weight_decay=1e-2, **kw):
    return ref_adam(weight_decay=weight_decay, decoupled_weight_decay=True, **kw)


def ref_rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False):
    w, v, gavg, buf = W0.copy(), 0.0, 0.0, 0.0
    for _ in range(STEPS):
        g = -_grad(w) if maximize else _grad(w)
        g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            gavg = alpha * gavg + (1 - alpha) * g
            v_tilde = v - gavg * gavg
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            w = w - lr * buf
        else:
            w = w - lr * g / (np.sqrt(v_tilde) + eps)
    return w


def ref_adagrad(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False):
    w, s = W0.copy(), np.full(4, float(initial_accumulator_value))
    for t in range(1, STEPS + 1):
        g = -_grad(w) if maximize else _grad(w)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * w
        s = s + g * g
        w = w - lr_t * g / (np.sqrt(s) + eps)
    return w


def ref_adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    w, v, u = W0.copy(), 0.0, 0.0
    for _ in range(STEPS):
        g = -_grad(w) if maximize else _grad(w)
        g = g + weight_decay * w
        v = v * rho + g * g * (1 - rho)
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = u * rho + delta * delta * (1 - rho)
        w = w - lr * delta
    return w


def ref_adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
    b1, b2 = betas
    w, m, u = W0.copy(), 0.0, 0.0
    for t in range(1, STEPS + 1):
        g = -_grad(w) if maximize else _grad(w)
        g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        w = w - lr * m / ((1 - b1 ** t) * u)
    return w


def ref_nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    w, m, v, mu_prod = W0.copy(), 0.0, 0.0, 1.0
    for t in range(1, STEPS + 1):
        g = -_grad(w) if maximize else _grad(w)
        if weight_decay:
            if decoupled_weight_decay:
                w = w - lr * weight_decay * w
            else:
                g = g + weight_decay * w
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = mu_next * m / (1 - mu_prod * mu_next) + (1 - mu) * g / (1 - mu_prod)
        v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


REFERENCES = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "RMSprop": ref_rmsprop, "Adagrad": ref_adagrad,
              "Adadelta": ref_adadelta, "Adamax": ref_adamax, "NAdam": ref_nadam}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.2, maximize=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, weight_decay=0.3, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict(lr=0.1)),
    ("Adamax", dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.1)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


def _case_id(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_five_steps_match_the_documented_update_rule(case, device):
    name, kw = case
    np.testing.assert_allclose(_run_ember(name, kw, device), REFERENCES[name](**kw), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_five_steps_match_torch_optim(case, device):
    torch = pytest.importorskip("torch")
    name, kw = case
    w = torch.tensor(W0, requires_grad=True)
    a, b = torch.tensor(A), torch.tensor(B)
    opt = getattr(torch.optim, name)([w], **kw)
    for _ in range(STEPS):
        opt.zero_grad()
        (0.5 * ((a @ w - b) ** 2).sum()).backward()
        opt.step()
    np.testing.assert_allclose(_run_ember(name, kw, device), w.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_optimizers_keep_float32_parameters_float32_and_move_them(device):
    for name in REFERENCES:
        w = ember.tensor([1.0, -2.0], device=device, requires_grad=True)
        opt = getattr(optim, name)([w], lr=0.1)
        for _ in range(2):
            w.grad = ember.tensor([0.5, 0.25], device=device)
            opt.step()
        assert w.dtype == ember.float32 and w.device == device, name
        assert np.all(w.detach().cpu().numpy() != [1.0, -2.0]), name
        for value in opt.state[w].values():
            assert value.dtype in (ember.float32, ember.float64)


def test_defaults_are_pytorchs():
    w = [ember.zeros(2, requires_grad=True)]
    expected = {
        "SGD": dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False),
        "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False),
        "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
        "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False),
        "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10),
        "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0),
        "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
        "NAdam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                      decoupled_weight_decay=False),
    }
    for name, defaults in expected.items():
        group = getattr(optim, name)(w).param_groups[0]
        for key, value in defaults.items():
            assert group[key] == value, (name, key)


@pytest.mark.parametrize("name, kwargs, message", [
    ("SGD", dict(lr=-1.0), "Invalid learning rate"),
    ("SGD", dict(momentum=-0.1), "Invalid momentum value"),
    ("SGD", dict(weight_decay=-1), "Invalid weight_decay value"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
    ("AdamW", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value"),
])
def test_invalid_hyperparameters_raise_value_error(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([ember.zeros(2, requires_grad=True)], **kwargs)


# ---- param groups ----------------------------------------------------------------------------------
def test_param_groups_use_their_own_options_and_fall_back_to_defaults(device):
    w1 = ember.tensor([1.0, 1.0], device=device, requires_grad=True)
    w2 = ember.tensor([1.0, 1.0], device=device, requires_grad=True)
    opt = optim.SGD([{"params": [w1]}, {"params": w2, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["params"] == [w2]
    for _ in range(2):
        w1.grad = ember.ones(2, device=device)
        w2.grad = ember.ones(2, device=device)
        opt.step()
    np.testing.assert_allclose(w1.detach().cpu().numpy(), [0.8, 0.8])
    np.testing.assert_allclose(w2.detach().cpu().numpy(), [1 - 0.5 - 0.5 * 1.9] * 2)
    assert "momentum_buffer" not in opt.state[w1] and "momentum_buffer" in opt.state[w2]


def test_add_param_group_appends_a_group_with_defaults():
    w1, w2 = ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)
    opt = optim.Adam([w1], lr=0.01)
    opt.add_param_group({"params": w2, "lr": 0.1})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("make, error, message", [
    (lambda w, v: [{"params": {w, v}}], TypeError, "ordered collections, but the ordering of tensors in sets"),
    (lambda w, v: [{"params": [w]}, {"params": [w, v]}], ValueError, "some parameters appear in more than one"),
    (lambda w, v: [w, 3.0], TypeError, "optimizer can only optimize Tensors"),
    (lambda w, v: [w * 2], ValueError, "can't optimize a non-leaf Tensor"),
    (lambda w, v: [], ValueError, "optimizer got an empty parameter list"),
    (lambda w, v: w, TypeError, "should be an iterable of Tensors or dicts"),
    (lambda w, v: [("a", w), v], ValueError, "all optimizer params should be with/without names"),
    (lambda w, v: [{"params": [("a", w)]}, {"params": [v]}], ValueError, "with/without names"),
])
def test_bad_params_raise_pytorchs_errors(make, error, message):
    w, v = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    with pytest.raises(error, match=message):
        optim.SGD(make(w, v), lr=0.1)


def test_required_option_missing_from_a_group_raises():
    from ember.optim.optimizer import Optimizer, required

    class Needy(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            return None

    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Needy([ember.zeros(2, requires_grad=True)])
    assert Needy([{"params": [ember.zeros(2, requires_grad=True)], "lr": 0.1}]).param_groups[0]["lr"] == 0.1


def test_named_parameters_are_kept_as_param_names():
    w, v = ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)
    opt = optim.SGD([("w", w), ("v", v)], lr=0.1)
    assert opt.param_groups[0]["params"] == [w, v]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "v"]


def test_works_with_nn_parameters_and_trains_a_linear_model(device):
    nn = pytest.importorskip("ember.nn")
    ember.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    x = ember.tensor(_RNG.standard_normal((32, 3)), dtype=ember.float32, device=device)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]], device=device) + 0.3
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


# ---- zero_grad, closures, skipped parameters, versions ---------------------------------------------
def test_zero_grad_sets_none_by_default_or_zeros_in_place(device):
    w = ember.ones(3, device=device, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and np.all(grad.cpu().numpy() == 0)
    opt.zero_grad()
    assert w.grad is None


def test_step_with_closure_evaluates_it_with_grad_enabled_and_returns_its_loss(device):
    w = ember.tensor([3.0], device=device, requires_grad=True)
    opt = optim.SGD([w], lr=0.25)
    calls = []

    def closure():
        calls.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and loss.item() == 9.0
    assert w.item() == pytest.approx(3.0 - 0.25 * 6.0)
    assert opt.step() is None


def test_parameters_without_grad_are_skipped_and_get_no_state(device):
    w, v = ember.ones(2, device=device, requires_grad=True), ember.ones(2, device=device, requires_grad=True)
    opt = optim.Adam([w, v], lr=0.1)
    w.grad = ember.ones(2, device=device)
    opt.step()
    assert np.all(v.detach().cpu().numpy() == 1.0) and len(opt.state[v]) == 0
    assert opt.state[w]["step"].item() == 1.0


def test_a_step_bumps_the_parameter_version_so_stale_graphs_refuse_backward(device):
    for name in ("SGD", "Adam", "RMSprop"):
        w = ember.ones(2, device=device, requires_grad=True)
        opt = getattr(optim, name)([w], lr=0.1)
        y = (w * w).sum()
        w.grad = ember.ones(2, device=device)
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_adagrad_creates_its_state_with_the_optimizer(device):
    w = ember.zeros(2, device=device, requires_grad=True)
    state = optim.Adagrad([w], initial_accumulator_value=0.25).state_dict()["state"][0]
    assert state["step"].item() == 0 and np.all(state["sum"].numpy() == 0.25)


# ---- state_dict ----------------------------------------------------------------------------------------
def _train(opt, params, steps, device):
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = ember.tensor(np.sin(np.arange(p.numel()) + 3 * k + i).reshape(p.shape), dtype=p.dtype,
                                  device=device)
        opt.step()


@pytest.mark.parametrize("case", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1, amsgrad=True)),
                                  ("AdamW", dict(lr=0.1)), ("RMSprop", dict(centered=True, momentum=0.5)),
                                  ("Adagrad", dict(lr=0.1)), ("Adadelta", dict()), ("Adamax", dict(lr=0.1)),
                                  ("NAdam", dict(lr=0.1))], ids=_case_id)
def test_state_dict_round_trip_continues_identically(case, device):
    name, kw = case
    make = lambda: [ember.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True),  # noqa: E731
                    ember.tensor([[0.5, -0.5]], device=device, requires_grad=True)]
    p1 = make()
    o1 = getattr(optim, name)([{"params": p1[:1]}, {"params": p1[1:], "lr": 0.05}], **kw)
    _train(o1, p1, 3, device)
    sd = o1.state_dict()
    assert sorted(sd["state"]) == [0, 1] and [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    p2 = make()
    for a, b in zip(p2, p1):
        a.data = b.detach().clone()
    o2 = getattr(optim, name)([{"params": p2[:1]}, {"params": p2[1:]}], **kw)
    o2.load_state_dict(sd)
    assert o2.param_groups[1]["lr"] == 0.05 and o2.param_groups[1]["params"][0] is p2[1]
    _train(o1, p1, 2, device)
    _train(o2, p2, 2, device)
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    for key, value in o2.state[p2[0]].items():  # loaded state is a copy, not an alias of the saved one
        assert value is not o1.state[p1[0]][key]


def test_load_state_dict_casts_floating_state_to_the_parameters_dtype_but_keeps_step(device):
    w64 = ember.zeros(2, dtype=ember.float64, device=device, requires_grad=True)
    opt64 = optim.Adam([w64])
    w64.grad = ember.ones(2, dtype=ember.float64, device=device)
    opt64.step()
    w32 = ember.zeros(2, device=device, requires_grad=True)
    opt32 = optim.Adam([w32])
    opt32.load_state_dict(opt64.state_dict())
    state = opt32.state[w32]
    assert state["exp_avg"].dtype == ember.float32 and state["step"].dtype == opt64.state[w64]["step"].dtype


def test_load_state_dict_rejects_mismatched_groups():
    w, v = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    sd = optim.SGD([w, v], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [w]}, {"params": [v]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([w], lr=0.1).load_state_dict(sd)


def test_load_state_dict_accepts_a_plain_number_step_as_older_checkpoints_have(device):
    w = ember.zeros(2, device=device, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    sd = {"state": {0: {"step": 3, "exp_avg": ember.zeros(2, device=device),
                        "exp_avg_sq": ember.zeros(2, device=device)}},
          "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(sd)
    w.grad = ember.ones(2, device=device)
    opt.step()
    assert opt.state[w]["step"].item() == 4.0


# ---- hooks, repr, plugins ------------------------------------------------------------------------------
def test_step_hooks_run_around_step_and_can_be_removed(device):
    w = ember.zeros(1, device=device, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", o is opt)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", w.grad is not None)))
    w.grad = ember.ones(1, device=device)
    opt.step()
    assert seen == [("pre", True), ("post", True)] and w.item() == -1.0
    pre.remove()
    post.remove()
    opt.step()
    assert len(seen) == 2


def test_a_pre_hook_may_replace_the_step_arguments():
    w = ember.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    opt.register_step_pre_hook(lambda o, args, kwargs: ((lambda: 7.0,), {}))
    assert opt.step() == 7.0


def test_repr_lists_each_group_options_sorted():
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    foreach: None\n    lr: 0.1\n"
                         "    maximize: False\n    momentum: 0.9\n    nesterov: False\n    weight_decay: 0\n)")


def test_plugin_optimizers_are_attributes_of_ember_optim(monkeypatch):
    from ember.plugins import get_plugin_manager

    class Plugged(optim.SGD):
        pass

    monkeypatch.setitem(get_plugin_manager().registry("optimizers").entries, "Plugged", Plugged)
    assert optim.Plugged is Plugged
    with pytest.raises(AttributeError, match="no built-in or plugin optimizer of that name"):
        optim.NoSuchOptimizer  # noqa: B018


def test_user_subclass_with_its_own_step_gets_hooks(device):
    class Halve(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {})

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.mul_(0.5)

    w = ember.ones(2, device=device, requires_grad=True)
    opt = Halve([w])
    called = []
    opt.register_step_post_hook(lambda *a: called.append(True))
    opt.step()
    assert called == [True] and w.detach().numpy().tolist() == [0.5, 0.5]


def test_sgd_step_matches_raw_numpy_momentum_on_an_mlp_sized_model(device):
    rng = np.random.default_rng(0)
    shapes = [(784, 512), (512,), (512, 512), (512,), (512, 10), (10,)]
    host = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    params = [ember.tensor(h, device=device, requires_grad=True) for h in host]
    for p, g in zip(params, grads):
        p.grad = ember.tensor(g, device=device)
    opt = optim.SGD(params, lr=0.01, momentum=0.9)
    bufs = [None] * len(host)
    for _ in range(3):
        opt.step()
        for i, (h, g) in enumerate(zip(host, grads)):
            bufs[i] = g.copy() if bufs[i] is None else bufs[i] * 0.9 + g
            h -= 0.01 * bufs[i]
    for p, h in zip(params, host):
        np.testing.assert_allclose(p.detach().numpy(), h, rtol=1e-6, atol=1e-6)


def test_deepcopy_copies_options_and_state_but_not_hooks(device):
    import copy

    w = ember.ones(2, device=device, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.register_step_post_hook(lambda *a: None)
    w.grad = ember.ones(2, device=device)
    opt.step()
    clone = copy.deepcopy(opt)
    (cw,) = clone.param_groups[0]["params"]
    assert cw is not w and clone.param_groups[0]["lr"] == 0.1 and len(clone._optimizer_step_post_hooks) == 0
    np.testing.assert_array_equal(clone.state[cw]["momentum_buffer"].numpy(), [1.0, 1.0])
