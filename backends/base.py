"""`Backend`: the ops interface every ember backend implements.

The interface has three tiers, each in its own file:

- `required.py`: the **required** primitives (abstract). A backend that implements only these
  passes ember's whole suite;
- `derived.py`: **derived** primitives with default bodies over the required ones (`sub` from
  `add` and `neg`, comparisons from `less` and `equal`, `min` from `max`, `flip`/`roll`/`pad`
  from indexing, integer and normal random numbers from `uniform`, ...);
- `fused.py`: **fused kernels** with default bodies (linear, softmax, convolution, pooling,
  optimizer updates, ...).

A backend overrides derived primitives and fused kernels only for speed; the consistency test
in `ember.testing` holds every override against its default. This file adds what describes a
backend: its name, device type, capabilities and the device index an instance serves.
"""
from __future__ import annotations

import inspect

from ember import dtypes

from .derived import DerivedPrimitives
from .fused import FusedKernels
from .required import Array, RequiredPrimitives

__all__ = ["Array", "Backend", "DtypeNotSupportedError", "ViewsNotSupportedError", "tier_of", "tiers"]


class DtypeNotSupportedError(TypeError):
    """A dtype the backend of a device does not support (e.g. float64 on a float32-only device)."""


class ViewsNotSupportedError(RuntimeError):
    """An in-place op on a view, on a backend whose indexing and reshapes return copies, not views."""


class Backend(FusedKernels):
    """One array library serving one device type; one instance per device index.

    Subclasses set `name` and `device_type`, implement the required tier, and may declare
    capabilities: `supported_dtypes` (the ember dtypes the backend supports), `shares_host_memory` (whether
    `to_numpy`/`asarray` share memory with host numpy arrays), `views_share_memory` (whether its
    indexing and reshapes return views) and `known_failures` (conformance-kit
    tests expected to fail, run as strict xfails so that a fix is noticed).
    """

    #: unique backend name, e.g. "numpy"
    name: str = ""
    #: the device type it serves, e.g. "cpu"; unique among installed backends
    device_type: str = ""
    #: the ember dtypes arrays of this backend can hold
    supported_dtypes: frozenset = frozenset(dtypes.ALL)
    #: True when host numpy arrays and this backend's arrays can share memory (no copy)
    shares_host_memory: bool = False
    #: True when basic indexing, reshape, transpose and broadcast_to return arrays sharing memory with their
    #: input (numpy's views), so an in-place op on a view reaches its base; otherwise such an op raises
    views_share_memory: bool = True
    #: conformance-kit test ids (e.g. "test_tensor.py::test_x[case]") expected to fail on this backend
    known_failures: tuple[str, ...] = ()

    def __init__(self, index: int | None = None) -> None:
        """Serve device `index` of `device_type` (None for a device type without indices, as "cpu")."""
        self.index = index

    def check_dtype(self, dtype) -> None:
        """Raise `DtypeNotSupportedError` naming the device and dtype when this backend lacks `dtype`."""
        if dtype not in self.supported_dtypes:
            device = self.device_type if self.index is None else f"{self.device_type}:{self.index}"
            supported = ", ".join(sorted(str(d) for d in self.supported_dtypes))
            raise DtypeNotSupportedError(f"the {self.name} backend (device {device}) does not support {dtype}; "
                                         f"it supports: {supported}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.name}' device_type='{self.device_type}' index={self.index}>"


def tiers() -> dict[str, tuple[str, ...]]:
    """The public method names of each tier: {"required": ..., "derived": ..., "fused": ...}."""
    def public(cls) -> tuple[str, ...]:
        return tuple(sorted(n for n, v in vars(cls).items()
                            if not n.startswith("_") and (inspect.isfunction(v) or isinstance(v, classmethod))))
    return {"required": public(RequiredPrimitives), "derived": public(DerivedPrimitives),
            "fused": public(FusedKernels)}


def tier_of(name: str) -> str:
    """The tier ("required", "derived" or "fused") that defines the interface method `name`."""
    for tier, names in tiers().items():
        if name in names:
            return tier
    raise KeyError(f"{name!r} is not a method of the ember backend interface")
