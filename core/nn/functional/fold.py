"""Sliding blocks, as `torch.nn.functional`: `unfold` (im2col) and `fold` (col2im).

Argument checks; the ops (`ember.ops.fold`) run on the backend's im2col/col2im kernels.
"""
from __future__ import annotations

from ...arguments import check_tensor
from ...ops.fold import Col2Im, Im2Col
from ...tensor import Tensor
from .conv import ntuple

__all__ = ["unfold", "fold"]


def _block_args(op: str, kernel_size, dilation, padding, stride) -> tuple:
    k, d, p, s = (ntuple(v, 2, name, op) for v, name in
                  ((kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride")))
    for values, name, low in ((k, "kernel_size", 1), (d, "dilation", 1), (s, "stride", 1), (p, "padding", 0)):
        if any(v < low for v in values):
            raise RuntimeError(f"{op}: {name} should be {'non-negative' if low == 0 else 'greater than zero'}, "
                               f"but got {name}={values}")
    return k, d, p, s


def _blocks(size: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> tuple:
    return tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1 for n, ki, di, pi, si in zip(size, k, d, p, s))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks of (N, C, H, W) or (C, H, W) into `(N, C*kh*kw, L)` or `(C*kh*kw, L)`."""
    check_tensor(input, "unfold")
    k, d, p, s = _block_args("unfold", kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4) or any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    blocks = _blocks(input.shape[-2:], k, d, p, s)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given input with spatial size {tuple(input.shape[-2:])}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, calculated shape of the array of sliding blocks as {blocks}, but its "
                           f"components must be at least one.")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    out = Im2Col.apply(x, kernel_size=k, stride=s, padding=p, dilation=d)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding local blocks `(N, C*kh*kw, L)` or `(C*kh*kw, L)` into `(N, C, *output_size)` or
    `(C, *output_size)`."""
    check_tensor(input, "fold")
    size = ntuple(output_size, 2, "output_size", "fold")
    k, d, p, s = _block_args("fold", kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    rows, length = input.shape[-2:]
    if rows % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={rows} and kernel_size={k}")
    blocks = _blocks(size, k, d, p, s)
    if any(b < 1 for b in blocks) or blocks[0] * blocks[1] != length:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    out = Col2Im.apply(x, input_size=size, kernel_size=k, stride=s, padding=p, dilation=d)
    return out if input.ndim == 3 else out.squeeze(0)
