"""ember's plugin system: pluggy hooks, entry-point group ``ember``, and the registries they fill."""
from .hookspecs import hookimpl, hookspec
from .manager import EmberPluginWarning, get_plugin_manager, reset_plugin_manager
from .registry import PluginConflictError, PluginError


def get_layer(name: str) -> type:
    """The layer class a plugin registered under `name`; KeyError lists the available names."""
    return _lookup("layers", name)


def get_loss(name: str) -> type:
    """The loss class a plugin registered under `name`."""
    return _lookup("losses", name)


def get_optimizer(name: str) -> type:
    """The optimizer class a plugin registered under `name`."""
    return _lookup("optimizers", name)


def _lookup(kind: str, name: str) -> type:
    entries = get_plugin_manager().registry(kind).entries
    try:
        return entries[name]
    except KeyError:
        available = ", ".join(sorted(entries)) or "none"
        raise KeyError(f"no plugin registers the {kind[:-1]} '{name}'; available: {available}") from None


__all__ = ["hookimpl", "hookspec", "EmberPluginWarning", "PluginError", "PluginConflictError",
           "get_plugin_manager", "reset_plugin_manager", "get_layer", "get_loss", "get_optimizer"]
