"""`ElementwiseChain`: what `Backend.fuse_elementwise` receives, a chain of elementwise calls to run as one.

`ember.compile` hands a backend each maximal run of consecutive elementwise calls of a recorded
program whose intermediate results are used only inside the run. A chain names its operations by
the interface's elementwise primitives (`UNARY`, `BINARY`); each operand is an external array (the
chain's inputs, in order), a Python scalar, or the result of an earlier step. Every step's result
has the chain's shape and dtype; inputs broadcast to it. `run_unfused` is the meaning of a chain: the
backend's own primitives called in order, which a fused callable must reproduce bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ember import dtypes

#: elementwise primitives of one operand, each taking `out=`
UNARY = frozenset({"neg", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "erf", "floor",
                   "bitwise_not", "tan", "abs", "sign", "ceil", "logical_not"})
#: elementwise primitives of two operands, each taking `out=`
BINARY = frozenset({"add", "mul", "div", "floor_divide", "pow", "bitwise_and", "sub", "remainder", "maximum",
                    "minimum", "bitwise_or", "bitwise_xor"})


@dataclass(frozen=True)
class Operand:
    """One operand of a step: `kind` "input" (`value` is the index of a chain input), "step" (`value` is the
    index of an earlier step, whose result it reads) or "scalar" (`value` is a Python int, float or bool)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Step:
    """`op` (a name in `UNARY` or `BINARY`) applied to `operands`."""

    op: str
    operands: tuple[Operand, ...]


@dataclass(frozen=True)
class ElementwiseChain:
    """A chain of elementwise calls: `steps` in order, the last one's result being the chain's; `inputs`
    holds the (shape, ember dtype) of each external array; `shape` and `dtype` are every step's result's.
    Hashable: a backend may cache what it builds by chain."""

    steps: tuple[Step, ...]
    inputs: tuple[tuple[tuple[int, ...], dtypes.dtype], ...]
    shape: tuple[int, ...]
    dtype: dtypes.dtype

    def last_uses(self) -> list[int]:
        """For each step, the index of the last step reading its result (the last step's own index for the
        last step, whose result leaves the chain)."""
        last = list(range(len(self.steps)))
        for i, step in enumerate(self.steps):
            for o in step.operands:
                if o.kind == "step":
                    last[o.value] = i
        return last


def run_unfused(bk, chain: ElementwiseChain, inputs: tuple) -> Any:
    """The chain's result computed by `bk`'s primitives one call at a time (what fusing must reproduce)."""
    results: list = []
    for step in chain.steps:
        args = [inputs[o.value] if o.kind == "input" else results[o.value] if o.kind == "step" else o.value
                for o in step.operands]
        results.append(getattr(bk, step.op)(*args))
    return results[-1]


def ufunc_chain(xp, chain: ElementwiseChain, ufunc_names: dict[str, str]) -> Callable | None:
    """A function `(*inputs, out=None)` running `chain` with the array module's ufuncs (`ufunc_names` maps
    interface names to `xp` function names), each step writing with `out=` into one result buffer (more
    only when an earlier result is still needed); None when a step has no ufunc there. Bit-identical to
    the unfused calls: the same ufuncs on the same operands, in the same order."""
    if any(step.op not in ufunc_names for step in chain.steps):
        return None
    ns = {"empty": xp.empty, "dtype": xp.dtype(chain.dtype.name), "shape": chain.shape}
    last = chain.last_uses()
    holder: list[int] = []  # step -> the buffer holding its result
    free_at: list[int] = []  # buffer -> the last step reading the value it holds
    lines = ["    b0 = empty(shape, dtype) if out is None else out"]
    for i, step in enumerate(chain.steps):
        fn = ufunc_names[step.op]
        ns[fn] = getattr(xp, fn)
        args = []
        for o in step.operands:
            if o.kind == "scalar":
                ns[f"c{len(ns)}"] = o.value
                args.append(f"c{len(ns) - 1}")
            else:
                args.append(f"x{o.value}" if o.kind == "input" else f"b{holder[o.value]}")
        # the last step writes into the result buffer; an earlier one into a buffer whose value dies at it
        # (a ufunc reads each element before writing it), or into a new one
        b = 0 if i == len(chain.steps) - 1 else next((k for k, end in enumerate(free_at) if end <= i), len(free_at))
        if b == len(free_at):
            free_at.append(i)
            if b:
                lines.append(f"    b{b} = empty(shape, dtype)")
        free_at[b] = last[i]
        holder.append(b)
        lines.append(f"    {fn}({', '.join(args)}, out=b{b})")
    params = "".join(f"x{j}, " for j in range(len(chain.inputs)))
    source = f"def fused({params}out=None):\n" + "\n".join(lines) + "\n    return b0\n"
    exec(compile(source, "<ember elementwise chain>", "exec"), ns)
    return ns["fused"]
