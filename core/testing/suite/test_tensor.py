"""Tensor creation, dtypes and promotion, attributes, conversion, repr, operators and errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import ember


def test_creation_functions_take_dtype_device_and_requires_grad(device):
    for make in (lambda **k: ember.zeros(2, 3, **k), lambda **k: ember.ones((2, 3), **k),
                 lambda **k: ember.full((2, 3), 1.5, **k), lambda **k: ember.empty(2, 3, **k),
                 lambda **k: ember.rand(2, 3, **k), lambda **k: ember.randn(2, 3, **k),
                 lambda **k: ember.tensor(np.ones((2, 3)), **k)):
        t = make(dtype=ember.float64, device=device, requires_grad=True)
        assert t.shape == (2, 3) and t.dtype is ember.float64 and t.device == device and t.requires_grad


def test_default_dtypes_follow_pytorch(device):
    assert ember.tensor([1.5], device=device).dtype is ember.float32
    assert ember.tensor([1, 2], device=device).dtype is ember.int64
    assert ember.tensor([True], device=device).dtype is ember.bool
    assert ember.tensor(np.zeros(2), device=device).dtype is ember.float64  # numpy's dtype is kept
    assert ember.arange(5, device=device).dtype is ember.int64
    assert ember.arange(0, 1, 0.25, device=device).dtype is ember.float32
    assert ember.full((1,), 7, device=device).dtype is ember.int64
    assert ember.zeros(1, device=device).dtype is ember.get_default_dtype()


def test_set_default_dtype_changes_float_creation(device):
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.0], device=device).dtype is ember.float64
        assert (ember.tensor([1], device=device) * 0.5).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="floating-point"):
        ember.set_default_dtype(ember.int32)


@pytest.mark.parametrize("a, b, expected", [
    (ember.int32, ember.int64, ember.int64), (ember.uint8, ember.int8, ember.int16),
    (ember.bool, ember.uint8, ember.uint8), (ember.int64, ember.float16, ember.float16),
    (ember.float16, ember.float32, ember.float32), (ember.float32, ember.float64, ember.float64),
])
def test_promote_types_table(a, b, expected):
    assert ember.promote_types(a, b) is expected and ember.promote_types(b, a) is expected


def test_result_type_treats_python_numbers_and_zero_dim_tensors_as_weak(device):
    f32 = ember.ones(2, device=device)
    i32 = ember.ones(2, dtype=ember.int32, device=device)
    assert (f32 * 2.0).dtype is ember.float32
    assert (i32 * 2).dtype is ember.int32
    assert (i32 * 2.5).dtype is ember.float32
    assert (ember.tensor([True], device=device) + 1).dtype is ember.int64
    assert (f32 + ember.tensor(1.0, dtype=ember.float64, device=device)).dtype is ember.float32
    assert (i32 + ember.tensor(1.0, dtype=ember.float64, device=device)).dtype is ember.float64
    assert (f32 + ember.ones(2, dtype=ember.float64, device=device)).dtype is ember.float64
    assert ember.result_type(i32, 1.0) is ember.float32
    assert (i32 / i32).dtype is ember.float32


def test_attributes_and_conversions(device):
    t = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert t.size() == (2, 3) and t.size(-1) == 3 and t.dim() == 2 and t.ndim == 2 and t.numel() == 6
    assert t.T.shape == (3, 2) and t.mT.shape == (3, 2) and t.is_leaf and t.grad_fn is None
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]] and t[1, 2].item() == 6.0
    assert t.long().dtype is ember.int64 and t.half().dtype is ember.float16 and t.bool().dtype is ember.bool
    assert t.double().dtype is ember.float64 and t.int().dtype is ember.int32 and t.float() is t
    assert isinstance(t.numpy(), np.ndarray) and float(t[0, 0]) == 1.0 and int(t[1, 1]) == 5
    assert repr(ember.Size([2, 3])) == "ember.Size([2, 3])"
    c = t.clone()
    c.add_(1)
    assert t[0, 0].item() == 1.0
    assert t.to(ember.float64).dtype is ember.float64 and t.to(device) is t
    assert t.to(device, copy=True) is not t


def test_from_numpy_shares_memory_and_tensor_copies(device):
    arr = np.zeros(3, dtype=np.float32)
    shared = ember.from_numpy(arr)
    copied = ember.tensor(arr, device="cpu")
    arr[0] = 5
    assert shared[0].item() == 5 and copied[0].item() == 0


def test_like_functions_and_ranges(device):
    t = ember.ones(2, 3, dtype=ember.float64, device=device)
    assert ember.zeros_like(t).dtype is ember.float64 and ember.ones_like(t).sum().item() == 6
    assert ember.full_like(t, 2).tolist() == [[2, 2, 2], [2, 2, 2]]
    assert ember.arange(1, 10, 3, device=device).tolist() == [1, 4, 7]
    assert ember.linspace(0, 1, 5, device=device).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert ember.eye(2, 3, device=device).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert ember.randint(0, 3, (100,), device=device).max().item() <= 2
    assert sorted(ember.randperm(5, device=device).tolist()) == [0, 1, 2, 3, 4]


def test_repr_matches_pytorch_style(device):
    on = "" if device.type == "cpu" else f", device='{device}'"
    assert repr(ember.tensor([1.0, 2.0], device=device)) == f"tensor([1., 2.]{on})"
    assert repr(ember.tensor([0.5, 2.25], device=device)) == f"tensor([0.5000, 2.2500]{on})"
    assert repr(ember.tensor([1, 2], device=device)) == f"tensor([1, 2]{on})"
    assert repr(ember.tensor([1.0], dtype=ember.float64, device=device)) == f"tensor([1.]{on}, dtype=ember.float64)"
    assert repr(ember.tensor([1.0], requires_grad=True, device=device)) == f"tensor([1.]{on}, requires_grad=True)"
    x = ember.tensor([1.0], requires_grad=True, device=device)
    assert repr(x * x) == f"tensor([1.]{on}, grad_fn=<MulBackward0>)"
    assert repr(ember.tensor(3, device=device)) == f"tensor(3{on})"


def test_operators_with_python_numbers_on_either_side(device):
    t = ember.tensor([1.0, 2.0, 4.0], device=device)
    assert (2 + t).tolist() == [3, 4, 6] and (2 - t).tolist() == [1, 0, -2]
    assert (2 * t).tolist() == [2, 4, 8] and (4 / t).tolist() == [4, 2, 1]
    assert (t ** 2).tolist() == [1, 4, 16] and (2 ** t).tolist() == [2, 4, 16]
    assert (t // 3).tolist() == [0, 0, 1] and (t % 3).tolist() == [1, 2, 1] and (7 // t).tolist() == [7, 3, 1]
    assert (-t).tolist() == [-1, -2, -4] and abs(-t).tolist() == [1, 2, 4]
    assert (t > 1.5).tolist() == [False, True, True] and (t == 2).tolist() == [False, True, False]
    i = ember.tensor([6, 3], device=device)
    assert (i & 2).tolist() == [2, 2] and (i | 1).tolist() == [7, 3] and (i ^ 1).tolist() == [7, 2]
    assert (~ember.tensor([True, False], device=device)).tolist() == [False, True]
    assert (ember.tensor([-7, 7], device=device) % 3).tolist() == [2, 1]  # Python's sign convention


def test_elementwise_math_values(device):
    t = ember.tensor([0.0, 0.5, 1.0], dtype=ember.float64, device=device)
    np.testing.assert_allclose(t.exp().numpy(), np.exp([0, 0.5, 1]))
    np.testing.assert_allclose(t.sigmoid().numpy(), 1 / (1 + np.exp(-np.array([0, 0.5, 1]))))
    np.testing.assert_allclose(t.erf().numpy(), [0.0, 0.5204998778130465, 0.8427007929497149], rtol=1e-12)
    big = ember.tensor([-1e4, 1e4], device=device)
    assert big.sigmoid().tolist() == [0.0, 1.0]
    r = ember.tensor([0.5, 1.5, 2.5, -0.5], device=device)
    assert r.round().tolist() == [0, 2, 2, -0.0] and r.floor().tolist() == [0, 1, 2, -1]
    assert r.ceil().tolist() == [1, 2, 3, -0.0] and r.trunc().tolist() == [0, 1, 2, -0.0]
    assert r.clamp(0, 2).tolist() == [0.5, 1.5, 2, 0] and r.sign().tolist() == [1, 1, 1, -1]


def test_reductions_values_and_keepdim(device):
    t = ember.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], device=device)
    assert t.sum().item() == 21 and t.sum(0).tolist() == [5, 7, 9] and t.sum((0, 1)).item() == 21
    assert t.mean(1, keepdim=True).shape == (2, 1) and t.prod(1).tolist() == [15, 48]
    values, indices = t.max(1)
    assert values.tolist() == [5, 6] and indices.tolist() == [1, 2]
    assert t.min().item() == 1 and t.argmax().item() == 5 and t.argmin(1).tolist() == [0, 1]
    assert t.var().item() == pytest.approx(3.5) and t.std(1, correction=0).tolist() == pytest.approx([1.63299, 1.63299], rel=1e-4)
    assert t.logsumexp(1).tolist() == pytest.approx(np.log(np.exp(t.numpy()).sum(1)).tolist(), rel=1e-6)
    assert (t > 2).all(1).tolist() == [False, False] and (t > 2).any().item() is True
    assert t.cumsum(1).tolist() == [[1, 6, 9], [4, 6, 12]]
    assert ember.tensor([1, 2], device=device).sum().dtype is ember.int64
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], device=device).mean()


def test_shape_ops_values(device):
    t = ember.arange(6, device=device)
    m = t.reshape(2, 3)
    assert m.view(-1, 2).shape == (3, 2) and m.flatten().tolist() == list(range(6))
    assert m.unflatten(1, (3, 1)).shape == (2, 3, 1) and m.unsqueeze(0).squeeze().shape == (2, 3)
    assert m.permute(1, 0).tolist() == [[0, 3], [1, 4], [2, 5]] and m.transpose(0, 1).shape == (3, 2)
    assert m[:, :1].expand(2, 4).tolist() == [[0] * 4, [3] * 4] and m[:1].expand_as(m).shape == (2, 3)
    assert ember.tensor([1, 2], device=device).repeat(2, 2).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    assert ember.tensor([1, 2], device=device).tile((2,)).tolist() == [1, 2, 1, 2]
    assert m.flip(1).tolist() == [[2, 1, 0], [5, 4, 3]] and t.roll(2).tolist() == [4, 5, 0, 1, 2, 3]
    assert m.narrow(1, 1, 2).tolist() == [[1, 2], [4, 5]]
    assert [p.tolist() for p in t.split(4)] == [[0, 1, 2, 3], [4, 5]]
    assert [p.shape for p in t.chunk(4)] == [(2,), (2,), (2,)]
    assert [p.tolist() for p in m.unbind(1)] == [[0, 3], [1, 4], [2, 5]]
    assert ember.cat([m, m], 1).shape == (2, 6) and ember.stack([t, t]).shape == (2, 6)
    assert ember.cat([ember.ones(1, device=device), ember.ones(1, dtype=ember.int64, device=device)]).dtype is ember.float32


def test_indexing_and_assignment(device):
    t = ember.arange(12, device=device).reshape(3, 4)
    assert t[1].tolist() == [4, 5, 6, 7] and t[-1, -1].item() == 11 and t[..., 1].tolist() == [1, 5, 9]
    assert t[None, 0, 1:3].tolist() == [[1, 2]] and t[:, ::2].tolist() == [[0, 2], [4, 6], [8, 10]]
    assert t[ember.tensor([2, 0], device=device)].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    assert t[t > 9].tolist() == [10, 11] and t[[0, 1], [1, 2]].tolist() == [1, 6]
    t[0] = 0
    t[1, ember.tensor([0, 3], device=device)] = ember.tensor([-1, -2], device=device)
    t[t > 9] = 100
    assert t.tolist() == [[0, 0, 0, 0], [-1, 5, 6, -2], [8, 9, 100, 100]]
    g = ember.tensor([[1, 2], [3, 4]], device=device)
    assert g.gather(1, ember.tensor([[0, 0], [1, 0]], device=device)).tolist() == [[1, 1], [4, 3]]
    z = ember.zeros(3, dtype=ember.int64, device=device)
    assert z.scatter_add(0, ember.tensor([0, 0, 2], device=device), ember.tensor([1, 1, 5], device=device)).tolist() == [2, 0, 5]
    assert g.masked_fill(g > 2, 0).tolist() == [[1, 2], [0, 0]]
    assert g.index_select(1, ember.tensor([1], device=device)).tolist() == [[2], [4]]
    assert ember.tensor([0, 3, 0, 4], device=device).nonzero().tolist() == [[1], [3]]


@pytest.mark.parametrize("key, message", [
    (5, "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, -5), "index -5 is out of bounds for dimension 1 with size 4"),
    ((0, 0, 0), "too many indices"),
])
def test_out_of_range_indices_raise_the_same_index_error_on_every_backend(key, message, device):
    with pytest.raises(IndexError, match=message):
        ember.zeros(3, 4, device=device)[key]


def test_out_of_range_index_tensors_are_rejected_before_the_backend(device):
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        ember.zeros(3, device=device)[ember.tensor([0, 3], device=device)]
    with pytest.raises(IndexError, match="out of bounds"):
        ember.zeros(3, device=device).gather(0, ember.tensor([7], device=device))


def test_shape_mismatch_errors_name_the_op_and_both_shapes(device):
    a, b = ember.ones(2, 3, device=device), ember.ones(4, device=device)
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        a + b
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4,\) cannot be multiplied \(3 != 4\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        a.reshape(4, 2)
    with pytest.raises(RuntimeError, match="expanded size"):
        a.expand(3, 3)
    with pytest.raises(IndexError, match="dimension out of range"):
        a.sum(2)


def test_in_place_ops_values_and_dtype_rules(device):
    t = ember.ones(3, device=device)
    t.add_(1).mul_(3).sub_(1, alpha=2).div_(2)
    assert t.tolist() == [2, 2, 2]
    t += ember.tensor([1.0, 2.0, 3.0], device=device)
    t *= 2
    assert t.tolist() == [6, 8, 10]
    t.clamp_(7, 9).zero_().fill_(4)
    assert t.tolist() == [4, 4, 4]
    t.copy_(ember.tensor([1, 2, 3], device=device))
    assert t.tolist() == [1, 2, 3]
    t.addcmul_(t, t, value=0.5)
    assert t.tolist() == [1.5, 4, 7.5]
    i = ember.ones(2, dtype=ember.int64, device=device)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)


def test_random_numbers_are_reproducible_with_manual_seed(device):
    ember.manual_seed(123)
    a = ember.rand(5, device=device).tolist()
    ember.manual_seed(123)
    assert ember.rand(5, device=device).tolist() == a
    g = ember.Generator(device).manual_seed(7)
    b = ember.randn(4, generator=g, device=device).tolist()
    assert ember.randn(4, generator=ember.Generator(device).manual_seed(7), device=device).tolist() == b
    state = g.get_state()
    c = ember.rand(3, generator=g, device=device).tolist()
    g.set_state(state)
    assert ember.rand(3, generator=g, device=device).tolist() == c


def test_random_distributions_have_the_right_statistics(device):
    ember.manual_seed(0)
    n = ember.randn(100_000, device=device)
    assert abs(n.mean().item()) < 0.02 and abs(n.std().item() - 1) < 0.02
    u = ember.rand(100_000, device=device)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.01
    x = ember.empty(100_000, device=device).normal_(3.0, 2.0)
    assert abs(x.mean().item() - 3) < 0.05 and abs(x.std().item() - 2) < 0.05
    b = ember.empty(100_000, device=device).bernoulli_(0.3)
    assert abs(b.mean().item() - 0.3) < 0.01
    m = ember.multinomial(ember.tensor([0.0, 1.0, 3.0], device=device), 10_000, replacement=True)
    counts = np.bincount(m.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 10_000 - 0.75) < 0.03


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_broadcasting_follows_numpy_rules_for_any_shapes(device, sa, sb):
    a, b = np.ones(sa), np.ones(sb)
    try:
        expected = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        with pytest.raises(RuntimeError):
            ember.tensor(a, device=device) + ember.tensor(b, device=device)
        return
    ta = ember.tensor(a, device=device, requires_grad=True)
    tb = ember.tensor(b, device=device, requires_grad=True)
    out = ta * tb
    assert out.shape == expected
    out.sum().backward()
    assert ta.grad.shape == tuple(sa) and tb.grad.shape == tuple(sb)
    assert ta.grad.sum().item() == pytest.approx(np.prod(expected))


def test_numpy_scalars_combine_like_python_numbers(device):
    t = ember.ones(2, device=device)
    assert (t * np.float64(2.0)).dtype is ember.float32 and (t * np.float64(2.0)).tolist() == [2, 2]
    assert (np.float32(3) * t).tolist() == [3, 3] and (t + np.array(1.5)).tolist() == [2.5, 2.5]
    assert (ember.ones(2, dtype=ember.int64, device=device) * np.int32(3)).dtype is ember.int64


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64, ember.int32, ember.int64, ember.uint8])
def test_the_dtype_recorded_on_results_matches_the_backend_array(dtype, device):
    a = ember.ones(2, 3, dtype=dtype, device=device)
    b = ember.full((2, 3), 2, dtype=dtype, device=device)
    results = [a + b, a - b, a * b, a + 1, 3 - a, a * 2, a.relu(), a @ b.T, a.reshape(3, 2), a.T, a[0],
               a.unsqueeze(0).expand(2, 2, 3), a.abs(), a / b, a / 2, 2 / b, a.sum(0), a.float().mean()]
    if dtype.is_floating_point:
        results += [a.exp(), a.tanh(), a.sigmoid(), a.log(), a.sqrt(), -a, a.mean(0)]
    for r in results:
        assert r.dtype is r._bk.dtype_of(r._data), r
