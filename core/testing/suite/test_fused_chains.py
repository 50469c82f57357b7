"""The backend's `fuse_elementwise` hook: a callable it returns for a chain of elementwise calls equals
the calls made one by one (`elementwise_chain.run_unfused`) bit for bit, with and without `out=`.
A backend may decline any chain (None)."""
import numpy as np
import pytest

import ember
from ember.backends.elementwise_chain import ElementwiseChain, Operand, Step, run_unfused

F32, F64, I64 = ember.float32, ember.float64, ember.int64


def _in(i):
    return Operand("input", i)


def _step(i):
    return Operand("step", i)


def _scalar(v):
    return Operand("scalar", v)


# name -> (steps, input shapes, result shape, dtype)
CHAINS = {
    "tanh_backward": (((("mul", (_in(1), _in(1))), ("sub", (_scalar(1), _step(0))), ("mul", (_in(0), _step(1))))),
                      [(3, 4), (3, 4)], (3, 4), F32),
    "relu_mul_add": ((("maximum", (_in(0), _scalar(0))), ("mul", (_step(0), _in(1))), ("add", (_step(1), _in(2)))),
                     [(3, 4), (3, 4), (4,)], (3, 4), F32),
    "affine_neg_abs_sqrt_div": ((("mul", (_in(0), _scalar(0.5))), ("add", (_step(0), _in(1))), ("neg", (_step(1),)),
                                 ("abs", (_step(2),)), ("sqrt", (_step(3),)), ("div", (_step(4), _scalar(3)))),
                                [(2, 5), (1, 5)], (2, 5), F64),
    "sigmoid_of_exp_keeps_two_results": ((("exp", (_in(0),)), ("add", (_step(0), _scalar(1.0))),
                                          ("div", (_step(0), _step(1)))), [(6,)], (6,), F64),
    "integer": ((("mul", (_in(0), _scalar(3))), ("add", (_step(0), _in(1)))), [(4,), (4,)], (4,), I64),
    "zero_dim": ((("sub", (_in(0), _in(1))), ("mul", (_step(0), _step(0)))), [(), ()], (), F32),
}


def _chain(name):
    steps, shapes, shape, dtype = CHAINS[name]
    return ElementwiseChain(tuple(Step(op, tuple(ops)) for op, ops in steps), tuple((s, dtype) for s in shapes),
                            shape, dtype)


def _inputs(bk, chain, seed):
    rng = np.random.default_rng(seed)
    if chain.dtype is I64:
        return [bk.asarray(rng.integers(-50, 50, s), I64) for s, _ in chain.inputs]
    return [bk.asarray(rng.standard_normal(s), d) for s, d in chain.inputs]


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_a_fused_chain_equals_its_calls_one_by_one(device, name):
    bk = device.backend
    chain = _chain(name)
    if chain.dtype not in bk.supported_dtypes:
        pytest.skip(f"the {bk.name} backend has no {chain.dtype}")
    fn = bk.fuse_elementwise(chain)
    if fn is None:
        return  # declined: the calls run one by one
    inputs = _inputs(bk, chain, 0)
    before = [bk.to_numpy(bk.copy(a)) for a in inputs]
    want = bk.to_numpy(run_unfused(bk, chain, inputs))
    got = fn(*inputs)
    assert tuple(got.shape) == chain.shape and bk.dtype_of(got) is chain.dtype
    np.testing.assert_array_equal(bk.to_numpy(got), want)
    out = bk.empty(chain.shape, chain.dtype)
    assert fn(*inputs, out=out) is out
    np.testing.assert_array_equal(bk.to_numpy(out), want)
    for a, b in zip(inputs, before):  # inputs are read, never written
        np.testing.assert_array_equal(bk.to_numpy(a), b)

