"""`ember.hub`: `torch.hub`'s API over local directories, and checkpoints fetched from URLs into a cache.

A hub repository is a directory with a ``hubconf.py`` (PyTorch's convention): its optional
``dependencies`` list names the packages it needs, and every callable whose name does not start with
``_`` is an entrypoint. `list`, `help` and `load` read such a directory (``source="local"``).
`load_state_dict_from_url` downloads a checkpoint once into ``get_dir()/checkpoints`` (any URL that
``urllib`` opens, ``file://`` included) and loads it with `ember.load`.

Deliberate differences from `torch.hub`: ``source`` defaults to ``"local"`` and ``"github"`` raises
ValueError (ember.hub downloads no code; clone the repository and pass its directory); `list` and
`help` take ``source`` too; `load_state_dict_from_url` defaults to ``weights_only=True`` and reads ember
checkpoints and safetensors files, not `torch.save` zip archives; without tqdm there is no progress
output. Only the standard library is imported until a function needs more.
"""
from __future__ import annotations

import builtins
import contextlib
import hashlib
import importlib.util
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

# matches bfd8deac in resnet18-bfd8deac.pth: the start of the file's SHA-256 (check_hash=True)
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
ENV_EMBER_HOME = "EMBER_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"
READ_DATA_CHUNK = 128 * 1024
_SOURCES = ("github", "local")
_hub_dir: str | None = None


def _get_ember_home() -> str:
    """``$EMBER_HOME``, by default ``$XDG_CACHE_HOME/ember`` (``~/.cache/ember``), with ``~`` expanded."""
    default = os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "ember")
    return os.path.expanduser(os.getenv(ENV_EMBER_HOME, default))


def get_dir() -> str:
    """The hub cache directory, where downloaded checkpoints are stored (under ``checkpoints/``).

    It is the directory given to `set_dir`, or else ``$EMBER_HOME/hub``; ``$EMBER_HOME`` defaults to
    ``$XDG_CACHE_HOME/ember``, and ``$XDG_CACHE_HOME`` to ``~/.cache``. The directory may not exist yet.
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_ember_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use `d` (``~`` expanded) as the hub cache directory from now on, instead of ``$EMBER_HOME/hub``.

    Args:
        d: path to a local folder to save downloaded checkpoints in.
    """
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


# ---- hubconf.py repositories ------------------------------------------------------------------------
def list(github: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo: bool | str | None = "check", verbose: bool = True, source: str = "local") -> builtins.list[str]:
    """The names of the entrypoints of a hub repository: the callables in its ``hubconf.py`` whose name does
    not start with ``_``, sorted.

    Args:
        github: the directory holding ``hubconf.py`` (``source="local"``).
        force_reload, skip_validation, trust_repo, verbose: accepted for `torch.hub.list`'s signature; they
            only concern downloaded repositories and have no effect on a local directory.
        source: ``"local"`` (default). ``"github"`` raises ValueError: ember.hub downloads no code.

    Returns:
        The entrypoint names.
    """
    hub_module = _import_hubconf(_repo_dir(github, source, "list"))
    return [name for name in dir(hub_module) if callable(getattr(hub_module, name)) and not name.startswith("_")]


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo: bool | str | None = "check", source: str = "local") -> str | None:
    """The docstring of entrypoint `model` of a hub repository.

    Args:
        github: the directory holding ``hubconf.py`` (``source="local"``).
        model: the name of an entrypoint defined in ``hubconf.py``.
        force_reload, skip_validation, trust_repo: accepted for `torch.hub.help`'s signature; no effect on a
            local directory.
        source: ``"local"`` (default). ``"github"`` raises ValueError: ember.hub downloads no code.

    Returns:
        The entrypoint's ``__doc__`` (None when it has none).

    Raises:
        RuntimeError: a package named in ``dependencies`` is missing, or `model` is not a callable there.
    """
    hub_module = _import_hubconf(_repo_dir(github, source, "help"))
    return _load_entry_from_hubconf(hub_module, model).__doc__


def load(repo_or_dir: str, model: str, *args: Any, source: str = "local", trust_repo: bool | str | None = "check",
         force_reload: bool = False, verbose: bool = True, skip_validation: bool = False, **kwargs: Any) -> Any:
    """Call entrypoint `model` of the ``hubconf.py`` in directory `repo_or_dir` with `args` and `kwargs`.

    The directory is on ``sys.path`` while ``hubconf.py`` is imported and the entrypoint runs, so that
    ``hubconf.py`` can import the repository's own modules.

    Args:
        repo_or_dir: path to a local directory that contains a ``hubconf.py``.
        model: the name of a callable (entrypoint) defined in ``hubconf.py``.
        *args: positional arguments for the entrypoint.
        source: ``"local"`` (default; PyTorch's default is ``"github"``). ``"github"`` raises ValueError:
            ember.hub downloads no code; clone the repository and pass its directory.
        trust_repo, force_reload, verbose, skip_validation: accepted for `torch.hub.load`'s signature; they
            only concern downloaded repositories and have no effect on a local directory.
        **kwargs: keyword arguments for the entrypoint.

    Returns:
        What the entrypoint returns (typically an `nn.Module`).

    Raises:
        ValueError: `source` is not ``"local"``, or `model` is not a string.
        FileNotFoundError: `repo_or_dir` holds no ``hubconf.py``.
        RuntimeError: a package named in ``dependencies`` is missing (all are named), or `model` is not a
            callable in ``hubconf.py``.
    """
    repo_dir = _repo_dir(repo_or_dir, source, "load")
    with _add_to_sys_path(repo_dir):
        hub_module = _import_hubconf(repo_dir)
        entry = _load_entry_from_hubconf(hub_module, model)
        return entry(*args, **kwargs)


def _repo_dir(repo_or_dir: str | os.PathLike, source: str, fn: str) -> str:
    """The local directory to read, after checking `source`."""
    if not isinstance(source, str) or source.lower() not in _SOURCES:
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source.lower() == "github":
        raise ValueError(f'ember.hub.{fn}: source="github" is not supported: ember.hub downloads no code and reads '
                         f'only local directories with a hubconf.py. Clone the repository (git clone '
                         f'https://github.com/<owner>/<name>) and pass its directory with source="local".')
    return os.fspath(repo_or_dir)


@contextlib.contextmanager
def _add_to_sys_path(path: str) -> Iterator[None]:
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)


def _import_hubconf(repo_dir: str) -> ModuleType:
    """Execute ``repo_dir/hubconf.py`` as a fresh module (not entered in ``sys.modules``)."""
    path = os.path.join(repo_dir, MODULE_HUBCONF)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ember.hub: no {MODULE_HUBCONF} in {repo_dir!r}; a hub repository is a directory "
                                f"with a {MODULE_HUBCONF} that defines its entrypoints")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    module = importlib.util.module_from_spec(spec)
    with _add_to_sys_path(repo_dir):
        spec.loader.exec_module(module)
    return module


def _check_dependencies(hub_module: ModuleType) -> None:
    dependencies = getattr(hub_module, VAR_DEPENDENCY, None)
    if dependencies is not None:
        missing = [pkg for pkg in dependencies if importlib.util.find_spec(pkg) is None]
        if missing:
            raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")


def _load_entry_from_hubconf(hub_module: ModuleType, model: str) -> Callable:
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    _check_dependencies(hub_module)
    entry = getattr(hub_module, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry


# ---- checkpoints from URLs --------------------------------------------------------------------------
def download_url_to_file(url: str, dst: str | os.PathLike, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download the object at `url` to the path `dst`, atomically.

    The bytes go to a temporary file beside `dst` (``<dst>.<random>.partial``) that is renamed to `dst`
    only when the download completed and its hash matched; on any failure it is removed, so `dst` is
    either untouched or complete.

    Args:
        url: the URL to read (anything ``urllib.request.urlopen`` opens: ``https://``, ``file://``, ...).
        dst: full path to save the object at; its directory must exist.
        hash_prefix: if given, the SHA-256 hex digest of the download must start with it.
        progress: show a tqdm progress bar on stderr (only when tqdm is installed; silent otherwise).

    Raises:
        RuntimeError: the digest does not start with `hash_prefix` (both are named).
        urllib.error.URLError, OSError: the URL could not be read to the end.
    """
    from urllib.request import Request, urlopen

    dst = os.path.expanduser(os.fspath(dst))
    tmp_dst = f"{dst}.{uuid.uuid4().hex}.partial"
    try:
        with urlopen(Request(url, headers={"User-Agent": "ember.hub"})) as response, open(tmp_dst, "xb") as f:
            length = response.headers.get("Content-Length")
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            with _progress_bar(int(length) if length else None, progress) as update:
                while True:
                    buffer = response.read(READ_DATA_CHUNK)
                    if not buffer:
                        break
                    f.write(buffer)
                    if sha256 is not None:
                        sha256.update(buffer)
                    update(len(buffer))
        if sha256 is not None:
            digest = sha256.hexdigest()
            if not digest.startswith(hash_prefix):
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}") for {url}; '
                                   f'the download was discarded')
        os.replace(tmp_dst, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_dst)


@contextlib.contextmanager
def _progress_bar(total: int | None, progress: bool) -> Iterator[Callable[[int], Any]]:
    """An ``update(n_bytes)`` callable: a tqdm bar when `progress` and tqdm is installed, else a no-op."""
    tqdm = None
    if progress:
        with contextlib.suppress(ImportError):
            from tqdm import tqdm
    if tqdm is None:
        yield lambda n: None
        return
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024) as bar:
        yield bar.update


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location: Any = None, progress: bool = True,
                             check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = True) -> Any:
    """Load the checkpoint at `url`, downloading it first unless it is already in `model_dir`.

    Args:
        url: the URL of the checkpoint (``https://``, ``file://``, ...).
        model_dir: the cache directory (created if needed); default ``get_dir()/checkpoints``.
        map_location: where tensors go, as in `ember.load`.
        progress: show a progress bar on stderr while downloading (needs tqdm).
        check_hash: the file name follows the convention ``<name>-<sha256 prefix>.<ext>`` (e.g.
            ``resnet18-f37072fd.pth``) and the download must match that prefix of its SHA-256. A cached
            file is not checked again.
        file_name: the name to cache the file under; default the last part of the URL's path.
        weights_only: as in `ember.load`. True by default (PyTorch's default here is False): a checkpoint
            holding pickled objects is refused unless you pass False for a source you trust.

    Returns:
        The loaded object, typically a state dict.

    Raises:
        ValueError: no file name can be taken from `url` and `file_name` is not given.
        RuntimeError: the download's hash does not match (nothing is left in the cache).
    """
    from urllib.parse import urlparse

    from .serialization import load as ember_load

    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    if not filename:
        raise ValueError(f"load_state_dict_from_url: cannot take a file name from the URL {url!r}; "
                         f"pass file_name=")
    os.makedirs(model_dir, exist_ok=True)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    return ember_load(cached_file, map_location=map_location, weights_only=weights_only)
