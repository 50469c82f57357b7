"""`F.pad`: constant, reflect, replicate and circular padding, differentiable in every mode."""
from __future__ import annotations

from ... import creation, dtypes
from ...arguments import check_tensor
from ...ops.shape import pad as _pad
from ...tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dims: `pad` is (left, right) for the last dim, then the one before, ...

    Modes: 'constant' (fill with `value`, default 0), 'reflect' (mirror without repeating the edge;
    each pad must be smaller than its dim), 'replicate' (repeat the edge), 'circular' (wrap around;
    each pad at most its dim). Negative pads crop, as in PyTorch. ember pads any number of trailing
    dims in every mode, where PyTorch limits the non-constant modes to the last 1-3 dims of a
    batched or unbatched input.
    """
    check_tensor(input, "pad")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length must be divisible by 2 and at most twice the input dims, got {len(pad)}")
    pad = tuple(int(p) for p in pad)
    if mode == "constant":
        return _constant(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        if left or right:
            out = out.index_select(dim, _source_index(mode, input, dim, left, right))
    return out


def _constant(input: Tensor, pad: tuple, value) -> Tensor:
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        dim, left, right = input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        n = input.shape[dim]
        # PyTorch crops the left side, then the right: neither may take more than what is left
        if n + min(left, 0) < 0 or n + min(left, 0) + min(right, 0) < 0:
            raise RuntimeError(f"pad: negative padding ({left}, {right}) at dimension {dim} removes more than its "
                               f"size {n} (input {list(input.shape)}); narrow(): length must be non-negative.")
        widths[dim] = (left, right)
    crop = tuple(slice(-lo if lo < 0 else None, hi if hi < 0 else None) for lo, hi in widths)
    widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    out = _pad(input, widths, value) if any(lo or hi for lo, hi in widths) else input
    return out[crop] if any(s.start is not None or s.stop is not None for s in crop) else out


def _source_index(mode: str, input: Tensor, dim: int, left: int, right: int) -> Tensor:
    """For each output position along `dim`, the input position it copies (an int64 tensor)."""
    n = input.shape[dim]
    size = n + left + right
    if size <= 0:
        raise RuntimeError(f"pad: padding ({left}, {right}) at dimension {dim} of input {list(input.shape)} leaves "
                           f"an empty dimension")
    pos = creation.arange(-left, n + right, dtype=dtypes.int64, device=input.device)
    if mode == "replicate":
        return pos.clamp(0, n - 1)
    if mode == "reflect":
        if left >= n or right >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({left}, {right}) at dimension {dim} of input {list(input.shape)}")
        pos = pos.abs()
        return (n - 1) - ((n - 1) - pos).abs()
    if left > n or right > n:
        raise RuntimeError("Padding value causes wrapping around more than once.")
    # circular: negative pads crop first, then positive pads wrap around what is left
    start, stop = max(-left, 0), n - max(-right, 0)
    return (pos - start).remainder(stop - start) + start
