"""From a device to its backend instance: the only place core asks the plugin manager for one."""
from __future__ import annotations

import threading

_instances: dict = {}
_lock = threading.Lock()


def backend_class(device_type: str) -> type:
    """The backend class registered for `device_type`; RuntimeError names the known types when none is."""
    from ember.plugins.manager import get_plugin_manager  # the plugin system loads at the first device lookup

    registry = get_plugin_manager().backends
    cls = registry.by_device_type.get(device_type)
    if cls is None:
        known = ", ".join(sorted(registry.by_device_type)) or "none"
        raise RuntimeError(f"no ember backend serves device type '{device_type}' (known device types: {known}); "
                           f"install a backend plugin for it")
    return cls


def backend_for(device_type: str, index: int | None = None):
    """The backend instance serving device `index` of `device_type` (index None: the device type's
    only or first device). RuntimeError says why when the type is unknown, the backend unavailable,
    or the index out of range."""
    key = (device_type, index)
    bk = _instances.get(key)
    if bk is not None:
        return bk
    cls = backend_class(device_type)
    ok, reason = cls.is_available()
    if not ok:
        raise RuntimeError(f"{cls.name} backend (device type '{device_type}') unavailable: {reason}")
    if index is not None:
        count = cls.device_count()
        if index >= count:
            raise RuntimeError(f"device {device_type}:{index} does not exist: the {cls.name} backend has "
                               f"{count} {device_type} device(s) (indices 0..{count - 1})")
    with _lock:
        bk = _instances.get(key)
        if bk is None:
            bk = _instances[key] = cls(index)
    return bk


def instantiated(device_type: str) -> list[int]:
    """The device indices of `device_type` whose backend instance exists (the devices used so far)."""
    return sorted(index for (type_, index) in list(_instances) if type_ == device_type and index is not None)


def backend_by_name(name: str):
    """The backend instance registered under `name` (e.g. "numpy"), for its first device."""
    from ember.plugins.manager import get_plugin_manager

    registry = get_plugin_manager().backends
    cls = registry.by_name.get(name)
    if cls is None:
        known = ", ".join(sorted(registry.by_name)) or "none"
        raise RuntimeError(f"no ember backend named '{name}' (installed: {known})")
    return backend_for(cls.device_type, None if cls.device_type == "cpu" else 0)
