"""pytest plugin (entry point `pytest11`): `--backend NAME` (or EMBER_BACKEND) picks the backend every test runs on.

The `device` fixture is that backend's device (index 0 for device types with indices). With
`--default-device backend` (the default) it is also made ember's default device, so tensors made
without `device=` land there too; `--default-device cpu` leaves the CPU as the default, which
shows a test that forgot `device=` by the cross-device error it then hits.

- A backend that is unknown, fails to load, or whose array library is missing or fails to import
  is a usage error (exit code 4), never a skip.
- A backend that is installed but whose device is absent (cupy without a GPU) skips every test
  that needs a device, with the reason; EMBER_REQUIRE_DEVICE=1 makes that an error (GPU CI).
  Mark device-free tests with `@pytest.mark.no_device`.
- A test that asks for a dtype the backend does not support (`DtypeNotSupportedError`), or for an
  in-place op on a view where the backend's views are copies (`ViewsNotSupportedError`), is skipped
  with that reason: tests skip by capability, never by backend name.
- The backend's `known_failures` run as strict xfails, so a fix is noticed.
- A run that collects no test fails (pytest's exit code 5), so a misspelt path cannot pass.
"""
from __future__ import annotations

import importlib
import os
import sys

import pytest


def pytest_addoption(parser) -> None:
    group = parser.getgroup("ember")
    group.addoption("--backend", default=os.environ.get("EMBER_BACKEND", "numpy"),
                    help="ember backend to run the tests on (default: $EMBER_BACKEND or numpy)")
    group.addoption("--default-device", choices=("backend", "cpu"), default="backend",
                    help="make the backend's device ember's default device (default), or leave the cpu")


def _backend_class(name: str):
    from ember.plugins import get_plugin_manager

    pm = get_plugin_manager()
    registry = pm.backends
    cls = registry.by_name.get(name)
    if cls is None:
        failures = "; ".join(f"{plugin}: {error}" for plugin, error in pm.failures.items()) or "none"
        raise pytest.UsageError(f"--backend {name}: no such ember backend (installed: "
                                f"{', '.join(sorted(registry.by_name))}); failed plugins: {failures}")
    return cls


def _device_of(cls):
    import ember

    return ember.device(cls.device_type) if cls.device_type == "cpu" else ember.device(cls.device_type, 0)


def _alias_source_folder() -> None:
    """An editable install maps `ember` onto the source folder `core/`; pytest names the kit's modules after
    their folders (`core.testing.suite.test_tensor`) and would import `core/__init__.py` a second time, as
    another package. Make the folder's name the ember package itself."""
    import ember

    folder = os.path.basename(os.path.dirname(ember.__file__))
    if folder != "ember" and folder.isidentifier():
        sys.modules.setdefault(folder, ember)


def pytest_configure(config) -> None:
    _alias_source_folder()
    config.addinivalue_line("markers", "no_device: the test needs no device of the selected backend")
    config.addinivalue_line("markers", "slow: a slow test")
    cls = _backend_class(config.getoption("--backend"))
    try:
        available, reason = cls.is_available()
    except Exception as exc:  # a broken is_available is the backend's bug: report it, do not skip
        raise pytest.UsageError(f"--backend {cls.name}: is_available() raised {type(exc).__name__}: {exc}") from exc
    if not available:
        _fail_if_library_broken(cls, reason)
    config._ember_backend = (cls, available, reason)
    if available and config.getoption("--default-device") == "backend":
        import ember

        ember.set_default_device(_device_of(cls))


def _fail_if_library_broken(cls, reason: str) -> None:
    """A backend whose array library is missing or fails to import is broken, not absent: a usage error.

    Only a genuinely absent device (the library imports, no device is found) skips the kit."""
    module = getattr(cls, "array_module", "")
    if not module:
        return
    try:
        importlib.import_module(module)
    except Exception as exc:
        raise pytest.UsageError(f"--backend {cls.name}: its array library '{module}' cannot be imported "
                                f"({type(exc).__name__}: {exc}); {reason}") from exc


def pytest_report_header(config) -> str:
    cls, available, reason = config._ember_backend
    return f"ember backend: {cls.name} (device type '{cls.device_type}')" + ("" if available else f", UNAVAILABLE: {reason}")


def _matches_known_failure(item, pattern: str) -> bool:
    """`pattern` ("test_file.py::test_name[id]", or without the [id] for every case) names this test."""
    return pattern in (f"{item.path.name}::{item.name}", f"{item.path.name}::{item.originalname}")


def pytest_collection_modifyitems(config, items) -> None:
    cls, available, reason = config._ember_backend
    if not available:
        if os.environ.get("EMBER_REQUIRE_DEVICE") == "1":
            raise pytest.UsageError(f"EMBER_REQUIRE_DEVICE=1 but the {cls.name} backend is unavailable: {reason}")
        skip = pytest.mark.skip(reason=f"{cls.name} backend unavailable: {reason}")
        for item in items:
            if "no_device" not in item.keywords:
                item.add_marker(skip)
        return
    for item in items:
        for pattern in cls.known_failures:
            if _matches_known_failure(item, pattern):
                item.add_marker(pytest.mark.xfail(reason=f"known failure of the {cls.name} backend", strict=True))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or report.outcome != "failed" or hasattr(report, "wasxfail"):
        return
    from ember.backends.base import DtypeNotSupportedError, ViewsNotSupportedError

    if call.excinfo.errisinstance((DtypeNotSupportedError, ViewsNotSupportedError)):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {call.excinfo.value}")


@pytest.fixture
def device(request):
    """The ember device of the backend under test."""
    return _device_of(request.config._ember_backend[0])


@pytest.fixture
def backend_name(request) -> str:
    """The name of the backend under test."""
    return request.config._ember_backend[0].name
