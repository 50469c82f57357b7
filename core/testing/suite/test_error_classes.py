"""Exceptions of the classes PyTorch raises, where code catches them: an allocation no memory holds is a
RuntimeError saying "out of memory" and the size; shape errors are RuntimeError, out-of-range indices
IndexError; and values PyTorch rejects are rejected (a binary cross-entropy target outside [0, 1],
negative padding larger than the dimension, `nn.Flatten` on a 0-d tensor).

Each case is written against a module `m` (ember, or torch when installed): checked for ember on the
device under test, and for PyTorch itself where it is installed.
"""
import math

import pytest

import ember

CASES = [
    ("empty beyond any memory", lambda m, d: m.empty(2 ** 48, device=d), RuntimeError, "out of memory"),
    ("zeros beyond any memory", lambda m, d: m.zeros(2 ** 24, 2 ** 24, device=d), RuntimeError, "out of memory"),
    ("empty size overflows", lambda m, d: m.empty(2 ** 62, device=d), RuntimeError, "overflow"),
    ("reshape to a wrong size", lambda m, d: m.ones(2, 3, device=d).reshape(4), RuntimeError, r"\[4\].*size 6"),
    ("matmul of mismatched shapes", lambda m, d: m.ones(2, 3, device=d) @ m.ones(2, 3, device=d), RuntimeError,
     "cannot be multiplied"),
    ("cat of mismatched shapes",
     lambda m, d: m.cat([m.ones(2, 3, device=d), m.ones(2, 4, device=d)]), RuntimeError, "[Ss]izes of tensors"),
    ("out-of-range integer index", lambda m, d: m.ones(2, 3, device=d)[5], IndexError, "out of bounds"),
    ("out-of-range negative index", lambda m, d: m.ones(2, 3, device=d)[:, -4], IndexError, "out of bounds"),
    ("bce target above 1",
     lambda m, d: m.nn.functional.binary_cross_entropy(m.full((2,), 0.5, device=d), m.full((2,), 2.0, device=d)),
     RuntimeError, "target should be between 0 and 1"),
    ("bce target below 0",
     lambda m, d: m.nn.BCELoss()(m.full((2,), 0.5, device=d), m.full((2,), -0.1, device=d)),
     RuntimeError, "target should be between 0 and 1"),
    ("bce target nan",
     lambda m, d: m.nn.functional.binary_cross_entropy(m.full((1,), 0.5, device=d), m.full((1,), math.nan, device=d)),
     RuntimeError, "target should be between 0 and 1"),
    ("bce input nan",
     lambda m, d: m.nn.functional.binary_cross_entropy(m.full((1,), math.nan, device=d), m.full((1,), 0.5, device=d)),
     RuntimeError, "input should be between 0 and 1"),
    ("pad crops more than the dim", lambda m, d: m.nn.functional.pad(m.ones(2, 3, device=d), (-4, 0)),
     RuntimeError, "narrow"),
    ("pad crops right more than left",
     lambda m, d: m.nn.functional.pad(m.ones(2, 3, device=d), (1, -5)), RuntimeError, "narrow"),
    ("pad crops an outer dim", lambda m, d: m.nn.functional.pad(m.ones(2, 3, device=d), (0, 0, -3, 2)),
     RuntimeError, "narrow"),
    ("Flatten of a 0-d tensor", lambda m, d: m.nn.Flatten()(m.tensor(1.0, device=d)), IndexError,
     r"[Dd]imension out of range \(expected to be in range of \[-1, 0\], but got 1\)"),
    ("flatten(0, 1) of a 0-d tensor", lambda m, d: m.tensor(1.0, device=d).flatten(0, 1), IndexError,
     "out of range"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_errors_have_pytorchs_exception_class(device, case):
    _, call, exc, match = case
    with pytest.raises(exc, match=match):
        call(ember, device)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pytorch_raises_the_same_exception_class(case):
    """Only the class: PyTorch's messages differ (its CPU allocator says "can't allocate memory")."""
    torch = pytest.importorskip("torch")
    _, call, exc, _ = case
    with pytest.raises(exc):
        call(torch, "cpu")


def test_out_of_memory_says_so_with_the_size(device):
    with pytest.raises(ember.OutOfMemoryError, match=r"empty: out of memory: tried to allocate 1\.00 PiB "
                                                     r"\(1125899906842624 bytes\).*\[281474976710656\].*float32"):
        ember.empty(2 ** 48, device=device)


def test_what_pytorch_accepts_stays_accepted(device):
    F = ember.nn.functional
    assert F.pad(ember.ones(2, 3, device=device), (-3, 0)).shape == (2, 0)
    assert F.pad(ember.ones(2, 3, device=device), (-2, -1)).shape == (2, 0)
    assert F.binary_cross_entropy(ember.full((2,), 0.5, device=device), ember.tensor([0.0, 1.0], device=device)) > 0
    assert ember.nn.Flatten(0)(ember.tensor(1.0, device=device)).shape == (1,)
    assert ember.tensor(1.0, device=device).flatten(0, -1).shape == (1,)
