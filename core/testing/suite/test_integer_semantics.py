"""Integer semantics as PyTorch's: integer division by zero raises `RuntimeError: ZeroDivisionError`;
Python data that does not fit the tensor's integer dtype raises instead of wrapping (`tensor([2**63])`,
`tensor([300], dtype=uint8)`); arithmetic inside an integer dtype wraps around, two's complement
(int8 127 + 1 == -128), and so does an int operand (int8 tensor + 300 adds 44). No case lets numpy warn.

One table, one harness: each case is written against a module `m` (ember, or torch when installed), so
the same cases are checked against hand-computed expectations and, where torch is present, against
PyTorch itself.
"""
import math
import warnings

import pytest

import ember


class Raises:
    def __init__(self, exc: type, match: str) -> None:
        self.exc, self.match = exc, match


def _i(m, values, dtype, d):
    return m.tensor(values, dtype=getattr(m, dtype), device=d)


ZERO = Raises(RuntimeError, "ZeroDivisionError")
LONG_LONG = Raises(ValueError, "Overflow when unpacking long long")


def _no_room(dtype: str) -> Raises:
    return Raises(RuntimeError, f"cannot be converted to type {dtype}")


def _add_(t, value):
    t.add_(value)
    return t


def _fill_(t, value):
    t.fill_(value)
    return t


CASES = [
    # ---- integer division by zero raises -------------------------------------------------------
    ("floordiv scalar zero", lambda m, d: _i(m, [5, -7], "int64", d) // 0, ZERO),
    ("mod scalar zero", lambda m, d: _i(m, [5, -7], "int64", d) % 0, ZERO),
    ("floor_divide zero", lambda m, d: m.floor_divide(_i(m, [5], "int64", d), 0), ZERO),
    ("remainder zero", lambda m, d: m.remainder(_i(m, [5], "int64", d), 0), ZERO),
    ("div floor zero", lambda m, d: m.div(_i(m, [5], "int64", d), 0, rounding_mode="floor"), ZERO),
    ("div trunc zero", lambda m, d: m.div(_i(m, [5], "int64", d), 0, rounding_mode="trunc"), ZERO),
    ("floordiv tensor with a zero", lambda m, d: _i(m, [5, 6], "int64", d) // _i(m, [1, 0], "int64", d), ZERO),
    ("mod tensor with a zero", lambda m, d: _i(m, [5, 6], "int64", d) % _i(m, [1, 0], "int64", d), ZERO),
    ("reflected floordiv", lambda m, d: 5 // _i(m, [0, 1], "int64", d), ZERO),
    ("reflected mod", lambda m, d: 5 % _i(m, [0, 1], "int64", d), ZERO),
    ("uint8 mod zero", lambda m, d: _i(m, [5], "uint8", d) % 0, ZERO),
    ("int8 floordiv int8 zero", lambda m, d: _i(m, [5], "int8", d) // _i(m, [0], "int8", d), ZERO),
    ("int32 floordiv promoted int64 zero", lambda m, d: _i(m, [5, 6], "int32", d) // _i(m, [2, 0], "int64", d),
     ZERO),
    ("bool floordiv int zero", lambda m, d: _i(m, [True], "bool", d) // 0, ZERO),
    ("empty floordiv zero is empty", lambda m, d: _i(m, [], "int64", d) // 0, ([], "int64")),
    ("floordiv without zero", lambda m, d: _i(m, [7, -7], "int64", d) // _i(m, [2, 2], "int64", d), ([3, -4], "int64")),
    ("div trunc without zero", lambda m, d: m.div(_i(m, [7, -7], "int64", d), 2, rounding_mode="trunc"),
     ([3, -3], "int64")),

    # ---- Python data that does not fit raises --------------------------------------------------
    ("2**63", lambda m, d: m.tensor([2 ** 63], device=d), LONG_LONG),
    ("2**63 scalar", lambda m, d: m.tensor(2 ** 63, device=d), LONG_LONG),
    ("-2**63-1", lambda m, d: m.tensor([-2 ** 63 - 1], device=d), LONG_LONG),
    ("2**70", lambda m, d: m.tensor([2 ** 70], device=d), LONG_LONG),
    ("2**63 into int32", lambda m, d: _i(m, [2 ** 63], "int32", d), LONG_LONG),
    ("as_tensor 2**63", lambda m, d: m.as_tensor([2 ** 63], device=d), LONG_LONG),
    ("300 into uint8", lambda m, d: _i(m, [300], "uint8", d), _no_room("uint8")),
    ("300 scalar into uint8", lambda m, d: _i(m, 300, "uint8", d), _no_room("uint8")),
    ("-256 into uint8", lambda m, d: _i(m, [-256], "uint8", d), _no_room("uint8")),
    ("200 into int8", lambda m, d: _i(m, [200], "int8", d), _no_room("int8")),
    ("-129 into int8", lambda m, d: _i(m, [-129], "int8", d), _no_room("int8")),
    ("2**40 into int32", lambda m, d: _i(m, [2 ** 40], "int32", d), _no_room("int32")),
    ("255.9 into uint8", lambda m, d: _i(m, [255.9], "uint8", d), _no_room("uint8")),
    ("-0.5 into uint8", lambda m, d: _i(m, [-0.5], "uint8", d), _no_room("uint8")),
    ("127.5 into int8", lambda m, d: _i(m, [127.5], "int8", d), _no_room("int8")),
    ("nan into int64", lambda m, d: _i(m, [math.nan], "int64", d), _no_room("int64")),
    ("inf into int32", lambda m, d: _i(m, [math.inf], "int32", d), _no_room("int32")),
    ("as_tensor 300 into uint8", lambda m, d: m.as_tensor([300], dtype=m.uint8, device=d), _no_room("uint8")),
    ("full 300 uint8", lambda m, d: m.full((2,), 300, dtype=m.uint8, device=d), _no_room("uint8")),
    ("full 2**63", lambda m, d: m.full((1,), 2 ** 63, device=d), _no_room("int64")),
    ("fill_ 300 int8", lambda m, d: _fill_(_i(m, [1], "int8", d), 300), _no_room("int8")),

    # ---- ... and what does fit is stored as PyTorch stores it ----------------------------------
    ("-1 into uint8 wraps", lambda m, d: _i(m, [-1, -255], "uint8", d), ([255, 1], "uint8")),
    ("floats truncate into int8", lambda m, d: _i(m, [2.7, -2.7], "int8", d), ([2, -2], "int8")),
    ("bools into uint8", lambda m, d: _i(m, [True, 255], "uint8", d), ([1, 255], "uint8")),
    ("int64 max", lambda m, d: m.tensor([2 ** 63 - 1, -2 ** 63], device=d), ([2 ** 63 - 1, -2 ** 63], "int64")),
    ("2**63 as float64", lambda m, d: _i(m, [2 ** 63], "float64", d), ([2.0 ** 63], "float64")),
    ("1e10 into float16 is inf", lambda m, d: _i(m, [1e10], "float16", d), ([math.inf], "float16")),
    ("full -1 uint8 wraps", lambda m, d: m.full((2,), -1, dtype=m.uint8, device=d), ([255, 255], "uint8")),

    # ---- integer arithmetic wraps around ------------------------------------------------------
    ("int8 127 + 1", lambda m, d: _i(m, [127], "int8", d) + 1, ([-128], "int8")),
    ("int8 127 + int8 1", lambda m, d: _i(m, [127], "int8", d) + _i(m, [1], "int8", d), ([-128], "int8")),
    ("int8 -128 - 1", lambda m, d: _i(m, [-128], "int8", d) - 1, ([127], "int8")),
    ("uint8 0 - 1", lambda m, d: _i(m, [0], "uint8", d) - 1, ([255], "uint8")),
    ("uint8 255 + uint8 1", lambda m, d: _i(m, [255], "uint8", d) + _i(m, [1], "uint8", d), ([0], "uint8")),
    ("int8 100 * 2", lambda m, d: _i(m, [100], "int8", d) * 2, ([-56], "int8")),
    ("int8 * 1000", lambda m, d: _i(m, [1], "int8", d) * 1000, ([-24], "int8")),
    ("uint8 + 300", lambda m, d: _i(m, [1], "uint8", d) + 300, ([45], "uint8")),
    ("uint8 - 256", lambda m, d: _i(m, [0], "uint8", d) - 256, ([0], "uint8")),
    ("int16 max + 1", lambda m, d: _i(m, [2 ** 15 - 1], "int16", d) + 1, ([-2 ** 15], "int16")),
    ("int32 max + 1", lambda m, d: _i(m, [2 ** 31 - 1], "int32", d) + 1, ([-2 ** 31], "int32")),
    ("int64 max + 1", lambda m, d: m.tensor([2 ** 63 - 1], device=d) + 1, ([-2 ** 63], "int64")),
    ("int64 max + tensor 1", lambda m, d: m.tensor([2 ** 63 - 1], device=d) + m.tensor([1], device=d),
     ([-2 ** 63], "int64")),
    ("int64 4 * 2**62", lambda m, d: m.tensor([4], device=d) * 2 ** 62, ([0], "int64")),
    ("int64 + 2**63", lambda m, d: m.tensor([0], device=d) + 2 ** 63, ([-2 ** 63], "int64")),
    ("neg int8 min", lambda m, d: -_i(m, [-128], "int8", d), ([-128], "int8")),
    ("abs int8 min", lambda m, d: _i(m, [-128], "int8", d).abs(), ([-128], "int8")),
    ("int8 min % -1", lambda m, d: _i(m, [-128], "int8", d) % -1, ([0], "int8")),
    ("int8 2 ** 10", lambda m, d: _i(m, [2], "int8", d) ** 10, ([0], "int8")),
    ("int8 3 ** 5", lambda m, d: _i(m, [3], "int8", d) ** 5, ([-13], "int8")),
    ("int8 add_ 300", lambda m, d: _add_(_i(m, [1], "int8", d), 300), ([45], "int8")),
    ("int8 sum promotes", lambda m, d: _i(m, [100, 100], "int8", d).sum().reshape(1), ([200], "int64")),
    ("int8 + 2**70", lambda m, d: _i(m, [1], "int8", d) + 2 ** 70, Raises(OverflowError, "64 bits|too big")),
]


def _run(case, m, device):
    """The case's result as (values, dtype name), or the exception it raised; numpy warnings are errors."""
    _, fn, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(m, device)
    return out.tolist(), str(out.dtype).split(".")[-1]


def _check(case, m, device) -> None:
    name, _, expected = case
    if isinstance(expected, Raises):
        with pytest.raises(expected.exc, match=expected.match):
            _run(case, m, device)
        return
    values, dtype = _run(case, m, device)
    assert dtype == expected[1], name
    assert values == expected[0], name


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_integer_semantics_follow_pytorch(device, case):
    _check(case, ember, device)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pytorch_agrees_with_the_integer_semantics_table(case):
    torch = pytest.importorskip("torch")
    _check(case, torch, "cpu")


def test_integer_division_by_zero_names_the_op_and_dtype(device):
    with pytest.raises(RuntimeError, match=r"ZeroDivisionError: remainder: .*int16"):
        ember.tensor([3], dtype=ember.int16, device=device) % 0


def test_overflowing_python_data_names_the_value_and_dtype(device):
    with pytest.raises(RuntimeError, match=r"ember.tensor: value 300 cannot be converted to type uint8"):
        ember.tensor([1, 300], dtype=ember.uint8, device=device)
