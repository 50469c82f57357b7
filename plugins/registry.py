"""Registrars handed to the plugin hooks, and the registries they fill.

Every registration is validated here, in one place. A registration that breaks a rule is
refused: the registrar reports it through `refuse` (an `EmberPluginWarning` naming the plugin and
its distribution, or an error under EMBER_STRICT_PLUGINS=1) and keeps everything else, so one
bad plugin never takes ember or other plugins down. The rules:

- a backend is a concrete `ember.backends.Backend` subclass with a `name` and a `device_type`;
- no third-party backend may take a built-in backend's name or device type; two third-party
  backends claiming one name or device type are both refused, with one message naming both;
- a layer or loss is an `ember.nn.Module` subclass and an optimizer an `ember.optim.Optimizer`
  subclass, under a name that is a Python identifier and does not shadow a built-in of
  `ember.nn` / `ember.optim`; two plugins registering one name are both refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class PluginError(RuntimeError):
    """A plugin failed, or registered something invalid (raised under EMBER_STRICT_PLUGINS=1)."""


class PluginConflictError(PluginError):
    """Two plugins claim the same name or device type."""


@dataclass(frozen=True)
class Origin:
    """Who registered an entry: the plugin's name and its distribution (name and version)."""

    plugin: str
    distribution: str
    builtin: bool = False

    def __str__(self) -> str:
        return f"plugin '{self.plugin}' (distribution {self.distribution})"


Refuse = Callable[[Origin, Exception], None]


class BackendRegistrar:
    """Collects backend classes; names and device types are unique across all plugins."""

    def __init__(self, refuse: Refuse) -> None:
        self.by_name: dict[str, type] = {}
        self.by_device_type: dict[str, type] = {}
        self.origins: dict[str, Origin] = {}
        self.current: Origin | None = None
        self._refuse = refuse
        self._contested: set[tuple[str, str]] = set()  # ("name" | "device type", key) refused for a conflict

    def add_backend(self, cls: type) -> None:
        """Register `cls`, a concrete subclass of `ember.backends.Backend` with a `name` and `device_type`."""
        from ember.backends.base import Backend

        origin = self.current
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            return self._refuse(origin, PluginError(f"{origin}: add_backend expects a subclass of "
                                                    f"ember.backends.Backend, got {cls!r}"))
        if not cls.name or not cls.device_type:
            return self._refuse(origin, PluginError(f"{origin}: backend {cls.__qualname__} must set `name` "
                                                    f"and `device_type`"))
        if cls.__abstractmethods__:
            missing = ", ".join(sorted(cls.__abstractmethods__))
            return self._refuse(origin, PluginError(f"{origin}: backend '{cls.name}' does not implement the "
                                                    f"required primitives: {missing}"))
        for what, key, table in (("name", cls.name, self.by_name), ("device type", cls.device_type,
                                                                     self.by_device_type)):
            if (what, key) in self._contested:
                return self._refuse(origin, PluginConflictError(
                    f"{origin}: backend {cls.__qualname__} claims the {what} '{key}', which other plugins "
                    f"already contest; it is refused too"))
            rival = table.get(key)
            if rival is None:
                continue
            rival_origin = self.origins[rival.name]
            conflict = (f"two backends claim the {what} '{key}': {rival.__qualname__} from {rival_origin} and "
                        f"{cls.__qualname__} from {origin}")
            if rival_origin.builtin:
                return self._refuse(origin, PluginConflictError(
                    f"{conflict}; the built-in backend is kept and {cls.__qualname__} is refused (uninstall "
                    f"{origin.distribution} or set EMBER_DISABLE_PLUGINS={origin.plugin})"))
            self._remove(rival)
            self._contested.add((what, key))
            return self._refuse(origin, PluginConflictError(
                f"{conflict}; both are refused: uninstall one, or disable one with "
                f"EMBER_DISABLE_PLUGINS={origin.plugin} (or {rival_origin.plugin})"))
        self.by_name[cls.name] = cls
        self.by_device_type[cls.device_type] = cls
        self.origins[cls.name] = origin

    def _remove(self, cls: type) -> None:
        del self.by_name[cls.name], self.by_device_type[cls.device_type], self.origins[cls.name]


class Registrar:
    """Collects named classes of one kind (layers, losses or optimizers) for `ember.nn` / `ember.optim`.

    `base` is the class every entry must subclass, `builtins` the names the kind's namespace
    already has, and `taken` the names other registrars of the same namespace hold (layers and
    losses share `ember.nn`).
    """

    def __init__(self, kind: str, refuse: Refuse, base: type, builtins: set[str],
                 taken: Callable[[str], Origin | None] = lambda name: None) -> None:
        self.kind = kind
        self.entries: dict[str, type] = {}
        self.origins: dict[str, Origin] = {}
        self.current: Origin | None = None
        self._refuse = refuse
        self._base = base
        self._builtins = builtins
        self._taken = taken
        self._contested: set[str] = set()

    def add(self, cls: type, name: str | None = None) -> None:
        """Register `cls` under `name` (default: the class's name)."""
        origin = self.current
        name = name or getattr(cls, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            return self._refuse(origin, PluginError(f"{origin}: {self.kind} name must be a Python identifier, "
                                                    f"got {name!r}"))
        if not (isinstance(cls, type) and issubclass(cls, self._base)):
            return self._refuse(origin, PluginError(
                f"{origin}: {self.kind} '{name}' must be a subclass of {self._base.__module__}.{self._base.__name__}, "
                f"got {cls!r}"))
        if name in self._builtins:
            return self._refuse(origin, PluginConflictError(
                f"{origin}: {self.kind} '{name}' would shadow ember's built-in '{name}'; register it under "
                f"another name"))
        if name in self._contested:
            return self._refuse(origin, PluginConflictError(
                f"{origin}: the {self.kind} name '{name}' is contested by other plugins; it is refused too"))
        rival = self.origins.get(name)
        if rival is not None and self.entries[name] is not cls:
            del self.entries[name], self.origins[name]
            self._contested.add(name)
            return self._refuse(origin, PluginConflictError(
                f"two plugins register the {self.kind} '{name}': {rival} and {origin}; both are refused"))
        holder = self._taken(name)
        if holder is not None:
            return self._refuse(origin, PluginConflictError(
                f"{origin}: the name '{name}' is already registered in the same namespace by {holder}; "
                f"the {self.kind} is refused"))
        self.entries[name] = cls
        self.origins[name] = origin
