"""numpy's indexing rules over an array-API namespace `xp`, for what array-api-strict refuses.

The array API standard indexes with a *complete* key of ints, in-bounds slices, None and Ellipsis,
with one bool mask as the sole index, or with integer arrays when every index is one. ember's
keys are numpy's: any mix of ints, slices (any bounds), None, Ellipsis and int64 or bool arrays.
Here a key is first completed and its slices clipped; a key the standard allows runs natively.
A mixed key is taken apart: its basic part runs natively and its advanced part (the index
arrays, and the ints beside them, as numpy counts them) becomes one `take` over the flattened
indexed axes, with numpy's rule for where the broadcast index dimensions go.

Writes through an advanced key find the flat positions the key selects (by indexing an
`arange`), sort them once, and give every element of the target its last write with
`searchsorted`; `index_add` first sums duplicate positions with a segmented scan (log2(n) steps
of shifted adds, so its rounding error grows like a pairwise sum's). Everything stays inside the
array library: no host round trip.
"""
from __future__ import annotations

import math
import operator
from types import ModuleType
from typing import Any


def _is_array(k: Any) -> bool:
    return hasattr(k, "shape") and hasattr(k, "dtype")


def _clip_slice(s: slice, n: int) -> slice:
    """`s` for an axis of size `n` with every bound inside the axis (the standard leaves others unspecified)."""
    if s.start is None and s.stop is None and s.step in (None, 1):
        return slice(None)
    r = range(n)[s]
    if not r:
        return slice(0, 0, 1) if n else slice(None)
    first, last, step = r[0], r[-1], r.step
    stop = last + step if 0 <= last + step < n else None
    return slice(first, stop, step)


def _complete(xp: ModuleType, key: Any, shape: tuple[int, ...]) -> list:
    """`key` as a list naming every axis: Ellipsis expanded (or added at the end), slices clipped,
    integer scalars as Python ints, and 0-d integer arrays too when no other index is an array."""
    key = list(key) if isinstance(key, tuple) else [key]
    consumed = sum(k.ndim if _is_array(k) and k.dtype == xp.bool else 0 if k is None or k is Ellipsis else 1
                   for k in key)
    at = next((i for i, k in enumerate(key) if k is Ellipsis), len(key))
    key[at:at + 1] = [slice(None)] * (len(shape) - consumed)
    if not any(_is_array(k) and k.ndim for k in key):
        key = [int(k) if _is_array(k) and k.dtype != xp.bool else k for k in key]
    out, axis = [], 0
    for k in key:
        if isinstance(k, slice):
            k = _clip_slice(k, shape[axis])
        elif not (k is None or _is_array(k)):
            k = operator.index(k)
        out.append(k)
        axis += 0 if k is None else k.ndim if _is_array(k) and k.dtype == xp.bool else 1
    return out


def _native(xp: ModuleType, key: list, write: bool = False) -> tuple | Any | None:
    """The key to hand to the library itself (for a read, or a `write`), or None when the standard
    does not specify it: writes take no integer arrays and no None."""
    arrays = [k for k in key if _is_array(k)]
    if not arrays:
        return None if write and any(k is None for k in key) else tuple(key)
    if not write and len(key) == len(arrays) and all(k.dtype != xp.bool for k in arrays):
        return tuple(key)
    first = key[0]
    if len(arrays) == 1 and first is arrays[0] and first.dtype == xp.bool and all(k == slice(None) for k in key[1:]):
        return first
    return None


def _advanced(xp: ModuleType, a: Any, key: list) -> Any:
    """numpy advanced indexing of `a` by the completed `key` holding at least one index array."""
    basic: list = []  # the key with every index replaced by a full slice (None for a 0-d bool's new axis)
    dims: list[int] = []  # the axis of `a[basic]` each index array indexes; adjacent iff adjacent in the key
    indices: list = []
    for k in key:
        if _is_array(k) and k.dtype == xp.bool:  # a mask is the int arrays of its nonzero coordinates
            if k.ndim:
                found = xp.nonzero(k)
            else:  # a 0-d mask indexes a new axis of length 1, keeping it (True) or not (False)
                found = (xp.zeros((int(bool(k)),), dtype=xp.int64, device=a.device),)
            for i in found:
                basic.append(slice(None) if k.ndim else None)
                dims.append(len(basic) - 1)
                indices.append(i)
        elif _is_array(k) or isinstance(k, int):  # next to an index array an int is one too
            basic.append(slice(None))
            dims.append(len(basic) - 1)
            indices.append(k if _is_array(k) else xp.asarray(k, dtype=xp.int64, device=a.device))
        else:
            basic.append(k)
    b = a[tuple(basic)]
    sizes = [b.shape[d] for d in dims]
    broadcast = xp.broadcast_arrays(*(xp.where(i < 0, i + n, i) for i, n in zip(indices, sizes)))
    flat = broadcast[0]
    for i, n in zip(broadcast[1:], sizes[1:]):
        flat = flat * n + i
    rest = [d for d in range(b.ndim) if d not in dims]
    rest_shape = tuple(b.shape[d] for d in rest)
    gathered = xp.reshape(xp.permute_dims(b, tuple(dims + rest)), (math.prod(sizes),) + rest_shape)
    gathered = xp.take(gathered, xp.reshape(flat, (-1,)), axis=0)
    index_shape = tuple(flat.shape)
    gathered = xp.reshape(gathered, index_shape + rest_shape)
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if adjacent and dims[0]:  # numpy: adjacent indices put their dimensions where they stood
        k, before = len(index_shape), dims[0]
        order = list(range(k, k + before)) + list(range(k)) + list(range(k + before, gathered.ndim))
        gathered = xp.permute_dims(gathered, tuple(order))
    return gathered


def getitem(xp: ModuleType, a: Any, key: Any) -> Any:
    """`a[key]` with numpy's basic and advanced indexing rules."""
    key = _complete(xp, key, a.shape)
    native = _native(xp, key)
    return a[native] if native is not None else _advanced(xp, a, key)


def _sorted_positions(xp: ModuleType, a: Any, key: list, values: Any) -> tuple[Any, Any]:
    """The flat positions of `a` that `key` selects, sorted stably, and `values` (broadcast) in that order."""
    positions = xp.reshape(xp.arange(math.prod(a.shape), dtype=xp.int64, device=a.device), a.shape)
    positions = getitem(xp, positions, tuple(key))
    flat = xp.reshape(positions, (-1,))
    values = xp.reshape(xp.broadcast_to(values, positions.shape), (-1,))
    order = xp.argsort(flat, stable=True)
    return xp.take(flat, order), xp.take(values, order)


def _last_hits(xp: ModuleType, a: Any, sorted_positions: Any) -> tuple[Any, Any]:
    """For each flat element of `a`: whether a sorted position names it, and the last such position's index."""
    elements = xp.arange(math.prod(a.shape), dtype=xp.int64, device=a.device)
    last = xp.clip(xp.searchsorted(sorted_positions, elements, side="right") - 1, min=0)
    return xp.take(sorted_positions, last) == elements, last


def setitem(xp: ModuleType, a: Any, key: Any, value: Any) -> None:
    """In place `a[key] = value` (`value`: an array of a's dtype and device, broadcast to `a[key]`)."""
    key = _complete(xp, key, a.shape)
    native = _native(xp, key, write=True)
    if native is not None:
        a[native] = value
        return
    positions, values = _sorted_positions(xp, a, key, value)
    if not positions.shape[0]:
        return
    hit, last = _last_hits(xp, a, positions)
    a[...] = xp.reshape(xp.where(hit, xp.take(values, last), xp.reshape(a, (-1,))), a.shape)


def index_add(xp: ModuleType, a: Any, key: Any, values: Any) -> Any:
    """A new array: `a` with `values` (a's dtype and device) added at `a[key]`; duplicates accumulate."""
    key = _complete(xp, key, a.shape)
    positions, sums = _sorted_positions(xp, a, key, values)
    n = positions.shape[0]
    if not n:
        return xp.asarray(a, copy=True)
    step = 1
    while step < n:  # segmented inclusive scan: the last element of each run of equal positions gets its total
        same = positions[step:] == positions[:-step]
        sums = xp.concat([sums[:step], xp.where(same, sums[step:] + sums[:-step], sums[step:])])
        step *= 2
    hit, last = _last_hits(xp, a, positions)
    flat = xp.reshape(a, (-1,))
    return xp.reshape(xp.where(hit, flat + xp.take(sums, last), flat), a.shape)
