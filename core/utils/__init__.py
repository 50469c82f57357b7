"""Utilities that mirror ``torch.utils``: ``ember.utils.data`` holds datasets, samplers and the DataLoader;
``ember.utils.dlpack`` exchanges tensors with other array libraries without copying; ``ember.utils.hooks``
holds the removable hook handles."""
from . import dlpack, hooks

__all__ = ["data", "dlpack", "hooks"]


def __getattr__(name: str):
    if name == "data":  # the DataLoader and its worker machinery (multiprocessing), imported on first use
        import importlib

        return importlib.import_module("ember.utils.data")
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
