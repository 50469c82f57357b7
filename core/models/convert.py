"""``python -m ember convert IN OUT [--arch NAME]``: PyTorch checkpoints to ember checkpoints.

ember never unpickles PyTorch's ``torch.save`` format itself. The converter reads a ``.pth``/``.pt`` file
with ``torch.load(path, map_location="cpu", weights_only=True)`` (so PyTorch must be installed, and the
file may hold only tensors and plain containers), or a safetensors file (no PyTorch needed), takes the
state dict out of the usual training-checkpoint wrappers (``{"state_dict": ...}``, ``{"model": ...}``,
``{"model_state_dict": ...}``; a ``module.`` prefix left by ``DataParallel`` is removed), optionally
checks every key and shape against an `ember.models` architecture, and writes the tensors with
`ember.save`. Every mismatch is reported by name, together, before anything is written.
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..tensor import Tensor

__all__ = ["ConversionReport", "ConversionError", "read_checkpoint", "convert_checkpoint"]

_WRAPPERS = ("state_dict", "model_state_dict", "model")  # where training scripts nest the weights
_DATA_PARALLEL_PREFIX = "module."
# torch.save's legacy format opens with its magic number pickled at protocol 2 (a safetensors file
# would need a 176 MB header to start so); its current format is a zip archive, b"PK\x03\x04"
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a"


@dataclass
class ConversionReport:
    """What `convert_checkpoint` found and did.

    Attributes:
        src, dst: the files read and written (`dst` is None when nothing was written).
        arch: the architecture checked against, or None.
        tensors: the number of tensors converted; elements: their total number of elements.
        missing: keys the architecture has and the checkpoint lacks.
        unexpected: keys the checkpoint has and the architecture lacks.
        mismatched: ``(key, checkpoint shape, architecture shape)`` for every shape that differs.
        notes: what was adapted on the way (a wrapper key taken off, a prefix removed, a dtype widened,
            a non-tensor entry left out).
        strict: whether missing and unexpected keys count as errors.
    """

    src: str
    dst: str | None
    arch: str | None = None
    tensors: int = 0
    elements: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    strict: bool = True

    @property
    def ok(self) -> bool:
        """No shape mismatch, and with `strict` no missing or unexpected key either."""
        return not self.mismatched and not (self.strict and (self.missing or self.unexpected))

    def problems(self) -> list[str]:
        """One line per mismatch, by name."""
        lines = [f"missing key: {key}" for key in self.missing]
        lines += [f"unexpected key: {key}" for key in self.unexpected]
        lines += [f"size mismatch for {key}: shape {list(got)} in the checkpoint, {list(want)} in {self.arch}"
                  for key, got, want in self.mismatched]
        return lines

    def __str__(self) -> str:
        lines = [f"read {self.tensors} tensors ({self.elements:,} elements) from {self.src}"]
        lines += [f"  note: {note}" for note in self.notes]
        if self.arch is not None:
            problems = self.problems()
            if problems:
                lines.append(f"{len(problems)} difference(s) from {self.arch}"
                             + ("" if self.ok else " (errors)") + ":")
                lines += [f"  {line}" for line in problems]
            else:
                lines.append(f"every key and shape matches {self.arch}")
        lines.append(f"wrote {self.dst}" if self.dst is not None else "nothing was written")
        return "\n".join(lines)


class ConversionError(RuntimeError):
    """The checkpoint does not fit the architecture; `report` lists every mismatch."""

    def __init__(self, report: ConversionReport) -> None:
        problems = "\n  ".join(report.problems())
        super().__init__(f"{report.src} does not match {report.arch}; nothing was written to the output:\n  "
                         f"{problems}\n(--no-strict / strict=False accepts missing and unexpected keys, "
                         f"--num-classes / num_classes= builds the architecture with another head)")
        self.report = report


def read_checkpoint(path: str | os.PathLike, notes: list[str] | None = None) -> dict[str, Tensor]:
    """The state dict in a PyTorch checkpoint (``torch.save``), a safetensors file or an ember checkpoint,
    as CPU ember tensors.

    Args:
        path: the file.
        notes: if given, receives a line for everything adapted on the way (see `ConversionReport.notes`).

    Raises:
        ModuleNotFoundError: the file is a PyTorch checkpoint and PyTorch is not installed.
        ValueError: the file holds no state dict (no tensors at the top level or under a known wrapper key).
    """
    path = os.fspath(path)
    notes = [] if notes is None else notes
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic in (b"PK\x03\x04", _LEGACY_TORCH_MAGIC):
        obj = _torch_load(path, notes)
    else:
        from .. import load

        obj = load(path, map_location="cpu")
    return _state_dict(obj, path, notes)


def _torch_load(path: str, notes: list[str]) -> Any:
    try:
        import torch
    except ImportError:
        raise ModuleNotFoundError(
            f"{path} is a PyTorch checkpoint (torch.save format); reading it needs PyTorch: pip install torch. "
            f"Alternatively, where PyTorch is installed, save the weights as safetensors "
            f"(safetensors.torch.save_file(model.state_dict(), 'weights.safetensors')), which ember reads "
            f"without PyTorch.") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise RuntimeError(f"torch.load(weights_only=True) refused {path}: it holds Python objects other than "
                           f"tensors ({exc}). If you trust the file, load it in PyTorch with weights_only=False "
                           f"and save only the model's state_dict().") from None
    return _from_torch(obj, torch, notes)


def _from_torch(obj: Any, torch: Any, notes: list[str], key: str = "") -> Any:
    """`obj` with every torch tensor replaced by an ember tensor (containers kept)."""
    if isinstance(obj, torch.Tensor):
        from .. import from_numpy

        t = obj.detach().cpu()
        if t.dtype == torch.bfloat16:
            notes.append(f"{key}: bfloat16 widened to float32 (ember has no bfloat16)")
            t = t.float()
        try:
            array = t.contiguous().numpy()
        except TypeError as exc:
            raise TypeError(f"{key}: ember cannot hold a tensor of dtype {t.dtype} ({exc})") from None
        return from_numpy(array)
    if isinstance(obj, Mapping):
        return {k: _from_torch(v, torch, notes, f"{key}.{k}" if key else str(k)) for k, v in obj.items()}
    return obj


def _state_dict(obj: Any, path: str, notes: list[str]) -> dict[str, Tensor]:
    for _ in range(2):  # e.g. {"model": {"state_dict": ...}}
        if isinstance(obj, Mapping) and not any(isinstance(v, Tensor) for v in obj.values()):
            wrapper = next((k for k in _WRAPPERS if isinstance(obj.get(k), Mapping)), None)
            if wrapper is None:
                break
            notes.append(f"took the state dict from the checkpoint's {wrapper!r} entry")
            obj = obj[wrapper]
    if not isinstance(obj, Mapping) or not any(isinstance(v, Tensor) for v in obj.values()):
        keys = list(obj)[:10] if isinstance(obj, Mapping) else type(obj).__name__
        raise ValueError(f"{path} holds no state dict: no tensors at the top level nor under "
                         f"{', '.join(repr(k) for k in _WRAPPERS)} (found {keys})")
    state: dict[str, Tensor] = {}
    for key, value in obj.items():
        if isinstance(value, Tensor):
            state[str(key)] = value
        else:
            notes.append(f"left out {key!r}: a {type(value).__name__}, not a tensor")
    if all(k.startswith(_DATA_PARALLEL_PREFIX) for k in state):
        notes.append(f"removed the {_DATA_PARALLEL_PREFIX!r} prefix (DataParallel) from every key")
        state = {k[len(_DATA_PARALLEL_PREFIX):]: v for k, v in state.items()}
    return state


def convert_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, arch: str | None = None, strict: bool = True,
                       *, num_classes: int | None = None) -> ConversionReport:
    """Convert the checkpoint `src` (see `read_checkpoint`) to the ember checkpoint `dst` (`ember.save` of
    the state dict).

    Args:
        src: a PyTorch ``.pth``/``.pt`` file (needs PyTorch), a safetensors file or an ember checkpoint.
        dst: the ember checkpoint to write (replaced atomically).
        arch: an `ember.models` name (``"resnet18"``) to check every key name and shape against; the
            output then lists the keys in the architecture's `state_dict` order.
        strict: with `arch`, missing and unexpected keys are errors (as ``load_state_dict(strict=True)``);
            shape mismatches always are. Default: True.
        num_classes: build `arch` with this head size (a fine-tuned checkpoint). Default: the builder's.

    Returns:
        A `ConversionReport`; ``str(report)`` is the summary the command line prints.

    Raises:
        ConversionError: the checkpoint does not fit `arch`; its message and its ``report`` name every
            mismatch, and nothing is written.
    """
    from .. import save

    report = ConversionReport(os.fspath(src), None, arch, strict=strict)
    state = read_checkpoint(src, report.notes)
    report.tensors = len(state)
    report.elements = sum(t.numel() for t in state.values())
    if arch is not None:
        from . import get_model

        model = get_model(arch, **({} if num_classes is None else {"num_classes": num_classes}))
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        report.missing = [k for k in expected if k not in state]
        report.unexpected = [k for k in state if k not in expected]
        report.mismatched = [(k, tuple(t.shape), expected[k]) for k, t in state.items()
                             if k in expected and tuple(t.shape) != expected[k]]
        if not report.ok:
            raise ConversionError(report)
        # the architecture's order (a safetensors file stores its keys sorted), then any unexpected keys
        state = {**{k: state[k] for k in expected if k in state}, **{k: state[k] for k in report.unexpected}}
    save(state, dst)
    report.dst = os.fspath(dst)
    return report


def add_convert_command(subparsers: Any) -> None:
    """Register ``convert`` on the `ember` command line's subparsers."""
    parser = subparsers.add_parser(
        "convert", help="convert a PyTorch checkpoint (.pth/.pt) or safetensors file to an ember checkpoint",
        description="Convert a PyTorch checkpoint (read with torch.load(weights_only=True), so PyTorch must be "
                    "installed) or a safetensors file to an ember checkpoint. With --arch, every key name and shape "
                    "is checked and each mismatch is reported; nothing is written then.")
    parser.add_argument("src", metavar="IN", help="a .pth/.pt file (read with PyTorch), a safetensors file or "
                                                  "an ember checkpoint")
    parser.add_argument("dst", metavar="OUT", help="the ember checkpoint to write")
    parser.add_argument("--arch", help="check key names and shapes against this ember.models architecture "
                                       "(e.g. resnet18)")
    parser.add_argument("--num-classes", type=int, help="the architecture's number of classes (default: its "
                                                        "builder's)")
    parser.add_argument("--strict", action=argparse.BooleanOptionalAction, default=True,
                        help="treat missing and unexpected keys as errors (default: --strict); shape mismatches "
                             "are always errors")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from . import list_models

    if args.arch is not None and args.arch.lower() not in list_models():
        print(f"ember convert: unknown --arch {args.arch}; choose one of {', '.join(list_models())}",
              file=sys.stderr)
        return 2
    try:
        report = convert_checkpoint(args.src, args.dst, args.arch, args.strict, num_classes=args.num_classes)
    except ConversionError as exc:
        print(exc.report, file=sys.stderr)
        return 1
    except (OSError, ImportError, ValueError, TypeError, RuntimeError, pickle.UnpicklingError) as exc:
        # an unreadable or foreign input file, or PyTorch missing for a .pth
        print(f"ember convert: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0
