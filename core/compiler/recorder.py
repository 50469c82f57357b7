"""Recording a call at the backend boundary, and generating the replay function.

While a compiled function runs eagerly for the first time with a new guard key, every backend
instance in use gets instance attributes that shadow its interface methods. Each outermost call
(default bodies call other methods: a depth counter keeps only the outer one) becomes one line of
Python source: `v12 = add_0(v3, S[1]._data, out=None)`. Arrays produced by earlier calls are
locals; other arrays are read from the tensors the program knows (`S`, the tensor arguments then
the reachable state) at the point of use, or captured as constants; a native random generator is
read from its `ember.Generator` (`C0.native`), so the stream advances as eagerly. `optimizer.step()`
and `scheduler.step()` run as eager calls in the program (their Python state: step counts, learning
rates); before one, the program writes its state back to the tensors (`.data`, `.grad`).

The generated function is then tidied: calls whose results nothing uses are dropped (never random
draws or in-place writes); state read before the first write-back is loaded into locals once; locals
are deleted after their last use, so memory is released as early as in the eager run; and an
elementwise call writes its result into an input that dies there (`out=`) when no array sharing that
input's memory is used later or outlives the replay (memory overlap is tested at recording time with
the array module's `may_share_memory`; backends without one allocate as eagerly).

Two more rewrites: consecutive elementwise calls whose intermediate results are read only by each other
become one call of the backend's `fuse_elementwise` callable when the backend offers one (numpy: the
same ufuncs writing into one buffer; cupy: one generated `ElementwiseKernel`; `fusion.py`); and an
elementwise call's new result that never escapes is written (`out=`) into a buffer the program keeps
across replays, shared by results whose lifetimes do not overlap, one set per running replay, so
threads never share one (`memory_plan.py`).

Methods that need a value on the host (`to_numpy`, a boolean-mask `getitem`, `nonzero`, generator
state) break the recording, except a host read by an op's own argument check (cross-entropy's
class-index range test), which the replay skips.
"""
from __future__ import annotations

import functools
import inspect
import linecache
import logging
import math
import os
import sys
import threading
import weakref
from typing import Any, Callable, NamedTuple

from .. import dtypes
from ..backend_lookup import _instances as _backend_instances
from ..random import _defaults as _default_generators
from ..tensor import Tensor, _wrap
from .errors import GraphBreak
from .fusion import Elementwise, describe, fuse_chains
from .memory_plan import plan_buffers, record_sizes

_log = logging.getLogger("ember.compile")

#: interface methods that describe arrays or devices; never recorded
_METADATA = frozenset({"dtype_of", "library_version", "is_available", "device_count", "owns_memory",
                       "synchronize"})
_UNREACHED_OPTIMIZER = ("an optimizer the compiled function does not reach steps (its learning rate would be "
                        "baked in): pass the optimizer as an argument, or use a global, closure or attribute of one")
#: interface methods whose result depends on array values in a way a replay cannot reproduce
_BREAKS = {
    "to_numpy": "a tensor's value is read on the host (.item(), .tolist(), .numpy(), bool(tensor), printing)",
    "nonzero": "an op with a data-dependent output shape (nonzero, unique, argwhere)",
    "getitem": "an op with a data-dependent output shape (boolean-mask indexing, masked_select)",
    "generator_state": "a random generator's state is read",
    "set_generator_state": "a random generator's state is set",
    "new_generator": "a random generator is reseeded",
    "from_dlpack": "an array is imported through DLPack",
    "sgd_step": _UNREACHED_OPTIMIZER,
    "adam_step": _UNREACHED_OPTIMIZER,
}
#: methods that update an argument in place besides `out=`: the positions of the arrays they write (the
#: fused optimizer updates run inside `optimizer.step()`, eagerly, or break the recording)
_INPLACE_POSITIONS = {"setitem": (0,), "copy_": (0,)}


class _Paths(NamedTuple):
    """Where frames come from, for telling user code from ember's own."""

    ember: tuple[str, ...]  # ember's packages (core, backends, plugins)
    testing: str  # the conformance kit, shipped inside ember but user code here
    through: tuple[str, ...]  # what a host read passes through (tensor methods, this package, backends)
    checks: tuple[str, ...]  # ops and functionals, whose host reads are argument checks


@functools.cache
def _paths() -> _Paths:
    import ember
    import ember.backends
    import ember.plugins

    dirs = tuple(os.path.dirname(m.__file__) + os.sep for m in (ember, ember.backends, ember.plugins))
    core = dirs[0]
    return _Paths(dirs, os.path.join(core, "testing") + os.sep,
                  (os.path.join(core, "tensor.py"), os.path.join(core, "compiler") + os.sep, dirs[1]),
                  tuple(os.path.join(core, d) + os.sep for d in ("nn", "ops", "linalg")))


def _is_user(filename: str) -> bool:
    paths = _paths()
    return filename.startswith(paths.testing) or not filename.startswith(paths.ember)


def user_location() -> str:
    """"file:line" of the innermost frame outside ember (ember's shipped tests count as user code)."""
    frame = sys._getframe(1)
    while frame is not None:
        if _is_user(frame.f_code.co_filename):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _read_by_op_check() -> bool:
    """Whether the host read in progress comes from an op's argument check: a function of ember's ops
    or functionals named `_check...`/`check_...` (cross-entropy's class-index range test) is on the stack
    between the read and the user's code. A read made by an op body (an output size computed from
    values, as in `bincount`) is not a check: it breaks the recording."""
    paths = _paths()
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(paths.through):
        frame = frame.f_back
    while frame is not None and frame.f_code.co_filename.startswith(paths.checks):
        if frame.f_code.co_name.startswith(("_check", "check_")):
            return True
        frame = frame.f_back
    return False


def _has_mask(bk, args: tuple, kwargs: dict) -> bool:
    """Whether a `getitem` call indexes with a bool array (its result's shape depends on the values)."""
    key = kwargs.get("key", args[1] if len(args) > 1 else None)
    return any(_is_array(k) and bk.dtype_of(k) is dtypes.bool for k in (key if isinstance(key, tuple) else (key,)))


def _slots(targets) -> list[int]:
    """The slot numbers in a call's targets pattern."""
    if isinstance(targets, list):
        return [k for t in targets for k in _slots(t)]
    return [] if targets is None else [targets]


def _is_array(x) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (int, float, complex, str))


_signatures: dict = {}


def _forget(mapping: dict, key: int) -> Callable:
    """A weak-reference callback that drops `key` from `mapping`."""
    return lambda _ref: mapping.pop(key, None)


def _out_position(bk, name: str, method: Callable) -> int | None:
    """The position of the `out=None` output-buffer parameter of `method` (backend `bk`'s method `name`, a
    bound method or an instance's function), or None (`tanh_backward(grad, out)` names a forward output)."""
    key = (type(bk), name)
    if key not in _signatures:
        try:
            params = list(inspect.signature(method).parameters.values())
        except (TypeError, ValueError):
            params = []
        _signatures[key] = next((i for i, p in enumerate(params) if p.name == "out" and p.default is None), None)
    return _signatures[key]


def _write_targets(name: str, out_at: int | None, args: tuple, kwargs: dict) -> list:
    """The arrays a call writes in place: its `out=` argument and the targets of in-place kernels."""
    targets = [args[i] for i in _INPLACE_POSITIONS.get(name, ()) if i < len(args)]
    if out_at is not None:
        targets.append(kwargs["out"] if "out" in kwargs else args[out_at] if out_at < len(args) else None)
    return [t for t in targets if t is not None and _is_array(t)]


class Recording:
    """One eager run of a compiled function, turned into replay source as it goes."""

    def __init__(self, arg_tensors: list[Tensor], reach, fullgraph: bool, label: str) -> None:
        self.S: list[Tensor] = list(arg_tensors) + list(reach.tensors)
        self.n_args = len(arg_tensors)
        self.reach = reach
        self.fullgraph = fullgraph
        self.label = label
        self.thread = threading.get_ident()
        self.depth = 0
        self.active = True
        self.broken: tuple[str, str] | None = None
        self.needs_graph = False
        self.new_backend = False  # a backend instance created while recording: its calls were not seen
        self.ns: dict[str, Any] = {"W": _wrap}
        self._const_names: dict[int, str] = {}
        self._keep: list = []  # objects whose ids the recording maps, kept alive so that ids stay unique
        self._refs: list = []
        self._slot_of: dict[int, int] = {}
        self._nslots = 0
        self._last_use: dict[int, int] = {}
        self._lines: list = []  # (targets pattern or None, source text)
        self._gens: dict[int, str] = {}
        self._reported: set[int] = set()
        self._uses: dict[int, list[int]] = {}  # line -> the slots it reads
        self._pure: set[int] = set()  # lines whose only effect is their result
        self._draws = False  # the call being recorded reads a random generator
        self._hoist = True  # state reads go to locals read once at entry, until the first write-back
        self._hoisted: dict[str, str] = {}
        # memory planning: slots whose arrays share memory form groups; an elementwise call may write
        # its result into an input that dies there when no array of that input's group lives on
        self._parent: dict[int, int] = {}
        self._members: dict[int, list[int]] = {}
        self._escaped: set[int] = set()  # slots whose arrays outlive the replay (state, outputs)
        self._live: list = []  # (slot, weak reference) of the arrays a new result may alias
        self._reuse: list = []  # (line, candidate input slots)
        self._fresh: dict[int, tuple] = {}  # line -> (backend, slot, shape, dtype) of a newly allocated out= result
        self._sizes: dict[int, tuple[int, int]] = {}  # slot -> (line, bytes) of an array a call returned
        self._elementwise: dict[int, Elementwise] = {}  # line -> an elementwise call that may join a chain
        self._snapshot()

    # ---- sources of values -------------------------------------------------------------------
    def _snapshot(self) -> None:
        """Remember where each state array lives now (the program reads those live)."""
        self._s_index = {id(t): i for i, t in enumerate(self.S)}
        self._state_src: dict[int, str] = {}
        self._snap = []
        for i, t in enumerate(self.S):
            g = t._grad
            self._snap.append((t._data, g, None if g is None else g._data))
            self._keep.append(self._snap[-1])
            self._state_src.setdefault(id(t._data), f"S[{i}]._data")
            self._pin(t._data)
            if g is not None:
                self._state_src.setdefault(id(g._data), f"S[{i}]._grad._data")
                self._pin(g._data)

    def const(self, obj: Any) -> str:
        name = self._const_names.get(id(obj))
        if name is None:
            name = self._const_names[id(obj)] = f"C{len(self._const_names)}"
            self.ns[name] = obj
            self._keep.append(obj)
            if _is_array(obj):
                self._pin(obj)
        return name

    def _pin(self, array: Any) -> None:
        """Count `array` (state or a constant) in memory planning: no result sharing its memory is reused."""
        k = self._nslots
        self._nslots += 1
        self._parent[k] = k
        self._members[k] = [k]
        self._escaped.add(k)
        self._live.append((k, lambda: array))

    def _generator(self, obj: Any) -> str | None:
        if not self._gens or id(obj) not in self._gens:
            for g in list(self.reach.generators) + list(_default_generators.values()):
                if id(g.native) not in self._gens:
                    self._gens[id(g.native)] = f"{self.const(g)}.native"
        return self._gens.get(id(obj))

    def expr(self, x: Any) -> str:
        """Python source that evaluates, at this point of the replay, to the value `x` has now."""
        t = type(x)
        if x is None or t is bool or t is int or t is str:
            return repr(x)
        if t is float:
            return repr(x) if math.isfinite(x) else self.const(x)
        if x is Ellipsis:
            return "..."
        if t is slice:
            return f"slice({self.expr(x.start)}, {self.expr(x.stop)}, {self.expr(x.step)})"
        if t is tuple:
            return "(" + "".join(self.expr(e) + ", " for e in x) + ")"
        if t is list:
            return "[" + ", ".join(self.expr(e) for e in x) + "]"
        if _is_array(x):
            k = self._slot_of.get(id(x))
            if k is not None:
                self._last_use[k] = len(self._lines)
                self._uses.setdefault(len(self._lines), []).append(k)
                return f"v{k}"
            src = self._state_src.get(id(x))
            if src is not None:
                if not self._hoist:
                    return src
                # before the first write-back the state is as at entry: read it once, into a local
                local = ("g" if "_grad" in src else "s") + src[2:src.index("]")]
                self._hoisted[local] = src
                return local
            if id(x) not in self._reported:
                self._reported.add(id(x))
                _log.debug("ember.compile(%s): an array of shape %s not reachable from the arguments or "
                           "the state is captured as a constant", self.label, tuple(x.shape))
            return self.const(x)
        gen = self._generator(x)
        if gen is not None:
            self._draws = True
            return gen
        return self.const(x)

    def _bind(self, out: Any, xp: Any):
        if _is_array(out):
            k = self._nslots
            self._nslots += 1
            self._slot_of[id(out)] = k
            self._parent[k] = k
            self._members[k] = [k]
            try:  # forget the id when the array dies (its id may then be reused); intermediates are freed as eagerly
                ref = weakref.ref(out, _forget(self._slot_of, id(out)))
            except TypeError:  # an array type without weak references: keep it, never write into it
                self._keep.append(out)
                self._escaped.add(k)
                return k
            self._refs.append(ref)
            may_share = getattr(xp, "may_share_memory", None)
            if may_share is None:
                self._escaped.add(k)
                return k
            live = []
            kind = xp.ndarray
            for j, other_ref in self._live:
                other = other_ref()
                if other is not None:
                    live.append((j, other_ref))
                    if isinstance(other, kind) and may_share(other, out):  # another library's array: other memory
                        self._union(j, k)
            live.append((k, ref))
            self._live = live
            return k
        if isinstance(out, (tuple, list)):
            return [self._bind(o, xp) for o in out]
        return None

    def _root(self, k: int) -> int:
        while self._parent[k] != k:
            k = self._parent[k]
        return k

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._root(a), self._root(b)
        if ra != rb:
            self._parent[rb] = ra
            self._members[ra].extend(self._members.pop(rb))

    def _reusable(self, j: int, line: int) -> bool:
        """Whether slot `j`, last used at `line`, may receive that line's result: no other array sharing
        its memory escapes or is used at or after `line` (cupy's kernels assume inputs do not overlap out=)."""
        return all(m not in self._escaped and (m == j or self._last_use.get(m, -1) < line)
                   for m in self._members[self._root(j)])

    def _escaping(self, x: Any) -> str:
        """`expr(x)` for a value that outlives the replay (written to state, returned)."""
        k = self._slot_of.get(id(x)) if _is_array(x) else None
        if k is not None:
            self._escaped.add(k)
        return self.expr(x)

    # ---- events ------------------------------------------------------------------------------
    def call(self, bk, bk_name: str, name: str, out_at: int | None, args: tuple, kwargs: dict, out: Any) -> None:
        """Record one outermost backend call (of method `name`, whose `out=` buffer is parameter `out_at`)
        and its result."""
        self._draws = False
        parts = [self.expr(a) for a in args] + [f"{k}={self.expr(v)}" for k, v in kwargs.items()]
        targets = _write_targets(name, out_at, args, kwargs)
        xp = getattr(bk, "xp", None)
        may_share = getattr(xp, "may_share_memory", None)
        if may_share is not None and not targets and out_at is not None and _is_array(out):
            # an elementwise call without out=: its result may go into a same-shaped input dying here
            inputs = [self._slot_of.get(id(a)) for a in args[:2] if _is_array(a) and a is not out
                      and a.shape == out.shape and a.dtype == out.dtype and bk.owns_memory(a)]
            if any(j is not None for j in inputs):
                self._reuse.append((len(self._lines), [j for j in inputs if j is not None]))
        operands = describe(self, bk, name, args, kwargs, parts) if out_at is not None and not targets else None
        bound = self._bind(out, xp)
        record_sizes(self._sizes, bk, bound, out, len(self._lines))
        if _slots(bound) and not targets and not self._draws:  # only effect: its result, dropped when unused
            self._pure.add(len(self._lines))
        if out_at is not None and len(args) <= out_at and "out" not in kwargs and type(bound) is int \
                and bound not in self._escaped and self._members.get(bound) == [bound]:
            # a new array, `out=` not passed: the memory plan may give it a buffer
            spec = (tuple(out.shape), bk.dtype_of(out))
            self._fresh[len(self._lines)] = (bk, bound, *spec)
            if operands is not None:
                self._elementwise[len(self._lines)] = Elementwise(bk, name, operands, bound, *spec)
        self._lines.append((bound, f"{bk_name}({', '.join(parts)})"))
        for w in targets:  # in-place writes to state bump its version counter, as eager ops do
            src = self._state_src.get(id(w))
            if src is not None:
                self._lines.append((None, f"{src[:-len('_data')]}_version[0] += 1"))

    def sync(self) -> None:
        """Write the state changed since the last sync back to the tensors (before an eager call, at the end)."""
        self._hoist = False
        for i, t in enumerate(self.S):
            data, grad, grad_data = self._snap[i]
            if t._data is not data:
                self._lines.append((None, f"S[{i}]._data = {self._escaping(t._data)}"))
            g = t._grad
            if g is None:
                if grad is not None:
                    self._lines.append((None, f"S[{i}]._grad = None"))
            elif g is grad:
                if g._data is not grad_data:
                    self._lines.append((None, f"S[{i}]._grad._data = {self._escaping(g._data)}"))
            else:
                self._lines.append((None, f"S[{i}]._grad = {self._tensor(g)}"))

    def _tensor(self, t: Tensor) -> str:
        """Source of a new tensor (no graph) around the replay's array for `t`'s data."""
        return f"W({self._escaping(t._data)}, {self.const(t._bk)}, {self.const(t._device)}, {self.const(t._dtype)})"

    def eager_call(self, fn: Callable, args: tuple, kwargs: dict) -> str:
        """Source of a call of `fn` run eagerly by the replay (its arguments captured as they are)."""
        return f"{self.const(fn)}(*{self.const(args)}, **{self.const(kwargs)})"

    def after_eager(self, line: str, optimizers: list) -> None:
        self._lines.append((None, line))
        for opt in optimizers:  # state a first step created
            n = len(self.reach.tensors)
            self.reach.add_optimizer_state(opt)
            self.S.extend(self.reach.tensors[n:])
        self._snapshot()

    def graph_break(self, name: str) -> None:
        self.broken = (_BREAKS[name], user_location())
        self.active = False
        if self.fullgraph:
            reason, where = self.broken
            raise GraphBreak(f"ember.compile(fullgraph=True) of {self.label}: graph break at {where}: {reason}; "
                             "move that code out of the compiled function or compile with fullgraph=False")

    # ---- result ------------------------------------------------------------------------------
    def output(self, obj: Any) -> str:
        if isinstance(obj, Tensor):
            i = self._s_index.get(id(obj))
            if i is not None and self.S[i] is obj:
                return f"S[{i}]"
            fn = obj._grad_fn
            if fn is not None and not getattr(fn, "_released", False):
                self.needs_graph = True
            return self._tensor(obj)
        t = type(obj)
        if t is tuple or t is list:
            inner = "".join(self.output(e) + ", " for e in obj)
            return f"({inner})" if t is tuple else f"[{inner}]"
        if t is dict:
            return "{" + ", ".join(f"{self.expr(k)}: {self.output(v)}" for k, v in obj.items()) + "}"
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
            return f"{self.const(t)}(" + "".join(self.output(e) + ", " for e in obj) + ")"
        return self._escaping(obj)

    def finish(self, result: Any) -> tuple[Callable | None, list[Tensor], str]:
        """(the replay function taking `S`, or None when the result needs its autograd graph; the state
        tensors; the generated source)."""
        self.sync()
        ret = self.output(result)
        if self.needs_graph:
            return None, self.S[self.n_args:], ""
        self._eliminate_dead_code()
        if fuse_chains(self):
            self._count_last_uses()
        self._plan_memory()
        pool = plan_buffers(self, self._fresh, self._sizes)
        body = [f"    {local} = {src}" for local, src in self._hoisted.items()]
        if pool is not None:  # this replay's set of persistent buffers
            self.ns["P"] = pool
            body.insert(0, "    B = P.take()")
        deletions: dict[int, list[int]] = {}
        for k, line in self._last_use.items():
            deletions.setdefault(line, []).append(k)
        for idx, (targets, text) in enumerate(self._lines):
            if text is None:
                continue
            body.append(f"    {self._targets(targets)}{text}")
            dead = [f"v{k}" for k in deletions.get(idx, ()) if self._defined(k)]
            if dead:
                body.append(f"    del {', '.join(dead)}")
        if pool is not None:
            body.append("    P.give(B)")
        body.append(f"    return {ret}")
        filename = f"<ember.compile {self.label} #{id(self):x}>"
        source = "def replay(S):\n" + "\n".join(body) + "\n"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), self.ns)
        return self.ns["replay"], self.S[self.n_args:], source

    def _eliminate_dead_code(self) -> None:
        """Drop calls whose results nothing uses (an op's unused value check, a gradient the function
        discards), then recompute the last use of every slot."""
        needed = set(self._uses.get(len(self._lines), ()))  # read by the return statement
        for idx in range(len(self._lines) - 1, -1, -1):
            targets, _ = self._lines[idx]
            if idx in self._pure and not needed.intersection(_slots(targets)):
                self._lines[idx] = (None, None)
            else:
                needed.update(self._uses.get(idx, ()))
        self._count_last_uses()

    def _count_last_uses(self) -> None:
        """The last line reading each slot (the return statement counts as line `len(self._lines)`)."""
        self._last_use = {k: idx for idx, (_, text) in enumerate(self._lines) if text is not None
                          for k in self._uses.get(idx, ())}
        self._last_use.update((k, len(self._lines)) for k in self._uses.get(len(self._lines), ()))

    def _plan_memory(self) -> None:
        """Rewrite elementwise calls to write into an input whose memory is free after them."""
        for line, inputs in self._reuse:
            if self._lines[line][1] is None:
                continue
            for j in inputs:
                if self._last_use.get(j) == line and self._reusable(j, line):
                    targets, text = self._lines[line]
                    self._lines[line] = (targets, f"{text[:-1]}, out=v{j})")
                    self._union(j, targets)
                    break

    def _defined(self, k: int) -> bool:
        return k in self._last_use

    def _pattern(self, targets) -> str:
        if isinstance(targets, list):
            return "(" + "".join(self._pattern(t) + ", " for t in targets) + ")"
        if targets is None or targets not in self._last_use:
            return "_"
        return f"v{targets}"

    def _targets(self, targets) -> str:
        if targets is None:
            return ""
        pattern = self._pattern(targets)
        return "" if pattern == "_" else f"{pattern} = "


class Installed:
    """Shadows the interface methods of every backend instance, and the `step` of optimizers and LR
    schedulers, with recording wrappers for the duration of a `with` block."""

    def __init__(self, rec: Recording, names: tuple[str, ...]) -> None:
        self.rec = rec
        self.names = names
        self._undo: list = []

    def __enter__(self) -> Installed:
        rec = self.rec
        self._backends = list(_backend_instances.values())
        for b, bk in enumerate(self._backends):
            for name in self.names:
                if name in _METADATA:
                    continue
                method = getattr(bk, name)
                bk_name = f"{name}_{b}"
                rec.ns[bk_name] = method
                self._shadow(bk, name, self._wrapper(bk, bk_name, name, method, _out_position(bk, name, method)))
        optimizers = rec.reach.optimizers
        for obj in list(optimizers) + list(rec.reach.schedulers):
            self._shadow(obj, "step", self._eager_wrapper(obj.step, optimizers))
        return self

    def _shadow(self, obj, name: str, value) -> None:
        self._undo.append((obj, name, obj.__dict__.get(name, _MISSING)))
        setattr(obj, name, value)

    def __exit__(self, *exc) -> None:
        self.rec.active = False
        self.rec.new_backend = len(_backend_instances) != len(self._backends)
        for obj, name, old in reversed(self._undo):
            if old is _MISSING:
                obj.__dict__.pop(name, None)
            else:
                setattr(obj, name, old)

    def _wrapper(self, bk, bk_name: str, name: str, method: Callable, out_at: int | None) -> Callable:
        rec = self.rec
        breaks = name in _BREAKS

        def wrapper(*args, **kwargs):
            if rec.depth or not rec.active or threading.get_ident() != rec.thread:
                return method(*args, **kwargs)
            if breaks and (name != "getitem" or _has_mask(bk, args, kwargs)):
                if name == "to_numpy" and _read_by_op_check():
                    _log.debug("ember.compile(%s): an op reads a value to check its arguments at %s; the "
                               "replay skips that check", rec.label, user_location())
                else:
                    rec.graph_break(name)
                return method(*args, **kwargs)
            rec.depth = 1
            try:
                out = method(*args, **kwargs)
            finally:
                rec.depth = 0
            rec.call(bk, bk_name, name, out_at, args, kwargs, out)
            return out
        return wrapper

    def _eager_wrapper(self, method: Callable, optimizers: list) -> Callable:
        rec = self.rec

        def wrapper(*args, **kwargs):
            if rec.depth or not rec.active or threading.get_ident() != rec.thread:
                return method(*args, **kwargs)
            rec.sync()
            rec.depth = 1
            try:
                out = method(*args, **kwargs)
            finally:
                rec.depth = 0
            rec.after_eager(rec.eager_call(method, args, kwargs), optimizers)
            return out
        return wrapper


_MISSING = object()
