"""The module the entry point ``plugin-example`` names: ember calls these hooks once, on first lookup."""
from __future__ import annotations

from ember.plugins import hookimpl
from ember.plugins.registry import Registrar

from .focal_loss import FocalLoss
from .lion import Lion
from .swiglu import SwiGLU


@hookimpl
def ember_register_layers(registry: Registrar) -> None:
    """Register `SwiGLU` (then `ember.nn.SwiGLU`)."""
    registry.add(SwiGLU)


@hookimpl
def ember_register_losses(registry: Registrar) -> None:
    """Register `FocalLoss` (then `ember.nn.FocalLoss`)."""
    registry.add(FocalLoss)


@hookimpl
def ember_register_optimizers(registry: Registrar) -> None:
    """Register `Lion` (then `ember.optim.Lion`)."""
    registry.add(Lion)
