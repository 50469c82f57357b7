"""`nn.utils.rnn`: padding and packing of variable-length sequences (PyTorch's layouts)."""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

from ... import dtypes
from ...arguments import check_tensor
from ...creation import full, tensor
from ...ops.indexing import index_select
from ...ops.shape import cat, stack
from ...tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpack_sequence", "unpad_sequence", "invert_permutation"]


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    order = [0] * permutation.shape[0]
    for i, p in enumerate(permutation.tolist()):
        order[p] = i
    return tensor(order, dtype=dtypes.int64, device=permutation.device)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of variable-length sequences packed time-major: at step t the first batch_sizes[t] sequences
    (in `sorted_indices` order) contribute one row each to `data`; batch_sizes is an int64 CPU tensor."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise RuntimeError("PackedSequence(): batch_sizes is required; use pack_padded_sequence or "
                               "pack_sequence to build a PackedSequence")
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                             "created manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn.")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """This PackedSequence with `data` converted by `Tensor.to`; the index tensors follow its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self) -> PackedSequence:
        """This PackedSequence on the CPU."""
        return self.to("cpu")

    def double(self) -> PackedSequence:
        """`data` as float64."""
        return self.to(dtype=dtypes.float64)

    def float(self) -> PackedSequence:
        """`data` as float32."""
        return self.to(dtype=dtypes.float32)

    def half(self) -> PackedSequence:
        """`data` as float16."""
        return self.to(dtype=dtypes.float16)

    def long(self) -> PackedSequence:
        """`data` as int64."""
        return self.to(dtype=dtypes.int64)

    def int(self) -> PackedSequence:
        """`data` as int32."""
        return self.to(dtype=dtypes.int32)

    @property
    def is_cuda(self) -> bool:
        """Whether `data` is on a CUDA device."""
        return self.data.device.type == "cuda"


def _lengths_list(lengths, fn: str) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"{fn}(): 'lengths' argument should be a 1D tensor, got {lengths.ndim}-D")
        return [int(n) for n in lengths.tolist()]
    return [int(n) for n in lengths]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch `(T, B, *)` (or `(B, T, *)` with batch_first) of sequences of the given `lengths`."""
    check_tensor(input, "pack_padded_sequence")
    lens = _lengths_list(lengths, "pack_padded_sequence")
    bdim = 0 if batch_first else 1
    if input.ndim < 2:
        raise RuntimeError(f"pack_padded_sequence(): input must have at least 2 dimensions, got {input.ndim}")
    if len(lens) != input.shape[bdim]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size="
                           f"{input.shape[bdim]})")
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lens)), key=lambda i: -lens[i])
        sorted_indices = tensor(order, dtype=dtypes.int64, device=input.device)
        input = index_select(input, bdim, sorted_indices)
        lens = [lens[i] for i in order]
    if lens and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if lens and lens[0] > input.shape[1 - bdim]:
        raise RuntimeError(f"pack_padded_sequence(): the longest length {lens[0]} exceeds the padded length "
                           f"{input.shape[1 - bdim]}")
    if batch_first:
        input = input.transpose(0, 1)
    steps = lens[0] if lens else 0
    sizes = [sum(1 for n in lens if n > t) for t in range(steps)]
    data = cat([input[t, :b] for t, b in enumerate(sizes)], 0)
    return PackedSequence(data, tensor(sizes, dtype=dtypes.int64, device="cpu"), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo `pack_padded_sequence`: (padded `(T, B, *)` or `(B, T, *)`, lengths as an int64 CPU tensor)."""
    data, sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    steps, batch = len(sizes), (sizes[0] if sizes else 0)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
    else:
        total_length = steps
    tail = tuple(data.shape[1:])
    rows, start = [], 0
    for b in sizes:
        chunk = data[start:start + b]
        start += b
        if b < batch:
            chunk = cat([chunk, full((batch - b,) + tail, padding_value, dtype=data.dtype, device=data.device)], 0)
        rows.append(chunk)
    for _ in range(total_length - steps):
        rows.append(full((batch,) + tail, padding_value, dtype=data.dtype, device=data.device))
    padded = stack(rows, 0) if rows else full((0, 0) + tail, padding_value, dtype=data.dtype, device=data.device)
    lengths = [sum(1 for b in sizes if b > i) for i in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = [lengths[i] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths, dtype=dtypes.int64, device="cpu")


def pad_sequence(sequences: Sequence[Tensor] | Tensor, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences `(L_i, *)` into `(max L, B, *)` (or `(B, max L, *)`), padded with `padding_value` on
    `padding_side` ("right" or "left")."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for s in sequences:
        check_tensor(s, "pad_sequence", "sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences `(L_i, *)` (sorted by decreasing length unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences `(L_i, *)` held by a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :n] for i, n in enumerate(lengths.tolist())]


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences `(L_i, *)` held in a padded batch `(T, B, *)` (or `(B, T, *)`) of the given lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_lengths_list(lengths, "unpad_sequence"))]
