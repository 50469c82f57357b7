"""Recurrent layers and cells (RNN, LSTM, GRU) against a numpy reference written from PyTorch's formulas:
gate order, shapes for every layout, parameter names, gradients, dropout between layers, errors, and
(where torch is installed) state dicts and outputs interchangeable with torch's.

Also the core pieces the recurrent loop leans on: one-node `unbind`, folded 3-D @ 2-D matmul, sigmoid's tails.
"""
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck


# ---- numpy reference (PyTorch's documented formulas) ------------------------------------------------
def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_cell(mode, x, state, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One step; `state` is h (RNN, GRU) or (h, c) (LSTM). Gate order: LSTM i, f, g, o; GRU r, z, n."""
    b_ih = 0.0 if b_ih is None else b_ih
    b_hh = 0.0 if b_hh is None else b_hh
    if mode == "LSTM":
        h, c = state
        i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        return (h if w_hr is None else h @ w_hr.T), c
    if mode == "GRU":
        h = state
        i_r, i_z, i_n = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
        h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
        r, z = _sig(i_r + h_r), _sig(i_z + h_z)
        n = np.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h
    pre = x @ w_ih.T + b_ih + state @ w_hh.T + b_hh
    return np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)


def ref_layers(model, x, h0, c0=None):
    """The whole stacked, possibly bidirectional network, time-major x (L, N, H_in), step by step."""
    p = {k: v.detach().cpu().numpy() for k, v in model.named_parameters()}
    dirs = 2 if model.bidirectional else 1
    h_n, c_n = [], []
    for layer in range(model.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            idx = layer * dirs + d
            state = (h0[idx], c0[idx]) if model.mode == "LSTM" else h0[idx]
            ys = [None] * len(x)
            for t in (reversed(range(len(x))) if d else range(len(x))):
                state = ref_cell(model.mode, x[t], state, p["weight_ih" + sfx], p["weight_hh" + sfx],
                                 p.get("bias_ih" + sfx), p.get("bias_hh" + sfx), p.get("weight_hr" + sfx))
                ys[t] = state[0] if model.mode == "LSTM" else state
            outs.append(np.stack(ys))
            h_n.append(state[0] if model.mode == "LSTM" else state)
            if model.mode == "LSTM":
                c_n.append(state[1])
        x = np.concatenate(outs, -1)
    return x, np.stack(h_n), (np.stack(c_n) if c_n else None)


def _t(a, device, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


def _np(t):
    return t.detach().cpu().numpy()


LAYERS = [  # (class, kwargs)
    (nn.RNN, {}),
    (nn.RNN, {"nonlinearity": "relu", "bias": False}),
    (nn.LSTM, {}),
    (nn.LSTM, {"proj_size": 2}),
    (nn.GRU, {}),
    (nn.GRU, {"bias": False}),
]


def _layer_id(case):
    cls, kw = case
    return cls.__name__ + "".join(f"-{k}={v}" for k, v in kw.items())


# ---- cells ------------------------------------------------------------------------------------------
CELLS = [(nn.RNNCell, "RNN_TANH", {}), (nn.RNNCell, "RNN_RELU", {"nonlinearity": "relu"}),
         (nn.LSTMCell, "LSTM", {}), (nn.GRUCell, "GRU", {}), (nn.GRUCell, "GRU", {"bias": False})]


@pytest.mark.parametrize("cls, mode, kw", CELLS, ids=lambda c: getattr(c, "__name__", str(c)))
def test_cell_step_matches_pytorch_formula_and_gate_order(device, cls, mode, kw):
    rng = np.random.default_rng(0)
    cell = cls(3, 4, device=device, dtype=ember.float64, **kw)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    p = {k: _np(v) for k, v in cell.named_parameters()}
    args = (p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"))
    if mode == "LSTM":
        h1, c1 = cell(_t(x, device), (_t(h, device), _t(c, device)))
        rh, rc = ref_cell(mode, x, (h, c), *args)
        np.testing.assert_allclose(_np(c1), rc, rtol=1e-12, atol=1e-12)
    else:
        h1 = cell(_t(x, device), _t(h, device))
        rh = ref_cell(mode, x, h, *args)
    np.testing.assert_allclose(_np(h1), rh, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls, chunks", [(nn.RNNCell, 1), (nn.LSTMCell, 4), (nn.GRUCell, 3)])
def test_cell_parameters_unbatched_input_and_default_zero_state(device, cls, chunks):
    cell = cls(3, 5, device=device, dtype=ember.float64)
    assert {k: tuple(v.shape) for k, v in cell.named_parameters()} == {
        "weight_ih": (chunks * 5, 3), "weight_hh": (chunks * 5, 5), "bias_ih": (chunks * 5,), "bias_hh": (chunks * 5,)}
    bound = 1 / np.sqrt(5)
    assert all(np.abs(_np(p)).max() <= bound for p in cell.parameters())
    x = _t(np.random.default_rng(1).standard_normal(3), device)
    out = cell(x)
    zero = ember.zeros(5, dtype=ember.float64, device=device)
    explicit = cell(x, (zero, zero) if cls is nn.LSTMCell else zero)
    outs, explicit = (out, explicit) if cls is nn.LSTMCell else ((out,), (explicit,))
    for a, b in zip(outs, explicit):
        assert a.shape == (5,)
        np.testing.assert_allclose(_np(a), _np(b))
    batched = cell(x.unsqueeze(0))
    np.testing.assert_allclose(_np(batched[0] if cls is nn.LSTMCell else batched)[0], _np(outs[0]))


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_gradients_match_finite_differences(device, cls):
    cell = cls(3, 2, device=device, dtype=ember.float64)
    rng = np.random.default_rng(2)
    x, h, c = (_t(rng.standard_normal(s), device, True) for s in ((2, 3), (2, 2), (2, 2)))
    if cls is nn.LSTMCell:
        assert gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))
        assert gradgradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))
    else:
        assert gradcheck(lambda x, h: cell(x, h), (x, h))
        assert gradgradcheck(lambda x, h: cell(x, h), (x, h))
    state = (h, c) if cls is nn.LSTMCell else h
    _assert_param_grads_match_finite_differences(cell, lambda: _sum_outputs(cell(x, state)))


# ---- layers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", LAYERS, ids=_layer_id)
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True)])
def test_layer_matches_stepwise_reference(device, case, num_layers, bidirectional):
    cls, kw = case
    model = cls(3, 4, num_layers=num_layers, bidirectional=bidirectional, device=device, dtype=ember.float64, **kw)
    rng = np.random.default_rng(3)
    dirs = 2 if bidirectional else 1
    out_h = kw.get("proj_size", 0) or 4
    x = rng.standard_normal((5, 2, 3))
    h0 = rng.standard_normal((num_layers * dirs, 2, out_h))
    c0 = rng.standard_normal((num_layers * dirs, 2, 4))
    hx = (_t(h0, device), _t(c0, device)) if cls is nn.LSTM else _t(h0, device)
    out, state = model(_t(x, device), hx)
    ref_out, ref_h, ref_c = ref_layers(model, x, h0, c0)
    np.testing.assert_allclose(_np(out), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(state[0] if cls is nn.LSTM else state), ref_h, rtol=1e-10, atol=1e-12)
    if cls is nn.LSTM:
        np.testing.assert_allclose(_np(state[1]), ref_c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", LAYERS, ids=_layer_id)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (1, True), (3, True)])
def test_layer_output_shapes_for_every_layout(device, case, batch_first, num_layers, bidirectional):
    cls, kw = case
    L, N, hidden = 6, 2, 5
    model = cls(3, hidden, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                device=device, **kw)
    dirs = 2 if bidirectional else 1
    out_h = kw.get("proj_size", 0) or hidden
    x = ember.randn((N, L, 3) if batch_first else (L, N, 3), device=device)
    out, state = model(x)
    hs = state if cls is nn.LSTM else (state,)
    assert out.shape == ((N, L, dirs * out_h) if batch_first else (L, N, dirs * out_h))
    assert hs[0].shape == (num_layers * dirs, N, out_h)
    if cls is nn.LSTM:
        assert hs[1].shape == (num_layers * dirs, N, hidden)
    # unbatched: (L, H_in) in, (L, D*H_out) and (D*num_layers, H_out) out, equal to batch entry 0
    single = x[0] if batch_first else x[:, 0]
    out1, state1 = model(single)
    hs1 = state1 if cls is nn.LSTM else (state1,)
    assert out1.shape == (L, dirs * out_h) and hs1[0].shape == (num_layers * dirs, out_h)
    np.testing.assert_allclose(_np(out1), _np(out[0] if batch_first else out[:, 0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(hs1[0]), _np(hs[0][:, 0]), rtol=1e-5, atol=1e-6)


def test_batch_first_is_a_transpose_of_the_time_major_layout(device):
    model = nn.GRU(3, 4, num_layers=2, bidirectional=True, device=device, dtype=ember.float64)
    x = _t(np.random.default_rng(4).standard_normal((2, 5, 3)), device)
    out_tm, h_tm = model(x.transpose(0, 1))
    model.batch_first = True
    out_bf, h_bf = model(x)
    np.testing.assert_allclose(_np(out_bf), _np(out_tm.transpose(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(_np(h_bf), _np(h_tm), rtol=1e-12)


@pytest.mark.parametrize("case", LAYERS, ids=_layer_id)
def test_layer_parameter_names_shapes_and_init_range(device, case):
    cls, kw = case
    model = cls(3, 4, num_layers=2, bidirectional=True, device=device, **kw)
    gates = {nn.RNN: 1, nn.LSTM: 4, nn.GRU: 3}[cls] * 4
    proj = kw.get("proj_size", 0)
    real = proj or 4
    expected = {}
    for layer, in_size in ((0, 3), (1, 2 * real)):
        for sfx in ("", "_reverse"):
            expected[f"weight_ih_l{layer}{sfx}"] = (gates, in_size)
            expected[f"weight_hh_l{layer}{sfx}"] = (gates, real)
            if kw.get("bias", True):
                expected[f"bias_ih_l{layer}{sfx}"] = (gates,)
                expected[f"bias_hh_l{layer}{sfx}"] = (gates,)
            if proj:
                expected[f"weight_hr_l{layer}{sfx}"] = (proj, 4)
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == list(expected.items())
    assert len(model.all_weights) == 4 and model.all_weights[1][0] is model.weight_ih_l0_reverse
    values = np.concatenate([_np(p).ravel() for p in model.parameters()])
    assert np.abs(values).max() <= 0.5 and values.std() > 0.2  # U(-1/sqrt(4), 1/sqrt(4))


@pytest.mark.parametrize("case", LAYERS, ids=_layer_id)
def test_layer_gradients_match_finite_differences(device, case):
    cls, kw = case
    model = cls(2, 3, num_layers=2, bidirectional=True, device=device, dtype=ember.float64, **kw)
    rng = np.random.default_rng(5)
    out_h = kw.get("proj_size", 0) or 3
    x = _t(rng.standard_normal((3, 2, 2)), device, True)
    h0 = _t(rng.standard_normal((4, 2, out_h)), device, True)
    c0 = _t(rng.standard_normal((4, 2, 3)), device, True)
    if cls is nn.LSTM:
        fn = lambda x, h0, c0: _flat(model(x, (h0, c0)))  # noqa: E731
        assert gradcheck(fn, (x, h0, c0))
    else:
        fn = lambda x, h0: _flat(model(x, h0))  # noqa: E731
        assert gradcheck(fn, (x, h0))
    state = (h0, c0) if cls is nn.LSTM else h0
    _assert_param_grads_match_finite_differences(model, lambda: _sum_outputs(model(x, state)))


def test_lstm_double_backward_matches_finite_differences(device):
    model = nn.LSTM(2, 2, device=device, dtype=ember.float64)
    x = _t(np.random.default_rng(6).standard_normal((3, 1, 2)), device, True)
    assert gradgradcheck(lambda x: model(x)[0], (x,))


def _flat(result):
    out, state = result
    return (out,) + (tuple(state) if isinstance(state, tuple) else (state,))


def _sum_outputs(result):
    outs = result if isinstance(result, tuple) else (result,)
    flat = []
    for o in outs:
        flat.extend(o if isinstance(o, tuple) else (o,))
    # fixed, distinct weights per element so that every output element matters
    return sum((t * ember.arange(t.numel(), dtype=t.dtype, device=t.device).reshape(t.shape).cos()).sum() for t in flat)


def _assert_param_grads_match_finite_differences(model, loss_fn, eps=1e-6):
    """Every parameter's .grad against central differences of loss_fn on a few of its elements."""
    model.zero_grad()
    loss_fn().backward()
    rng = np.random.default_rng(7)
    for name, p in model.named_parameters():
        grad = _np(p.grad).ravel()
        flat = p.detach().view(-1)
        for i in rng.choice(p.numel(), size=min(3, p.numel()), replace=False):
            orig = float(flat[int(i)])
            with ember.no_grad():
                flat[int(i)] = orig + eps
                up = float(loss_fn())
                flat[int(i)] = orig - eps
                down = float(loss_fn())
                flat[int(i)] = orig
            assert abs((up - down) / (2 * eps) - grad[i]) < 1e-6 * max(1.0, abs(grad[i])), (name, i)


# ---- dropout between layers -------------------------------------------------------------------------
def test_dropout_applies_between_layers_only_in_training(device):
    ember.manual_seed(0)
    model = nn.LSTM(3, 4, num_layers=2, dropout=1.0, device=device)
    x1, x2 = ember.randn(5, 2, 3, device=device), ember.randn(5, 2, 3, device=device)
    # p=1 zeroes the first layer's output, so in training the result no longer depends on the input
    np.testing.assert_allclose(_np(model(x1)[0]), _np(model(x2)[0]))
    model.eval()
    eval_out = _np(model(x1)[0])
    assert not np.allclose(eval_out, _np(model(x2)[0]))
    model.dropout = 0.0
    np.testing.assert_allclose(_np(model(x1)[0]), eval_out)


def test_dropout_with_one_layer_warns_and_bad_dropout_raises():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(2, 3, dropout=0.5)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(2, 3, num_layers=2, dropout=1.5)


# ---- errors and repr --------------------------------------------------------------------------------
@pytest.mark.parametrize("make, call, error, match", [
    (lambda: nn.RNN(3, 4), lambda m, d: m(ember.randn(5, 2, 2, device=d)), RuntimeError, "Expected 3, got 2"),
    (lambda: nn.RNN(3, 4), lambda m, d: m(ember.randn(1, 5, 2, 3, device=d)), ValueError, "2D or 3D"),
    (lambda: nn.GRU(3, 4), lambda m, d: m(ember.randn(5, 2, 3, device=d), ember.zeros(1, 3, 4, device=d)),
     RuntimeError, "Expected hidden size"),
    (lambda: nn.LSTM(3, 4), lambda m, d: m(ember.randn(5, 2, 3, device=d), (ember.zeros(1, 2, 4, device=d),
                                                                            ember.zeros(1, 2, 3, device=d))),
     RuntimeError, r"hidden\[1\]"),
    (lambda: nn.GRU(3, 4), lambda m, d: m(ember.randn(5, 3, device=d), ember.zeros(1, 1, 4, device=d)),
     RuntimeError, "hx should also be 2-D"),
    (lambda: nn.RNN(3, 4), lambda m, d: m(ember.randn(0, 2, 3, device=d)), RuntimeError, "sequence length"),
    (lambda: nn.LSTMCell(3, 4), lambda m, d: m(ember.randn(2, 5, device=d)), RuntimeError, "input_size"),
    (lambda: nn.GRUCell(3, 4), lambda m, d: m(ember.randn(2, 3, device=d), ember.zeros(3, 4, device=d)),
     RuntimeError, "batch size"),
])
def test_bad_inputs_raise_with_the_expected_shapes(device, make, call, error, match):
    with pytest.raises(error, match=match):
        call(make().to(device), device)


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.RNN(3, 4, nonlinearity="gelu"), ValueError, "Unknown nonlinearity"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), ValueError, "Unknown nonlinearity"),
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "smaller than hidden_size"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, "proj_size"),
    (lambda: nn.RNNBase("GRU", 3, 4, proj_size=2), ValueError, "only supported for LSTM"),
    (lambda: nn.GRU(3, 0), ValueError, "hidden_size"),
    (lambda: nn.GRU(3, 2.5), TypeError, "hidden_size"),
    (lambda: nn.GRU(3, 4, num_layers=0), ValueError, "num_layers"),
])
def test_bad_constructor_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_repr_lists_non_default_arguments_like_pytorch():
    assert repr(nn.LSTM(3, 4, 2, proj_size=2, bidirectional=True, dropout=0.1)) == \
        "LSTM(3, 4, proj_size=2, num_layers=2, dropout=0.1, bidirectional=True)"
    assert repr(nn.GRU(3, 4, batch_first=True, bias=False)) == "GRU(3, 4, bias=False, batch_first=True)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"


# ---- interchange with torch -------------------------------------------------------------------------
@pytest.mark.parametrize("name, kw", [("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("LSTM", {"proj_size": 3}),
                                      ("GRU", {"batch_first": True}), ("GRU", {"bias": False})])
def test_torch_state_dict_loads_and_outputs_and_gradients_agree(device, name, kw):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(torch.nn, name)(5, 6, num_layers=2, bidirectional=True, **kw)
    em = getattr(nn, name)(5, 6, num_layers=2, bidirectional=True, device=device, **kw)
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(8).standard_normal((4, 7, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that oneDNN lacks projections
        t_out, t_state = tm(torch.tensor(x))
    e_out, e_state = em(ember.tensor(x, device=device))
    t_states = t_state if isinstance(t_state, tuple) else (t_state,)
    e_states = e_state if isinstance(e_state, tuple) else (e_state,)
    np.testing.assert_allclose(_np(e_out), t_out.detach().numpy(), atol=1e-5)
    for e, t in zip(e_states, t_states):
        np.testing.assert_allclose(_np(e), t.detach().numpy(), atol=1e-5)
    (t_out.sum() + sum(s.sum() for s in t_states)).backward()
    (e_out.sum() + sum(s.sum() for s in e_states)).backward()
    for k, p in em.named_parameters():
        np.testing.assert_allclose(_np(p.grad), getattr(tm, k).grad.numpy(), atol=1e-4, err_msg=k)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_torch_cell_state_dict_loads_and_outputs_agree(device, name):
    torch = pytest.importorskip("torch")
    tm, em = getattr(torch.nn, name)(5, 6), getattr(nn, name)(5, 6, device=device)
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(9).standard_normal((3, 5)).astype(np.float32)
    t, e = tm(torch.tensor(x)), em(ember.tensor(x, device=device))
    for a, b in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        np.testing.assert_allclose(_np(a), b.detach().numpy(), atol=1e-5)


# ---- core pieces the recurrent loop relies on -------------------------------------------------------
def test_unbind_is_one_graph_node_whose_backward_stacks_the_slices_gradients(device):
    a = _t(np.random.default_rng(10).standard_normal((4, 3, 2)), device, True)
    parts = a.unbind(1)
    assert len(parts) == 3 and all(p.grad_fn is parts[0].grad_fn for p in parts)
    (parts[0] * 2 + parts[2]).sum().backward()
    expected = np.zeros((4, 3, 2))
    expected[:, 0], expected[:, 2] = 2, 1
    np.testing.assert_allclose(_np(a.grad), expected)
    assert gradcheck(lambda a: a.unbind(2), (a,))
    assert gradgradcheck(lambda a: [p * p for p in a.unbind(0)[1:]], (a,))


def test_matmul_of_batched_by_2d_folds_leading_dims_with_correct_gradients(device):
    rng = np.random.default_rng(11)
    a_np, b_np = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((5, 6))
    a, b = _t(a_np, device, True), _t(b_np, device, True)
    np.testing.assert_allclose(_np(a @ b), a_np @ b_np, rtol=1e-12)
    np.testing.assert_allclose(_np(a.transpose(1, 2) @ b), a_np.transpose(0, 2, 1, 3) @ b_np, rtol=1e-12)
    assert gradcheck(lambda a, b: a @ b, (a, b))
    assert gradgradcheck(lambda a, b: a @ b, (a, b))


def test_sigmoid_keeps_relative_precision_in_both_tails(device):
    x = np.array([-700.0, -80.0, -30.0, -1.0, 0.0, 1.0, 30.0, 700.0])
    out = _np(ember.tensor(x, device=device).sigmoid())
    np.testing.assert_allclose(out, 1.0 / (1.0 + np.exp(-x)), rtol=1e-14)
    out32 = _np(ember.tensor(x[1:-1], dtype=ember.float32, device=device).sigmoid())
    np.testing.assert_allclose(out32, (1.0 / (1.0 + np.exp(-x[1:-1]))).astype(np.float32), rtol=1e-6)
