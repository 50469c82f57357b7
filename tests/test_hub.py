"""ember.hub: torch.hub's API over local hubconf.py directories, and checkpoints from file:// URLs into a cache.

Never a network access: every URL here is a file:// URL or a patched urlopen."""
import hashlib
import inspect
import os
import pathlib
import pickle
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import pytest

import ember
from ember import hub, nn

HUBCONF = '''
dependencies = ["json"]

from helpers import Tiny  # a module of the repository itself: the directory is on sys.path

CHANNELS = 3  # not callable: not an entrypoint


def tiny(width=4, *, bias=True):
    """A tiny linear model of the given width."""
    return Tiny(width, bias)


def plain(*args, **kwargs):
    return args, kwargs


def _internal():
    """Starts with an underscore: not an entrypoint."""
'''

HELPERS = '''
from ember import nn


class Tiny(nn.Linear):
    def __init__(self, width, bias):
        super().__init__(width, 2, bias=bias)
'''


@pytest.fixture
def repo(tmp_path):
    directory = tmp_path / "repo"
    directory.mkdir()
    (directory / "hubconf.py").write_text(HUBCONF)
    (directory / "helpers.py").write_text(HELPERS)
    yield directory
    sys.modules.pop("helpers", None)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """A fresh hub directory through set_dir; the previous setting is restored afterwards."""
    monkeypatch.setattr(hub, "_hub_dir", None)
    hub.set_dir(tmp_path / "hub")
    return tmp_path / "hub"


# ---- the hub directory ---------------------------------------------------------------------------
@pytest.mark.no_device
def test_get_dir_is_ember_home_hub_and_ember_home_defaults_to_the_xdg_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EMBER_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert hub.get_dir() == str(tmp_path / "home" / ".cache" / "ember" / "hub")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    monkeypatch.setenv("EMBER_HOME", "~/ember-home")
    assert hub.get_dir() == str(tmp_path / "home" / "ember-home" / "hub")


@pytest.mark.no_device
def test_set_dir_overrides_ember_home_and_expands_the_user(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "elsewhere"))
    hub.set_dir(pathlib.Path("~") / "my-hub")
    assert hub.get_dir() == str(tmp_path / "my-hub")


@pytest.mark.no_device
def test_ember_hub_is_an_attribute_of_ember_imported_only_on_first_use():
    code = ("import sys, ember; assert 'ember.hub' not in sys.modules; d = ember.hub.get_dir(); "
            "assert 'ember.hub' in sys.modules and 'urllib.request' not in sys.modules; print(d)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            env={**os.environ, "EMBER_HOME": "/nowhere/ember"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == os.path.join("/nowhere/ember", "hub")


# ---- hubconf.py repositories ---------------------------------------------------------------------
@pytest.mark.no_device
def test_list_names_the_public_callables_of_hubconf(repo):
    assert hub.list(str(repo)) == ["Tiny", "plain", "tiny"]  # an imported class is callable too, as in PyTorch


@pytest.mark.no_device
def test_help_returns_the_entrypoint_docstring(repo):
    assert hub.help(str(repo), "tiny") == "A tiny linear model of the given width."
    assert hub.help(repo, "plain") is None


def test_load_calls_the_entrypoint_with_the_given_arguments(repo):
    path_before = list(sys.path)
    model = hub.load(str(repo), "tiny", 5, bias=False)
    assert isinstance(model, nn.Linear) and type(model).__name__ == "Tiny"
    assert tuple(model.weight.shape) == (2, 5) and model.bias is None
    assert hub.load(str(repo), "plain", 1, 2, source="LOCAL", key="value") == ((1, 2), {"key": "value"})
    assert sys.path == path_before


@pytest.mark.no_device
def test_missing_dependencies_are_all_named(repo):
    hubconf = repo / "hubconf.py"
    hubconf.write_text(hubconf.read_text().replace('["json"]', '["json", "no_such_pkg_a", "no_such_pkg_b"]'))
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_pkg_a, no_such_pkg_b"):
        hub.load(str(repo), "tiny")
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_pkg_a, no_such_pkg_b"):
        hub.help(str(repo), "tiny")


@pytest.mark.no_device
def test_private_helpers_are_not_listed_but_load_as_in_pytorch(repo):
    assert "_internal" not in hub.list(str(repo)) and hub.load(str(repo), "_internal") is None


@pytest.mark.no_device
@pytest.mark.parametrize("model", ["CHANNELS", "missing"])
def test_load_of_a_name_that_is_not_a_callable_raises(repo, model):
    with pytest.raises(RuntimeError, match=f"Cannot find callable {model} in hubconf"):
        hub.load(str(repo), model)


@pytest.mark.no_device
def test_model_must_be_a_string(repo):
    with pytest.raises(ValueError, match="model should be a string"):
        hub.load(str(repo), len)


@pytest.mark.no_device
def test_a_directory_without_hubconf_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no hubconf.py in"):
        hub.list(str(tmp_path))


@pytest.mark.no_device
@pytest.mark.parametrize("call", [
    lambda: hub.load("pytorch/vision", "resnet18", source="github"),
    lambda: hub.list("pytorch/vision", source="github"),
    lambda: hub.help("pytorch/vision", "resnet18", source="github"),
], ids=["load", "list", "help"])
def test_github_source_is_refused_with_the_way_to_use_a_local_clone(call):
    with pytest.raises(ValueError, match='source="github" is not supported.*git clone.*source="local"'):
        call()


@pytest.mark.no_device
def test_an_unknown_source_is_a_value_error(repo):
    with pytest.raises(ValueError, match='Unknown source: "gitlab". Allowed values: "github" | "local".'):
        hub.load(str(repo), "tiny", source="gitlab")


@pytest.mark.no_device
@pytest.mark.parametrize("name", ["list", "help", "load", "download_url_to_file", "load_state_dict_from_url",
                                  "get_dir", "set_dir"])
def test_signatures_are_torch_hubs(name):
    torch = pytest.importorskip("torch")
    ours = dict(inspect.signature(getattr(hub, name)).parameters)
    theirs = dict(inspect.signature(getattr(torch.hub, name)).parameters)
    extensions = {"list": {"source"}, "help": {"source"}}.get(name, set())
    assert set(ours) - set(theirs) == extensions and set(theirs) <= set(ours)
    differing_defaults = {"source": "local", "weights_only": True}  # documented deliberate differences
    for param, theirs_param in theirs.items():
        expected = differing_defaults.get(param, theirs_param.default)
        assert ours[param].default == expected, param
        assert ours[param].kind == theirs_param.kind, param


# ---- downloads -----------------------------------------------------------------------------------
def _leftovers(directory):
    return sorted(p.name for p in pathlib.Path(directory).iterdir() if ".partial" in p.name)


@pytest.mark.no_device
def test_download_url_to_file_copies_a_file_url(tmp_path):
    source = tmp_path / "source.bin"
    payload = os.urandom(300_000)  # more than one read chunk
    source.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    dst = tmp_path / "out" / "copy.bin"
    dst.parent.mkdir()
    hub.download_url_to_file(source.as_uri(), str(dst), hash_prefix=digest[:10], progress=False)
    assert dst.read_bytes() == payload and _leftovers(dst.parent) == []


@pytest.mark.no_device
def test_a_hash_mismatch_names_both_hashes_and_leaves_nothing(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    dst = tmp_path / "out" / "copy.bin"
    dst.parent.mkdir()
    with pytest.raises(RuntimeError, match=f'invalid hash value \\(expected "deadbeef", got "{digest}"\\)'):
        hub.download_url_to_file(source.as_uri(), dst, hash_prefix="deadbeef", progress=False)
    assert list(dst.parent.iterdir()) == []


@pytest.mark.no_device
def test_a_failed_download_keeps_the_previous_file_and_leaves_no_partial_file(tmp_path):
    dst = tmp_path / "out" / "copy.bin"
    dst.parent.mkdir()
    dst.write_bytes(b"previous")
    with pytest.raises(urllib.error.URLError):
        hub.download_url_to_file((tmp_path / "missing.bin").as_uri(), dst, progress=False)
    assert dst.read_bytes() == b"previous" and _leftovers(dst.parent) == []


class _BrokenResponse:
    """A response that delivers one chunk, records the files of `directory`, then loses the connection."""

    def __init__(self, directory):
        self.headers = {"Content-Length": "1000000"}
        self.directory = directory
        self.files_while_downloading = None

    def read(self, n):
        if self.files_while_downloading is None:
            self.files_while_downloading = sorted(p.name for p in self.directory.iterdir())
            return b"x" * n
        raise ConnectionResetError("connection lost mid-way")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.no_device
def test_a_download_failing_mid_way_leaves_no_partial_file(tmp_path, monkeypatch):
    response = _BrokenResponse(tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", lambda request: response)
    dst = tmp_path / "copy.bin"
    with pytest.raises(ConnectionResetError, match="mid-way"):
        hub.download_url_to_file("https://example.invalid/copy.bin", dst, progress=False)
    partial, = response.files_while_downloading  # the bytes went to a temporary file beside the target
    assert partial.startswith("copy.bin.") and partial.endswith(".partial")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.no_device
def test_progress_uses_tqdm_on_stderr_when_installed(tmp_path, capsys):
    pytest.importorskip("tqdm")
    source = tmp_path / "source.bin"
    source.write_bytes(b"w" * 4096)
    hub.download_url_to_file(source.as_uri(), tmp_path / "copy.bin", progress=True)
    assert "4.00k" in capsys.readouterr().err


@pytest.mark.no_device
def test_progress_is_silent_without_tqdm(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    source = tmp_path / "source.bin"
    source.write_bytes(b"w" * 4096)
    hub.download_url_to_file(source.as_uri(), tmp_path / "copy.bin", progress=True)
    assert capsys.readouterr().err == "" and (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


# ---- load_state_dict_from_url --------------------------------------------------------------------
def _checkpoint(tmp_path, name="model.safetensors"):
    ember.manual_seed(0)
    state = nn.Linear(3, 2).state_dict()
    path = tmp_path / "server" / name
    path.parent.mkdir(exist_ok=True)
    ember.save(state, path)
    return path, state


def test_load_state_dict_from_url_caches_in_the_hub_checkpoints_directory(tmp_path, hub_dir, capsys):
    path, state = _checkpoint(tmp_path)
    loaded = hub.load_state_dict_from_url(path.as_uri(), progress=False)
    cached = hub_dir / "checkpoints" / "model.safetensors"
    assert cached.read_bytes() == path.read_bytes()
    assert capsys.readouterr().out == f'Downloading: "{path.as_uri()}" to {cached}\n'
    assert sorted(loaded) == ["bias", "weight"] and all(ember.equal(loaded[k], state[k]) for k in state)
    path.unlink()  # the second call reads the cache and downloads nothing
    again = hub.load_state_dict_from_url(path.as_uri(), progress=False)
    assert capsys.readouterr().out == "" and ember.equal(again["weight"], state["weight"])


def test_model_dir_file_name_and_map_location(tmp_path, hub_dir, device):
    path, state = _checkpoint(tmp_path)
    model_dir = tmp_path / "mine" / "nested"
    loaded = hub.load_state_dict_from_url(path.as_uri(), model_dir=str(model_dir), file_name="renamed.safetensors",
                                          map_location=device, progress=False)
    assert sorted(p.name for p in model_dir.iterdir()) == ["renamed.safetensors"] and not hub_dir.exists()
    assert loaded["weight"].device == device
    model = nn.Linear(3, 2).to(device)
    model.load_state_dict(loaded)
    assert ember.equal(model.weight.cpu(), state["weight"].cpu())


def test_check_hash_uses_the_hash_in_the_file_name(tmp_path, hub_dir):
    path, _ = _checkpoint(tmp_path)
    prefix = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    good = path.with_name(f"linear-{prefix}.safetensors")
    path.rename(good)
    assert sorted(hub.load_state_dict_from_url(good.as_uri(), check_hash=True, progress=False)) == ["bias", "weight"]
    bad = good.with_name("linear-00000000.safetensors")
    good.rename(bad)
    with pytest.raises(RuntimeError, match='expected "00000000", got "' + prefix):
        hub.load_state_dict_from_url(bad.as_uri(), check_hash=True, progress=False)
    assert sorted(p.name for p in (hub_dir / "checkpoints").iterdir()) == [good.name]  # nothing of the bad one
    assert sorted(hub.load_state_dict_from_url(bad.as_uri(), check_hash=False, progress=False)) == ["bias", "weight"]


@pytest.mark.no_device
def test_a_missing_url_leaves_the_cache_empty(tmp_path, hub_dir):
    with pytest.raises(urllib.error.URLError):
        hub.load_state_dict_from_url((tmp_path / "missing.safetensors").as_uri(), progress=False)
    assert list((hub_dir / "checkpoints").iterdir()) == []


@pytest.mark.no_device
def test_a_url_without_a_file_name_needs_file_name(tmp_path, hub_dir):
    with pytest.raises(ValueError, match="pass file_name="):
        hub.load_state_dict_from_url(tmp_path.as_uri() + "/", progress=False)


class Opaque:
    """Not storable safely: ember.save pickles it."""

    def __init__(self, value):
        self.value = value


def test_weights_only_is_the_default_and_refuses_pickled_checkpoints(tmp_path, hub_dir):
    path = tmp_path / "opaque.ckpt"
    ember.save({"thing": Opaque(3)}, path)
    with pytest.raises(pickle.UnpicklingError):
        hub.load_state_dict_from_url(path.as_uri(), progress=False)
    assert hub.load_state_dict_from_url(path.as_uri(), progress=False, weights_only=False)["thing"].value == 3


def test_a_hub_entrypoint_can_load_weights_from_a_url(tmp_path, hub_dir, monkeypatch):
    path, state = _checkpoint(tmp_path, "tiny-weights.safetensors")
    directory = tmp_path / "repo"
    directory.mkdir()
    (directory / "hubconf.py").write_text(textwrap.dedent(f'''
        import ember
        from ember import nn

        def tiny(pretrained=False):
            """nn.Linear(3, 2), with the published weights when pretrained."""
            model = nn.Linear(3, 2)
            if pretrained:
                model.load_state_dict(ember.hub.load_state_dict_from_url({path.as_uri()!r}, progress=False))
            return model
    '''))
    model = hub.load(str(directory), "tiny", pretrained=True)
    assert ember.equal(model.weight, state["weight"]) and ember.equal(model.bias, state["bias"])
    assert (hub_dir / "checkpoints" / "tiny-weights.safetensors").exists()
