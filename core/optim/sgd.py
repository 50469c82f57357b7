"""Stochastic gradient descent (optionally with momentum and Nesterov momentum), as `torch.optim.SGD`."""
from __future__ import annotations

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, fused_step


class SGD(Optimizer):
    r"""Stochastic gradient descent.

    With g = -grad if maximize else grad, and g += weight_decay * p: with momentum,
    b = momentum * b + (1 - dampening) * g (b = g on the first step) and g = g + momentum * b
    (nesterov) or g = b; then p -= lr * g.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 1e-3).
        momentum: momentum factor (default: 0).
        dampening: dampening for momentum (default: 0).
        weight_decay: L2 penalty (default: 0).
        nesterov: use Nesterov momentum (default: False).
        maximize: maximize the objective instead of minimizing it (default: False).
        foreach: accepted for compatibility; ember always runs one fused backend kernel per parameter.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _has_state(self, group: dict) -> bool:
        return group["momentum"] != 0

    def _update(self, p: Tensor, grad: Tensor, state: dict | None, group: dict) -> None:
        buf = state.get("momentum_buffer") if state is not None else None
        new = fused_step("sgd_step", p, grad, buf, lr=group["lr"], momentum=group["momentum"],
                         dampening=group["dampening"], weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                         maximize=group["maximize"])
        if state is not None and buf is None:
            state["momentum_buffer"] = new
