"""The cupy backend against the installed cupy, without a GPU: every cupy/cupyx name its code reaches exists.

The code that runs on the cupy backend (the methods `CupyBackend` resolves, wherever its base classes
define them, and the module-level code of `cupy_backend.py`) is parsed with `ast`; every attribute
chain rooted at the array module (`self.xp`, `xp`, `cupy`, `cupyx`, names bound from those, and
`importlib.import_module("cupy...")`) is looked up in the installed cupy, and keyword arguments are
checked against the signature where Python can read one. A numpy-only API reaching the cupy backend
(e.g. `xp.random.PCG64`, `xp.indices(sparse=True)`) fails here on a machine without a GPU.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

import pytest

pytestmark = pytest.mark.no_device

cupy = pytest.importorskip("cupy", reason="cupy is not installed (pip install ember[cupy]); nothing to check")

from ember.backends import cupy_backend  # noqa: E402
from ember.backends.cupy_backend import CupyBackend  # noqa: E402

# names the backend's code binds to cupy modules, and the module each stands for
ROOTS = {"cupy": ("cupy",), "cupyx": ("cupyx",), "xp": ("cupy",), "runtime": ("cupy", "cuda", "runtime")}
CALL = "()"  # a path step: the instance a class returns


def _methods_used_by_the_cupy_backend():
    """(qualified name, function) of every method CupyBackend resolves to, from ember's backend modules."""
    seen = {}
    for name in dir(CupyBackend):
        for klass in CupyBackend.__mro__:
            if name in vars(klass):
                obj = vars(klass)[name]
                break
        fn = getattr(obj, "__func__", obj)
        if inspect.isfunction(fn) and fn.__module__.startswith("ember.backends"):
            seen[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return sorted(seen.items())


class _Chains(ast.NodeVisitor):
    """Collects (path, keywords, line) of every attribute chain rooted at the array module."""

    def __init__(self) -> None:
        self.aliases = dict(ROOTS)
        self.found: list[tuple[tuple[str, ...], tuple[str, ...], int]] = []

    def path(self, node) -> tuple[str, ...] | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr == "xp":
                return ("cupy",)
            base = self.path(node.value)
            return None if base is None else base + (node.attr,)
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "import_module" and node.args
                    and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("cupy")):
                return tuple(str(node.args[0].value).split("."))
            base = self.path(func)
            return None if base is None else base + (CALL,)
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        path = self.path(node.value)
        for target in node.targets:
            if path is not None and isinstance(target, ast.Name):
                self.aliases[target.id] = path
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = self.path(node)
        if path is not None:
            self.found.append((path, (), node.lineno))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        path = self.path(node.func)
        names = tuple(k.arg for k in node.keywords if k.arg is not None)
        if path is not None and names:
            self.found.append((path, names, node.lineno))
        self.generic_visit(node)


def _resolve(path: tuple[str, ...]):
    """The object `path` names in the installed cupy; None when it passes through a call of a non-class."""
    obj = importlib.import_module(path[0])
    for i, step in enumerate(path[1:], 1):
        if step == CALL:
            if not inspect.isclass(obj):
                return None
            continue
        try:
            obj = getattr(obj, step)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(path[:i + 1]))
            except ImportError:
                raise AttributeError(f"{'.'.join(path[:i])} has no attribute {step!r}") from None
    return obj


def _unknown_keywords(obj, names: tuple[str, ...]) -> list[str]:
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):  # ufuncs and Cython functions: no signature to read
        return []
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return []
    return [n for n in names if n not in params]


def _sources():
    yield "backends/cupy_backend.py (module)", ast.parse(inspect.getsource(cupy_backend))
    for qualname, fn in _methods_used_by_the_cupy_backend():
        yield qualname, ast.parse(textwrap.dedent(inspect.getsource(fn)))


@pytest.mark.parametrize("where, tree", list(_sources()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_cupy_name_the_backend_uses_exists(where, tree):
    chains = _Chains()
    chains.visit(tree)
    problems = []
    for path, keywords, line in chains.found:
        try:
            obj = _resolve(path)
        except AttributeError as exc:
            problems.append(f"line {line}: {'.'.join(path)}: {exc}")
            continue
        if obj is not None and keywords:
            problems += [f"line {line}: {'.'.join(path)} takes no keyword {k!r}"
                         for k in _unknown_keywords(obj, keywords)]
    assert not problems, f"{where} uses what cupy {cupy.__version__} lacks:\n" + "\n".join(problems)


def test_the_ufunc_tables_name_cupy_functions():
    from ember.backends import array_backend, array_kernels

    tables = (array_backend.REQUIRED_UNARY, array_backend.REQUIRED_BINARY, array_backend.REQUIRED_COMPARE,
              array_kernels.DERIVED_UNARY, array_kernels.DERIVED_BINARY, array_kernels.DERIVED_COMPARE)
    missing = sorted({fn for table in tables for fn in table.values() if not hasattr(cupy, fn)})
    assert not missing, f"cupy {cupy.__version__} lacks {missing}"


def test_the_check_catches_a_numpy_only_api():
    chains = _Chains()
    chains.visit(ast.parse("def f(self):\n    xp = self.xp\n"
                           "    return xp.random.PCG64(0), xp.indices((2,), sparse=True)"))
    failures = []
    for path, keywords, _ in chains.found:
        try:
            obj = _resolve(path)
        except AttributeError:
            failures.append(".".join(path))
            continue
        failures += [f"{'.'.join(path)}({k}=)" for k in _unknown_keywords(obj, keywords)]
    assert "cupy.random.PCG64" in failures and "cupy.indices(sparse=)" in failures


def test_the_backend_class_and_its_kernels_build_without_a_gpu():
    backend = CupyBackend.__new__(CupyBackend)
    backend.xp = cupy
    backend._kernels = {}
    for name in cupy_backend.KERNELS:  # parses the parameter lists; compiling needs a device
        assert backend._kernel(name).name == f"ember_{name}"
