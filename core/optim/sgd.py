"""Stochastic gradient descent (optionally with momentum and Nesterov momentum), as `torch.optim.SGD`."""
from __future__ import annotations

from typing import Any, Callable

from ..autograd.grad_mode import no_grad
from ..tensor import _wrap
from .optimizer import Optimizer, ParamsT, follow_device


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

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; returns the closure's loss (None without a closure)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                state = follow_device(p, self.state[p]) if momentum != 0 else None
                buf = state.get("momentum_buffer") if state is not None else None
                new = p._bk.sgd_step(p._data, grad._data, None if buf is None else buf._data, lr=lr,
                                     momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                     nesterov=nesterov, maximize=maximize)
                p._version[0] += 1
                if state is not None and buf is None:
                    state["momentum_buffer"] = _wrap(new, p._bk, p._device)
        return loss
