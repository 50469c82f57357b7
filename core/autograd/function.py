"""`ember.autograd.Function`: user-defined differentiable operations, as in PyTorch.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

`forward` runs without recording a graph and returns a tensor or a tuple of tensors;
`backward` gets one gradient per output and returns one per `forward` argument (None for
arguments that are not tensors or need no gradient). Written with tensor ops, a backward is
itself differentiable, so `create_graph=True` works through custom functions too.
"""
from __future__ import annotations

from .._tensor_base import Tensor
from .grad_mode import no_grad, state as _grad_state
from .node import Node


class FunctionCtx(Node):
    """The `ctx` of a custom Function: the graph node for one call of `apply`."""

    def __init__(self, fn_cls) -> None:
        self._fn_cls = fn_cls
        self._non_differentiable: set = set()
        self._dirty: set = set()
        self.materialize_grads = True

    def name(self) -> str:
        """The node's name, `<Function>Backward`."""
        return f"{self._fn_cls.__name__}Backward"

    def mark_non_differentiable(self, *tensors) -> None:
        """These outputs get no gradient (e.g. integer indices)."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """These inputs were modified in place by forward."""
        self._dirty.update(id(t) for t in tensors)

    def grad_place(self, nr: int) -> tuple:
        """`(backend, device)` of the gradient of output `nr` (that output's own)."""
        zeros = self._out_meta[nr][0]
        return zeros._bk, zeros._device

    def set_materialize_grads(self, value: bool) -> None:
        """When True (default), missing output gradients reach backward as zeros rather than None."""
        self.materialize_grads = bool(value)

    def backward(self, *grads):
        if self.materialize_grads:
            grads = tuple(g if g is not None else meta[0].new_zeros(meta[1])
                          for g, meta in zip(grads, self._out_meta))
        result = self._fn_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self.next_edges)
        if len(result) < n or any(r is not None for r in result[n:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(result)})")
        result = result[:n]
        for i, (g, shape) in enumerate(zip(result, self._in_shapes)):
            if g is not None and self.next_edges[i] is not None:
                if not isinstance(g, Tensor):
                    raise TypeError(f"function {self.name()} returned a {type(g).__name__} gradient at index {i}")
                if g.shape != shape:
                    raise RuntimeError(f"function {self.name()} returned an invalid gradient at index {i} - got "
                                       f"{list(g.shape)} but expected shape compatible with {list(shape)}")
        return tuple(g if e is not None else None for g, e in zip(result, self.next_edges))


class Function:
    """Base class for custom autograd operations: define static `forward(ctx, ...)` and `backward(ctx, ...)`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs, saving on `ctx` what `backward` needs; override as a staticmethod."""
        raise RuntimeError("a custom Function must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients of the inputs (one per input, or None) from those of the outputs; override as a staticmethod."""
        raise RuntimeError("a custom Function must define a static backward(ctx, *grad_outputs) to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run `forward` on the arguments, recording the op in the graph when an input requires grad."""
        ctx = FunctionCtx(cls)
        needs = tuple(isinstance(a, Tensor) and a._rg for a in args)
        record = _grad_state.enabled and any(needs)
        ctx.needs_input_grad = needs
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not record:
            return outputs
        ctx.next_edges = tuple(a._edge() if n else None for a, n in zip(args, needs))
        ctx._in_shapes = tuple(a.shape if isinstance(a, Tensor) else None for a in args)
        ctx.n_outputs = len(outs)
        wrapped = []
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor) or id(o) in ctx._non_differentiable or not o.dtype.is_floating_point:
                wrapped.append(o)
                continue
            if id(o) in input_ids and id(o) not in ctx._dirty:
                o = o.detach()  # an input returned as is becomes a new tensor in the graph, as in PyTorch
            o._grad_fn, o._output_nr, o._rg = ctx, i, True
            wrapped.append(o)
        ctx._out_meta = tuple((o.new_zeros(()), o.shape) if isinstance(o, Tensor) else (None, None) for o in wrapped)
        return wrapped[0] if single else tuple(wrapped)
