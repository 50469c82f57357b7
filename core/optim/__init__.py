"""Optimizers and learning-rate schedulers, as `torch.optim`.

Optimizers that third-party plugins register (hook `ember_register_optimizers`) are reachable
here by name, exactly like the built-in ones.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(f"module 'ember.optim' has no attribute '{name}'")
    from ember.plugins import get_plugin_manager

    try:  # whatever a plugin did, a lookup here is an attribute lookup (hasattr never raises)
        cls = get_plugin_manager().registry("optimizers").entries.get(name)
    except Exception as exc:
        raise AttributeError(f"module 'ember.optim' has no attribute '{name}' (plugin lookup failed: "
                             f"{type(exc).__name__}: {exc})") from exc
    if cls is not None:
        return cls
    raise AttributeError(f"module 'ember.optim' has no attribute '{name}' (no built-in or plugin optimizer of "
                         f"that name)")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "lr_scheduler"]
