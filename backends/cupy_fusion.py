"""CUDA source of one cupy `ElementwiseKernel` per chain of elementwise calls (`CupyBackend.fuse_elementwise`).

A chain fuses when every step is a correctly rounded float32/float64 operation (`+ - * /`, negation,
`fabs`, `sqrt`) on arrays of the chain's dtype and finite scalars: then the kernel, computing in that
dtype, equals cupy's ufuncs one by one bit for bit. Sums, differences and products use the
`__fadd_rn`-style intrinsics, which the compiler never contracts into a fused multiply-add (a
`*` followed by `+` may otherwise become one FMA, rounded once instead of twice); division and
`sqrt` are IEEE-rounded at cupy's default precision flags. Transcendental functions are left out: a
kernel's `exp` and a cupy ufunc's agree on a GPU, but nothing here can check that.
"""
from __future__ import annotations

import hashlib
import math

from ember import dtypes

from .elementwise_chain import ElementwiseChain

_PREFIX = {dtypes.float32: "f", dtypes.float64: "d"}
_FLOAT32_MAX = 3.4028234663852886e38
_BINARY = {"add": "__{p}add_rn({a}, {b})", "sub": "__{p}sub_rn({a}, {b})", "mul": "__{p}mul_rn({a}, {b})",
           "div": "({a} / {b})"}
_UNARY = {"neg": "(-{a})", "abs": "fabs({a})", "sqrt": "sqrt({a})"}


def _literal(value, dtype) -> str | None:
    """`value` as a C literal cast to the chain's type T (as cupy converts a Python scalar), or None."""
    if type(value) is int and abs(value) < 2 ** 53:
        return f"(T){value}"
    if type(value) is float and math.isfinite(value) and (dtype is dtypes.float64 or abs(value) <= _FLOAT32_MAX):
        return f"(T){value!r}"
    return None


def kernel_source(chain: ElementwiseChain) -> tuple[str, str, str, str] | None:
    """`(in_params, out_params, operation, name)` of the `ElementwiseKernel` computing `chain`, or None
    when the chain has an operation, dtype or scalar the kernel cannot reproduce exactly."""
    p = _PREFIX.get(chain.dtype)
    if p is None or not chain.inputs or any(dtype is not chain.dtype for _, dtype in chain.inputs):
        return None
    statements = []
    for i, step in enumerate(chain.steps):
        form = _BINARY.get(step.op) or _UNARY.get(step.op)
        if form is None:
            return None
        args = []
        for o in step.operands:
            text = f"x{o.value}" if o.kind == "input" else f"t{o.value}" if o.kind == "step" else \
                _literal(o.value, chain.dtype)
            if text is None:
                return None
            args.append(text)
        expr = form.format(p=p, a=args[0], b=args[-1])
        statements.append(f"y = {expr}" if i == len(chain.steps) - 1 else f"T t{i} = {expr}")
    in_params = ", ".join(f"T x{j}" for j in range(len(chain.inputs)))
    operation = "; ".join(statements)
    digest = hashlib.sha1(f"{in_params}|{operation}".encode()).hexdigest()[:16]
    return in_params, "T y", operation, f"ember_chain_{digest}"
