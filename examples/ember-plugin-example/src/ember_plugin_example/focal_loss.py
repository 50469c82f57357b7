"""The focal loss of Lin et al. 2017 ("Focal Loss for Dense Object Detection") for binary logits.

The definition is torchvision's `torchvision.ops.sigmoid_focal_loss`, argument for argument: with
p = sigmoid(input) and t the target (0 or 1, or a probability),

    p_t = p * t + (1 - p) * (1 - t)
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    loss = alpha_t * (1 - p_t) ** gamma * binary_cross_entropy_with_logits(input, t)

and a negative `alpha` drops the alpha_t factor. gamma = 0 gives the alpha-weighted binary cross
entropy; gamma = 0 with alpha < 0 gives the plain one.
"""
from __future__ import annotations

from ember import Tensor, nn
from ember.nn import functional as F

_REDUCTIONS = ("none", "mean", "sum")


def _check_args(caller: str, alpha: float, gamma: float, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{caller}: invalid reduction {reduction!r}; expected one of "
                         f"{', '.join(repr(r) for r in _REDUCTIONS)}")
    if gamma < 0:
        raise ValueError(f"{caller}: gamma must be non-negative, got {gamma}")
    if alpha > 1:
        raise ValueError(f"{caller}: alpha must be at most 1 (or negative to disable the weighting), got {alpha}")


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> Tensor:
    """Focal loss of binary logits, as `torchvision.ops.sigmoid_focal_loss`.

    Args:
        inputs: logits of any shape.
        targets: binary labels (0 or 1, or soft labels in [0, 1]) of the same shape as `inputs`.
        alpha: weight of the positive class in [0, 1], the negative class getting `1 - alpha`;
            negative to weigh both alike (default: 0.25).
        gamma: exponent of the modulating factor `(1 - p_t)`, down-weighting easy examples (default: 2).
        reduction: "none" (the per-element losses), "mean" or "sum" (default: "none", as torchvision).

    Returns:
        The loss: a tensor of the shape of `inputs` for "none", a scalar otherwise.
    """
    _check_args("sigmoid_focal_loss", alpha, gamma, reduction)
    targets = targets.to(inputs.dtype)
    p = inputs.sigmoid()
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * (1 - p_t) ** gamma
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class FocalLoss(nn.Module):
    """Focal loss of binary logits: `sigmoid_focal_loss` (torchvision's definition) as a loss module.

    Args:
        alpha: weight of the positive class in [0, 1], the negative class getting `1 - alpha`;
            negative to weigh both alike (default: 0.25).
        gamma: exponent of the modulating factor `(1 - p_t)` (default: 2).
        reduction: "none", "mean" or "sum" (default: "mean", as PyTorch's loss modules).

    Shape:
        input (*) logits; target (*) labels, same shape; output scalar, or (*) for "none".
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, reduction: str = "mean") -> None:
        super().__init__()
        _check_args("FocalLoss", alpha, gamma, reduction)
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return sigmoid_focal_loss(input, target, alpha=self.alpha, gamma=self.gamma, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}"
