"""`Optimizer`: the base of every optimizer, as `torch.optim.Optimizer`.

It holds the parameter groups (dicts of tensors and options, filled from `defaults`) and the
per-parameter `state`; it saves both as a state dict that names parameters by their index, and
runs the step hooks. `step` is one loop shared by all optimizers: subclasses implement `_update`, one
parameter's update (a fused backend kernel through `fused_step`, or in-place tensor ops).
"""
from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Iterable

from .. import creation, dtypes
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor, _wrap
from ..utils.hooks import add_hook

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """The default of an option every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _with_step_hooks(step: Callable) -> Callable:
    """Wrap a subclass's `step` so that it runs the pre/post hooks and records that it was called."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        for hook in tuple(self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"optimizer step pre-hook {hook} must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        out = step(self, *args, **kwargs)
        for hook in tuple(self._optimizer_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


def scalar_dtype() -> dtypes.dtype:
    """The dtype of scalar state such as `step`: float64 when it is the default dtype, else float32."""
    return dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64 else dtypes.float32


def new_step_state():
    """The per-parameter step counter: a 0-d CPU tensor, as PyTorch keeps it."""
    return creation.zeros((), dtype=scalar_dtype(), device="cpu")


def advance_step(state: dict) -> float:
    """Add one to state["step"] and return its new value."""
    step_t = state["step"]
    if not isinstance(step_t, Tensor):  # a plain number, as in older PyTorch checkpoints
        step_t = state["step"] = creation.tensor(float(step_t), dtype=scalar_dtype(), device="cpu")
    step_t += 1
    return step_t.item()


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of tensors, of (name, tensor) pairs, or of dicts that define parameter
            groups (key "params" plus per-group options).
        defaults: the default value of each option, for groups that do not set it.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        cls = type(self)
        if not getattr(cls.step, "_hooked", False):
            cls.step = _with_step_hooks(cls.step)
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got ember.Tensor; wrap it in a list: {cls.__name__}([tensor], ...)")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles carry the options and state, not the hooks (as in PyTorch)."""
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ---- parameter groups ------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with key "params" and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
            params = [p[1] for p in params]
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not (p.is_leaf or p._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error", stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
            if any(id(p) in ids for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients and steps ---------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step; returns the closure's loss (None without a closure).

        The loop every optimizer shares: for each parameter with a gradient, `_update` with its state
        (on the parameter's device) and its group's options."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            stateful = self._has_state(group)
            for p in group["params"]:
                grad = p._grad
                if grad is not None:
                    self._update(p, grad, follow_device(p, self.state[p]) if stateful else None, group)
        return loss

    def _has_state(self, group: dict) -> bool:
        """Whether the parameters of `group` keep state (SGD without momentum keeps none)."""
        return True

    def _update(self, p: Tensor, grad: Tensor, state: dict | None, group: dict) -> None:
        """Update parameter `p` in place from `grad`, its `state` dict and its `group`'s options."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step(); subclasses of "
                                  "Optimizer define step() or _update()")

    @staticmethod
    def _closure_loss(closure: Callable[[], Any] | None):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def register_step_pre_hook(self, hook: Callable):
        """Call `hook(optimizer, args, kwargs)` before each `step`; it may return new (args, kwargs)."""
        return add_hook(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable):
        """Call `hook(optimizer, args, kwargs)` after each `step`."""
        return add_hook(self._optimizer_step_post_hooks, hook, False)

    # ---- saving and loading ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: {"state": {index: {name: value}}, "param_groups": [group options with
        "params" as the indices of its parameters]}; indices count parameters across groups in order."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from `state_dict()`. State tensors are copied to each parameter's device, and
        floating ones (other than "step") to its dtype. (PyTorch may alias the given tensors; ember copies.)"""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                             f"than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(s['params'])} parameters in the state "
                                 f"dict and {len(g['params'])} in the optimizer")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast_state(param, v)
            else:
                state[k] = v
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups


def fused_step(kernel: str, param: Tensor, grad: Tensor, *state: Tensor | None, **options: Any) -> Tensor | None:
    """Run the backend's fused optimizer kernel `kernel` ("sgd_step", "adam_step") on the arrays of `param`,
    `grad` and the `state` tensors (None stays None), with `options` as keyword arguments. The kernel updates
    `param` (and the state) in place, which counts as an in-place change of `param`. Returns the array the
    kernel returns, as a tensor on `param`'s device, or None."""
    bk = param._bk
    out = getattr(bk, kernel)(param._data, grad._data, *(None if s is None else s._data for s in state), **options)
    param._version[0] += 1
    return None if out is None else _wrap(out, bk, param._device)


def follow_device(param: Tensor, state: dict[str, Any]) -> dict[str, Any]:
    """`state`, its tensors moved to `param`'s device if the parameter moved since they were made (a
    `model.to(device)` after some steps); "step" stays on the CPU, as in PyTorch."""
    for key, value in state.items():
        if key != "step" and isinstance(value, Tensor) and value._device is not param._device:
            state[key] = value.to(param._device)
    return state


def _cast_state(param: Tensor, value, key=None):
    """A copy of `value` (a tensor, or containers of them) on `param`'s device, floating ones in its dtype."""
    if isinstance(value, Tensor):
        cast_dtype = key != "step" and value.dtype.is_floating_point and param.dtype.is_floating_point
        return value.detach().to(device=param.device, dtype=param.dtype if cast_dtype else value.dtype, copy=True)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value
