"""The numpy backend's `maximum(a, 0)` (every ReLU) runs against a broadcast row of zeros instead of numpy's
slower scalar path: it must give numpy's exact result (NaN, signed zeros, infinities) for every size, dtype and
`out`, and leave every other call to the plain ufunc."""
import numpy as np
import pytest

import ember
from ember.backends.numpy_backend import _ZERO_ROW, NumpyBackend


@pytest.fixture(scope="module")
def bk():
    return NumpyBackend()


def _specials(rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    a.reshape(-1)[:6] = [np.nan, -0.0, 0.0, -np.inf, np.inf, -np.nan]
    return a


@pytest.mark.parametrize("shape", [(64, 16, 28, 28), (_ZERO_ROW,), (_ZERO_ROW + 1,), (3, _ZERO_ROW - 1), (7,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_relu_maximum_is_bit_for_bit_numpys(bk, shape, dtype):
    a = _specials(np.random.default_rng(0), shape, dtype)
    want = np.maximum(a, 0)
    for got in (bk.maximum(a, 0), bk.maximum(a, 0, out=np.empty_like(a)), bk.maximum(a.copy(), 0, out=None)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(f"u{a.itemsize}"), want.view(f"u{a.itemsize}"))
    inplace = a.copy()
    assert bk.maximum(inplace, 0, out=inplace) is inplace
    np.testing.assert_array_equal(inplace.view(f"u{a.itemsize}"), want.view(f"u{a.itemsize}"))


@pytest.mark.parametrize("operands", [
    lambda a: (a[:, ::2], 0),  # not contiguous
    lambda a: (a, 0.5),  # not zero
    lambda a: (a, np.zeros(a.shape[-1], a.dtype)),  # an array operand
    lambda a: (np.arange(a.size, dtype=np.int32).reshape(a.shape) - 5, 0),  # not floating
])
def test_other_maximum_calls_match_numpy(bk, operands):
    a, b = operands(_specials(np.random.default_rng(1), (8, 2 * _ZERO_ROW), np.float32))
    np.testing.assert_array_equal(bk.maximum(a, b), np.maximum(a, b))


def test_relu_of_a_large_tensor_is_numpys_maximum():
    x = ember.tensor(_specials(np.random.default_rng(2), (2, _ZERO_ROW + 3), np.float32))
    np.testing.assert_array_equal(ember.relu(x).numpy(), np.maximum(x.numpy(), 0))
