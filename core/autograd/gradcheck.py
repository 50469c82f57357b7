"""`gradcheck` and `gradgradcheck`: autograd's gradients against central finite differences."""
from __future__ import annotations

from typing import Callable

import numpy as np  # host-side bookkeeping of the Jacobians

from .. import creation
from .._tensor_base import Tensor
from .functional import grad


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree."""


def _outputs(fn, inputs) -> tuple:
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _flat(outs) -> np.ndarray:
    return np.concatenate([np.asarray(o.detach().numpy(), dtype=np.float64).ravel() for o in outs]) if outs \
        else np.zeros(0)


def _numerical_jacobian(fn, inputs, i: int, eps: float) -> np.ndarray:
    x = inputs[i]
    base = np.array(x.detach().numpy(), dtype=np.float64)
    columns = []
    for j in range(base.size):
        cols = []
        for sign in (1.0, -1.0):
            pert = base.copy()
            pert.flat[j] += sign * eps
            xs = list(inputs)
            xs[i] = _like(x, pert)
            cols.append(_flat(_outputs(fn, xs)))
        columns.append((cols[0] - cols[1]) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _like(x: Tensor, values: np.ndarray) -> Tensor:
    return creation.tensor(values, dtype=x.dtype, device=x.device, requires_grad=x.requires_grad)


def _analytical_jacobian(fn, inputs, i: int, n_out: int) -> np.ndarray:
    outs = _outputs(fn, inputs)
    rows = []
    sizes = [o.numel() for o in outs]
    for k in range(n_out):
        grads = []
        offset = 0
        for o, size in zip(outs, sizes):
            g = np.zeros(size)
            if offset <= k < offset + size:
                g[k - offset] = 1.0
            grads.append(_like(o.detach(), g.reshape(o.shape)))
            offset += size
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        if not pairs:
            rows.append(np.zeros(inputs[i].numel()))
            continue
        (gi,) = grad([o for o, _ in pairs], [inputs[i]], [g for _, g in pairs], retain_graph=True, allow_unused=True)
        rows.append(np.zeros(inputs[i].numel()) if gi is None else np.asarray(gi.detach().numpy(), np.float64).ravel())
    return np.stack(rows) if rows else np.zeros((0, inputs[i].numel()))


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check the gradients of `func` at `inputs` against finite differences.

    Every floating-point input with `requires_grad=True` is checked, element by element; use
    float64 inputs. Returns True, or raises `GradcheckError` naming the input and the worst
    element (returns False instead when `raise_exception=False`).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    n_out = sum(o.numel() for o in _outputs(func, inputs))
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numerical = _numerical_jacobian(func, inputs, i, eps)
        analytical = _analytical_jacobian(func, inputs, i, n_out)
        if numerical.shape != analytical.shape or not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
            if not raise_exception:
                return False
            diff = np.abs(analytical - numerical) if numerical.shape == analytical.shape else None
            where = np.unravel_index(np.argmax(diff), diff.shape) if diff is not None and diff.size else None
            raise GradcheckError(
                f"Jacobian mismatch for output and input {i} (shape {list(x.shape)}):\n"
                f"numerical:\n{numerical}\nanalytical:\n{analytical}\n"
                + (f"worst at (output element, input element) {tuple(int(w) for w in where)}: "
                   f"analytical {analytical[where]:.6g} vs numerical {numerical[where]:.6g}" if where else ""))
    return True


def gradgradcheck(func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check second derivatives: `gradcheck` of the function that computes `func`'s gradients."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(creation.randn(o.shape, dtype=o.dtype, device=o.device, requires_grad=True) for o in outs)
    grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*args):
        xs, gos = args[:n_in], args[n_in:]
        ys = _outputs(func, xs)
        pairs = [(y, g) for y, g in zip(ys, gos) if y.requires_grad]
        gs = grad([y for y, _ in pairs], [xs[i] for i in diff_idx], [g for _, g in pairs],
                  create_graph=True, allow_unused=True, materialize_grads=True)
        return gs

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
