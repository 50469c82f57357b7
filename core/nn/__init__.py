"""Neural-network building blocks, as `torch.nn`: `Module`, layers, losses, `functional`, `init`, `utils`.

Layers and losses that third-party plugins register (hook `ember_register_layers` /
`ember_register_losses`) are reachable here by name, exactly like the built-in ones.
"""
from .parameter import Buffer, Parameter
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from . import functional, init, utils


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(f"module 'ember.nn' has no attribute '{name}'")
    if name == "parallel":  # DistributedDataParallel, imported on first use
        import importlib

        return importlib.import_module("ember.nn.parallel")
    from ember.plugins import get_plugin_manager

    try:  # whatever a plugin did, a lookup here is an attribute lookup (hasattr never raises)
        pm = get_plugin_manager()
        for kind in ("layers", "losses"):
            cls = pm.registry(kind).entries.get(name)
            if cls is not None:
                return cls
    except Exception as exc:
        raise AttributeError(f"module 'ember.nn' has no attribute '{name}' (plugin lookup failed: "
                             f"{type(exc).__name__}: {exc})") from exc
    raise AttributeError(f"module 'ember.nn' has no attribute '{name}' (no built-in or plugin layer or loss "
                         f"of that name)")


__all__ = ["Parameter", "Buffer", "functional", "init", "utils"] + list(_modules_all)
