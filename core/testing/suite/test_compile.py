"""`ember.compile`: a recorded step replays with results equal to eager ones bit for bit (losses,
parameters, gradients, optimizer state, random streams), guards re-record, graph breaks are reported."""
import warnings

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.compiler import GraphBreak, OptimizedModule

STEPS = 5


class _LastStep(nn.Module):
    """LSTM over a sequence, then a linear head on the last output."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(5, 6, num_layers=2, dropout=0.3, batch_first=True)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class _Encoder(nn.Module):
    """A transformer encoder layer over a sequence, mean-pooled, then a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.2, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.layer(x).mean(1))


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(4 * 3 * 3, 3))


MODELS = {
    "mlp": (_mlp, (6,), lambda p: optim.SGD(p, lr=0.1, momentum=0.9)),
    "cnn": (_cnn, (1, 6, 6), lambda p: optim.Adam(p, lr=0.01)),
    "lstm": (_LastStep, (4, 5), lambda p: optim.Adam(p, lr=0.01)),
    "transformer": (_Encoder, (4, 8), lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
}


def _batches(shape, device, n=STEPS, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return [(ember.tensor(rng.standard_normal((batch, *shape)), dtype=ember.float32, device=device),
             ember.tensor(rng.integers(0, 3, batch), device=device)) for _ in range(n)]


def _train(name, device, compiled, batches, scheduler=False):
    make_model, _, make_opt = MODELS[name]
    ember.manual_seed(0)
    model = make_model().to(device)
    opt = make_opt(model.parameters())
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if scheduler else None
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = ember.compile(step, fullgraph=True) if compiled else step
    losses = []
    for x, y in batches:
        losses.append(fn(x, y))
        if sched is not None:
            sched.step()
    state = [p.detach() for p in model.parameters()] + [p.grad for p in model.parameters()] + list(model.buffers())
    state += [v for s in opt.state.values() for v in s.values() if isinstance(v, ember.Tensor)]
    return losses, state, ember.rand(4, device=device), model


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.shape == v.shape and u.dtype == v.dtype
        np.testing.assert_array_equal(u.detach().cpu().numpy(), v.detach().cpu().numpy())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_training_steps_equal_eager_steps_bitwise(device, name):
    batches = _batches(MODELS[name][1], device)
    eager_losses, eager_state, eager_draw, _ = _train(name, device, False, batches)
    losses, state, draw, _ = _train(name, device, True, batches)
    assert all(loss.grad_fn is None for loss in losses[2:])  # calls 1-2 record (new state), later ones replay
    _same(losses, eager_losses)
    _same(state, eager_state)  # parameters, gradients, buffers (batch norm statistics), optimizer state
    _same([draw], [eager_draw])  # the random stream advanced exactly as eagerly


def test_compiled_step_replays_without_graph_after_recording(device):
    batches = _batches((6,), device)
    losses, _, _, _ = _train("mlp", device, True, batches)
    assert losses[0].grad_fn is not None  # recorded: an eager run
    assert all(loss.grad_fn is None and not loss.requires_grad for loss in losses[2:])  # replayed


def test_lr_scheduler_stepping_between_compiled_calls_takes_effect(device):
    batches = _batches((6,), device)
    eager = _train("mlp", device, False, batches, scheduler=True)
    compiled = _train("mlp", device, True, batches, scheduler=True)
    _same(compiled[0], eager[0])
    _same(compiled[1], eager[1])


def test_new_batch_size_records_again_and_stays_exact(device):
    batches = _batches((6,), device, n=2) + _batches((6,), device, n=2, batch=7, seed=1) + _batches((6,), device, n=2)
    eager = _train("mlp", device, False, batches)
    compiled = _train("mlp", device, True, batches)
    _same(compiled[0], eager[0])
    _same(compiled[1], eager[1])
    assert compiled[0][-1].shape == ()


def test_compiled_inference_forward_replays_and_reads_live_parameters(device):
    ember.manual_seed(0)
    model = _mlp().to(device).eval()
    fwd = ember.compile(model)
    assert isinstance(fwd, OptimizedModule) and fwd._orig_mod is model and fwd.training is False
    x = _batches((6,), device, n=1)[0][0]
    with ember.no_grad():
        outs = [fwd(x) for _ in range(3)]
        _same(outs, [model(x)] * 3)
        model[0].weight.mul_(2)  # in place: a replay reads the parameters as they are now
        _same([fwd(x)], [model(x)])


def test_train_eval_and_grad_mode_are_guards(device):
    ember.manual_seed(0)
    model = _mlp().to(device)
    fwd = ember.compile(model)
    x = _batches((6,), device, n=1)[0][0]
    with ember.no_grad():
        model.eval()
        ev = [fwd(x) for _ in range(2)]
        model.train()
        ember.manual_seed(1)
        tr = [fwd(x) for _ in range(2)]
        ember.manual_seed(1)
        tr_eager = [model(x) for _ in range(2)]
        model.eval()
        _same(ev + tr + [fwd(x)], [model(x)] * 2 + tr_eager + [model(x)])
    out = fwd(x)  # grad enabled: the output keeps its graph, so the call runs eagerly
    assert out.grad_fn is not None
    out.sum().backward()
    assert model[0].weight.grad is not None


def test_input_gradient_of_a_compiled_function_equals_eager(device):
    c = ember.tensor([0.5, -1.0, 2.0], device=device)

    def f(x):
        y = (x * c).tanh() + x
        y.sum().backward()
        return y

    fc = ember.compile(f)
    for i in range(3):
        x1 = ember.tensor([1.0, 2.0, float(i)], device=device, requires_grad=True)
        x2 = ember.tensor([1.0, 2.0, float(i)], device=device, requires_grad=True)
        _same([fc(x1), x1.grad], [f(x2), x2.grad])


def _reads_a_value(x):
    y = x * 2
    if y.sum() > 0:  # needs the value while recording
        return y
    return -y


def test_fullgraph_graph_break_names_the_user_line(device):
    fn = ember.compile(_reads_a_value, fullgraph=True)
    with pytest.raises(GraphBreak, match=r"test_compile\.py:\d+") as info:
        fn(ember.ones(3, device=device))
    line = _reads_a_value.__code__.co_firstlineno + 2
    assert f"test_compile.py:{line}" in str(info.value)


def test_graph_break_falls_back_to_eager_with_one_warning(device):
    fn = ember.compile(_reads_a_value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [fn(ember.full((3,), v, device=device)) for v in (1.0, -1.0, 2.0, -3.0)]
    assert len([w for w in caught if "graph break" in str(w.message)]) == 1
    _same(outs, [_reads_a_value(ember.full((3,), v, device=device)) for v in (1.0, -1.0, 2.0, -3.0)])


def test_cache_size_limit_runs_new_shapes_eagerly_with_one_warning(device):
    fn = ember.compile(lambda x: x * 3 + 1, options={"cache_size_limit": 2})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (1, 2, 3, 4, 3, 1):
            np.testing.assert_array_equal(fn(ember.ones(n, device=device)).cpu().numpy(), np.full(n, 4.0))
    assert len([w for w in caught if "cache_size_limit" in str(w.message)]) == 1


def test_reset_forgets_recordings(device):
    calls = []

    def f(x):
        calls.append(1)
        return x + 1

    fn = ember.compile(f)
    x = ember.ones(2, device=device)
    fn(x), fn(x)
    assert len(calls) == 1  # the second call replayed without running Python
    ember.compiler.reset()
    fn(x)
    assert len(calls) == 2


def test_compile_arguments_follow_torch_compile():
    def f(x):
        return x + 1

    assert ember.compile(f, disable=True) is f
    deco = ember.compile(fullgraph=True, mode="reduce-overhead")
    assert deco(f)(ember.ones(1)).tolist() == [2.0]

    @ember.compile
    def g(x):
        return x * 2

    assert g(ember.ones(1)).tolist() == [2.0] and g.__name__ == "g"
    calls = []
    eager = ember.compile(lambda x: calls.append(1) or x + 1, backend="eager")
    eager(ember.ones(1)), eager(ember.ones(1))
    assert len(calls) == 2  # backend="eager" runs the function every time
    with pytest.raises(ValueError, match="backend"):
        ember.compile(f, backend="tvm")
    with pytest.raises(ValueError, match="dynamic=True"):
        ember.compile(f, dynamic=True)
    with pytest.raises(RuntimeError, match="mode"):
        ember.compile(f, mode="fastest")
    with pytest.raises(RuntimeError, match="option"):
        ember.compile(f, options={"triton.cudagraphs": True})
    with pytest.raises(TypeError, match="function or an nn.Module"):
        ember.compile(3)


def test_manual_seed_between_compiled_calls_reaches_the_replay(device):
    ember.manual_seed(0)
    drop = ember.compile(nn.Dropout(0.5))
    x = ember.ones(32, device=device)
    with ember.no_grad():
        drop(x), drop(x)  # record, replay
        ember.manual_seed(7)
        replayed = drop(x)
        ember.manual_seed(7)
        _same([replayed], [drop._orig_mod(x)])


def test_compiled_function_called_while_recording_is_inlined(device):
    inner = ember.compile(lambda x: x * 2)
    outer = ember.compile(lambda x: inner(x) + 1)
    for v in (1.0, 2.0, 3.0):
        np.testing.assert_array_equal(outer(ember.full((2,), v, device=device)).cpu().numpy(), np.full(2, 2 * v + 1))
    np.testing.assert_array_equal(inner(ember.full((2,), 5.0, device=device)).cpu().numpy(), np.full(2, 10.0))


def test_printing_a_tensor_breaks_the_recording(device):
    def f(x):
        y = x + 1
        print(y)
        return y

    with pytest.raises(GraphBreak, match="host"):
        ember.compile(f, fullgraph=True)(ember.ones(2, device=device))


def test_in_place_update_of_an_input_replays_and_bumps_its_version(device):
    def f(x):
        x.add_(1)
        return x * 2  # reads the updated input: its memory must not be reused for the result

    fc = ember.compile(f)
    x, x_eager = ember.ones(3, device=device), ember.ones(3, device=device)
    for _ in range(4):
        _same([fc(x), x], [f(x_eager), x_eager])
    assert x._version[0] == x_eager._version[0] == 4


def test_gradients_accumulate_across_compiled_calls_as_eagerly(device):
    def run(compile_it):
        ember.manual_seed(0)
        m = nn.Linear(3, 2).to(device)

        def f(x):
            out = m(x)
            out.sum().backward()  # no zero_grad: .grad accumulates
            return {"out": out.detach(), "twice": (out.detach() * 2, x)}

        fn = ember.compile(f) if compile_it else f
        results = []
        for i in range(4):
            x = ember.full((2, 3), float(i), device=device)
            r = fn(x)
            assert r["twice"][1] is x
            results += [r["out"], r["twice"][0], m.weight.grad.clone(), m.bias.grad.clone()]
        return results

    _same(run(True), run(False))


_HELPER_MODEL = None


def _helper_forward(x):
    return _HELPER_MODEL(x)


def test_state_reached_through_a_helper_function_is_guarded(device):
    global _HELPER_MODEL
    ember.manual_seed(0)
    _HELPER_MODEL = _mlp().to(device)
    fn = ember.compile(lambda x: _helper_forward(x) * 1)
    x = _batches((6,), device, n=1)[0][0]
    with ember.no_grad():
        _HELPER_MODEL.eval()
        first = [fn(x) for _ in range(2)]
        _HELPER_MODEL.train()  # a guard of the model the helper uses: records again, with dropout
        ember.manual_seed(3)
        trained = fn(x)
        ember.manual_seed(3)
        _same(first + [trained], [_HELPER_MODEL.eval()(x)] * 2 + [_HELPER_MODEL.train()(x)])


class _Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 3)

    @ember.compile
    def forward(self, x):
        return self.lin(x) * 2


def test_compile_decorates_a_method(device):
    m = _Scaled().to(device)
    x = ember.ones(2, 3, device=device)
    with ember.no_grad():
        _same([m(x), m(x)], [m.lin(x) * 2] * 2)


@pytest.mark.parametrize("op", [lambda x: x[x > 0], lambda x: ember.masked_select(x, x > 0),
                                lambda x: ember.nonzero(x), lambda x: ember.bincount((x > 0).long())],
                         ids=["bool_index", "masked_select", "nonzero", "bincount"])
def test_data_dependent_shapes_break_the_recording(device, op):
    with pytest.raises(GraphBreak, match="test_compile.py"):
        ember.compile(op, fullgraph=True)(ember.tensor([1.0, -2.0, 3.0], device=device))


class _Trainer:
    def __init__(self, device) -> None:
        ember.manual_seed(0)
        self.model = _mlp().to(device)
        self.opt = optim.Adam(self.model.parameters(), lr=0.01)
        self.sched = optim.lr_scheduler.StepLR(self.opt, step_size=1, gamma=0.5)
        self.last_loss = None

    def step(self, x, y):
        self.opt.zero_grad()
        loss = nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        self.sched.step()
        self.last_loss = loss.detach()  # a plain tensor attribute: not state, changes every call
        return loss


def test_compiled_bound_method_reaches_the_objects_state(device):
    batches = _batches((6,), device)
    eager = _Trainer(device)
    eager_losses = [eager.step(x, y) for x, y in batches]
    compiled = _Trainer(device)  # seeds again: the same weights and dropout masks
    step = ember.compile(compiled.step, fullgraph=True)
    losses = [step(x, y) for x, y in batches]
    _same(losses, eager_losses)
    assert losses[-1].grad_fn is None  # replayed
    _same(list(compiled.model.parameters()), list(eager.model.parameters()))
    assert compiled.opt.param_groups[0]["lr"] == eager.opt.param_groups[0]["lr"] == 0.01 * 0.5 ** STEPS


def test_stepping_an_optimizer_the_function_cannot_reach_breaks_the_recording(device):
    ember.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    hidden = {"opts": [[optim.SGD(model.parameters(), lr=0.1)]]}  # deeper than the reachability walk

    def step(x):
        model(x).sum().backward()
        hidden["opts"][0][0].step()

    with pytest.raises(GraphBreak, match="does not reach"):
        ember.compile(step, fullgraph=True)(ember.ones(2, 3, device=device))


def test_arguments_aliasing_each_other_or_the_state_are_guarded(device):
    w = ember.tensor([1.0, 2.0], device=device)

    def f(a, b):
        return a * 2 + b * w

    fn = ember.compile(f)
    x, y = ember.tensor([3.0, 4.0], device=device), ember.tensor([5.0, 6.0], device=device)
    for a, b in [(x, x), (x, x), (x, y), (x, y), (w, y), (w, y), (x, w)]:
        _same([fn(a, b)], [f(a, b)])


def test_discarded_random_draws_still_advance_the_generator(device):
    def f(x):
        ember.rand(3, device=device)  # unused: the replay drops dead calls, never random draws
        return x + 1

    fn = ember.compile(f)
    x = ember.ones(2, device=device)
    ember.manual_seed(0)
    [fn(x) for _ in range(3)]
    after_compiled = ember.rand(3, device=device)
    ember.manual_seed(0)
    [f(x) for _ in range(3)]
    _same([after_compiled], [ember.rand(3, device=device)])


def _random_input(device, seed):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.standard_normal((3, 4)), dtype=ember.float32, device=device)


def _views_and_chains(x):
    t = (x * 2 + 1).tanh()  # an intermediate alive until the last output: kept in a buffer
    z = t * 3 - x
    return z.reshape(-1), t.sum(), z[0], t.mean(0), (t * t + 1) / 2


def test_outputs_of_a_replay_survive_the_next_replay(device):
    fn = ember.compile(_views_and_chains)
    fn(_random_input(device, 0))  # records
    first = fn(_random_input(device, 1))  # replays (and allocates its intermediates' buffers)
    kept = [t.clone() for t in first]
    second = fn(_random_input(device, 2))  # reuses those buffers
    _same(first, kept)
    _same(first, _views_and_chains(_random_input(device, 1)))
    _same(second, _views_and_chains(_random_input(device, 2)))


class _WaitingSGD(optim.SGD):
    """SGD whose step waits at a barrier (when set), so that two replays are inside the program at once."""

    barrier = None

    def step(self, closure=None):
        if self.barrier is not None:
            self.barrier.wait(timeout=30)
        return super().step(closure)


def test_concurrent_replays_in_two_threads_use_their_own_buffers(device):
    import threading

    opt = _WaitingSGD([nn.Parameter(ember.zeros(1, device=device))], lr=0.1)

    def f(x):
        h = x * 2 + 1  # an intermediate alive across the eager optimizer step
        opt.step()  # both threads wait here, each having written its own h
        return (h * h).sum()

    fn = ember.compile(f)
    fn(ember.ones(8, device=device)), fn(ember.ones(8, device=device))  # record, replay
    opt.barrier = threading.Barrier(2)
    results = {}

    def run(v):
        results[v] = fn(ember.full((8,), v, device=device))

    threads = [threading.Thread(target=run, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results[1.0].item() == 8 * 3.0 ** 2 and results[2.0].item() == 8 * 5.0 ** 2


def test_a_replay_keeps_its_intermediates_in_buffers_across_calls(device):
    import tracemalloc

    if device.backend.name != "numpy":
        pytest.skip("numpy reports its allocations to tracemalloc")
    x = ember.randn(1 << 20, device=device)  # 4 MB
    fn = ember.compile(lambda x: ((x * 2 + 1).tanh() * x).sum())
    fn(x), fn(x)  # records; the first replay allocates the buffers
    tracemalloc.start()
    try:
        fn(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < x.numel() * 4 // 8  # eagerly, the 4 MB intermediate is allocated on every call


def _chains(x, n, w):
    a = (x * w + 0.25) / 3 - x  # reads a broadcast tensor
    e = a.exp()
    s = e / (e + 1)  # a result read twice inside the chain
    k = (n * 3 + n) % 5  # integers
    return s, (a * a).sqrt().neg(), k, (s - a) * 0.5


def test_fused_elementwise_chains_replay_equal_to_eager(device):
    w = ember.tensor([[0.5], [-1.5]], device=device)
    fn = ember.compile(lambda x, n: _chains(x, n, w))
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = ember.tensor(rng.standard_normal((2, 3)), device=device)
        n = ember.tensor(rng.integers(-9, 9, (2, 3)), device=device)
        _same(fn(x, n), _chains(x, n, w))
