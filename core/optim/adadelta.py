"""Adadelta, as `torch.optim.Adadelta`."""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, advance_step, new_step_state


class Adadelta(Optimizer):
    r"""Adadelta.

    With g = -grad if maximize else grad, plus weight_decay * p: v = rho * v + (1 - rho) * g^2;
    d = sqrt(u + eps) / sqrt(v + eps) * g; u = rho * u + (1 - rho) * d^2; p -= lr * d.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: coefficient that scales delta before it is applied to the parameters (default: 1.0).
        rho: coefficient of the running averages of the squared gradient and update (default: 0.9).
        eps: term added to the denominator for numerical stability (default: 1e-6).
        weight_decay: weight decay (L2 penalty) (default: 0).
        foreach: accepted for compatibility (ember updates one parameter at a time).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        if len(state) == 0:
            state["step"] = new_step_state()
            state["square_avg"] = creation.zeros_like(p)
            state["acc_delta"] = creation.zeros_like(p)
        advance_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)
