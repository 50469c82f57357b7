"""`ember.compile`: record a function's backend calls once, replay them on later calls with the same guards.

The first call with a new guard key (see `state.py`) runs eagerly and is recorded at the backend
boundary (`recorder.py`); later calls with that key run the generated replay function, which calls
the same backend methods on the new inputs without building tensors or graph nodes, writes the
state back (parameters, `.grad`, buffers, optimizer state) and returns fresh tensors. Results,
gradients, optimizer state and random streams equal the eager run's exactly.

A call whose result carries an autograd graph (a compiled module whose output the caller will
`backward()`, as `loss_fn(model(x), y).backward()` with `model = ember.compile(model)`) records its
forward and, at the first backward through its output, its backward (`autograd_program.py`, as
AOTAutograd): later calls replay the forward, and their outputs carry ONE graph node,
`CompiledFunctionBackward`, whose edges lead to the arguments' and parameters' graph edges and whose
backward replays the recorded backward program, so gradients reach `.grad` (and parameter hooks)
and any graph before the call. Double backward (`create_graph=True`) through that node raises.
Outputs of a call without a graph (`no_grad()`, or a whole step that ran `backward()` inside) carry
none.

What runs eagerly or is not replayed:
- a call with a graph that changes in place an argument carrying a graph, returns a parameter or
  reaches a tensor requiring grad that the guards do not cover runs eagerly for its guard key;
- code that needs a tensor's value (`.item()`, `if tensor:`, `.tolist()`, data-dependent shapes)
  breaks the recording: with `fullgraph=True` a `GraphBreak` names the line, otherwise the function
  runs eagerly from then on, with one warning; an op's own argument check that reads values
  (cross-entropy's class-index range test) is not a break, and the replay skips it;
- Python side effects other than tensor state, `optimizer.step()` and `scheduler.step()` (which run
  eagerly inside the replay) are not replayed, and Python numbers the function reads from globals
  are baked into the recording (pass them as arguments: argument values are guarded);
- more than `cache_size_limit` guard keys per function (default 8): new keys run eagerly, with one
  warning.
"""
from __future__ import annotations

import functools
import threading
import types
import warnings
import weakref
from typing import Any, Callable

from ..autograd import is_grad_enabled
from ..nn.modules.module import Module
from .errors import GraphBreak
from .state import Reachable, flatten_args, global_names, roots_of

__all__ = ["GraphBreak", "OptimizedModule", "compile", "reset"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = ("inductor", "eager", "aot_eager")
_OPTIONS = ("cache_size_limit",)


class _RecordingFlag(threading.local):
    active = False  # this thread is recording a compiled function


_recording = _RecordingFlag()
_compiled: weakref.WeakSet = weakref.WeakSet()  # every compiled function alive, for `reset`


class _CompiledFunction:
    """A function with a cache of recorded programs keyed by guards."""

    def __init__(self, fn: Callable, fullgraph: bool, cache_size_limit: int, replay: bool) -> None:
        self._fn = fn
        self._fullgraph = fullgraph
        self._limit = cache_size_limit
        self._replay = replay
        self._label = getattr(fn, "__qualname__", None) or type(fn).__name__
        self._names: tuple[str, ...] | None = None  # the backend interface's methods, on first recording
        self._globals = global_names(fn)
        self._cache: dict = {}
        self._unused: dict = {}  # guard key -> recordings whose outputs died undifferentiated (autograd_program.py)
        self._eager = False
        self._warned_limit = False
        functools.update_wrapper(self, fn, updated=())
        _compiled.add(self)

    def __get__(self, obj, objtype=None):
        """A compiled function defined in a class body binds as a method (`@ember.compile def forward`)."""
        return self if obj is None else types.MethodType(self, obj)

    def reset(self) -> None:
        self._cache.clear()
        self._unused.clear()
        self._eager = False
        self._warned_limit = False

    def __call__(self, *args, **kwargs):
        fn = self._fn
        if self._eager or not self._replay or _recording.active:  # inside a recording: inlined into it
            return fn(*args, **kwargs)
        arg_tensors: list = []
        arg_key: list = []
        objects = roots_of(fn, self._globals)
        flatten_args(args, arg_tensors, arg_key, objects)
        flatten_args(kwargs, arg_tensors, arg_key, objects)
        reach = Reachable()
        for root in objects:
            reach.add(root)
        key = (tuple(arg_key), _aliasing(arg_tensors, reach.tensors), reach.key())
        entry = self._cache.get(key)
        if entry is not None:
            replay, state = entry
            if replay is None:
                return fn(*args, **kwargs)
            return replay(arg_tensors + state)
        if len(self._cache) >= self._limit:
            if not self._warned_limit:
                self._warned_limit = True
                warnings.warn(f"ember.compile: {self._label} was recorded {self._limit} times (cache_size_limit); "
                              "calls with new shapes, modes or state now run eagerly. Raise "
                              "options={'cache_size_limit': n} or keep the inputs' shapes fixed", stacklevel=2)
            return fn(*args, **kwargs)
        return self._record(key, args, kwargs, arg_tensors, reach)

    def _record(self, key, args, kwargs, arg_tensors, reach):
        from ..backends.base import tiers  # imported on first recording: `import ember` stays light
        from .autograd_program import GradCall
        from .recorder import Installed, Recording

        if self._names is None:
            self._names = tuple(n for names in tiers().values() for n in names)
        grad = GradCall(self, key, arg_tensors, args, kwargs) if is_grad_enabled() else None
        if grad is not None:  # arguments that carry a graph are replaced by stand-ins, isolating this call's graph
            args, kwargs = grad.args, grad.kwargs
        rec = Recording(arg_tensors, reach, self._fullgraph, self._label)
        _recording.active = True
        try:
            with Installed(rec, self._names):
                result = self._fn(*args, **kwargs)
        finally:
            _recording.active = False
        if rec.broken is not None:
            self._eager = True
            self._cache.clear()
            reason, where = rec.broken
            warnings.warn(f"ember.compile: graph break in {self._label} at {where}: {reason}; it runs eagerly "
                          "from now on (fullgraph=True makes this an error)", stacklevel=3)
            return result if grad is None else grad.eager(result)
        if rec.new_backend:  # a device first used by this call: record again on the next one
            return result if grad is None else grad.eager(result)
        if grad is not None:
            return grad.finish(rec, result)
        replay, state = rec.finish(result)[:2]
        self._cache[key] = (replay, state)
        return result


def _aliasing(args: list, state: list) -> tuple:
    """Which tensor arguments share their array with an earlier argument or with a state tensor (the
    recording resolves an array to the first place it found it)."""
    if not args:
        return ()
    in_state = {id(t._data): i for i, t in enumerate(state)}
    first: dict = {}
    return tuple((first.setdefault(id(t._data), i), in_state.get(id(t._data))) for i, t in enumerate(args))


class OptimizedModule:
    """A compiled module, as `torch.compile(module)` returns: calls go through the recorded programs,
    every other attribute is the original module's (`_orig_mod`)."""

    def __init__(self, mod: Module, compiled: _CompiledFunction) -> None:
        object.__setattr__(self, "_orig_mod", mod)
        object.__setattr__(self, "_compiled_call", compiled)

    def __call__(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name: str):
        if name in ("_orig_mod", "_compiled_call"):  # not yet set (copy, unpickling)
            raise AttributeError(name)
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._orig_mod, name, value)

    def __repr__(self) -> str:
        return f"OptimizedModule(\n  (_orig_mod): {self._orig_mod!r}\n)"


def compile(model: Callable | Module | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str = "inductor", mode: str | None = None, options: dict[str, Any] | None = None,
            disable: bool = False):
    """Compile a function or module by recording its backend calls, as `torch.compile`.

    Usable as `compile(fn)`, `compile(module)`, `@compile` and `@compile(fullgraph=True)`.

    Args:
        model: the function or `nn.Module` to compile; None returns a decorator.
        fullgraph: raise `GraphBreak` naming the line when the function needs a tensor's value while
            recording, instead of falling back to eager with a warning.
        dynamic: only False or None (shapes are specialized; a new shape records again).
        backend: "inductor" (record and replay), or "eager"/"aot_eager" (run eagerly).
        mode: None, "default", "reduce-overhead", "max-autotune" or "max-autotune-no-cudagraphs"
            (all record and replay the same way).
        options: {"cache_size_limit": n}: recordings kept per function (default 8).
        disable: return `model` unchanged.

    Returns:
        The compiled function, an `OptimizedModule` for a module, or a decorator when `model` is None.
    """
    if dynamic:
        raise ValueError("ember.compile(dynamic=True) is not supported: recordings are specialized to the input "
                         "shapes; use dynamic=False or None (each new shape is recorded once)")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode!r}, should be one of: "
                           f"{', '.join(str(m) for m in _MODES[1:])}")
    if backend not in _BACKENDS:
        raise ValueError(f"ember.compile: unknown backend {backend!r}; expected one of {', '.join(_BACKENDS)}")
    options = dict(options or {})
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise RuntimeError(f"Unexpected optimization option {unknown[0]!r}; ember.compile accepts: "
                           f"{', '.join(_OPTIONS)}")
    limit = options.get("cache_size_limit", 8)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"ember.compile: cache_size_limit must be a non-negative int, got {limit!r}")

    def wrap(target):
        if disable:
            return target
        if not callable(target):
            raise TypeError(f"ember.compile: the model must be a function or an nn.Module, got {type(target).__name__}")
        compiled = _CompiledFunction(target, fullgraph, limit, backend == "inductor")
        if isinstance(target, Module):
            return OptimizedModule(target, compiled)
        return compiled

    return wrap if model is None else wrap(model)


def reset() -> None:
    """Forget every recording of every compiled function (as `torch.compiler.reset`)."""
    for compiled in list(_compiled):
        compiled.reset()
