"""The embedding lookup as an `Op`: rows of a weight gathered by integer indices."""
from __future__ import annotations

from ..autograd.node import Op
from .._tensor_base import _wrap
from .indexing import IndexBackward

__all__ = ["Embedding"]


class Embedding(Op):
    """Rows of `weight` picked by integer `indices`; backward adds each row's gradient into a zero
    tensor with duplicates accumulated (backend `index_add`), leaving the `padding_idx` row at zero."""

    def forward(self, weight, indices, padding_idx, scale_grad_by_freq):
        if self.needs_input_grad:
            self.indices, self.padding_idx, self.scale = indices, padding_idx, scale_grad_by_freq
            self.num = weight._data.shape[0]
        return self.bk.getitem(weight._data, (indices._data,))

    def backward(self, g):
        idx = self.indices
        bk = self.bk
        if self.padding_idx is not None:
            keep = _wrap(bk.not_equal(idx._data, self.padding_idx), bk, idx._device)
            g = g * keep.unsqueeze(-1).to(g.dtype)
        if self.scale:
            freq = bk.index_add(bk.full((self.num,), 0, g.dtype), (idx._data,),
                                bk.full(idx.shape, 1, g.dtype))
            g = g / _wrap(bk.getitem(freq, (idx._data,)), bk, idx._device).unsqueeze(-1)
        shape = (self.num,) + tuple(g.shape[idx.ndim:])
        return IndexBackward.apply(g, key=(idx._data,), basic=False, shape=shape), None
