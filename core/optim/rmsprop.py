"""RMSprop, as `torch.optim.RMSprop`."""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, advance_step, new_step_state


class RMSprop(Optimizer):
    r"""RMSprop.

    With g = -grad if maximize else grad, plus weight_decay * p: v = alpha * v + (1 - alpha) * g^2;
    centered: a = lerp(a, g, 1 - alpha), denom = sqrt(v - a^2) + eps, else denom = sqrt(v) + eps;
    with momentum: b = momentum * b + g / denom, p -= lr * b; else p -= lr * g / denom.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 1e-2).
        alpha: smoothing constant (default: 0.99).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay (L2 penalty) (default: 0).
        momentum: momentum factor (default: 0).
        centered: normalize by an estimate of the gradient's variance (default: False).
        foreach: accepted for compatibility (ember updates one parameter at a time).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        weight_decay, centered = group["weight_decay"], group["centered"]
        if len(state) == 0:
            state["step"] = new_step_state()
            state["square_avg"] = creation.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = creation.zeros_like(p)
            if centered:
                state["grad_avg"] = creation.zeros_like(p)
        advance_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = (square_avg - grad_avg * grad_avg).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg.add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)
