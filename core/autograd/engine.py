"""The backward pass: dependency counting over the graph, then nodes in topological order.

Both walks are iterative (explicit stacks), so graphs of any depth work without recursion.
When no graph of the backward is being recorded (`create_graph=False`), the engine calls a node's
array-level `backward_arrays` where it has one: the first-order gradient in backend kernels, with no
Tensors or nodes made inside the op. Otherwise it calls the differentiable tensor-op `backward`.
"""
from __future__ import annotations

from .grad_mode import state as _grad_state
from .node import AccumulateGrad, _wrap


def _collect(root_nodes) -> dict:
    """How many edges point at each node reachable from `root_nodes` (0 for roots nothing points at)."""
    deps = dict.fromkeys(root_nodes, 0)
    stack = list(deps)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None:
                nxt = edge[0]
                n = deps.get(nxt)
                if n is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = n + 1
    return deps


def _needed(root_nodes, targets) -> set:
    """Nodes from which some target node can be reached (the rest need not run)."""
    needed: set = set()
    done: set = set()
    for root in root_nodes:
        if root in done:
            continue
        stack = [(root, iter(root.next_edges))]
        done.add(root)
        while stack:
            node, edges = stack[-1]
            advanced = False
            for edge in edges:
                if edge is not None and edge[0] not in done:
                    done.add(edge[0])
                    stack.append((edge[0], iter(edge[0].next_edges)))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            if node in targets or any(e is not None and e[0] in needed for e in node.next_edges):
                needed.add(node)
    return needed


def run_backward(roots, root_grads, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True):
    """Back-propagate `root_grads` from `roots`.

    With `inputs` (a list of tensors), returns their gradients (None where unreachable);
    otherwise accumulates into the `.grad` of the leaves.
    """
    root_edges = [t._edge() for t in roots]
    root_nodes = list(dict.fromkeys(node for node, _ in root_edges))
    deps = _collect(root_nodes)

    captures = None
    needed = None
    if inputs is not None:
        captures = {}
        for i, t in enumerate(inputs):
            captures.setdefault(t._edge(), []).append(i)
        needed = _needed(root_nodes, {node for node, _ in captures})
    results = [None] * (len(inputs) if inputs is not None else 0)

    buffers: dict = {}
    stolen = {id(g) for g in root_grads}
    for (node, nr), g in zip(root_edges, root_grads):
        _add_to_buffer(buffers, node, nr, g)
    ready = [n for n in root_nodes if deps[n] == 0]

    first_order = not create_graph
    prev = _grad_state.enabled
    _grad_state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grad = buffers.pop(node, None)  # the gradient (one output) or a list of them
            if grad is not None and (captures is not None or node._pre_hooks is not None):
                grad = _observe(node, grad, node.n_outputs == 1, captures, results)
            if node.__class__ is AccumulateGrad:
                if accumulate and grad is not None:
                    node.accumulate(grad, create_graph, stolen)
                continue
            edges = node.next_edges
            if grad is None or (needed is not None and node not in needed):
                in_grads = (None,) * len(edges)
            else:
                fast = node.__class__.backward_arrays if first_order else None
                in_grads = None if fast is None else _array_backward(node, fast, grad)
                if in_grads is None:
                    in_grads = node.backward(grad) if node.n_outputs == 1 else node.backward(*grad)
                n = len(in_grads)
                if n != len(edges):
                    raise RuntimeError(f"{node.name()} returned {n} gradients, expected {len(edges)}")
                if n == 2:  # binary ops: _mark_shared inline (id(None) in `stolen` is harmless)
                    if in_grads[0] is in_grads[1]:
                        stolen.add(id(in_grads[0]))
                elif n > 2:
                    _mark_shared(in_grads, stolen)
                if not retain_graph:  # node.release(), inline
                    node._saved = node._out = None
                    node._released = True
            for edge, g in zip(edges, in_grads):
                if edge is None:
                    continue
                nxt = edge[0]
                if g is not None:
                    if nxt.n_outputs == 1:  # _add_to_buffer inline
                        old = buffers.get(nxt)
                        buffers[nxt] = g if old is None else old + g
                    else:
                        _add_to_buffer(buffers, nxt, edge[1], g)
                left = deps[nxt] - 1
                deps[nxt] = left
                if not left:
                    ready.append(nxt)
    finally:
        _grad_state.enabled = prev
    return results


def _array_backward(node, fast, grad):
    """`fast` (the `backward_arrays` of `node`'s class; an `Op` has one output) on the native array of
    `grad`, the arrays it returns wrapped as tensors; None when the node declines (then `backward` runs).

    An array returned twice, or the incoming gradient's own array, keeps one tensor, so the engine's
    ownership bookkeeping (`stolen`) sees the sharing."""
    gd = grad._data
    arrays = fast(node, gd)
    if arrays is None:
        return None
    bk, device = node.bk, node.device
    if len(arrays) == 1:  # the common unary case
        a = arrays[0]
        return (None if a is None else grad if a is gd else _wrap(a, bk, device),)
    made = [(gd, grad)]
    grads = []
    for a in arrays:
        if a is None:
            grads.append(None)
            continue
        for known, t in made:
            if known is a:
                break
        else:
            t = _wrap(a, bk, device)
            made.append((a, t))
        grads.append(t)
    return grads


def _add_to_buffer(buffers: dict, node, nr: int, g) -> None:
    """Sum `g` into the pending gradient of `node`'s output `nr` (kept bare for one-output nodes)."""
    if node.n_outputs == 1:
        old = buffers.get(node)
        buffers[node] = g if old is None else old + g
        return
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node.n_outputs
    old = buf[nr]
    buf[nr] = g if old is None else old + g


def _mark_shared(grads, stolen: set) -> None:
    """Add to `stolen` a gradient sent along several edges: no leaf may take it as its `.grad` uncopied,
    since another thread's backward may add into that `.grad` in place while this pass still reads it."""
    seen = set()
    for g in grads:
        if g is not None:
            i = id(g)
            if i in seen:
                stolen.add(i)
            seen.add(i)


def _observe(node, grad, single: bool, captures, results):
    """Record gradients that `autograd.grad` asked for and run tensor hooks; returns the (new) gradient."""
    grads = [grad] if single else grad
    if captures is not None:
        for nr, g in enumerate(grads):
            for i in captures.get((node, nr), ()):
                results[i] = g
    if node._pre_hooks is not None:
        for nr, hooks in node._pre_hooks.items():
            for hook in hooks:
                if grads[nr] is not None:
                    result = hook(grads[nr])
                    if result is not None:
                        grads[nr] = result
    return grads[0] if single else grads
