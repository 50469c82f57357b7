"""Views and in-place ops on them, as PyTorch's autograd does them.

A view (basic indexing, `view`/`reshape`, `permute`/`transpose`, `expand`, `squeeze`/`unsqueeze`,
`narrow`, `split`/`chunk`, `unbind`) shares its base's memory and version counter, and records
`_base` (the tensor that owns the memory, never itself a view) and `_view_fn`, which recomputes the
view from a tensor shaped like the base. An in-place op on a view that the graph must see rebases
the base (PyTorch's CopySlices): the base's new node takes the gradient of the whole base, gives the
old base that gradient with the view's region zeroed, and gives the in-place op's result the
gradient's view (CopySlices, in `ember.ops.inplace`); every live view of the base created with grad enabled then takes the view of
the new base as its node. A view created while grad was disabled is not rebased, and changing it
in place with grad enabled is an error, as in PyTorch.
"""
from __future__ import annotations

import weakref

from .grad_mode import state as _grad_state


def make_view(out, base, fn, layout_fn, multi: str | None = None, overlap: bool = False):
    """Record `out` as a view of `base`; `fn(t)` recomputes it from a tensor shaped like `base`, and
    `layout_fn((shape, strides, offset))` gives its layout from `base`'s."""
    out._version = base._version
    root = base._base
    if root is None:
        root, view_fn, view_layout = base, fn, layout_fn
    else:
        outer, outer_layout = base._view_fn, base._view_layout
        view_fn = lambda t: fn(outer(t))
        view_layout = lambda lay: layout_fn(outer_layout(lay))
        overlap = overlap or base._view_overlap
    out._base = root
    out._view_fn = view_fn
    out._view_layout = view_layout
    if multi is not None:
        out._view_multi = multi
    if overlap:
        out._view_overlap = True
    if _grad_state.enabled:
        if out._view_no_grad:
            out._view_no_grad = False
        views = root._views
        if views is None:
            views = root._views = {}
        key = id(out)
        views[key] = weakref.ref(out, lambda _, k=key, d=views: d.pop(k, None))
    else:
        out._view_no_grad = True
    return out


def contiguous_strides(shape) -> tuple:
    """Row-major strides (in elements) of `shape`."""
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def layout(t) -> tuple:
    """(shape, strides, storage offset) of `t`, in elements: a tensor that is not a view is row-major at
    offset 0 (what every ember op returns); a view's follows from its base's through its view ops."""
    if t._base is None:
        shape = t._data.shape
        return shape, contiguous_strides(shape), 0
    return t._view_layout(layout(t._base))


def is_contiguous(shape, strides) -> bool:
    """PyTorch's rule: row-major strides, ignoring dims of size 1; empty tensors are contiguous."""
    if 0 in shape:
        return True
    step = 1
    for n, st in zip(reversed(shape), reversed(strides)):
        if n != 1:
            if st != step:
                return False
            step *= n
    return True


def index_layout(key):
    """Layout function of basic indexing with native `key` (ints, slices, None, one Ellipsis)."""
    def f(lay):
        shape, strides, off = lay
        explicit = sum(1 for k in key if k is not None and k is not Ellipsis)
        out_shape, out_strides, d = [], [], 0
        for k in key:
            if k is None:
                out_shape.append(1)
                out_strides.append(strides[d] * shape[d] if d < len(shape) else 1)
            elif k is Ellipsis:
                for _ in range(len(shape) - explicit):
                    out_shape.append(shape[d])
                    out_strides.append(strides[d])
                    d += 1
            elif isinstance(k, slice):
                start, stop, step = k.indices(shape[d])
                n = len(range(start, stop, step))
                if n:
                    off += start * strides[d]
                out_shape.append(n)
                out_strides.append(strides[d] * step)
                d += 1
            else:
                off += (k + shape[d] if k < 0 else k) * strides[d]
                d += 1
        return tuple(out_shape) + shape[d:], tuple(out_strides) + strides[d:], off
    return f


def reshape_strides(shape, strides, new_shape):
    """Strides that view (shape, strides) as `new_shape`, or None when it takes a copy (PyTorch's rule)."""
    if not shape or 0 in shape:
        return contiguous_strides(new_shape)
    out = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base_stride = strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                out[view_d] = view_numel * base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base_stride = strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(out) if view_d == -1 else None


def check_view_inplace(t) -> None:
    """PyTorch's errors for an in-place op on view `t` while grad is enabled."""
    if t._view_overlap:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    if not _grad_state.enabled:
        return
    root = t._base
    if root._rg and root._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if t._view_no_grad and root._rg:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
            "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
            "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked).")
    if t._view_multi is not None and t._rg:
        raise RuntimeError(
            f"{t._view_multi} is a view and is being modified inplace. This view is the "
            "output of a function that returns multiple views. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one.")
