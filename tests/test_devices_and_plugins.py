"""Devices, the backend registry, and plugins loaded through the entry-point group `ember`.

Plugin distributions are made on the fly: a module plus a `*.dist-info` folder with an
`entry_points.txt` on sys.path, which is all importlib.metadata needs to find them.
"""
import os
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

    modules = []

    def make(dist: str, entry: str, source: str) -> None:
        module = f"{dist.replace('-', '_')}_{entry}_plugin_mod"
        modules.append(module)
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
    for module in modules:  # the next test's plugin of the same name is a new module
        sys.modules.pop(module, None)


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


@pytest.mark.no_device
def test_a_plugin_backend_is_usable_by_its_device_and_cross_device_ops_name_both(make_plugin):
    make_plugin("ember-fake", "fake", FAKE_BACKEND.format(cls="FakeBackend", name="fake", device_type="fake"))
    x = ember.ones(3, device="fake", requires_grad=True)
    assert x.device == ember.device("fake:0") and type(x._bk).__name__ == "FakeBackend"
    with pytest.raises(RuntimeError, match="same device.*cpu.*fake|same device.*fake.*cpu"):
        ember.ones(3, device="cpu") + x
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
def test_a_plugin_backend_claiming_a_built_in_device_type_is_refused_and_the_built_in_kept(make_plugin):
    make_plugin("ember-rival", "rival", FAKE_BACKEND.format(cls="Rival", name="rival", device_type="cpu"))
    with pytest.warns(EmberPluginWarning, match=r"device type 'cpu'.*ember [\d.]+.*Rival.*ember-rival 1.0.*refused"):
        backends = get_plugin_manager().backends
    assert backends.by_device_type["cpu"].name == "numpy" and "rival" not in backends.by_name
    assert ember.zeros(2, device="cpu").sum().item() == 0


@pytest.mark.no_device
def test_two_plugin_backends_claiming_one_name_are_both_refused_naming_both(make_plugin):
    make_plugin("ember-one", "one", FAKE_BACKEND.format(cls="One", name="twin", device_type="dev1"))
    make_plugin("ember-two", "two", FAKE_BACKEND.format(cls="Two", name="twin", device_type="dev2"))
    with pytest.warns(EmberPluginWarning, match=r"name 'twin'.*ember-(one|two) 1.0.*ember-(one|two) 1.0.*both"):
        backends = get_plugin_manager().backends
    assert "twin" not in backends.by_name and not {"dev1", "dev2"} & set(backends.by_device_type)
    assert ember.ones(3, device="cpu").sum().item() == 3
    out = subprocess.run([sys.executable, "-m", "ember", "info"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0 and "numpy" in out.stdout and "FAILED" in out.stdout and "twin" in out.stdout


EXTRAS = """
    import ember
    from ember.plugins import hookimpl

    class Doubler(ember.nn.Module):
        def forward(self, x):
            return 2 * x

    class Ranger(ember.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

    @hookimpl
    def ember_register_layers(registry):
        registry.add(Doubler)

    @hookimpl
    def ember_register_optimizers(registry):
        registry.add(Ranger, name="Ranger")
"""


@pytest.mark.no_device
def test_plugin_layers_losses_and_optimizers_are_found_by_name(make_plugin):
    make_plugin("ember-extras", "extras", EXTRAS)
    assert ember.plugins.get_layer("Doubler").__name__ == "Doubler"
    assert ember.plugins.get_optimizer("Ranger").__name__ == "Ranger"
    assert ember.nn.Doubler is ember.plugins.get_layer("Doubler")  # reachable like a built-in layer
    assert ember.optim.Ranger is ember.plugins.get_optimizer("Ranger")
    with pytest.raises(AttributeError, match="NoSuchLayer"):
        ember.nn.NoSuchLayer
    with pytest.raises(KeyError, match="available: Doubler"):
        ember.plugins.get_layer("Missing")
    assert get_plugin_manager().registered["extras"] == ["layer Doubler", "optimizer Ranger"]


BAD_REGISTRATIONS = """
    import ember
    from ember.plugins import hookimpl

    class Linear(ember.nn.Module):
        pass

    class Adam(ember.optim.Optimizer):
        pass

    class Good(ember.nn.Module):
        pass

    @hookimpl
    def ember_register_layers(registry):
        registry.add(Linear)
        registry.add(int, name="NotAModule")
        registry.add(Good)

    @hookimpl
    def ember_register_optimizers(registry):
        registry.add(Adam)
"""


@pytest.mark.no_device
def test_shadowing_a_built_in_or_registering_a_wrong_kind_is_refused_and_the_rest_kept(make_plugin):
    make_plugin("ember-bad", "bad", BAD_REGISTRATIONS)
    with pytest.warns(EmberPluginWarning) as record:
        layers = get_plugin_manager().registry("layers")
        optimizers = get_plugin_manager().registry("optimizers")
    messages = " | ".join(str(w.message) for w in record)
    assert "'Linear' would shadow ember's built-in" in messages and "ember-bad 1.0" in messages
    assert "'NotAModule' must be a subclass of" in messages and "'Adam' would shadow" in messages
    assert list(layers.entries) == ["Good"] and not optimizers.entries
    assert ember.nn.Linear.__module__.startswith("ember.") and ember.optim.Adam.__module__.startswith("ember.")


@pytest.mark.no_device
def test_strict_mode_makes_a_refused_registration_an_error_yet_hasattr_never_raises(make_plugin, monkeypatch):
    make_plugin("ember-bad", "bad", BAD_REGISTRATIONS)
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="'Linear' would shadow"):
        get_plugin_manager().registry("layers")
    assert hasattr(ember.nn, "Linear") and not hasattr(ember.nn, "Good") and not hasattr(ember.optim, "Missing")


@pytest.mark.no_device
def test_two_plugins_registering_one_layer_name_are_both_refused(make_plugin):
    layer = """
        import ember
        from ember.plugins import hookimpl

        class Twin(ember.nn.Module):
            pass

        @hookimpl
        def ember_register_layers(registry):
            registry.add(Twin)
    """
    make_plugin("ember-left", "left", layer)
    make_plugin("ember-right", "right", layer)
    with pytest.warns(EmberPluginWarning, match="two plugins register the layer 'Twin'.*ember-.*ember-.*both"):
        assert "Twin" not in get_plugin_manager().registry("layers").entries
    assert not hasattr(ember.nn, "Twin")


@pytest.mark.no_device
def test_two_distributions_declaring_one_entry_point_name_are_both_loaded_and_reported(make_plugin):
    make_plugin("ember-first", "same", EXTRAS)
    make_plugin("ember-second", "same", "from ember.plugins import hookimpl\n")
    with pytest.warns(EmberPluginWarning, match="'same' is declared by 2 distributions: ember-(first|second) 1.0, "
                                                "ember-(first|second) 1.0"):
        pm = get_plugin_manager()
    names = [name for name, _ in pm.plugins()]
    assert "same" in names and any(n.startswith("same (ember-") for n in names)


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
def test_python_m_ember_info_lists_version_backends_and_plugins():
    out = subprocess.run([sys.executable, "-m", "ember", "info"], capture_output=True, text=True, check=True).stdout
    assert f"ember {ember.__version__}" in out
    assert "numpy" in out and "device type 'cpu'" in out and "available, 1 device(s), numpy" in out
    assert "ember.backends.numpy_backend" in out and "backend numpy" in out and "backend reference" in out


@pytest.mark.no_device
def test_info_reports_a_backend_whose_is_available_raises_and_a_hook_that_fails_later(make_plugin):
    make_plugin("ember-flaky", "flaky", """
        from ember.backends.numpy_backend import NumpyBackend
        from ember.plugins import hookimpl

        class Flaky(NumpyBackend):
            name = "flaky"
            device_type = "flaky"

            @classmethod
            def is_available(cls):
                raise OSError("driver exploded")

        @hookimpl
        def ember_register_backends(registry):
            registry.add_backend(Flaky)

        @hookimpl
        def ember_register_losses(registry):
            raise RuntimeError("late failure")
    """)
    from ember.__main__ import info

    report = info()
    assert "flaky" in report and "OSError: driver exploded" in report
    assert "FAILED" in report and "RuntimeError: late failure" in report


@pytest.mark.no_device
def test_the_ember_command_has_a_version_and_names_itself_in_its_usage(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ember", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"ember {ember.__version__}"
    script = tmp_path / "ember"
    script.write_text("import sys\nfrom ember.__main__ import main\nsys.exit(main())\n")
    usage = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: ember ")


@pytest.mark.no_device
def test_no_plugin_call_happens_per_tensor_op(monkeypatch):
    ember.zeros(1) + 1  # warm: backends resolved
    monkeypatch.setattr(ember.plugins.manager, "get_plugin_manager",
                        lambda: (_ for _ in ()).throw(AssertionError("plugin manager used on the hot path")))
    x = ember.ones(3, requires_grad=True)
    ((x * 2).exp().sum()).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None


def _readme_backend() -> str:
    """The minimal backend of the README's "Writing a backend" section, verbatim."""
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    section = readme[readme.index("## Writing a backend"):]
    return section[section.index("```python") + len("```python"):section.index("```", section.index("```python") + 9)]


@pytest.mark.no_device
def test_the_readme_backend_passes_the_kit_with_float16_skipped_by_capability(make_plugin, tmp_path):
    make_plugin("ember-mine", "mine", _readme_backend())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path)] + sys.path)}
    run = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "ember.testing.suite.test_tensor",
                          "ember.testing.suite.test_backend_interface", "ember.testing.suite.test_op_gradients",
                          "--backend", "mine", "-q", "-rs", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "does not support ember.float16" in run.stdout and " skipped" in run.stdout
    assert "failed" not in run.stdout.splitlines()[-1] and " passed" in run.stdout.splitlines()[-1]


@pytest.mark.no_device
def test_the_kit_fails_for_an_unknown_backend_and_when_no_test_runs(tmp_path):
    unknown = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "ember.testing", "--backend", "nosuch", "-q",
                              "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert unknown.returncode == 4 and "no such ember backend" in unknown.stderr
    nothing = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "ember.testing", "-q", "-p", "no:cacheprovider",
                              "-k", "no_test_has_this_name"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert nothing.returncode != 0


TWO_DEVICES = """
from ember.backends.numpy_backend import NumpyBackend
from ember.plugins import hookimpl

class Twin(NumpyBackend):
    name = "twin"
    device_type = "twin"
    known_failures = {known!r}

    @classmethod
    def device_count(cls):
        return 2

@hookimpl
def ember_register_backends(registry):
    registry.add_backend(Twin)
"""


@pytest.mark.no_device
def test_each_device_index_has_its_own_backend_and_generator_and_indices_do_not_mix(make_plugin):
    make_plugin("ember-twin", "twin", TWO_DEVICES.format(known=()))
    a, b = ember.randn(3, device="twin:0"), ember.randn(3, device="twin:1")
    assert (a._bk.index, b._bk.index) == (0, 1) and a._bk is not b._bk
    assert a.device == ember.device("twin:0") and b.device == ember.device("twin:1")
    ember.manual_seed(5)
    first = ember.rand(4, device="twin:1").tolist()
    ember.rand(4, device="twin:0")  # another device's stream does not advance this one
    ember.manual_seed(5)
    assert ember.rand(4, device="twin:1").tolist() == first
    with pytest.raises(RuntimeError, match="same device.*twin:0 and twin:1"):
        a + b
    with pytest.raises(RuntimeError, match="twin:1 device generator|device generator"):
        ember.rand(2, device="twin:0", generator=ember.Generator("twin:1"))
    with pytest.raises(RuntimeError, match="twin:2 does not exist.*2 twin device"):
        ember.zeros(1, device="twin:2")
    moved = a.to("twin:1")
    assert moved.device == ember.device("twin:1") and moved.tolist() == a.tolist()


@pytest.mark.no_device
def test_known_failures_run_as_strict_xfails(make_plugin, tmp_path):
    known = ("test_backend_interface.py::test_results_are_native_arrays_even_when_0_d",)
    make_plugin("ember-twin", "twin", TWO_DEVICES.format(known=known))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path)] + sys.path)}
    run = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "ember.testing.suite.test_backend_interface",
                          "--backend", "twin", "-q", "-rX", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    # the listed test passes on this backend, so its strict xfail fails the run: a fix is noticed
    assert run.returncode == 1 and "XPASS(strict)" in run.stdout, run.stdout[-2000:]


@pytest.mark.no_device
def test_the_kit_refuses_a_backend_whose_array_library_is_missing(make_plugin, tmp_path):
    make_plugin("ember-ghost", "ghost", """
        from ember.backends import ArrayBackend
        from ember.plugins import hookimpl

        class Ghost(ArrayBackend):
            name = "ghost"
            device_type = "ghost"
            array_module = "an_array_library_that_is_not_installed"

            def erf(self, a, out=None):
                return a

        @hookimpl
        def ember_register_backends(registry):
            registry.add_backend(Ghost)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path)] + sys.path)}
    run = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "ember.testing.suite.test_backend_interface",
                          "--backend", "ghost", "-q", "-p", "no:cacheprovider"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 4 and "cannot be imported" in run.stderr, run.stdout[-2000:] + run.stderr[-2000:]
