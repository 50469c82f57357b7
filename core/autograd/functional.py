"""`ember.autograd.backward` and `ember.autograd.grad`."""
from __future__ import annotations

import math

from .._tensor_base import Tensor, _wrap
from .engine import run_backward


def _as_list(x) -> list:
    if x is None:
        return []
    return [x] if isinstance(x, Tensor) else list(x)


def _root_grads(outputs: list, grad_outputs: list, create_graph: bool) -> list:
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_tensors should have the same length as tensors ({len(grad_outputs)} vs {len(outputs)})")
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs else None
        if not out._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            shape = out._data.shape
            if math.prod(shape) != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs (got shape "
                                   f"{list(shape)}); pass gradient= with the output's shape")
            bk = out._bk
            g = _wrap(bk.full(shape, 1, out._dtype), bk, out._device, out._dtype)
        elif not isinstance(g, Tensor):
            g = out.new_full(out.shape, g)
        else:
            if g.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and "
                                   f"output[{i}] has a shape of {list(out.shape)}.")
            if g.device is not out.device:
                raise RuntimeError(f"grad_output[{i}] is on {g.device} but output[{i}] is on {out.device}")
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the graph's leaves.

    `grad_tensors` are the vectors of the vector-Jacobian product (needed unless every tensor
    has one element). The graph is freed afterwards unless `retain_graph`; `create_graph`
    records the backward pass itself, for higher-order derivatives. With `inputs`, only those
    tensors' `.grad` are accumulated.
    """
    outputs = _as_list(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, _as_list(grad_tensors) if not isinstance(grad_tensors, Tensor) else [grad_tensors],
                        create_graph)
    if inputs is None:
        run_backward(outputs, grads, retain_graph, create_graph)
        return
    inputs = _as_list(inputs)
    results = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False)
    for t, g in zip(inputs, results):
        if g is not None:
            if not create_graph:
                g = g.clone()  # the gradient may share memory with the caller's (or another input's)
            with t._edge()[0].grad_lock:
                t._grad = g if t._grad is None else t._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, returned (not accumulated into `.grad`).

    An input the outputs do not depend on raises unless `allow_unused=True` (then its gradient
    is None, or zeros with `materialize_grads=True`).
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    goutputs = grad_outputs if not isinstance(grad_outputs, Tensor) else [grad_outputs]
    grads = _root_grads(outs, _as_list(goutputs), create_graph)
    results = run_backward(outs, grads, retain_graph, create_graph, inputs=ins, accumulate=False)
    final = []
    for i, (t, g) in enumerate(zip(ins, results)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been used in "
                                   "the graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = t.new_zeros(t.shape)
        final.append(g)
    return tuple(final)
