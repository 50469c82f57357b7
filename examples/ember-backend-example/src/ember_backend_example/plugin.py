"""The module the entry point ``backend-example`` names: ember calls its hook once, on the first backend lookup.

Importing it imports neither array-api-strict nor anything that does: the backend class imports
the library when ember first instantiates it.
"""
from __future__ import annotations

from ember.plugins import hookimpl
from ember.plugins.registry import BackendRegistrar

from .backend import ArrayApiStrictBackend


@hookimpl
def ember_register_backends(registry: BackendRegistrar) -> None:
    """Register `ArrayApiStrictBackend` (backend "array_api_strict", device type "strict")."""
    registry.add_backend(ArrayApiStrictBackend)
