"""Buffers a compiled program keeps across replays, for the intermediates of its elementwise calls.

An elementwise call of a recorded program that allocated its result (`out=` not given, the result
sharing memory with no array alive at that point) and whose result never escapes (no array sharing
its memory is returned, written into state or made constant: the union-find groups of the recorder)
writes instead into a persistent buffer: `v7 = add_0(v5, s2, out=B[3])`. A result lives from its
line to the last use of any array sharing its memory (its views, the calls that wrote into it in
place). Results of one backend, shape and dtype whose lifetimes do not overlap share a buffer (first
fit in the order of the lines). A buffer stays allocated between calls and at every line of a replay,
also where the eager step would have freed its results' memory, so it is kept only where that leaves
the peak of the replay's live arrays (their sizes as recorded) where it was; memory a backend method
uses inside itself is not seen, so the true peak can still rise a little.

Each replay takes one set of buffers from a `BufferPool` on entry and gives it back before it
returns: concurrent replays (threads) and a replay running inside another each get their own set,
allocated on first need.
"""
from __future__ import annotations

import math
from typing import Any


class BufferPool:
    """Sets of persistent buffers (one array per `(backend, shape, dtype)` spec), one set per running replay."""

    def __init__(self, specs: list[tuple[Any, tuple[int, ...], Any]]) -> None:
        self._specs = specs
        self._free: list[list] = []

    def take(self) -> list:
        """A set no other replay holds (allocated when every set is in use)."""
        try:
            return self._free.pop()  # atomic: two threads never pop the same set
        except IndexError:
            return [bk.empty(shape, dtype) for bk, shape, dtype in self._specs]

    def give(self, buffers: list) -> None:
        """Return a set taken by `take` (a replay that raised does not: its set is dropped)."""
        self._free.append(buffers)


def record_sizes(sizes: dict[int, tuple[int, int]], bk, bound, out, line: int) -> None:
    """Note `(line, bytes)` of each array of a call's result `out` under its slot in `bound` (the nesting
    `Recording._bind` returns)."""
    if type(bound) is int:
        nbytes = getattr(out, "nbytes", None)  # numpy's and cupy's; else from the ember dtype
        sizes[bound] = (line, math.prod(out.shape) * bk.dtype_of(out).itemsize if nbytes is None else nbytes)
    elif isinstance(bound, list):
        for b, o in zip(bound, out):
            record_sizes(sizes, bk, b, o, line)


def _live_bytes(rec, sizes: dict[int, tuple[int, int]]) -> list[int]:
    """Bytes of the arrays the replay holds after each line, without kept buffers (its eager profile): each
    group of arrays sharing memory counts once, its first array's size, from that array's line to the
    group's last use (to the end for a group that escapes; never for state and constants)."""
    n = len(rec._lines)
    delta = [0] * (n + 2)
    for root, members in rec._members.items():
        first = min(members)
        if first not in sizes:  # state or a constant: memory the replay does not allocate
            continue
        line, nbytes = sizes[first]
        end = n if any(m in rec._escaped for m in members) else max(rec._last_use.get(m, -1) for m in members)
        if end >= line and rec._lines[line][1] is not None:
            delta[line] += nbytes
            delta[end + 1] -= nbytes
    live, total = [], 0
    for d in delta[:n + 1]:
        total += d
        live.append(total)
    return live


def plan_buffers(rec, fresh: dict[int, tuple], sizes: dict[int, tuple[int, int]]) -> BufferPool | None:
    """Rewrite the lines of `fresh` ({line: (backend, result slot, shape, dtype)}: calls accepting `out=`
    whose result was newly allocated) whose results stay inside the replay to write into `B[i]`; return
    the pool of those buffers, or None when there is none. `sizes` holds `(line, bytes)` of every array a
    call returned. A result takes a free buffer of its kind; a new buffer is made only where holding it
    throughout keeps the replay's peak of live bytes (`_live_bytes`) at most what it was."""
    planned = []
    for line, (bk, k, shape, dtype) in fresh.items():
        targets, text = rec._lines[line]
        if text is None or targets != k:
            continue
        group = rec._members[rec._root(k)]
        # written into an older array in place (then it is that array's memory), or escaping: no buffer
        if min(group) != k or any(m in rec._escaped for m in group):
            continue
        end = max((rec._last_use.get(m, -1) for m in group), default=-1)
        if end >= line:
            planned.append((line, end, (bk, shape, dtype)))
    if not planned:
        return None
    # first fit in the order of the lines: results of one kind whose lifetimes do not overlap share a buffer
    buffers: list[list] = []  # [spec, free after this line, [(line, end), ...]]
    by_spec: dict[tuple, list[list]] = {}
    for line, end, spec in sorted(planned, key=lambda p: p[0]):
        same = by_spec.setdefault((id(spec[0]), spec[1], spec[2]), [])
        # free strictly after the last use: a buffer never receives a result at the line that reads its last value
        buf = next((b for b in same if b[1] < line), None)
        if buf is None:
            buf = [spec, end, []]
            same.append(buf)
            buffers.append(buf)
        buf[1] = end
        buf[2].append((line, end))
    # a buffer is kept where holding it at every line leaves the peak of live bytes as it was (at its results'
    # lines it replaces their own arrays)
    live = _live_bytes(rec, sizes)
    peak = max(live)
    specs: list = []
    for spec, _, results in buffers:
        nbytes = math.prod(spec[1]) * spec[2].itemsize
        held = [nbytes] * len(live)
        for line, end in results:
            held[line:end + 1] = [0] * (end + 1 - line)
        if max(v + h for v, h in zip(live, held)) > peak:
            continue
        live = [v + h for v, h in zip(live, held)]
        for line, _ in results:
            targets, text = rec._lines[line]
            rec._lines[line] = (targets, f"{text[:-1]}, out=B[{len(specs)}])")
        specs.append(spec)
    return BufferPool(specs) if specs else None
