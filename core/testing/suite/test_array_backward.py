"""The engine's first-order protocol: an `Op` with an array-level `backward_arrays` must give the same
gradients as its differentiable tensor-op `backward`, and the engine must call each in its own case.

`SAMPLES` holds, for every op class with `backward_arrays`, the calls that exercise it (float64, random
inputs); an op with a fast backward and no entry here fails `test_every_array_backward_has_samples`.
"""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd.node import Op
from ember.ops.activations import LogSoftmax, Softmax
from ember.ops.convolution import Convolution
from ember.ops.elementwise import (Add, AddScalar, Div, DivScalar, Exp, Mul, MulScalar, Neg, Relu, Sigmoid, Sub,
                                  SubScalar, Tanh)
from ember.ops.linear import Linear
from ember.ops.losses import CrossEntropyIndex
from ember.ops.normalization import BatchNorm, LayerNorm
from ember.ops.reduction import Mean, Sum


def _cross_entropy_ignored(r, x):
    t = ember.tensor(r.integers(0, 5, (6,)), device=x.device)
    t[1] = -1
    w = ember.tensor(r.random(5) + 0.5, device=x.device)
    return F.cross_entropy(x, t, weight=w, ignore_index=-1)


# op class -> [(name, input shapes, fn(rng, *inputs) -> output)]
SAMPLES = {
    Add: [("add", [(3, 4), (3, 4)], lambda r, a, b: a + b),
          ("add_broadcast", [(2, 3, 4), (3, 1)], lambda r, a, b: a + b)],
    Sub: [("sub", [(3, 4), (3, 4)], lambda r, a, b: a - b),
          ("sub_broadcast", [(4,), (3, 4)], lambda r, a, b: a - b)],
    Mul: [("mul", [(3, 4), (3, 4)], lambda r, a, b: a * b),
          ("mul_broadcast", [(3, 1), (2, 1, 4)], lambda r, a, b: a * b),
          ("mul_one_side", [(3, 4)], lambda r, a: a * ember.tensor(r.standard_normal((3, 4)), device=a.device))],
    Div: [("div", [(3, 4), (3, 4)], lambda r, a, b: a / (b * b + 1.0)),
          ("div_broadcast", [(2, 3, 4), (4,)], lambda r, a, b: a / (b.abs() + 0.5))],
    DivScalar: [("div_scalar", [(2, 3)], lambda r, a: a / 4.0)],
    Sum: [("sum_all", [(3, 4)], lambda r, a: a.sum()),
          ("sum_dim_keepdim", [(2, 3, 4)], lambda r, a: a.sum(1, keepdim=True)),
          ("sum_dims", [(2, 3, 4)], lambda r, a: a.sum((0, 2)))],
    Mean: [("mean_all", [(3, 4)], lambda r, a: a.mean()),
           ("mean_dim", [(2, 3, 4)], lambda r, a: a.mean(-1))],
    Softmax: [("softmax", [(3, 5)], lambda r, a: F.softmax(a, 1))],
    LogSoftmax: [("log_softmax", [(3, 5)], lambda r, a: F.log_softmax(a, 0))],
    AddScalar: [("add_scalar", [(5,)], lambda r, a: a + 2.5)],
    SubScalar: [("sub_scalar", [(5,)], lambda r, a: a - 2.5)],
    MulScalar: [("mul_scalar", [(2, 3)], lambda r, a: a * -1.5)],
    Neg: [("neg", [(2, 3)], lambda r, a: -a)],
    Exp: [("exp", [(2, 3)], lambda r, a: a.exp())],
    Tanh: [("tanh", [(2, 3)], lambda r, a: a.tanh())],
    Sigmoid: [("sigmoid", [(2, 3)], lambda r, a: a.sigmoid())],
    Relu: [("relu", [(3, 4)], lambda r, x: x.relu())],
    Convolution: [("conv2d_first_layer_bias", [(2, 1, 7, 6), (9, 1, 3, 3), (9,)],
                   lambda r, x, w, b: F.conv2d(x, w, b, padding=1)),
                  ("conv2d_bias_stride_dilation", [(2, 3, 8, 7), (4, 3, 3, 2), (4,)],
                   lambda r, x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
                  ("conv2d_groups_bias", [(2, 4, 6, 5), (6, 2, 2, 3), (6,)],
                   lambda r, x, w, b: F.conv2d(x, w, b, padding=1, groups=2)),
                  ("conv2d_no_bias", [(1, 2, 5, 5), (3, 2, 3, 3)], lambda r, x, w: F.conv2d(x, w, stride=2))],
    Linear: [("linear_bias", [(5, 3), (4, 3), (4,)], lambda r, x, w, b: F.linear(x, w, b)),
             ("linear_batched", [(2, 5, 3), (4, 3)], lambda r, x, w: F.linear(x, w))],
    BatchNorm: [("batch_norm_train", [(4, 3, 2), (3,), (3,)],
                 lambda r, x, w, b: F.batch_norm(x, ember.zeros(3, dtype=x.dtype, device=x.device),
                                                 ember.ones(3, dtype=x.dtype, device=x.device), w, b,
                                                 training=True)),
                ("batch_norm_eval", [(4, 3, 2), (3,), (3,)],
                 lambda r, x, w, b: F.batch_norm(x, ember.tensor(r.random(3), device=x.device),
                                                 ember.tensor(r.random(3) + 0.5, device=x.device), w, b)),
                ("batch_norm_no_affine", [(5, 3)], lambda r, x: F.batch_norm(x, None, None, training=True))],
    LayerNorm: [("layer_norm", [(2, 3, 4), (3, 4), (3, 4)], lambda r, x, w, b: F.layer_norm(x, (3, 4), w, b)),
                ("layer_norm_no_affine", [(4, 5)], lambda r, x: F.layer_norm(x, (5,)))],
    CrossEntropyIndex: [
        ("cross_entropy", [(6, 5)],
         lambda r, x: F.cross_entropy(x, ember.tensor(r.integers(0, 5, (6,)), device=x.device))),
        ("cross_entropy_weight_ignore", [(6, 5)], _cross_entropy_ignored),
        ("cross_entropy_spatial_none", [(2, 4, 3)],
         lambda r, x: F.cross_entropy(x, ember.tensor(r.integers(0, 4, (2, 3)), device=x.device), reduction="none")),
        ("cross_entropy_sum", [(3, 4)],
         lambda r, x: F.cross_entropy(x, ember.tensor(r.integers(0, 4, (3,)), device=x.device), reduction="sum"))],
}


def _ember_op_classes():
    found, stack = [], [Op]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("ember.") and not sub.__module__.startswith("ember.testing"):
                found.append(sub)
    return found


def test_every_array_backward_has_samples():
    missing = [f"{c.__module__}.{c.__qualname__}" for c in _ember_op_classes()
               if c.backward_arrays is not None and c not in SAMPLES]
    assert not missing, f"ops with backward_arrays but no entry in SAMPLES: {missing}"


def test_samples_cover_only_array_backward_ops():
    assert all(cls.backward_arrays is not None for cls in SAMPLES)


CASES = [(cls, *case) for cls, cases in SAMPLES.items() for case in cases]


@pytest.mark.parametrize("cls,name,shapes,fn", CASES, ids=[c[1] for c in CASES])
def test_array_backward_matches_differentiable_backward(monkeypatch, device, cls, name, shapes, fn):
    calls = []
    fast = cls.backward_arrays

    def spy(self, *grads):
        calls.append(type(self))
        return fast(self, *grads)

    monkeypatch.setattr(cls, "backward_arrays", spy)
    rng = np.random.default_rng(0)
    inputs = [ember.tensor(rng.standard_normal(s), device=device, requires_grad=True) for s in shapes]
    out = fn(rng, *inputs)
    assert type(out.grad_fn) is cls, f"{name} does not produce a {cls.__name__} node"
    g = ember.tensor(rng.standard_normal(tuple(out.shape)), device=device)
    slow = ember.autograd.grad(out, inputs, g, retain_graph=True, create_graph=True)
    assert not calls, "the engine called backward_arrays while creating a graph"
    first = ember.autograd.grad(out, inputs, g)
    assert calls == [cls], "the engine did not call backward_arrays for a first-order backward"
    for i, (a, b) in enumerate(zip(first, slow)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{name}: input {i}"
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{name}: input {i}")


def test_array_backward_may_defer_to_backward(monkeypatch, device):
    monkeypatch.setattr(Relu, "backward_arrays", lambda self, g: None)
    x = ember.tensor([-1.0, 2.0], device=device, requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


def test_array_backward_returning_one_array_twice_gives_leaves_separate_grads(monkeypatch, device):
    def same_new_array_twice(self, g):
        fresh = self.bk.mul(g, 1.0)
        return fresh, fresh

    monkeypatch.setattr(Add, "backward_arrays", same_new_array_twice, raising=False)
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = ember.tensor([3.0, 4.0], device=device, requires_grad=True)
    ((x + y) * 2.0).sum().backward()
    x.grad.add_(1.0)
    assert x.grad.tolist() == [3.0, 3.0] and y.grad.tolist() == [2.0, 2.0]
