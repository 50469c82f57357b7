"""AdamW: Adam with decoupled weight decay, as `torch.optim.AdamW`."""
from __future__ import annotations

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    r"""AdamW: Adam whose weight decay acts on the weights directly (`p *= 1 - lr * weight_decay`)
    instead of entering the gradient averages.

    Args:
        params: parameters, named parameters or parameter groups to optimize.
        lr: learning rate (default: 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay coefficient (default: 1e-2).
        amsgrad: use the AMSGrad variant (default: False).
        maximize: maximize the objective instead of minimizing it (default: False).
        foreach: accepted for compatibility; ember always runs one fused backend kernel per parameter.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
