"""A tensor's values as a contiguous host numpy array that mpi4py reads and writes through the buffer protocol.

On a backend that shares host memory (numpy) a contiguous tensor's own array is the buffer: no copy. Any other
tensor (a strided view, a reference or cupy tensor) is copied to the host, and a collective's result is copied
back into the tensor in place when the collective completes.
"""
from __future__ import annotations

import ember
import numpy
from ember.tensor import Tensor


class HostBuffer:
    """The host array of `tensor`; `write_back()` makes a collective's writes visible in the tensor.

    Args:
        tensor: the tensor whose memory the collective reads (and possibly writes).
    """

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        array = tensor._bk.to_numpy(tensor._data)
        self.shared = (tensor._bk.shares_host_memory and isinstance(array, numpy.ndarray)
                       and array.flags.c_contiguous and array.flags.writeable)
        self.array = array if self.shared else numpy.ascontiguousarray(array)

    def write_back(self) -> None:
        """Put the host array's values into the tensor (in place; its version counter goes up)."""
        if self.shared:
            self.tensor._version[0] += 1
        else:
            write(self.tensor, self.array)


def write(tensor: Tensor, array: numpy.ndarray) -> None:
    """Copy host `array` (of `tensor`'s shape) into `tensor` in place, outside autograd."""
    with ember.no_grad():
        tensor.copy_(ember.from_numpy(numpy.ascontiguousarray(array)))


def host_array(tensor: Tensor) -> numpy.ndarray:
    """`tensor`'s values on the host, for reading only (the tensor's own array when it is there already)."""
    return numpy.ascontiguousarray(tensor._bk.to_numpy(tensor._data))


def empty_like_host(tensor: Tensor, leading: tuple[int, ...] = ()) -> numpy.ndarray:
    """An uninitialised host array of shape `leading + tensor.shape` with `tensor`'s host dtype."""
    return numpy.empty(leading + tuple(tensor.shape), dtype=numpy.dtype(tensor.dtype.name))
