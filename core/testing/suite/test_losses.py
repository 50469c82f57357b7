"""ember.nn losses: values from PyTorch's documented formulas (computed in numpy here) for every loss,
option and reduction; stability at logits of 1e4; gradcheck in float64; shape errors; the module
forms; and torch.nn.functional itself where torch is installed."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 5))
Y = RNG.standard_normal((4, 5))
T = np.array([1, 0, 4, 2])
T_IGNORED = np.array([1, -100, 4, 2])
W = np.array([0.5, 1.0, 2.0, 1.5, 0.25])
P = RNG.random((4, 5))
P /= P.sum(1, keepdims=True)
PROB = 1 / (1 + np.exp(-X))
Z = RNG.random((4, 5))


def _t(a, device, grad=False, dtype=ember.float64):
    a = np.asarray(a)
    return ember.tensor(a, dtype=dtype if a.dtype.kind == "f" else None, device=device, requires_grad=grad)


def _reduce(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.size if denom is None else denom)


def _log_softmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def _nll_ref(logp, t, weight=None, ignore_index=-100, reduction="mean"):
    w = np.ones(logp.shape[1]) if weight is None else weight
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    wt = w[safe] * valid
    picked = np.take_along_axis(logp, np.expand_dims(safe, 1), 1).squeeze(1)
    return _reduce(-picked * wt, reduction, wt.sum())


def _ce_ref(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    logp = _log_softmax(x)
    n_classes = x.shape[1]
    if t.shape == x.shape:  # class probabilities
        p = t * (1 - label_smoothing) + label_smoothing / n_classes
        w = np.ones(n_classes) if weight is None else weight
        loss = -(logp * p * w.reshape((1, -1) + (1,) * (x.ndim - 2))).sum(1)
        return _reduce(loss, reduction, x.size / n_classes)
    nll = _nll_ref(logp, t, weight, ignore_index, reduction)
    w = np.ones(n_classes) if weight is None else weight
    valid = t != ignore_index
    smooth = -(logp * w.reshape((1, -1) + (1,) * (x.ndim - 2))).sum(1) * valid
    wt = w[np.where(valid, t, 0)] * valid
    return (1 - label_smoothing) * nll + _reduce(smooth, reduction, wt.sum()) * label_smoothing / n_classes


def _bce_ref(x, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return _reduce(loss * (1 if weight is None else weight), reduction)


def _bce_logits_ref(x, y, weight=None, pos_weight=None, reduction="mean"):
    log_sig, log_1m_sig = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    pw = 1 if pos_weight is None else pos_weight
    loss = -(pw * y * log_sig + (1 - y) * log_1m_sig)
    return _reduce(loss * (1 if weight is None else weight), reduction)


def _cosine_ref(x1, x2, y, margin, reduction):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    return _reduce(np.where(y == 1, 1 - cos, np.maximum(0, cos - margin)), reduction)


def _smooth_l1_ref(d, beta):
    z = np.abs(d)
    return np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)


def _huber_ref(d, delta):
    z = np.abs(d)
    return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


X3 = RNG.standard_normal((2, 3, 4))
T3 = np.array([[0, 2, 1, 2], [1, -100, 0, 0]])
V1, V2 = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])

# name: (ember call taking (device, reduction), numpy reference taking reduction)
CASES = {
    "mse": (lambda d, r: F.mse_loss(_t(X, d), _t(Y, d), reduction=r), lambda r: _reduce((X - Y) ** 2, r)),
    "mse_weight": (lambda d, r: F.mse_loss(_t(X, d), _t(Y, d), reduction=r, weight=_t(Z, d)),
                   lambda r: _reduce((X - Y) ** 2 * Z, r, Z.sum())),
    "l1": (lambda d, r: F.l1_loss(_t(X, d), _t(Y, d), reduction=r), lambda r: _reduce(np.abs(X - Y), r)),
    "l1_weight": (lambda d, r: F.l1_loss(_t(X, d), _t(Y, d), reduction=r, weight=_t(Z, d)),
                  lambda r: _reduce(np.abs(X - Y) * Z, r, Z.sum())),
    "smooth_l1": (lambda d, r: F.smooth_l1_loss(_t(X, d), _t(Y, d), reduction=r, beta=0.7),
                  lambda r: _reduce(_smooth_l1_ref(X - Y, 0.7), r)),
    "smooth_l1_beta0": (lambda d, r: F.smooth_l1_loss(_t(X, d), _t(Y, d), reduction=r, beta=0.0),
                        lambda r: _reduce(np.abs(X - Y), r)),
    "huber": (lambda d, r: F.huber_loss(_t(X, d), _t(Y, d), reduction=r, delta=0.6),
              lambda r: _reduce(_huber_ref(X - Y, 0.6), r)),
    "huber_weight": (lambda d, r: F.huber_loss(_t(X, d), _t(Y, d), reduction=r, delta=0.6, weight=_t(Z, d)),
                     lambda r: _reduce(_huber_ref(X - Y, 0.6) * Z, r)),
    "nll": (lambda d, r: F.nll_loss(_t(_log_softmax(X), d), _t(T, d), reduction=r),
            lambda r: _nll_ref(_log_softmax(X), T, reduction=r)),
    "nll_weight_ignore": (lambda d, r: F.nll_loss(_t(_log_softmax(X), d), _t(T_IGNORED, d), _t(W, d), reduction=r),
                          lambda r: _nll_ref(_log_softmax(X), T_IGNORED, W, reduction=r)),
    "nll_custom_ignore": (lambda d, r: F.nll_loss(_t(X, d), _t(T, d), ignore_index=4, reduction=r),
                          lambda r: _nll_ref(X, T, ignore_index=4, reduction=r)),
    "nll_3d": (lambda d, r: F.nll_loss(_t(X3, d), _t(T3, d), _t(W[:3], d), reduction=r),
               lambda r: _nll_ref(X3, T3, W[:3], reduction=r)),
    "ce": (lambda d, r: F.cross_entropy(_t(X, d), _t(T, d), reduction=r), lambda r: _ce_ref(X, T, reduction=r)),
    "ce_weight": (lambda d, r: F.cross_entropy(_t(X, d), _t(T, d), _t(W, d), reduction=r),
                  lambda r: _ce_ref(X, T, W, reduction=r)),
    "ce_ignore": (lambda d, r: F.cross_entropy(_t(X, d), _t(T_IGNORED, d), reduction=r),
                  lambda r: _ce_ref(X, T_IGNORED, reduction=r)),
    "ce_weight_ignore_smoothing": (
        lambda d, r: F.cross_entropy(_t(X, d), _t(T_IGNORED, d), _t(W, d), reduction=r, label_smoothing=0.2),
        lambda r: _ce_ref(X, T_IGNORED, W, reduction=r, label_smoothing=0.2)),
    "ce_smoothing": (lambda d, r: F.cross_entropy(_t(X, d), _t(T, d), reduction=r, label_smoothing=0.1),
                     lambda r: _ce_ref(X, T, reduction=r, label_smoothing=0.1)),
    "ce_probs": (lambda d, r: F.cross_entropy(_t(X, d), _t(P, d), reduction=r), lambda r: _ce_ref(X, P, reduction=r)),
    "ce_probs_weight_smoothing": (
        lambda d, r: F.cross_entropy(_t(X, d), _t(P, d), _t(W, d), reduction=r, label_smoothing=0.3),
        lambda r: _ce_ref(X, P, W, reduction=r, label_smoothing=0.3)),
    "ce_3d": (lambda d, r: F.cross_entropy(_t(X3, d), _t(T3, d), reduction=r), lambda r: _ce_ref(X3, T3, reduction=r)),
    "ce_3d_smoothing": (lambda d, r: F.cross_entropy(_t(X3, d), _t(T3, d), _t(W[:3], d), reduction=r,
                                                     label_smoothing=0.25),
                        lambda r: _ce_ref(X3, T3, W[:3], reduction=r, label_smoothing=0.25)),
    "bce": (lambda d, r: F.binary_cross_entropy(_t(PROB, d), _t(Z, d), reduction=r),
            lambda r: _bce_ref(PROB, Z, reduction=r)),
    "bce_weight": (lambda d, r: F.binary_cross_entropy(_t(PROB, d), _t(Z, d), _t(W, d), reduction=r),
                   lambda r: _bce_ref(PROB, Z, W, reduction=r)),
    "bce_logits": (lambda d, r: F.binary_cross_entropy_with_logits(_t(X, d), _t(Z, d), reduction=r),
                   lambda r: _bce_logits_ref(X, Z, reduction=r)),
    "bce_logits_weights": (
        lambda d, r: F.binary_cross_entropy_with_logits(_t(X, d), _t(Z, d), _t(W, d), reduction=r,
                                                        pos_weight=_t(W[::-1].copy(), d)),
        lambda r: _bce_logits_ref(X, Z, W, W[::-1], reduction=r)),
    "kl_div": (lambda d, r: F.kl_div(_t(np.log(P), d), _t(P[::-1].copy(), d), reduction=r),
               lambda r: _reduce(P[::-1] * (np.log(P[::-1]) - np.log(P)), r)),
    "kl_div_log_target": (lambda d, r: F.kl_div(_t(np.log(P), d), _t(X, d), reduction=r, log_target=True),
                          lambda r: _reduce(np.exp(X) * (X - np.log(P)), r)),
    "cosine_embedding": (lambda d, r: F.cosine_embedding_loss(_t(V1, d), _t(V2, d), _t(SIGNS, d), 0.1, reduction=r),
                         lambda r: _cosine_ref(V1, V2, SIGNS, 0.1, r)),
    "margin_ranking": (lambda d, r: F.margin_ranking_loss(_t(V1[:, 0], d), _t(V2[:, 0], d), _t(SIGNS, d), 0.2,
                                                          reduction=r),
                       lambda r: _reduce(np.maximum(0, -SIGNS * (V1[:, 0] - V2[:, 0]) + 0.2), r)),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_values_match_the_documented_formulas(name, reduction, device):
    call, ref = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's warning about reduction="mean"
        out = call(device, reduction)
    np.testing.assert_allclose(out.cpu().numpy(), ref(reduction), rtol=1e-10, atol=1e-12)


def test_kl_div_batchmean_divides_the_sum_by_the_batch_size(device):
    out = F.kl_div(_t(np.log(P), device), _t(P[::-1].copy(), device), reduction="batchmean")
    assert out.item() == pytest.approx((P[::-1] * (np.log(P[::-1]) - np.log(P))).sum() / 4)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(_t(np.log(P), device), _t(P, device))


def test_kl_div_zero_targets_contribute_zero(device):
    out = F.kl_div(_t([[-1.0, -2.0]], device), _t([[0.0, 1.0]], device), reduction="sum")
    assert out.item() == pytest.approx(2.0)


def test_unbatched_inputs_of_cross_entropy_and_nll(device):
    x, t = X[0], T[0]
    ce = F.cross_entropy(_t(x, device), _t(t, device), reduction="none")
    assert ce.shape == () and ce.item() == pytest.approx(-_log_softmax(x[None])[0, t])
    probs = F.cross_entropy(_t(x, device), _t(P[0], device))
    assert probs.item() == pytest.approx(-(_log_softmax(x[None])[0] * P[0]).sum())
    assert F.nll_loss(_t(x, device), _t(t, device)).item() == pytest.approx(-x[t])


def test_all_targets_ignored_give_nan_mean_and_zero_sum(device):
    t = _t([-100, -100], device)
    x = _t(X[:2], device)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0


# ---- numerical stability -------------------------------------------------------------------------
def test_cross_entropy_is_finite_with_finite_grads_for_logits_of_1e4(device):
    for dtype in (ember.float32, ember.float64):
        x = ember.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [0.0, 0.0, 1e4]], dtype=dtype, device=device,
                         requires_grad=True)
        loss = F.cross_entropy(x, _t([1, 1, 0], device), label_smoothing=0.1)
        loss.backward()
        assert math.isfinite(loss.item()) and np.all(np.isfinite(x.grad.cpu().numpy()))
        x.grad = None
        loss = F.cross_entropy(x, _t([1, 1, 0], device), reduction="none")
        np.testing.assert_allclose(loss.detach().cpu().numpy(), [2e4, 0.0, 1e4], rtol=1e-6)
        loss.sum().backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), [[1, -1, 0], [0, 0, 0], [-1, 0, 1]], atol=1e-6)


def test_binary_cross_entropy_with_logits_is_finite_with_finite_grads_for_logits_of_1e4(device):
    for dtype in (ember.float32, ember.float64):
        x = ember.tensor([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype, device=device, requires_grad=True)
        z = ember.tensor([1.0, 0.0, 0.0, 1.0, 0.5], dtype=dtype, device=device)
        loss = F.binary_cross_entropy_with_logits(x, z, reduction="none", pos_weight=_t([2.0], device, dtype=dtype))
        np.testing.assert_allclose(loss.detach().cpu().numpy(), [0, 0, 1e4, 2e4, 1.5 * math.log(2)], rtol=1e-6)
        loss.sum().backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), [0, 0, 1, -2, 0.5 * 1.5 - 1.0], atol=1e-6)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100_and_keeps_grads_finite(device):
    x = _t([0.0, 1.0, 0.0, 1.0], device, grad=True)
    y = _t([1.0, 0.0, 0.0, 1.0], device)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(loss.detach().cpu().numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.cpu().numpy()))


def test_binary_cross_entropy_gradient_at_zero_logit_is_sigmoid_minus_target(device):
    x = _t([0.0, 0.0], device, grad=True)
    F.binary_cross_entropy_with_logits(x, _t([1.0, 0.25], device), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [-0.5, 0.25])


# ---- gradients -----------------------------------------------------------------------------------
XG = RNG.standard_normal((3, 4))
YG = XG + RNG.choice([-1.5, -0.4, 0.4, 1.5], size=(3, 4))  # differences away from the kinks at +-0.7 and 0
PG = 0.1 + 0.8 * RNG.random((3, 4))

GRAD_CASES = {
    "mse": (lambda x, y: F.mse_loss(x, y), [XG, YG]),
    "l1": (lambda x, y: F.l1_loss(x, y, reduction="sum"), [XG, YG]),
    "smooth_l1": (lambda x, y: F.smooth_l1_loss(x, y, beta=0.7), [XG, YG]),
    "huber": (lambda x, y: F.huber_loss(x, y, delta=0.7, reduction="none"), [XG, YG]),
    "nll": (lambda x: F.nll_loss(x, ember.tensor([0, 3, -100], device=x.device), ember.tensor(
        [1.0, 2.0, 3.0, 0.5], dtype=ember.float64, device=x.device)), [XG]),
    "ce": (lambda x: F.cross_entropy(x, ember.tensor([0, 3, 1], device=x.device)), [XG]),
    "ce_weight_none": (lambda x: F.cross_entropy(x, ember.tensor([0, 3, -100], device=x.device), ember.tensor(
        [1.0, 2.0, 3.0, 0.5], dtype=ember.float64, device=x.device), reduction="none"), [XG]),
    "ce_smoothing": (lambda x: F.cross_entropy(x, ember.tensor([0, 3, 1], device=x.device), label_smoothing=0.2),
                     [XG]),
    "ce_probs": (lambda x, p: F.cross_entropy(x, p / p.sum(1, keepdim=True)), [XG, PG]),
    "ce_3d": (lambda x: F.cross_entropy(x, ember.tensor([[0, 1], [1, 1], [1, 0]], device=x.device), reduction="sum"),
              [XG.reshape(3, 2, 2)]),
    "bce": (lambda p, y: F.binary_cross_entropy(p, y), [PG, PG[::-1].copy()]),
    "bce_logits": (lambda x, y: F.binary_cross_entropy_with_logits(x, y), [XG, PG]),
    "bce_logits_pos_weight": (lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=w, reduction="sum"),
                              [XG, PG, PG[0] + 0.5]),
    "kl_div": (lambda x, y: F.kl_div(x, y, reduction="batchmean"), [np.log(PG), PG[::-1].copy()]),
    "kl_div_log_target": (lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True), [XG, YG]),
    "cosine_embedding": (lambda a, b: F.cosine_embedding_loss(a, b, ember.tensor([1.0, -1.0, 1.0], dtype=ember.float64,
                                                                                 device=a.device), -1.0),
                         [XG, YG]),
    "margin_ranking": (lambda a, b: F.margin_ranking_loss(a, b, ember.tensor([1.0, -1.0, 1.0, -1.0],
                                                                             dtype=ember.float64, device=a.device),
                                                          0.5),
                       [XG[0], XG[0] + np.array([1.0, 1.0, -1.0, -1.0])]),
}
DOUBLE_BACKWARD = {"mse", "nll", "ce", "ce_weight_none", "ce_smoothing", "ce_probs", "bce", "bce_logits",
                   "bce_logits_pos_weight", "kl_div"}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_finite_differences_in_float64(name, device):
    fn, arrays = GRAD_CASES[name]
    inputs = [_t(a, device, grad=True) for a in arrays]
    assert gradcheck(fn, inputs)
    if name in DOUBLE_BACKWARD:
        assert gradgradcheck(fn, inputs)


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda d: F.cross_entropy(_t(X, d), _t(T[:3], d)), ValueError, "Expected input batch_size \\(4\\) to match "
                                                                   "target batch_size \\(3\\)"),
    (lambda d: F.nll_loss(_t(X3, d), _t(T3[:, :3], d)), RuntimeError,
     "Expected target size \\[2, 4\\], got \\[2, 3\\]"),
    (lambda d: F.cross_entropy(_t(X, d), _t(np.zeros(4), d)), RuntimeError, "class-index targets must be an integer "
                                                                            "tensor"),
    (lambda d: F.cross_entropy(_t(X, d), _t([0, 1, 5, 2], d)), IndexError, "Target 5 is out of bounds"),
    (lambda d: F.cross_entropy(_t(X, d), _t([0, -3, 1, 2], d)), IndexError, "Target -3 is out of bounds"),
    (lambda d: F.cross_entropy(_t(X, d), _t(T, d), _t(W[:3], d)), RuntimeError, "weight tensor should be defined "
                                                                               "either for all 5 classes"),
    (lambda d: F.cross_entropy(_t(X, d), _t(P, d), ignore_index=1), RuntimeError, "ignore_index is not supported"),
    (lambda d: F.cross_entropy(_t(X, d), _t(T, d), label_smoothing=1.5), ValueError, "label_smoothing must be"),
    (lambda d: F.cross_entropy(_t(X[0], d), _t(T, d)), ValueError, "target must be 0-d"),
    (lambda d: F.nll_loss(_t(3.0, d), _t(0, d)), ValueError, "Expected 1 or more dimensions \\(got 0\\)"),
    (lambda d: F.binary_cross_entropy(_t(PROB, d), _t(Z[:, :2], d)), ValueError, "Using a target size \\(\\[4, 2\\]\\) "
                                                                                 "that is different to the input size"),
    (lambda d: F.binary_cross_entropy(_t(X, d), _t(Z, d)), RuntimeError, "input should be between 0 and 1"),
    (lambda d: F.binary_cross_entropy_with_logits(_t(X, d), _t(Z[0], d)), ValueError, "Target size \\(\\[5\\]\\) must "
                                                                                      "be the same as input size"),
    (lambda d: F.binary_cross_entropy_with_logits(_t(X, d), _t(Z, d), pos_weight=_t(W[:2], d)), RuntimeError,
     "pos_weight of shape \\[2\\]"),
    (lambda d: F.mse_loss(_t(X, d), _t(Y[:, :3], d)), RuntimeError, "input of shape \\[4, 5\\] and target of shape "
                                                                    "\\[4, 3\\] are not broadcastable"),
    (lambda d: F.mse_loss(_t(X, d), _t(Y, d), weight=_t(W, d)), ValueError,
     "Weights and input must have the same size"),
    (lambda d: F.l1_loss(_t(X, d), _t(Y, d), reduction="avg"), ValueError, "avg is not a valid value for reduction"),
    (lambda d: F.smooth_l1_loss(_t(X, d), _t(Y, d), beta=-1.0), RuntimeError, "negative values for beta"),
    (lambda d: F.huber_loss(_t(X, d), _t(Y, d), delta=0.0), RuntimeError, "non-positive values for delta"),
    (lambda d: F.cosine_embedding_loss(_t(V1, d), _t(V2, d), _t(V1, d)), RuntimeError, "0D or 1D target tensor"),
    (lambda d: F.cosine_embedding_loss(_t(V1, d), _t(V2, d), _t(1.0, d)), RuntimeError,
     "0D target tensor expects 1D input tensors"),
    (lambda d: F.margin_ranking_loss(_t(V1, d), _t(V2[:, 0], d), _t(SIGNS, d)), RuntimeError,
     "All input tensors should have same dimension"),
])
def test_mismatched_shapes_and_bad_options_raise_clear_errors(call, error, message, device):
    with pytest.raises(error, match=message):
        call(device)


def test_pointwise_losses_warn_when_target_broadcasts(device):
    with pytest.warns(UserWarning, match="Using a target size \\(\\[5\\]\\) that is different to the input size"):
        out = F.mse_loss(_t(X, device), _t(Y[0], device), reduction="sum")
    assert out.item() == pytest.approx(((X - Y[0]) ** 2).sum())


def test_legacy_size_average_and_reduce_map_to_reduction(device):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = F.mse_loss(_t(X, device), _t(Y, device), size_average=False)
    assert out.item() == pytest.approx(((X - Y) ** 2).sum())
    with pytest.warns(UserWarning):
        assert nn.MSELoss(reduce=False).reduction == "none"


# ---- modules -------------------------------------------------------------------------------------
def test_loss_modules_forward_their_options(device):
    x, t = _t(X, device), _t(T_IGNORED, device)
    w = _t(W, device)
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=-100, reduction="sum", label_smoothing=0.1)
    assert ce(x, t).item() == pytest.approx(_ce_ref(X, T_IGNORED, W, reduction="sum", label_smoothing=0.1))
    assert nn.NLLLoss(weight=w)(x, t).item() == pytest.approx(_nll_ref(X, T_IGNORED, W))
    assert nn.SmoothL1Loss(beta=0.7)(x, _t(Y, device)).item() == pytest.approx(_smooth_l1_ref(X - Y, 0.7).mean())
    assert nn.HuberLoss(delta=0.6, reduction="sum")(x, _t(Y, device)).item() == pytest.approx(
        _huber_ref(X - Y, 0.6).sum())
    bce = nn.BCEWithLogitsLoss(weight=w, pos_weight=w)
    assert bce(x, _t(Z, device)).item() == pytest.approx(_bce_logits_ref(X, Z, W, W))
    assert nn.BCELoss(reduction="none")(_t(PROB, device), _t(Z, device)).shape == (4, 5)
    assert nn.KLDivLoss(reduction="batchmean", log_target=True)(x, _t(Y, device)).item() == pytest.approx(
        (np.exp(Y) * (Y - X)).sum() / 4)
    assert nn.CosineEmbeddingLoss(margin=0.1)(_t(V1, device), _t(V2, device), _t(SIGNS, device)).item() == \
        pytest.approx(_cosine_ref(V1, V2, SIGNS, 0.1, "mean"))
    assert nn.MarginRankingLoss(margin=0.2, reduction="sum")(
        _t(V1[:, 0], device), _t(V2[:, 0], device), _t(SIGNS, device)).item() == pytest.approx(
        np.maximum(0, -SIGNS * (V1[:, 0] - V2[:, 0]) + 0.2).sum())
    assert nn.L1Loss()(x, _t(Y, device)).item() == pytest.approx(np.abs(X - Y).mean())


def test_loss_modules_register_class_weights_as_buffers_and_print_like_pytorch():
    ce = nn.CrossEntropyLoss(weight=ember.ones(3))
    assert dict(ce.named_buffers()).keys() == {"weight"}
    assert set(dict(nn.BCEWithLogitsLoss(pos_weight=ember.ones(3)).named_buffers())) == {"pos_weight"}
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert nn.CrossEntropyLoss().weight is None and nn.CrossEntropyLoss().reduction == "mean"


def test_cross_entropy_trains_a_classifier(device):
    ember.manual_seed(0)
    model = nn.Linear(5, 3).to(device)
    labels = np.arange(30) % 3
    x = _t(RNG.standard_normal((30, 5)) + 3 * np.eye(5)[labels], device, dtype=ember.float32)
    y = _t(labels, device)
    opt = ember.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(50):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.2 * first


# ---- against torch -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_losses_and_gradients_match_torch(reduction, device):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    cases = [
        (F.cross_entropy, tf.cross_entropy, [X, T_IGNORED], dict(weight=W, label_smoothing=0.15)),
        (F.cross_entropy, tf.cross_entropy, [X3, T3], dict()),
        (F.cross_entropy, tf.cross_entropy, [X, P], dict(weight=W, label_smoothing=0.1)),
        (F.nll_loss, tf.nll_loss, [X, T_IGNORED], dict(weight=W)),
        (F.binary_cross_entropy, tf.binary_cross_entropy, [PROB, Z], dict(weight=W)),
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, [X * 30, Z],
         dict(weight=W, pos_weight=W[::-1].copy())),
        (F.smooth_l1_loss, tf.smooth_l1_loss, [X, Y], dict(beta=0.5)),
        (F.huber_loss, tf.huber_loss, [X, Y], dict(delta=0.5)),
        (F.kl_div, tf.kl_div, [np.log(P), P[::-1].copy()], dict()),
        (F.cosine_embedding_loss, tf.cosine_embedding_loss, [V1, V2, SIGNS], dict(margin=0.2)),
        (F.margin_ranking_loss, tf.margin_ranking_loss, [V1[:, 0], V2[:, 0], SIGNS], dict(margin=0.1)),
    ]
    for ef, tfn, arrays, kw in cases:
        ein = [_t(a, device, grad=a.dtype.kind == "f" and i == 0) for i, a in enumerate(arrays)]
        tin = [torch.tensor(a, requires_grad=a.dtype.kind == "f" and i == 0) for i, a in enumerate(arrays)]
        ekw = {k: _t(v, device) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eo, to = ef(*ein, reduction=reduction, **ekw), tfn(*tin, reduction=reduction, **tkw)
        np.testing.assert_allclose(eo.detach().cpu().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=ef.__name__)
        eo.sum().backward()
        to.sum().backward()
        np.testing.assert_allclose(ein[0].grad.cpu().numpy(), tin[0].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=ef.__name__)
