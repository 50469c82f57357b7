"""Products built from tensor ops: einsum, the addmm family, mv, inner, kron, cross, tensordot, cdist.

Each is composed of permute/reshape/expand/mul/sum/matmul, so gradients of any order come from those ops.
"""
from __future__ import annotations

import builtins
import math
import warnings

from ..arguments import check_tensor, int_arg
from .._tensor_base import Tensor
from . import elementwise as ew
from . import reduction as red
from .linalg import matmul
from .out import write_out
from .shape import cat, expand, narrow, permute, reshape

# ---- einsum ------------------------------------------------------------------------------------------

def _parse_term(term: str, equation: str, start: int) -> tuple[list, builtins.bool]:
    """The subscripts of one term ('.' marks the ellipsis position) and whether it has an ellipsis."""
    labels, i, ell = [], 0, False
    while i < len(term):
        c = term[i]
        if c == ".":
            if ell or term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand at index {start + i} that is not part of any "
                                   f"ellipsis in {equation!r}")
            ell = True
            labels.append(".")
            i += 3
            continue
        if not c.isascii() or not c.isalpha():
            raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in the equation string, "
                               f"subscripts must be in [a-zA-Z]")
        labels.append(c)
        i += 1
    return labels, ell


def _diagonals(t: Tensor, labels: list, index: int) -> tuple[Tensor, list]:
    """`t` with each repeated subscript reduced to its diagonal, and its now unique subscripts."""
    while len(set(labels)) < len(labels):
        lab = next(x for x in labels if labels.count(x) > 1)
        i, j = [k for k, x in enumerate(labels) if x == lab][:2]
        n = t.shape[i]
        if t.shape[j] != n:
            raise RuntimeError(f"einsum(): subscript {lab} is repeated for operand {index} but the sizes don't "
                               f"match, {t.shape[j]} != {n}")
        rest = [k for k in range(t.ndim) if k not in (i, j)]
        t = permute(t, rest + [i, j])
        t = reshape(t, t.shape[:-2] + (n * n,))[..., ::n + 1]
        labels = [labels[k] for k in rest] + [lab]
    return t, labels


def _sum_labels(t: Tensor, labels: list, drop) -> tuple[Tensor, list]:
    axes = tuple(k for k, x in enumerate(labels) if x in drop)
    if not axes:
        return t, labels
    return red.sum(t, axes), [x for x in labels if x not in drop]


def _contract(a: Tensor, la: list, b: Tensor, lb: list, keep: set, sizes: dict) -> tuple[Tensor, list]:
    """One pairwise contraction as a batched matmul: (batch, a-only, summed) @ (batch, summed, b-only)."""
    a, la = _sum_labels(a, la, set(la) - set(lb) - keep)
    b, lb = _sum_labels(b, lb, set(lb) - set(la) - keep)
    batch = [x for x in la if x in lb and x in keep]
    summed = [x for x in la if x in lb and x not in keep]
    a_only = [x for x in la if x not in lb]
    b_only = [x for x in lb if x not in la]

    def arrange(t, lt, order):
        t = permute(t, [lt.index(x) for x in order])
        return expand(t, tuple(sizes[x] for x in order))

    a = arrange(a, la, batch + a_only + summed)
    b = arrange(b, lb, batch + summed + b_only)
    nb = tuple(sizes[x] for x in batch)
    m, k, n = (math.prod(sizes[x] for x in g) for g in (a_only, summed, b_only))
    out = matmul(reshape(a, nb + (m, k)), reshape(b, nb + (k, n)))
    return reshape(out, nb + tuple(sizes[x] for x in a_only + b_only)), batch + a_only + b_only


def _sublist_equation(args: tuple) -> tuple[str, tuple]:
    """The equation and operands of the sublist form `einsum(op1, [0, 1], op2, [1, 2], [0, 2])`."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def term(sub) -> str:
        out = []
        for x in sub:
            if x is Ellipsis:
                out.append("...")
            elif isinstance(x, int) and 0 <= x < len(letters):
                out.append(letters[x])
            else:
                raise ValueError(f"einsum(): expected subscript to be within the range [0, 52), but got {x}")
        return "".join(out)

    pairs, output = (args, None) if len(args) % 2 == 0 else (args[:-1], args[-1])
    equation = ",".join(term(t) for t in pairs[1::2])
    if output is not None:
        equation += "->" + term(output)
    return equation, pairs[0::2]


def einsum(equation: str | Tensor, *operands) -> Tensor:
    """Sums the products of the operands' elements along the dimensions named by the Einstein-notation
    `equation` (as `torch.einsum`: ellipsis, repeated subscripts for diagonals, implicit output); the
    sublist form `einsum(op1, [0, 1], op2, [1, 2], [0, 2])` is accepted too."""
    if isinstance(equation, Tensor):
        equation, operands = _sublist_equation((equation,) + operands)
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for k, t in enumerate(operands):
        check_tensor(t, "einsum", f"operands[{k}]", k + 2)
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms, pos = [], 0
    for term in lhs.split(","):
        terms.append(_parse_term(term, equation, pos))
        pos += len(term) + 1
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")

    # Subscripts: letters stand for themselves; ellipsis dims become ints, right-aligned across operands.
    n_ell = 0
    for k, ((labels, ell), t) in enumerate(zip(terms, operands)):
        named = len(labels) - ell
        if (t.ndim < named) if ell else (t.ndim != named):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({t.ndim}) for operand {k}"
                               + ("" if ell else " and no ellipsis was given"))
        n_ell = builtins.max(n_ell, t.ndim - named) if ell else n_ell
    ops, all_labels, sizes = [], [], {}
    for k, ((labels, ell), t) in enumerate(zip(terms, operands)):
        if ell:
            e = t.ndim - (len(labels) - 1)
            at = labels.index(".")
            labels = labels[:at] + list(range(n_ell - e, n_ell)) + labels[at + 1:]
        t, labels = _diagonals(t, labels, k)
        for x, s in zip(labels, t.shape):
            if sizes.get(x, 1) not in (1, s) and s != 1:
                name = f"subscript {x}" if isinstance(x, str) else "ellipsis dimensions"
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                                   f"{name} has sizes {sizes[x]} and {s}")
            sizes[x] = builtins.max(sizes.get(x, 1), s)
        ops.append((t, labels))
        all_labels.extend(labels)

    if arrow:
        out_labels, out_ell = _parse_term(rhs, equation, len(lhs) + 2)
        for x in out_labels:
            if x != "." and out_labels.count(x) > 1:
                raise RuntimeError(f"einsum(): output subscript {x} appears more than once in the output")
            if x != "." and x not in all_labels:
                raise RuntimeError(f"einsum(): output subscript {x} does not appear in the equation for any input "
                                   "operand")
        if out_ell:
            at = out_labels.index(".")
            out_labels = out_labels[:at] + list(range(n_ell)) + out_labels[at + 1:]
    else:
        written = [x for labels, _ in terms for x in labels]
        once = sorted(x for x in set(written) if x != "." and written.count(x) == 1)
        out_labels = list(range(n_ell)) + once

    keep = set(out_labels)
    t, lt = ops[0]
    for k, (u, lu) in enumerate(ops[1:], 1):
        later = keep.union(*(set(lab) for _, lab in ops[k + 1:]))
        t, lt = _contract(t, lt, u, lu, later, sizes)
    t, lt = _sum_labels(t, lt, set(lt) - keep)
    t = permute(t, [lt.index(x) for x in out_labels]) if lt != out_labels else t
    return expand(t, tuple(sizes[x] for x in out_labels))


# ---- the addmm family -----------------------------------------------------------------------------------

def _scaled_sum(fn: str, input: Tensor, product: Tensor, beta, alpha, out) -> Tensor:
    """beta * input + alpha * product, `input` broadcast to the product's shape and ignored (nan and inf too)
    when beta is 0, as PyTorch."""
    check_tensor(input, fn)
    try:
        input = expand(input, product.shape)
    except RuntimeError:
        raise RuntimeError(f"{fn}: the input of shape {list(input.shape)} does not broadcast to the product's "
                           f"shape {list(product.shape)}") from None
    if alpha != 1:
        product = product * alpha
    if beta != 0:
        product = ew.add(product, input if beta == 1 else input * beta)
    return product if out is None else write_out(fn, product, out)


def _check_dims(fn: str, names: str, *tensors_and_ndims) -> None:
    for (t, ndim), name, pos in zip(tensors_and_ndims, names.split(), range(2, 5)):
        check_tensor(t, fn, name, pos)
        if t.ndim != ndim:
            raise RuntimeError(f"{fn}: {name} must be a {ndim}D tensor, got {t.ndim}D")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) for 2-D `mat1` (n, m) and `mat2` (m, p); `input` broadcasts to (n, p)."""
    _check_dims("addmm", "mat1 mat2", (mat1, 2), (mat2, 2))
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _scaled_sum("addmm", input, matmul(mat1, mat2), beta, alpha, out)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat @ vec) for a 2-D `mat` (n, m) and 1-D `vec` (m,); `input` broadcasts to (n,)."""
    _check_dims("addmv", "mat vec", (mat, 2), (vec, 1))
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, got mat {mat.shape[0]}x{mat.shape[1]} and vec {vec.shape[0]}")
    return _scaled_sum("addmv", input, matmul(mat, vec), beta, alpha, out)


def _check_batches(fn: str, b1: Tensor, b2: Tensor) -> None:
    _check_dims(fn, "batch1 batch2", (b1, 3), (b2, 3))
    if b1.shape[0] != b2.shape[0] or b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"{fn}: batch1 {list(b1.shape)} and batch2 {list(b2.shape)} need the same batch size and "
                           "batch1.size(2) == batch2.size(1)")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
           out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * sum_i(batch1[i] @ batch2[i]) for (b, n, m) and (b, m, p) batches."""
    _check_batches("addbmm", batch1, batch2)
    b, n, m = batch1.shape
    prod = matmul(reshape(permute(batch1, (1, 0, 2)), (n, b * m)), reshape(batch2, (b * m, batch2.shape[2])))
    return _scaled_sum("addbmm", input, prod, beta, alpha, out)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
            out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2) batch by batch; `input` broadcasts to (b, n, p)."""
    _check_batches("baddbmm", batch1, batch2)
    return _scaled_sum("baddbmm", input, matmul(batch1, batch2), beta, alpha, out)


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of a 2-D matrix (n, m) and a 1-D vector (m,)."""
    _check_dims("mv", "input vec", (input, 2), (vec, 1))
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({input.shape[0]}x{input.shape[1]}) and vec "
                           f"({vec.shape[0]})")
    result = matmul(input, vec)
    return result if out is None else write_out("mv", result, out)


# ---- other products -------------------------------------------------------------------------------------

def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sum of products over the last dimensions; a scalar operand multiplies."""
    check_tensor(input, "inner")
    check_tensor(other, "inner", "other", 2)
    if input.ndim == 0 or other.ndim == 0:
        result = ew.mul(input, other)
    else:
        if input.shape[-1] != other.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(input.shape)} and {list(other.shape)}")
        result = tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))
    return result if out is None else write_out("inner", result, out)


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Kronecker product: blocks `input[i] * other`, of shape input.shape * other.shape (leading 1s padded)."""
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other", 2)
    n = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = reshape(input, tuple(x for s in sa for x in (s, 1)))
    b = reshape(other, tuple(x for s in sb for x in (1, s)))
    result = reshape(ew.mul(a, b), tuple(x * y for x, y in zip(sa, sb)))
    return result if out is None else write_out("kron", result, out)


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None) -> Tensor:
    """Cross product of 3-vectors along `dim` (default: the first dimension of size 3); operands have the same
    number of dimensions and broadcast."""
    check_tensor(input, "cross")
    check_tensor(other, "cross", "other", 2)
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {input.ndim} and "
                           f"{other.ndim}")
    sa, sb = tuple(input.shape), tuple(other.shape)
    if any(x != y and 1 not in (x, y) for x, y in zip(sa, sb)):
        raise RuntimeError(f"linalg.cross: the shapes {list(input.shape)} and {list(other.shape)} do not broadcast")
    shape = tuple(builtins.max(x, y) for x, y in zip(sa, sb))
    a, b = expand(input, shape), expand(other, shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated; pass dim explicitly "
                      "(e.g. dim=-1)", UserWarning, stacklevel=2)
        dim = next((k for k, s in enumerate(a.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input of shape {list(input.shape)}")
    d = int_arg(dim, "cross", "dim")
    if not -a.ndim <= d < a.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-a.ndim}, {a.ndim - 1}], but got {d})")
    d %= a.ndim
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {sa[d]} and {sb[d]}")
    a1, a2, a3 = (narrow(a, d, k, 1) for k in range(3))
    b1, b2, b3 = (narrow(b, d, k, 1) for k in range(3))
    result = cat([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], d)
    return result if out is None else write_out("cross", result, out)


def tensordot(a: Tensor, b: Tensor, dims=2, out: Tensor | None = None) -> Tensor:
    """Contracts `dims` of `a` with `dims` of `b`: an int n (a's last n with b's first n) or two lists."""
    check_tensor(a, "tensordot", "a")
    check_tensor(b, "tensordot", "b", 2)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (list, tuple)):
        if len(dims) != 2:
            raise RuntimeError(f"tensordot expects dims to be a pair of lists, got {dims}")
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    else:
        n = int_arg(dims, "tensordot", "dims")
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > a.ndim or n > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        da, db = list(range(a.ndim - n, a.ndim)), list(range(n))
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
    da = [d % a.ndim if -a.ndim <= d < a.ndim else _dim_error(d, a.ndim) for d in da]
    db = [d % b.ndim if -b.ndim <= d < b.ndim else _dim_error(d, b.ndim) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} and "
                               f"second has size {b.shape[y]} in dim {y}")
    ra = [k for k in range(a.ndim) if k not in da]
    rb = [k for k in range(b.ndim) if k not in db]
    k = math.prod(a.shape[x] for x in da)
    am = reshape(permute(a, ra + da), (math.prod(a.shape[x] for x in ra), k))
    bm = reshape(permute(b, db + rb), (k, math.prod(b.shape[x] for x in rb)))
    result = reshape(matmul(am, bm), tuple(a.shape[x] for x in ra) + tuple(b.shape[x] for x in rb))
    return result if out is None else write_out("tensordot", result, out)


def _dim_error(d: int, ndim: int):
    raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between the rows of x1 (B, P, M) and x2 (B, R, M): a (B, P, R) tensor."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2", 2)
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.dtype.is_floating_point or not x2.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    diff = ew.sub(x1.unsqueeze(-2), x2.unsqueeze(-3))
    if p in (0, 1, 2) or p == math.inf:
        return red.norm(diff, p, -1)
    s = red.sum(ew.abs(diff) ** p, -1)
    pos = s > 0
    return ew.where(pos, ew.where(pos, s, 1.0) ** (1.0 / p), 0.0)
