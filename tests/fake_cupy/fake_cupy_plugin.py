"""pytest plugin (`-p fake_cupy_plugin`) for running the kit on the cupy backend over fake_cupy: numpy arrays
have no cupy memory objects for `owns_memory` to inspect, so it gets the interface's default (False, always
safe: gradients are copied instead of taken over)."""
from ember.backends.cupy_backend import CupyBackend
from ember.backends.derived import DerivedPrimitives


def pytest_configure(config) -> None:
    CupyBackend.owns_memory = DerivedPrimitives.owns_memory
