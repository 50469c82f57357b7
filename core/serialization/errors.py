"""`CheckpointError`, and how text read from a checkpoint is shown in error messages."""
from __future__ import annotations

import json

_SHOWN_CHARS = 80
_SHOWN_ITEMS = 4


class CheckpointError(RuntimeError):
    """A file `ember.load` cannot read: empty, truncated, corrupted, or not an ember/safetensors checkpoint."""


def escape(text: str, limit: int = _SHOWN_CHARS) -> str:
    """`text` from a file, safe to print: escaped as `repr` escapes (no control characters), cut to `limit`."""
    shown = repr(text[:limit])[1:-1]
    return shown + "..." if len(text) > limit else shown


def describe(value: object, nested: bool = False) -> str:
    """`value` (from a checkpoint's JSON) for an error message: short, escaped, never raw control characters.

    Strings are quoted and escaped, scalars show their JSON text, a list its first few scalars; other
    arrays and objects only their kind, since their text could be as large as the header itself.
    """
    if isinstance(value, str):
        return f"'{escape(value)}'"
    if value is None or isinstance(value, (bool, int, float)):
        text = json.dumps(value)
        return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    if isinstance(value, list) and not nested:
        items = [describe(v, nested=True) for v in value[:_SHOWN_ITEMS]]
        return "[" + ", ".join(items) + (", ...]" if len(value) > _SHOWN_ITEMS else "]")
    return "a JSON array" if isinstance(value, list) else "a JSON object"
