"""ember.optim.lr_scheduler: learning-rate sequences against hand-computed values (and against
torch.optim.lr_scheduler where torch is installed), state dicts, momentum cycling and errors."""
import math
import warnings

import numpy as np
import pytest

import ember
from ember import optim
from ember.optim import lr_scheduler as sched


def _opt(lr=1.0, cls=optim.SGD, groups=1, **kw):
    params = [{"params": [ember.zeros(1, requires_grad=True)]} for _ in range(groups)]
    return cls(params, lr=lr, **kw)


def _lrs(opt, scheduler, epochs, metric=None):
    """The lr of group 0 at epochs 0 .. epochs-1 (the optimizer steps before the scheduler, as documented)."""
    out = [opt.param_groups[0]["lr"]]
    for _ in range(epochs - 1):
        opt.step()
        scheduler.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def _cos(base, eta_min, t, t_max):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


# every entry: (name, constructor kwargs, lrs of epochs 0.. for base lr 1.0, computed from the docs' formulas)
SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.1), [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01]),
    ("MultiStepLR", dict(milestones=[2, 5], gamma=0.5), [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]),
    ("MultiStepLR", dict(milestones=[2, 2, 4], gamma=0.5), [1, 1, 0.25, 0.25, 0.125, 0.125]),
    ("ExponentialLR", dict(gamma=0.9), [0.9 ** e for e in range(8)]),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.1), [_cos(1, 0.1, e, 4) for e in range(12)]),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (e + 1)), [1 / (e + 1) for e in range(6)]),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.8), [0.8 ** e for e in range(6)]),
    ("LinearLR", dict(start_factor=0.25, end_factor=1.0, total_iters=4),
     [0.25 + 0.75 * min(e, 4) / 4 for e in range(8)]),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.5, total_iters=2), [1, 0.75, 0.5, 0.5, 0.5]),
    ("ConstantLR", dict(factor=0.5, total_iters=3), [0.5, 0.5, 0.5, 1, 1, 1]),
    ("PolynomialLR", dict(total_iters=4, power=2.0), [(1 - min(e, 4) / 4) ** 2 for e in range(7)]),
]


@pytest.mark.parametrize("name, kwargs, expected", SCHEDULES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_lr_sequence_matches_the_documented_formula(name, kwargs, expected):
    opt = _opt()
    scheduler = getattr(sched, name)(opt, **kwargs)
    np.testing.assert_allclose(_lrs(opt, scheduler, len(expected)), expected, rtol=1e-12, atol=1e-15)
    assert scheduler.get_last_lr() == [opt.param_groups[0]["lr"]]
    assert opt.param_groups[0]["initial_lr"] == 1.0


@pytest.mark.parametrize("name, kwargs, expected", SCHEDULES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_lr_sequence_matches_torch(name, kwargs, expected):
    torch = pytest.importorskip("torch")
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    opt = _opt(lr=0.5)
    es = getattr(sched, name)(opt, **kwargs)
    np.testing.assert_allclose(_lrs(opt, es, 15), _lrs(topt, ts, 15), rtol=1e-12)


def test_each_group_is_scheduled_from_its_own_lr_and_lambda_lists_have_one_entry_per_group():
    opt = optim.SGD([{"params": [ember.zeros(1, requires_grad=True)], "lr": 1.0},
                     {"params": [ember.zeros(1, requires_grad=True)], "lr": 0.1}], lr=0.5)
    scheduler = sched.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: e + 1])
    for _ in range(3):
        opt.step()
        scheduler.step()
    assert scheduler.get_last_lr() == [0.125, pytest.approx(0.4)]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        sched.LambdaLR(opt, [lambda e: 1.0])


def test_schedulers_chain_multiplicatively_on_one_optimizer():
    opt = _opt()
    s1 = sched.StepLR(opt, step_size=2, gamma=0.5)
    s2 = sched.ExponentialLR(opt, gamma=0.9)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(4):
        opt.step()
        s1.step()
        s2.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.5 ** (e // 2) * 0.9 ** e for e in range(5)])


def test_sequential_lr_switches_at_the_milestones():
    opt = _opt(lr=0.05)
    s = sched.SequentialLR(opt, [sched.ConstantLR(opt, factor=0.1, total_iters=2), sched.ExponentialLR(opt, gamma=0.9)],
                           milestones=[2])
    np.testing.assert_allclose(_lrs(opt, s, 6), [0.005, 0.005, 0.05, 0.045, 0.0405, 0.03645])


def test_chained_scheduler_steps_all_of_its_schedulers():
    opt = _opt()
    s = sched.ChainedScheduler([sched.ConstantLR(opt, factor=0.1, total_iters=2), sched.ExponentialLR(opt, gamma=0.9)])
    np.testing.assert_allclose(_lrs(opt, s, 6), [0.1, 0.09, 0.81, 0.729, 0.6561, 0.59049])


def test_composed_schedulers_reject_reduce_on_plateau_and_foreign_optimizers():
    opt, other = _opt(), _opt()
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="belong to the same optimizer"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="number of milestones"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2)], milestones=[3])


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_composed_schedulers_match_torch(kind):
    torch = pytest.importorskip("torch")

    def build(mod, opt):
        a = mod.LinearLR(opt, start_factor=0.1, total_iters=3)
        b = mod.CosineAnnealingLR(opt, T_max=5)
        return mod.SequentialLR(opt, [a, b], milestones=[3]) if kind == "sequential" else mod.ChainedScheduler([a, b])

    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    opt = _opt(lr=0.5)
    np.testing.assert_allclose(_lrs(opt, build(sched, opt), 12),
                               _lrs(topt, build(torch.optim.lr_scheduler, topt), 12), rtol=1e-12)


# ---- OneCycleLR ------------------------------------------------------------------------------------
def test_one_cycle_lr_rises_to_max_lr_then_anneals_to_min_lr_with_inverse_momentum():
    opt = _opt(lr=0.1, momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    lrs, moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(9):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    initial, min_lr = 1.0 / 25, 1.0 / 25 / 1e4
    # phase 1: steps 0..2 (pct_start * total - 1), cosine from initial to max; phase 2: steps 2..9 to min_lr
    expected = [_cos(initial, 1.0, e / 2, 1) for e in range(3)] + [
        min_lr + (1.0 - min_lr) * (1 + math.cos(math.pi * (e - 2) / 7)) / 2 for e in range(3, 10)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert lrs[0] == pytest.approx(initial) and lrs[2] == 1.0 and lrs[-1] == pytest.approx(min_lr)
    assert moms[0] == 0.95 and moms[2] == pytest.approx(0.85) and moms[-1] == pytest.approx(0.95)
    s.step()  # epoch 10 == total_steps is still computed (the phase's formula extrapolated), as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        s.step()


def test_one_cycle_lr_linear_three_phase_and_adam_betas():
    opt = _opt(cls=optim.Adam, lr=0.1)
    s = sched.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=5, anneal_strategy="linear", three_phase=True,
                         div_factor=10.0, final_div_factor=100.0)
    lrs, beta1 = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["betas"][0]]
    for _ in range(9):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
        beta1.append(opt.param_groups[0]["betas"][0])
    # phases end at steps 2 (up to max), 4 (down to initial), 9 (down to initial / final_div_factor)
    expected = [0.1, 0.55, 1.0, 0.55, 0.1] + [0.1 + (0.001 - 0.1) * (e - 4) / 5 for e in range(5, 10)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    np.testing.assert_allclose(beta1[:5], [0.95, 0.9, 0.85, 0.9, 0.95])
    assert opt.param_groups[0]["betas"][1] == 0.999


def test_one_cycle_lr_matches_torch_and_validates_its_arguments():
    torch = pytest.importorskip("torch")
    for kw in (dict(), dict(anneal_strategy="linear", three_phase=True), dict(cycle_momentum=False)):
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.5, total_steps=12, **kw)
        opt = _opt(lr=0.1, momentum=0.9)
        es = sched.OneCycleLR(opt, max_lr=0.5, total_steps=12, **kw)
        np.testing.assert_allclose(_lrs(opt, es, 12), _lrs(topt, ts, 12), rtol=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(topt.param_groups[0]["momentum"])
    with pytest.raises(ValueError, match="either total_steps OR"):
        sched.OneCycleLR(_opt(), max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        sched.OneCycleLR(_opt(), max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        sched.OneCycleLR(_opt(cls=optim.Adagrad), max_lr=1.0, total_steps=5)


# ---- ReduceLROnPlateau -----------------------------------------------------------------------------
def _plateau(metrics, **kw):
    opt = _opt()
    s = sched.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        s.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out, s


def test_reduce_on_plateau_waits_patience_epochs_then_multiplies_by_factor():
    lrs, s = _plateau([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5], patience=2, factor=0.5)
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert s.get_last_lr() == [0.25] and s.best == 0.5


@pytest.mark.parametrize("kwargs, metrics, expected", [
    (dict(mode="max", patience=0, factor=0.1), [1, 2, 2, 3, 2], [1, 1, 0.1, 0.1, 0.01]),
    (dict(patience=0, threshold=0.1, threshold_mode="rel"), [1, 0.95, 0.8], [1, 0.1, 0.1]),
    (dict(patience=0, threshold=0.1, threshold_mode="abs"), [1, 0.95, 0.85], [1, 0.1, 0.1]),
    (dict(patience=0, cooldown=2), [1, 2, 2, 2, 2], [1, 0.1, 0.1, 0.1, 0.01]),
    (dict(patience=0, min_lr=0.05), [1, 2, 3, 4], [1, 0.1, 0.05, 0.05]),
    (dict(patience=0, factor=0.999999, eps=1e-3), [1, 2, 3], [1, 1, 1]),
])
def test_reduce_on_plateau_options(kwargs, metrics, expected):
    np.testing.assert_allclose(_plateau(metrics, **kwargs)[0], expected)


def test_reduce_on_plateau_matches_torch_and_round_trips_its_state():
    torch = pytest.importorskip("torch")
    metrics = [5, 4, 4, 4.5, 4, 3, 3, 3, 3, 3, 2.9999, 3, 3, 1]
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=1, cooldown=1, factor=0.5, min_lr=0.1)
    tl = []
    for m in metrics:
        ts.step(m)
        tl.append(topt.param_groups[0]["lr"])
    el, es = _plateau(metrics[:7], patience=1, cooldown=1, factor=0.5, min_lr=0.1)
    opt2 = _opt()
    es2 = sched.ReduceLROnPlateau(opt2, patience=1, cooldown=1, factor=0.5, min_lr=0.1)
    es2.load_state_dict(es.state_dict())
    opt2.param_groups[0]["lr"] = el[-1]
    for m in metrics[7:]:
        es2.step(m)
        el.append(opt2.param_groups[0]["lr"])
    np.testing.assert_allclose(el, tl)


def test_reduce_on_plateau_rejects_bad_options():
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        sched.ReduceLROnPlateau(_opt(), mode="up")
    with pytest.raises(ValueError, match="threshold mode 'x' is unknown"):
        sched.ReduceLROnPlateau(_opt(), threshold_mode="x")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        sched.ReduceLROnPlateau(_opt(groups=2), min_lr=[0.1])


# ---- state, warnings, errors -----------------------------------------------------------------------
class _Decay:
    """A callable object: its attributes are saved in LambdaLR's state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


@pytest.mark.parametrize("make", [
    lambda o: sched.StepLR(o, step_size=2, gamma=0.5),
    lambda o: sched.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=20),
    lambda o: sched.LinearLR(o, start_factor=0.2, total_iters=6),
    lambda o: sched.SequentialLR(o, [sched.ConstantLR(o, factor=0.5, total_iters=2),
                                     sched.ExponentialLR(o, gamma=0.8)], milestones=[3]),
])
def test_state_dict_round_trip_continues_the_schedule(make):
    opt1 = _opt(momentum=0.9)
    s1 = make(opt1)
    _lrs(opt1, s1, 4)
    opt2 = _opt(momentum=0.9)
    s2 = make(opt2)
    s2.load_state_dict(s1.state_dict())
    opt2.load_state_dict(opt1.state_dict())
    assert "optimizer" not in s1.state_dict()
    np.testing.assert_allclose(_lrs(opt2, s2, 6), _lrs(opt1, s1, 6), rtol=1e-12)


def test_lambda_lr_state_dict_saves_callable_objects_but_not_functions():
    opt = _opt(groups=2)
    s = sched.LambdaLR(opt, [_Decay(0.5), lambda e: 1.0])
    state = s.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    other = sched.LambdaLR(_opt(groups=2), [_Decay(0.9), lambda e: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.5


def test_step_with_an_epoch_uses_the_closed_form_with_a_deprecation_warning():
    opt = _opt()
    s = sched.StepLR(opt, step_size=3, gamma=0.1)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        s.step(7)
    assert s.last_epoch == 7 and opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_stepping_the_scheduler_before_the_optimizer_warns():
    opt = _opt()
    s = sched.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    opt2 = _opt()
    s2 = sched.ExponentialLR(opt2, gamma=0.5)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_calling_get_lr_directly_warns_to_use_get_last_lr():
    s = sched.StepLR(_opt(), step_size=2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()


def test_resuming_with_last_epoch_needs_initial_lr_and_continues_from_it():
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        sched.StepLR(_opt(), step_size=2, last_epoch=3)
    opt = _opt()
    opt.param_groups[0]["initial_lr"] = 1.0
    s = sched.ExponentialLR(opt, gamma=0.5, last_epoch=2)
    assert s.last_epoch == 3 and s.base_lrs == [1.0]


def test_scheduler_requires_an_optimizer_and_validates_factors():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="Constant multiplicative factor"):
        sched.ConstantLR(_opt(), factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        sched.LinearLR(_opt(), start_factor=0.0)
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        sched.MultiplicativeLR(_opt(), 0.5)
