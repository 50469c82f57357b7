"""`ember.save` / `ember.load`: checkpoints that are safetensors files, so loading one never runs code.

PyTorch's `torch.save` pickles everything into a zip archive and `torch.load(weights_only=True)` (the
default since PyTorch 2.6) restricts the unpickler. ember deliberately differs in the format: state
dicts, optimizer states and other nests of tensors, containers, numbers and strings are written as a
plain safetensors file (the tensors) whose metadata holds the nesting as one JSON string; reading it
parses JSON and raw tensor bytes, nothing else. Only an object outside that set (a whole `Module`,
a custom class) is pickled, into a separately marked container that `load` refuses to open unless
`weights_only=False` is passed for a trusted file.

The modules: `structure` (the nesting as JSON), `safetensors_file` (the file layout, its validation and
checksums), `source` (opening files for reading), `atomic` (replacing a path safely), `pickled` (the
pickle container) and `errors`.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, Union

from ..creation import as_tensor
from ..device import device
from ..tensor import Tensor, _wrap
from . import pickled, safetensors_file, structure
from .atomic import replace_atomically
from .errors import CheckpointError
from .source import FILE_LIKE, open_source

__all__ = ["save", "load", "CheckpointError"]

MAP_LOCATION = Union[None, str, device, dict, Callable]
_CODES = {dt.name: code for code, dt in safetensors_file.DTYPES.items()}  # ember dtype name -> safetensors code


# ---- save ------------------------------------------------------------------------------------------
def save(obj: Any, f: FILE_LIKE) -> None:
    """Save `obj` (typically a state dict, or a dict of state dicts) to the path or binary file `f`.

    Args:
        obj: the object to save. Tensors (and Parameters), dict and OrderedDict with str or int keys, list,
            tuple, int, float, bool, str, None, `ember.dtype`, `ember.device` and `ember.Size`, nested in
            any way, are written in the safe format: a safetensors file whose tensors are readable by any
            safetensors reader (a flat ``{name: tensor}`` dict keeps its names; nested tensors are named
            by their path, e.g. ``model.fc.weight``). Key types, OrderedDict vs dict, tuple vs list,
            dtype, shape, ``requires_grad``, Parameter-ness and tensors shared between places (the same
            tensor object, or tensors sharing one array such as tied weights) are restored by `load`.
            Containers are stored by value: one list referenced twice loads as two equal lists.
            Anything else is pickled into a separately marked container, which `load` only opens with
            ``weights_only=False``.
        f: a path (str or os.PathLike), or a binary file-like object with ``write``.

    Differs from `torch.save` in the format (see the module docstring); the file is not a zip archive.
    Tensors are streamed to the file one at a time, with a SHA-256 checksum of each and of the header
    that `load` verifies. Writes to a path are atomic: the bytes go to a temporary file in the same
    directory, which is fsynced and renamed over `f` (then the directory is fsynced), so a crash mid-save
    leaves any previous file whole; the next save to `f` removes a temporary file a killed save left. As
    with ``open(f, "wb")``, a symlink writes its target and an existing file keeps its permission bits.
    """
    if isinstance(f, (str, os.PathLike)):
        with replace_atomically(os.fspath(f)) as fh:
            _write(obj, fh)
    elif callable(getattr(f, "write", None)):
        _write(obj, f)
        if callable(getattr(f, "flush", None)):
            f.flush()
    else:
        raise TypeError(f"ember.save: f must be a path or a binary file-like object with write(), "
                        f"got {type(f).__name__}")


def _write(obj: Any, fh) -> None:
    try:
        metadata, tensors = structure.encode(obj)
    except structure.NotSafe as why:
        pickled.write(fh, obj, str(why))
        return
    entries = [safetensors_file.TensorToWrite(name, _CODES[t.dtype.name], tuple(t.shape),
                                              functools.partial(_host_array, t))
               for name, t in tensors.items()]
    safetensors_file.write(fh, entries, metadata)


def _host_array(t: Tensor):
    return t._bk.to_numpy(t._data)


# ---- load ------------------------------------------------------------------------------------------
def load(f: FILE_LIKE, map_location: MAP_LOCATION = None, *, weights_only: bool = True, mmap: bool | None = None,
         verify: bool = True) -> Any:
    """Load an object saved with `ember.save` (or any safetensors file) from the path or binary file `f`.

    Args:
        f: a path (str or os.PathLike) to a regular file, or a seekable binary file-like object with
            ``read``; reading starts at its current position.
        map_location: where tensors go. None: the device each was saved from. A device or string
            (``"cpu"``, ``"cuda:0"``): all tensors go there. A dict such as ``{"cuda:0": "cpu"}``: maps the
            saved location; locations it does not name stay. A callable ``fn(tensor, location)``: gets
            each stored array as a CPU tensor and its saved location string, returns the tensor to use
            (or None for the saved location).
        weights_only: True (the default, as in PyTorch 2.6+) refuses files holding pickled objects,
            because unpickling can execute arbitrary code. Pass False only for files you trust.
        mmap: as in `torch.load`, map the file into memory instead of reading it: CPU tensors are then
            copy-on-write views of the file (writable; writes never reach the file), and tensors for
            other devices are copied from it. Only for paths. Pickled containers are read, not mapped.
        verify: an ember extension (PyTorch has no such argument). True (the default) checks the
            SHA-256 checksums that `ember.save` stores of the header and of every tensor, so a damaged
            file raises `CheckpointError` instead of loading wrong weights; this reads every byte once,
            also with ``mmap=True``. False skips the checksums for speed (the structure of the file is
            still checked). Files from other safetensors writers carry no checksums and load unverified.

    Returns:
        The saved object, with types, key order and tensor sharing restored. A safetensors file written
        by another program (e.g. PyTorch's ``safetensors.torch.save_file(model.state_dict(), path)``)
        loads as a flat ``{name: tensor}`` dict, ready for ``model.load_state_dict``: this is how PyTorch
        weights reach ember. A PyTorch ``torch.save`` zip file is not read (ember never unpickles
        PyTorch's format); convert it in PyTorch with ``safetensors.torch.save_file``.

    Raises:
        FileNotFoundError: `f` is a path that does not exist (IsADirectoryError: a directory).
        CheckpointError: the file is empty, truncated, corrupted, not a regular file, or not a checkpoint;
            the message names it. Every field of the header is checked before tensor data is read.
        pickle.UnpicklingError: the file holds a pickled object and `weights_only` is True.
        ValueError: ``mmap=True`` with a file object. io.UnsupportedOperation: `f` cannot seek.
    """
    mmap = bool(mmap)
    with open_source(f, mmap) as source:
        restore = _restorer(map_location, source.name)
        prefix = source.read(min(8, source.size), "the header length")
        if not prefix:
            raise CheckpointError(f"ember.load: {source.name} is empty (0 bytes); it is not a checkpoint, or "
                                  f"saving it was interrupted")
        if prefix == pickled.MAGIC[:8]:
            return pickled.load(source, restore, weights_only, _parameter_class())
        if prefix.startswith(b"PK\x03\x04"):
            raise CheckpointError(f"ember.load: {source.name} is a zip archive (probably a PyTorch torch.save "
                                  f"file), not a safetensors checkpoint; ember never unpickles PyTorch's format. "
                                  f"In PyTorch, convert it with safetensors.torch.save_file(model.state_dict(), "
                                  f"path)")
        header = safetensors_file.read_header(source, prefix, verify)
        arrays = safetensors_file.read_arrays(source, header, mmap, verify)  # read as they are iterated
        if not structure.is_ember(header.metadata):
            loaded = {key: restore(array, "cpu") for key, array in arrays}
            return {key: loaded[key] for key in header.tensors}
        try:
            root, records = structure.parse(header.metadata, header.tensors, verify)
        except structure.Malformed as exc:
            raise CheckpointError(f"ember.load: {source.name} {exc}") from None
        locations: dict = {}
        for rec in records:
            locations.setdefault(rec.name, rec.location)
        bases = {key: restore(array, locations[key]) for key, array in arrays if key in locations}
    return structure.decode(root, _tensors(records, bases))


def _tensors(records: list, bases: dict) -> list:
    """One tensor per record; the first record of each stored array gets it, later ones share its data."""
    parameter = _parameter_class()
    tensors, used = [], set()
    for rec in records:
        base = bases[rec.name]
        t = _wrap(base._data, base._bk, base._device) if rec.name in used else base
        used.add(rec.name)
        if rec.parameter and parameter is not None:
            t = parameter(t, requires_grad=rec.requires_grad)
        elif rec.requires_grad:
            t.requires_grad_(True)
        tensors.append(t)
    return tensors


def _parameter_class():
    """`ember.nn.Parameter`, or None when ember.nn cannot be imported (Parameters then load as tensors)."""
    try:
        from ..nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


def _restorer(map_location, name: str):
    """`restore(host_array, saved_location) -> Tensor` for `map_location` (see `load`)."""
    if map_location is None:
        return lambda array, location: as_tensor(array, device=_target(location, name))
    if isinstance(map_location, (str, device)):
        target = _target(map_location, name)
        return lambda array, location: as_tensor(array, device=target)
    if isinstance(map_location, dict):
        mapping = {str(device(k)): v for k, v in map_location.items()}
        return lambda array, location: as_tensor(array, device=_target(mapping.get(location, location), name))
    if callable(map_location):
        def restore(array, location):
            out = map_location(as_tensor(array, device="cpu"), location)
            if out is None:
                return as_tensor(array, device=_target(location, name))
            if not isinstance(out, Tensor):
                raise TypeError(f"ember.load: map_location returned {type(out).__name__}; it must return a "
                                f"Tensor or None")
            return out
        return restore
    raise TypeError(f"ember.load: map_location must be None, a device, a string, a dict or a callable, got "
                    f"{type(map_location).__name__}")


def _target(location, name: str) -> device:
    dev = device(location)
    try:
        dev.backend
    except RuntimeError as exc:
        raise RuntimeError(f"ember.load: {name} holds tensors for device '{dev}', which is unavailable here "
                           f"({exc}); pass map_location='cpu' (or another available device) to load them "
                           f"there") from None
    return dev
