"""What the backend declares: no float16, no shared host memory, three devices that never mix."""
import numpy as np
import pytest

import ember
from ember.backends.base import DtypeNotSupportedError

SUPPORTED = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64, ember.float32,
             ember.float64]


@pytest.fixture
def strict():
    return ember.device("strict", 0)


def test_float16_is_refused_by_capability_naming_the_device(strict):
    assert ember.float16 not in strict.backend.supported_dtypes
    with pytest.raises(DtypeNotSupportedError, match="strict:0.*float16"):
        ember.zeros(2, dtype=ember.float16, device=strict)


def test_the_backend_itself_refuses_float16_and_foreign_array_dtypes(strict):
    bk = strict.backend
    with pytest.raises(DtypeNotSupportedError, match="float16"):
        bk.full((2,), 0, ember.float16)
    with pytest.raises(TypeError, match="uint16"):
        bk.dtype_of(bk.xp.zeros(2, dtype=bk.xp.uint16))
    assert bk.library_version().startswith("array_api_strict 2.")


@pytest.mark.parametrize("dtype", SUPPORTED, ids=str)
def test_values_round_trip_through_the_host_in_every_supported_dtype(strict, dtype):
    host = np.arange(-3, 5).reshape(2, 4).astype(dtype.name)
    t = ember.tensor(host, device=strict)
    assert t.dtype is dtype and t.device == strict
    back = t.numpy()
    assert back.dtype == host.dtype and np.array_equal(back, host)


def test_transfers_copy_instead_of_sharing_host_memory(strict):
    host = np.zeros(3, dtype=np.float32)
    t = ember.as_tensor(host, device=strict)
    host[0] = 5.0
    out = t.numpy()
    out[1] = 7.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    assert strict.backend.shares_host_memory is False


def test_tensors_move_between_devices_and_refuse_to_mix():
    a = ember.arange(3.0, device="strict:0")
    b = a.to("strict:1")
    assert b.device == ember.device("strict:1") and b.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="strict:0.*strict:1|strict:1.*strict:0"):
        a + b


def test_random_numbers_are_reproducible_per_seed(strict):
    g = ember.Generator(strict).manual_seed(11)
    first = ember.rand(5, generator=g, device=strict).tolist()
    g.manual_seed(11)
    assert ember.rand(5, generator=g, device=strict).tolist() == first
    assert all(0.0 <= v < 1.0 for v in first)
