"""The backend under test keeps the interface's contract: arrays out, functional scatter-add,
devices and their indices, per-device random generators, declared capabilities."""
import math

import numpy as np
import pytest

import ember
from ember.backends.base import Backend, DtypeNotSupportedError, tiers


def test_results_are_native_arrays_even_when_0_d(device):
    bk = device.backend
    a = bk.asarray([1.0, 2.0, 3.0], ember.float32)
    for r in (bk.sum(a), bk.max(a), bk.exp(bk.sum(a)), bk.argmax(a), bk.prod(a)):
        assert type(r) is type(a) and r.shape == ()


def test_scatter_add_and_index_add_are_functional_and_accumulate_duplicates(device):
    bk = device.backend
    base = bk.full((3,), 0, ember.float32)
    out = bk.scatter_add(base, 0, bk.asarray([0, 0, 2], ember.int64), bk.asarray([1.0, 1.0, 1.0], ember.float32))
    assert bk.to_numpy(out).tolist() == [2.0, 0.0, 1.0] and bk.to_numpy(base).tolist() == [0.0, 0.0, 0.0]
    added = bk.index_add(base, (bk.asarray([1, 1], ember.int64),), bk.asarray([2.0, 3.0], ember.float32))
    assert bk.to_numpy(added).tolist() == [0.0, 5.0, 0.0] and bk.to_numpy(base).tolist() == [0.0, 0.0, 0.0]


def test_the_backend_implements_every_required_primitive_and_declares_itself(device):
    cls = type(device.backend)
    assert issubclass(cls, Backend) and not cls.__abstractmethods__
    assert cls.name and cls.device_type == device.type
    assert set(tiers()["required"]) <= set(dir(cls))
    assert cls.supported_dtypes and all(isinstance(d, ember.dtype) for d in cls.supported_dtypes)


def test_each_device_has_its_own_seedable_generator_with_state(device):
    g = ember.Generator(device).manual_seed(3)
    first = ember.rand(4, generator=g, device=device).tolist()
    state = g.get_state()
    second = ember.rand(4, generator=g, device=device).tolist()
    g.set_state(state)
    assert ember.rand(4, generator=g, device=device).tolist() == second != first
    ember.manual_seed(7)
    a = ember.rand(3, device=device).tolist()
    ember.manual_seed(7)
    assert ember.rand(3, device=device).tolist() == a


def test_a_generator_of_another_device_is_refused(device):
    other = "reference" if device.type != "reference" else "cpu"
    g = ember.Generator(other)
    with pytest.raises(RuntimeError, match="device generator"):
        ember.rand(2, generator=g, device=device)


def test_an_unsupported_dtype_names_the_device_and_the_dtype(device):
    bk = device.backend
    missing = [d for d in (ember.float16, ember.float64, ember.int8, ember.uint8) if d not in bk.supported_dtypes]
    if not missing:
        pytest.skip(f"the {bk.name} backend supports every dtype")
    with pytest.raises(DtypeNotSupportedError, match=f"{device}.*{missing[0]}"):
        ember.zeros(2, dtype=missing[0], device=device)


def test_a_device_index_past_the_device_count_says_how_many_there_are(device):
    count = type(device.backend).device_count()
    if device.index is None:
        pytest.skip(f"device type '{device.type}' has no indices")
    with pytest.raises(RuntimeError, match=f"{device.type}:{count} does not exist.*{count} {device.type} device"):
        ember.zeros(1, device=ember.device(device.type, count))


def test_host_memory_is_shared_exactly_when_the_backend_says_so(device):
    bk = device.backend
    host = np.zeros(3, dtype=np.float32)
    t = ember.as_tensor(host, device=device)
    host[0] = 5.0
    assert (t[0].item() == 5.0) is bk.shares_host_memory


def test_sigmoid_keeps_relative_precision_in_both_tails(device):
    xs = [-745.0, -700.0, -40.0, -20.0, -1.0, 0.0, 1.0, 20.0, 40.0, 745.0]
    got = ember.sigmoid(ember.tensor(xs, dtype=ember.float64, device=device)).tolist()
    exact = [1 / (1 + math.exp(-x)) if x > -700 else math.exp(x) for x in xs]
    for x, g, e in zip(xs, got, exact):
        assert abs(g - e) <= 1e-15 * e, (x, g, e)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_both_ways_and_puts_nan_at_the_large_end(device, descending):
    x = ember.tensor([1.0, 2.0, float("nan"), 1.0, 2.0, 0.0], device=device)
    values, indices = x.sort(descending=descending, stable=True)
    want = [5, 0, 3, 1, 4, 2] if not descending else [2, 1, 4, 0, 3, 5]
    assert indices.tolist() == want and x.argsort(descending=descending).tolist() == want
    assert math.isnan(values.tolist()[-1 if not descending else 0])
