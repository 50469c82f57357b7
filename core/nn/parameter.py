"""`Parameter` (a tensor a `Module` learns) and `Buffer` (a tensor a `Module` keeps), as in `torch.nn`."""
from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor, _rebuild

__all__ = ["Parameter", "Buffer"]

_new = object.__new__


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning one as a `Module` attribute registers it.

    Args:
        data: the parameter's tensor; the parameter shares its memory (and version counter). Default:
            an empty tensor.
        requires_grad: whether the parameter requires gradient. Default: True.

    A Parameter is always a leaf, and every tensor op accepts it as a Tensor.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        p = _new(cls)
        p._data = data._data
        p._bk = data._bk
        p._device = data._device
        p._dtype = data._dtype
        p._version = data._version
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        """All set up in `__new__` (Tensor's own `__init__` refuses direct construction)."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._bk.to_numpy(self._data), str(self._device), self._rg))

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.detach().clone(), self._rg)
        if self._grad is not None:
            result._grad = self._grad.detach().clone()
        memo[id(self)] = result
        return result


def _rebuild_parameter(array, device: str, requires_grad: bool) -> Parameter:
    return Parameter(_rebuild(array, device, False), requires_grad)


class _BufferMeta(type):
    """`isinstance(t, Buffer)` is true for the tensors `Buffer(...)` returns (plain Tensors, flagged)."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a module buffer: `module.x = Buffer(t)` registers `x` with `register_buffer`.

    Args:
        data: the buffer's tensor (detached; shares memory). Default: an empty tensor.
        persistent: whether the buffer is part of the module's `state_dict`. Default: True.

    Returns a plain Tensor flagged as a buffer (as PyTorch 2.5+ does), not an instance of a subclass.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        t = data.detach()
        if data.requires_grad:
            t.requires_grad_(True)
        t._is_buffer = True
        t.persistent = persistent
        return t
