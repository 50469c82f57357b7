"""Removable hook handles, as `torch.utils.hooks`: what every `register_*_hook` of modules and optimizers
returns."""
from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any, Callable

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """A handle that removes one registered hook: `handle.remove()`, or leaving a `with handle:` block.

    Args:
        hooks_dict: the ordered dict, keyed by handle id, that holds the hook.
        extra_dict: further dicts (one, or a list or tuple) the hook's id is removed from as well.
    """

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.id = next(_ids)
        extras = extra_dict if isinstance(extra_dict, (list, tuple)) else (extra_dict,)
        self._dicts = (hooks_dict,) + tuple(d for d in extras if d is not None)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False, extra: Any = None) -> RemovableHandle:
    """Store `hook` in the ordered dict `hooks` (first when `prepend`) and return its handle; the `extra`
    dicts also drop its id on removal."""
    handle = RemovableHandle(hooks, extra_dict=extra)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle
