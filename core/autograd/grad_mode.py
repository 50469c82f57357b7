"""Whether ops record the graph: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`.

The flag is thread-local, as in PyTorch; each context manager also works as a decorator.
"""
from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    enabled = True


state = _GradState()


def is_grad_enabled() -> bool:
    """True when ops record the autograd graph in this thread."""
    return state.enabled


class _GradModeContext:
    """Base of the grad-mode context managers: sets the flag on enter, restores it on exit."""

    _mode: bool

    def __enter__(self) -> None:
        self._prev = state.enabled
        state.enabled = self._mode

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def __call__(self, fn):
        mode = self._mode  # None: leave the flag alone

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            if mode is not None:
                state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev
        return wrapper


class no_grad(_GradModeContext):
    """Disable gradient recording: results of ops have `requires_grad=False`."""

    _mode = False


class enable_grad(_GradModeContext):
    """Enable gradient recording, e.g. inside a `no_grad` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; takes effect at once, and as a context manager restores on exit."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self._mode

    def __enter__(self) -> None:
        """The flag was set by the constructor already."""

    def __call__(self, fn):
        state.enabled = self._prev  # used as a decorator: only calls of `fn` change the flag
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """Like `no_grad` (ember has no separate inference tensors); `inference_mode(False)` is a no-op."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = not mode if mode else None

    def __enter__(self) -> None:
        self._prev = state.enabled
        if self._mode is not None:
            state.enabled = self._mode
