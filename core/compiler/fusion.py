"""Fusing chains of elementwise calls of a recorded program into one backend call.

While recording, each elementwise call (`add`, `mul`, `tanh`, ... of `elementwise_chain.UNARY` and
`BINARY`, called without `out=`) is described by its operands: results of earlier calls (slots),
other arrays (state, constants; read at that line) and Python scalars. Once dead code is dropped, a
chain is a maximal run of consecutive such lines on one backend, with one result shape and dtype,
where every result but the last is read only by later lines of the run. Consecutive lines keep the
semantics simple: nothing runs between the calls, so reading every input at the last line reads the
same values. The backend's `fuse_elementwise` turns the chain into one callable, or declines.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from ..backends.elementwise_chain import BINARY, UNARY, ElementwiseChain, Operand, Step


class ArrayArg(NamedTuple):
    """An array operand: its slot (None for state or a constant), its source text, shape and dtype."""

    slot: int | None
    text: str
    shape: tuple[int, ...]
    dtype: Any


class Elementwise(NamedTuple):
    """One recorded elementwise call: its backend, method, operands (`ArrayArg` or a Python scalar),
    result slot, shape and dtype."""

    bk: Any
    op: str
    operands: tuple
    slot: int
    shape: tuple[int, ...]
    dtype: Any


_SCALARS = (int, float, bool)
#: the most calls one chain holds (a backend declining every chain is asked about each of a run's sub-chains)
MAX_STEPS = 32


def describe(rec, bk, name: str, args: tuple, kwargs: dict, parts: list[str]) -> tuple | None:
    """The operands of a call of `name`, if it can join a chain (before its result is bound), else None."""
    if kwargs or len(args) != (1 if name in UNARY else 2 if name in BINARY else 0):
        return None
    operands: list = []
    for a, text in zip(args, parts):
        if type(a) in _SCALARS:
            operands.append(a)
        elif hasattr(a, "shape") and hasattr(a, "dtype"):
            operands.append(ArrayArg(rec._slot_of.get(id(a)), text, tuple(a.shape), bk.dtype_of(a)))
        else:
            return None
    return tuple(operands)


def fuse_chains(rec) -> set[int]:
    """Replace each chain the backend fuses by one call `F<n>(inputs)` at the chain's last line; return
    those lines (their result is fresh: the memory plan may give them `out=`)."""
    lines, calls = rec._lines, rec._elementwise
    readers: dict[int, list[int]] = {}
    for line, slots in rec._uses.items():
        if line == len(lines) or lines[line][1] is not None:
            for k in slots:
                readers.setdefault(k, []).append(line)
    live = [i for i, (_, text) in enumerate(lines) if text is not None]
    fused: set[int] = set()
    run: list[int] = []
    for i in live + [None]:
        call = calls.get(i) if i is not None else None
        if run and (call is None or _key(call) != _key(calls[run[-1]])):
            fused.update(_fuse_run(rec, run, readers))
            run = []
        if call is not None:
            run.append(i)
    return fused


def _key(call: Elementwise) -> tuple:
    return id(call.bk), call.shape, call.dtype


def _fuse_run(rec, run: list[int], readers: dict) -> list[int]:
    """Fuse the chains of one run of consecutive elementwise lines of one backend, shape and dtype: from
    each line on, the longest chain the backend accepts (a backend declining an operation may still take
    the calls before it)."""
    members = set(run)
    done = []
    s = 0
    while s < len(run):
        ends, need = [], -1  # the ends of the chains starting at s; the last line reading their intermediates
        for e in range(s, min(len(run), s + MAX_STEPS)):
            if e > s and need <= run[e]:
                ends.append(e)
            used_by = readers.get(rec._elementwise[run[e]].slot, ())
            if not used_by or not members.issuperset(used_by):  # read outside the run: it can only end a chain
                break
            need = max(need, max(used_by))
        e = next((e for e in reversed(ends) if _fuse(rec, run[s:e + 1])), None)
        if e is None:
            s += 1
        else:
            done.append(run[e])
            s = e + 1
    return done


def _fuse(rec, chain_lines: list[int]) -> bool:
    calls = [rec._elementwise[i] for i in chain_lines]
    position = {c.slot: p for p, c in enumerate(calls)}
    inputs: dict[str, ArrayArg] = {}
    steps = []
    for c in calls:
        operands = []
        for o in c.operands:
            if not isinstance(o, ArrayArg):
                operands.append(Operand("scalar", o))
            elif o.slot is not None and o.slot in position:
                operands.append(Operand("step", position[o.slot]))
            else:
                operands.append(Operand("input", list(inputs).index(o.text) if o.text in inputs else len(inputs)))
                inputs.setdefault(o.text, o)
        steps.append(Step(c.op, tuple(operands)))
    last = calls[-1]
    chain = ElementwiseChain(tuple(steps), tuple((a.shape, a.dtype) for a in inputs.values()), last.shape, last.dtype)
    fn = last.bk.fuse_elementwise(chain)
    if fn is None:
        return False
    end = chain_lines[-1]
    name = f"F{end}"
    rec.ns[name] = fn
    for i in chain_lines[:-1]:
        rec._lines[i] = (None, None)
        rec._uses.pop(i, None)
    rec._lines[end] = (rec._lines[end][0], f"{name}({', '.join(inputs)})")
    rec._uses[end] = [a.slot for a in inputs.values() if a.slot is not None]
    dropped = set(chain_lines)
    rec._reuse = [(line, c) for line, c in rec._reuse if line not in dropped]
    return True
