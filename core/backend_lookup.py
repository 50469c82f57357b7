"""From a device type to its backend instance: the only place core asks the plugin manager for one."""
from __future__ import annotations

import threading

from ember.plugins.manager import get_plugin_manager

_instances: dict = {}
_lock = threading.Lock()


def backend_for(device_type: str):
    """The backend instance for `device_type`; RuntimeError says why when it is unknown or unavailable."""
    bk = _instances.get(device_type)
    if bk is not None:
        return bk
    registry = get_plugin_manager().backends
    cls = registry.by_device_type.get(device_type)
    if cls is None:
        known = ", ".join(sorted(registry.by_device_type)) or "none"
        raise RuntimeError(f"no ember backend serves device type '{device_type}' (known device types: {known}); "
                           f"install a backend plugin for it")
    ok, reason = cls.is_available()
    if not ok:
        raise RuntimeError(f"{cls.name} backend (device type '{device_type}') unavailable: {reason}")
    with _lock:
        bk = _instances.get(device_type)
        if bk is None:
            bk = _instances[device_type] = cls()
    return bk


def backend_by_name(name: str):
    """The backend instance registered under `name` (e.g. "numpy")."""
    registry = get_plugin_manager().backends
    cls = registry.by_name.get(name)
    if cls is None:
        known = ", ".join(sorted(registry.by_name)) or "none"
        raise RuntimeError(f"no ember backend named '{name}' (installed: {known})")
    return backend_for(cls.device_type)
