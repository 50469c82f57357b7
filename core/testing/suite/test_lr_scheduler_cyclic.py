"""CyclicLR and CosineAnnealingWarmRestarts: lr (and momentum) sequences against hand-computed values and
against torch.optim.lr_scheduler where torch is installed, fractional epochs, state dicts and errors."""
import math
import warnings

import pytest

import ember
from ember import optim
from ember.optim import lr_scheduler as sched


def _opt(lr=1.0, cls=optim.SGD, groups=1, **kw):
    params = [{"params": [ember.zeros(1, requires_grad=True)]} for _ in range(groups)]
    return cls(params, lr=lr, **kw)


def _trace(opt, scheduler, steps, key="lr"):
    """group 0's `key` (lr, momentum or beta1) after construction and after each of `steps - 1` steps."""
    def value():
        group = opt.param_groups[0]
        return group["betas"][0] if key == "betas" else group[key]
    out = [value()]
    for _ in range(steps - 1):
        opt.step()
        scheduler.step()
        out.append(value())
    return out


def test_cyclic_triangular_lr_and_momentum_values():
    opt = _opt(momentum=0.5)
    s = sched.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2, step_size_down=3)
    assert _trace(opt, s, 8) == pytest.approx([0.1, 0.3, 0.5, 0.5 - 0.4 / 3, 0.1 + 0.4 / 3, 0.1, 0.3, 0.5])
    opt = _opt(momentum=0.5)
    s = sched.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    assert _trace(opt, s, 5, "momentum") == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9])


def test_cyclic_triangular2_halves_each_cycle_and_exp_range_decays_each_iteration():
    opt = _opt(momentum=0.9)
    s = sched.CyclicLR(opt, 0.0, 1.0, step_size_up=1, mode="triangular2")
    assert _trace(opt, s, 7) == pytest.approx([0, 1, 0, 0.5, 0, 0.25, 0])
    opt = _opt(momentum=0.9)
    s = sched.CyclicLR(opt, 0.0, 1.0, step_size_up=2, mode="exp_range", gamma=0.5)
    assert _trace(opt, s, 4) == pytest.approx([0, 0.5 * 0.5, 1 * 0.25, 0.5 * 0.125])


def test_cyclic_custom_scale_fn_and_state_dict():
    class Halving:
        def __init__(self):
            self.base = 2.0

        def __call__(self, x):
            return 1 / self.base ** (x - 1)

    opt = _opt(momentum=0.9)
    fn = Halving()
    s = sched.CyclicLR(opt, 0.0, 1.0, step_size_up=1, scale_fn=fn)
    assert _trace(opt, s, 4) == pytest.approx([0, 1, 0, 0.5])
    state = s.state_dict()
    assert state["_scale_fn_custom"] == {"base": 2.0} and "optimizer" not in state
    fn.base = 3.0
    s.load_state_dict(state)
    assert fn.base == 2.0
    lam = sched.CyclicLR(_opt(momentum=0.9), 0.0, 1.0, scale_fn=lambda x: 1.0)
    assert lam.state_dict()["_scale_fn_custom"] is None


def test_cyclic_errors():
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        sched.CyclicLR(_opt(momentum=0.9), 0.1, 1.0, mode="square")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        sched.CyclicLR(_opt(cls=optim.Adagrad), 0.1, 1.0)
    with pytest.raises(ValueError, match="base_lr must have the same length as optimizer.param_groups"):
        sched.CyclicLR(_opt(momentum=0.9, groups=2), [0.1, 0.2, 0.3], 1.0)


def test_warm_restarts_values_with_t_mult():
    opt = _opt()
    s = sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.1)

    def cos(t, period):
        return 0.1 + 0.9 * (1 + math.cos(math.pi * t / period)) / 2
    expected = [cos(0, 2), cos(1, 2), cos(0, 4), cos(1, 4), cos(2, 4), cos(3, 4), cos(0, 8)]
    assert _trace(opt, s, 7) == pytest.approx(expected)


def test_warm_restarts_fractional_epochs():
    opt = _opt()
    s = sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    s.step(2.5)  # the second period, of 4 epochs, 0.5 into it
    assert opt.param_groups[0]["lr"] == pytest.approx((1 + math.cos(math.pi * 0.5 / 4)) / 2)
    assert s.last_epoch == 2 and s.T_i == 4
    s.step(1.5)
    assert opt.param_groups[0]["lr"] == pytest.approx((1 + math.cos(math.pi * 1.5 / 2)) / 2)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        s.step(-1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(T_0=0), "Expected positive integer T_0"),
    (dict(T_0=2.0), "Expected positive integer T_0"),
    (dict(T_0=2, T_mult=0), "Expected integer T_mult >= 1"),
    (dict(T_0=2, eta_min="0"), "Expected float or int eta_min"),
])
def test_warm_restarts_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sched.CosineAnnealingWarmRestarts(_opt(), **kwargs)


CYCLIC_CASES = [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3),
    dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=2, step_size_down=5, mode="triangular2"),
    dict(base_lr=0.01, max_lr=[0.1, 0.3], step_size_up=4, mode="exp_range", gamma=0.9),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lambda x: 0.8 ** x, scale_mode="iterations"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, cycle_momentum=False),
]


@pytest.mark.parametrize("kwargs", CYCLIC_CASES)
@pytest.mark.parametrize("adam", [False, True])
def test_cyclic_matches_torch(kwargs, adam):
    torch = pytest.importorskip("torch")
    ours_opt = _opt(cls=optim.Adam, groups=2) if adam else _opt(groups=2, momentum=0.9)
    params = [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(2)]
    theirs_opt = torch.optim.Adam(params, lr=1.0) if adam else torch.optim.SGD(params, lr=1.0, momentum=0.9)
    ours = sched.CyclicLR(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.CyclicLR(theirs_opt, **kwargs)
    key = "betas" if adam else "momentum"
    for _ in range(20):
        for a, b in zip(ours_opt.param_groups, theirs_opt.param_groups):
            assert a["lr"] == pytest.approx(b["lr"], rel=1e-12)
            assert a[key] == pytest.approx(b[key], rel=1e-12)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("T_0, T_mult, eta_min", [(3, 1, 0.0), (2, 2, 0.05), (1, 3, 0.1)])
def test_warm_restarts_match_torch(T_0, T_mult, eta_min):
    torch = pytest.importorskip("torch")
    ours_opt = _opt(lr=0.5)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    ours = sched.CosineAnnealingWarmRestarts(ours_opt, T_0, T_mult, eta_min)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs_opt, T_0, T_mult, eta_min)
    for _ in range(15):
        assert ours_opt.param_groups[0]["lr"] == pytest.approx(theirs_opt.param_groups[0]["lr"], rel=1e-12)
        ours.step()
        theirs.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (0.3, 4.7, 13.25, 2.0, 30.5):
            ours.step(epoch)
            theirs.step(epoch)
            assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
            assert ours.last_epoch == theirs.last_epoch
