"""The pickle container: objects outside the safe format, written only by `save` and opened by `load`
only with ``weights_only=False``. It is the magic line, a 4-byte little-endian length, the UTF-8 reason
the object could not be stored safely, then the pickle stream."""
from __future__ import annotations

import pickle
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

from ..tensor import Tensor
from .errors import CheckpointError, escape
from .source import Source

MAGIC = b"\x93EMBER-PICKLE\n"  # never the start of a safetensors file: as a header length it is absurd
_REASON_CHARS = 1000


def write(fh: BinaryIO, obj: Any, reason: str) -> None:
    """Pickle `obj` into `fh` (streamed), after the magic and `reason`."""
    why = reason[:_REASON_CHARS].encode("utf-8")
    fh.write(MAGIC + struct.pack("<I", len(why)) + why)
    pickle.dump(obj, fh, pickle.HIGHEST_PROTOCOL)


def load(source: Source, restore: Callable, weights_only: bool, parameter_class: type | None) -> Any:
    """Unpickle the container whose first 8 bytes `load` has read; tensors go through `restore`."""
    name = source.name
    if source.size < len(MAGIC) + 4 or source.read(len(MAGIC) - 8, "the magic") != MAGIC[8:]:
        raise CheckpointError(f"ember.load: {name} is a truncated or corrupted ember pickle container "
                              f"({source.size} bytes)")
    (n,) = struct.unpack("<I", source.read(4, "the reason length"))
    if n > source.size - len(MAGIC) - 4:
        raise CheckpointError(f"ember.load: {name} is a truncated or corrupted ember pickle container: its "
                              f"reason is {n} bytes long but the file holds {source.size} bytes")
    reason = source.read(n, "the reason").decode("utf-8", "replace")
    if weights_only:
        raise pickle.UnpicklingError(
            f"ember.load: {name} holds a pickled Python object ({escape(reason, 200)}), and weights_only=True (the "
            f"default) refuses to unpickle it because unpickling can execute arbitrary code. Pass "
            f"weights_only=False only if you trust the file's source. To write files that load safely, save "
            f"only tensors, dicts, lists, tuples, numbers, strings and None (e.g. model.state_dict() rather "
            f"than the model)")
    try:
        return _Unpickler(source.fh, restore, parameter_class).load()
    except (EOFError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"ember.load: {name} is a truncated or corrupted ember pickle container "
                              f"({type(exc).__name__}: {exc})") from None


class _Unpickler(pickle.Unpickler):
    """Rebuilds pickled tensors through `map_location` (Tensor and Parameter pickle via `__reduce_ex__`)."""

    def __init__(self, file, restore: Callable, parameter_class: type | None) -> None:
        super().__init__(file)
        self._restore = restore
        self._parameter = parameter_class

    def find_class(self, module: str, name: str):
        if module == "ember.tensor" and name == "_rebuild":
            return self._rebuild_tensor
        if module == "ember.nn.parameter" and name == "_rebuild_parameter":
            return self._rebuild_parameter
        return super().find_class(module, name)

    def _rebuild_tensor(self, array, location: str, requires_grad: bool) -> Tensor:
        t = self._restore(array, location)
        return t.requires_grad_(True) if requires_grad else t

    def _rebuild_parameter(self, array, location: str, requires_grad: bool):
        return self._parameter(self._restore(array, location), requires_grad=requires_grad)
