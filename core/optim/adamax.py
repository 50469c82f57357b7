"""Adamax (Adam with the infinity norm), as `torch.optim.Adamax`."""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from .adam import check_adam_args
from .optimizer import Optimizer, ParamsT, advance_step, new_step_state


class Adamax(Optimizer):
    r"""Adamax.

    With g = -grad if maximize else grad, plus weight_decay * p: m = lerp(m, g, 1 - beta1);
    `u = max(beta2 * u, |g| + eps)`; p -= lr / (1 - beta1^t) * m / u.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 2e-3).
        betas: coefficients of the running averages of the gradient and its infinity norm (default: (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay (L2 penalty) (default: 0).
        foreach: accepted for compatibility (ember updates one parameter at a time).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        if len(state) == 0:
            state["step"] = new_step_state()
            state["exp_avg"] = creation.zeros_like(p)
            state["exp_inf"] = creation.zeros_like(p)
        step = advance_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.mul_(beta2).maximum_(grad.abs().add_(eps))
        clr = lr / (1 - beta1 ** step)
        p.addcdiv_(exp_avg, exp_inf, value=-clr)
