"""`repr` of tensors matches PyTorch's text: alignment, modes, summarisation, suffixes, print options."""
import re
import warnings

import ember
import numpy as np
import pytest

_rng = np.random.default_rng(0)
TABLE = [
    ("fixed point", np.array([1.0, 2.5], np.float32)),
    ("integer mode", np.array([1.0, 2.0, 3.0], np.float32)),
    ("sci for small", np.array([1e-5, 1.0], np.float32)),
    ("sci for large", np.array([1e9, 1.0], np.float32)),
    ("sci for wide ratio", np.array([1.0, 2000.0], np.float32)),
    ("aligned matrix", np.array([[1.5, -2.25], [3.0, 4.125]], np.float32)),
    ("summarised matrix", np.arange(2000.0, dtype=np.float32).reshape(40, 50)),
    ("summarised ints", np.arange(1001)),
    ("3-d", _rng.standard_normal((3, 4, 5)).astype(np.float32)),
    ("wrapped vector", _rng.standard_normal(100).astype(np.float32)),
    ("0-d float", np.array(3.5, np.float32)),
    ("0-d int", np.array(7)),
    ("bool", np.array([True, False])),
    ("empty 2-d", np.zeros((0, 3), np.float32)),
    ("empty 1-d", np.zeros(0, np.float32)),
    ("empty int", np.zeros((2, 0, 3), np.int64)),
    ("non-finite", np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)),
    ("float16", np.array([1.5, 2.5], np.float16)),
    ("int32", np.array([1, 2], np.int32)),
    ("float64", np.array([1.0, 2.0])),
    ("zeros", np.array([0.0, 0.0], np.float32)),
    ("negative ints", np.array([1, -200000, 3])),
    ("wide rows", _rng.standard_normal((2, 30)).astype(np.float32)),
]
IDS = [name for name, _ in TABLE]


def _unwrapped_suffixes(text: str) -> str:
    return re.sub(r",\n *(?=(requires_grad|grad_fn|dtype|size)=)", ", ", text)


def _repr_on_cpu_terms(t, device) -> str:
    """`repr(t)` as on the CPU, to compare with a CPU torch tensor: on another device without its `device=`
    suffix, the suffixes unwrapped (their line breaks depend on the device suffix's length)."""
    if ember.device(device).type == "cpu":
        return repr(t)
    return _unwrapped_suffixes(re.sub(r",\s*device='[^']*'", "", repr(t)))


def _torch_repr(t, device) -> str:
    text = repr(t).replace("torch.", "ember.")
    return text if ember.device(device).type == "cpu" else _unwrapped_suffixes(text)


@pytest.mark.parametrize("arr", [a for _, a in TABLE], ids=IDS)
def test_repr_matches_torch(device, arr):
    torch = pytest.importorskip("torch")
    assert _repr_on_cpu_terms(ember.tensor(arr, device=device), device) == _torch_repr(torch.tensor(arr), device)


@pytest.mark.parametrize("arr", [a for _, a in TABLE if a.dtype.kind == "f"][:8], ids=IDS[:8])
def test_repr_of_tensors_in_the_graph_matches_torch(device, arr):
    torch = pytest.importorskip("torch")
    tt, et = torch.tensor(arr, requires_grad=True), ember.tensor(arr, device=device, requires_grad=True)
    assert _repr_on_cpu_terms(et, device) == _torch_repr(tt, device)
    assert _repr_on_cpu_terms(et * 2, device) == _torch_repr(tt * 2, device)


@pytest.mark.parametrize("options", [{"precision": 2}, {"threshold": 5}, {"sci_mode": True}, {"sci_mode": False},
                                     {"edgeitems": 1, "threshold": 3}, {"linewidth": 40}, {"profile": "short"},
                                     {"profile": "full"}, {"edgeitems": 0, "threshold": 3}])
def test_printoptions_match_torch(device, options):
    torch = pytest.importorskip("torch")
    arr = np.linspace(-3.0, 1e3, 24, dtype=np.float32).reshape(4, 6)
    with torch._tensor_str.printoptions(**options):
        expected = _torch_repr(torch.tensor(arr), device)
    with ember.printoptions(**options):
        got = _repr_on_cpu_terms(ember.tensor(arr, device=device), device)
    assert got == expected


def test_parameter_repr_matches_torch(device):
    torch = pytest.importorskip("torch")
    arr = np.array([[0.5, -1.25], [2.0, 3.0]], np.float32)
    p = ember.nn.Parameter(ember.tensor(arr, device=device))
    assert _repr_on_cpu_terms(p, device) == _torch_repr(torch.nn.Parameter(torch.tensor(arr)), device)


def test_set_printoptions_round_trips_through_get_printoptions(device):
    before = ember.get_printoptions()
    try:
        ember.set_printoptions(precision=2, threshold=5)
        assert ember.get_printoptions()["precision"] == 2
        assert repr(ember.arange(10, device=device)).startswith("tensor([0, 1, 2,  ..., 7, 8, 9]")
        assert repr(ember.tensor([1.12345], device=device)).startswith("tensor([1.12]")
    finally:
        ember.set_printoptions(**before)
    assert ember.get_printoptions() == before
    assert repr(ember.tensor([1.12345], device=device)).startswith("tensor([1.1235]")


def test_unknown_profile_is_a_value_error():
    with pytest.raises(ValueError, match="profile"):
        ember.set_printoptions(profile="tiny")


def test_hand_written_reprs(device):
    t = ember.tensor([[1.0, -22.5], [3.25, 4.0]], device=device)
    assert _repr_on_cpu_terms(t, device) == "tensor([[  1.0000, -22.5000],\n        [  3.2500,   4.0000]])"
    assert _repr_on_cpu_terms(ember.tensor([1.0, 2.0], device=device, dtype=ember.float64), device) == \
        "tensor([1., 2.], dtype=ember.float64)"
    assert _repr_on_cpu_terms(ember.zeros(0, 3, device=device), device) == "tensor([], size=(0, 3))"
    assert _repr_on_cpu_terms(ember.tensor(True, device=device), device) == "tensor(True)"


def test_float16_prints_without_warnings(device):
    t = ember.tensor([1e-3, 6.0e4, 0.5], device=device, dtype=ember.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = repr(t)
    assert text.endswith("dtype=ember.float16)") or "dtype=ember.float16" in text


def test_non_cpu_devices_name_the_device(device):
    text = repr(ember.ones(2, device=device))
    assert (f"device='{device}'" in text) == (ember.device(device).type != "cpu")


def test_shape_prints_as_size(device):
    assert repr(ember.ones(3, 4, device=device).shape) == "ember.Size([3, 4])"
