"""Discovers and loads ember plugins: the built-in ones, then the entry-point group ``ember``.

Each entry point is loaded and each hook implementation called inside its own guard, so one
broken package is reported by name (an `EmberPluginWarning`) and the rest keeps working.
Environment variables, as pytest and tox offer theirs:

- ``EMBER_DISABLE_PLUGINS=a,b``: do not load the plugins (entry-point names) a and b;
- ``EMBER_DISABLE_PLUGIN_AUTOLOAD=1``: load no third-party plugin at all;
- ``EMBER_STRICT_PLUGINS=1``: a plugin that fails to load, or registers something that is refused,
  is an error, not a warning.

Two distributions declaring one entry-point name are both loaded (the second under the name
``"NAME (DISTRIBUTION)"``) and reported with a warning naming both.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import pkgutil
import threading
import warnings

import pluggy

from . import hookspecs
from .registry import BackendRegistrar, Origin, PluginConflictError, PluginError, Registrar

ENTRY_POINT_GROUP = "ember"


def builtin_plugins() -> list:
    """The built-in backend plugins: each `ember.backends.*_backend` module that implements
    `ember_register_backends` (so a new backend is one new module).

    A backend module must not import its array library at import time (cupy may be absent or
    broken): it imports it inside the backend class.
    """
    import ember.backends

    names = sorted(m.name for m in pkgutil.iter_modules(ember.backends.__path__) if m.name.endswith("_backend"))
    modules = [importlib.import_module(f"ember.backends.{name}") for name in names]
    return [m for m in modules if hasattr(m, "ember_register_backends")]


class EmberPluginWarning(UserWarning):
    """A plugin failed to load or register, or something it registered was refused."""


def _ember_version() -> str:
    from ember import __version__

    return __version__


def _namespace(module: str) -> set[str]:
    """The public names of `ember.nn` or `ember.optim` (what a plugin must not shadow)."""
    mod = importlib.import_module(module)
    return {n for n in vars(mod) if not n.startswith("_")}


class PluginManager:
    """ember's pluggy manager plus what the hooks registered, computed once per process."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.origins: dict[str, Origin] = {}
        self.failures: dict[str, str] = {}
        self.registered: dict[str, list[str]] = {}  # plugin -> ["layer SwiGLU", ...]
        self._backends: BackendRegistrar | None = None
        self._registries: dict[str, Registrar] = {}
        self._lock = threading.RLock()
        self._load()

    # ---- loading ----
    def _fail(self, name: str, dist: str, exc: BaseException, stacklevel: int = 3) -> None:
        message = f"{type(exc).__name__}: {exc}"
        self.failures[name] = f"{self.failures[name]}; {message}" if name in self.failures else f"{dist}: {message}"
        if _strict():
            raise PluginError(f"ember plugin '{name}' (distribution {dist}) failed: {message}") from exc
        warnings.warn(f"ember plugin '{name}' (distribution {dist}) failed and is skipped: {message}",
                      EmberPluginWarning, stacklevel=stacklevel)

    def _refuse(self, origin: Origin, exc: Exception) -> None:
        self._fail(origin.plugin, origin.distribution, exc, stacklevel=5)

    def _load(self) -> None:
        builtin_dist = f"ember {_ember_version()}"
        for module in builtin_plugins():
            self.pm.register(module, name=module.__name__)
            self.origins[module.__name__] = Origin(module.__name__, builtin_dist, builtin=True)
        if os.environ.get("EMBER_DISABLE_PLUGIN_AUTOLOAD") == "1":
            return
        disabled = {n.strip() for n in os.environ.get("EMBER_DISABLE_PLUGINS", "").split(",") if n.strip()}
        by_name: dict[str, list] = {}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name not in disabled:
                by_name.setdefault(ep.name, []).append(ep)
        for name, eps in by_name.items():
            dists = [f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown distribution"
                     for ep in eps]
            if len(eps) > 1:
                warnings.warn(f"ember plugin name '{name}' is declared by {len(eps)} distributions: "
                              f"{', '.join(dists)}; each is loaded, the later ones as '{name} (DISTRIBUTION)'",
                              EmberPluginWarning, stacklevel=3)
            for i, (ep, dist) in enumerate(zip(eps, dists)):
                plugin = name if i == 0 else f"{name} ({dist})"
                try:
                    self.pm.register(ep.load(), name=plugin)
                except Exception as exc:  # any import-time error of a third-party package
                    self._fail(plugin, dist, exc)
                    continue
                self.origins[plugin] = Origin(plugin, dist)

    def _call(self, hook_name: str, registrar, what: str) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            origin = self.origins.get(impl.plugin_name, Origin(impl.plugin_name, "unknown distribution"))
            registrar.current = origin
            before = set(_entries(registrar))
            try:
                impl.function(**{arg: registrar for arg in impl.argnames})
            except Exception as exc:
                if isinstance(exc, PluginError) and _strict():
                    raise  # already reported by the registrar
                self._fail(impl.plugin_name, origin.distribution, exc)
            added = [f"{what} {n}" for n in _entries(registrar) if n not in before]
            if added:
                self.registered.setdefault(impl.plugin_name, []).extend(added)
        registrar.current = None

    # ---- what plugins provide ----
    @property
    def backends(self) -> BackendRegistrar:
        """The registered backend classes, by name and by device type."""
        if self._backends is None:
            with self._lock:
                if self._backends is None:
                    registrar = BackendRegistrar(self._refuse)
                    self._call("ember_register_backends", registrar, "backend")
                    self._backends = registrar
        return self._backends

    def registry(self, kind: str) -> Registrar:
        """The registered classes of `kind`: "layers", "losses" or "optimizers"."""
        if kind not in self._registries:
            with self._lock:
                if kind not in self._registries:
                    self._registries[kind] = self._build(kind)
        return self._registries[kind]

    def _build(self, kind: str) -> Registrar:
        if kind == "optimizers":
            from ember.optim import Optimizer

            registrar = Registrar("optimizer", self._refuse, Optimizer, _namespace("ember.optim"))
        else:
            from ember.nn import Module

            other = self.registry("layers") if kind == "losses" else None
            registrar = Registrar(kind[:-1], self._refuse, Module, _namespace("ember.nn"),
                                  taken=(lambda name: other.origins.get(name)) if other is not None
                                  else (lambda name: None))
        self._call(f"ember_register_{kind}", registrar, kind[:-1])
        return registrar

    def plugins(self) -> list[tuple[str, str]]:
        """(plugin name, distribution) for every loaded plugin."""
        return [(name, str(origin.distribution)) for name, origin in self.origins.items()]


def _strict() -> bool:
    return os.environ.get("EMBER_STRICT_PLUGINS") == "1"


def _entries(registrar) -> list[str]:
    return list(registrar.by_name if isinstance(registrar, BackendRegistrar) else registrar.entries)


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, created (and plugins loaded) on first call."""
    global _manager
    if _manager is None:
        with _manager_lock:
            if _manager is None:
                _manager = PluginManager()
    return _manager


def reset_plugin_manager() -> None:
    """Forget loaded plugins so the next lookup loads them again (for tests and `python -m ember`)."""
    global _manager
    with _manager_lock:
        _manager = None
