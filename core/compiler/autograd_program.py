"""A compiled call whose outputs the caller differentiates: a recorded forward and a recorded backward.

As PyTorch's AOTAutograd: the outputs of a replay carry ONE graph node, `CompiledFunctionBackward`,
whose edges lead to the graph edges of the arguments and parameters that require grad; its backward
replays the recorded backward program on the incoming gradients and the arrays the forward saved.

Recording (the first call with a guard key, grad enabled): arguments that carry a graph of their own
are replaced by stand-ins (same array, a graph end of their own), so the function's graph is
isolated from the caller's. The forward program is generated at once and returns, besides the
outputs, every array the function's graph holds (what its nodes saved). The outputs handed to the
caller get a `CompiledFunctionBackward` node; the first backward through it runs the isolated
graph's backward under a second recording, which names those saved arrays by their place in the
forward's returns, and the pair of programs is then kept for the guard key. Until that backward,
calls with the same key run eagerly; if the recording's outputs die undifferentiated, the key
records again, at most three times (a forward never differentiated then stays eager).

When the recording cannot stand for the call (a graph break, a stand-in changed in place or
differentiated inside the function, an output that is a leaf, a graph reaching a leaf the guards do
not cover), the stand-ins are swapped back for the real arguments in the graph just built, so the
result is exactly the eager one, and the key runs eagerly.
"""
from __future__ import annotations

import copy
import warnings
import weakref
from typing import Any, Callable, ClassVar

from ..autograd.engine import run_backward
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import AccumulateGrad, Node, Op
from ..tensor import Tensor, _wrap
from .recorder import Installed, Recording, _is_array

_DOUBLE_BACKWARD = ("ember.compile: double backward (create_graph=True) through a compiled call's graph "
                    "(CompiledFunctionBackward) is not supported, as with torch.compile; compute higher-order "
                    "gradients with the uncompiled function or module (`compiled._orig_mod`)")


class _InputEnd(Node):
    """The graph end of a stand-in argument: keeps a gradient that reaches it during the recording call
    (a backward run inside the compiled function), to pass on to the real argument."""

    grad = None

    def name(self) -> str:
        return "CompiledInputBackward"

    def backward(self, grad: Tensor) -> tuple:
        self.grad = grad if self.grad is None else self.grad + grad
        return ()


class CompiledFunctionBackward(Op):
    """The one graph node of a compiled call's outputs: runs the recorded backward program. An `Op` for
    the engine: the arrays it returns are its own (results of the backward program), as an op's are."""

    _versions: tuple | list = ()  # (version counter, value at forward) of what the backward reads; the recording
    # call's node has none (its isolated graph checks its own saved tensors)

    def name(self) -> str:
        return "CompiledFunctionBackward"

    def grad_place(self, nr: int) -> tuple:
        bk, device, _, _ = self.program.grad_meta[nr]
        return bk, device

    def backward_arrays(self, grad: Any) -> list:
        saved = self._saved
        if saved is None:
            Node.saved_tensors.fget(self)  # raises the freed-graph error after a backward without retain_graph
        for version, expected in self._versions:
            if version[0] != expected:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: an argument, parameter or output of a compiled call is at version {version[0]}; "
                    f"expected version {expected} instead. CompiledFunctionBackward needs its original value: use "
                    "an out-of-place op or .clone() it before changing it, or step the optimizer after backward.")
        return self.program.backward(self, [grad] if self.n_outputs == 1 else list(grad), saved)

    def backward(self, *grads: Tensor | None) -> tuple:
        if _grad_state.enabled:  # the engine enables grad mode exactly when create_graph=True
            raise RuntimeError(_DOUBLE_BACKWARD)
        arrays = self.backward_arrays(grads[0]._data if self.n_outputs == 1 else
                                      [None if g is None else g._data for g in grads])
        return tuple(None if a is None else _wrap(a, bk, device)
                     for a, (bk, device) in zip(arrays, self.program.target_places))


class _Array:
    """What a backward replay reads from the incoming gradients and the saved arrays: `S[i]._data`."""

    __slots__ = ("_data",)
    _version: ClassVar[list] = [0]  # an in-place write the program makes into one bumps this shared, unread counter

    def __init__(self, data: Any) -> None:
        self._data = data


class GradCall:
    """One recording call made with grad enabled: its stand-ins, then what the result calls for."""

    def __init__(self, compiled: Any, key: tuple, arg_tensors: list[Tensor], args: tuple, kwargs: dict) -> None:
        self.compiled = compiled
        self.key = key
        self.ends: list[tuple[Tensor, Tensor, _InputEnd]] = []  # (real argument, stand-in, its graph end)
        swap: dict[int, Tensor] = {}
        for t in arg_tensors:
            if t._grad_fn is not None and id(t) not in swap:
                s = _wrap(t._data, t._bk, t._device, t._dtype)
                s._version = t._version  # an in-place change inside shows on the real argument's version
                s._rg = True
                s._grad_fn = end = _InputEnd()
                end.bk, end.device = t._bk, t._device
                swap[id(t)] = s
                self.ends.append((t, s, end))
        self.args = _substitute(args, swap) if swap else args
        self.kwargs = _substitute(kwargs, swap) if swap else kwargs

    def eager(self, result: Any) -> Any:
        """`result` as the eager call on the real arguments gives it: the graph built from the stand-ins
        is reconnected to the arguments' graphs (only nodes made by this call point at the stand-ins)."""
        if not self.ends:
            return result
        real_edge = {id(end): real._edge() for real, _, end in self.ends}
        roots = [t._grad_fn for t in _tensors(result)] + [s._grad_fn for _, s, _ in self.ends]
        seen: set[int] = set()
        stack = [n for n in roots if n is not None]
        while stack:
            node = stack.pop()
            if id(node) in seen or node.__class__ is AccumulateGrad or id(node) in real_edge:
                continue
            seen.add(id(node))
            edges = node.next_edges
            if any(e is not None and id(e[0]) in real_edge for e in edges):
                node.next_edges = type(edges)(real_edge.get(id(e[0]), e) if e is not None else None for e in edges)
            stack.extend(e[0] for e in edges if e is not None)
        back = {}
        for real, s, end in self.ends:
            back[id(s)] = real
            if s._grad_fn is not end:  # changed in place inside: the real argument now ends that graph
                real._grad_fn, real._output_nr = s._grad_fn, s._output_nr
            if end.grad is not None:  # a backward inside reached the argument: continue it into its graph
                run_backward([real], [end.grad], retain_graph=True, create_graph=False)
        return _substitute(result, back)

    def finish(self, rec: Recording, result: Any) -> Any:
        """End the recording: a forward-backward program pair when the result carries a graph, the plain
        replay when it does not, eager calls for this key when neither can stand for the call."""
        compiled, key = self.compiled, self.key
        touched = any(s._grad_fn is not end or end.grad is not None for _, s, end in self.ends)
        leaves: list[Tensor] = []
        spec = _flatten(result, leaves, {})
        live = [t for t in leaves if t._grad_fn is not None and not t._grad_fn._released]
        if not live and not touched:
            replay, state = rec.finish(result)[:2]
            compiled._cache[key] = (replay, state)
            return result
        out = None if touched else _first_call(self, rec, leaves, live, spec)
        if out is None:
            compiled._cache[key] = (None, None)
            return self.eager(result)
        return out


def _first_call(call: GradCall, rec: Recording, leaves: list[Tensor], live: list[Tensor], spec) -> Any:
    """The recording call's result, its outputs `live` on one `CompiledFunctionBackward` node whose first
    backward records the backward program; None when the graph cannot be replayed (an output that is a
    parameter or a leaf, a leaf the guards do not cover)."""
    S = rec.S
    place: dict[int, int] = {}
    for i, t in enumerate(S):
        place.setdefault(id(t), i)
    if any(id(t) in place or (t._rg and t._grad_fn is None) for t in leaves):
        return None
    ends = {id(end): (place[id(real)], s) for real, s, end in call.ends}
    found = _inner_graph(live, ends, place)
    if found is None:
        return None
    nodes, targets = found
    data_place: dict[int, int] = {}
    for i, t in enumerate(S):
        data_place.setdefault(id(t._data), i)
    held, checked = [], set()  # saved arrays the forward returns; arguments and state the graph saved
    for a, where in _held_arrays(nodes):
        i = data_place.get(id(a))
        if i is not None:
            checked.add(i)
        if i is None or i < rec.n_args:  # state is read live by the backward program
            held.append((a, where))
    saved = [a for a, _ in held]
    program = _Program(call, rec, leaves, live, spec, targets, held, sorted(checked))
    # which outputs each target's gradient comes from: a target none of them sends a gradient gets None
    reached = [{i for i, _ in _inner_graph([t], ends, place)[1]} for t in live]
    program.sources = [frozenset(k for k, r in enumerate(reached) if i in r) for i in program.targets]
    node = CompiledFunctionBackward()
    node.program = program
    node.n_outputs = len(live)
    node.next_edges = tuple(S[i]._edge() for i in program.targets)
    node._saved = (saved, (live, [t for _, t in targets]))
    # calls with this key run eagerly until the first backward through this node installs the programs;
    # if the node dies first, the key records again (a few times: a forward that is never differentiated,
    # such as an evaluation with grad enabled, then stays eager)
    pending = program.pending = (None, program)  # runs eagerly; unique, for the identity checks below
    compiled = call.compiled
    if len(compiled._cache) < compiled._limit:
        compiled._cache[call.key] = pending
        weakref.finalize(node, _abandoned, compiled, call.key, pending)
    outs = []
    for t, (_, _, _, nr) in zip(leaves, program.outputs):
        if nr is not None:
            w = _wrap(t._data, t._bk, t._device, t._dtype)
            w._version = t._version  # the isolated graph checks in-place changes of its saved outputs
            w._grad_fn, w._output_nr, w._rg = node, nr, True
            t = w
        outs.append(t)
    return _build(spec, outs)


_RECORDINGS_WITHOUT_BACKWARD = 3


def _abandoned(compiled: Any, key: tuple, pending: tuple) -> None:
    """A recording node died before any backward through it: let the key record again, a few times."""
    if compiled._cache.get(key) is not pending:
        return
    lost = compiled._unused[key] = compiled._unused.get(key, 0) + 1
    if lost < _RECORDINGS_WITHOUT_BACKWARD:
        del compiled._cache[key]


class _Program:
    """A recorded forward program and, after the first backward, the recorded backward program."""

    def __init__(self, call: GradCall, rec: Recording, leaves: list[Tensor], live: list[Tensor], spec,
                 targets: list, held: list, checked: list[int]) -> None:
        S = rec.S
        saved = [a for a, _ in held]
        out_place = {id(t._data): k for k, t in enumerate(leaves)}
        self.forward, self.state = rec.finish([t._data for t in leaves] + saved)[:2]
        self.compiled, self.key, self.label, self.reach = call.compiled, call.key, rec.label, rec.reach
        self.spec = spec
        self.n_out = len(leaves)
        order = {id(t): k for k, t in enumerate(live)}
        self.outputs = [(t._bk, t._device, t._dtype, order.get(id(t))) for t in leaves]
        self.grad_meta = [(t._bk, t._device, t._data.shape, t._dtype) for t in live]
        self.saved_places = [where for _, where in held]
        # an in-place change to a saved argument, parameter or output before backward raises, as eagerly
        self.checked = checked
        self.saved_outputs = sorted({out_place[id(a)] for a in saved if id(a) in out_place})
        self.targets = [i for i, _ in targets]
        self.target_places = [(S[i]._bk, S[i]._device) for i in self.targets]
        self.sources: list[frozenset] = []
        self.pending: tuple = ()
        self.backward_program: Callable | None = None
        self.backward_state: list[Tensor] = []

    def __call__(self, S: list[Tensor]) -> Any:
        """A replay: the forward program, its outputs on a new `CompiledFunctionBackward` node."""
        arrays = self.forward(S)
        n = self.n_out
        node = CompiledFunctionBackward()
        node.program = self
        node.n_outputs = len(self.grad_meta)
        node.next_edges = tuple(S[i]._edge() for i in self.targets)
        node._saved = (arrays[n:], None)
        outs = []
        for a, (bk, device, dtype, nr) in zip(arrays, self.outputs):
            t = _wrap(a, bk, device, dtype)
            if nr is not None:
                t._grad_fn, t._output_nr, t._rg = node, nr, True
            outs.append(t)
        node._versions = [(S[i]._version, S[i]._version[0]) for i in self.checked] + [
            (outs[k]._version, 0) for k in self.saved_outputs]
        return _build(self.spec, outs)

    def backward(self, node: CompiledFunctionBackward, grads: list, saved: tuple) -> list:
        """The gradient arrays for `node`'s edges: the backward program (recorded at the first backward)
        on the incoming gradient arrays (None as zeros) and the arrays the forward saved."""
        arrays, inner = saved
        given = frozenset(k for k, g in enumerate(grads) if g is not None)
        grads = [g if g is not None else bk.full(shape, 0, dtype)
                 for g, (bk, _, shape, dtype) in zip(grads, self.grad_meta)]
        if inner is not None:
            results = self._record_backward(grads, arrays, inner)
            if self.backward_program is not None:
                node._saved = (arrays, None)  # the isolated graph is no longer needed
        else:
            results = self.backward_program([_Array(a) for a in grads] + [_Array(a) for a in arrays] +
                                            self.backward_state)
        if len(given) < len(grads):
            results = [a if given & src else None for a, src in zip(results, self.sources)]
        return results

    def _record_backward(self, grads: list, arrays: list, inner: tuple) -> list:
        """Run the isolated graph's backward under a recording; keep its program and install the pair for
        the guard key (or run that key eagerly when the backward cannot be recorded: the recording call's
        node then keeps running its isolated graph, recording it again on a `retain_graph` backward)."""
        live, diff = inner
        grads = [_wrap(g, bk, device, dtype) for g, (bk, device, _, dtype) in zip(grads, self.grad_meta)]
        held = [_wrap(a, *where) for a, where in zip(arrays, self.saved_places)]
        rec = Recording(grads + held, self.reach, False, f"{self.label} (backward)")
        with Installed(rec, self.compiled._names):
            results = run_backward(live, grads, retain_graph=True, create_graph=False, inputs=diff,
                                   accumulate=False)
        arrays_out = [None if g is None else g._data for g in results]
        cache, key = self.compiled._cache, self.key
        if rec.broken is not None or rec.new_backend:
            if cache.get(key) is self.pending:
                cache[key] = (None, None)
            if rec.broken is not None:
                reason, where = rec.broken
                warnings.warn(f"ember.compile: graph break in the backward of {self.label} at {where}: {reason}; "
                              "calls with these guards run eagerly", stacklevel=2)
            return arrays_out
        self.backward_program, self.backward_state = rec.finish(arrays_out)[:2]
        if cache.get(key) is self.pending:
            cache[key] = (self, self.state)
        return arrays_out


def _inner_graph(live: list[Tensor], ends: dict, place: dict) -> tuple[list, list] | None:
    """The nodes of the graph from the outputs `live` back to the stand-ins' ends (`ends`: id of an end
    -> (argument index, stand-in)) and to leaves, and the differentiation targets: (index in `S`, tensor
    to differentiate against), in `S` order; None when a leaf is not an argument or state tensor."""
    nodes: list = []
    targets: dict[int, Tensor] = {}
    seen: set[int] = set()
    stack = [t._grad_fn for t in live]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.__class__ is AccumulateGrad:
            var = node.variable
            i = None if var is None else place.get(id(var))
            if i is None:
                return None
            targets[i] = var
        elif id(node) in ends:
            i, s = ends[id(node)]
            targets[i] = s
        else:
            nodes.append(node)
            stack.extend(e[0] for e in node.next_edges if e is not None)
    return nodes, [(i, targets[i]) for i in sorted(targets)]


def _held_arrays(nodes: list) -> list[tuple[Any, tuple]]:
    """The arrays the graph `nodes` hold (saved tensors, saved outputs, masks), each once, with the
    (backend, device, dtype) to wrap it."""
    found: list = []
    seen: set[int] = set()

    def visit(value, node, depth: int) -> None:
        if isinstance(value, Tensor):
            if id(value._data) not in seen:
                seen.add(id(value._data))
                found.append((value._data, (value._bk, value._device, value._dtype)))
        elif _is_array(value):
            if id(value) not in seen and hasattr(node, "bk"):
                seen.add(id(value))
                found.append((value, (node.bk, node.device, node.bk.dtype_of(value))))
        elif depth < 3 and isinstance(value, (tuple, list)):
            for item in value:
                visit(item, node, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for item in value.values():
                visit(item, node, depth + 1)

    for node in nodes:
        for value in vars(node).values():
            visit(value, node, 0)
    return found


def _tensors(obj: Any) -> list[Tensor]:
    out: list[Tensor] = []
    _flatten(obj, out, {})
    return out


def _flatten(obj: Any, leaves: list[Tensor], index: dict[int, int]):
    """The structure of a result (tuples, lists, dicts, namedtuples) with each distinct tensor replaced by
    its place in `leaves`; other values are kept as they are."""
    if isinstance(obj, Tensor):
        k = index.get(id(obj))
        if k is None:
            k = index[id(obj)] = len(leaves)
            leaves.append(obj)
        return ("tensor", k)
    if isinstance(obj, (tuple, list)):
        return (type(obj), [_flatten(o, leaves, index) for o in obj])
    if isinstance(obj, dict):
        return (type(obj), list(obj), [_flatten(o, leaves, index) for o in obj.values()])
    return ("value", obj)


def _build(spec, values: list) -> Any:
    """The structure `spec` (from `_flatten`) around `values`."""
    kind = spec[0]
    if kind == "tensor":
        return values[spec[1]]
    if kind == "value":
        return spec[1]
    if len(spec) == 3:
        return kind(zip(spec[1], [_build(s, values) for s in spec[2]]))
    items = [_build(s, values) for s in spec[1]]
    if kind is list or kind is tuple:
        return kind(items)
    return kind(*items) if hasattr(kind, "_fields") else kind(items)


def _substitute(obj: Any, swap: dict[int, Any]) -> Any:
    """`obj` with the tensors whose ids are in `swap` replaced (containers copied only where changed)."""
    if isinstance(obj, Tensor):
        return swap.get(id(obj), obj)
    if isinstance(obj, (tuple, list, dict)):
        items = list(obj.items()) if isinstance(obj, dict) else list(enumerate(obj))
        new = [(k, _substitute(v, swap)) for k, v in items]
        if all(a[1] is b[1] for a, b in zip(items, new)):
            return obj
        if isinstance(obj, tuple):
            values = [v for _, v in new]
            return type(obj)(*values) if hasattr(obj, "_fields") else type(obj)(values)
        out = copy.copy(obj)
        for k, v in new:
            out[k] = v
        return out
    return obj
