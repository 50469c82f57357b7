"""What a compiled function reads besides its arguments, and the guards that decide whether a recording replays.

A recorded program names tensors by their place in one list: the tensor arguments (flattened in
order), then the state reachable from the function: for a module, its parameters and buffers; for a
function, the modules, optimizers, LR schedulers, generators and tensors named by its closure cells
and by the globals its code uses (and a bound method's `__self__`). The guard key of a call holds
everything the recorded backend calls were specialized on: argument shapes, dtypes, devices and
`requires_grad`, non-tensor argument values, the grad mode, every reachable module's `training`
flag, the identity, shape and dtype of every state tensor and which of them have a `.grad`.
"""
from __future__ import annotations

import contextlib

import functools
import types
from typing import Any

from ..autograd import is_grad_enabled
from ..nn.modules.module import Module
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from ..random import Generator
from ..random import _defaults as _default_generators
from ..tensor import Tensor

_LEAF_TYPES = (int, float, bool, str, bytes, complex, type(None))
_MAX_CONTAINER = 10_000
_OPAQUE = (type, types.ModuleType, types.MethodType, types.BuiltinFunctionType, functools.partial)


def flatten_args(obj: Any, tensors: list, key: list, objects: list) -> None:
    """Append the tensors of the argument structure `obj` to `tensors`, its guard tokens to `key` and its
    modules, optimizers, schedulers and generators to `objects`."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        key.append((obj._data.shape, obj._dtype, obj._device, obj._rg, obj._grad is None))
    elif isinstance(obj, _LEAF_TYPES):
        key.append((type(obj), obj))
    elif isinstance(obj, (tuple, list)):
        key.append((type(obj), len(obj)))
        for item in obj:
            flatten_args(item, tensors, key, objects)
    elif isinstance(obj, dict):
        key.append((dict, tuple(obj)))
        for item in obj.values():
            flatten_args(item, tensors, key, objects)
    else:  # guarded by identity: a module, optimizer, generator, function, ...
        key.append(("object", id(obj)))
        if isinstance(obj, (Module, Optimizer, LRScheduler, Generator)):
            objects.append(obj)


def _code_names(code: types.CodeType, names: set) -> None:
    names.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_names(const, names)


@functools.lru_cache(maxsize=1024)
def _names_of(code: types.CodeType) -> tuple[str, ...]:
    names: set = set()
    _code_names(code, names)
    return tuple(sorted(names))


def global_names(fn: Any) -> tuple[str, ...]:
    """The global names the code of `fn` (and of the functions defined in it) may read."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return () if code is None else _names_of(code)


def roots_of(fn: Any, names: tuple[str, ...]) -> list:
    """The objects a function can reach: bound `__self__`, closure cells and the globals in `names`."""
    roots = []
    if isinstance(fn, types.MethodType):
        roots.append(fn.__self__)
        fn = fn.__func__
    if isinstance(fn, Module):
        return [fn]
    for cell in getattr(fn, "__closure__", None) or ():
        with contextlib.suppress(ValueError):  # an empty cell (a name assigned later in the enclosing function)
            roots.append(cell.cell_contents)
    g = getattr(fn, "__globals__", None)
    if g is not None:
        roots.extend(g[n] for n in names if n in g)
    return roots


class Reachable:
    """The state reachable from a set of roots, in a deterministic order."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []
        self.modules: list[Module] = []
        self.optimizers: list[Optimizer] = []
        self.schedulers: list[LRScheduler] = []
        self.generators: list[Generator] = list(_default_generators.values())
        self._seen: set[int] = {id(g) for g in self.generators}

    def _first(self, obj) -> bool:
        if id(obj) in self._seen:
            return False
        self._seen.add(id(obj))
        return True

    def add(self, obj: Any, depth: int = 0) -> None:
        if isinstance(obj, Tensor):
            if self._first(obj):
                self.tensors.append(obj)
        elif isinstance(obj, Module):
            self._add_module(obj)
        elif isinstance(obj, Optimizer):
            if self._first(obj):
                self.optimizers.append(obj)
                for group in obj.param_groups:
                    for p in group["params"]:
                        self.add(p)
                self.add_optimizer_state(obj)
        elif isinstance(obj, LRScheduler):
            if self._first(obj):
                self.schedulers.append(obj)
                self.add(obj.optimizer)
        elif isinstance(obj, Generator):
            if self._first(obj):
                self.generators.append(obj)
        elif depth < 2 and isinstance(obj, (list, tuple, dict)) and len(obj) <= _MAX_CONTAINER:
            for item in obj.values() if isinstance(obj, dict) else obj:
                self.add(item, depth + 1)
        elif depth < 2 and isinstance(obj, types.FunctionType) and self._first(obj):
            # a helper the function calls: what it reads is state too (`loss_of(x)` using a global model)
            for root in roots_of(obj, global_names(obj)):
                self.add(root, depth + 1)
        elif depth < 2 and isinstance(getattr(obj, "__dict__", None), dict) and not isinstance(obj, _OPAQUE):
            # a user object (`trainer.step` reaching `self.model`, `self.opt`): its modules, optimizers,
            # schedulers and generators; not its plain tensors (a `self.last_loss` would change every call)
            if self._first(obj):
                for value in list(vars(obj).values())[:_MAX_CONTAINER]:
                    if isinstance(value, (Module, Optimizer, LRScheduler, Generator)):
                        self.add(value, depth + 1)

    def _add_module(self, root: Module) -> None:
        """Add a module tree: pre-order, as `Module.modules()`, in one pass over the member dicts (the
        guards walk it on every call, so this loop is kept tight)."""
        seen, tensors, modules = self._seen, self.tensors, self.modules
        stack = [root]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            modules.append(m)
            for members in (m._parameters, m._buffers):
                for t in members.values():
                    if t is not None and id(t) not in seen:
                        seen.add(id(t))
                        tensors.append(t)
            children = m._modules
            if children:
                stack.extend(reversed([c for c in children.values() if c is not None]))

    def add_optimizer_state(self, opt: Optimizer) -> None:
        """Add the tensors of `opt.state` (created by its first step)."""
        for per_param in opt.state.values():
            for value in per_param.values():
                if isinstance(value, Tensor):
                    self.add(value)

    def key(self) -> tuple:
        """The guard tokens of this state: identities, shapes, dtypes, `.grad` presence, `training` flags."""
        return (is_grad_enabled(),
                tuple([(id(t), t._data.shape, t._dtype, t._rg, t._grad is None) for t in self.tensors]),
                tuple([m.training for m in self.modules]))
