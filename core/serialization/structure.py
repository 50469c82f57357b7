"""The nesting of a safe checkpoint: containers, scalars and tensor references as one JSON tree, stored
in the safetensors metadata (``"ember.structure"``) beside one record per distinct tensor object.

Node forms: JSON scalars (None, bool, int, finite float, str) and lists stand for themselves; every other
node is a one-key object: {"tuple": [...]}, {"dict": [[k, v], ...]}, {"odict": [[k, v], ...]},
{"tensor": i} (an index into the records), {"float": "nan"|"inf"|"-inf"}, {"dtype": name},
{"device": str}, {"size": [...]}. A record is {"name": safetensors name, "device": saved location,
"requires_grad": bool, "parameter": bool}; records sharing a name share one array.
"""
from __future__ import annotations

import builtins
import collections
import dataclasses
import json
import math
import re
import sys
from typing import Any

from .. import dtypes
from ..device import device
from ..tensor import Size, Tensor
from .errors import describe
from .safetensors_file import HEADER_SHA256, METADATA, TENSOR_SHA256, TensorInfo, parse_json

FORMAT, VERSION, STRUCTURE = "format", "ember.version", "ember.structure"
# Version 2 files carry checksums (see safetensors_file); version 1 files, from before them, load unverified.
FORMAT_VERSION = 2
_RECORD_FIELDS = {"name", "device", "requires_grad", "parameter"}
_DEVICE = re.compile(r"[A-Za-z0-9_]{1,64}(:[0-9]{1,9})?")
_TAGGED_CONTAINERS = {"tuple": tuple, "size": Size}
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class NotSafe(Exception):
    """Raised while encoding: the object holds something the safe format cannot store (it gets pickled)."""


class Malformed(Exception):
    """The ember metadata of a file is inconsistent; the message completes "ember.load: <file> ..."."""


# ---- encoding --------------------------------------------------------------------------------------
def encode(obj: Any) -> tuple[dict[str, str], dict[str, Tensor]]:
    """The ember metadata for `obj` and its distinct tensors by safetensors name. Raises `NotSafe`."""
    enc = _Encoder()
    root = enc.encode(obj, ())
    structure = json.dumps({"root": root, "tensors": enc.records}, allow_nan=False, separators=(",", ":"))
    return {FORMAT: "ember", VERSION: str(FORMAT_VERSION), STRUCTURE: structure}, enc.tensors


def _where(path: tuple) -> str:
    return "obj" + "".join(f"[{k!r}]" for k in path)


class _Encoder:
    """Turns a nest of safe objects into JSON-able nodes, collecting each distinct tensor array once."""

    def __init__(self) -> None:
        self.tensors: dict = {}  # safetensors name -> the first tensor seen with that array
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
                raise NotSafe(f"{_where(path)} contains itself")
            self._open.add(id(obj))
            if t is list or t is tuple:
                items = [self.encode(v, path + (i,)) for i, v in enumerate(obj)]
                node = items if t is list else {"tuple": items}
            else:
                pairs = []
                for k, v in obj.items():
                    if type(k) is not str and type(k) is not builtins.int:
                        raise NotSafe(f"{_where(path)} has a key of type {type(k).__qualname__}: {k!r}")
                    pairs.append([k, self.encode(v, path + (k,))])
                node = {"dict" if t is dict else "odict": pairs}
            self._open.discard(id(obj))
            return node
        raise NotSafe(f"{_where(path)} is a {t.__module__}.{t.__qualname__}")

    def _tensor(self, t: Tensor, path: tuple) -> int:
        index = self._record_of.get(id(t))
        if index is not None:
            return index
        name = self._name_of.get(id(t._data))
        if name is None:
            name = self._unique_name(".".join(str(k) for k in path) or "tensor")
            self.tensors[name] = t
            self._name_of[id(t._data)] = name
        index = self._record_of[id(t)] = len(self.records)
        self.records.append({"name": name, "device": str(t._device), "requires_grad": t._rg,
                             "parameter": type(t) is not Tensor})
        self._alive.append(t)
        return index

    def _unique_name(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.tensors or candidate == METADATA:
            candidate, n = f"{name}#{n}", n + 1
        return candidate


# ---- decoding --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Record:
    """One saved tensor object: its safetensors name, saved location, requires_grad and Parameter-ness."""

    name: str
    location: str
    requires_grad: bool
    parameter: bool


def is_ember(metadata: dict[str, str]) -> bool:
    """True for a file written by `ember.save` (other safetensors files load as flat dicts).

    Any ``ember.`` key counts, not only ``format``: a damaged format entry must not turn an ember file into
    a flat dict of its tensors.
    """
    return metadata.get(FORMAT) == "ember" or any(key.startswith("ember.") for key in metadata)


def parse(metadata: dict[str, str], tensors: dict[str, TensorInfo], verify: bool) -> tuple[Any, list[Record]]:
    """The root node and the tensor records of an ember file, fully checked before any data is read.

    With `verify`, a version 2 file must carry its checksums (their values are checked by safetensors_file).
    """
    version = metadata.get(VERSION)
    if version not in ("1", str(FORMAT_VERSION)):
        raise Malformed(f"has ember checkpoint format version {describe(version)}; this ember reads versions 1 "
                        f"to {FORMAT_VERSION} (upgrade ember to read newer files)")
    if verify and version != "1" and not (HEADER_SHA256 in metadata and TENSOR_SHA256 in metadata):
        raise Malformed(f"is corrupted: its checksums ({HEADER_SHA256}, {TENSOR_SHA256}) are missing")
    try:
        structure = parse_json(metadata[STRUCTURE])
    except KeyError:
        raise Malformed("has corrupted ember metadata (ember.structure is missing)") from None
    except ValueError as exc:
        raise Malformed(f"has corrupted ember metadata (ember.structure is not valid JSON: {exc})") from None
    except RecursionError:
        raise Malformed("has corrupted ember metadata (ember.structure is nested too deeply)") from None
    if type(structure) is not dict or set(structure) != {"root", "tensors"} or type(structure["tensors"]) is not list:
        raise Malformed("has corrupted ember metadata (ember.structure is not an object of 'root' and a "
                        "'tensors' list)")
    records = [_record(r, tensors) for r in structure["tensors"]]
    root = structure["root"]
    decode(root, [None] * len(records))  # checks every node now, before any tensor data is read
    return root, records


def _record(rec, tensors: dict[str, TensorInfo]) -> Record:
    if type(rec) is not dict:
        raise Malformed(f"has a corrupted tensor record: {describe(rec)} is not an object")
    if set(rec) != _RECORD_FIELDS:
        raise Malformed(f"has a corrupted tensor record with the fields {describe(list(rec))}; expected name, "
                        f"device, requires_grad and parameter")
    key, location, rg, is_param = rec["name"], rec["device"], rec["requires_grad"], rec["parameter"]
    if type(key) is not str or key not in tensors:
        raise Malformed(f"has a corrupted tensor record: its name {describe(key)} is not a tensor in the file")
    if type(location) is not str or not _DEVICE.fullmatch(location):
        raise Malformed(f"has a corrupted tensor record for {describe(key)}: device {describe(location)}")
    try:
        device(location)
    except (ValueError, TypeError) as exc:
        raise Malformed(f"has a corrupted tensor record for {describe(key)}: device {describe(location)} "
                        f"({exc})") from None
    if type(rg) is not bool or type(is_param) is not bool:
        raise Malformed(f"has a corrupted tensor record for {describe(key)}: requires_grad {describe(rg)}, "
                        f"parameter {describe(is_param)} (expected true or false)")
    if rg and tensors[key].dtype.kind != "f":
        raise Malformed(f"has a corrupted tensor record for {describe(key)}: requires_grad is true for a "
                        f"tensor of dtype {tensors[key].dtype.name}")
    return Record(key, location, rg, is_param)


def decode(root: Any, tensors: list) -> Any:
    """The object `root` describes, with ``{"tensor": i}`` replaced by ``tensors[i]``. Raises `Malformed`."""
    try:
        return _decode(root, tensors)
    except RecursionError:
        raise Malformed("has corrupted ember metadata (its structure is nested too deeply)") from None


def _bad(problem: str) -> Malformed:
    return Malformed(f"has corrupted ember metadata ({problem})")


def _decode(node, tensors: list):
    t = type(node)
    if node is None or t is builtins.bool or t is builtins.int or t is str:
        return node
    if t is builtins.float:
        if not math.isfinite(node):
            raise _bad(f"the float {describe(node)} should be written as a tagged node")
        return node
    if t is list:
        return [_decode(v, tensors) for v in node]
    if len(node) != 1:
        raise _bad(f"a node has {len(node)} keys, {describe(list(node))}; expected one tag")
    ((tag, value),) = node.items()
    if tag == "tensor":
        if type(value) is not builtins.int or not 0 <= value < len(tensors):
            raise _bad(f"the tensor index {describe(value)} is not one of the {len(tensors)} tensor records")
        return tensors[value]
    if tag in ("dict", "odict"):
        if type(value) is not list:
            raise _bad(f"{tag} items are {describe(value)}, not a list of [key, value] pairs")
        pairs = []
        for pair in value:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, builtins.int):
                raise _bad(f"a {tag} item is {describe(pair)}, not a [key, value] pair with a str or int key")
            pairs.append((pair[0], _decode(pair[1], tensors)))
        out = dict(pairs) if tag == "dict" else collections.OrderedDict(pairs)
        if len(out) != len(pairs):
            raise _bad(f"a {tag} repeats a key")
        return out
    if tag in _TAGGED_CONTAINERS:
        if type(value) is not list:
            raise _bad(f"{tag} items are {describe(value)}, not a list")
        if tag == "size" and not all(type(v) is builtins.int for v in value):
            raise _bad(f"the size {describe(value)} is not a list of integers")
        return _TAGGED_CONTAINERS[tag](_decode(v, tensors) for v in value)
    if tag == "float" and type(value) is str and value in _NONFINITE:
        return _NONFINITE[value]
    if tag == "dtype" and type(value) is str and value in dtypes.BY_NAME:
        return dtypes.BY_NAME[value]
    if tag == "device" and type(value) is str and _DEVICE.fullmatch(value):
        try:
            return device(value)
        except (ValueError, TypeError) as exc:
            raise _bad(f"the device {describe(value)} is invalid ({exc})") from None
    raise _bad(f"the node {describe(tag)} with value {describe(value)} is not one ember writes")
