"""NAdam (Adam with Nesterov momentum), as `torch.optim.NAdam`."""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from .adam import check_adam_args
from .optimizer import Optimizer, ParamsT, advance_step, new_step_state, scalar_dtype


class NAdam(Optimizer):
    r"""NAdam.

    With g = -grad if maximize else grad (plus weight_decay * p, or `p *= 1 - lr * weight_decay` when
    decoupled), mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)), P_t = prod(mu_1..mu_t):
    m = lerp(m, g, 1 - beta1); v = beta2 * v + (1 - beta2) * g^2; d = sqrt(v / (1 - beta2^t)) + eps;
    p -= lr * (1 - mu_t) / (1 - P_t) * g / d + lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 2e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay (default: 0).
        momentum_decay: momentum decay psi (default: 4e-3).
        decoupled_weight_decay: decay the weights directly, as NAdamW (default: False).
        foreach: accepted for compatibility (ember updates one parameter at a time).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay, momentum_decay = group["lr"], group["eps"], group["weight_decay"], \
            group["momentum_decay"]
        if len(state) == 0:
            state["step"] = new_step_state()
            state["mu_product"] = creation.ones((), dtype=scalar_dtype(), device="cpu")
            state["exp_avg"] = creation.zeros_like(p)
            state["exp_avg_sq"] = creation.zeros_like(p)
        step = advance_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(p, alpha=weight_decay)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product_t = state["mu_product"]
        mu_product_t *= mu
        mu_product = mu_product_t.item()
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2 ** step).sqrt_().add_(eps)
        p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1.0 - mu_product * mu_next))
