"""Loss functions, as `torch.nn.functional`.

`reduction` is "none" (the per-element losses), "mean" or "sum" everywhere (kl_div adds
"batchmean"). The legacy `size_average` / `reduce` arguments are still honoured, as in PyTorch.
Hot or numerically delicate losses apply the `Op`s of `ember.ops.losses` (analytic backward):
cross_entropy with class indices, nll_loss, binary_cross_entropy and binary_cross_entropy_with_logits.
"""
from __future__ import annotations

import warnings

from ... import dtypes
from ...arguments import check_same_device, check_tensor
from ...dtype_info import scalar_type_name
from ...ops import elementwise as ew
from ...ops.losses import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropyIndex, NllLoss, value_range
from ...tensor import Tensor
from .activation import log_softmax

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
           "margin_ranking_loss"]

_REDUCTIONS = ("none", "mean", "sum")


# ---- reduction and shape helpers ---------------------------------------------------------------
def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """`reduction`, or the string the deprecated `size_average` / `reduce` flags stand for."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='sum' (or 'mean', "
                  "'none') instead.", stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def _check_reduction(reduction: str, allowed: tuple = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction; expected one of "
                         f"{', '.join(repr(r) for r in allowed)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    _check_reduction(reduction)
    return loss


def _broadcast_shape(name: str, a: tuple, b: tuple, what: str = "target") -> tuple:
    n = max(len(a), len(b))
    a1, b1 = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a1, b1):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{name}: input of shape {list(a)} and {what} of shape {list(b)} are not "
                               "broadcastable; give them the same shape")
        out.append(max(x, y) if x and y else 0)
    return tuple(out)


def _pointwise_operands(name: str, input: Tensor, target: Tensor) -> None:
    """PyTorch's rule for pointwise regression losses: broadcast, with a warning when the shapes differ."""
    if target.shape != input.shape:
        _broadcast_shape(name, input.shape, target.shape)
        warnings.warn(f"Using a target size ({list(target.shape)}) that is different to the input size "
                      f"({list(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _weighted(name: str, loss: Tensor, input: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """PyTorch's optional per-element `weight` of the regression losses: mean is sum(w * l) / sum(w)."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError(f"{name}: Weights and input must have the same size (weight {list(weight.shape)}, "
                         f"input {list(input.shape)}).")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ---- regression losses -------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Squared error (input - target)^2, reduced; `weight` scales each element (mean = weighted mean)."""
    check_tensor(input, "mse_loss")
    check_tensor(target, "mse_loss", "target", 2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _pointwise_operands("mse_loss", input, target)
    diff = input - target
    return _weighted("mse_loss", diff * diff, input, weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Absolute error `|input - target|`, reduced; `weight` scales each element (mean = weighted mean)."""
    check_tensor(input, "l1_loss")
    check_tensor(target, "l1_loss", "target", 2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _pointwise_operands("l1_loss", input, target)
    return _weighted("l1_loss", (input - target).abs(), input, weight, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """`0.5 * z^2 / beta` where `z = |input - target| < beta`, else `z - 0.5 * beta` (l1_loss when beta == 0)."""
    check_tensor(input, "smooth_l1_loss")
    check_tensor(target, "smooth_l1_loss", "target", 2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}.")
    _pointwise_operands("smooth_l1_loss", input, target)
    z = (input - target).abs()
    if beta == 0.0:
        return _reduce(z, reduction)
    return _reduce(ew.where(z < beta, z * z * (0.5 / beta), z - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """`0.5 * z^2` where `z = |input - target| < delta`, else `delta * (z - 0.5 * delta)`."""
    check_tensor(input, "huber_loss")
    check_tensor(target, "huber_loss", "target", 2)
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}.")
    _pointwise_operands("huber_loss", input, target)
    z = (input - target).abs()
    loss = ew.where(z < delta, z * z * 0.5, (z - 0.5 * delta) * delta)
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError(f"huber_loss: Weights and input must have the same size (weight {list(weight.shape)}, "
                         f"input {list(input.shape)}).")
    return _reduce(loss * weight, reduction)


# ---- classification with class indices ---------------------------------------------------------
def _class_layout(name: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """(input with the class dim at 1 and a batch dim, int64 target to match, whether a batch dim was added)."""
    if input._data.ndim < 1:
        raise ValueError(f"{name}: Expected 1 or more dimensions (got {input.ndim})")
    if target._device is not input._device:
        raise RuntimeError(f"{name}: expected input and target on the same device, but found input on "
                           f"{input.device} and target on {target.device}; move the target with "
                           f".to({str(input.device)!r})")
    if target._dtype is not dtypes.int64:
        if target._dtype._kind == 1 and target._dtype is not dtypes.uint8:
            raise RuntimeError(f"{name}: expected target dtype to be Long or Byte, but got "
                               f"{scalar_type_name(target._dtype)} (target of shape {list(target.shape)}, input of "
                               f"shape {list(input.shape)})")
        if target._dtype.is_floating_point or target._dtype is dtypes.bool:
            raise RuntimeError(f"{name}: class-index targets must be an integer tensor (int64), got "
                               f"{target.dtype.name} target of shape {list(target.shape)} for input of shape "
                               f"{list(input.shape)}" + ("; for class probabilities, give target the input's shape"
                                                         if name == "cross_entropy" else ""))
        target = target.long()
    shape, t_shape = input._data.shape, target._data.shape
    if len(shape) == 1:
        if target.ndim != 0:
            raise ValueError(f"{name}: for an input of shape {list(input.shape)} (no batch dimension) the target "
                             f"must be 0-d, got shape {list(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), True
    if not t_shape or shape[0] != t_shape[0]:
        raise ValueError(f"{name}: Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({t_shape[0] if t_shape else 'none: target is 0-d'}).")
    expected = shape[:1] + shape[2:]
    if t_shape != expected:
        raise RuntimeError(f"{name}: Expected target size {list(expected)}, got {list(target.shape)} "
                           f"(input {list(input.shape)}: classes are dim 1)")
    return input, target, False


def _check_class_weight(name: str, n_classes: int, weight: Tensor | None) -> None:
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {n_classes} classes or no classes "
                           f"but got weight tensor of shape: {list(weight.shape)}")


def _check_class_targets(name: str, n_classes: int, target: Tensor, weight: Tensor | None, ignore_index: int) -> bool:
    """Validate class-index targets and `weight`; True when some target may equal `ignore_index` (needs a mask)."""
    _check_class_weight(name, n_classes, weight)
    lo, hi = value_range(target)
    if 0 <= lo and hi < n_classes and not lo <= ignore_index <= hi:
        return False
    valid = target != ignore_index
    lo, hi = value_range(ew.where(valid, target, 0))
    if lo < 0 or hi >= n_classes:
        host = target.cpu().numpy()
        bad = host[(host != ignore_index) & ((host < 0) | (host >= n_classes))].flat[0]
        raise IndexError(f"{name}: Target {int(bad)} is out of bounds (classes 0..{n_classes - 1}"
                         f"{f', ignore_index {ignore_index}' if ignore_index != -100 else ''}).")
    return True


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: -weight[t] * input[n, t] for class index t = target[n].

    Shapes: input (N, C) or (C,) or (N, C, d1, ..., dK) of log-probabilities; target (N,), () or
    (N, d1, ..., dK) of class indices in [0, C) or `ignore_index` (contributes nothing). "mean"
    divides by the sum of the targets' weights (their count without `weight`).
    """
    check_tensor(input, "nll_loss")
    check_tensor(target, "nll_loss", "target", 2)
    check_same_device("nll_loss", input, target=target, weight=weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, t, unbatched = _class_layout("nll_loss", input, target)
    masked = _check_class_targets("nll_loss", x.shape[1], t, weight, ignore_index)
    out = NllLoss.apply(x, t, weight, ignore_index=ignore_index, masked=masked, reduction=reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits `input` and `target`: log_softmax over the class dim, then NLL.

    Shapes: input (N, C), (C,) or (N, C, d1, ..., dK) of unnormalized logits; target either class
    indices ((N,), () or (N, d1, ..., dK), int64, may hold `ignore_index`) or class probabilities
    (input's shape, floating). `weight` (C,) rescales each class; "mean" then divides by the sum
    of the targets' weights (class indices) or by the number of samples (probabilities).
    `label_smoothing` in [0, 1] mixes the target with the uniform distribution.
    """
    check_tensor(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target", 2)
    check_same_device("cross_entropy", input, target=target, weight=weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim >= 1 and target.shape == input.shape:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing)
    x, t, unbatched = _class_layout("cross_entropy", input, target)
    masked = _check_class_targets("cross_entropy", x.shape[1], t, weight, ignore_index)
    if label_smoothing > 0.0:
        out = _cross_entropy_smoothed(x, t, weight, ignore_index, masked, reduction, label_smoothing)
    else:
        out = CrossEntropyIndex.apply(x, t, weight, ignore_index=ignore_index, masked=masked, reduction=reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _class_weight(weight: Tensor, ndim: int) -> Tensor:
    """`weight` (C,) shaped to broadcast along dim 1 of an `ndim`-d input."""
    return weight.reshape((1, weight.shape[0]) + (1,) * (ndim - 2))


def _cross_entropy_smoothed(x: Tensor, t: Tensor, weight, ignore_index: int, masked: bool, reduction: str,
                            label_smoothing: float) -> Tensor:
    """PyTorch's label smoothing: (1 - s) * nll + s / C * sum_c -w_c log p_c (ignored targets give 0)."""
    n_classes = x.shape[1]
    logp = log_softmax(x, 1)
    nll = NllLoss.apply(logp, t, weight, ignore_index=ignore_index, masked=masked, reduction=reduction)
    if weight is not None:
        smooth = -(logp * _class_weight(weight, x.ndim)).sum(1)
    else:
        smooth = -logp.sum(1)
    valid = t != ignore_index
    smooth = ew.where(valid, smooth, 0.0)
    if reduction == "mean":
        if weight is not None:
            denom = (weight.to(x.dtype)[ew.where(valid, t, 0)] * valid.to(x.dtype)).sum()
        else:
            denom = valid.sum().to(x.dtype)
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _cross_entropy_probs(input: Tensor, target: Tensor, weight, ignore_index: int, reduction: str,
                         label_smoothing: float) -> Tensor:
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"cross_entropy: Expected floating point type for target with class probabilities, got "
                           f"{target.dtype.name}")
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for floating point target")
    unbatched = input.ndim == 1
    x, p = (input.unsqueeze(0), target.unsqueeze(0)) if unbatched else (input, target)
    n_classes = x.shape[1]
    if label_smoothing > 0.0:
        p = p * (1 - label_smoothing) + label_smoothing / n_classes
    logp = log_softmax(x, 1)
    _check_class_weight("cross_entropy", n_classes, weight)
    if weight is not None:
        logp = logp * _class_weight(weight, x.ndim)
    loss = -(logp * p).sum(1)
    if reduction == "mean":
        return loss.sum() / (x.numel() // n_classes)
    if reduction == "sum":
        return loss.sum()
    return loss.reshape(()) if unbatched else loss


# ---- binary classification ---------------------------------------------------------------------
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross entropy between probabilities `input` (in [0, 1]) and `target`:
    -weight * (target * log(input) + (1 - target) * log(1 - input)), each log clamped at -100.
    `weight` broadcasts to the target's shape."""
    check_tensor(input, "binary_cross_entropy")
    check_tensor(target, "binary_cross_entropy", "target", 2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: Using a target size ({list(target.shape)}) that is different to "
                         f"the input size ({list(input.shape)}) is deprecated. Please ensure they have the same size.")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"binary_cross_entropy: expected a floating-point input, got {input.dtype.name}")
    if target._dtype is not input._dtype:
        raise RuntimeError(f"binary_cross_entropy: Found dtype {scalar_type_name(target._dtype)} but expected "
                           f"{scalar_type_name(input._dtype)} (target and input of shape {list(input.shape)})")
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        _broadcast_shape("binary_cross_entropy", target.shape, weight.shape, "weight")
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """sigmoid + binary cross entropy in one stable expression (finite loss and gradient for any logit):
    -weight * (pos_weight * z * log(sigmoid(x)) + (1 - z) * log(1 - sigmoid(x))).

    `weight` broadcasts to the input's shape; `pos_weight` weighs the positive examples of each class
    and broadcasts along the last (class) dimension.
    """
    check_tensor(input, "binary_cross_entropy_with_logits")
    check_tensor(target, "binary_cross_entropy_with_logits", "target", 2)
    check_same_device("binary_cross_entropy_with_logits", input, target=target, weight=weight, pos_weight=pos_weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: Target size ({list(target.shape)}) must be the same "
                         f"as input size ({list(input.shape)})")
    if not target._dtype.is_floating_point:
        raise RuntimeError(f"binary_cross_entropy_with_logits: result type {scalar_type_name(input._dtype)} can't be "
                           f"cast to the desired output type {scalar_type_name(target._dtype)} (target of shape "
                           f"{list(target.shape)}); convert the target with .float()")
    if pos_weight is not None:
        if _broadcast_shape("binary_cross_entropy_with_logits", input.shape, pos_weight.shape,
                            "pos_weight") != tuple(input.shape):
            raise RuntimeError(f"binary_cross_entropy_with_logits: pos_weight of shape {list(pos_weight.shape)} "
                               f"must broadcast to the input's shape {list(input.shape)} (one value per class, "
                               "along the last dimension)")
        pos_weight = pos_weight.to(input.dtype)
    loss = BinaryCrossEntropyWithLogits.apply(input, target.to(input.dtype), pos_weight)
    if weight is not None:
        _broadcast_shape("binary_cross_entropy_with_logits", input.shape, weight.shape, "weight")
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- distributions, embeddings and ranking -----------------------------------------------------
def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence, pointwise target * (log(target) - input) with `input` a
    log-probability (0 where target == 0), or exp(target) * (target - input) when `log_target`.

    "batchmean" divides the sum by the batch size (the KL divergence proper); "mean" divides by the
    number of elements (warned, as in PyTorch).
    """
    check_tensor(input, "kl_div")
    check_tensor(target, "kl_div", "target", 2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, _REDUCTIONS + ("batchmean",))
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    _broadcast_shape("kl_div", input.shape, target.shape)
    if log_target:
        loss = ew.exp(target) * (target - input)
    else:
        loss = target * ew.log(ew.where(target == 0, 1.0, target)) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1.

    Shapes: input1, input2 (N, D) with target (N,), or (D,) with a 0-d target.
    """
    check_tensor(input1, "cosine_embedding_loss", "input1", 1)
    check_tensor(input2, "cosine_embedding_loss", "input2", 2)
    check_tensor(target, "cosine_embedding_loss", "target", 3)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    tdim = target.ndim
    if tdim not in (0, 1):
        raise RuntimeError(f"cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported "
                           f"(target shape {list(target.shape)})")
    if input1.ndim != tdim + 1 or input2.ndim != tdim + 1:
        raise RuntimeError(f"cosine_embedding_loss: {tdim}D target tensor expects {tdim + 1}D input tensors, but "
                           f"found inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    if input1.shape != input2.shape or (tdim == 1 and input1.shape[0] != target.shape[0]):
        raise RuntimeError(f"cosine_embedding_loss: input1 {list(input1.shape)}, input2 {list(input2.shape)} and "
                           f"target {list(target.shape)} must agree (inputs equal, target one entry per row)")
    prod = (input1 * input2).sum(tdim)
    mag1 = (input1 * input1).sum(tdim) + 1e-12
    mag2 = (input2 * input2).sum(tdim) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    loss = ew.where(target == 1, 1 - cos, 0.0) + ew.where(target == -1, ew.clamp(cos - margin, 0.0, None), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin): target 1 ranks input1 higher, -1 input2."""
    check_tensor(input1, "margin_ranking_loss", "input1", 1)
    check_tensor(input2, "margin_ranking_loss", "input2", 2)
    check_tensor(target, "margin_ranking_loss", "target", 3)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: {list(target.shape)} ")
    return _reduce(ew.clamp(-target * (input1 - input2) + margin, 0.0, None), reduction)
