"""What the standard lacks, built from the library's own operations, agrees with numpy and math.erf."""
import math

import numpy as np
import pytest

import ember

SHAPE = (4, 5, 6)


def _key(bk, key):
    """A key of host values (numpy arrays become backend arrays)."""
    return tuple(bk.asarray(k, ember.bool if k.dtype == bool else ember.int64) if isinstance(k, np.ndarray) else k
                 for k in key)


KEYS = {
    "int array then slices": (np.array([3, 0, 3]),),
    "slice then int array": (slice(None), np.array([[4, 0], [1, 1]])),
    "arrays apart": (np.array([0, 2]), slice(1, 3), np.array([5, -1])),
    "int beside array": (1, slice(None), np.array([0, 5, 5])),
    "adjacent array and int": (slice(None), np.array([2, 4]), 3),
    "bool mask and slice": (np.array([True, False, True, True]), slice(None, None, -2)),
    "inner bool mask": (Ellipsis, np.array([True, False, False, True, True, False])),
    "2-d bool mask": (slice(1, None), np.arange(30).reshape(5, 6) % 4 == 0),
    "None and array": (None, np.array([1, 1]), Ellipsis, np.array([0, 3])),
    "out-of-bounds and reversed slices": (slice(-10, 10), slice(None, None, -1), slice(7, None)),
    "every index an array": (np.array([0, 3]), np.array([1, 1]), np.array([2, 5])),
    "0-d masks": (slice(None), np.array(True), 2, np.array(False)),
    "a 0-d mask alone": (np.array(True),),
    "an empty index array": (np.array([], dtype=np.int64), 2),
}


@pytest.fixture
def bk():
    return ember.device("strict", 0).backend


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_getitem_follows_numpy_indexing(bk, key):
    host = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE)
    assert np.array_equal(bk.to_numpy(bk.getitem(bk.asarray(host, ember.float64), _key(bk, key))), host[key])


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_setitem_follows_numpy_assignment(bk, key):
    host = np.zeros(SHAPE)
    values = np.arange(host[key].size, dtype=np.float64).reshape(host[key].shape) + 1
    a = bk.asarray(host, ember.float64)
    bk.setitem(a, _key(bk, key), bk.asarray(values, ember.float64))
    host[key] = values
    assert np.array_equal(bk.to_numpy(a), host)


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_index_add_accumulates_duplicates_like_np_add_at(bk, key):
    host = np.ones(SHAPE)
    values = np.linspace(-1.0, 2.0, host[key].size).reshape(host[key].shape)
    a = bk.asarray(host, ember.float64)
    out = bk.index_add(a, _key(bk, key), bk.asarray(values, ember.float64))
    np.add.at(host, key, values)
    assert np.allclose(bk.to_numpy(out), host, rtol=1e-15, atol=0)
    assert np.array_equal(bk.to_numpy(a), np.ones(SHAPE))


def test_index_add_of_many_duplicates_keeps_float32_precision(bk):
    index = np.repeat(np.arange(3), 10_000)
    values = np.full(index.size, 0.1, dtype=np.float32)
    out = bk.index_add(bk.full((3,), 0, ember.float32), (bk.asarray(index, ember.int64),),
                       bk.asarray(values, ember.float32))
    assert np.allclose(bk.to_numpy(out), 1000.0, rtol=1e-5)


def test_setitem_into_a_transposed_view_writes_through(bk):
    base = bk.full((3, 4), 0, ember.int64)
    view = bk.transpose(base, (1, 0))
    bk.setitem(view, (bk.asarray([0, 3], ember.int64), 1), 7)
    expected = np.zeros((3, 4), dtype=np.int64)
    expected[1, [0, 3]] = 7
    assert np.array_equal(bk.to_numpy(base), expected)


def test_erf_matches_math_erf_in_float64_and_float32(bk):
    x = np.concatenate([np.linspace(-7.0, 7.0, 2001), [0.0, -0.0, 1e-300, 30.0, -30.0, np.inf, -np.inf]])
    expected = np.array([math.erf(v) for v in x])
    got = bk.to_numpy(bk.erf(bk.asarray(x, ember.float64)))
    assert np.allclose(got, expected, rtol=1e-15, atol=1e-300)
    x32 = x.astype(np.float32)
    got32 = bk.to_numpy(bk.erf(bk.asarray(x32, ember.float32)))
    expected32 = np.array([math.erf(v) for v in x32.astype(np.float64)], dtype=np.float32)
    assert got32.dtype == np.float32 and np.allclose(got32, expected32, rtol=1.2e-7, atol=1e-38)
    assert np.isnan(bk.to_numpy(bk.erf(bk.asarray([np.nan], ember.float64)))[0])


def test_bool_arithmetic_and_reductions_follow_numpy(bk):
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    x, y = bk.asarray(a, ember.bool), bk.asarray(b, ember.bool)
    assert bk.to_numpy(bk.add(x, y)).tolist() == (a + b).tolist()
    assert bk.to_numpy(bk.mul(x, True)).tolist() == (a * True).tolist()
    assert bk.to_numpy(bk.less(x, y)).tolist() == (a < b).tolist()
    assert bk.to_numpy(bk.sum(x)).item() == 2
    assert bk.to_numpy(bk.prod(y, dtype=ember.int32)).tolist() == 0
    assert bk.to_numpy(bk.max(x)).item() is True
    assert bk.to_numpy(bk.argmax(y)).item() == 0
    assert bk.to_numpy(bk.cumsum(x, 0)).tolist() == [1, 1, 2, 2]
    values, order = bk.sort(x, 0, True)
    assert bk.to_numpy(values).tolist() == [True, True, False, False]
    assert bk.to_numpy(order).tolist() == [0, 2, 1, 3]


def test_python_scalar_operands_follow_numpy(bk):
    x = bk.asarray([1.5, -2.0], ember.float64)
    assert bk.to_numpy(bk.add(x, True)).tolist() == [2.5, -1.0]
    assert bk.to_numpy(bk.less(0, x)).tolist() == [True, False]
    assert bk.to_numpy(bk.where(bk.less(0, x), 1, 0.5)).tolist() == [1.0, 0.5]
    assert bk.to_numpy(bk.where(bk.less(0, x), True, False)).tolist() == [True, False]


def test_nonzero_of_a_0_d_array_has_one_row_per_nonzero_and_no_columns(bk):
    assert bk.to_numpy(bk.nonzero(bk.asarray(3, ember.int64))).shape == (1, 0)
    assert bk.to_numpy(bk.nonzero(bk.asarray(0.0, ember.float32))).shape == (0, 0)
