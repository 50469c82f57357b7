"""Lion, the sign-momentum optimizer of Chen et al. 2023 ("Symbolic Discovery of Optimization Algorithms").

The update follows the paper's Algorithm 2 and lucidrains/lion-pytorch: decoupled weight decay
first, then a step of size `lr` along the sign of an interpolation of momentum and gradient,
then the momentum update with its own coefficient `beta2`.
"""
from __future__ import annotations

from typing import Any, Callable

import ember
from ember.optim import Optimizer
from ember.optim.optimizer import ParamsT


class Lion(Optimizer):
    r"""Lion (EvoLved Sign Momentum).

    For each parameter p with gradient g and momentum m (zeros on the first step):
    p *= 1 - lr * weight_decay; c = beta1 * m + (1 - beta1) * g; p -= lr * sign(c);
    m = beta2 * m + (1 - beta2) * g. The step has the same size on every element, so Lion
    wants a learning rate 3-10x smaller than AdamW's, and a weight decay 3-10x larger.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 1e-4).
        betas: coefficients of the update interpolation and of the momentum (default: (0.9, 0.99)).
        weight_decay: decoupled weight decay, applied as `p *= 1 - lr * weight_decay` (default: 0).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0.0) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay))

    @ember.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step.

        Args:
            closure: re-evaluates the model and returns the loss (optional).

        Returns:
            The closure's loss, or None without a closure.
        """
        loss = None
        if closure is not None:
            with ember.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, weight_decay = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = ember.zeros_like(p)
                exp_avg = state["exp_avg"]
                if weight_decay != 0:
                    p.mul_(1 - lr * weight_decay)
                update = exp_avg.mul(beta1).add(grad, alpha=1 - beta1).sign()
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)
        return loss
