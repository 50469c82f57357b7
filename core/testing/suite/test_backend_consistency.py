"""Every derived primitive and fused kernel a backend overrides agrees with its default body.

One table gives inputs for every method of the derived and fused tiers; for each installed,
available backend, each overridden method runs on copies of the same inputs as the default body
(`DerivedPrimitives.name(backend, ...)` / `FusedKernels.name(backend, ...)`), and results and
in-place updates must match. Random methods draw different streams by design: their results are
checked for shape, dtype and validity instead. A method added to a tier without a case here
fails `test_every_derived_and_fused_method_has_a_consistency_case`.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import ember
from ember import dtypes
from ember.backends.base import tiers
from ember.backends.derived import DerivedPrimitives
from ember.backends.fused import FusedKernels
from ember.backends.required import RequiredPrimitives
from ember.plugins import get_plugin_manager

F64, F32, I64, BOOL = dtypes.float64, dtypes.float32, dtypes.int64, dtypes.bool


def _arr(bk, host, dtype=F64):
    return bk.asarray(np.asarray(host), dtype)


def _floats(rng, *shape):
    return rng.standard_normal(shape)


def _special(rng, *shape):
    """Floats with NaN, infinities, signed zeros, halves and large magnitudes mixed in."""
    x = rng.standard_normal(shape) * 3
    flat = x.reshape(-1)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 2.5, -2.5, 0.5, 1e300, -1e-300]
    flat[:len(specials)] = specials[:flat.size]
    return x


def _ints(rng, *shape, low=-9, high=10):
    return rng.integers(low, high, shape)


def _conv_args():
    return ((2, 1), (1, 1), (1, 2), 2)  # stride, padding, dilation, groups


# name -> list of case builders: (rng, bk) -> (args, kwargs)
CASES = {
    # ---- derived: transfer and creation
    "from_dlpack": [lambda r, bk: ((_floats(r, 3, 4),), {}), lambda r, bk: ((_ints(r, 5).astype(np.int32),), {}),
                    lambda r, bk: ((np.array([True, False, True]),), {})],  # host numpy arrays, on every backend
    "copy": [lambda r, bk: ((_arr(bk, _floats(r, 3, 4)),), {})],
    "copy_": [lambda r, bk: ((_arr(bk, _floats(r, 3, 4)), _arr(bk, _floats(r, 4))), {}),
              lambda r, bk: ((_arr(bk, _ints(r, 5), I64), 7), {})],
    "empty": [lambda r, bk: (((2, 3), F64), {})],
    "linspace": [lambda r, bk: ((-1.5, 2.0, 7, F64), {}), lambda r, bk: ((0, 10, 4, I64), {}),
                 lambda r, bk: ((3.0, 3.0, 1, F32), {}), lambda r, bk: ((0.0, 1.0, 0, F64), {})],
    "eye": [lambda r, bk: ((3, 5, F64), {}), lambda r, bk: ((4, 2, BOOL), {})],
    # ---- derived: random (checked for shape, dtype and validity)
    "normal": [lambda r, bk: ((bk.new_generator(1), (200, 3), 1.5, 2.0, F64), {})],
    "randint": [lambda r, bk: ((bk.new_generator(2), -3, 4, (500,), I64), {})],
    "permutation": [lambda r, bk: ((bk.new_generator(3), 50, I64), {})],
    "multinomial": [lambda r, bk: ((bk.new_generator(4), _arr(bk, [[0.0, 1.0, 3.0], [2.0, 0.0, 0.0]]), 40, True), {}),
                    lambda r, bk: ((bk.new_generator(5), _arr(bk, [[0.0, 1.0, 3.0, 1.0], [2.0, 1.0, 0.0, 5.0]]), 3,
                                    False), {})],
    # ---- derived: elementwise
    "tan": [lambda r, bk: ((_arr(bk, _floats(r, 4, 3)),), {})],
    "abs": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {}), lambda r, bk: ((_arr(bk, _ints(r, 6), I64),), {})],
    "sign": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {}), lambda r, bk: ((_arr(bk, _ints(r, 6), I64),), {})],
    "ceil": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {})],
    "round": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {}),
              lambda r, bk: ((_arr(bk, [0.125, 2.675, -1.005, 7.0]),), {"decimals": 2})],
    "isnan": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {}), lambda r, bk: ((_arr(bk, _ints(r, 6), I64),), {})],
    "isinf": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {}), lambda r, bk: ((_arr(bk, _ints(r, 6), I64),), {})],
    "logical_not": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)),), {}),
                    lambda r, bk: ((_arr(bk, r.random(6) < 0.5, BOOL),), {})],
    "sub": [lambda r, bk: ((_arr(bk, _floats(r, 4, 3)), _arr(bk, _floats(r, 3))), {}),
            lambda r, bk: ((2.5, _arr(bk, _floats(r, 3))), {}),
            lambda r, bk: ((_arr(bk, _ints(r, 5, low=0, high=200), dtypes.uint8), 7), {})],
    "remainder": [lambda r, bk: ((_arr(bk, _floats(r, 4, 3) * 5), _arr(bk, [1.5, -2.0, 3.0])), {}),
                  lambda r, bk: ((_arr(bk, _ints(r, 8), I64), _arr(bk, [3, -3, 4, -4, 5, 2, -7, 1], I64)), {})],
    "maximum": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)), _arr(bk, _special(r, 3))), {}),
                lambda r, bk: ((_arr(bk, _ints(r, 6), I64), 2), {})],
    "minimum": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)), _arr(bk, _special(r, 3))), {}),
                lambda r, bk: ((_arr(bk, _floats(r, 6)), math.nan), {})],
    "clip": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)), -0.5, 1.0), {}),
             lambda r, bk: ((_arr(bk, _floats(r, 6)), None, 0.25), {}),
             lambda r, bk: ((_arr(bk, _ints(r, 6), I64), -2, None), {})],
    "not_equal": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)), _arr(bk, _special(r, 4, 3))), {})],
    "less_equal": [lambda r, bk: ((_arr(bk, _ints(r, 4, 3), I64), _arr(bk, _ints(r, 3), I64)), {}),
                   lambda r, bk: ((_arr(bk, _special(r, 4, 3)), 0.5), {})],
    "greater": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)), _arr(bk, _special(r, 3))), {})],
    "greater_equal": [lambda r, bk: ((_arr(bk, _ints(r, 4, 3), I64), 1), {})],
    "logical_and": [lambda r, bk: ((_arr(bk, _ints(r, 4, 3, low=-1, high=2), I64), _arr(bk, r.random(3) < .5, BOOL)), {})],
    "logical_or": [lambda r, bk: ((_arr(bk, _special(r, 4, 3)), _arr(bk, _ints(r, 3, low=0, high=2), I64)), {})],
    "logical_xor": [lambda r, bk: ((_arr(bk, r.random((4, 3)) < .5, BOOL), _arr(bk, r.random(3) < .5, BOOL)), {})],
    "bitwise_or": [lambda r, bk: ((_arr(bk, _ints(r, 6, low=-100, high=100), I64), 5), {}),
                   lambda r, bk: ((_arr(bk, r.random(6) < .5, BOOL), _arr(bk, r.random(6) < .5, BOOL)), {})],
    "bitwise_xor": [lambda r, bk: ((_arr(bk, _ints(r, 6, low=-100, high=100), I64), _arr(bk, _ints(r, 6), I64)), {}),
                    lambda r, bk: ((_arr(bk, r.random(6) < .5, BOOL), True), {})],
    # ---- derived: reductions
    "min": [lambda r, bk: ((_arr(bk, _floats(r, 4, 5)), 1, True), {}), lambda r, bk: ((_arr(bk, _special(r, 4, 5)),), {}),
            lambda r, bk: ((_arr(bk, _ints(r, 4, 5, low=0, high=250), dtypes.uint8), 0), {})],
    "argmin": [lambda r, bk: ((_arr(bk, _ints(r, 4, 5, low=0, high=3), I64), 1), {}),
               lambda r, bk: ((_arr(bk, _special(r, 4, 5)),), {})],
    "all": [lambda r, bk: ((_arr(bk, _ints(r, 4, 5, low=0, high=3), I64), 1, True), {}),
            lambda r, bk: ((_arr(bk, np.zeros((0, 3))), 0), {})],
    "any": [lambda r, bk: ((_arr(bk, _ints(r, 4, 5, low=0, high=2), I64), (0, 1)), {}),
            lambda r, bk: ((_arr(bk, np.zeros((0, 3))), 0), {})],
    # ---- derived: shape and indexing
    "flip": [lambda r, bk: ((_arr(bk, _floats(r, 3, 4, 2)), (0, -1)), {})],
    "roll": [lambda r, bk: ((_arr(bk, _floats(r, 3, 4)), (1, -5), (0, 1)), {})],
    "pad": [lambda r, bk: ((_arr(bk, _floats(r, 3, 4)), ((1, 0), (2, 3)), -1.5), {})],
    "take_along_axis": [lambda r, bk: ((_arr(bk, _floats(r, 4, 5)), _arr(bk, _ints(r, 3, 5, low=0, high=4), I64), 0), {}),
                        lambda r, bk: ((_arr(bk, _floats(r, 4, 5)), _arr(bk, _ints(r, 4, 2, low=0, high=5), I64), -1), {})],
    "scatter_add": [lambda r, bk: ((_arr(bk, _floats(r, 4, 5)), 0, _arr(bk, [[0, 1, 0], [0, 3, 3]], I64),
                                    _arr(bk, _floats(r, 3, 4))), {})],
    # ---- fused
    "linear": [lambda r, bk, s=s, b=b: ((_arr(bk, _floats(r, *s)), _arr(bk, _floats(r, 4, 3)),
                                         _arr(bk, _floats(r, 4)) if b else None), {})
               for s in ((3,), (5, 3), (2, 5, 3)) for b in (False, True)],
    "linear_backward": [lambda r, bk, a=a: ((_arr(bk, _floats(r, 2, 5, 4)), *a(r, bk)), {})
                        for a in (lambda r, bk: (_arr(bk, _floats(r, 2, 5, 3)), _arr(bk, _floats(r, 4, 3)), True),
                                  lambda r, bk: (None, _arr(bk, _floats(r, 4, 3)), False),
                                  lambda r, bk: (_arr(bk, _floats(r, 2, 5, 3)), None, True))],
    "logsumexp": [lambda r, bk: ((_arr(bk, _floats(r, 4, 5) * 30), 1), {"keepdims": True}),
                  lambda r, bk: ((_arr(bk, [[-np.inf, -np.inf], [np.inf, 1.0]]), 1), {})],
    "softmax": [lambda r, bk: ((_arr(bk, _floats(r, 4, 5) * 30), 1), {})],
    "log_softmax": [lambda r, bk: ((_arr(bk, _floats(r, 4, 5) * 1e4), -1), {}),
                    lambda r, bk: ((_arr(bk, [[np.inf, 1.0], [-np.inf, -np.inf], [0.0, 1.0]]), 1), {})],
    "sigmoid": [lambda r, bk: ((_arr(bk, np.concatenate([_floats(r, 20) * 10, [-800.0, -40.0, 40.0, 800.0]])),), {})],
    "tanh_backward": [lambda r, bk: ((_arr(bk, _floats(r, 4, 3)), _arr(bk, np.tanh(_floats(r, 4, 3)))), {})],
    "sigmoid_backward": [lambda r, bk: ((_arr(bk, _floats(r, 4, 3)), _arr(bk, r.random((4, 3)))), {})],
    "relu_backward": [lambda r, bk: ((_arr(bk, _floats(r, 4, 3)), _arr(bk, np.maximum(_floats(r, 4, 3), 0))), {})],
    "im2col": [lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 6, 5)), (3, 2), (2, 1), (1, 1), (1, 2)), {})],
    "col2im": [lambda r, bk: ((_arr(bk, _floats(r, 2, 18, 4 * 3)), (6, 5), (3, 3), (2, 1), (1, 0), (1, 1)), {})],
    "conv2d": [lambda r, bk: ((_arr(bk, _floats(r, 2, 4, 7, 6)), _arr(bk, _floats(r, 6, 2, 3, 2)), *_conv_args()), {}),
               lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 7, 6)), _arr(bk, _floats(r, 4, 3, 3, 3)), (1, 1), (1, 1),
                               (1, 1), 1), {})],
    "conv2d_backward_input": [
        lambda r, bk: ((_arr(bk, _floats(r, 2, 6, 4, 6)), _arr(bk, _floats(r, 6, 2, 3, 2)), (7, 6), *_conv_args()), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 2, 4, 5, 4)), _arr(bk, _floats(r, 4, 3, 3, 3)), (7, 6), (1, 1), (0, 0),
                        (1, 1), 1), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 1, 2, 3, 3)), _arr(bk, _floats(r, 2, 1, 2, 2)), (8, 8), (3, 3), (1, 1),
                        (2, 2), 1), {})],
    "conv2d_backward_weight": [
        lambda r, bk: ((_arr(bk, _floats(r, 2, 4, 7, 6)), _arr(bk, _floats(r, 2, 6, 4, 6)), (3, 2), *_conv_args()), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 3, 1, 8, 8)), _arr(bk, _floats(r, 3, 4, 6, 6)), (3, 3), (1, 1), (0, 0),
                        (1, 1), 1), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 1, 2, 8, 8)), _arr(bk, _floats(r, 1, 2, 2, 2)), (2, 2), (3, 3), (1, 1),
                        (2, 2), 1), {})],
    # (C/groups*kh*kw <= O: numpy and cupy run these sample-major; the others channel-major)
    "conv2d_bias": [
        lambda r, bk: ((_arr(bk, _floats(r, 2, 4, 7, 6)), _arr(bk, _floats(r, 6, 2, 3, 2)), _arr(bk, _floats(r, 6)),
                        *_conv_args()), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 2, 1, 7, 6)), _arr(bk, _floats(r, 9, 1, 3, 3)), _arr(bk, _floats(r, 9)),
                        (1, 1), (1, 1), (1, 1), 1), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 3, 2, 8, 7)), _arr(bk, _floats(r, 5, 2, 2, 1)), None, (2, 1), (0, 1),
                        (2, 1), 1), {})],
    "conv2d_backward_weight_bias": [
        lambda r, bk: ((_arr(bk, _floats(r, 2, 4, 7, 6)), _arr(bk, _floats(r, 2, 6, 4, 6)), (3, 2), *_conv_args()), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 2, 1, 7, 6)), _arr(bk, _floats(r, 2, 9, 7, 6)), (3, 3), (1, 1), (1, 1),
                        (1, 1), 1), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 6, 6)), _arr(bk, _floats(r, 2, 4, 4, 4)), (3, 3), (1, 1), (0, 0),
                        (1, 1), 1), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 3, 2, 8, 7)), _arr(bk, _floats(r, 3, 5, 3, 6)), (2, 1), (2, 1), (0, 1),
                        (2, 1), 1), {})],
    "max_pool2d": [
        lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 7, 6)), (3, 2), (2, 1), (1, 1), (1, 2), (4, 4)), {}),
        lambda r, bk: ((_arr(bk, _ints(r, 2, 3, 6, 8, low=0, high=3).astype(float)), (2, 2), (2, 2), (0, 0), (1, 1),
                        (3, 4)), {}),
        lambda r, bk: ((_arr(bk, _special(r, 1, 2, 6, 6)), (2, 2), (2, 2), (0, 0), (1, 1), (3, 3)), {}),
        lambda r, bk: ((_arr(bk, _ints(r, 1, 3, 7, 6, low=0, high=3).astype(float)), (3, 2), (3, 2), (0, 0), (1, 1),
                        (2, 3)), {})],
    "max_pool2d_backward": [
        lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 4, 4)), _arr(bk, _ints(r, 2, 3, 4, 4, low=0, high=6), I64), (7, 6),
                        (3, 2), (2, 1), (1, 1), (1, 2)), {}),
        lambda r, bk: ((_arr(bk, _floats(r, 1, 3, 2, 3)), _arr(bk, _ints(r, 1, 3, 2, 3, low=0, high=6), I64), (7, 6),
                        (3, 2), (3, 2), (0, 0), (1, 1)), {})],
    "avg_pool2d": [lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 7, 6)), (3, 2), (2, 2), (1, 1), (4, 4), False, None), {}),
                   lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 7, 6)), (3, 3), (2, 2), (1, 1), (4, 3), True, 5), {})],
    "avg_pool2d_backward": [lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 4, 4)), (7, 6), (3, 2), (2, 2), (1, 1), False,
                                            None), {}),
                            lambda r, bk: ((_arr(bk, _floats(r, 2, 3, 4, 3)), (7, 6), (3, 3), (2, 2), (1, 1), True,
                                            None), {})],
    "sgd_step": [lambda r, bk, b=b, o=o: ((_arr(bk, _floats(r, 3, 2)), _arr(bk, _floats(r, 3, 2)),
                                           _arr(bk, _floats(r, 3, 2)) if b else None), o)
                 for b in (False, True)
                 for o in (dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
                           dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False, maximize=True),
                           dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True, maximize=False),
                           dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.1, nesterov=False, maximize=False))],
    "adam_step": [lambda r, bk, ams=ams, dec=dec: (
        (_arr(bk, _floats(r, 3, 2)), _arr(bk, _floats(r, 3, 2)), _arr(bk, _floats(r, 3, 2)),
         _arr(bk, r.random((3, 2))), _arr(bk, r.random((3, 2))) if ams else None),
        dict(step=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled_weight_decay=dec,
             maximize=ams))
        for ams in (False, True) for dec in (False, True)],
}
NO_VALUE = {"synchronize", "owns_memory", "empty"}  # results that may legitimately differ
RANDOM = {"normal", "randint", "permutation", "multinomial"}
ANY_INTEGER_DTYPE = {"max_pool2d"}  # its argmax may be any integer dtype
# nothing to compare: hints a backend may answer its own way (fused chains: test_fused_chains.py)
SKIP = {"synchronize", "owns_memory", "fuse_elementwise"}


def _available_backends():
    out = []
    for name, cls in sorted(get_plugin_manager().backends.by_name.items()):
        try:
            ok, _ = cls.is_available()
        except Exception:
            ok = False
        if ok:
            out.append(name)
    return out


def _backend(name):
    cls = get_plugin_manager().backends.by_name[name]
    return ember.device(cls.device_type if cls.device_type == "cpu" else f"{cls.device_type}:0").backend


def _default(name):
    return getattr(DerivedPrimitives if name in tiers()["derived"] else FusedKernels, name)


def _overrides(name):
    cls = type(_backend(name))
    derived_and_fused = tiers()["derived"] + tiers()["fused"]
    return [m for m in derived_and_fused if getattr(cls, m) is not _default(m) and m not in SKIP]


def _params():
    params = []
    for backend in _available_backends():
        for method in _overrides(backend):
            for i in range(len(CASES[method])):
                params.append(pytest.param(backend, method, i, id=f"{backend}-{method}-{i}"))
    return params


def _host(bk, x):
    return None if x is None else np.asarray(bk.to_numpy(x)) if not isinstance(x, (int, float, bool)) else x


def _copy_args(bk, args):
    return [bk.copy(a) if hasattr(a, "shape") else a for a in args]


def _assert_same(bk, got, want, what, any_integer=False):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_same(bk, g, w, f"{what}[{i}]", any_integer)
        return
    if want is None:
        assert got is None, f"{what}: expected None"
        return
    mine, theirs = bk.dtype_of(got), bk.dtype_of(want)
    if not (any_integer and mine._kind == theirs._kind == 1):
        assert mine is theirs, f"{what}: dtype {mine} != {theirs}"
    g, w = _host(bk, got), _host(bk, want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
    if w.dtype.kind == "f":
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def _check_random(bk, method, result, args):
    r = _host(bk, result)
    if method == "normal":
        assert r.shape == (200, 3) and bk.dtype_of(result) is F64 and abs(r.mean() - 1.5) < 0.6 and 1.5 < r.std() < 2.5
    elif method == "randint":
        assert bk.dtype_of(result) is I64 and r.min() >= -3 and r.max() < 4 and len(set(r.tolist())) == 7
    elif method == "permutation":
        assert bk.dtype_of(result) is I64 and sorted(r.tolist()) == list(range(50))
    else:
        probs, num_samples, replacement = _host(bk, args[1]), args[2], args[3]
        assert bk.dtype_of(result) is I64 and r.shape == (probs.shape[0], num_samples)
        for row, p in zip(r, probs):
            assert all(p[i] > 0 for i in row)  # a zero-weight category is never drawn
            assert replacement or len(set(row.tolist())) == len(row)


@pytest.mark.no_device
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the cases hold inf and NaN
@pytest.mark.parametrize("backend, method, case", _params())
def test_an_overridden_method_agrees_with_its_default_body(backend, method, case):
    bk = _backend(backend)
    args, kwargs = CASES[method][case](np.random.default_rng(case), bk)
    mine, theirs = _copy_args(bk, args), _copy_args(bk, args)
    got = getattr(bk, method)(*mine, **kwargs)
    if method in RANDOM:
        _check_random(bk, method, got, args)
        return
    want = _default(method)(bk, *theirs, **kwargs)
    if method in NO_VALUE:
        assert got.shape == want.shape and bk.dtype_of(got) is bk.dtype_of(want)
        return
    _assert_same(bk, got, want, f"{backend}.{method} result", method in ANY_INTEGER_DTYPE)
    for i, (m, t) in enumerate(zip(mine, theirs)):  # in-place updates (copy_, sgd_step, adam_step, ...)
        if t is not None and hasattr(t, "shape"):
            _assert_same(bk, m, t, f"{backend}.{method} argument {i} after the call")


@pytest.mark.no_device
def test_every_derived_and_fused_method_has_a_consistency_case():
    methods = set(tiers()["derived"] + tiers()["fused"]) - SKIP
    assert methods <= set(CASES), f"no consistency case for: {sorted(methods - set(CASES))}"
    assert set(CASES) <= methods, f"cases for methods not in the interface: {sorted(set(CASES) - methods)}"


@pytest.mark.no_device
@pytest.mark.parametrize("backend", _available_backends())
def test_overrides_keep_the_interface_signatures(backend):
    """An override takes the parameters of the interface method (names, order, kinds, defaults)."""
    cls = type(_backend(backend))
    for tier, names in tiers().items():
        for name in names:
            ours = inspect.signature(getattr(cls, name))
            base = inspect.signature(getattr(RequiredPrimitives, name) if tier == "required" else _default(name))
            if list(ours.parameters) == ["self", "args", "kwargs"]:
                continue  # a ufunc-backed primitive, bound per instance
            assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
                   [(p.name, p.kind, p.default) for p in base.parameters.values()], f"{backend}.{name}{ours} != {base}"


@pytest.mark.no_device
def test_the_reference_backend_overrides_no_derived_primitive_or_fused_kernel():
    assert "reference" in get_plugin_manager().backends.by_name
    assert _overrides("reference") == []
