"""`ember.linalg`: values against hand-computed results, reconstruction properties, gradients (first and
second order, float64) on well-conditioned matrices, PyTorch's errors, and agreement with torch.

Decompositions whose factors are defined up to sign (svd, eigh) are checked through losses that do not
depend on that choice, as PyTorch's own gradient tests do.
"""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

LA = ember.linalg


def well_conditioned(shape, seed=0):
    """A random matrix (batch) with singular values bounded away from 0 and from each other."""
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    k = min(m, n)
    out = np.empty(shape)
    for idx in np.ndindex(*batch):
        U, _ = np.linalg.qr(rng.standard_normal((m, m)))
        V, _ = np.linalg.qr(rng.standard_normal((n, n)))
        S = np.zeros((m, n))
        S[range(k), range(k)] = 1.0 + np.arange(k) * 0.7 + rng.uniform(0, 0.2, k)
        out[idx] = U @ S @ V.T
    return out


def symmetric(X):
    return X + X.mT


def spd(X):
    return X @ X.mT + X.shape[-1] * ember.eye(X.shape[-1], dtype=X.dtype, device=X.device)


def t(array, device, requires_grad=False):
    return ember.tensor(np.asarray(array), dtype=ember.float64, device=device, requires_grad=requires_grad)


# ---- values ----------------------------------------------------------------------------------------
def test_2x2_inverse_and_determinant_match_the_closed_form(device):
    A = t([[4.0, 7.0], [2.0, 6.0]], device)
    np.testing.assert_allclose(LA.inv(A).numpy(), [[0.6, -0.7], [-0.2, 0.4]])
    assert LA.det(A).item() == pytest.approx(10.0)
    sign, logabsdet = LA.slogdet(t([[0.0, 1.0], [1.0, 0.0]], device) * 2)
    assert sign.item() == -1.0 and logabsdet.item() == pytest.approx(np.log(4.0))
    assert ember.det(A).item() == pytest.approx(A.det().item())
    np.testing.assert_allclose(ember.inverse(A).numpy(), A.inverse().numpy())


def test_solve_handles_vectors_matrices_left_false_and_broadcast_batches(device):
    A = t(well_conditioned((3, 3, 3)), device)
    b = t(np.arange(3.0), device)
    x = LA.solve(A, b)
    assert tuple(x.shape) == (3, 3)
    np.testing.assert_allclose((A @ x.unsqueeze(-1)).squeeze(-1).numpy(), np.broadcast_to(b.numpy(), (3, 3)), atol=1e-10)
    B = t(np.arange(6.0).reshape(3, 2), device)
    np.testing.assert_allclose((A @ LA.solve(A, B)).numpy(), np.broadcast_to(B.numpy(), (3, 3, 2)), atol=1e-10)
    C = t(np.arange(6.0).reshape(2, 3), device)
    np.testing.assert_allclose((LA.solve(A[0], C, left=False) @ A[0]).numpy(), C.numpy(), atol=1e-10)


def test_decompositions_reconstruct_their_input(device):
    A = t(well_conditioned((2, 4, 3)), device)
    Q, R = LA.qr(A)
    assert tuple(Q.shape) == (2, 4, 3) and tuple(R.shape) == (2, 3, 3)
    np.testing.assert_allclose((Q @ R).numpy(), A.numpy(), atol=1e-10)
    np.testing.assert_allclose(np.tril(R.numpy(), -1), 0, atol=1e-12)
    assert tuple(LA.qr(A, mode="complete").Q.shape) == (2, 4, 4)
    U, S, Vh = LA.svd(A, full_matrices=False)
    np.testing.assert_allclose((U @ (S.unsqueeze(-1) * Vh)).numpy(), A.numpy(), atol=1e-10)
    assert tuple(LA.svd(A).U.shape) == (2, 4, 4)
    np.testing.assert_allclose(LA.svdvals(A).numpy(), S.numpy())
    U2, S2, V2 = ember.svd(A)
    np.testing.assert_allclose((U2 @ (S2.unsqueeze(-1) * V2.mT)).numpy(), A.numpy(), atol=1e-10)
    H = symmetric(t(well_conditioned((2, 3, 3)), device))
    w, V = LA.eigh(H)
    np.testing.assert_allclose((V @ (w.unsqueeze(-1) * V.mT)).numpy(), H.numpy(), atol=1e-10)
    np.testing.assert_allclose(LA.eigvalsh(H).numpy(), w.numpy())
    P = spd(t(well_conditioned((2, 3, 3)), device))
    L = LA.cholesky(P)
    np.testing.assert_allclose((L @ L.mT).numpy(), P.numpy(), atol=1e-10)
    np.testing.assert_allclose(LA.cholesky(P, upper=True).numpy(), L.mT.numpy())
    np.testing.assert_allclose(P.cholesky().numpy(), L.numpy())


def test_result_types_are_named_tuples_with_pytorchs_fields(device):
    A = t(well_conditioned((3, 3)), device)
    assert LA.qr(A)._fields == ("Q", "R")
    assert LA.svd(A)._fields == ("U", "S", "Vh")
    assert LA.eigh(symmetric(A))._fields == ("eigenvalues", "eigenvectors")
    assert LA.slogdet(A)._fields == ("sign", "logabsdet")
    assert LA.lstsq(A, A)._fields == ("solution", "residuals", "rank", "singular_values")
    assert ember.svd(A)._fields == ("U", "S", "V")
    assert issubclass(LA.LinAlgError, RuntimeError)


def test_pinv_lstsq_rank_and_matrix_power(device):
    A = t([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], device)  # rank 1
    assert LA.matrix_rank(A).item() == 1 and LA.matrix_rank(A).dtype == ember.int64
    P = LA.pinv(A)
    np.testing.assert_allclose((A @ P @ A).numpy(), A.numpy(), atol=1e-10)
    np.testing.assert_allclose(P.numpy(), np.linalg.pinv(A.numpy()), atol=1e-12)
    np.testing.assert_allclose(ember.pinverse(A).numpy(), P.numpy(), atol=1e-12)
    F = t(well_conditioned((5, 3)), device)
    B = t(np.arange(10.0).reshape(5, 2), device)
    sol = LA.lstsq(F, B, driver="gelsd")
    np.testing.assert_allclose(sol.solution.numpy(), np.linalg.lstsq(F.numpy(), B.numpy(), rcond=None)[0], atol=1e-10)
    np.testing.assert_allclose(sol.residuals.numpy(), ((F.numpy() @ sol.solution.numpy() - B.numpy()) ** 2).sum(0))
    assert sol.rank.item() == 3 and tuple(sol.singular_values.shape) == (3,)
    assert LA.lstsq(F, B).residuals.numel() == 0
    M = t([[1.0, 1.0], [0.0, 1.0]], device)
    np.testing.assert_allclose(LA.matrix_power(M, 5).numpy(), [[1, 5], [0, 1]])
    np.testing.assert_allclose(M.matrix_power(-3).numpy(), [[1, -3], [0, 1]])
    np.testing.assert_allclose(ember.matrix_power(M, 0).numpy(), np.eye(2))


def test_norms_agree_with_numpy(device):
    X = well_conditioned((2, 3, 4))
    A = t(X, device)
    np.testing.assert_allclose(LA.vector_norm(A).item(), np.linalg.norm(X.ravel()))
    np.testing.assert_allclose(LA.vector_norm(A, 1, dim=-1).numpy(), np.linalg.norm(X, 1, axis=-1))
    np.testing.assert_allclose(LA.vector_norm(A, float("inf"), dim=(0, 2)).numpy(), np.abs(X).max(axis=(0, 2)))
    for ord in ("fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")):
        np.testing.assert_allclose(LA.matrix_norm(A, ord).numpy(), np.linalg.norm(X, ord, axis=(-2, -1)), err_msg=str(ord))
        np.testing.assert_allclose(LA.matrix_norm(A, ord, dim=(0, 2), keepdim=True).numpy(),
                                   np.linalg.norm(X, ord, axis=(0, 2), keepdims=True), err_msg=str(ord))
    np.testing.assert_allclose(LA.norm(A[0], "nuc").item(), np.linalg.norm(X[0], "nuc"))
    np.testing.assert_allclose(LA.norm(A, dim=1).numpy(), np.linalg.norm(X, axis=1))
    np.testing.assert_allclose(LA.norm(A).item(), ember.norm(A).item())


# ---- errors ----------------------------------------------------------------------------------------
ERRORS = [
    ("singular inv", lambda d: LA.inv(ember.zeros(2, 2, device=d)), LA.LinAlgError, "singular"),
    ("singular inv in a batch", lambda d: LA.inv(ember.stack([ember.eye(2, device=d), ember.zeros(2, 2, device=d)])),
     LA.LinAlgError, r"\(Batch element 1\)"),
    ("singular solve", lambda d: LA.solve(ember.zeros(2, 2, device=d), ember.ones(2, device=d)), LA.LinAlgError,
     "singular"),
    ("indefinite cholesky", lambda d: LA.cholesky(ember.tensor([[1.0, 0.0], [0.0, -1.0]], device=d)), LA.LinAlgError,
     "leading minor of order 2 is not positive-definite"),
    ("non-square inv", lambda d: LA.inv(ember.zeros(2, 3, device=d)), RuntimeError,
     "A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("non-square det", lambda d: LA.det(ember.zeros(2, 3, device=d)), RuntimeError, "square matrices"),
    ("1-D inv", lambda d: LA.inv(ember.zeros(3, device=d)), RuntimeError, "at least 2 dimensions"),
    ("integer inv", lambda d: LA.inv(ember.zeros(2, 2, dtype=ember.int64, device=d)), RuntimeError,
     "Expected a floating point"),
    ("solve of mismatched shapes", lambda d: LA.solve(ember.eye(2, device=d), ember.ones(3, device=d)), RuntimeError,
     r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"),
    ("solve of a vector with left=False", lambda d: LA.solve(ember.eye(3, device=d), ember.ones(3, device=d), left=False),
     RuntimeError, r"equation XA = B \(3x3 and 3x1\)"),
    ("unknown qr mode", lambda d: LA.qr(ember.eye(2, device=d), mode="x"), RuntimeError, "unrecognized mode 'x'"),
    ("norm of 3-D with ord and no dim", lambda d: LA.norm(ember.ones(2, 2, 2, device=d), 2), RuntimeError,
     "must be 1D or 2D"),
    ("string ord for vector_norm", lambda d: LA.vector_norm(ember.ones(2, device=d), "fro"), TypeError, "Number"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_have_pytorchs_types_and_messages(device, case):
    _, fn, exc, match = case
    with pytest.raises(exc, match=match):
        fn(device)


def test_svd_driver_is_only_for_cuda_tensors(device):
    A = ember.eye(2, device=device)
    if A.device.type == "cuda":
        assert LA.svdvals(A, driver="gesvd").tolist() == [1.0, 1.0]
    else:
        with pytest.raises(RuntimeError, match="only supported on CUDA inputs"):
            LA.svd(A, driver="gesvd")


def test_qr_gradient_errors_where_pytorch_has_none(device):
    A = t(well_conditioned((4, 3)), device, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(A, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        LA.qr(A, mode="complete").Q.sum().backward()


def test_det_gradient_at_a_singular_matrix_is_the_adjugate(device):
    A = t([[1.0, 2.0], [2.0, 4.0]], device, requires_grad=True)
    d = LA.det(A)
    assert d.item() == pytest.approx(0.0)
    d.backward()
    np.testing.assert_allclose(A.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    B = t([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]], device, requires_grad=True)
    assert gradcheck(LA.det, (B,))
    assert gradgradcheck(LA.det, (B,))


def test_float32_inputs_give_float32_results(device):
    A = ember.tensor(well_conditioned((3, 3)), dtype=ember.float32, device=device)
    for out in (LA.inv(A), LA.det(A), LA.svd(A).S, LA.qr(A).R, LA.eigh(symmetric(A)).eigenvectors, LA.pinv(A),
                LA.cholesky(spd(A)), LA.solve(A, A), LA.matrix_norm(A, "nuc")):
        assert out.dtype == ember.float32 and out.device == A.device
    assert LA.matrix_rank(A).dtype == ember.int64


# ---- gradients ---------------------------------------------------------------------------------------
def _svd_invariant(A):
    U, S, Vh = LA.svd(A, full_matrices=False)
    return S, U @ Vh, (U * S.unsqueeze(-2)) @ U.mT


def _eigh_invariant(X):
    w, V = LA.eigh(symmetric(X))
    return w, (V * V).sum(-2), V @ (w.unsqueeze(-1) * V.mT)


GRADIENTS = {
    "inv": (lambda A: LA.inv(A), [(3, 3), (2, 3, 3)]),
    "det": (lambda A: LA.det(A), [(3, 3), (2, 3, 3)]),
    "slogdet": (lambda A: LA.slogdet(A).logabsdet, [(3, 3), (2, 3, 3)]),
    "solve": (lambda A, B: LA.solve(A, B), [((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((3, 3), (2, 3, 2))]),
    "solve_left_false": (lambda A, B: LA.solve(A, B, left=False), [((3, 3), (2, 3))]),
    "cholesky": (lambda X: LA.cholesky(spd(X)), [(3, 3), (2, 3, 3)]),
    "cholesky_upper": (lambda X: LA.cholesky(spd(X), upper=True), [(3, 3)]),
    "qr_tall": (lambda A: LA.qr(A), [(4, 3), (2, 3, 3)]),
    "qr_wide": (lambda A: LA.qr(A), [(3, 5)]),
    "qr_complete_wide": (lambda A: LA.qr(A, mode="complete"), [(2, 4)]),
    "svd": (_svd_invariant, [(4, 3), (3, 4), (2, 3, 3)]),
    "svdvals": (lambda A: LA.svdvals(A), [(4, 3), (2, 3, 5)]),
    "eigh": (_eigh_invariant, [(3, 3), (2, 4, 4)]),
    "eigvalsh": (lambda X: LA.eigvalsh(symmetric(X)), [(3, 3)]),
    "pinv": (lambda A: LA.pinv(A), [(4, 3), (3, 4), (3, 3)]),
    "lstsq": (lambda A, B: LA.lstsq(A, B).solution, [((5, 3), (5, 2))]),
    "matrix_power": (lambda A: LA.matrix_power(A, 3), [(3, 3)]),
    "matrix_power_negative": (lambda A: LA.matrix_power(A, -2), [(2, 2, 2)]),
    "matrix_norm_nuc": (lambda A: LA.matrix_norm(A, "nuc"), [(4, 3)]),
    "matrix_norm_2": (lambda A: LA.matrix_norm(A, 2), [(3, 4)]),
    "vector_norm_3": (lambda A: LA.vector_norm(A, 3, dim=-1), [(3, 4)]),
}
GRAD_CASES = [(name, shapes) for name, (_, cases) in GRADIENTS.items() for shapes in cases]


@pytest.mark.parametrize("name,shapes", GRAD_CASES, ids=[f"{n}-{s}" for n, s in GRAD_CASES])
def test_gradients_match_finite_differences_to_second_order(device, name, shapes):
    fn = GRADIENTS[name][0]
    shapes = shapes if isinstance(shapes[0], tuple) else (shapes,)
    inputs = [t(well_conditioned(s, seed=i) if len(s) >= 2 else np.arange(1.0, s[0] + 1), device, requires_grad=True)
              for i, s in enumerate(shapes)]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ---- against PyTorch ---------------------------------------------------------------------------------
def _torch_svd_loss(r):
    return (r.U @ r.Vh) * r.S.sum()


TORCH_CASES = {
    "inv": (lambda m, A: m.linalg.inv(A), (2, 3, 3)),
    "det": (lambda m, A: m.linalg.det(A), (2, 3, 3)),
    "slogdet": (lambda m, A: m.linalg.slogdet(A)[1], (3, 3)),
    "cholesky": (lambda m, A: m.linalg.cholesky(A @ A.mT + 3 * m.eye(3, dtype=A.dtype, device=A.device)), (3, 3)),
    "qr": (lambda m, A: m.linalg.qr(A)[0] * 2 + m.linalg.qr(A)[1].sum(-1, keepdim=True).mT, (4, 3)),
    "eigh": (lambda m, A: m.linalg.eigh(A)[1].abs() + m.linalg.eigh(A)[0], (3, 3)),
    "svd": (lambda m, A: _torch_svd_loss(m.linalg.svd(A, full_matrices=False)), (4, 3)),
    "pinv": (lambda m, A: m.linalg.pinv(A), (3, 5)),
    "matrix_norm_nuc": (lambda m, A: m.linalg.matrix_norm(A, "nuc"), (3, 4)),
    "norm_inf": (lambda m, A: m.linalg.norm(A, float("inf")), (3, 4)),
    "lstsq": (lambda m, A: m.linalg.lstsq(A, A[..., :2] + 1).solution, (5, 3)),
    "solve": (lambda m, A: m.linalg.solve(A, A[..., 0] * 2 + 1), (2, 3, 3)),
    "solve_left_false": (lambda m, A: m.linalg.solve(A, A[..., :2, :] + 1, left=False), (3, 3)),
    "svdvals": (lambda m, A: m.linalg.svdvals(A), (2, 3, 5)),
    "eigvalsh": (lambda m, A: m.linalg.eigvalsh(A, UPLO="U"), (4, 4)),
    "matrix_power": (lambda m, A: m.linalg.matrix_power(A, -3), (3, 3)),
    "matrix_norm_2": (lambda m, A: m.linalg.matrix_norm(A, -2, dim=(0, 1), keepdim=True), (4, 3)),
    "vector_norm": (lambda m, A: m.linalg.vector_norm(A, 3.5, dim=0), (4, 3)),
    "pinv_hermitian": (lambda m, A: m.linalg.pinv(A, hermitian=True, atol=0.1), (3, 3)),
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_values_and_gradients_match_torch(device, name):
    torch = pytest.importorskip("torch")
    fn, shape = TORCH_CASES[name]
    X = well_conditioned(shape, seed=3)
    a = t(X, device, requires_grad=True)
    ta = torch.tensor(X, requires_grad=True)
    out, tout = fn(ember, a), fn(torch, ta)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-10)
    G = np.random.default_rng(1).standard_normal(tuple(tout.shape))
    out.backward(t(G, device))
    tout.backward(torch.tensor(G))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), atol=1e-8)
