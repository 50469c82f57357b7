"""The math family: einsum, the addmm family, products, special functions and `out=`.

One table of gradient cases (first and second order, float64, broadcasting pairs where the op
broadcasts), hand-computed values, a comparison against torch on random inputs, and the errors.
"""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def positive(x):
    return np.abs(x) + 0.5


def unit_interval(x):
    return 0.1 + 0.8 / (1 + np.exp(-x))


def _inputs(shapes, domains, device, seed=0):
    rng = np.random.RandomState(seed)
    out = []
    for shape, dom in zip(shapes, domains):
        x = rng.randn(*shape)
        out.append(ember.tensor(dom(x) if dom else x, dtype=ember.float64, device=device, requires_grad=True))
    return out


# name -> (function, input shapes, per-input domain or None)
GRAD_CASES = {
    "einsum_matmul": (lambda a, b: ember.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)], None),
    "einsum_implicit": (lambda a, b: ember.einsum("ij,jk", a, b), [(3, 4), (4, 2)], None),
    "einsum_trace": (lambda a: ember.einsum("ii", a), [(3, 3)], None),
    "einsum_diagonal": (lambda a: ember.einsum("ii->i", a), [(3, 3)], None),
    "einsum_batch_ellipsis": (lambda a, b: ember.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (1, 4, 2)], None),
    "einsum_three_operands": (lambda a, b, c: ember.einsum("ij,jk,k->i", a, b, c), [(2, 3), (3, 4), (4,)], None),
    "einsum_outer": (lambda a, b: ember.einsum("i,j->ij", a, b), [(3,), (2,)], None),
    "einsum_repeated_in_two_operands": (lambda a, b: ember.einsum("iij,jk->ik", a, b), [(3, 3, 2), (2, 4)], None),
    "einsum_broadcast_size_one": (lambda a, b: ember.einsum("bij,bjk->bik", a, b), [(1, 2, 3), (4, 3, 2)], None),
    "addmm": (lambda i, a, b: ember.addmm(i, a, b, beta=0.5, alpha=2.0), [(3, 2), (3, 4), (4, 2)], None),
    "addmm_broadcast_input": (lambda i, a, b: ember.addmm(i, a, b), [(2,), (3, 4), (4, 2)], None),
    "addmv": (lambda i, a, v: ember.addmv(i, a, v, beta=2.0, alpha=-1.0), [(3,), (3, 4), (4,)], None),
    "addbmm": (lambda i, a, b: ember.addbmm(i, a, b, beta=0.5, alpha=2.0), [(3, 2), (2, 3, 4), (2, 4, 2)], None),
    "baddbmm_broadcast_input": (lambda i, a, b: ember.baddbmm(i, a, b, alpha=0.5), [(3, 1), (2, 3, 4), (2, 4, 2)],
                                None),
    "mv": (lambda a, v: ember.mv(a, v), [(3, 4), (4,)], None),
    "inner": (lambda a, b: ember.inner(a, b), [(2, 3), (4, 3)], None),
    "kron": (lambda a, b: ember.kron(a, b), [(2, 3), (3, 1, 2)], None),
    "cross_broadcast": (lambda a, b: ember.cross(a, b, dim=-1), [(2, 3), (1, 3)], None),
    "tensordot_int": (lambda a, b: ember.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 2)], None),
    "tensordot_lists": (lambda a, b: ember.tensordot(a, b, dims=([0, 2], [2, 0])), [(2, 3, 4), (4, 5, 2)], None),
    "cdist_p2": (lambda a, b: ember.cdist(a, b), [(3, 4), (2, 4)], None),
    "cdist_p1_5_batched": (lambda a, b: ember.cdist(a, b, p=1.5), [(2, 3, 4), (2, 2, 4)], None),
    "logaddexp_broadcast": (lambda a, b: ember.logaddexp(a, b), [(3, 4), (4,)], None),
    "logaddexp2_broadcast": (lambda a, b: ember.logaddexp2(a, b), [(3, 1), (1, 4)], None),
    "hypot_broadcast": (lambda a, b: ember.hypot(a, b), [(3, 4), (3, 1)], None),
    "xlogy_broadcast": (lambda a, b: ember.xlogy(a, b), [(3, 4), (4,)], [None, positive]),
    "nan_to_num_finite": (lambda a: ember.nan_to_num(a), [(3, 4)], None),
    "special_logit": (lambda a: ember.special.logit(a), [(3, 4)], [unit_interval]),
    "special_logit_eps": (lambda a: ember.special.logit(a, eps=0.2), [(3, 4)], [unit_interval]),
    "special_erfc": (lambda a: ember.special.erfc(a), [(3, 4)], None),
    "special_ndtr": (lambda a: ember.special.ndtr(a), [(3, 4)], None),
    "special_exp2": (lambda a: ember.special.exp2(a), [(3, 4)], None),
    "special_sinc": (lambda a: ember.special.sinc(a), [(3, 4)], None),
    "special_entr": (lambda a: ember.special.entr(a), [(3, 4)], [positive]),
    "erfinv": (lambda a: ember.erfinv(a), [(3, 4)], [lambda x: np.tanh(x) * 0.9]),
    "softmax_method_dtype": (lambda a: a.softmax(-1, dtype=ember.float64), [(3, 4)], None),
    "log_softmax_top_level": (lambda a: ember.log_softmax(a, 0), [(3, 4)], None),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_math_op_gradients_match_finite_differences(name, device):
    fn, shapes, domains = GRAD_CASES[name]
    inputs = _inputs(shapes, domains or [None] * len(shapes), device)
    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


# ---- values against hand-computed expectations ---------------------------------------------------------

def test_einsum_trace_diagonal_and_transpose_values(device):
    m = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert ember.einsum("ii", m).item() == 5.0
    assert ember.einsum("ii->i", m).tolist() == [1.0, 4.0]
    assert ember.einsum("ij->ji", m).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert ember.einsum("ji", m).tolist() == [[1.0, 3.0], [2.0, 4.0]]  # implicit output sorts: i, j
    assert ember.einsum("ij->", m).item() == 10.0
    assert ember.einsum("i j , j k -> i k", [m, m]).tolist() == [[7.0, 10.0], [15.0, 22.0]]


def test_einsum_ellipsis_broadcasts_and_is_summed_when_missing_from_the_output(device):
    a = ember.ones(2, 3, 4, device=device)
    assert ember.einsum("...ij->...ji", a).shape == (2, 4, 3)
    assert ember.einsum("...i->", a).item() == 24.0
    assert ember.einsum("...ij,j->...i", a, ember.ones(4, device=device)).tolist() == [[4.0] * 3] * 2


def test_einsum_sublist_form_matches_the_string_form(device):
    a = ember.arange(6.0, device=device).reshape(2, 3)
    b = ember.arange(12.0, device=device).reshape(3, 4)
    assert ember.einsum(a, [0, 1], b, [1, 2], [0, 2]).tolist() == ember.einsum("ij,jk->ik", a, b).tolist()
    assert ember.einsum(a, [Ellipsis, 0]).tolist() == ember.einsum("...a", a).tolist()


def test_addmm_family_scales_by_beta_and_alpha(device):
    i = ember.ones(2, 2, device=device)
    a = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    e = ember.eye(2, device=device)
    assert ember.addmm(i, a, e, beta=2, alpha=3).tolist() == [[5.0, 8.0], [11.0, 14.0]]
    assert ember.addmv(ember.ones(2, device=device), a, ember.ones(2, device=device), beta=0).tolist() == [3.0, 7.0]
    batch = ember.stack([a, a])
    assert ember.baddbmm(i, batch, ember.stack([e, e]), alpha=2).tolist() == [[[3.0, 5.0], [7.0, 9.0]]] * 2
    assert ember.addbmm(i, batch, ember.stack([e, e])).tolist() == [[3.0, 5.0], [7.0, 9.0]]


def test_addmm_with_beta_zero_ignores_nan_in_input(device):
    i = ember.full((2, 2), float("nan"), device=device)
    e = ember.eye(2, device=device)
    assert ember.addmm(i, e, e, beta=0).tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_products_values(device):
    v = ember.tensor([1.0, 2.0, 3.0], device=device)
    w = ember.tensor([0.0, 1.0, 0.0], device=device)
    assert ember.inner(v, v).item() == 14.0
    assert ember.mv(ember.eye(3, device=device) * 2, v).tolist() == [2.0, 4.0, 6.0]
    assert ember.kron(ember.tensor([1.0, 2.0], device=device), ember.tensor([1.0, 10.0], device=device)).tolist() == \
        [1.0, 10.0, 2.0, 20.0]
    assert ember.cross(ember.tensor([1.0, 0.0, 0.0], device=device), w, dim=0).tolist() == [0.0, 0.0, 1.0]
    assert ember.tensordot(v, v, dims=0).shape == (3, 3)
    assert ember.tensordot(v, v, dims=1).item() == 14.0
    x1 = ember.tensor([[0.0, 0.0], [3.0, 4.0]], device=device)
    assert ember.cdist(x1, x1).tolist() == [[0.0, 5.0], [5.0, 0.0]]
    assert ember.cdist(x1, x1, p=1).tolist() == [[0.0, 7.0], [7.0, 0.0]]
    assert ember.cdist(x1, x1, p=math.inf).tolist() == [[0.0, 4.0], [4.0, 0.0]]


def test_cdist_gradient_is_zero_at_zero_distance(device):
    x = ember.tensor([[1.0, 2.0]], dtype=ember.float64, device=device, requires_grad=True)
    for p in (2.0, 1.5):
        (g,) = ember.autograd.grad(ember.cdist(x, x.detach(), p=p).sum(), x)
        assert g.tolist() == [[0.0, 0.0]]


def test_nan_to_num_defaults_are_the_dtype_extremes(device):
    x = ember.tensor([float("nan"), float("inf"), -float("inf"), 1.5], device=device)
    assert ember.nan_to_num(x).tolist() == [0.0, 3.4028234663852886e38, -3.4028234663852886e38, 1.5]
    assert ember.nan_to_num(x.half()).tolist() == [0.0, 65504.0, -65504.0, 1.5]
    assert ember.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0).tolist() == [1.0, 2.0, -2.0, 1.5]
    x.requires_grad_(True)
    (g,) = ember.autograd.grad(ember.nan_to_num(x).sum(), x)
    assert g.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert ember.nan_to_num(ember.tensor([1, 2], device=device)).tolist() == [1, 2]


def test_logaddexp_is_stable_at_large_and_infinite_values(device):
    a = ember.tensor([1000.0, -math.inf, math.inf, 0.0], dtype=ember.float64, device=device)
    b = ember.tensor([1000.0, -math.inf, math.inf, -1000.0], dtype=ember.float64, device=device)
    r = ember.logaddexp(a, b).tolist()
    assert r[0] == pytest.approx(1000.0 + math.log(2.0))
    assert r[1:] == [-math.inf, math.inf, 0.0]
    assert ember.logaddexp2(ember.tensor([3.0], device=device), ember.tensor([3.0], device=device)).item() == 4.0


def test_xlogy_is_zero_where_x_is_zero_unless_y_is_nan(device):
    x = ember.tensor([0.0, 0.0, 2.0, 0.0], device=device)
    y = ember.tensor([0.0, 5.0, math.e, float("nan")], device=device)
    r = ember.xlogy(x, y).tolist()
    assert r[:3] == [0.0, 0.0, pytest.approx(2.0)] and math.isnan(r[3])
    assert ember.xlogy(2, ember.tensor([1.0], device=device)).tolist() == [0.0]
    assert ember.special.xlogy(x, 1.0).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_hypot_and_special_values(device):
    assert ember.hypot(ember.tensor([3.0], device=device), ember.tensor([4.0], device=device)).tolist() == [5.0]
    sp = ember.special
    z = ember.tensor([0.0, 0.5, -1.0], device=device)
    assert sp.sinc(z).tolist() == pytest.approx([1.0, 2 / math.pi, 0.0], abs=1e-7)
    assert sp.entr(z).tolist() == pytest.approx([0.0, 0.5 * math.log(2.0), -math.inf])
    assert sp.exp2(ember.tensor([3.0], device=device)).tolist() == pytest.approx([8.0])
    assert sp.logit(ember.tensor([0.0, 0.5, 1.0], device=device), eps=0.25).tolist() == \
        pytest.approx([-math.log(3.0), 0.0, math.log(3.0)])
    assert sp.expit(ember.tensor([0.0], device=device)).tolist() == [0.5]
    assert sp.erfc(ember.tensor([0.0], device=device)).tolist() == [1.0]
    assert sp.ndtr(ember.tensor([0.0], device=device)).tolist() == [0.5]
    assert sp.log1p(ember.tensor([0.0], device=device)).tolist() == [0.0]
    assert sp.expm1(ember.tensor([0.0], device=device)).tolist() == [0.0]
    assert sp.logsumexp(ember.zeros(2, 2, device=device), 1).tolist() == pytest.approx([math.log(2.0)] * 2)


def test_erfinv_inverts_erf_and_is_infinite_at_the_ends(device):
    y = ember.tensor([-1.0, -0.5, 0.0, 0.3, 0.99, 1.0, 1.5], dtype=ember.float64, device=device)
    x = ember.erfinv(y).tolist()
    assert x[0] == -math.inf and x[5] == math.inf and math.isnan(x[6])
    assert [math.erf(v) for v in x[1:5]] == pytest.approx([-0.5, 0.0, 0.3, 0.99], rel=1e-14, abs=1e-15)
    assert ember.tensor([0.5], device=device).erfinv().dtype is ember.float32


def test_softmax_is_a_top_level_function_a_method_and_in_special(device):
    x = ember.tensor([[1.0, 2.0, 3.0]], device=device)
    expected = ember.nn.functional.softmax(x, dim=1).tolist()
    assert ember.softmax(x, 1).tolist() == expected
    assert x.softmax(1).tolist() == expected
    assert ember.special.softmax(x, 1).tolist() == expected
    assert ember.softmax(x, -1, dtype=ember.float64).dtype is ember.float64
    assert x.log_softmax(dim=1).exp().tolist()[0] == pytest.approx(expected[0], abs=1e-6)
    assert ember.log_softmax(x, 1).exp().sum().item() == pytest.approx(1.0)


# ---- out= ---------------------------------------------------------------------------------------------

OUT_CASES = {
    "add": lambda a, b, **kw: ember.add(a, b, alpha=2, **kw),
    "sub": lambda a, b, **kw: ember.sub(a, b, **kw),
    "mul": lambda a, b, **kw: ember.mul(a, b, **kw),
    "div": lambda a, b, **kw: ember.div(a, b, **kw),
    "matmul": lambda a, b, **kw: ember.matmul(a, b.mT, **kw),
    "sum": lambda a, b, **kw: ember.sum(a, 1, **kw),
    "cat": lambda a, b, **kw: ember.cat([a, b], **kw),
    "stack": lambda a, b, **kw: ember.stack([a, b], 1, **kw),
    "addmm": lambda a, b, **kw: ember.addmm(a, a, b.mT, **kw),
    "kron": lambda a, b, **kw: ember.kron(a, b, **kw),
    "tensordot": lambda a, b, **kw: ember.tensordot(a, b, 1, **kw),
    "logaddexp": lambda a, b, **kw: ember.logaddexp(a, b, **kw),
    "xlogy": lambda a, b, **kw: ember.xlogy(a, b.abs(), **kw),
    "special_expit": lambda a, b, **kw: ember.special.expit(a, **kw),
}


@pytest.mark.parametrize("name", sorted(OUT_CASES))
def test_out_receives_the_result_and_is_returned(name, device):
    fn = OUT_CASES[name]
    a = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    b = ember.tensor([[0.5, -1.0], [2.0, 0.25]], device=device)
    expected = fn(a, b)
    out = ember.empty(0, device=device)
    assert fn(a, b, out=out) is out
    assert out.shape == expected.shape and out.tolist() == expected.tolist()
    same = ember.empty(*expected.shape, device=device)
    version = same._version[0]
    fn(a, b, out=same)
    assert same.tolist() == expected.tolist() and same._version[0] > version


def test_out_of_another_nonempty_shape_is_resized_with_a_warning(device):
    out = ember.zeros(5, device=device)
    with pytest.warns(UserWarning, match="resized"):
        ember.add(ember.ones(2, device=device), 1, out=out)
    assert out.tolist() == [2.0, 2.0]


def test_out_casts_to_a_wider_dtype_and_refuses_a_narrower_one(device):
    out = ember.empty(2, dtype=ember.float64, device=device)
    ember.add(ember.tensor([1, 2], device=device), 1, out=out)
    assert out.dtype is ember.float64 and out.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        ember.add(ember.ones(2, device=device), 1.5, out=ember.empty(2, dtype=ember.int64, device=device))


def test_out_refuses_autograd(device):
    a = ember.ones(2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.mul(a, 2, out=ember.empty(2, device=device))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.add(ember.ones(2, device=device), 1, out=ember.empty(2, device=device, requires_grad=True))
    with ember.no_grad():
        out = ember.empty(2, device=device)
        ember.mul(a, 2, out=out)
    assert out.tolist() == [2.0, 2.0]


def test_out_must_be_a_tensor(device):
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        ember.add(ember.ones(2, device=device), 1, out=[0.0, 0.0])


# ---- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("equation, shapes, match", [
    ("ij,jk->ik", [(2, 3)], "fewer operands"),
    ("ij->ij", [(2, 3), (3, 2)], "more operands"),
    ("ij->i", [(2, 3, 4)], "number of subscripts"),
    ("ij->k", [(2, 3)], "output subscript k does not appear"),
    ("ij->ii", [(2, 3)], "appears more than once"),
    ("i1->i", [(2, 3)], "invalid subscript"),
    ("ii->i", [(2, 3)], "repeated for operand 0"),
    ("ij,jk->ik", [(2, 3), (4, 2)], "do not broadcast"),
    ("i..j->i", [(2, 3)], "ellipsis"),
])
def test_einsum_rejects_invalid_equations(equation, shapes, match, device):
    ops = [ember.ones(*s, device=device) for s in shapes]
    with pytest.raises(RuntimeError, match=match):
        ember.einsum(equation, *ops)


def test_product_shape_errors_name_the_op(device):
    m = ember.ones(2, 3, device=device)
    with pytest.raises(RuntimeError, match="addmm"):
        ember.addmm(ember.ones(2, 2, device=device), m, m)
    with pytest.raises(RuntimeError, match="addmm"):
        ember.addmm(ember.ones(5, device=device), m, m.mT)
    with pytest.raises(RuntimeError, match="mv"):
        ember.mv(m, ember.ones(2, device=device))
    with pytest.raises(RuntimeError, match="baddbmm"):
        ember.baddbmm(m, m, m)
    with pytest.raises(RuntimeError, match="inner"):
        ember.inner(m, ember.ones(2, device=device))
    with pytest.raises(RuntimeError, match="must have length 3"):
        ember.cross(m, m, dim=0)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        ember.tensordot(m, m, dims=1)
    with pytest.raises(RuntimeError, match="same number of columns"):
        ember.cdist(m, ember.ones(2, 2, device=device))
    with pytest.raises(TypeError, match="einsum"):
        ember.einsum("i", [1.0])


# ---- against torch --------------------------------------------------------------------------------------

TORCH_CASES = {
    "einsum_bilinear": ("einsum", lambda m, a, b, c: m.einsum("bn,anm,bm->ba", a, b, c), [(2, 3), (4, 3, 5), (2, 5)]),
    "einsum_ellipsis_trace": ("einsum", lambda m, a: m.einsum("...ii->...", a), [(2, 3, 3)]),
    "einsum_implicit_uppercase": ("einsum", lambda m, a, b: m.einsum("Ab,bc", a, b), [(2, 3), (3, 4)]),
    "addmm": ("addmm", lambda m, i, a, b: m.addmm(i, a, b, beta=0.3, alpha=1.7), [(1, 4), (3, 2), (2, 4)]),
    "addmv": ("addmv", lambda m, i, a, v: m.addmv(i, a, v, alpha=0.5), [(3,), (3, 2), (2,)]),
    "addbmm": ("addbmm", lambda m, i, a, b: m.addbmm(i, a, b, beta=-1.0), [(3, 4), (2, 3, 5), (2, 5, 4)]),
    "baddbmm": ("baddbmm", lambda m, i, a, b: m.baddbmm(i, a, b, beta=2.0), [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    "mv": ("mv", lambda m, a, v: m.mv(a, v), [(3, 2), (2,)]),
    "inner": ("inner", lambda m, a, b: m.inner(a, b), [(2, 3, 4), (5, 4)]),
    "kron": ("kron", lambda m, a, b: m.kron(a, b), [(2, 3), (2, 2)]),
    "cross": ("cross", lambda m, a, b: m.cross(a, b, dim=1), [(2, 3, 4), (2, 3, 4)]),
    "tensordot": ("tensordot", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [2, 0])), [(3, 2, 4), (3, 5, 2)]),
    "cdist": ("cdist", lambda m, a, b: m.cdist(a, b), [(2, 4, 3), (2, 5, 3)]),
    "cdist_p3": ("cdist", lambda m, a, b: m.cdist(a, b, p=3.0), [(4, 3), (5, 3)]),
    "logaddexp": ("logaddexp", lambda m, a, b: m.logaddexp(a, b), [(3, 4), (4,)]),
    "logaddexp2": ("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), [(3, 4), (3, 1)]),
    "hypot": ("hypot", lambda m, a, b: m.hypot(a, b), [(3, 4), (4,)]),
    "xlogy": ("xlogy", lambda m, a, b: m.xlogy(a, b.abs()), [(3, 4), (4,)]),
    "special_logit": ("logit", lambda m, a: m.special.logit(a.sigmoid(), eps=0.3), [(3, 4)]),
    "special_erfc": ("erfc", lambda m, a: m.special.erfc(a), [(3, 4)]),
    "special_sinc": ("sinc", lambda m, a: m.special.sinc(a), [(3, 4)]),
    "special_entr": ("entr", lambda m, a: m.special.entr(a.abs()), [(3, 4)]),
    "special_exp2": ("exp2", lambda m, a: m.special.exp2(a), [(3, 4)]),
    "special_ndtr": ("ndtr", lambda m, a: m.special.ndtr(a), [(3, 4)]),
    "special_erfinv": ("erfinv", lambda m, a: m.special.erfinv(a.tanh() * 0.999), [(3, 4)]),
    "log_softmax": ("log_softmax", lambda m, a: m.log_softmax(a, 1), [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_math_ops_match_torch_values_and_gradients(name, device):
    torch = pytest.importorskip("torch")
    _, fn, shapes = TORCH_CASES[name]
    rng = np.random.RandomState(1)
    arrays = [rng.randn(*s) for s in shapes]
    ours = [ember.tensor(x, device=device, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    out, ref = fn(ember, *ours), fn(torch, *theirs)
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = rng.randn(*ref.shape)
    ember.autograd.backward(out, ember.tensor(seed, device=device))
    ref.backward(torch.tensor(seed))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_nan_to_num_matches_torch_for_each_float_dtype(device):
    torch = pytest.importorskip("torch")
    values = [float("nan"), float("inf"), -float("inf"), 2.0]
    for name in ("float16", "float32", "float64"):  # each dtype's own extremes, not the default dtype's
        ours = ember.nan_to_num(ember.tensor(values, dtype=getattr(ember, name), device=device))
        ref = torch.nan_to_num(torch.tensor(values, dtype=getattr(torch, name)))
        assert ours.tolist() == ref.tolist()
