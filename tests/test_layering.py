"""The core's layering: `nn.functional` checks arguments and dispatches to the `Op`s of `ember.ops`
(no graph nodes, backend calls or private tensor constructors of its own); `optim` stands beside `nn`
(hook handles from `ember.utils.hooks`) and its optimizers touch no private tensor field."""
import ast
import pathlib

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.autograd.node import Op
from ember.utils.hooks import RemovableHandle

FUNCTIONAL = pathlib.Path(F.__file__).parent
OPTIM = pathlib.Path(optim.__file__).parent


def _sources(folder: pathlib.Path):
    return sorted(folder.glob("*.py"))


def test_nn_functional_defines_no_ops():
    offenders = [f"{cls.__module__}.{cls.__qualname__}" for cls in _all_subclasses(Op)
                 if cls.__module__.startswith("ember.nn.functional")]
    assert not offenders, f"Op subclasses belong in ember.ops, found {offenders}"


def test_nn_functional_makes_no_backend_calls_or_private_tensors():
    offenders = []
    for path in _sources(FUNCTIONAL):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "_bk":
                offenders.append(f"{path.name}:{node.lineno} ._bk")
            if isinstance(node, ast.Name) and node.id == "_wrap":
                offenders.append(f"{path.name}:{node.lineno} _wrap")
            if isinstance(node, ast.alias) and node.name == "_wrap":
                offenders.append(f"{path.name}:{node.lineno} imports _wrap")
    assert not offenders, f"nn.functional must dispatch through ember.ops: {offenders}"


def _all_subclasses(cls):
    found, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found



def test_optim_does_not_import_nn():
    offenders = []
    for path in _sources(OPTIM):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.split(".")[0] == "nn" or node.module.startswith("ember.nn")):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, f"ember.optim imports ember.nn at {offenders}"


def test_optimizers_write_no_private_tensor_fields():
    private = {"_data", "_bk", "_version", "_grad", "_wrap"}
    offenders = []
    for path in _sources(OPTIM):
        if path.name in ("optimizer.py", "__init__.py"):  # the base holds the one fused-kernel helper
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in private:
                offenders.append(f"{path.name}:{node.lineno} {name}")
    assert not offenders, f"optimizers must go through tensor ops or optimizer.fused_step: {offenders}"


def test_modules_and_optimizers_return_one_hook_handle_type():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    handles = [model.register_forward_hook(lambda *a: None), opt.register_step_pre_hook(lambda *a: None)]
    assert all(type(h) is RemovableHandle for h in handles)
    calls = []
    with opt.register_step_post_hook(lambda *a: calls.append(1)):
        model(ember.ones(1, 2)).sum().backward()
        opt.step()
    opt.step()
    assert calls == [1]
