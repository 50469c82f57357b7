"""`F.embedding_bag` / `nn.EmbeddingBag` and `nn.utils.rnn` (padding, packing, PackedSequence through
RNN/LSTM/GRU): hand-computed values, layouts, errors, float64 gradchecks, and (where torch is installed)
outputs and gradients against torch."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn.utils import rnn as rnn_utils


def _t(data, device, dtype=None, requires_grad=False):
    return ember.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


# ---- embedding_bag: values -------------------------------------------------------------------------
def test_embedding_bag_2d_modes_reduce_rows_of_each_bag(device):
    w = np.arange(12.0).reshape(6, 2)
    idx = [[0, 2, 2], [5, 1, 3]]
    weight = _t(w, device, ember.float64)
    expected = {"sum": w[idx].sum(1), "mean": w[idx].mean(1), "max": w[idx].max(1)}
    for mode, want in expected.items():
        out = F.embedding_bag(_t(idx, device), weight, mode=mode)
        np.testing.assert_allclose(out.cpu().numpy(), want)


def test_embedding_bag_offsets_with_empty_bag_gives_zeros(device):
    w = np.arange(12.0).reshape(6, 2)
    idx, offsets = [1, 2, 4, 5, 3], [0, 2, 2]
    weight = _t(w, device, ember.float64)
    for mode in ("sum", "mean", "max"):
        out = F.embedding_bag(_t(idx, device), weight, _t(offsets, device), mode=mode).cpu().numpy()
        reduce = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode]
        np.testing.assert_allclose(out[0], reduce(w[[1, 2]], 0))
        np.testing.assert_allclose(out[1], [0.0, 0.0])
        np.testing.assert_allclose(out[2], reduce(w[[4, 5, 3]], 0))


def test_embedding_bag_include_last_offset_uses_offsets_as_boundaries(device):
    w = np.arange(12.0).reshape(6, 2)
    weight = _t(w, device, ember.float64)
    out = F.embedding_bag(_t([1, 2, 4, 5], device), weight, _t([0, 1, 4], device), mode="sum",
                          include_last_offset=True)
    np.testing.assert_allclose(out.cpu().numpy(), [w[1], w[[2, 4, 5]].sum(0)])


def test_embedding_bag_per_sample_weights_scale_rows_in_sum_mode(device):
    w = np.arange(12.0).reshape(6, 2)
    out = F.embedding_bag(_t([[0, 3]], device), _t(w, device, ember.float64), mode="sum",
                          per_sample_weights=_t([[2.0, -1.0]], device, ember.float64))
    np.testing.assert_allclose(out.cpu().numpy(), [2 * w[0] - w[3]])


def test_embedding_bag_padding_idx_is_left_out_of_sum_mean_and_count(device):
    w = np.arange(12.0).reshape(6, 2) + 1
    weight = _t(w, device, ember.float64)
    idx = _t([[1, 0, 3], [0, 0, 0]], device)
    mean = F.embedding_bag(idx, weight, mode="mean", padding_idx=0).cpu().numpy()
    np.testing.assert_allclose(mean, [(w[1] + w[3]) / 2, [0.0, 0.0]])
    mx = F.embedding_bag(idx, weight, mode="max", padding_idx=0).cpu().numpy()
    np.testing.assert_allclose(mx, [w[3], [0.0, 0.0]])


def test_embedding_bag_gradient_skips_padding_row(device):
    weight = _t(np.ones((4, 2)), device, ember.float64, requires_grad=True)
    F.embedding_bag(_t([[0, 1, 1]], device), weight, mode="sum", padding_idx=1).sum().backward()
    np.testing.assert_allclose(weight.grad.cpu().numpy(), [[1, 1], [0, 0], [0, 0], [0, 0]])


# ---- embedding_bag: errors -------------------------------------------------------------------------
def test_embedding_bag_argument_errors(device):
    w = _t(np.ones((4, 2)), device)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(_t([[0, 1]], device), w, _t([0], device))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(_t([0, 1], device), w)
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(_t([0, 1], device), w, _t([1], device))
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(_t([[0, 1]], device), w, mode="min")
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(_t([[0, 1]], device), w, mode="mean", per_sample_weights=_t([[1.0, 1.0]], device))
    with pytest.raises(ValueError, match="same shape as the input"):
        F.embedding_bag(_t([[0, 1]], device), w, mode="sum", per_sample_weights=_t([1.0, 1.0], device))
    with pytest.raises(ValueError, match="max mode does not support"):
        F.embedding_bag(_t([[0, 1]], device), w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding_bag(_t([[0, 4]], device), w)


# ---- embedding_bag: gradcheck ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(device, mode):
    rng = np.random.default_rng(0)
    weight = _t(rng.standard_normal((6, 3)), device, ember.float64, requires_grad=True)
    idx, offsets = _t([1, 2, 4, 5, 3, 0], device), _t([0, 2, 2, 5], device)
    fn = lambda w: F.embedding_bag(idx, w, offsets, mode=mode)
    assert gradcheck(fn, (weight,))
    assert gradgradcheck(fn, (weight,))


def test_embedding_bag_per_sample_weights_gradcheck(device):
    rng = np.random.default_rng(1)
    weight = _t(rng.standard_normal((5, 2)), device, ember.float64, requires_grad=True)
    psw = _t(rng.standard_normal((2, 3)), device, ember.float64, requires_grad=True)
    idx = _t([[0, 4, 4], [2, 1, 3]], device)
    fn = lambda w, p: F.embedding_bag(idx, w, mode="sum", per_sample_weights=p)
    assert gradcheck(fn, (weight, psw))
    assert gradgradcheck(fn, (weight, psw))


# ---- nn.EmbeddingBag ---------------------------------------------------------------------------------
def test_embedding_bag_module_init_repr_and_from_pretrained(device):
    bag = nn.EmbeddingBag(7, 3, mode="max", padding_idx=2, device=device)
    assert tuple(bag.weight.shape) == (7, 3)
    assert repr(bag) == "EmbeddingBag(7, 3, mode='max', padding_idx=2)"
    np.testing.assert_array_equal(bag.weight[2].detach().cpu().numpy(), [0, 0, 0])
    pre = nn.EmbeddingBag.from_pretrained(_t(np.arange(6.0).reshape(3, 2), device), mode="sum")
    assert not pre.weight.requires_grad
    np.testing.assert_allclose(pre(_t([0, 1, 2], device), _t([0, 1], device)).cpu().numpy(), [[0, 1], [6, 8]])
    assert nn.EmbeddingBag.from_pretrained(_t(np.ones((3, 2)), device), freeze=False).weight.requires_grad


# ---- pad / pack layouts ------------------------------------------------------------------------------
def test_pad_sequence_layouts_and_sides(device):
    a, b = _t([1.0, 2.0, 3.0], device), _t([4.0], device)
    np.testing.assert_array_equal(rnn_utils.pad_sequence([a, b]).cpu().numpy(), [[1, 4], [2, 0], [3, 0]])
    np.testing.assert_array_equal(rnn_utils.pad_sequence([a, b], batch_first=True, padding_value=-1).cpu().numpy(),
                                  [[1, 2, 3], [4, -1, -1]])
    np.testing.assert_array_equal(rnn_utils.pad_sequence([a, b], True, padding_side="left").cpu().numpy(),
                                  [[1, 2, 3], [0, 0, 4]])
    with pytest.raises(ValueError, match="padding_side"):
        rnn_utils.pad_sequence([a, b], padding_side="middle")


def test_pack_padded_sequence_is_time_major_with_cpu_int64_batch_sizes(device):
    padded = _t([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]], device)
    packed = rnn_utils.pack_padded_sequence(padded, [3, 2], batch_first=True)
    assert isinstance(packed, rnn_utils.PackedSequence) and isinstance(packed, tuple)
    np.testing.assert_array_equal(packed.data.cpu().numpy(), [1, 4, 2, 5, 3])
    assert packed.batch_sizes.tolist() == [2, 2, 1]
    assert packed.batch_sizes.dtype is ember.int64 and packed.batch_sizes.device.type == "cpu"
    assert packed.sorted_indices is None and packed.unsorted_indices is None


def test_pack_unsorted_round_trip_restores_order_and_lengths(device):
    seqs = [_t([1.0], device), _t([2.0, 3.0, 4.0], device), _t([5.0, 6.0], device)]
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 2, 0]
    assert packed.unsorted_indices.tolist() == [2, 0, 1]
    np.testing.assert_array_equal(packed.data.cpu().numpy(), [2, 5, 1, 3, 6, 4])
    padded, lengths = rnn_utils.pad_packed_sequence(packed, batch_first=True, padding_value=9, total_length=4)
    np.testing.assert_array_equal(padded.cpu().numpy(), [[1, 9, 9, 9], [2, 3, 4, 9], [5, 6, 9, 9]])
    assert lengths.tolist() == [1, 3, 2] and lengths.dtype is ember.int64
    for got, want in zip(rnn_utils.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(got.cpu().numpy(), want.cpu().numpy())
    for got, want in zip(rnn_utils.unpad_sequence(padded, lengths, batch_first=True), seqs):
        np.testing.assert_array_equal(got.cpu().numpy(), want.cpu().numpy())


def test_packed_sequence_conversions(device):
    packed = rnn_utils.pack_sequence([_t([1.0, 2.0], device), _t([3.0], device)])
    assert packed.double().data.dtype is ember.float64
    assert packed.to(ember.float64).batch_sizes is packed.batch_sizes
    assert packed.to(device).data.device == packed.data.device


def test_pack_errors(device):
    padded = _t(np.zeros((3, 2)), device)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(padded, [1, 3])
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn_utils.pack_padded_sequence(padded, [3, 0])
    with pytest.raises(ValueError, match="total_length"):
        rnn_utils.pad_packed_sequence(rnn_utils.pack_padded_sequence(padded, [3, 1]), total_length=2)


def test_pack_pad_round_trip_gradcheck(device):
    x = _t(np.random.default_rng(2).standard_normal((4, 3, 2)), device, ember.float64, requires_grad=True)
    fn = lambda a: rnn_utils.pad_packed_sequence(
        rnn_utils.pack_padded_sequence(a, [2, 4, 1], enforce_sorted=False))[0]
    assert gradcheck(fn, (x,))


# ---- RNNs on packed input ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_packed_final_state_is_taken_at_each_true_last_step(device, cls):
    ember.manual_seed(0)
    model = getattr(nn, cls)(2, 3, dtype=ember.float64, device=device)
    x = _t(np.random.default_rng(3).standard_normal((4, 3, 2)), device, ember.float64)
    lengths = [2, 4, 1]
    out, state = model(rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False))
    assert isinstance(out, rnn_utils.PackedSequence)
    padded, _ = rnn_utils.pad_packed_sequence(out)
    h_n = state[0] if cls == "LSTM" else state
    for i, n in enumerate(lengths):
        alone_out, alone_state = model(x[:n, i:i + 1])
        alone_h = alone_state[0] if cls == "LSTM" else alone_state
        np.testing.assert_allclose(h_n[:, i].detach().cpu().numpy(), alone_h[:, 0].detach().cpu().numpy(),
                                   atol=1e-12)
        np.testing.assert_allclose(padded[:n, i].detach().cpu().numpy(), alone_out[:, 0].detach().cpu().numpy(),
                                   atol=1e-12)
        assert not padded[n:, i].detach().cpu().numpy().any()


# ---- against torch -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", ["2d", "offsets", "last_offset", "padding"])
def test_embedding_bag_matches_torch(device, mode, case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    w = rng.standard_normal((10, 3))
    kw = {}
    if case == "2d":
        idx, off = rng.integers(0, 10, (4, 5)), None
    elif case == "offsets":
        idx, off = rng.integers(0, 10, 9), np.array([0, 3, 3, 7])
    elif case == "last_offset":
        idx, off, kw = rng.integers(0, 10, 9), np.array([0, 2, 6, 9]), {"include_last_offset": True}
    else:
        idx, off, kw = np.array([[1, 0, 3], [0, 0, 0], [2, 2, 0]]), None, {"padding_idx": 0}
    if mode == "sum":
        kw["per_sample_weights"] = rng.standard_normal(idx.shape)
    grad = rng.standard_normal((len(idx) if off is None else len(off) - kw.get("include_last_offset", 0), 3))
    tw = torch.tensor(w, requires_grad=True)
    ew = _t(w, device, ember.float64, requires_grad=True)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    ekw = {k: _t(v, device) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    to = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, None if off is None else torch.tensor(off),
                                           mode=mode, **tkw)
    eo = F.embedding_bag(_t(idx, device), ew, None if off is None else _t(off, device), mode=mode, **ekw)
    to.backward(torch.tensor(grad))
    eo.backward(_t(grad, device, ember.float64))
    np.testing.assert_allclose(eo.detach().cpu().numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ew.grad.cpu().numpy(), tw.grad.numpy(), atol=1e-12)


def test_pack_and_pad_match_torch(device):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn
    x = np.random.default_rng(5).standard_normal((3, 5, 2))
    lengths = [3, 5, 1]
    for batch_first in (False, True):
        xx = x if batch_first else x.transpose(1, 0, 2).copy()
        tp = trnn.pack_padded_sequence(torch.tensor(xx), lengths, batch_first=batch_first, enforce_sorted=False)
        ep = rnn_utils.pack_padded_sequence(_t(xx, device), lengths, batch_first=batch_first, enforce_sorted=False)
        np.testing.assert_array_equal(ep.data.cpu().numpy(), tp.data.numpy())
        assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
        assert ep.sorted_indices.tolist() == tp.sorted_indices.tolist()
        assert ep.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
        tpad, tlen = trnn.pad_packed_sequence(tp, batch_first, -2.0, 6)
        epad, elen = rnn_utils.pad_packed_sequence(ep, batch_first, -2.0, 6)
        np.testing.assert_array_equal(epad.cpu().numpy(), tpad.numpy())
        assert elen.tolist() == tlen.tolist()
    seqs = [np.random.default_rng(i).standard_normal((n, 2)) for i, n in enumerate([2, 4, 1])]
    for side in ("left", "right"):
        np.testing.assert_array_equal(
            rnn_utils.pad_sequence([_t(s, device) for s in seqs], True, 1.5, side).cpu().numpy(),
            trnn.pad_sequence([torch.tensor(s) for s in seqs], True, 1.5, side).numpy())


@pytest.mark.parametrize("cls,kwargs", [("LSTM", {}), ("GRU", {"bidirectional": True, "num_layers": 2}),
                                        ("RNN", {"bidirectional": True}),
                                        ("LSTM", {"bidirectional": True, "num_layers": 2, "proj_size": 2}),
                                        ("GRU", {"batch_first": True})])
def test_rnn_on_packed_input_matches_torch(device, cls, kwargs):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn
    rng = np.random.default_rng(6)
    tm = getattr(torch.nn, cls)(3, 4, dtype=torch.float64, **kwargs)
    em = getattr(nn, cls)(3, 4, dtype=ember.float64, device=device, **kwargs)
    em.load_state_dict({k: _t(v.detach().numpy(), device) for k, v in tm.state_dict().items()})
    batch_first = kwargs.get("batch_first", False)
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    lengths = [3, 5, 1, 4]
    tx = torch.tensor(x, requires_grad=True)
    ex = _t(x, device, ember.float64, requires_grad=True)
    layers = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    h0 = rng.standard_normal((layers, 4, kwargs.get("proj_size") or 4))
    if cls == "LSTM":
        c0 = rng.standard_normal((layers, 4, 4))
        th, eh = (torch.tensor(h0), torch.tensor(c0)), (_t(h0, device), _t(c0, device))
    else:
        th, eh = torch.tensor(h0), _t(h0, device)
    to, ts = tm(trnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted=False), th)
    eo, es = em(rnn_utils.pack_padded_sequence(ex, lengths, batch_first, enforce_sorted=False), eh)
    if cls == "LSTM":
        ts, es = torch.cat(ts, -1), ember.cat(es, -1)
    assert isinstance(eo, rnn_utils.PackedSequence)
    assert eo.batch_sizes.tolist() == to.batch_sizes.tolist()
    np.testing.assert_allclose(eo.data.detach().cpu().numpy(), to.data.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(es.detach().cpu().numpy(), ts.detach().numpy(), atol=1e-12)
    (to.data.sum() + ts.pow(2).sum()).backward()
    (eo.data.sum() + es.pow(2).sum()).backward()
    np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), atol=1e-10)
    for (name, p), q in zip(tm.named_parameters(), em.parameters()):
        np.testing.assert_allclose(q.grad.cpu().numpy(), p.grad.numpy(), atol=1e-10, err_msg=name)
