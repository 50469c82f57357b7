"""Where PyTorch refuses an input, ember refuses it too: same exception type, a message naming the op,
the dtypes and the shapes; broadcast failures name the mismatching dimension."""
import warnings

import ember
import ember.nn.functional as F
import numpy as np
import pytest


def _torch_raises(fn):
    """The exception type torch raises for `fn(torch)` (the oracle for each case)."""
    torch = pytest.importorskip("torch")
    try:
        with warnings.catch_warnings():  # torch's own DeprecationWarning for numpy's copy keyword
            warnings.simplefilter("ignore", DeprecationWarning)
            fn(torch)
    except Exception as exc:  # noqa: BLE001  (any type: we compare it with ember's)
        return type(exc)
    pytest.fail("torch accepted the input")


def test_linear_on_an_integer_input_is_a_dtype_error(device):
    expected = _torch_raises(lambda torch: torch.nn.Linear(3, 2)(torch.ones(4, 3, dtype=torch.long)))
    layer = ember.nn.Linear(3, 2).to(device)
    with pytest.raises(expected, match=r"linear: mat1 and mat2 must have the same dtype, but got Long and Float "
                                       r"\(input of shape \[4, 3\], weight of shape \[2, 3\]\)"):
        layer(ember.ones(4, 3, dtype=ember.int64, device=device))


def test_matmul_of_mixed_dtypes_is_a_dtype_error(device):
    expected = _torch_raises(lambda torch: torch.ones(4, 3, dtype=torch.long) @ torch.ones(3, 2))
    with pytest.raises(expected, match=r"matmul: .*same dtype.*int64 != float32 \(shapes \[4, 3\] and \[3, 2\]\)"):
        ember.ones(4, 3, dtype=ember.int64, device=device) @ ember.ones(3, 2, device=device)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype,name", [(ember.int32, "Int"), (ember.int16, "Short"), (ember.int8, "Char")])
def test_class_index_target_must_be_long_or_byte(device, loss, dtype, name):
    expected = _torch_raises(lambda torch: getattr(torch.nn.functional, loss)(
        torch.randn(4, 3), torch.tensor([0, 1, 2, 0], dtype=getattr(torch, dtype.name))))
    target = ember.tensor([0, 1, 2, 0], dtype=dtype, device=device)
    with pytest.raises(expected, match=rf"{loss}: expected target dtype to be Long or Byte, but got {name} "
                                       r"\(target of shape \[4\], input of shape \[4, 3\]\)"):
        getattr(F, loss)(ember.randn(4, 3, device=device), target)


def test_byte_class_index_target_is_accepted_as_in_torch(device):
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(0).standard_normal((4, 3))
    got = F.cross_entropy(ember.tensor(logits, device=device), ember.tensor([0, 1, 2, 0], dtype=ember.uint8,
                                                                              device=device))
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor([0, 1, 2, 0], dtype=torch.uint8))
    assert got.item() == pytest.approx(ref.item())


@pytest.mark.parametrize("dtype,name", [(ember.int64, "Long"), (ember.float64, "Double")])
def test_bce_target_must_have_the_input_dtype(device, dtype, name):
    expected = _torch_raises(lambda torch: torch.nn.functional.binary_cross_entropy(
        torch.rand(4), torch.tensor([0, 1, 1, 0], dtype=getattr(torch, dtype.name))))
    target = ember.tensor([0, 1, 1, 0], dtype=dtype, device=device)
    with pytest.raises(expected, match=rf"binary_cross_entropy: Found dtype {name} but expected Float "
                                       r"\(target and input of shape \[4\]\)"):
        F.binary_cross_entropy(ember.rand(4, device=device), target)


def test_bce_with_logits_rejects_an_integer_target(device):
    expected = _torch_raises(lambda torch: torch.nn.functional.binary_cross_entropy_with_logits(
        torch.rand(4), torch.tensor([0, 1, 1, 0])))
    with pytest.raises(expected, match=r"binary_cross_entropy_with_logits: result type Float can't be cast to the "
                                       r"desired output type Long"):
        F.binary_cross_entropy_with_logits(ember.rand(4, device=device), ember.tensor([0, 1, 1, 0], device=device))


@pytest.mark.parametrize("make", ["ones", "zeros", "empty", "tensor", "rand", "arange", "full"])
def test_dtype_given_as_a_string_is_a_type_error(device, make):
    args = {"tensor": ([1.0],), "arange": (3,), "full": ((2,), 1.0)}.get(make, (2,))
    expected = _torch_raises(lambda torch: getattr(torch, make)(*args, dtype="float32"))
    with pytest.raises(expected, match=rf"{make}\(\): argument 'dtype' must be ember.dtype, not str"):
        getattr(ember, make)(*args, dtype="float32", device=device)


def test_numpy_conversion_of_a_tensor_requiring_grad_is_refused(device):
    expected = _torch_raises(lambda torch: np.array(torch.ones(2, requires_grad=True)))
    t = ember.ones(2, device=device, requires_grad=True)
    for convert in (np.array, np.asarray):
        with pytest.raises(expected, match=r"requires grad.*detach\(\)"):
            convert(t)
    np.testing.assert_array_equal(np.asarray(t.detach()), [1.0, 1.0])


BROADCAST_CASES = [((2, 3), (2, 4)), ((5, 2, 3), (4, 1, 3)), ((3,), (4,)), ((4, 3), (2, 1, 2))]


@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum", "gt", "eq"])
@pytest.mark.parametrize("sa,sb", BROADCAST_CASES)
def test_broadcast_failure_names_the_dimension_as_torch(device, op, sa, sb):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, op)(torch.ones(sa), torch.ones(sb))
    with pytest.raises(RuntimeError) as ours:
        getattr(ember, op)(ember.ones(sa, device=device), ember.ones(sb, device=device))
    assert str(ours.value).startswith(f"{op}: {theirs.value} (")
    assert str(tuple(sa)) in str(ours.value) and str(tuple(sb)) in str(ours.value)


def test_broadcast_failure_with_grad_and_in_where(device):
    a = ember.ones(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^mul: The size of tensor a \(3\) must match the size of tensor b "
                                           r"\(4\) at non-singleton dimension 1 \(inputs: \(3,\), \(2, 4\)\)$"):
        a * ember.ones(2, 4, device=device)
    with pytest.raises(RuntimeError, match=r"^where: The size of tensor a \(3\) must match the size of tensor b "
                                           r"\(4\) at non-singleton dimension 0 \(inputs: \(3,\), \(3,\), \(4,\)\)$"):
        ember.where(ember.ones(3, dtype=ember.bool, device=device), a, ember.ones(4, device=device))


def test_inplace_broadcast_failures_as_torch(device):
    t = ember.ones(3, device=device)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \[3\] doesn't match the broadcast shape "
                                           r"\[2, 3\]"):
        t.add_(ember.ones(2, 3, device=device))
    with pytest.raises(RuntimeError, match=r"add_: The size of tensor a \(3\) must match the size of tensor b "
                                           r"\(4\) at non-singleton dimension 0"):
        t.add_(ember.ones(4, device=device))
