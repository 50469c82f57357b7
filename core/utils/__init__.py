"""Utilities that mirror ``torch.utils``: ``ember.utils.data`` holds datasets, samplers and the DataLoader;
``ember.utils.dlpack`` exchanges tensors with other array libraries without copying."""
from . import data, dlpack

__all__ = ["data", "dlpack"]
