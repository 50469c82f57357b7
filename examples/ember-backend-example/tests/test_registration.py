"""The installed package registers the backend through the entry-point group `ember`, lazily."""
import importlib.metadata
import subprocess
import sys

import pytest

import ember
from ember.backends import Backend
from ember.backends.base import tiers
from ember.plugins import get_plugin_manager
from ember_backend_example import ArrayApiStrictBackend

pytestmark = pytest.mark.no_device


def test_importing_the_plugin_module_does_not_import_the_array_library():
    code = ("import sys, ember_backend_example.plugin; "
            "sys.exit('array_api_strict' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_backend_is_registered_under_its_entry_point_name_and_device_type():
    version = importlib.metadata.version("ember-backend-example")
    pm = get_plugin_manager()
    assert ("backend-example", f"ember-backend-example {version}") in pm.plugins()
    assert pm.backends.by_name["array_api_strict"] is ArrayApiStrictBackend
    assert pm.backends.by_device_type["strict"] is ArrayApiStrictBackend


def test_each_device_index_gets_its_own_backend_on_its_own_library_device():
    backends = [ember.device("strict", i).backend for i in range(ArrayApiStrictBackend.device_count())]
    assert [type(bk) for bk in backends] == [ArrayApiStrictBackend] * 3
    assert len({str(bk.native_device) for bk in backends}) == 3


def test_the_backend_implements_the_required_tier_and_nothing_else():
    assert ArrayApiStrictBackend.__bases__ == (Backend,)
    overridden = [name for name in tiers()["derived"] + tiers()["fused"]
                  if getattr(ArrayApiStrictBackend, name) is not getattr(Backend, name)]
    assert overridden == []
    assert not ArrayApiStrictBackend.__abstractmethods__
