"""Devices, the backend registry, and plugins loaded through the entry-point group `ember`.

Plugin distributions are made on the fly: a module plus a `*.dist-info` folder with an
`entry_points.txt` on sys.path, which is all importlib.metadata needs to find them.
"""
import subprocess
import sys
import textwrap
import warnings

import pytest

import ember
from ember import backend_lookup
from ember.backends import Backend
from ember.plugins import EmberPluginWarning, PluginConflictError, PluginError, get_plugin_manager, reset_plugin_manager

FAKE_BACKEND = """
from ember.backends.numpy_backend import NumpyBackend
from ember.plugins import hookimpl

class {cls}(NumpyBackend):
    name = "{name}"
    device_type = "{device_type}"

@hookimpl
def ember_register_backends(registry):
    registry.add_backend({cls})
"""


@pytest.fixture
def make_plugin(tmp_path, monkeypatch):
    """make_plugin(dist, entry_name, module_source) installs a plugin distribution for this test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    for var in ("EMBER_DISABLE_PLUGINS", "EMBER_STRICT_PLUGINS", "EMBER_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(var, raising=False)

    def make(dist: str, entry: str, source: str) -> None:
        module = f"{entry}_plugin_mod"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        info = tmp_path / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[ember]\n{entry} = {module}\n")

    reset_plugin_manager()
    backend_lookup._instances.clear()
    yield make
    reset_plugin_manager()
    backend_lookup._instances.clear()


@pytest.mark.no_device
def test_devices_parse_intern_and_compare():
    assert ember.device("cpu") is ember.device("cpu") and str(ember.device("cuda:1")) == "cuda:1"
    assert ember.device("cuda", 1) is ember.device("cuda:1") and ember.device("cuda:1").index == 1
    assert ember.device("cpu") == "cpu" and repr(ember.device("cuda:2")) == "device(type='cuda', index=2)"
    for bad in ("", "cuda:x", "cu da", "cpu:1"):
        with pytest.raises(ValueError):
            ember.device(bad)
    with pytest.raises(TypeError):
        ember.device(1.5)


@pytest.mark.no_device
def test_an_unknown_device_type_says_no_backend_serves_it():
    with pytest.raises(RuntimeError, match="no ember backend serves device type 'xpu'"):
        ember.zeros(1, device="xpu")


@pytest.mark.no_device
def test_every_registered_backend_implements_every_abstract_method():
    registry = get_plugin_manager().backends
    assert "numpy" in registry.by_name
    for cls in registry.by_name.values():
        assert not cls.__abstractmethods__, cls
        assert issubclass(cls, Backend) and cls.device_type


def test_backend_results_are_arrays_and_scatter_add_is_functional_with_duplicates(device):
    bk = device.backend
    a = bk.asarray([1.0, 2.0, 3.0], ember.float32)
    assert bk.is_native(bk.sum(a)) and bk.sum(a).shape == ()
    assert bk.is_native(bk.exp(bk.sum(a))) and bk.is_native(bk.max(a))
    base = bk.full((3,), 0, ember.float32)
    out = bk.scatter_add(base, 0, bk.asarray([0, 0, 2], ember.int64), bk.asarray([1.0, 1.0, 1.0], ember.float32))
    assert bk.to_numpy(out).tolist() == [2.0, 0.0, 1.0] and bk.to_numpy(base).tolist() == [0.0, 0.0, 0.0]
    added = bk.index_add(base, (bk.asarray([1, 1], ember.int64),), bk.asarray([2.0, 3.0], ember.float32))
    assert bk.to_numpy(added).tolist() == [0.0, 5.0, 0.0]


@pytest.mark.no_device
def test_a_plugin_backend_is_usable_by_its_device_and_cross_device_ops_name_both(make_plugin):
    make_plugin("ember-fake", "fake", FAKE_BACKEND.format(cls="FakeBackend", name="fake", device_type="fake"))
    x = ember.ones(3, device="fake", requires_grad=True)
    assert x.device == ember.device("fake:0") and type(x._bk).__name__ == "FakeBackend"
    with pytest.raises(RuntimeError, match="same device.*cpu.*fake|same device.*fake.*cpu"):
        ember.ones(3) + x
    y = (x.to("cpu") * 2).sum()
    y.backward()
    assert x.grad.device == ember.device("fake:0") and x.grad.tolist() == [2.0, 2.0, 2.0]
    assert ember.plugins.get_plugin_manager().backends.origins["fake"].distribution == "ember-fake 1.0"


@pytest.mark.no_device
def test_a_broken_plugin_is_reported_by_name_and_the_rest_keeps_working(make_plugin):
    make_plugin("ember-broken", "broken", "import a_module_that_does_not_exist\n")
    make_plugin("ember-fake", "fake", FAKE_BACKEND.format(cls="FakeBackend", name="fake", device_type="fake"))
    with pytest.warns(EmberPluginWarning, match=r"'broken' \(distribution ember-broken 1.0\).*ModuleNotFoundError"):
        pm = get_plugin_manager()
    assert "broken" in pm.failures and ember.zeros(1, device="fake").device == ember.device("fake:0")
    assert ember.zeros(2).sum().item() == 0


@pytest.mark.no_device
def test_a_plugin_whose_hook_raises_is_skipped_with_a_warning(make_plugin):
    make_plugin("ember-badhook", "badhook", """
        from ember.plugins import hookimpl

        @hookimpl
        def ember_register_backends(registry):
            raise ValueError("boom")
    """)
    pm = get_plugin_manager()
    with pytest.warns(EmberPluginWarning, match="badhook.*ember-badhook 1.0.*ValueError: boom"):
        backends = pm.backends
    assert "numpy" in backends.by_name


@pytest.mark.no_device
def test_two_backends_claiming_one_device_type_is_an_error_naming_both(make_plugin):
    make_plugin("ember-rival", "rival", FAKE_BACKEND.format(cls="Rival", name="rival", device_type="cpu"))
    with pytest.raises(PluginConflictError, match=r"device type 'cpu'.*ember [\d.]+.*Rival.*ember-rival 1.0"):
        get_plugin_manager().backends


@pytest.mark.no_device
def test_strict_mode_and_disabling_plugins(make_plugin, monkeypatch):
    make_plugin("ember-broken", "broken", "raise ImportError('nope')\n")
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="broken"):
        get_plugin_manager()
    reset_plugin_manager()
    monkeypatch.setenv("EMBER_DISABLE_PLUGINS", "broken")
    assert "broken" not in get_plugin_manager().failures


@pytest.mark.no_device
def test_plugin_layers_losses_and_optimizers_are_found_by_name(make_plugin):
    make_plugin("ember-extras", "extras", """
        from ember.plugins import hookimpl

        class Doubler:
            pass

        class Ranger:
            pass

        @hookimpl
        def ember_register_layers(registry):
            registry.add(Doubler)

        @hookimpl
        def ember_register_optimizers(registry):
            registry.add(Ranger, name="Ranger")
    """)
    assert ember.plugins.get_layer("Doubler").__name__ == "Doubler"
    assert ember.plugins.get_optimizer("Ranger").__name__ == "Ranger"
    assert ember.nn.Doubler is ember.plugins.get_layer("Doubler")  # reachable like a built-in layer
    assert ember.optim.Ranger is ember.plugins.get_optimizer("Ranger")
    with pytest.raises(AttributeError, match="NoSuchLayer"):
        ember.nn.NoSuchLayer
    with pytest.raises(KeyError, match="available: Doubler"):
        ember.plugins.get_layer("Missing")


@pytest.mark.no_device
def test_python_m_ember_info_lists_version_backends_and_plugins():
    out = subprocess.run([sys.executable, "-m", "ember", "info"], capture_output=True, text=True, check=True).stdout
    assert f"ember {ember.__version__}" in out
    assert "numpy" in out and "device type 'cpu'" in out and "available, 1 device(s), numpy" in out
    assert "ember.backends.numpy_backend" in out


@pytest.mark.no_device
def test_no_plugin_call_happens_per_tensor_op(monkeypatch):
    ember.zeros(1) + 1  # warm: backends resolved
    monkeypatch.setattr(ember.plugins.manager, "get_plugin_manager",
                        lambda: (_ for _ in ()).throw(AssertionError("plugin manager used on the hot path")))
    monkeypatch.setattr(backend_lookup, "get_plugin_manager",
                        lambda: (_ for _ in ()).throw(AssertionError("plugin manager used on the hot path")))
    x = ember.ones(3, requires_grad=True)
    ((x * 2).exp().sum()).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None
