"""CUDA streams and events, as `torch.cuda.Stream` / `torch.cuda.Event`.

ember queues its GPU work on the current stream of the device (the backend's library does: cupy
launches on cupy's current stream), so `with ember.cuda.stream(s):` runs the ember operations
inside on `s`. Events mark points in a stream: for ordering streams (`wait_event`) and for timing
(`Event(enable_timing=True)`, `elapsed_time`). Without CUDA, creating a stream or an event raises
RuntimeError saying why; `ember.cuda.stream(None)` does nothing.
"""
from __future__ import annotations

from typing import Any

from ..device import device as _device
from ._runtime import backend, hook, require
from .devices import device as device_context


class Stream:
    """A queue of GPU work on one device; work on one stream runs in order, streams may overlap.

    Args:
        device: the device (index, "cuda:N" or ember.device; default: the current device).
        priority: lower numbers run first (CUDA's convention), 0 is the default priority.
    """

    def __init__(self, device=None, priority: int = 0) -> None:
        self._bk = backend(device, "Stream")
        self.device = _device("cuda", self._bk.index)
        self.native: Any = hook(self._bk, "new_stream")(priority)

    @classmethod
    def _wrap(cls, bk, native) -> Stream:
        s = object.__new__(cls)
        s._bk, s.device, s.native = bk, _device("cuda", bk.index), native
        return s

    @property
    def cuda_stream(self) -> int:
        """The raw `cudaStream_t` handle (0 for the default stream)."""
        return hook(self._bk, "stream_handle")(self.native)

    def synchronize(self) -> None:
        """Wait until all work queued on this stream has finished."""
        hook(self._bk, "stream_synchronize")(self.native)

    def query(self) -> bool:
        """Whether all work queued on this stream has finished."""
        return hook(self._bk, "stream_query")(self.native)

    def wait_event(self, event: Event) -> None:
        """Make work queued on this stream from now on wait until `event` has completed."""
        if event.native is not None:
            hook(self._bk, "stream_wait_event")(self.native, event.native)

    def wait_stream(self, stream: Stream) -> None:
        """Make work queued on this stream from now on wait for all work queued so far on `stream`."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Record `event` (a new one by default) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self) -> Stream:
        self._context = StreamContext(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)

    def __eq__(self, other) -> bool:
        return isinstance(other, Stream) and self.device == other.device and self.native == other.native

    def __hash__(self) -> int:
        return hash((self.device, self.cuda_stream))

    def __repr__(self) -> str:
        return f"<ember.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None) -> Stream:
    """The stream ember queues work on for `device` (default: the current device) on this thread."""
    bk = backend(device, "current_stream")
    return Stream._wrap(bk, hook(bk, "current_stream")())


def default_stream(device=None) -> Stream:
    """The default stream of `device` (default: the current device)."""
    bk = backend(device, "default_stream")
    return Stream._wrap(bk, hook(bk, "default_stream")())


def set_stream(stream: Stream) -> None:
    """Make `stream` the current stream of its device on this thread (prefer `with ember.cuda.stream(s):`)."""
    hook(stream._bk, "set_current_stream")(stream.native)


class StreamContext:
    """Context manager that makes `stream` (and its device) current, restoring both on exit; None does nothing."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream

    def __enter__(self) -> Stream | None:
        if self.stream is None:
            return None
        self._device = device_context(self.stream.device.index)
        self._device.__enter__()
        self._use = hook(self.stream._bk, "use_stream")(self.stream.native)
        self._use.__enter__()
        return self.stream

    def __exit__(self, *exc) -> None:
        if self.stream is None:
            return
        self._use.__exit__(*exc)
        self._device.__exit__(*exc)


def stream(stream: Stream | None) -> StreamContext:
    """`with ember.cuda.stream(s):` queues the GPU work inside on `s`; `stream(None)` does nothing."""
    return StreamContext(stream)


class Event:
    """A marker in a stream, as `torch.cuda.Event`: record it, wait for it, time between two of them.

    The CUDA event is created on the device of the stream it is first recorded on.

    Args:
        enable_timing: whether `elapsed_time` can measure with this event (default False).
        blocking: whether `synchronize` blocks the thread rather than spins (default False).
        interprocess: whether the event can be shared between processes (default False).
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        require("Event")
        self.enable_timing, self.blocking, self.interprocess = enable_timing, blocking, interprocess
        self.native: Any = None
        self._bk = None

    def record(self, stream: Stream | None = None) -> None:
        """Record the event on `stream` (default: the current stream of the current device)."""
        stream = current_stream() if stream is None else stream
        if self.native is None:
            self._bk = stream._bk
            self.native = hook(self._bk, "new_event")(self.enable_timing, self.blocking, self.interprocess)
        elif stream.device != _device("cuda", self._bk.index):
            raise RuntimeError(f"Event.record: the event was created on cuda:{self._bk.index} and cannot be "
                               f"recorded on a stream of {stream.device}")
        hook(self._bk, "event_record")(self.native, stream.native)

    def wait(self, stream: Stream | None = None) -> None:
        """Make work queued on `stream` (default: the current stream) from now on wait for this event."""
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        """Whether the work recorded before this event has completed (True if it was never recorded)."""
        return True if self.native is None else hook(self._bk, "event_query")(self.native)

    def synchronize(self) -> None:
        """Wait until the work recorded before this event has completed (returns at once if never recorded)."""
        if self.native is not None:
            hook(self._bk, "event_synchronize")(self.native)

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and `end_event`, both recorded and created with enable_timing=True."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if self.native is None or end_event.native is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return hook(self._bk, "event_elapsed_time")(self.native, end_event.native)

    def __repr__(self) -> str:
        where = "not recorded" if self._bk is None else f"device=cuda:{self._bk.index}"
        return f"<ember.cuda.Event {where} enable_timing={self.enable_timing}>"
