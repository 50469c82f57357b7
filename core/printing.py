"""`repr` of tensors in PyTorch's style: `tensor([1.0000, 2.5000], requires_grad=True)`."""
from __future__ import annotations

import numpy as np  # host formatting of the values

from . import dtypes


def _formatter(arr: np.ndarray):
    if arr.dtype.kind == "b":
        return {"bool": lambda v: "True" if v else "False"}
    if arr.dtype.kind != "f":
        return None
    finite = arr[np.isfinite(arr)]
    if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
        return {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
    if finite.size and (np.abs(finite).max() >= 1e8 or np.abs(finite[finite != 0]).min(initial=1) < 1e-4):
        return {"float_kind": lambda v: f"{v:.4e}"}
    return {"float_kind": lambda v: f"{v:.4f}" if np.isfinite(v) else str(v)}


def format_tensor(t) -> str:
    arr = np.asarray(t._bk.to_numpy(t._data))
    prefix = "tensor("
    body = np.array2string(arr, separator=", ", prefix=prefix, formatter=_formatter(arr),
                           threshold=1000, edgeitems=3, max_line_width=80)
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    default_float = dtypes.get_default_dtype()
    implied = t.dtype in (default_float, dtypes.int64, dtypes.bool)
    if not implied or arr.size == 0:
        extras.append(f"dtype=ember.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    if arr.size == 0 and arr.ndim != 1:
        extras.insert(0, f"size={tuple(arr.shape)}")
    return prefix + body + "".join(", " + e for e in extras) + ")"
