"""An example out-of-tree ember plugin: `SwiGLU`, `FocalLoss` (with `sigmoid_focal_loss`) and `Lion`.

Installed, the package registers them through the entry-point group ``ember`` (see `plugin`), so
they are reachable as `ember.nn.SwiGLU`, `ember.nn.FocalLoss` and `ember.optim.Lion`.
"""
from .focal_loss import FocalLoss, sigmoid_focal_loss
from .lion import Lion
from .swiglu import SwiGLU

__all__ = ["SwiGLU", "FocalLoss", "sigmoid_focal_loss", "Lion"]
