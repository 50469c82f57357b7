"""The safetensors layout, written and read by ember itself: every header field is checked before any
tensor data is read, and ember's own files carry SHA-256 checksums that `load` verifies.

A file is an 8-byte little-endian header length N, then N bytes of UTF-8 JSON (padded with spaces so that
the data starts 8-byte aligned), then the tensors' raw little-endian bytes. The header maps each tensor's
name to ``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`` (offsets into the data
section; together the tensors fill it exactly, without overlap) and ``"__metadata__"`` to a str -> str dict.

ember adds two metadata entries. ``"ember.tensor_sha256"``: a JSON object mapping every tensor name to
the SHA-256 of its bytes. ``"ember.header_sha256"``: the SHA-256 of the header's canonical form, i.e. the
header without this entry, written by Python's ``json.dumps(header, sort_keys=True, separators=(",", ":"))``
(ASCII escapes). Both are verified on load when present, so a damaged file is an error rather than
different weights; files from other safetensors writers have neither and load unverified.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np

from .errors import CheckpointError, describe, escape
from .source import Source

METADATA = "__metadata__"
TENSOR_SHA256, HEADER_SHA256 = "ember.tensor_sha256", "ember.header_sha256"
# The header size the safetensors package itself accepts; more is corruption, not a checkpoint.
MAX_HEADER_BYTES = 100_000_000
MAX_DIMS = 32  # numpy's limit before numpy 2
DTYPES = {"BOOL": np.dtype("bool"), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "I16": np.dtype("<i2"),
          "I32": np.dtype("<i4"), "I64": np.dtype("<i8"), "F16": np.dtype("<f2"), "F32": np.dtype("<f4"),
          "F64": np.dtype("<f8")}
_ENTRY_FIELDS = {"dtype", "shape", "data_offsets"}
_ALIGN = 8
_PLACEHOLDER_SHA256 = "0" * 64


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(array.reshape(-1).view(np.uint8)).hexdigest()


def canonical_sha256(header: dict) -> str:
    """The SHA-256 of `header`'s canonical form (without its own ``ember.header_sha256`` entry)."""
    metadata = {k: v for k, v in header.get(METADATA, {}).items() if k != HEADER_SHA256}
    canonical = {**header, METADATA: metadata}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# ---- writing ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TensorToWrite:
    """One tensor of a file being written; `host()` gives its values as a host numpy array when its
    bytes are due, so that only one tensor at a time is ever copied to the host."""

    name: str
    dtype: str  # a key of DTYPES
    shape: tuple[int, ...]
    host: Callable[[], np.ndarray]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * DTYPES[self.dtype].itemsize


def write(fh: BinaryIO, tensors: list[TensorToWrite], metadata: dict[str, str]) -> None:
    """Write `tensors` and `metadata` (plus ember's checksums) to `fh` in the safetensors layout.

    The data is streamed tensor by tensor. The checksums belong in the header, before the data, and have a
    fixed length: a seekable `fh` gets a placeholder header, the data, then the real header over the
    placeholder (one pass over the data); any other `fh` gets a hashing pass first, then the file.
    """
    # Widest dtypes first: with an 8-aligned data start every tensor is then aligned to its itemsize.
    layout = sorted(tensors, key=lambda t: -DTYPES[t.dtype].itemsize)
    offsets, end = {}, 0
    for t in layout:
        offsets[t.name] = (end, end + t.nbytes)
        end += t.nbytes
    if not _rewritable(fh):
        sums = {t.name: hashlib.sha256(_little_endian_bytes(t)).hexdigest() for t in layout}
        _write_all(fh, _header_bytes(tensors, offsets, metadata, sums))
        for t in layout:
            _write_all(fh, _little_endian_bytes(t))
        return
    start = fh.tell()
    _write_all(fh, _header_bytes(tensors, offsets, metadata, dict.fromkeys(offsets, _PLACEHOLDER_SHA256)))
    sums = {}
    for t in layout:
        data = _little_endian_bytes(t)
        _write_all(fh, data)
        sums[t.name] = hashlib.sha256(data).hexdigest()
    stop = fh.tell()
    fh.seek(start)
    _write_all(fh, _header_bytes(tensors, offsets, metadata, sums))
    fh.seek(stop)


def _rewritable(fh) -> bool:
    """True when `fh` can seek back to overwrite the header: seekable, and not opened for appending."""
    seekable = getattr(fh, "seekable", None)
    return callable(seekable) and seekable() and "a" not in str(getattr(fh, "mode", ""))


def _header_bytes(tensors: list[TensorToWrite], offsets: dict, metadata: dict[str, str], sums: dict[str, str]) -> bytes:
    """The length prefix and the padded JSON header, checksums included (ASCII: its length depends on the
    checksums' values not at all, so the real header exactly covers a placeholder's bytes)."""
    header = {METADATA: {**metadata, TENSOR_SHA256: json.dumps(sums, separators=(",", ":"))}}
    for t in tensors:
        header[t.name] = {"dtype": t.dtype, "shape": list(t.shape), "data_offsets": list(offsets[t.name])}
    header[METADATA][HEADER_SHA256] = canonical_sha256(header)
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    text += b" " * (-len(text) % _ALIGN)
    return struct.pack("<Q", len(text)) + text


def _little_endian_bytes(t: TensorToWrite) -> np.ndarray:
    """The bytes of `t` as the file holds them (a copy only when the host array is not already so laid out)."""
    return np.ascontiguousarray(t.host(), dtype=DTYPES[t.dtype]).reshape(-1).view(np.uint8)


def _write_all(fh, data) -> None:
    """`fh.write` until everything is written (a raw file may take part of a large buffer at a time)."""
    view = memoryview(data)
    while view:
        n = fh.write(view)
        if n is None or n >= len(view):
            return
        view = view[n:]


# ---- reading ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One tensor of a validated header: its numpy dtype (little-endian), shape and place in the data."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclasses.dataclass(frozen=True)
class Header:
    """A validated header: the tensors in header order, the metadata, and where the data starts."""

    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]
    data_start: int


def read_header(source: Source, prefix: bytes, verify: bool) -> Header:
    """Read and validate the header that follows the 8-byte `prefix` already read from `source`.

    Checked: the length prefix against `MAX_HEADER_BYTES` and the file size, UTF-8 JSON without duplicate
    keys, every field's type, the dtypes, the shapes against the byte ranges, the ranges filling the data
    section exactly (no gap, no overlap, nothing after it) and, with `verify`, ``ember.header_sha256``.
    """
    name = source.name
    if len(prefix) < 8:
        raise CheckpointError(f"ember.load: {name} is truncated or not a checkpoint: it holds only {len(prefix)} "
                              f"bytes, fewer than the 8-byte safetensors header length")
    (n,) = struct.unpack("<Q", prefix)
    if n > MAX_HEADER_BYTES or 8 + n > source.size:
        limit = "more than the 100 MB a safetensors header may have" if n > MAX_HEADER_BYTES else \
            f"but the file holds {source.size} bytes"
        raise CheckpointError(f"ember.load: {name} is truncated or not a safetensors/ember checkpoint: its first "
                              f"8 bytes announce a {n}-byte header, {limit}")
    header = _parse_json(source.read(n, "the header"), name)
    metadata = _metadata(header, name)
    tensors = {key: _tensor_info(key, value, name) for key, value in header.items() if key != METADATA}
    data_start = 8 + n
    _check_layout(tensors, source.size - data_start, data_start, name)
    if verify and HEADER_SHA256 in metadata and canonical_sha256(header) != metadata[HEADER_SHA256]:
        raise CheckpointError(f"ember.load: {name} is corrupted: its header does not match the checksum saved "
                              f"with it (ember.header_sha256)")
    return Header(tensors, metadata, data_start)


def _bad_header(name: str, problem: str) -> CheckpointError:
    return CheckpointError(f"ember.load: {name} is corrupted or not a safetensors/ember checkpoint: its header "
                           f"is not valid safetensors JSON ({problem})")


def _unique_keys(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {describe(duplicate)} appears twice in one object")
    return out


def _no_constant(token: str):
    raise ValueError(f"{token} is not a JSON value")


def parse_json(text: str | bytes) -> object:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity. Raises ValueError or RecursionError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def _parse_json(raw: bytes, name: str) -> dict:
    try:
        header = parse_json(raw)
    except UnicodeDecodeError as exc:
        raise _bad_header(name, f"not UTF-8 at byte {8 + exc.start}") from None
    except ValueError as exc:  # json's messages hold no text from the file; ours escape it
        raise _bad_header(name, str(exc)) from None
    except RecursionError:
        raise _bad_header(name, "nested too deeply") from None
    if type(header) is not dict:
        raise _bad_header(name, f"the header is {describe(header)}, not a JSON object")
    return header


def _metadata(header: dict, name: str) -> dict[str, str]:
    metadata = header.get(METADATA)
    if metadata is None:  # the safetensors package reads a null __metadata__ as absent
        return {}
    if type(metadata) is not dict:
        raise _bad_header(name, f"__metadata__ is {describe(metadata)}, not an object of strings")
    for key, value in metadata.items():
        if type(value) is not str:
            raise _bad_header(name, f"__metadata__ entry {describe(key)} is {describe(value)}, not a string")
    return metadata


def _is_index(value) -> bool:
    return type(value) is int and value >= 0


def _tensor_info(key: str, entry, name: str) -> TensorInfo:
    where = f"tensor {describe(key)}"
    if type(entry) is not dict:
        raise _bad_header(name, f"{where} is {describe(entry)}, not an object")
    if set(entry) != _ENTRY_FIELDS:
        raise _bad_header(name, f"{where} has the fields {describe(list(entry))}; expected 'dtype', 'shape' and "
                                f"'data_offsets'")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if type(code) is not str:
        raise _bad_header(name, f"{where} has the dtype {describe(code)}, not a string such as 'F32'")
    if code not in DTYPES:
        raise CheckpointError(f"ember.load: {name} holds tensors of dtype {escape(code)} (e.g. "
                              f"{describe(key)}), which ember does not support (supported: {', '.join(DTYPES)}); "
                              f"convert them, e.g. to float32, before saving")
    if type(shape) is not list or len(shape) > MAX_DIMS or not all(_is_index(s) for s in shape):
        raise _bad_header(name, f"{where} has the shape {describe(shape)}; expected a list of at most {MAX_DIMS} "
                                f"non-negative integers")
    if type(offsets) is not list or len(offsets) != 2 or not all(_is_index(o) for o in offsets) \
            or offsets[0] > offsets[1]:
        raise _bad_header(name, f"{where} has the data_offsets {describe(offsets)}; expected [begin, end], "
                                f"integers with 0 <= begin <= end")
    dtype = DTYPES[code]
    nbytes = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise CheckpointError(f"ember.load: {name} is corrupted: {where} of dtype {code} and shape {shape} needs "
                              f"{nbytes} bytes, but its data_offsets {offsets} span {offsets[1] - offsets[0]}")
    return TensorInfo(key, dtype, tuple(shape), offsets[0], offsets[1])


def _check_layout(tensors: dict[str, TensorInfo], data_size: int, data_start: int, name: str) -> None:
    """The tensors' byte ranges must tile the data section: from 0, no gap, no overlap, to its end."""
    end = 0
    for info in sorted(tensors.values(), key=lambda i: (i.begin, i.end)):
        if info.begin != end:
            problem = "overlaps the tensor before it" if info.begin < end else f"leaves a gap at data byte {end}"
            raise CheckpointError(f"ember.load: {name} is not a valid safetensors file: tensor {describe(info.name)} "
                                  f"(data bytes {info.begin}-{info.end}) {problem}")
        end = info.end
    if end > data_size:
        raise CheckpointError(f"ember.load: {name} is truncated: its tensor data should end at byte "
                              f"{data_start + end} but the file holds {data_start + data_size} bytes")
    if end < data_size:
        raise CheckpointError(f"ember.load: {name} is not a valid safetensors file: {data_size - end} bytes follow "
                              f"the end of its tensor data (byte {data_start + end})")


def tensor_checksums(header: Header, name: str) -> dict[str, str] | None:
    """The saved SHA-256 of each tensor (None for files without ``ember.tensor_sha256``)."""
    text = header.metadata.get(TENSOR_SHA256)
    if text is None:
        return None
    try:
        sums = parse_json(text)
    except (ValueError, RecursionError):
        sums = None
    if type(sums) is not dict or set(sums) != set(header.tensors) or \
            not all(type(v) is str for v in sums.values()):
        raise CheckpointError(f"ember.load: {name} is corrupted: its tensor checksums (ember.tensor_sha256) are "
                              f"not a string for each of its tensors")
    return sums


def read_arrays(source: Source, header: Header, mmap: bool, verify: bool) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(name, host array)`` for each tensor in file order, read one at a time (or, with `mmap`, views
    of a copy-on-write map of the file), each checked against its saved checksum when `verify`."""
    sums = tensor_checksums(header, source.name) if verify else None
    ordered = sorted(header.tensors.values(), key=lambda i: (i.begin, i.end))
    mapped = source.mapped() if mmap and ordered else None
    for info in ordered:
        if mapped is not None:
            start = header.data_start + info.begin
            array = mapped[start:header.data_start + info.end].view(info.dtype).reshape(info.shape)
        else:
            array = np.empty(info.shape, info.dtype)
            source.readinto(array, f"tensor {describe(info.name)}")
        if sums is not None and _sha256(array) != sums[info.name]:
            raise CheckpointError(f"ember.load: {source.name} is corrupted: the bytes of tensor "
                                  f"{describe(info.name)} do not match the checksum saved with them")
        yield info.name, array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))
