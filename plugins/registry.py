"""Registrars handed to the plugin hooks, and the registries they fill."""
from __future__ import annotations

from dataclasses import dataclass


class PluginError(RuntimeError):
    """A plugin registered something invalid or conflicting."""


class PluginConflictError(PluginError):
    """Two plugins claim the same name or device type."""


@dataclass(frozen=True)
class Origin:
    """Who registered an entry: the plugin's name and its distribution (name and version)."""

    plugin: str
    distribution: str

    def __str__(self) -> str:
        return f"plugin '{self.plugin}' (distribution {self.distribution})"


class BackendRegistrar:
    """Collects backend classes; names and device types are unique across all plugins."""

    def __init__(self) -> None:
        self.by_name: dict[str, type] = {}
        self.by_device_type: dict[str, type] = {}
        self.origins: dict[str, Origin] = {}
        self.current: Origin | None = None

    def add_backend(self, cls: type) -> None:
        """Register `cls`, a subclass of `ember.backends.Backend` with a `name` and `device_type`."""
        from ember.backends.base import Backend

        origin = self.current
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            raise PluginError(f"{origin}: add_backend expects a subclass of ember.backends.Backend, got {cls!r}")
        if not cls.name or not cls.device_type:
            raise PluginError(f"{origin}: backend {cls.__qualname__} must set `name` and `device_type`")
        if cls.__abstractmethods__:
            missing = ", ".join(sorted(cls.__abstractmethods__))
            raise PluginError(f"{origin}: backend '{cls.name}' does not implement: {missing}")
        for key, table, what in ((cls.name, self.by_name, "name"),
                                 (cls.device_type, self.by_device_type, "device type")):
            if key in table:
                other = self.origins[table[key].name]
                raise PluginConflictError(f"two backends claim the {what} '{key}': {table[key].__qualname__} from "
                                  f"{other} and {cls.__qualname__} from {origin}; uninstall one, or "
                                  f"disable its plugin with EMBER_DISABLE_PLUGINS={origin.plugin}")
        self.by_name[cls.name] = cls
        self.by_device_type[cls.device_type] = cls
        self.origins[cls.name] = origin


class Registrar:
    """Collects named classes of one kind (layers, losses or optimizers)."""

    def __init__(self, kind: str, base_check=None) -> None:
        self.kind = kind
        self.entries: dict[str, type] = {}
        self.origins: dict[str, Origin] = {}
        self.current: Origin | None = None
        self._base_check = base_check

    def add(self, cls: type, name: str | None = None) -> None:
        """Register `cls` under `name` (default: the class's name)."""
        origin = self.current
        name = name or getattr(cls, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise PluginError(f"{origin}: {self.kind} name must be a Python identifier, got {name!r}")
        if self._base_check is not None:
            self._base_check(cls, origin)
        if name in self.entries and self.entries[name] is not cls:
            raise PluginConflictError(f"two plugins register the {self.kind} '{name}': {self.origins[name]} and {origin}")
        self.entries[name] = cls
        self.origins[name] = origin
