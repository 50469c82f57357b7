"""`linear`'s gradients to any order: the `linear_backward` kernel is the first-order formula on both of the
engine's walks (arrays without a graph, gradient ops with one), and each gradient op's backward is made of
`linear` and the other gradient ops. Checked against finite differences in float64."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import grad, gradcheck, gradgradcheck

# (input shape, with bias): 1-D, 2-D and 3-D inputs against a (4, 3) weight
CASES = [((3,), True), ((3,), False), ((5, 3), True), ((5, 3), False), ((2, 5, 3), True), ((2, 5, 3), False)]


def _inputs(shape, bias: bool, device, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [shape, (4, 3)] + ([(4,)] if bias else [])
    return [ember.tensor(rng.standard_normal(s), dtype=ember.float64, device=device, requires_grad=True)
            for s in shapes]


@pytest.mark.parametrize("shape,bias", CASES, ids=str)
def test_linear_gradients_match_finite_differences_to_second_order(shape, bias, device):
    inputs = _inputs(shape, bias, device)
    assert gradcheck(F.linear, inputs)
    assert gradgradcheck(F.linear, inputs)


@pytest.mark.parametrize("shape,bias", [((5, 3), True), ((2, 5, 3), False)], ids=str)
def test_linear_gradient_ops_have_correct_second_derivatives(shape, bias, device):
    inputs = _inputs(shape, bias, device)
    g = ember.tensor(np.random.default_rng(1).standard_normal(shape[:-1] + (4,)), dtype=ember.float64,
                     device=device, requires_grad=True)

    def first_grads(*args):
        return grad(F.linear(*args[:-1]), args[:-1], args[-1], create_graph=True)

    assert gradgradcheck(first_grads, inputs + [g])


@pytest.mark.parametrize("shape,bias", CASES, ids=str)
def test_linear_gradients_are_the_same_with_and_without_a_graph(shape, bias, device):
    inputs = _inputs(shape, bias, device)
    out = F.linear(*inputs)
    g = ember.ones(out.shape, dtype=ember.float64, device=device)
    plain = grad(out, inputs, g, retain_graph=True)
    graphed = grad(out, inputs, g, create_graph=True)
    assert graphed[0].requires_grad and graphed[1].requires_grad  # x's depends on w, w's on x
    for a, b in zip(plain, graphed):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_linear_gradients_skip_inputs_that_need_none(device):
    x, w, b = _inputs((5, 3), True, device)
    frozen = w.detach()
    (gx, gb) = grad(F.linear(x, frozen, b).sum(), (x, b), create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), np.ones((5, 4)) @ frozen.numpy())
    np.testing.assert_allclose(gb.detach().numpy(), np.full(4, 5.0))
    (gw,) = grad(F.linear(x.detach(), w).sum(), (w,), create_graph=True)
    np.testing.assert_allclose(gw.detach().numpy(), np.ones((4, 5)) @ x.detach().numpy())
