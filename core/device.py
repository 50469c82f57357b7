"""`ember.device`: where a tensor lives. A device type ("cpu", "cuda", ...) names exactly one backend."""
from __future__ import annotations

import threading


class device:
    """A device such as ``ember.device("cpu")``, ``ember.device("cuda:1")`` or ``ember.device("cuda", 1)``.

    Devices are interned: equal devices are the same object.
    """

    __slots__ = ("type", "index", "_backend")
    _cache: dict = {}
    _lock = threading.Lock()

    def __new__(cls, type_or_spec, index: int | None = None):
        if isinstance(type_or_spec, device):
            if index is not None:
                raise ValueError("ember.device: an index cannot be given with a device object")
            return type_or_spec
        key = (type_or_spec, index)
        cached = cls._cache.get(key)
        if cached is not None:
            return cached
        dtype_, idx = _parse(type_or_spec, index)
        with cls._lock:
            obj = cls._cache.get((dtype_, idx))
            if obj is None:
                obj = object.__new__(cls)
                obj.type = dtype_
                obj.index = idx
                obj._backend = None
                cls._cache[(dtype_, idx)] = obj
            cls._cache[key] = obj
        return obj

    @property
    def backend(self):
        """The backend instance serving this device (one per device index; resolved once, through the plugins).
        A device type without an index ("cuda") means its current device, looked up on every call."""
        bk = self._backend
        if bk is None:
            from .backend_lookup import backend_for

            concrete = tensor_device(self)
            bk = backend_for(self.type, concrete.index)
            if concrete is self:
                self._backend = bk
        return bk

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (str(self),))

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        return self is other


def _parse(spec, index):
    if isinstance(spec, int) and not isinstance(spec, bool) and index is None:
        return "cuda", spec  # PyTorch: an int means a CUDA device ordinal
    if not isinstance(spec, str):
        raise TypeError(f"ember.device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
    type_, sep, idx = spec.strip().partition(":")
    if not type_ or not type_.replace("_", "").isalnum():
        raise ValueError(f"ember.device: invalid device string {spec!r}; expected e.g. 'cpu', 'cuda', 'cuda:1'")
    if sep:
        if index is not None:
            raise ValueError(f"ember.device: type {spec!r} already has an index; do not pass index={index}")
        if not idx.isdigit():
            raise ValueError(f"ember.device: invalid device index in {spec!r}")
        index = int(idx)
    if index is not None and (not isinstance(index, int) or index < 0):
        raise ValueError(f"ember.device: device index must be a non-negative int, got {index!r}")
    if type_ == "cpu" and index not in (None, 0):
        raise ValueError(f"ember.device: the cpu device has no index {index}")
    return type_, (None if type_ == "cpu" else index)


_default = None


def get_default_device() -> device:
    """The device tensors are created on when no `device=` is given (cpu unless changed)."""
    global _default
    if _default is None:
        _default = device("cpu")
    return _default


def set_default_device(dev) -> None:
    """Make `dev` (a device or string) the default device for tensor creation."""
    global _default
    _default = None if dev is None else tensor_device(device(dev))


_current = threading.local()


def current_index(device_type: str) -> int:
    """The current device index of `device_type` on this thread (0 unless `set_current_index` changed it)."""
    return getattr(_current, device_type, 0)


def set_current_index(device_type: str, index: int) -> None:
    """Make `index` the current device of `device_type` on this thread (`ember.cuda.set_device` for "cuda")."""
    setattr(_current, device_type, index)


def tensor_device(dev: device) -> device:
    """The concrete device a tensor lives on: "cuda" means the current CUDA device (`ember.cuda.current_device()`)."""
    if dev.index is None and dev.type != "cpu":
        return device(dev.type, getattr(_current, dev.type, 0))
    return dev


def as_device(dev) -> device:
    """The concrete device for a `device=` argument (None: the default device)."""
    if dev is None:
        return get_default_device()
    return tensor_device(device(dev))
