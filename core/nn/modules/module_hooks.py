"""Module hooks: the graph nodes behind `register_full_backward_hook` (handles are `ember.utils.hooks`)."""
from __future__ import annotations

from ...autograd.function import Function
from ...autograd.grad_mode import state as _grad_state
from ...tensor import Tensor

class _Identity(Function):
    """Passes tensors through; its backward hands the gradients to `on_grads`, which may replace them."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))


class BackwardHook:
    """One module call's full backward hooks: `hook(module, grad_input, grad_output)` runs once the
    gradients of the module's tensor inputs are known; pre-hooks `hook(module, grad_output)` run first."""

    def __init__(self, module, hooks, pre_hooks) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.n_inputs = 0
        self.input_hooked = False
        self.input_slots: list = []
        self.grad_outputs = None

    @staticmethod
    def _wrap(values: tuple, on_grads) -> tuple:
        """`values` with the tensors that require grad passed through one `_Identity` node."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v._rg]
        if not (_grad_state.enabled and positions):
            return values, positions
        out = list(values)
        for i, t in zip(positions, _Identity.apply(on_grads, *(values[i] for i in positions))):
            out[i] = t
        return tuple(out), positions

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = sum(isinstance(a, Tensor) for a in args)
        tensor_rank = {}
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                tensor_rank[i] = len(tensor_rank)
        args, positions = self._wrap(args, self._on_input_grads)
        self.input_hooked = bool(positions) and _grad_state.enabled
        self.input_slots = [tensor_rank[i] for i in positions]
        return args

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        values, _ = self._wrap((result,) if single else tuple(result), self._on_output_grads)
        if single:
            return values[0]
        if hasattr(result, "_fields"):  # a namedtuple
            return type(result)(*values)
        return type(result)(values) if isinstance(result, tuple) else list(values)

    def _on_output_grads(self, grads):
        for hook in list(self.pre_hooks.values()):
            out = hook(self.module, grads)
            if out is not None:
                grads = _as_tuple(out)
        self.grad_outputs = grads
        if not self.input_hooked:
            self._run_hooks((None,) * self.n_inputs)
        return grads

    def _on_input_grads(self, grads):
        full = [None] * self.n_inputs
        for slot, g in zip(self.input_slots, grads):
            full[slot] = g
        full = self._run_hooks(tuple(full))
        return tuple(full[slot] for slot in self.input_slots)

    def _run_hooks(self, grad_inputs):
        for hook in list(self.hooks.values()):
            out = hook(self.module, grad_inputs, self.grad_outputs)
            if out is not None:
                out = _as_tuple(out)
                if len(out) != len(grad_inputs):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                       f"but expected {len(grad_inputs)}")
                grad_inputs = out
        return grad_inputs


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)
