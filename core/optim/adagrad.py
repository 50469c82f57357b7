"""Adagrad, as `torch.optim.Adagrad`."""
from __future__ import annotations

from .. import creation
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, advance_step, new_step_state


class Adagrad(Optimizer):
    r"""Adagrad.

    With g = -grad if maximize else grad, plus weight_decay * p, at step t:
    lr_t = lr / (1 + (t - 1) * lr_decay); s += g^2; p -= lr_t * g / (sqrt(s) + eps).
    The state ("step", "sum" = initial_accumulator_value) is created with the optimizer, as in PyTorch.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 1e-2).
        lr_decay: learning rate decay (default: 0).
        weight_decay: weight decay (L2 penalty) (default: 0).
        initial_accumulator_value: initial value of the sum of squared gradients (default: 0).
        eps: term added to the denominator for numerical stability (default: 1e-10).
        foreach: accepted for compatibility (ember updates one parameter at a time).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = new_step_state()
                state["sum"] = creation.full_like(p, group["initial_accumulator_value"])

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        lr, lr_decay, eps, weight_decay = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        step = advance_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = state["sum"]
        state_sum.addcmul_(grad, grad)
        std = state_sum.sqrt().add_(eps)
        p.addcdiv_(grad, std, value=-clr)
