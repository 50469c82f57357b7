"""Damaged and hostile checkpoints: a truncation at every byte, every bit flip in the header, byte changes
anywhere, and crafted headers all raise `CheckpointError` naming the file in a printable message, and a
damaged file never loads as a different object."""
import copy
import io
import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from ember.serialization import CheckpointError

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def small_checkpoint(device):
    return {"w": ember.arange(6.0, device=device).reshape(2, 3), "b": ember.ones(2, dtype=ember.float16, device=device),
            "step": 3, "flags": [True, None], "opt": {0: {"lr": 0.5}}, "ids": ember.tensor([7, 9], device=device)}


def saved_bytes(obj) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


def header_length(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def load_outcome(path, device):
    """The bytes the loaded object saves to, or None when loading raised a well-formed CheckpointError."""
    try:
        loaded = ember.load(path, map_location=device)
    except CheckpointError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert message.isprintable(), message
        return None
    return saved_bytes(loaded)


@pytest.fixture
def good(device, tmp_path):
    """(path, bytes) of a small valid checkpoint; tests overwrite the file with damaged versions."""
    data = saved_bytes(small_checkpoint(device))
    path = tmp_path / "damaged.ckpt"
    path.write_bytes(data)
    assert load_outcome(path, device) == data
    return path, data


def test_truncation_at_every_byte_raises_checkpoint_error(good, device):
    path, data = good
    for size in range(len(data)):
        path.write_bytes(data[:size])
        assert load_outcome(path, device) is None, size


def test_every_bit_flip_in_the_header_is_an_error_or_harmless(good, device):
    path, data = good
    with open(path, "r+b") as fh:
        for position in range(8 + header_length(data)):
            for bit in range(8):
                fh.seek(position)
                fh.write(bytes([data[position] ^ (1 << bit)]))
                fh.flush()
                assert load_outcome(path, device) in (None, data), (position, bit)
            fh.seek(position)
            fh.write(data[position:position + 1])


@FUZZ
@given(change=st.data())
def test_a_changed_byte_anywhere_is_an_error_or_harmless(good, device, change):
    path, data = good
    position = change.draw(st.integers(0, len(data) - 1), label="position")
    value = change.draw(st.integers(0, 255).filter(lambda v: v != data[position]), label="value")
    path.write_bytes(data[:position] + bytes([value]) + data[position + 1:])
    assert load_outcome(path, device) in (None, data)


@FUZZ
@given(change=st.data())
def test_every_changed_byte_in_tensor_data_is_detected(good, device, change):
    path, data = good
    position = change.draw(st.integers(8 + header_length(data), len(data) - 1), label="position")
    flip = change.draw(st.integers(1, 255), label="xor")
    path.write_bytes(data[:position] + bytes([data[position] ^ flip]) + data[position + 1:])
    assert load_outcome(path, device) is None


# ---- crafted headers -------------------------------------------------------------------------------
def parts(data: bytes):
    """(header, structure, tensor bytes) of an ember file, for crafting: the header without ember's checksums,
    as a format version 1 file (from before checksums) has it, so that every check past them is reached."""
    n = header_length(data)
    header = json.loads(data[8:8 + n])
    for key in ("ember.header_sha256", "ember.tensor_sha256"):
        del header["__metadata__"][key]
    header["__metadata__"]["ember.version"] = "1"
    return header, json.loads(header["__metadata__"]["ember.structure"]), data[8 + n:]


def assemble(header: dict, structure: dict | None, payload: bytes) -> bytes:
    if structure is not None:
        header["__metadata__"]["ember.structure"] = json.dumps(structure)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


def craft(edit):
    """A crafter: `edit(header, structure)` on a copy of the checkpoint's parts, reassembled."""
    def make(data):
        header, structure, payload = parts(data)
        original = copy.deepcopy(structure)
        edit(header, structure)
        return assemble(header, None if structure == original else structure, payload)
    return make


def raw_header(text: bytes):
    """A crafter whose header is the literal `text` (for JSON that json.dumps cannot write)."""
    return lambda data: struct.pack("<Q", len(text)) + text + parts(data)[2]


def setter(*path_and_value):
    *path, value = path_and_value

    def edit(header, structure):
        node = structure if path[0] == "structure" else header
        for key in path[1 if path[0] == "structure" else 0:-1]:
            node = node[key]
        node[path[-1]] = value
    return craft(edit)


def with_checksums(edit_metadata):
    """A crafter that keeps ember's checksums and then edits the metadata (so they no longer match)."""
    def make(data):
        n = header_length(data)
        header = json.loads(data[8:8 + n])
        edit_metadata(header["__metadata__"])
        return assemble(header, None, data[8 + n:])
    return make


NESTED = "[" * 100_000 + "]" * 100_000
CRAFTED = {
    "dtype is a number": setter("w", "dtype", 7),
    "dtype is null": setter("w", "dtype", None),
    "dtype is unknown": setter("w", "dtype", "F33"),
    "dtype holds escape codes": setter("w", "dtype", "\x1b[31mF32\x07"),
    "shape is a string": setter("w", "shape", "2x3"),
    "shape is negative": setter("w", "shape", [-2, -3]),
    "shape holds a float": setter("w", "shape", [2.0, 3]),
    "shape holds a bool": setter("w", "shape", [True, 6]),
    "shape has 40 dims": setter("w", "shape", [1] * 40),
    "shape disagrees with offsets": setter("w", "shape", [3, 3]),
    "offsets are 1e400": raw_header(b'{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,1e400]}}'),
    "offsets are huge": setter("w", "data_offsets", [2 ** 70, 2 ** 70 + 24]),
    "offsets are reversed": setter("w", "data_offsets", [24, 0]),
    "offsets have three items": setter("w", "data_offsets", [0, 12, 24]),
    "offsets are a string": setter("w", "data_offsets", "0-24"),
    "tensors overlap": craft(lambda h, s: h["b"].update(data_offsets=[h["w"]["data_offsets"][0],
                                                                      h["w"]["data_offsets"][0] + 4])),
    "entry has an extra field": setter("w", "extra", 1),
    "entry is a list": setter("w", [1, 2]),
    "header is a list": raw_header(b'[{"dtype":"F32"}]'),
    "metadata value is a number": setter("__metadata__", "format", 1),
    "metadata is a list": setter("__metadata__", ["format", "ember"]),
    "header nested deeply": raw_header(b'{"deep":' + NESTED.encode() + b"}"),
    "duplicate tensor name": raw_header(b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                        b'"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
    "NaN in the header": raw_header(b'{"w":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}'),
    "header is not UTF-8": raw_header(b'{"\xff\xfe":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
    "header is not JSON": raw_header(b"\x1b]0;title\x07 not json"),
    "header length is 2**63": lambda data: struct.pack("<Q", 2 ** 63) + data[8:],
    "header length past the end": lambda data: struct.pack("<Q", len(data)) + data[8:],
    "data has trailing bytes": lambda data: data + b"\0" * 8,
    "format version is 3": setter("__metadata__", "ember.version", "3"),
    "version 2 without checksums": setter("__metadata__", "ember.version", "2"),
    "structure is not JSON": setter("__metadata__", "ember.structure", "{"),
    "structure nested deeply": setter("__metadata__", "ember.structure", '{"root":' + NESTED + ',"tensors":[]}'),
    "structure holds Infinity": setter("__metadata__", "ember.structure", '{"root":Infinity,"tensors":[]}'),
    "structure is a list": setter("__metadata__", "ember.structure", "[]"),
    "device is a number": setter("structure", "tensors", 0, "device", 5),
    "device is null": setter("structure", "tensors", 0, "device", None),
    "device has a bad index": setter("structure", "tensors", 0, "device", "cuda:x"),
    "device holds escape codes": setter("structure", "tensors", 0, "device", "\x1b]0;evil\x07"),
    "device is cpu:3": setter("structure", "tensors", 0, "device", "cpu:3"),
    "device is long": setter("structure", "tensors", 0, "device", "x" * 10_000),
    "requires_grad is a string": setter("structure", "tensors", 0, "requires_grad", "yes"),
    "requires_grad on an int tensor": setter("structure", "tensors", 2, "requires_grad", True),
    "record names a missing tensor": setter("structure", "tensors", 0, "name", "nope\x1b"),
    "record misses a field": craft(lambda h, s: s["tensors"][0].pop("parameter")),
    "tensor index is negative": setter("structure", "root", {"tensor": -1}),
    "tensor index is a bool": setter("structure", "root", {"tensor": True}),
    "tensor index is a float": setter("structure", "root", {"tensor": 0.0}),
    "dict key is a list": setter("structure", "root", {"dict": [[[1], 2]]}),
    "dict key repeats": setter("structure", "root", {"dict": [["a", 1], ["a", 2]]}),
    "size holds a string": setter("structure", "root", {"size": ["2"]}),
    "dtype tag is unknown": setter("structure", "root", {"dtype": "float128"}),
    "float tag is a number": setter("structure", "root", {"float": 1}),
    "node has two tags": setter("structure", "root", {"tuple": [], "dict": []}),
    "tensor checksums are not JSON": with_checksums(lambda m: m.update({"ember.tensor_sha256": "{"})),
    "header checksum is wrong": with_checksums(lambda m: m.update({"ember.header_sha256": "0" * 64})),
    "structure changed under its checksum": with_checksums(lambda m: m.update({"ember.structure": m[
        "ember.structure"].replace('"step",3', '"step",4')})),
}


@pytest.mark.parametrize("make", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_header_raises_checkpoint_error_naming_the_file(good, device, make):
    path, data = good
    path.write_bytes(make(data))
    assert load_outcome(path, device) is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)


def json_paths(node, prefix=()):
    """Every path to a value inside `node` (dict keys and list indices)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from json_paths(value, prefix + (key,))


@FUZZ
@given(change=st.data())
def test_any_header_or_structure_value_replaced_loads_or_raises_checkpoint_error(good, device, change):
    path, data = good
    header, structure, payload = parts(data)
    target = change.draw(st.sampled_from(["header", "structure"]), label="target")
    tree = header if target == "header" else structure
    where = change.draw(st.sampled_from(sorted(json_paths(tree), key=repr)), label="where")
    node = tree
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = change.draw(JSON_VALUES, label="value")
    path.write_bytes(assemble(header, structure if target == "structure" else None, payload))
    load_outcome(path, device)


def test_crafted_parts_reassemble_to_a_loadable_file(good, device):
    path, data = good
    path.write_bytes(assemble(*parts(data)))
    assert load_outcome(path, device) == data
