"""The installed package registers its classes through the entry-point group `ember`."""
import importlib.metadata

import pytest

import ember
import ember.nn
import ember.optim
from ember.plugins import get_layer, get_loss, get_optimizer, get_plugin_manager, reset_plugin_manager
from ember_plugin_example import FocalLoss, Lion, SwiGLU

pytestmark = pytest.mark.no_device


def test_classes_are_reachable_as_ember_attributes_after_install():
    assert ember.nn.SwiGLU is SwiGLU
    assert ember.nn.FocalLoss is FocalLoss
    assert ember.optim.Lion is Lion


def test_classes_are_importable_from_ember_namespaces():
    from ember.nn import FocalLoss as nn_focal, SwiGLU as nn_swiglu
    from ember.optim import Lion as optim_lion

    assert (nn_swiglu, nn_focal, optim_lion) == (SwiGLU, FocalLoss, Lion)


def test_classes_are_reachable_from_the_plugin_registries():
    assert get_layer("SwiGLU") is SwiGLU
    assert get_loss("FocalLoss") is FocalLoss
    assert get_optimizer("Lion") is Lion


def test_plugin_is_loaded_under_its_entry_point_and_distribution():
    version = importlib.metadata.version("ember-plugin-example")
    pm = get_plugin_manager()
    assert ("plugin-example", f"ember-plugin-example {version}") in pm.plugins()
    assert "plugin-example" not in pm.failures


def test_registered_names_do_not_shadow_built_ins():
    assert not {"SwiGLU", "FocalLoss"} & set(ember.nn.__all__)
    assert "Lion" not in ember.optim.__all__


def test_disabling_the_plugin_removes_its_names(monkeypatch):
    monkeypatch.setenv("EMBER_DISABLE_PLUGINS", "plugin-example")
    reset_plugin_manager()
    try:
        with pytest.raises(AttributeError, match="SwiGLU"):
            ember.nn.SwiGLU
        with pytest.raises(KeyError, match="Lion"):
            get_optimizer("Lion")
    finally:
        monkeypatch.delenv("EMBER_DISABLE_PLUGINS")
        reset_plugin_manager()
    assert ember.nn.SwiGLU is SwiGLU
