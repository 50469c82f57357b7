"""pytest plugin: `--backend NAME` (or EMBER_BACKEND) picks the backend every test runs on.

The `device` fixture is that backend's device, and it is also made the default device, so a
tensor made without `device=` lands there too. A backend that is installed but whose device is
absent (cupy without a GPU) skips every test that needs a device, with the reason; set
EMBER_REQUIRE_DEVICE=1 to make that a failure (GPU CI). A backend that is unknown or broken
is an error, never a skip. Mark device-free tests with `@pytest.mark.no_device`.
"""
from __future__ import annotations

import os

import pytest


def pytest_addoption(parser) -> None:
    parser.addoption("--backend", default=os.environ.get("EMBER_BACKEND", "numpy"),
                     help="ember backend to run the tests on (default: $EMBER_BACKEND or numpy)")


def _backend_class(name: str):
    from ember.plugins import get_plugin_manager

    registry = get_plugin_manager().backends
    cls = registry.by_name.get(name)
    if cls is None:
        raise pytest.UsageError(f"--backend {name}: no such ember backend (installed: "
                                f"{', '.join(sorted(registry.by_name))}); failed plugins: "
                                f"{get_plugin_manager().failures or 'none'}")
    return cls


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "no_device: the test needs no device of the selected backend")
    config.addinivalue_line("markers", "slow: a slow test")
    cls = _backend_class(config.getoption("--backend"))
    available, reason = cls.is_available()
    config._ember_backend = (cls, available, reason)
    if available:
        import ember

        ember.set_default_device(cls.device_type)


def pytest_report_header(config) -> str:
    cls, available, reason = config._ember_backend
    return f"ember backend: {cls.name} (device type '{cls.device_type}')" + ("" if available else f", UNAVAILABLE: {reason}")


def pytest_collection_modifyitems(config, items) -> None:
    cls, available, reason = config._ember_backend
    if available:
        return
    if os.environ.get("EMBER_REQUIRE_DEVICE") == "1":
        raise pytest.UsageError(f"EMBER_REQUIRE_DEVICE=1 but the {cls.name} backend is unavailable: {reason}")
    skip = pytest.mark.skip(reason=f"{cls.name} backend unavailable: {reason}")
    for item in items:
        if "no_device" not in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture
def device(request):
    """The ember device of the backend under test."""
    import ember

    cls = request.config._ember_backend[0]
    return ember.device(cls.device_type) if cls.device_type == "cpu" else ember.device(cls.device_type, 0)


@pytest.fixture
def backend_name(request) -> str:
    """The name of the backend under test."""
    return request.config._ember_backend[0].name
