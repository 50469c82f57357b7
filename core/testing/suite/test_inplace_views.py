"""In-place ops on views: values and gradients as PyTorch's (CopySlices), its errors, view metadata."""
import numpy as np
import pytest

import ember


def leaf(values, device, requires_grad=True):
    return ember.tensor(values, dtype=ember.float64, device=device, requires_grad=requires_grad)


# ---- hand-computed expectations ---------------------------------------------------------------

def test_inplace_mul_on_an_indexed_row_scales_that_rows_gradient(device):
    x = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    y = x * 1
    y[1].mul_(3)
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [3.0, 3.0]]
    assert y.tolist() == [[1.0, 2.0], [9.0, 12.0]]


def test_inplace_on_a_view_of_the_whole_tensor_reaches_the_base_gradient(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    y = x * 1
    v = y.view(2, 2)
    v.mul_(2)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0, 2.0]


def test_index_assignment_of_a_scaled_column_is_differentiated(device):
    x = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    y = x * 1
    y[:, 0] *= 5
    y.sum().backward()
    assert x.grad.tolist() == [[5.0, 1.0], [5.0, 1.0]]


def test_inplace_with_an_operand_that_requires_grad_is_differentiated(device):
    x = leaf([1.0, 2.0, 3.0], device)
    c = leaf(2.0, device)
    y = x * 1
    y.mul_(c)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    assert c.grad.item() == 6.0


def test_inplace_with_a_grad_operand_on_a_tensor_that_does_not_require_grad(device):
    c = leaf(3.0, device)
    y = ember.ones(2, 2, dtype=ember.float64, device=device)
    y[0].mul_(c)
    assert y.requires_grad and y.grad_fn is not None
    (y * ember.tensor([[1.0, 2.0], [4.0, 8.0]], dtype=ember.float64, device=device)).sum().backward()
    assert c.grad.item() == 3.0


def test_inplace_on_the_base_regenerates_the_grad_fn_of_an_earlier_view(device):
    x = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    y = x * 1
    v = y[0]
    y.mul_(2)
    assert v.tolist() == [2.0, 4.0]
    (v * v).sum().backward()
    assert x.grad.tolist() == [[8.0, 16.0], [0.0, 0.0]]


def test_view_of_a_view_transposed_then_sliced(device):
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device)
    y = x * 1
    v = y.t()[1:]  # columns 1 and 2 of y, transposed
    v.add_(10).mul_(2)
    w = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ember.float64, device=device)
    (y * w).sum().backward()
    assert x.grad.tolist() == [[1.0, 4.0, 6.0], [4.0, 10.0, 12.0]]
    assert y.tolist() == [[1.0, 24.0, 26.0], [4.0, 30.0, 32.0]]


def test_sibling_views_see_an_inplace_change_of_each_other(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    y = x * 1
    a, b = y[:2], y[1:]
    a.mul_(3)
    assert b.tolist() == [6.0, 3.0, 4.0]
    b.sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 1.0, 1.0]


def test_pow_on_a_view_uses_the_value_before_the_change(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * 1
    y[1:].pow_(2)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 4.0, 6.0]


def test_copy_into_a_view_routes_the_gradient_to_the_source(device):
    x = leaf([1.0, 2.0, 3.0], device)
    s = leaf([7.0], device)
    y = x * 1
    y[1:2].copy_(s)
    (y * ember.tensor([1.0, 5.0, 1.0], dtype=ember.float64, device=device)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    assert s.grad.tolist() == [5.0]


def test_leaf_view_under_no_grad_is_changed_without_a_graph(device):
    x = leaf([1.0, 2.0], device)
    with ember.no_grad():
        v = x[0]
        v.mul_(5)
    assert x.tolist() == [5.0, 2.0] and x.is_leaf
    (x * x).sum().backward()
    assert x.grad.tolist() == [10.0, 4.0]


def test_inplace_on_a_view_with_nothing_requiring_grad_only_writes(device):
    y = ember.zeros(2, 3, device=device)
    y.t()[2].fill_(1)
    assert y.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    assert y.grad_fn is None


def test_inplace_on_view_gradients_pass_gradcheck_and_gradgradcheck(device):
    def f(x, c):
        y = x * 1
        y.t()[1:].mul_(c).pow_(2)
        y[0, 0].mul_(c)
        return y

    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device)
    c = leaf(1.5, device)
    assert ember.autograd.gradcheck(f, (x, c))
    assert ember.autograd.gradgradcheck(f, (x, c))


# ---- errors ------------------------------------------------------------------------------------

def test_inplace_on_a_view_of_a_leaf_that_requires_grad_raises(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2)


def test_view_created_in_no_grad_then_changed_with_grad_raises(device):
    y = leaf([1.0, 2.0], device) * 1
    with ember.no_grad():
        v = y[0]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        v.mul_(2)


@pytest.mark.parametrize("make, name", [(lambda y: y.unbind(0), "Unbind"), (lambda y: y.split(1), "Split"),
                                        (lambda y: y.split([1, 1]), "SplitWithSizes"),
                                        (lambda y: y.chunk(2), "Split")])
def test_inplace_on_an_output_of_a_multi_view_function_raises(device, make, name):
    y = leaf([[1.0, 2.0], [3.0, 4.0]], device) * 1
    with pytest.raises(RuntimeError, match=f"Output 1 of {name} is a view and is being modified inplace"):
        make(y)[1].mul_(2)


def test_unbind_outputs_may_be_changed_when_no_grad_is_needed(device):
    y = ember.zeros(2, 2, device=device)
    y.unbind(0)[1].add_(1)
    assert y.tolist() == [[0.0, 0.0], [1.0, 1.0]]


def test_inplace_on_an_expanded_view_raises(device):
    y = ember.zeros(1, 2, device=device)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y.expand(3, 2).add_(1)


def test_changing_a_saved_view_raises_at_backward(device):
    x = leaf([1.0, 2.0], device)
    y = x * 1
    v = y[:1]
    z = (v * v).sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


# ---- view metadata -----------------------------------------------------------------------------

def test_views_record_their_base_and_share_the_version_counter(device):
    y = ember.zeros(2, 3, device=device)
    v = y.t()[1:]
    assert v._is_view() and v._base is y and not y._is_view() and y._base is None
    before = y._version[0]
    v.add_(1)
    assert y._version[0] == before + 1 and v._version is y._version
    assert y.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    assert not (y + 0)._is_view() and not y[ember.tensor([0], device=device)]._is_view()


# ---- compared with PyTorch ---------------------------------------------------------------------

VIEWS = {
    "index": lambda y: y[1],
    "slice": lambda y: y[:, 1:],
    "view": lambda y: y.view(-1),
    "reshape": lambda y: y.reshape(3, 2),
    "transpose": lambda y: y.transpose(0, 1),
    "permute": lambda y: y.permute(1, 0),
    "t": lambda y: y.t(),
    "narrow": lambda y: y.narrow(1, 1, 2),
    "unsqueeze": lambda y: y.unsqueeze(0),
    "squeeze": lambda y: y.unsqueeze(1).squeeze(1),
    "view_of_view": lambda y: y.t()[1:][:, 0],
}

INPLACE = {
    "mul_scalar": lambda v, c: v.mul_(3.0),
    "add_tensor": lambda v, c: v.add_(c),
    "mul_tensor": lambda v, c: v.mul_(c),
    "div_tensor": lambda v, c: v.div_(c),
    "pow_": lambda v, c: v.pow_(2),
    "exp_": lambda v, c: v.exp_(),
    "sigmoid_": lambda v, c: v.sigmoid_(),
    "clamp_": lambda v, c: v.clamp_(-0.5, 0.5),
    "copy_": lambda v, c: v.copy_(c * c),
    "zero_": lambda v, c: v.zero_(),
    "setitem": lambda v, c: v.__setitem__(0, c),
}


def _program(lib, x_vals, c_vals, w_vals, view, op, x_rg, c_rg, on_base, **kw):
    x = lib.tensor(x_vals, dtype=lib.float64, requires_grad=x_rg, **kw)
    c = lib.tensor(c_vals, dtype=lib.float64, requires_grad=c_rg, **kw)
    w = lib.tensor(w_vals, dtype=lib.float64, **kw)
    y = x * 1
    v = VIEWS[view](y)
    INPLACE[op](y if on_base else v, c)
    loss = (y * w).sum() + (v * v).sum()
    inputs = [t for t in (x, c) if t.requires_grad]
    grads = lib.autograd.grad(loss, inputs, allow_unused=True) if loss.requires_grad else ()
    return y.detach(), v.detach(), [None if g is None else g.detach() for g in grads]


@pytest.mark.parametrize("on_base", [False, True], ids=["on_view", "on_base"])
@pytest.mark.parametrize("x_rg, c_rg", [(True, False), (False, True), (True, True)], ids=["x", "c", "x_c"])
@pytest.mark.parametrize("op", list(INPLACE))
@pytest.mark.parametrize("view", list(VIEWS))
def test_inplace_view_matrix_matches_torch(device, view, op, x_rg, c_rg, on_base):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(abs(hash((view, op))) % 2 ** 32)
    x_vals = rng.uniform(-1, 1, (2, 3)).tolist()
    c_vals = float(rng.uniform(0.5, 1.5))
    w_vals = rng.uniform(-1, 1, (2, 3)).tolist()
    args = (x_vals, c_vals, w_vals, view, op, x_rg, c_rg, on_base)
    ty, tv, tg = _program(torch, *args)
    ey, ev, eg = _program(ember, *args, device=device)
    np.testing.assert_allclose(ey.tolist(), ty.tolist(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ev.tolist(), tv.tolist(), rtol=1e-12, atol=1e-12)
    assert len(eg) == len(tg)
    for e, t in zip(eg, tg):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e.tolist(), t.tolist(), rtol=1e-10, atol=1e-12)


LAYOUTS = {
    "row": lambda y: y[1],
    "column": lambda y: y[:, 1],
    "step_slice": lambda y: y[:, ::2],
    "transpose": lambda y: y.transpose(0, 2),
    "permute_view": lambda y: y.permute(1, 0, 2)[1:],
    "unsqueeze": lambda y: y[0].unsqueeze(1),
    "flatten_view": lambda y: y[1:].reshape(-1),
    "narrow": lambda y: y.narrow(2, 1, 2),
    "expand": lambda y: y[:, :1].expand(2, 3, 4),
    "unbind": lambda y: y.unbind(1)[2],
    "none_ellipsis": lambda y: y[None, ..., 1],
}


@pytest.mark.parametrize("make", list(LAYOUTS))
def test_view_strides_offsets_and_contiguity_match_torch(device, make):
    torch = pytest.importorskip("torch")
    t = LAYOUTS[make](torch.arange(24.0).reshape(2, 3, 4))
    e = LAYOUTS[make](ember.arange(24.0, device=device).reshape(2, 3, 4))
    assert e.tolist() == t.tolist()
    assert e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    assert e.is_contiguous() == t.is_contiguous()
    assert e._is_view() == t._is_view()


def test_reshape_of_a_non_contiguous_view_is_a_copy_and_view_raises(device):
    y = ember.zeros(2, 3, device=device)
    r = y.t().reshape(-1)
    assert not r._is_view() and r.is_contiguous()
    r.add_(1)
    assert y.tolist() == [[0.0] * 3] * 2
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        y.t().view(-1)


def test_contiguous_copies_only_a_non_contiguous_tensor(device):
    y = ember.zeros(2, 3, device=device)
    assert y.contiguous() is y and y.stride() == (3, 1) and y.storage_offset() == 0
    c = y.t().contiguous()
    assert c.is_contiguous() and not c._is_view() and c.stride() == (2, 1)
    c.add_(1)
    assert y.sum().item() == 0.0


def test_changing_a_tensor_after_an_inplace_op_that_saved_its_result_raises_at_backward(device):
    y = leaf([1.0, 2.0], device) * 1
    y.exp_()
    z = y.sum()
    y[0].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def _chain(lib, seed, **kw):
    """Four random steps of taking a view of a tensor seen so far and changing one in place."""
    rnd = np.random.default_rng(seed)
    x = lib.tensor(rnd.uniform(-1, 1, (2, 3)).tolist(), dtype=lib.float64, requires_grad=True, **kw)
    c = lib.tensor(float(rnd.uniform(0.5, 1.5)), dtype=lib.float64, requires_grad=True, **kw)
    seen = [x * 1]
    for _ in range(4):
        src = seen[rnd.integers(len(seen))]
        view = VIEWS[list(VIEWS)[rnd.integers(len(VIEWS))]]
        seen.append(view(src) if tuple(src.shape) == (2, 3) else src.unsqueeze(0))
        target = seen[rnd.integers(len(seen))]
        op = list(INPLACE)[rnd.integers(len(INPLACE))]
        INPLACE["mul_tensor" if op == "setitem" and target.ndim == 0 else op](target, c)
    loss = sum((v * v).sum() for v in seen)
    return [v.detach().tolist() for v in seen], [g.tolist() for g in lib.autograd.grad(loss, [x, c])]


@pytest.mark.parametrize("seed", range(40))
def test_random_chains_of_views_and_inplace_ops_match_torch(device, seed):
    torch = pytest.importorskip("torch")
    try:
        expected = _chain(torch, seed)
    except RuntimeError as exc:
        expected_error = "modified by an inplace" if "inplace" in str(exc) else "not have been used"
        with pytest.raises(RuntimeError, match=expected_error):
            _chain(ember, seed, device=device)
        return
    values, grads = _chain(ember, seed, device=device)
    for e, t in zip(values + grads, expected[0] + expected[1]):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


def test_select_is_a_view_whose_in_place_change_reaches_the_base_and_its_gradient(device):
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    y = x * 1
    y.select(0, 1).mul_(3)
    assert y.tolist() == [[1.0, 2.0], [9.0, 12.0]] and ember.select(y, 1, -1).tolist() == [2.0, 12.0]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [3.0, 3.0]]
    with pytest.raises(IndexError, match="select\\(\\): index 2 out of range"):
        y.select(0, 2)
