"""Property tests (hypothesis): ops agree with numpy on generated shapes, dims and indices."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember

shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)
# the `device` fixture is function-scoped, but the same for every example
DEVICE_FIXTURE = [HealthCheck.function_scoped_fixture]


@st.composite
def array_and_dims(draw):
    shape = draw(shapes)
    arr = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda d: d % len(shape),
                         min_size=1, max_size=len(shape)))
    return arr, tuple(dims)


@settings(max_examples=60, deadline=None, suppress_health_check=DEVICE_FIXTURE)
@given(array_and_dims(), st.booleans())
def test_reductions_match_numpy_for_any_dims(device, case, keepdim):
    arr, dims = case
    t = ember.tensor(arr, device=device)
    np.testing.assert_allclose(t.sum(dims, keepdim).numpy(), arr.sum(dims, keepdims=keepdim), atol=1e-9)
    np.testing.assert_allclose(t.mean(dims, keepdim).numpy(), arr.mean(dims, keepdims=keepdim), atol=1e-9)
    np.testing.assert_allclose(t.amax(dims, keepdim).numpy(), arr.max(dims, keepdims=keepdim))
    np.testing.assert_allclose(t.prod(dims, keepdim).numpy(), arr.prod(dims, keepdims=keepdim), rtol=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=DEVICE_FIXTURE)
@given(shapes, st.data())
def test_permute_and_reshape_match_numpy(device, shape, data):
    arr = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    order = data.draw(st.permutations(range(len(shape))))
    t = ember.tensor(arr, device=device)
    np.testing.assert_array_equal(t.permute(*order).numpy(), arr.transpose(order))
    np.testing.assert_array_equal(t.permute(*order).reshape(-1).numpy(), arr.transpose(order).reshape(-1))
    np.testing.assert_array_equal(t.flip(tuple(range(len(shape)))).numpy(), np.flip(arr))


@settings(max_examples=60, deadline=None, suppress_health_check=DEVICE_FIXTURE)
@given(shapes, st.data())
def test_integer_tensor_indexing_and_its_gradient_match_numpy(device, shape, data):
    arr = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    idx = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
    t = ember.tensor(arr, device=device, requires_grad=True)
    out = t[ember.tensor(idx, device=device)]
    np.testing.assert_array_equal(out.detach().numpy(), arr[idx])
    out.sum().backward()
    expected = np.zeros_like(arr)
    np.add.at(expected, np.array(idx), 1.0)
    np.testing.assert_array_equal(t.grad.numpy(), expected)


@settings(max_examples=40, deadline=None, suppress_health_check=DEVICE_FIXTURE)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 3))
def test_matmul_with_broadcast_batch_dims_matches_numpy(device, n, k, m, batch):
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    a = rng.standard_normal((batch, n, k) if batch else (n, k))
    b = rng.standard_normal((k, m))
    np.testing.assert_allclose((ember.tensor(a, device=device) @ ember.tensor(b, device=device)).numpy(), a @ b,
                               atol=1e-12)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.int32, ember.int64, ember.uint8, ember.bool])
def test_creation_round_trips_every_dtype_through_numpy(dtype, device):
    t = ember.ones(3, dtype=dtype, device=device)
    assert t.dtype is dtype and ember.tensor(t.cpu().numpy(), device=device).dtype is dtype
