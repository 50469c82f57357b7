"""Collation: merge a list of samples into a batch (``default_collate``) or convert one sample
(``default_convert``), with PyTorch's type rules. numpy is the host interchange format here."""
from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any, Callable, Sequence

import numpy as np

import ember

__all__ = [
    "StackedSamples",
    "collate",
    "collate_float_fn",
    "collate_int_fn",
    "collate_numpy_array_fn",
    "collate_numpy_scalar_fn",
    "collate_str_fn",
    "collate_tensor_fn",
    "default_collate",
    "default_collate_fn_map",
    "default_convert",
]

# numpy dtype strings of byte strings, unicode strings and objects: never turned into tensors.
_NP_STR_OBJ_ARRAY_PATTERN = re.compile(r"[SaUO]")

_ERR_MSG_FORMAT = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

CollateFnMap = dict[type | tuple[type, ...], Callable]


class StackedSamples(collections.abc.Sequence):
    """A batch of tuple samples held as stacked fields, e.g. what ``TensorDataset.__getitems__`` returns.

    It is the list of samples (``batch[i]`` is ``tuple(field[i] for field in fields)``), so any
    ``collate_fn`` accepts it. ``default_collate`` returns ``list(fields)`` directly (unless the
    tensor entry of ``default_collate_fn_map`` was replaced): what stacking the samples would give,
    without building and restacking one tuple per sample.
    """

    __slots__ = ("fields",)

    def __init__(self, fields: Sequence[Any]) -> None:
        self.fields = tuple(fields)

    def __len__(self) -> int:
        return len(self.fields[0])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return tuple(field[index] for field in self.fields)


def default_convert(data: Any) -> Any:
    """Convert each numpy array (and numpy scalar) in ``data`` to a tensor, keeping the structure.

    Tensors, strings and other objects are returned unchanged; mappings, namedtuples and sequences are
    converted element by element (a plain tuple becomes a list, as in PyTorch). The DataLoader's
    ``collate_fn`` when automatic batching is disabled (``batch_size=None``).
    """
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ_ARRAY_PATTERN.search(data.dtype.str):
            return data
        return ember.from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collate ``batch`` by the type of its first element.

    ``collate_fn_map`` maps an element type to the function that collates a batch of it; the exact
    type is looked up first, then each key in insertion order by ``isinstance``. Mappings,
    namedtuples and sequences are collated field by field, recursively.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        elem_size = len(elem)
        if any(len(sample) != elem_size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            # A tuple sample gives a list of batched fields, as in PyTorch.
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(_ERR_MSG_FORMAT.format(elem_type))


def collate_tensor_fn(batch: Sequence[ember.Tensor], *, collate_fn_map: CollateFnMap | None = None) -> ember.Tensor:
    """Stack tensors along a new first dimension."""
    elem = batch[0]
    device = elem.device
    if device.type == "cpu" and all(t.device is device and not t.requires_grad for t in batch):
        # Samples are small: one host stack costs far less than a graph-aware stack's per-tensor work,
        # and gives the same CPU tensor.
        arrays = [t.numpy() for t in batch]
        if len({a.dtype for a in arrays}) == 1 and len({a.shape for a in arrays}) == 1:
            return ember.from_numpy(np.stack(arrays))
    return ember.stack(list(batch), 0)


def collate_numpy_array_fn(batch: Sequence[np.ndarray], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Stack numeric numpy arrays into one tensor; string and object arrays are a TypeError."""
    elem = batch[0]
    if _NP_STR_OBJ_ARRAY_PATTERN.search(elem.dtype.str) is not None:
        raise TypeError(_ERR_MSG_FORMAT.format(elem.dtype))
    return ember.from_numpy(np.stack(batch))


def collate_numpy_scalar_fn(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> ember.Tensor:
    """Turn numpy scalars into a 1-d tensor of their dtype."""
    return ember.from_numpy(np.asarray(batch))


def collate_float_fn(batch: Sequence[float], *, collate_fn_map: CollateFnMap | None = None) -> ember.Tensor:
    """Turn Python floats into a float64 tensor."""
    return ember.tensor(batch, dtype=ember.float64, device="cpu")


def collate_int_fn(batch: Sequence[int], *, collate_fn_map: CollateFnMap | None = None) -> ember.Tensor:
    """Turn Python ints (and bools) into an int64 (bool) tensor."""
    return ember.tensor(batch, device="cpu")


def collate_str_fn(
    batch: Sequence[str | bytes], *, collate_fn_map: CollateFnMap | None = None
) -> Sequence[str | bytes]:
    """Leave strings and bytes as they are: the batch is the list of them."""
    return batch


default_collate_fn_map: CollateFnMap = {
    ember.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Sequence[Any]) -> Any:
    """Put each data field into a tensor with an outer dimension of batch size.

    Tensors are stacked; numpy arrays, numpy scalars, floats (float64) and ints (int64) become tensors;
    strings and bytes stay a list; mappings, namedtuples and sequences are collated field by field
    (a tuple sample gives a list). Batches land on the CPU; ``.to(device)`` moves them. Extend it by
    adding entries to ``default_collate_fn_map`` or by wrapping it in your own ``collate_fn``.

    Example::

        >>> default_collate([(0, 1.0), (2, 3.0)])
        [tensor([0, 2]), tensor([1., 3.], dtype=ember.float64)]
    """
    if isinstance(batch, StackedSamples) and default_collate_fn_map.get(ember.Tensor) is collate_tensor_fn:
        return list(batch.fields)
    return collate(batch, collate_fn_map=default_collate_fn_map)
