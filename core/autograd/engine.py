"""The backward pass: dependency counting over the graph, then nodes in topological order.

Both walks are iterative (explicit stacks), so graphs of any depth work without recursion.
When no graph of the backward is being recorded (`create_graph=False`), gradients travel between
nodes as native arrays and the engine calls a node's array-level `backward_arrays` where it has one:
the first-order gradient in backend kernels, with no Tensors or nodes made per op; tensors are made
only for leaves' `.grad`, hooks and nodes without one. Otherwise it calls the differentiable
tensor-op `backward` on tensors.
"""
from __future__ import annotations

from .grad_mode import state as _grad_state
from .node import AccumulateGrad, Op, _wrap


def _collect(root_nodes) -> dict:
    """How many edges point at each node reachable from `root_nodes` (0 for roots nothing points at)."""
    deps = dict.fromkeys(root_nodes, 0)
    stack = list(deps)
    pop, push, get = stack.pop, stack.append, deps.get  # bound once: this loop runs once per graph node
    while stack:
        for edge in pop().next_edges:
            if edge is not None:
                nxt = edge[0]
                n = get(nxt)
                if n is None:
                    deps[nxt] = 1
                    push(nxt)
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
    walk = _walk_tensors if create_graph else _walk_arrays
    prev = _grad_state.enabled
    _grad_state.enabled = create_graph
    try:
        walk(root_edges, root_nodes, root_grads, deps, retain_graph, captures, needed, results, accumulate)
    finally:
        _grad_state.enabled = prev
    return results


def _walk_arrays(root_edges, root_nodes, root_grads, deps, retain_graph, captures, needed, results, accumulate):
    """The first-order walk (no graph of the backward): gradients travel as native arrays.

    Ops run their `backward_arrays`; a node without one (or declining) gets its gradients wrapped as
    tensors. `stolen` holds the ids of arrays a leaf must copy rather than adopt as its `.grad`: the
    root gradients, arrays sent along several edges, and arrays user code has seen (hooks, custom
    Functions, `autograd.grad` results)."""
    buffers: dict = {}
    stolen = set()
    for (node, nr), g in zip(root_edges, root_grads):
        stolen.add(id(g._data))
        _add_to_buffer(buffers, node, nr, g._data, _add_arrays)
    ready = [n for n in root_nodes if deps[n] == 0]
    pop_ready, push_ready, pop_grad, get_grad = ready.pop, ready.append, buffers.pop, buffers.get
    while ready:
        node = pop_ready()
        grad = pop_grad(node, None)  # the gradient (one output) or a list of them
        if grad is not None and (captures is not None or node._pre_hooks is not None):
            grad = _observe_arrays(node, grad, captures, results, stolen)
        if node.__class__ is AccumulateGrad:
            if accumulate and grad is not None:
                node.accumulate_array(grad, stolen)
            continue
        edges = node.next_edges
        if grad is None or (needed is not None and node not in needed):
            in_grads = (None,) * len(edges)
        else:
            fast = node.__class__.backward_arrays
            in_grads = None if fast is None else fast(node, grad)
            if in_grads is None:
                in_grads = _tensor_backward(node, grad, stolen)
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
                    old = get_grad(nxt)
                    buffers[nxt] = g if old is None else _add_arrays(nxt, 0, old, g)
                else:
                    _add_to_buffer(buffers, nxt, edge[1], g, _add_arrays)
            left = deps[nxt] - 1
            deps[nxt] = left
            if not left:
                push_ready(nxt)


def _walk_tensors(root_edges, root_nodes, root_grads, deps, retain_graph, captures, needed, results, accumulate):
    """The walk that records a graph of the backward (`create_graph=True`): tensor-op `backward`s only."""
    buffers: dict = {}
    for (node, nr), g in zip(root_edges, root_grads):
        _add_to_buffer(buffers, node, nr, g, _add_tensors)
    ready = [n for n in root_nodes if deps[n] == 0]
    while ready:
        node = ready.pop()
        grad = buffers.pop(node, None)
        if grad is not None and (captures is not None or node._pre_hooks is not None):
            grad = _observe(node, grad, node.n_outputs == 1, captures, results)
        if node.__class__ is AccumulateGrad:
            if accumulate and grad is not None:
                node.accumulate(grad)
            continue
        edges = node.next_edges
        if grad is None or (needed is not None and node not in needed):
            in_grads = (None,) * len(edges)
        else:
            in_grads = node.backward(grad) if node.n_outputs == 1 else node.backward(*grad)
            n = len(in_grads)
            if n != len(edges):
                raise RuntimeError(f"{node.name()} returned {n} gradients, expected {len(edges)}")
            if not retain_graph:
                node.release()
        for edge, g in zip(edges, in_grads):
            if edge is None:
                continue
            nxt = edge[0]
            if g is not None:
                _add_to_buffer(buffers, nxt, edge[1], g, _add_tensors)
            left = deps[nxt] - 1
            deps[nxt] = left
            if not left:
                ready.append(nxt)


def _add_tensors(node, nr: int, old, g):
    return old + g


def _add_arrays(node, nr: int, old, g):
    return node.grad_place(nr)[0].add(old, g)


def _tensor_backward(node, grad, stolen: set) -> tuple:
    """`node.backward` on `grad` (an array, or a list for several outputs) wrapped as tensors; the
    gradients it returns as arrays. What a custom Function returns may be held by user code: marked
    stolen."""
    if node.n_outputs == 1:
        in_grads = node.backward(_wrap(grad, *node.grad_place(0)))
    else:
        in_grads = node.backward(*(None if g is None else _wrap(g, *node.grad_place(nr)) for nr, g in enumerate(grad)))
    arrays = tuple(None if g is None else g._data for g in in_grads)
    if not isinstance(node, Op):
        stolen.update(id(a) for a in arrays)
    return arrays


def _observe_arrays(node, grad, captures, results, stolen: set):
    """`_observe` for the array walk: the gradients wrapped as tensors for hooks and `autograd.grad`'s
    results, then unwrapped; every array user code saw is marked stolen."""
    single = node.n_outputs == 1
    grads = [grad] if single else grad
    tensors = [None if g is None else _wrap(g, *node.grad_place(nr)) for nr, g in enumerate(grads)]
    seen = _observe(node, tensors[0] if single else tensors, single, captures, results)
    arrays = [None if t is None else t._data for t in ([seen] if single else seen)]
    stolen.update(id(a) for a in arrays)
    return arrays[0] if single else arrays


def _add_to_buffer(buffers: dict, node, nr: int, g, add) -> None:
    """Sum `g` into the pending gradient of `node`'s output `nr` (kept bare for one-output nodes)."""
    if node.n_outputs == 1:
        old = buffers.get(node)
        buffers[node] = g if old is None else add(node, 0, old, g)
        return
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node.n_outputs
    old = buf[nr]
    buf[nr] = g if old is None else add(node, nr, old, g)


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
