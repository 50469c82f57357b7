"""The reference backend: the required tier over numpy and nothing else, so every default runs.

Device type "reference". It overrides no derived primitive and no fused kernel, so running the
suite on it (`tox -e reference`) tests every default body of the interface, and it never shares
memory with host numpy arrays (`ArrayBackend` copies on transfer), so the suite also covers backends
that copy. It is
slow by design: use it to check ember and the interface, not to train models.
"""
from __future__ import annotations

import numpy as np

from ember.plugins.hookspecs import hookimpl

from .array_backend import ArrayBackend
from .numpy_erf import erf_cody


class ReferenceBackend(ArrayBackend):
    """Every derived primitive and fused kernel at its default body, over numpy arrays."""

    name = "reference"
    device_type = "reference"
    array_module = "numpy"
    shares_host_memory = False

    def erf(self, a, out=None):
        r = erf_cody(a)
        if out is not None:
            np.copyto(out, r)
            return out
        return r


@hookimpl
def ember_register_backends(registry) -> None:
    registry.add_backend(ReferenceBackend)
