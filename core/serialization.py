"""`ember.save` / `ember.load`: checkpoints that are safetensors files, so loading one never runs code.

PyTorch's `torch.save` pickles everything into a zip archive and `torch.load(weights_only=True)` (the
default since PyTorch 2.6) restricts the unpickler. ember deliberately differs in the format: state
dicts, optimizer states and other nests of tensors, containers, numbers and strings are written as a
plain safetensors file (the tensors) whose metadata holds the nesting as one JSON string; reading it
parses JSON and raw tensor bytes, nothing else. Only an object outside that set (a whole `Module`,
a custom class) is pickled, into a separately marked container that `load` refuses to open unless
`weights_only=False` is passed for a trusted file.
"""
from __future__ import annotations

import builtins
import collections
import contextlib
import errno
import io
import json
import math
import os
import pickle
import secrets
import struct
import sys
from typing import Any, BinaryIO, Callable, Union

import numpy as np  # the host interchange format: tensors reach the file as numpy arrays

from . import dtypes
from .creation import as_tensor
from .device import device
from .tensor import Size, Tensor, _wrap

__all__ = ["save", "load", "CheckpointError"]

FILE_LIKE = Union[str, os.PathLike, BinaryIO]
MAP_LOCATION = Union[None, str, device, dict, Callable]

_FORMAT_VERSION = 1
_META_FORMAT, _META_VERSION, _META_STRUCTURE = "format", "ember.version", "ember.structure"
_PICKLE_MAGIC = b"\x93EMBER-PICKLE\n"  # never the start of a safetensors file: as a header length it is absurd
# safetensors dtype codes ember can hold, and the numpy dtype each loads as.
_SAFETENSORS_DTYPES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32",
                       "I64": "int64", "F16": "float16", "F32": "float32", "F64": "float64"}


class CheckpointError(RuntimeError):
    """A file `ember.load` cannot read: empty, truncated, corrupted, or not an ember/safetensors checkpoint."""


class _NotSafe(Exception):
    """Raised while encoding: `obj` holds something the safe format cannot store (it gets pickled instead)."""


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError("ember.save/ember.load store tensors with the 'safetensors' package, which is not "
                          f"installed ({exc}); install it with: pip install ember[safetensors]") from None
    return safetensors.numpy


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
    Writes to a path are atomic: the bytes go to a temporary file in the same directory, which is
    flushed, fsynced and then renamed over `f`, so a crash mid-save leaves any previous file whole.
    """
    try:
        payload = _encode_safe(obj)
    except _NotSafe as why:
        reason = str(why).encode("utf-8")
        payload = _PICKLE_MAGIC + struct.pack("<I", len(reason)) + reason + pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    if isinstance(f, (str, os.PathLike)):
        _atomic_write(os.fspath(f), payload)
    elif callable(getattr(f, "write", None)):
        f.write(payload)
        if callable(getattr(f, "flush", None)):
            f.flush()
    else:
        raise TypeError(f"ember.save: f must be a path or a binary file-like object with write(), "
                        f"got {type(f).__name__}")


def _encode_safe(obj) -> bytes:
    enc = _Encoder()
    root = enc.encode(obj, ())
    structure = json.dumps({"root": root, "tensors": enc.records}, allow_nan=False, separators=(",", ":"))
    metadata = {_META_FORMAT: "ember", _META_VERSION: str(_FORMAT_VERSION), _META_STRUCTURE: structure}
    return _safetensors_numpy().save(enc.arrays, metadata=metadata)


def _where(path: tuple) -> str:
    return "obj" + "".join(f"[{k!r}]" for k in path)


class _Encoder:
    """Turns a nest of safe objects into JSON-able nodes, collecting each distinct tensor array once.

    Node forms: JSON scalars (None, bool, int, finite float, str) and lists stand for themselves; every
    other node is a one-key object: {"tuple": [...]}, {"dict": [[k, v], ...]}, {"odict": [[k, v], ...]},
    {"tensor": i} (index into the tensor records), {"float": "nan"|"inf"|"-inf"}, {"dtype": name},
    {"device": str}, {"size": [...]}.
    """

    def __init__(self) -> None:
        self.arrays: dict = {}  # safetensors name -> contiguous host array
        self.records: list = []  # one per distinct tensor object
        self._record_of: dict = {}  # id(tensor) -> index into records
        self._name_of: dict = {}  # id(native array) -> safetensors name: tensors sharing an array share it
        self._alive: list = []  # keeps every seen tensor alive so ids stay unique during the walk
        self._open: set = set()  # ids of the containers being encoded, to detect cycles
        parameter_module = sys.modules.get("ember.nn.parameter")
        self._parameter = getattr(parameter_module, "Parameter", None)

    def encode(self, obj, path: tuple):
        t = type(obj)
        if obj is None or t is builtins.bool or t is builtins.int or t is str:
            return obj
        if t is builtins.float:
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if t is Tensor or t is self._parameter:
            return {"tensor": self._tensor(obj, path)}
        if t is dtypes.dtype:
            return {"dtype": obj.name}
        if t is device:
            return {"device": str(obj)}
        if t is Size:
            return {"size": list(obj)}
        if t is list or t is tuple or t is dict or t is collections.OrderedDict:
            if id(obj) in self._open:
                raise _NotSafe(f"{_where(path)} contains itself")
            self._open.add(id(obj))
            if t is list or t is tuple:
                items = [self.encode(v, path + (i,)) for i, v in enumerate(obj)]
                node = items if t is list else {"tuple": items}
            else:
                pairs = []
                for k, v in obj.items():
                    if type(k) is not str and type(k) is not builtins.int:
                        raise _NotSafe(f"{_where(path)} has a key of type {type(k).__qualname__}: {k!r}")
                    pairs.append([k, self.encode(v, path + (k,))])
                node = {"dict" if t is dict else "odict": pairs}
            self._open.discard(id(obj))
            return node
        raise _NotSafe(f"{_where(path)} is a {t.__module__}.{t.__qualname__}")

    def _tensor(self, t: Tensor, path: tuple) -> int:
        index = self._record_of.get(id(t))
        if index is not None:
            return index
        name = self._name_of.get(id(t._data))
        if name is None:
            name = self._unique_name(".".join(str(k) for k in path) or "tensor")
            self.arrays[name] = np.require(t._bk.to_numpy(t._data), requirements="C")  # keeps 0-d arrays 0-d
            self._name_of[id(t._data)] = name
        index = self._record_of[id(t)] = len(self.records)
        self.records.append({"name": name, "device": str(t._device), "requires_grad": t._rg,
                             "parameter": type(t) is not Tensor})
        self._alive.append(t)
        return index

    def _unique_name(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.arrays or candidate == "__metadata__":
            candidate, n = f"{name}#{n}", n + 1
        return candidate


def _atomic_write(path: str, payload: bytes) -> None:
    path = os.path.realpath(path)  # write through a symlink to its target, as open() would
    directory, base = os.path.split(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "ember.save: the directory to save into does not exist", directory)
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); platforms that cannot open a directory skip this."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- load ------------------------------------------------------------------------------------------
def load(f: FILE_LIKE, map_location: MAP_LOCATION = None, *, weights_only: bool = True) -> Any:
    """Load an object saved with `ember.save` (or any safetensors file) from the path or binary file `f`.

    Args:
        f: a path (str or os.PathLike), or a binary file-like object with ``read``.
        map_location: where tensors go. None: the device each was saved from. A device or string
            (``"cpu"``, ``"cuda:0"``): all tensors go there. A dict such as ``{"cuda:0": "cpu"}``: maps the
            saved location; locations it does not name stay. A callable ``fn(tensor, location)``: gets
            each stored array as a CPU tensor and its saved location string, returns the tensor to use
            (or None for the saved location).
        weights_only: True (the default, as in PyTorch 2.6+) refuses files holding pickled objects,
            because unpickling can execute arbitrary code. Pass False only for files you trust.

    Returns:
        The saved object, with types, key order and tensor sharing restored. A safetensors file written
        by another program (e.g. PyTorch's ``safetensors.torch.save_file(model.state_dict(), path)``)
        loads as a flat ``{name: tensor}`` dict, ready for ``model.load_state_dict``: this is how PyTorch
        weights reach ember. A PyTorch ``torch.save`` zip file is not read (ember never unpickles
        PyTorch's format); convert it in PyTorch with ``safetensors.torch.save_file``.

    Raises:
        FileNotFoundError: `f` is a path that does not exist.
        CheckpointError: the file is empty, truncated, corrupted, or not a checkpoint; the message names it.
        pickle.UnpicklingError: the file holds a pickled object and `weights_only` is True.
    """
    if isinstance(f, (str, os.PathLike)):
        name = repr(os.fspath(f))
        with open(f, "rb") as fh:
            data = fh.read()
    elif callable(getattr(f, "read", None)):
        name = repr(getattr(f, "name", None) or f"<{type(f).__name__} object>")
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"ember.load: {name} returned {type(data).__name__} from read(); open the file in "
                            f"binary mode ('rb')")
        data = bytes(data)
    else:
        raise TypeError(f"ember.load: f must be a path or a binary file-like object with read(), "
                        f"got {type(f).__name__}")
    restore = _restorer(map_location, name)
    if not data:
        raise CheckpointError(f"ember.load: {name} is empty (0 bytes); it is not a checkpoint, or saving it "
                              f"was interrupted")
    if data.startswith(_PICKLE_MAGIC):
        return _load_pickled(data, name, restore, weights_only)
    if data.startswith(b"PK\x03\x04"):
        raise CheckpointError(f"ember.load: {name} is a zip archive (probably a PyTorch torch.save file), not a "
                              f"safetensors checkpoint; ember never unpickles PyTorch's format. In PyTorch, "
                              f"convert it with safetensors.torch.save_file(model.state_dict(), path)")
    return _load_safetensors(data, name, restore)


def _load_safetensors(data: bytes, name: str, restore) -> Any:
    header = _read_header(data, name)
    try:
        arrays = _safetensors_numpy().load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError type for a malformed file
        raise CheckpointError(f"ember.load: {name} is not a valid safetensors file: {exc}") from None
    metadata = header.get("__metadata__") or {}
    if metadata.get(_META_FORMAT) != "ember":
        return {key: restore(arrays[key], "cpu") for key in header if key != "__metadata__"}
    version = metadata.get(_META_VERSION)
    if version != str(_FORMAT_VERSION):
        raise CheckpointError(f"ember.load: {name} has ember checkpoint format version {version!r}; this ember "
                              f"reads version {_FORMAT_VERSION} (upgrade ember to read newer files)")
    try:
        structure = json.loads(metadata[_META_STRUCTURE])
        records, root = structure["tensors"], structure["root"]
        if not isinstance(records, list):
            raise TypeError("the tensor records are not a list")
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"ember.load: {name} has corrupted ember metadata ({exc})") from None
    tensors = _restore_tensors(records, arrays, restore, name)
    try:
        return _decode(root, tensors)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CheckpointError(f"ember.load: {name} has corrupted ember metadata ({type(exc).__name__}: "
                              f"{exc})") from None


def _read_header(data: bytes, name: str) -> dict:
    """Check the safetensors framing (length, JSON header, data extent) with messages that say what is wrong."""
    if len(data) < 8:
        raise CheckpointError(f"ember.load: {name} is truncated or not a checkpoint: it holds only {len(data)} "
                              f"bytes, fewer than the 8-byte safetensors header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise CheckpointError(f"ember.load: {name} is truncated or not a safetensors/ember checkpoint: its first "
                              f"8 bytes announce a {n}-byte header but the file holds {len(data)} bytes")
    try:
        header = json.loads(data[8:8 + n])
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        entries = [v for k, v in header.items() if k != "__metadata__"]
        end = builtins.max((int(v["data_offsets"][1]) for v in entries), default=0)
        dtypes_ = {v["dtype"] for v in entries}
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise CheckpointError(f"ember.load: {name} is corrupted or not a safetensors/ember checkpoint: its header "
                              f"is not valid safetensors JSON ({exc})") from None
    if 8 + n + end > len(data):
        raise CheckpointError(f"ember.load: {name} is truncated: its tensor data should end at byte {8 + n + end} "
                              f"but the file holds {len(data)} bytes")
    unsupported = sorted(d for d in dtypes_ if d not in _SAFETENSORS_DTYPES)
    if unsupported:
        names = [k for k, v in header.items() if k != "__metadata__" and v["dtype"] in unsupported]
        raise CheckpointError(f"ember.load: {name} holds tensors of dtype {', '.join(unsupported)} (e.g. "
                              f"{names[0]!r}), which ember does not support (supported: "
                              f"{', '.join(_SAFETENSORS_DTYPES)}); convert them, e.g. to float32, before saving")
    return header


def _restore_tensors(records: list, arrays: dict, restore, name: str) -> list:
    parameter = _parameter_class()
    bases: dict = {}  # safetensors name -> the first tensor restored from it; later ones share its array
    tensors = []
    for rec in records:
        try:
            key, location, rg, is_param = rec["name"], rec["device"], rec["requires_grad"], rec["parameter"]
            array = arrays[key]
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"ember.load: {name} has a corrupted tensor record {rec!r} ({exc!r})") from None
        base = bases.get(key)
        if base is None:
            t = bases[key] = restore(array, location)
        else:
            t = _wrap(base._data, base._bk, base._device)
        if is_param and parameter is not None:
            t = parameter(t, requires_grad=rg)
        elif rg:
            t.requires_grad_(True)
        tensors.append(t)
    return tensors


def _parameter_class():
    """`ember.nn.Parameter`, or None when ember.nn cannot be imported (Parameters then load as tensors)."""
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


_TAGGED_CONTAINERS = {"tuple": tuple, "size": Size}
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode(node, tensors: list):
    t = type(node)
    if node is None or t is builtins.bool or t is builtins.int or t is builtins.float or t is str:
        return node
    if t is list:
        return [_decode(v, tensors) for v in node]
    if t is not dict or len(node) != 1:
        raise ValueError(f"unexpected node {node!r}")
    ((tag, value),) = node.items()
    if tag == "tensor":
        if type(value) is not builtins.int or value < 0:
            raise ValueError(f"bad tensor index {value!r}")
        return tensors[value]
    if tag in ("dict", "odict"):
        pairs = []
        for k, v in value:
            if type(k) is not str and type(k) is not builtins.int:
                raise TypeError(f"bad dict key {k!r}")
            pairs.append((k, _decode(v, tensors)))
        return dict(pairs) if tag == "dict" else collections.OrderedDict(pairs)
    if tag in _TAGGED_CONTAINERS:
        if type(value) is not list:
            raise TypeError(f"{tag} items must be a list, got {value!r}")
        return _TAGGED_CONTAINERS[tag](_decode(v, tensors) for v in value)
    if tag == "float":
        return _NONFINITE[value]
    if tag == "dtype":
        return dtypes.BY_NAME[value]
    if tag == "device":
        return device(value)
    raise ValueError(f"unknown node tag {tag!r}")


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


# ---- the pickle container (weights_only=False only) ------------------------------------------------
def _load_pickled(data: bytes, name: str, restore, weights_only: bool) -> Any:
    start = len(_PICKLE_MAGIC) + 4
    if len(data) < start:
        raise CheckpointError(f"ember.load: {name} is a truncated ember pickle container ({len(data)} bytes)")
    (n,) = struct.unpack_from("<I", data, len(_PICKLE_MAGIC))
    reason = data[start:start + n].decode("utf-8", "replace")
    if weights_only:
        raise pickle.UnpicklingError(
            f"ember.load: {name} holds a pickled Python object ({reason[:200]}), and weights_only=True (the "
            f"default) refuses to unpickle it because unpickling can execute arbitrary code. Pass "
            f"weights_only=False only if you trust the file's source. To write files that load safely, save "
            f"only tensors, dicts, lists, tuples, numbers, strings and None (e.g. model.state_dict() rather "
            f"than the model)")
    try:
        return _Unpickler(io.BytesIO(data[start + n:]), restore).load()
    except (EOFError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"ember.load: {name} is a truncated or corrupted ember pickle container "
                              f"({type(exc).__name__}: {exc})") from None


class _Unpickler(pickle.Unpickler):
    """Rebuilds pickled tensors through `map_location` (Tensor and Parameter pickle via `__reduce_ex__`)."""

    def __init__(self, file, restore) -> None:
        super().__init__(file)
        self._restore = restore

    def find_class(self, module: str, name: str):
        if module == "ember.tensor" and name == "_rebuild":
            return self._rebuild_tensor
        if module == "ember.nn.parameter" and name == "_rebuild_parameter":
            return self._rebuild_parameter
        return super().find_class(module, name)

    def _rebuild_tensor(self, array, location: str, requires_grad: bool) -> Tensor:
        t = self._restore(array, location)
        return t.requires_grad_(True) if requires_grad else t

    def _rebuild_parameter(self, array, location: str, requires_grad: bool):
        return _parameter_class()(self._restore(array, location), requires_grad=requires_grad)
