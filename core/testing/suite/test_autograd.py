"""The autograd engine: accumulation, graph lifetime, higher order, modes, hooks, errors."""
import gc
import weakref

import numpy as np
import pytest

import ember
from ember.autograd import Function


def leaf(values, device, dtype=ember.float64):
    return ember.tensor(values, dtype=dtype, device=device, requires_grad=True)


def test_gradients_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_a_shared_input_receives_the_sum_of_its_uses(device):
    x = leaf([2.0], device)
    y = x * x + x
    y.backward()
    assert x.grad.tolist() == [5.0]


def test_leaf_gradients_of_an_add_are_independent_tensors(device):
    a, b = leaf([1.0], device), leaf([1.0], device)
    (a + b).sum().backward()
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0]


def test_backward_twice_without_retain_graph_names_the_fix(device):
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_backward_on_a_non_scalar_needs_a_gradient(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(ember.tensor([1.0, 10.0], dtype=ember.float64, device=device))
    assert x.grad.tolist() == [2.0, 20.0]


def test_backward_on_a_tensor_without_grad_raises(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2, device=device).sum().backward()


def test_hessian_vector_product_matches_the_analytic_one(device):
    # f(x) = sum(x^3) + x0*x1 -> H = diag(6x) + [[0,1],[1,0]] on the first two coordinates
    x = leaf([1.0, 2.0, 3.0], device)
    v = ember.tensor([1.0, -1.0, 0.5], dtype=ember.float64, device=device)
    f = (x ** 3).sum() + x[0] * x[1]
    (g,) = ember.autograd.grad(f, x, create_graph=True)
    (hv,) = ember.autograd.grad((g * v).sum(), x)
    h = np.diag(6 * np.array([1.0, 2.0, 3.0]))
    h[0, 1] = h[1, 0] = 1.0
    np.testing.assert_allclose(hv.numpy(), h @ np.array([1.0, -1.0, 0.5]))


def test_third_derivative_of_a_power(device):
    x = leaf([2.0], device)
    y = x ** 4
    (d1,) = ember.autograd.grad(y, x, create_graph=True)
    (d2,) = ember.autograd.grad(d1, x, create_graph=True)
    (d3,) = ember.autograd.grad(d2, x)
    assert d3.tolist() == [48.0]  # 24 * x


def test_grad_returns_without_touching_dot_grad_and_checks_unused_inputs(device):
    x, z = leaf([1.0], device), leaf([1.0], device)
    (gx,) = ember.autograd.grad((x * 5).sum(), x)
    assert gx.tolist() == [5.0] and x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ember.autograd.grad((x * 5).sum(), [x, z])
    gx, gz = ember.autograd.grad((x * 5).sum(), [x, z], allow_unused=True)
    assert gz is None
    _, gz = ember.autograd.grad((x * 5).sum(), [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_grad_with_respect_to_an_intermediate_tensor(device):
    x = leaf([3.0], device)
    h = x * 2
    y = h * h
    (gh,) = ember.autograd.grad(y.sum(), h)
    assert gh.tolist() == [12.0]


def test_a_chain_of_100000_ops_backpropagates_without_recursion_error(device):
    x = leaf([1.0], device)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad.tolist() == [1.0]


def test_graph_and_saved_tensors_are_freed_after_backward(device):
    x = leaf(np.ones(1000), device)
    y = x.exp()
    node = weakref.ref(y.grad_fn)
    y.sum().backward()
    assert y.grad_fn._out is None  # the saved output was released
    del y
    gc.collect()
    assert node() is None


def test_no_grad_and_enable_grad_and_set_grad_enabled(device):
    x = leaf([1.0], device)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and ember.is_grad_enabled()


def test_set_grad_enabled_as_a_function_call_takes_effect_at_once(device):
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)


def test_inference_mode_as_context_and_decorator(device):
    x = leaf([1.0], device)
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad

    @ember.inference_mode()
    def f(t):
        return t + 1

    assert not f(x).requires_grad

    @ember.inference_mode(False)
    def g(t):
        return t + 1

    assert g(x).requires_grad
    with ember.no_grad():
        assert not g(x).requires_grad


def test_grad_mode_decorators_restore_the_flag_even_when_the_function_raises(device):
    x = leaf([1.0], device)

    @ember.set_grad_enabled(False)
    def f(t):
        assert not (t * 2).requires_grad
        raise ValueError("boom")

    @ember.enable_grad()
    def g(t):
        return t * 2

    with pytest.raises(ValueError):
        f(x)
    assert ember.is_grad_enabled()
    with ember.no_grad():
        assert g(x).requires_grad and not ember.is_grad_enabled()


def test_in_place_on_a_leaf_that_requires_grad_raises_at_once(device):
    x = leaf([1.0], device)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0]


def test_in_place_change_of_a_saved_tensor_raises_at_backward(device):
    x = leaf([1.0, 2.0], device)
    y = x * 1.0
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_in_place_change_of_a_saved_output_raises_at_backward(device):
    x = leaf([1.0, 2.0], device)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_in_place_ops_on_non_leaves_are_differentiated(device):
    x = leaf([1.0, 2.0], device)
    y = x * 1.0
    y.mul_(3)
    y += 1
    y[0] = y[0] * 2
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 3.0]


def test_views_share_the_version_counter(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * 1.0
    z = y.exp()
    v = y[1:]
    v.zero_()  # changes y's memory through a view
    assert y.tolist()[1:] == [0.0, 0.0]
    w = (y * y).sum()
    y_view = y.reshape(3)
    y_view.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.backward()
    z.sum().backward()


def test_retain_grad_keeps_the_gradient_of_a_non_leaf(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]


def test_tensor_hooks_can_observe_and_replace_gradients(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    h = x * 2
    handle = h.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[20.0, 20.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_with_inputs_accumulates_only_into_those(device):
    x, z = leaf([1.0], device), leaf([2.0], device)
    (x * z).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and z.grad is None


def test_detach_and_requires_grad_rules(device):
    x = leaf([1.0], device)
    y = x * 2
    assert y.detach().requires_grad is False and y.detach().is_leaf
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], device=device).requires_grad_()
    with pytest.raises(RuntimeError, match="requires grad"):
        y.numpy()


def test_custom_function_multiple_outputs_and_non_differentiable_output(device):
    class SplitHalf(Function):
        @staticmethod
        def forward(ctx, x):
            n = x.shape[0] // 2
            idx = ember.arange(n, device=x.device)
            ctx.mark_non_differentiable(idx)
            return x[:n] * 1.0, x[n:] * 2.0, idx

        @staticmethod
        def backward(ctx, g1, g2, _):
            return ember.cat([g1, g2 * 2.0])

    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    a, b, idx = SplitHalf.apply(x)
    assert not idx.requires_grad and a.grad_fn is b.grad_fn
    b.sum().backward()  # a's gradient is materialised as zeros
    assert x.grad.tolist() == [0.0, 0.0, 2.0, 2.0]


def test_custom_function_wrong_gradient_shape_is_reported(device):
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        Bad.apply(leaf([1.0, 2.0], device)).sum().backward()


def test_custom_function_needs_input_grad_and_non_tensor_arguments(device):
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor, y):
            ctx.factor = factor
            assert ctx.needs_input_grad == (True, False, False)
            return x * factor + y

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None, None

    x = leaf([1.0], device)
    Scale.apply(x, 4.0, ember.ones(1, dtype=ember.float64, device=device)).sum().backward()
    assert x.grad.tolist() == [4.0]


def test_grad_fn_names_follow_pytorch(device):
    x = leaf([1.0], device)
    assert (x * 2).grad_fn.name() == "MulBackward0" and (2 - x).grad_fn.name() == "RsubBackward0"
    assert repr((x + x).grad_fn).startswith("<AddBackward0")
    assert (x * x).sum().grad_fn.next_functions[0][0].name() == "MulBackward0"


def test_a_leaf_keeps_one_accumulate_grad_node_that_refers_back_to_it_weakly():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    first = (x * 2).sum().grad_fn.next_functions[0][0].next_functions[0][0]
    second = (x * 3).sum().grad_fn.next_functions[0][0].next_functions[0][0]
    assert first is second and first.name() == "AccumulateGrad" and first.variable is x
    y = (x * 2).sum()
    del x, first, second
    gc.collect()
    y.backward()  # the leaf is gone: nothing to accumulate into, and no error


def test_custom_function_gradient_held_by_user_is_not_adopted_as_leaf_grad(device):
    kept = ember.tensor([1.0, 1.0], device=device)

    class Kept(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return kept

    x = ember.tensor([3.0, 4.0], device=device, requires_grad=True)
    Kept.apply(x).sum().backward()
    Kept.apply(x).sum().backward()  # accumulates in place into x.grad
    assert kept.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]


def test_gradient_seen_by_a_hook_is_not_changed_by_later_accumulation(device):
    seen = []
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 3
    y.register_hook(seen.append)
    y.sum().backward()
    (x * 3).sum().backward()
    assert seen[0].tolist() == [1.0, 1.0] and x.grad.tolist() == [6.0, 6.0]


def test_leaf_hook_result_replaces_gradient_and_stays_unshared(device):
    stash = []

    def double(g):
        stash.append(g)
        return g * 2

    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    x.register_hook(double)
    (x * 1.5).sum().backward()
    (x * 1.5).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0] and stash[0].tolist() == [1.5, 1.5]


def test_gradients_of_a_multi_output_custom_function_reach_both_inputs(device):
    class Split(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2, b * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2, gb * 3

    a = ember.tensor([1.0], device=device, requires_grad=True)
    b = ember.tensor([1.0], device=device, requires_grad=True)
    p, q = Split.apply(a, b)
    (p + q + p).sum().backward()
    assert a.grad.tolist() == [4.0] and b.grad.tolist() == [3.0]


def test_backward_with_inputs_never_shares_memory_with_the_given_gradient(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    g = ember.tensor([5.0, 5.0], device=device)
    x.backward(g, inputs=[x])
    (x * 1.0).backward(g)  # accumulates into x.grad in place
    assert g.tolist() == [5.0, 5.0] and x.grad.tolist() == [10.0, 10.0]
