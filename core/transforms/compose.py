"""``Compose`` chains transforms; ``Lambda`` turns a function into one."""
from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["Compose", "Lambda"]


class Compose:
    """Compose several transforms together, applied in order.

    Args:
        transforms (list of transforms): the transforms to compose.

    Example::

        >>> transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class Lambda:
    """Apply a user-defined function as a transform.

    Args:
        lambd (function): the function; it receives the image and returns the transformed one.
    """

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
