"""finfo/iinfo, thread counts, `Size`, `__format__`, byte sizes and the legacy tensor types, as PyTorch's."""
import pickle

import ember
import pytest

FLOATS = [ember.float16, ember.float32, ember.float64]
INTS = [ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64]


def test_finfo_of_float32_has_ieee_single_limits():
    f = ember.finfo(ember.float32)
    assert (f.bits, f.eps, f.tiny, f.smallest_normal, f.resolution, f.dtype) == \
        (32, 2.0 ** -23, 2.0 ** -126, 2.0 ** -126, 1e-6, "float32")
    assert f.max == -f.min == 3.4028234663852886e38
    assert ember.finfo().dtype == ember.get_default_dtype().name


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_finfo_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = ember.finfo(dtype), torch.finfo(getattr(torch, dtype.name))
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", INTS, ids=str)
def test_iinfo_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = ember.iinfo(dtype), torch.iinfo(getattr(torch, dtype.name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_reject_the_other_kind():
    with pytest.raises(TypeError, match="finfo"):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError, match="iinfo"):
        ember.iinfo(ember.float32)
    with pytest.raises(TypeError, match="bool"):
        ember.iinfo(ember.bool)


def test_set_num_threads_is_reported_by_get_num_threads(monkeypatch):
    from ember.threads import _ENV_VARS

    for var in _ENV_VARS:
        monkeypatch.delenv(var, raising=False)  # restored after the test
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        import os

        assert os.environ["OMP_NUM_THREADS"] == "1"
    finally:
        ember.set_num_threads(before)
    assert ember.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_set_num_threads_rejects_non_positive_or_non_int(bad):
    with pytest.raises(RuntimeError, match="set_num_threads"):
        ember.set_num_threads(bad)


def test_shape_and_size_are_ember_size(device):
    t = ember.zeros(3, 4, device=device)
    assert type(t.shape) is ember.Size and type(t.size()) is ember.Size
    assert t.shape == (3, 4) and t.shape == ember.Size([3, 4]) and t.size(1) == 4
    assert repr(t.shape) == str(t.shape) == "ember.Size([3, 4])"
    assert t.shape.numel() == 12
    assert t.reshape(12).shape == (12,)  # a reshaped view reports its own shape
    assert pickle.loads(pickle.dumps(t.shape)) == (3, 4)


def test_shape_follows_a_change_of_data(device):
    t = ember.zeros(3, device=device)
    assert t.shape == (3,)
    t.data = ember.zeros(2, 5, device=device)
    assert t.shape == (2, 5) and type(t.shape) is ember.Size


def test_format_of_0d_tensor_formats_its_value(device):
    loss = ember.tensor(1.23456, device=device)
    assert f"{loss:.3f}" == "1.235"
    assert f"{ember.tensor(7, device=device):04d}" == "0007"
    assert f"{loss}" == "1.2345600128173828"


def test_format_of_nd_tensor_takes_only_an_empty_spec(device):
    t = ember.tensor([1.0, 2.0], device=device)
    assert f"{t}" == str(t)
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{t:.2f}"


@pytest.mark.parametrize("dtype", FLOATS + INTS + [ember.bool], ids=str)
def test_byte_sizes_match_torch(device, dtype):
    torch = pytest.importorskip("torch")
    t = ember.zeros(2, 3, dtype=dtype, device=device)
    ref = torch.zeros(2, 3, dtype=getattr(torch, dtype.name))
    assert (t.itemsize, t.element_size(), t.nbytes) == (ref.itemsize, ref.element_size(), ref.nbytes)


LEGACY = [("FloatTensor", ember.float32), ("DoubleTensor", ember.float64), ("HalfTensor", ember.float16),
          ("LongTensor", ember.int64), ("IntTensor", ember.int32), ("ShortTensor", ember.int16),
          ("CharTensor", ember.int8), ("ByteTensor", ember.uint8), ("BoolTensor", ember.bool)]


@pytest.mark.parametrize("name,dtype", LEGACY, ids=[n for n, _ in LEGACY])
def test_legacy_type_is_instance_exactly_for_its_cpu_dtype(name, dtype):
    cls = getattr(ember, name)
    t = ember.zeros(2, dtype=dtype, device="cpu")
    assert isinstance(t, cls)
    assert t.type() == f"ember.{name}"
    others = [d for _, d in LEGACY if d is not dtype]
    assert not any(isinstance(ember.zeros(2, dtype=d, device="cpu"), cls) for d in others)
    assert not isinstance([0, 0], cls)


def test_legacy_type_is_false_off_the_cpu(device):
    t = ember.zeros(2, device=device)
    assert isinstance(t, ember.FloatTensor) == (ember.device(device).type == "cpu")


@pytest.mark.parametrize("name,dtype", LEGACY, ids=[n for n, _ in LEGACY])
def test_legacy_constructors_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    t, ref = getattr(ember, name)([1, 0, 1]), getattr(torch, name)([1, 0, 1])
    assert t.dtype is dtype and t.tolist() == ref.tolist()
    assert getattr(ember, name)(2, 3).shape == (2, 3) and getattr(ember, name)((4,)).shape == (1,)  # a tuple is data
    assert getattr(ember, name)().shape == (0,)


def test_legacy_constructor_of_tensor_takes_only_its_own_type():
    t = ember.ones(2, device="cpu")
    assert ember.FloatTensor(t) is t
    with pytest.raises(TypeError, match="float64"):
        ember.DoubleTensor(ember.ones(2, dtype=ember.float32, device="cpu"))


def test_type_converts_to_dtypes_legacy_types_and_names(device):
    t = ember.ones(3, device=device)
    assert t.type(ember.float64).dtype is ember.float64
    assert t.type(ember.float32) is t
    assert t.type("ember.IntTensor").dtype is ember.int32
    assert t.type("torch.LongTensor").dtype is ember.int64
    d = t.type(ember.DoubleTensor)
    assert d.dtype is ember.float64 and d.device.type == "cpu"
    with pytest.raises(ValueError, match="invalid type"):
        t.type("ember.FooTensor")
    with pytest.raises(TypeError, match="dtype"):
        t.type(3)


def test_type_names_the_device_for_non_cpu_tensors(device):
    t = ember.ones(3, device=device)
    where = ember.device(device).type
    assert t.type() == ("ember.FloatTensor" if where == "cpu" else f"ember.{where}.FloatTensor")
