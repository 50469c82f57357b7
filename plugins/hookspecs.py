"""The hooks an ember plugin implements. A plugin is a module (or object) with functions named
like these and marked with `ember.plugins.hookimpl`; third-party packages expose it through the
entry-point group ``ember``::

    [project.entry-points.ember]
    mylib = "mylib.ember_plugin"

Each hook receives a registrar object; every registration is validated in one place, and an
error names the plugin that made it. Hooks are called once, when ember first needs what they
provide, never per tensor op.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ember")
hookimpl = pluggy.HookimplMarker("ember")


@hookspec
def ember_register_backends(registry) -> None:
    """Register array-library backends.

    Called once, the first time ember looks up a backend or device. Call
    ``registry.add_backend(cls)`` with a subclass of :class:`ember.backends.Backend`; its
    ``name`` and ``device_type`` must be unique among all installed plugins (a clash is an
    error naming both distributions). Importing the plugin module must not import the
    array library if that is slow or may fail: import it inside the backend class.

    Args:
        registry: the :class:`ember.plugins.registry.BackendRegistrar`.
    """


@hookspec
def ember_register_layers(registry) -> None:
    """Register neural-network layers (``ember.nn.Module`` subclasses).

    Called once, the first time a layer is looked up by name (``ember.nn.MyLayer`` or
    ``ember.plugins.get_layer("MyLayer")``). Call ``registry.add(cls, name=None)``; the name
    defaults to ``cls.__name__`` and must not shadow a built-in layer.

    Args:
        registry: a :class:`ember.plugins.registry.Registrar` for layers.
    """


@hookspec
def ember_register_losses(registry) -> None:
    """Register loss modules (``ember.nn.Module`` subclasses computing a loss).

    Called once, the first time a loss is looked up by name (``ember.nn.MyLoss``). Call
    ``registry.add(cls, name=None)``.

    Args:
        registry: a :class:`ember.plugins.registry.Registrar` for losses.
    """


@hookspec
def ember_register_optimizers(registry) -> None:
    """Register optimizers (``ember.optim.Optimizer`` subclasses).

    Called once, the first time an optimizer is looked up by name (``ember.optim.MyOpt``).
    Call ``registry.add(cls, name=None)``.

    Args:
        registry: a :class:`ember.plugins.registry.Registrar` for optimizers.
    """
