"""Every public tensor method and property, and every public function of `ember`, `ember.nn.functional` and
`ember.linalg`, has a docstring (one line is enough where PyTorch's documentation is the reference)."""
import inspect

import pytest

import ember
import ember.linalg
import ember.nn.functional as F


def _undocumented(namespace, names):
    return [n for n in names if not n.startswith("_") and not (getattr(getattr(namespace, n), "__doc__", None) or "").strip()]


@pytest.mark.no_device
def test_every_public_tensor_method_and_property_has_a_docstring():
    members = [n for n, v in vars(ember.Tensor).items() if callable(v) or isinstance(v, property)]
    assert _undocumented(ember.Tensor, members) == []


@pytest.mark.no_device
@pytest.mark.parametrize("module", [ember, F, ember.linalg], ids=["ember", "nn.functional", "linalg"])
def test_every_public_function_has_a_docstring(module):
    names = [n for n in dir(module) if callable(getattr(module, n)) and not inspect.isclass(getattr(module, n))]
    assert _undocumented(module, names) == []
