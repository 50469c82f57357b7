"""Order statistics and counting built on the backend's stable sort: argsort, msort, kthvalue, median,
nanmedian, mode, unique, unique_consecutive, searchsorted, bucketize, histc, bincount.

The selecting ops find their indices without a graph and take their values with `gather`, so the
gradient flows to the selected element (PyTorch's rule for the ops with a `dim`). Data-dependent
sizes (unique) are read through `nonzero`, as `nonzero` itself does.
"""
from __future__ import annotations

import builtins

from .. import dtypes
from ..arguments import check_same_device, check_tensor, int_arg, not_tensor
from ..autograd.grad_mode import no_grad
from ..creation import arange, full, ones, tensor, zeros
from .._tensor_base import Tensor, _dim
from . import elementwise as ew
from .indexing import gather, scatter_add
from .reduction import argmax, sort, sum, values_indices
from .scan import cummax
from .shape import cat, movedim, narrow, reshape


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort `input` along `dim` (always stable: equal values keep their order)."""
    check_tensor(input, "argsort")
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    """`input` sorted along its first dim (ascending)."""
    check_tensor(input, "msort")
    return sort(input, 0).values


def _positions(input: Tensor, d: int) -> Tensor:
    """int64 0..n-1 along `d`, broadcast to `input`'s shape."""
    shape = [1] * input.ndim
    shape[d] = input.shape[d]
    return arange(input.shape[d], device=input.device).reshape(shape).expand(*input.shape)


def _select(input: Tensor, d: int, index: Tensor, keepdim: bool) -> values_indices:
    """(values, indices) at `index` (keepdim shape) along `d`; the values carry the gradient."""
    values = gather(input, d, index)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return values_indices(values, index)


def _reduced_dim(input: Tensor, dim: int, op: str) -> int:
    d = _dim(dim, input.ndim, op)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    return d


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> values_indices:
    """(values, indices): the `k`-th smallest element along `dim` (k counts from 1; NaN is the largest)."""
    check_tensor(input, "kthvalue")
    k = int_arg(k, "kthvalue", "k")
    d = _reduced_dim(input, dim, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if not input.ndim:
        return values_indices(input.clone(), input.new_zeros((), dtype=dtypes.int64))
    with no_grad():
        index = narrow(sort(input, d).indices, d, k - 1, 1)
    return _select(input, d, index, keepdim)


def _median_dim(input: Tensor, dim: int, keepdim: bool, op: str) -> values_indices:
    """The lower median along `dim`: median propagates NaN (the index of the first NaN), nanmedian skips it."""
    d = _reduced_dim(input, dim, op)
    if not input.ndim:
        return values_indices(input.clone(), input.new_zeros((), dtype=dtypes.int64))
    with no_grad():
        order = sort(input, d).indices
        n = input.shape[d]
        finite = sum(~ew.isnan(input), d, keepdim=True)  # NaN sorts last: the count of the others
        if op == "median":
            pos = ew.where(finite < n, finite, (n - 1) // 2)
        else:
            pos = ew.where(finite > 0, ew.floor_divide(finite - 1, 2), 0)
        index = gather(order, d, pos)
    return _select(input, d, index, keepdim)


def _median_all(input: Tensor, op: str) -> Tensor:
    """The median of all elements; the gradient is shared evenly among the elements equal to it."""
    if input.numel() == 0:
        return full((), float("nan"), dtype=input.dtype, device=input.device)
    flat = input.reshape(-1)
    value = _median_dim(flat.detach(), 0, False, op).values
    if not input._dtype.is_floating_point or not input.requires_grad:
        return value
    chosen = (input == value) | (ew.isnan(input) & ew.isnan(value))
    # adds an exact zero to the value, and the gradient mask / count
    return value + sum(ew.where(chosen, input - input.detach(), 0.0)) / sum(chosen)


def median(input: Tensor, dim=None, keepdim: bool = False) -> Tensor | values_indices:
    """The lower median of all elements, or (values, indices) along `dim`; NaN propagates."""
    check_tensor(input, "median")
    if dim is None:
        return _median_all(input, "median")
    return _median_dim(input, dim, keepdim, "median")


def nanmedian(input: Tensor, dim=None, keepdim: bool = False) -> Tensor | values_indices:
    """`median` ignoring NaN (NaN only where every element is NaN)."""
    check_tensor(input, "nanmedian")
    if dim is None:
        return _median_all(input, "nanmedian")
    return _median_dim(input, dim, keepdim, "nanmedian")


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> values_indices:
    """(values, indices): the most frequent value along `dim` (the smallest among equally frequent ones) and
    its last index; NaN never equals another NaN."""
    check_tensor(input, "mode")
    d = _reduced_dim(input, dim, "mode")
    if not input.ndim:
        return values_indices(input.clone(), input.new_zeros((), dtype=dtypes.int64))
    with no_grad():
        values, order = sort(input, d)
        n = input.shape[d]
        first = ones(narrow(values, d, 0, 1).shape, dtype=dtypes.bool, device=input.device)
        starts = cat([first, narrow(values, d, 1, n - 1) != narrow(values, d, 0, n - 1)], d)
        pos = _positions(input, d)
        run_length = pos - cummax(ew.where(starts, pos, 0), d).values + 1
        index = gather(order, d, argmax(run_length, d, keepdim=True))
    return _select(input, d, index, keepdim)


def _runs(rows: Tensor, order: Tensor | None, return_inverse: bool,
          return_counts: bool) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Group equal neighbouring rows of the 2-D `rows` (already in `order` of the original rows):
    (first row of each run, the run of each original row, the run lengths)."""
    n = rows.shape[0]
    if n == 0:
        empty = zeros(0, dtype=dtypes.int64, device=rows.device)
        return rows, empty, empty
    first = ones((1, rows.shape[1]), dtype=dtypes.bool, device=rows.device)
    differs = cat([first, narrow(rows, 0, 1, n - 1) != narrow(rows, 0, 0, n - 1)], 0)
    starts = differs.any(1)
    where_starts = starts.nonzero()[:, 0]
    inverse = counts = None
    if return_inverse:
        run = ew.sub(starts.cumsum(0), 1)
        if order is None:
            inverse = run
        else:
            inverse = zeros(n, dtype=dtypes.int64, device=rows.device)
            inverse[order] = run
    if return_counts:
        ends = cat([narrow(where_starts, 0, 1, where_starts.shape[0] - 1),
                    tensor([n], device=rows.device)])
        counts = ends - where_starts
    return rows[where_starts], inverse, counts


def _unique(input: Tensor, sort_rows: bool, return_inverse: bool, return_counts: bool, dim,
            op: str) -> Tensor | tuple[Tensor, ...]:
    check_tensor(input, op)
    with no_grad():
        x = input.detach()
        if dim is None:
            flat = x.reshape(-1)
            order = sort(flat, 0).indices if sort_rows else None
            rows = (flat[order] if sort_rows else flat).reshape(-1, 1)
            out, inverse, counts = _runs(rows, order, return_inverse, return_counts)
            out = out.reshape(-1)
            if inverse is not None:
                inverse = inverse.reshape(input.shape)
        else:
            d = _dim(dim, x.ndim, op)
            moved = movedim(x, d, 0)
            rest = moved.shape[1:]
            table = moved.reshape(moved.shape[0], -1)
            order = None
            if sort_rows:
                order = arange(table.shape[0], device=x.device)
                for col in reversed(range(table.shape[1])):  # least significant column first: a stable lexsort
                    order = order[sort(table[order, col], 0).indices]
                table = table[order]
            out, inverse, counts = _runs(table, order, return_inverse, return_counts)
            out = movedim(reshape(out, (out.shape[0], *rest)), 0, d)
    result = (out,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return result if len(result) > 1 else out


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim=None) -> Tensor | tuple[Tensor, ...]:
    """The distinct elements (or slices along `dim`), in ascending order; with `return_inverse` the index of
    each input element in the output, with `return_counts` how often each occurs. NaNs are all distinct."""
    return _unique(input, True, return_inverse, return_counts, dim, "unique")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim=None) -> Tensor | tuple[Tensor, ...]:
    """`unique` of each run of equal consecutive elements (or slices along `dim`), in input order."""
    return _unique(input, False, return_inverse, return_counts, dim, "unique_consecutive")


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """For each value, the index at which inserting it keeps the innermost dim of `sorted_sequence` sorted:
    the first such place (`side="left"`), or the last (`right=True` / `side="right"`)."""
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if not isinstance(input, Tensor):
        if not isinstance(input, (int, float)):
            raise not_tensor(input, "searchsorted", "input", 2)
        input = full((), input, device=sorted_sequence.device)
    check_same_device("searchsorted", input, sorted_sequence=sorted_sequence, sorter=sorter)
    seq = sorted_sequence.detach()
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           "boundaries tensor [] and input value tensor " + str(list(input.shape)))
    if seq.ndim > 1 and tuple(seq.shape[:-1]) != tuple(input.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(input.shape)}")
    if sorter is not None:
        if tuple(sorter.shape) != tuple(seq.shape):
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}")
        seq = gather(seq, -1, sorter)
    n = seq.shape[-1]
    values = input.detach()
    with no_grad():
        lo = zeros(values.shape, dtype=dtypes.int64, device=values.device)
        hi = full(values.shape, n, dtype=dtypes.int64, device=values.device)
        for _ in range(n.bit_length()):  # binary search: every interval is empty after bit_length(n) halvings
            mid = ew.floor_divide(lo + hi, 2)
            probe = ew.clamp(mid, None, builtins.max(n - 1, 0))
            at = seq[probe] if seq.ndim == 1 else gather(seq, -1, probe)
            # PyTorch's comparisons, so NaN lands where it does there
            go_right = ~(at > values) if right else ~(at >= values)
            active = lo < hi
            lo = ew.where(active & go_right, mid + 1, lo)
            hi = ew.where(active & ~go_right, mid, hi)
    return ew.cast(lo, dtypes.int32) if out_int32 else lo


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value among the 1-D sorted `boundaries`: i with boundaries[i-1] < x <= boundaries[i]
    (`right=False`), or boundaries[i-1] <= x < boundaries[i] (`right=True`)."""
    if not isinstance(input, (Tensor, int, float)):
        raise not_tensor(input, "bucketize")
    check_tensor(boundaries, "bucketize", "boundaries", 2)
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """Counts of the elements in `bins` equal-width bins over [min, max] (the data's range when min == max);
    elements outside the range and NaN are ignored. Not differentiable."""
    check_tensor(input, "histc")
    bins = int_arg(bins, "histc", "bins")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"histc(): expected a floating-point input, got {input.dtype}")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if hi < lo:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = input.detach().reshape(-1)
    with no_grad():
        if lo == hi:
            present = x[~ew.isnan(x)]
            if present.numel():
                lo, hi = float(present.min()), float(present.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        x = x[(x >= lo) & (x <= hi)]
        which = ew.cast(ew.floor((x - lo) / (hi - lo) * bins), dtypes.int64)
        which = ew.clamp(which, 0, bins - 1)  # the top edge belongs to the last bin
        counts = zeros(bins, dtype=input.dtype, device=input.device)
        return scatter_add(counts, 0, which, ones(x.shape, dtype=input.dtype, device=input.device))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in the 1-D `input` (summing `weights` instead of ones when
    given), with at least `minlength` bins. Not differentiable."""
    check_tensor(input, "bincount")
    minlength = int_arg(minlength, "bincount", "minlength")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.ndim != 1 or input._dtype._kind != 1 or (input.numel() and int(input.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    check_same_device("bincount", input, weights=weights)
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    length = builtins.max(int(input.max()) + 1 if input.numel() else 0, minlength)
    with no_grad():
        if weights is None:
            dtype, added = dtypes.int64, ones(input.shape, dtype=dtypes.int64, device=input.device)
        else:
            dtype = weights._dtype if weights._dtype.is_floating_point else dtypes.float64
            added = ew.cast(weights.detach(), dtype)
        return scatter_add(zeros(length, dtype=dtype, device=input.device), 0, ew.cast(input, dtypes.int64), added)
