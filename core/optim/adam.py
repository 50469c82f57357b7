"""Adam, as `torch.optim.Adam` (with AMSGrad, maximize and optional decoupled weight decay)."""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, advance_step, fused_step, new_step_state


def check_adam_args(lr: float, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    """PyTorch's argument checks shared by the Adam family."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    r"""Adam.

    With g = -grad if maximize else grad (plus weight_decay * p, or `p *= 1 - lr * weight_decay`
    when decoupled): m = lerp(m, g, 1 - beta1); v = beta2 * v + (1 - beta2) * g * g
    (v_max = max(v_max, v) with amsgrad);
    p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay (L2 penalty) (default: 0).
        amsgrad: use the AMSGrad variant (default: False).
        maximize: maximize the objective instead of minimizing it (default: False).
        foreach: accepted for compatibility; ember always runs one fused backend kernel per parameter.
        decoupled_weight_decay: decay the weights directly, as AdamW (default: False).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay, amsgrad = group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        if len(state) == 0:
            state["step"] = new_step_state()
            state["exp_avg"] = creation.zeros_like(p)
            state["exp_avg_sq"] = creation.zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = creation.zeros_like(p)
        step = advance_step(state)
        fused_step("adam_step", p, grad, state["exp_avg"], state["exp_avg_sq"],
                   state["max_exp_avg_sq"] if amsgrad else None,
                   step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                   decoupled_weight_decay=decoupled, maximize=maximize)
