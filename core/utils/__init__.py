"""Utilities that mirror ``torch.utils``: ``ember.utils.data`` holds datasets, samplers and the DataLoader;
``ember.utils.dlpack`` exchanges tensors with other array libraries without copying; ``ember.utils.hooks``
holds the removable hook handles."""
from . import data, dlpack
from . import hooks

__all__ = ["data", "dlpack", "hooks"]
