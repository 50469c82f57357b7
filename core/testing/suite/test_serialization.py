"""ember.save / ember.load: safe round trips of every supported type, sharing, Parameters, module and
optimizer state, the weights_only refusal, map_location, mmap, checksums, peak memory, atomic writes, clear
errors for bad files, file-like objects, and interop with the safetensors package and PyTorch."""
import collections
import io
import json
import math
import os
import pickle
import struct
import sys

import numpy as np
import pytest

import ember
import ember.nn
import ember.optim
from ember.serialization import CheckpointError

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


def assert_same(a, b):
    """Equal values of exactly the same types, dict key order and key types included."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, ember.Tensor):
        assert (a.dtype, a.shape, a.device, a.requires_grad) == (b.dtype, b.shape, b.device, b.requires_grad)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, dict):
        assert [(type(k), k) for k in a] == [(type(k), k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def header_of(data: bytes) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])


def saved_bytes(obj) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


def edited(data: bytes, edit) -> bytes:
    """`data` (an ember safe file) re-written by the safetensors package after `edit(metadata)`, as a format
    version 1 file (ember's format before checksums, still read unverified)."""
    metadata = header_of(data)["__metadata__"]
    del metadata["ember.header_sha256"], metadata["ember.tensor_sha256"]
    metadata["ember.version"] = "1"
    edit(metadata)
    return safetensors_numpy.save(safetensors_numpy.load(data), metadata=metadata)


VALUE_CASES = {
    "none": None, "true": True, "false": False, "zero": 0, "negative int": -7, "big int": 2 ** 70,
    "float": 1.25, "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "empty str": "", "unicode": "ünï ✓",
    "empty list": [], "empty tuple": (), "empty dict": {}, "empty ordered dict": collections.OrderedDict(),
    "nested": {"a": [1, (2.0, "x", None), {"b": [[], ()]}], "c": (True, [False])},
    "int keys": {0: "zero", 5: {1: [2]}, -1: None},
    "mixed keys keep order": {"z": 1, 3: 2, "a": 3, 1: 4},
    "ordered dict order": collections.OrderedDict([("z", 1), ("a", 2), ("m", 3)]),
    "bool and int stay apart": [True, 1, 1.0, False, 0, 0.0],
    "dtype, device and Size": [ember.float16, ember.int64, ember.bool, ember.device("cpu"), ember.Size([2, 0, 3])],
}


@pytest.mark.no_device
@pytest.mark.parametrize("value", VALUE_CASES.values(), ids=VALUE_CASES.keys())
def test_non_tensor_values_round_trip_with_their_exact_types(value):
    assert_same(roundtrip(value), value)


@pytest.mark.parametrize("dtype", [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
                                   ember.float16, ember.float32, ember.float64], ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (5,), (2, 3, 4)], ids=str)
def test_tensors_round_trip_dtype_shape_and_values(device, dtype, shape):
    rng = np.random.default_rng(0)
    t = ember.tensor((rng.standard_normal(shape) * 50).astype(dtype.name), device=device)
    out = roundtrip(t)
    assert_same(out, t)
    out.fill_(0)  # loaded tensors own writable memory
    assert not out.any()


def test_non_contiguous_tensor_round_trips(device):
    base = ember.arange(24.0, device=device).reshape(4, 6)
    for view in (base.t(), base[:, 1], base[::2, ::3]):
        assert_same(roundtrip(view), view)


def test_requires_grad_flag_round_trips_and_loaded_tensors_are_leaves(device):
    w = ember.randn(3, 2, device=device, requires_grad=True)
    nonleaf = w * 2
    out = roundtrip({"w": w, "nonleaf": nonleaf, "plain": w.detach()})
    assert out["w"].requires_grad and out["w"].is_leaf
    assert out["nonleaf"].requires_grad and out["nonleaf"].is_leaf
    assert not out["plain"].requires_grad


def test_same_tensor_object_is_stored_once_and_restored_as_one_object(device):
    t = ember.randn(4, device=device)
    obj = {"a": t, "b": [t, (t,)]}
    data = saved_bytes(obj)
    assert len([k for k in header_of(data) if k != "__metadata__"]) == 1
    out = ember.load(io.BytesIO(data))
    assert out["a"] is out["b"][0] is out["b"][1][0]


def test_tensors_sharing_an_array_stay_shared_after_load(device):
    weight = ember.randn(3, 3, device=device)
    tied = {"encoder.weight": weight, "decoder.weight": weight.detach(), "other": weight.clone()}
    data = saved_bytes(tied)
    assert len([k for k in header_of(data) if k != "__metadata__"]) == 2
    out = ember.load(io.BytesIO(data))
    assert out["encoder.weight"] is not out["decoder.weight"]
    out["encoder.weight"].mul_(0)
    assert out["decoder.weight"].abs().sum().item() == 0
    assert out["other"].abs().sum().item() > 0


def test_flat_state_dict_keeps_its_names_for_any_safetensors_reader(device):
    sd = {"fc.weight": ember.randn(2, 3, device=device), "fc.bias": ember.zeros(2, device=device)}
    arrays = safetensors_numpy.load(saved_bytes(sd))
    assert sorted(arrays) == ["fc.bias", "fc.weight"]
    np.testing.assert_array_equal(arrays["fc.weight"], sd["fc.weight"].cpu().numpy())


def test_nested_tensors_are_named_by_path_and_a_metadata_key_cannot_clash(device):
    obj = {"model": {"fc.weight": ember.ones(1, device=device)}, "__metadata__": ember.zeros(1, device=device)}
    names = {k for k in header_of(saved_bytes(obj)) if k != "__metadata__"}
    assert "model.fc.weight" in names and len(names) == 2
    assert_same(roundtrip(obj), obj)


def test_parameter_loads_as_parameter_with_its_requires_grad(device):
    Parameter = ember.nn.Parameter
    p = Parameter(ember.randn(2, 2, device=device))
    frozen = Parameter(ember.randn(2, device=device), requires_grad=False)
    out = roundtrip({"p": p, "frozen": frozen})
    assert type(out["p"]) is Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is Parameter and not out["frozen"].requires_grad
    np.testing.assert_array_equal(out["p"].detach().numpy(), p.detach().numpy())


def small_model():
    nn = ember.nn
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3 * 2 * 2, 4))


def train_steps(model, opt, x, y, n):
    for _ in range(n):
        opt.zero_grad()
        ember.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("make_optimizer", [
    lambda params: ember.optim.Adam(params, lr=0.01),
    lambda params: ember.optim.SGD(params, lr=0.1, momentum=0.9),
], ids=["Adam", "SGD-momentum"])
def test_module_and_optimizer_state_round_trip_continue_training_identically(device, tmp_path, make_optimizer):
    ember.manual_seed(0)
    x, y = ember.randn(6, 1, 4, 4, device=device), ember.tensor([0, 1, 2, 3, 0, 1], device=device)
    model = small_model().to(device)
    opt = make_optimizer(model.parameters())
    train_steps(model, opt, x, y, 3)
    path = tmp_path / "ckpt.safetensors"
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)

    ckpt = ember.load(path)
    assert ckpt["epoch"] == 3
    assert_same(ckpt["optimizer"], opt.state_dict())
    assert all(type(k) is int for k in ckpt["optimizer"]["state"])
    resumed = small_model().to(device)
    resumed.load_state_dict(ckpt["model"])
    resumed_opt = make_optimizer(resumed.parameters())
    resumed_opt.load_state_dict(ckpt["optimizer"])
    train_steps(model, opt, x, y, 3)
    train_steps(resumed, resumed_opt, x, y, 3)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy(), err_msg=name)


# ---- pickled objects and weights_only --------------------------------------------------------------
class Custom:
    def __init__(self, t):
        self.t = t


_ran = []


def record_run(message):
    _ran.append(message)


class RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (record_run, ("unpickled!",))


@pytest.mark.parametrize("obj, culprit", [
    (Custom(None), f"is a {Custom.__module__}.Custom"),
    ({"acc": np.float64(0.5)}, "obj['acc'] is a numpy.float64"),
    ({(1, 2): "tuple key"}, "has a key of type tuple"),
    (collections.defaultdict(list), "is a collections.defaultdict"),
], ids=["custom class", "numpy scalar", "tuple key", "dict subclass"])
def test_weights_only_refuses_pickled_objects_and_names_why(obj, culprit):
    with pytest.raises(pickle.UnpicklingError) as info:
        roundtrip(obj)
    message = str(info.value)
    assert culprit in message and "weights_only=False" in message and "arbitrary code" in message


def test_weights_only_never_runs_pickled_code():
    data = saved_bytes({"payload": RunsCodeWhenUnpickled()})
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(data))
    assert _ran == []
    ember.load(io.BytesIO(data), weights_only=False)
    assert _ran == ["unpickled!"]
    _ran.clear()


def test_weights_only_false_unpickles_objects_holding_tensors(device):
    t = ember.randn(3, device=device, requires_grad=True)
    out = roundtrip({"obj": Custom(t), "again": t}, weights_only=False)
    assert type(out["obj"]) is Custom and out["obj"].t is out["again"]
    assert out["obj"].t.requires_grad and out["obj"].t.device == device
    np.testing.assert_array_equal(out["again"].detach().numpy(), t.detach().numpy())


def test_self_referencing_list_is_pickled_and_restored_with_weights_only_false():
    cycle = [1]
    cycle.append(cycle)
    with pytest.raises(pickle.UnpicklingError, match="contains itself"):
        roundtrip(cycle)
    out = roundtrip(cycle, weights_only=False)
    assert out[1] is out


def test_whole_module_pickles_and_computes_the_same_after_load(device):
    ember.manual_seed(0)
    model = small_model().to(device)
    loaded = roundtrip(model, weights_only=False)
    assert type(loaded) is type(model)
    assert type(loaded[0].weight) is ember.nn.Parameter
    x = ember.randn(2, 1, 4, 4, device=device)
    np.testing.assert_array_equal(loaded(x).detach().cpu().numpy(), model(x).detach().cpu().numpy())


def test_safe_file_loads_the_same_with_weights_only_false(device):
    obj = {"t": ember.ones(2, device=device), "n": 1}
    assert_same(roundtrip(obj, weights_only=False), obj)


# ---- map_location ----------------------------------------------------------------------------------
def relocated(data: bytes, location: str) -> bytes:
    """`data` (an ember safe file) with every tensor's saved location rewritten to `location`."""
    def relocate(metadata):
        structure = json.loads(metadata["ember.structure"])
        for record in structure["tensors"]:
            record["device"] = location
        metadata["ember.structure"] = json.dumps(structure)
    return edited(data, relocate)


def cpu_only():
    try:
        ember.device("cuda:0").backend
    except RuntimeError:
        return True
    return False


@pytest.mark.no_device
@pytest.mark.parametrize("map_location", ["cpu", ember.device("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"},
                                          lambda t, loc: t, lambda t, loc: None],
                         ids=["str", "device", "identity dict", "unrelated dict", "callable", "callable None"])
def test_map_location_forms_put_tensors_on_cpu(map_location):
    t = ember.randn(2, 3, device="cpu", requires_grad=True)
    out = roundtrip({"t": t, "same": t}, map_location=map_location)
    assert out["t"].device == ember.device("cpu") and out["t"].requires_grad and out["same"] is out["t"]
    np.testing.assert_array_equal(out["t"].detach().numpy(), t.detach().numpy())


@pytest.mark.no_device
def test_map_location_dict_and_callable_remap_a_saved_cuda_location_to_cpu():
    data = relocated(saved_bytes({"w": ember.ones(2, device="cpu"), "b": ember.zeros(1, device="cpu")}), "cuda:0")
    assert ember.load(io.BytesIO(data), map_location={"cuda:0": "cpu"})["w"].device == ember.device("cpu")
    assert ember.load(io.BytesIO(data), map_location={ember.device("cuda:0"): ember.device("cpu")})["b"].device \
        == ember.device("cpu")
    seen = []
    out = ember.load(io.BytesIO(data), map_location=lambda t, loc: seen.append((loc, t.device)) or t)
    assert seen == [("cuda:0", ember.device("cpu"))] * 2 and out["w"].device == ember.device("cpu")
    assert ember.load(io.BytesIO(data), map_location="cpu")["w"].device == ember.device("cpu")


@pytest.mark.no_device
@pytest.mark.skipif(not cpu_only(), reason="a CUDA backend is available here")
def test_loading_onto_an_unavailable_device_says_to_pass_map_location():
    data = relocated(saved_bytes({"w": ember.ones(2, device="cpu")}), "cuda:0")
    with pytest.raises(RuntimeError, match="cuda:0.*map_location='cpu'"):
        ember.load(io.BytesIO(data))


@pytest.mark.no_device
def test_map_location_applies_to_tensors_inside_pickled_objects():
    seen = []
    out = roundtrip(Custom(ember.ones(2, device="cpu")), weights_only=False,
                    map_location=lambda t, loc: seen.append(loc) or t)
    assert seen == ["cpu"] and out.t.device == ember.device("cpu")


@pytest.mark.no_device
@pytest.mark.parametrize("map_location, error", [(3.5, "map_location must be"), (lambda t, loc: "x", "must return")])
def test_bad_map_location_raises_type_error(map_location, error):
    with pytest.raises(TypeError, match=error):
        roundtrip({"t": ember.ones(1, device="cpu")}, map_location=map_location)


# ---- files: paths, atomic writes, file objects -----------------------------------------------------
@pytest.mark.no_device
def test_save_to_path_and_pathlike_and_open_file(tmp_path):
    obj = {"t": ember.arange(5, device="cpu"), "epoch": 2}
    ember.save(obj, str(tmp_path / "a.ckpt"))
    ember.save(obj, tmp_path / "b.ckpt")
    with open(tmp_path / "c.ckpt", "wb") as fh:
        ember.save(obj, fh)
    for name in "abc":
        assert_same(ember.load(tmp_path / f"{name}.ckpt"), obj)
        with open(tmp_path / f"{name}.ckpt", "rb") as fh:
            assert_same(ember.load(fh), obj)
    assert sorted(os.listdir(tmp_path)) == ["a.ckpt", "b.ckpt", "c.ckpt"]


@pytest.mark.no_device
def test_save_replaces_an_existing_checkpoint(tmp_path):
    path = tmp_path / "ckpt"
    ember.save({"v": 1}, path)
    ember.save({"v": 2}, path)
    assert ember.load(path) == {"v": 2}
    assert os.listdir(tmp_path) == ["ckpt"]


class FailingMidWrite:
    """A file whose write() puts half the bytes on disk and then fails, like a crash or a full disk."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, data):
        self.fh.write(data[:len(data) // 2])
        self.fh.flush()
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


@pytest.mark.no_device
@pytest.mark.parametrize("failure", ["write", "fsync", "interrupt"])
def test_a_failure_mid_save_leaves_the_previous_checkpoint_whole_and_no_temp_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "ckpt.safetensors"
    old = {"w": ember.arange(100.0, device="cpu"), "epoch": 1}
    ember.save(old, path)
    if failure == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda *a, **k: FailingMidWrite(real_fdopen(*a, **k)))
        expected = OSError
    else:
        def fail(fd):
            raise (OSError(5, "I/O error") if failure == "fsync" else KeyboardInterrupt())
        monkeypatch.setattr(os, "fsync", fail)
        expected = OSError if failure == "fsync" else KeyboardInterrupt
    with pytest.raises(expected):
        ember.save({"w": ember.zeros(100, device="cpu"), "epoch": 2}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert_same(ember.load(path), old)


@pytest.mark.no_device
def test_save_into_a_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.save({"v": 1}, tmp_path / "missing" / "ckpt")


@pytest.mark.no_device
def test_save_through_a_symlink_writes_its_target(tmp_path):
    target = tmp_path / "real.ckpt"
    ember.save({"v": 1}, target)
    (tmp_path / "link.ckpt").symlink_to(target)
    ember.save({"v": 2}, tmp_path / "link.ckpt")
    assert (tmp_path / "link.ckpt").is_symlink() and ember.load(target) == {"v": 2}


@pytest.mark.no_device
def test_bad_file_arguments_raise_type_errors(tmp_path):
    with pytest.raises(TypeError, match="binary file-like"):
        ember.save({"v": 1}, 42)
    with pytest.raises(TypeError, match="binary file-like"):
        ember.load(42)
    ember.save({"v": 1}, tmp_path / "ckpt")
    with open(tmp_path / "ckpt", encoding="latin-1") as text, pytest.raises(TypeError, match="binary mode"):
        ember.load(text)


class WriteOnly:
    """A file object that can only write (a pipe or socket): no seek, no tell."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)


@pytest.mark.no_device
def test_save_to_an_unseekable_file_object_writes_the_same_bytes():
    obj = {"w": ember.arange(10.0, device="cpu"), "i": ember.arange(3, device="cpu"), "n": 1}
    out = WriteOnly()
    ember.save(obj, out)
    assert b"".join(out.chunks) == saved_bytes(obj)


@pytest.mark.no_device
def test_save_and_load_start_at_the_file_objects_position():
    obj = {"w": ember.arange(10.0, device="cpu")}
    buf = io.BytesIO()
    buf.write(b"preamble")
    ember.save(obj, buf)
    assert buf.getvalue()[8:] == saved_bytes(obj)
    buf.seek(8)
    assert_same(ember.load(buf), obj)


@pytest.mark.no_device
def test_load_from_an_unseekable_file_object_says_to_buffer_it():
    class ReadOnly:
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def read(self, n=-1):
            return self.data.read(n)
    with pytest.raises(io.UnsupportedOperation, match=r"io\.BytesIO"):
        ember.load(ReadOnly(saved_bytes({"v": 1})))


# ---- mmap, checksums, memory -----------------------------------------------------------------------
@pytest.mark.no_device
def test_mmap_load_gives_writable_tensors_whose_writes_never_reach_the_file(tmp_path):
    path = tmp_path / "ckpt"
    obj = {"w": ember.arange(12.0, device="cpu").reshape(3, 4), "i": ember.tensor(5, device="cpu"),
           "e": ember.zeros(2, 0, device="cpu"), "h": ember.ones(3, dtype=ember.float16, device="cpu"), "n": 2}
    ember.save(obj, path)
    before = path.read_bytes()
    out = ember.load(path, mmap=True)
    assert_same(out, obj)
    out["w"].mul_(10)
    out["h"].fill_(0)
    assert out["w"][2, 3].item() == 110 and path.read_bytes() == before
    assert_same(ember.load(path, mmap=True), obj)


def test_mmap_load_with_map_location_puts_tensors_on_the_device(device, tmp_path):
    obj = {"w": ember.randn(3, 4, device="cpu"), "t": (ember.arange(3, device="cpu"),)}
    ember.save(obj, tmp_path / "ckpt")
    out = ember.load(tmp_path / "ckpt", map_location=device, mmap=True)
    assert out["w"].device == device and out["t"][0].device == device
    np.testing.assert_array_equal(out["w"].cpu().numpy(), obj["w"].numpy())


@pytest.mark.no_device
def test_mmap_needs_a_path():
    with pytest.raises(ValueError, match="file path in order to use the mmap argument"):
        ember.load(io.BytesIO(saved_bytes({"v": 1})), mmap=True)


@pytest.mark.no_device
def test_checksums_of_every_tensor_and_of_the_header_are_in_the_metadata():
    import hashlib

    data = saved_bytes({"a": ember.arange(5.0, device="cpu"), "b": {"c": ember.ones(2, 2, device="cpu")}})
    header = header_of(data)
    metadata = header["__metadata__"]
    start = 8 + struct.unpack("<Q", data[:8])[0]
    sums = json.loads(metadata["ember.tensor_sha256"])
    assert sorted(sums) == ["a", "b.c"]
    for name, digest in sums.items():
        begin, end = header[name]["data_offsets"]
        assert hashlib.sha256(data[start + begin:start + end]).hexdigest() == digest
    canonical = {**header, "__metadata__": {k: v for k, v in metadata.items() if k != "ember.header_sha256"}}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert hashlib.sha256(text.encode()).hexdigest() == metadata["ember.header_sha256"]


@pytest.mark.no_device
def test_format_version_1_files_from_before_checksums_still_load():
    obj = {"w": ember.arange(4.0, device="cpu"), "n": (1, 2)}
    assert_same(ember.load(io.BytesIO(edited(saved_bytes(obj), lambda metadata: None))), obj)


@pytest.mark.no_device
@pytest.mark.parametrize("mmap", [False, True], ids=["read", "mmap"])
def test_damaged_tensor_bytes_raise_checkpoint_error_unless_verify_is_false(tmp_path, mmap):
    path = tmp_path / "ckpt"
    ember.save({"w": ember.zeros(4, device="cpu")}, path)
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0x40
    path.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match="tensor 'w' do not match the checksum") as info:
        ember.load(path, mmap=mmap)
    assert str(path) in str(info.value)
    assert ember.load(path, mmap=mmap, verify=False)["w"][-1].item() == 2.0


@pytest.mark.no_device
def test_save_and_load_peak_memory_stays_near_the_state_dict_size(tmp_path):
    import tracemalloc

    rng = np.random.default_rng(0)
    state = {f"layer{i}.weight": ember.from_numpy(rng.standard_normal((256, 256), dtype=np.float32))
             for i in range(32)}
    size = 32 * 256 * 256 * 4
    path = tmp_path / "ckpt"
    ember.save({"warm": ember.ones(1, device="cpu")}, path)
    ember.load(path)
    tracemalloc.start()
    try:
        ember.save(state, path)
        save_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        loaded = ember.load(path)
        load_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert save_peak < 0.05 * size  # nothing but one header beyond the tensors themselves
    assert load_peak < 1.05 * size  # the loaded tensors, read in place
    assert len(loaded) == 32


# ---- bad files -------------------------------------------------------------------------------------
@pytest.mark.no_device
def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "nope.safetensors")


def _good():
    return saved_bytes({"w": ember.arange(64.0, device="cpu"), "b": ember.ones(3, device="cpu"), "n": 1})


def _with_structure(text):
    return edited(_good(), lambda metadata: metadata.update({"ember.structure": text}))


BAD_FILES = {
    "empty": (lambda: b"", "empty"),
    "three bytes": (lambda: _good()[:3], "truncated"),
    "cut in header": (lambda: _good()[:40], "truncated"),
    "cut in data": (lambda: _good()[:-10], "truncated"),
    "one byte short": (lambda: _good()[:-1], "truncated"),
    "trailing garbage": (lambda: _good() + b"junk", "not a valid safetensors"),
    "garbled header": (lambda: _good()[:8] + b"#" * 30 + _good()[38:], "header is not valid"),
    "text file": (lambda: b"epoch,loss\n1,0.5\n2,0.25\n", "not a safetensors/ember checkpoint"),
    "random bytes": (lambda: np.random.default_rng(0).bytes(256), "not a safetensors/ember checkpoint"),
    "torch zip": (lambda: b"PK\x03\x04" + bytes(60), "zip archive"),
    "corrupt structure json": (lambda: _with_structure("{not json"), "corrupted ember metadata"),
    "unknown node tag": (lambda: _with_structure('{"root":{"mystery":1},"tensors":[]}'), "corrupted ember metadata"),
    "bad tensor index": (lambda: _with_structure('{"root":{"tensor":7},"tensors":[]}'), "corrupted ember metadata"),
    "record names missing tensor": (
        lambda: _with_structure('{"root":{"tensor":0},"tensors":[{"name":"zz","device":"cpu",'
                                '"requires_grad":false,"parameter":false}]}'), "corrupted tensor record"),
    "newer format": (lambda: safetensors_numpy.save({}, metadata={"format": "ember", "ember.version": "99"}),
                     "format version '99'"),
    "unsupported dtype": (lambda: safetensors_numpy.save({"u": np.zeros(2, np.uint16)}), "dtype U16"),
    "truncated pickle container": (lambda: saved_bytes(Custom(1))[:-5], "truncated or corrupted ember pickle"),
}


@pytest.mark.no_device
@pytest.mark.parametrize("make, problem", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_raise_checkpoint_error_naming_path_and_problem(tmp_path, make, problem):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(make())
    with pytest.raises(CheckpointError) as info:
        ember.load(path, weights_only=False)
    assert str(path) in str(info.value) and problem in str(info.value)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.no_device
def test_save_and_load_need_no_safetensors_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    obj = {"t": ember.arange(3.0, device="cpu"), "n": 1}
    assert_same(roundtrip(obj), obj)


# ---- interop with plain safetensors files and PyTorch ----------------------------------------------
@pytest.mark.no_device
def test_plain_safetensors_file_loads_as_flat_dict_of_tensors(tmp_path):
    arrays = {"layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "layer.step": np.array(4)}
    safetensors_numpy.save_file(arrays, tmp_path / "plain.safetensors")
    out = ember.load(tmp_path / "plain.safetensors")
    assert type(out) is dict and sorted(out) == sorted(arrays)
    for key, arr in arrays.items():
        assert out[key].dtype.name == arr.dtype.name and not out[key].requires_grad
        np.testing.assert_array_equal(out[key].numpy(), arr)


@pytest.mark.no_device
def test_ember_files_read_with_the_safetensors_package(tmp_path):
    obj = {"model": {f"w.{d.name}": ember.tensor(np.arange(6).reshape(2, 3) % 2, dtype=d, device="cpu")
                     for d in (ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
                               ember.float16, ember.float32, ember.float64)},
           "scalar": ember.tensor(2.5, device="cpu"), "empty": ember.zeros(0, 3, device="cpu"), "step": 7}
    ember.save(obj, tmp_path / "ckpt.safetensors")
    arrays = safetensors_numpy.load_file(tmp_path / "ckpt.safetensors")
    assert sorted(arrays) == sorted([f"model.{k}" for k in obj["model"]] + ["scalar", "empty"])
    for key, t in obj["model"].items():
        np.testing.assert_array_equal(arrays[f"model.{key}"], t.numpy())
        assert arrays[f"model.{key}"].dtype == t.numpy().dtype
    assert arrays["scalar"].shape == () and arrays["empty"].shape == (0, 3)


@pytest.mark.parametrize("writer", ["safetensors.numpy", "safetensors.torch"])
def test_pytorch_state_dict_saved_as_safetensors_loads_into_the_same_ember_model(device, tmp_path, writer):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tnn = torch.nn
    torch_model = tnn.Sequential(tnn.Conv2d(1, 3, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                                 tnn.Linear(3 * 2 * 2, 4))
    path = tmp_path / "torch.safetensors"
    if writer == "safetensors.torch":
        pytest.importorskip("safetensors.torch").save_file(torch_model.state_dict(), path)
    else:
        safetensors_numpy.save_file({k: v.numpy() for k, v in torch_model.state_dict().items()}, path)
    model = small_model().to(device)
    model.load_state_dict(ember.load(path, map_location=device))
    x = np.random.default_rng(1).standard_normal((2, 1, 4, 4)).astype(np.float32)
    expected = torch_model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(ember.tensor(x, device=device)).detach().cpu().numpy(), expected, atol=1e-6)
