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


# The core's import stack, bottom first: each module, imported alone (the `ember` package's own
# `__init__`, which assembles the public namespace from the whole stack, not run), may load only
# modules of its layer or below. `ember.tensor` installs the methods on the base's `Tensor`.
_ABOVE_OPS = ("ember.tensor", "ember.linalg", "ember.nn", "ember.optim", "ember.special", "ember.utils")
IMPORT_STACK = [
    ("ember._tensor_base", ("ember.autograd", "ember.ops", "ember.creation", "ember.random") + _ABOVE_OPS),
    ("ember.arguments", ("ember.autograd", "ember.ops", "ember.creation", "ember.random") + _ABOVE_OPS),
    ("ember.autograd.node", ("ember.ops",) + _ABOVE_OPS),
    ("ember.autograd.engine", ("ember.ops",) + _ABOVE_OPS),
    ("ember.autograd.views", ("ember.ops",) + _ABOVE_OPS),
    ("ember.autograd", ("ember.ops",) + _ABOVE_OPS),
    ("ember.random", ("ember.ops",) + _ABOVE_OPS),
    ("ember.creation", ("ember.ops",) + _ABOVE_OPS),
    *[(f"ember.ops.{path.stem}", _ABOVE_OPS)
      for path in sorted(pathlib.Path(ember.__file__).parent.joinpath("ops").glob("*.py"))],
    ("ember.linalg", ("ember.tensor", "ember.nn", "ember.optim", "ember.special", "ember.utils")),
    ("ember.special", ("ember.tensor", "ember.nn", "ember.optim", "ember.utils")),
    ("ember.tensor", ("ember.nn", "ember.optim", "ember.utils")),
]

_IMPORT_ALONE = """
import importlib, json, sys, types
package = types.ModuleType("ember")  # the package without its __init__: only what each module imports
package.__path__ = list(json.loads(sys.argv[1]))
sys.modules["ember"] = package
loaded = {}
for name in json.loads(sys.argv[2]):
    for key in [k for k in sys.modules if k.startswith("ember.") and not k.startswith("ember.plugins")]:
        del sys.modules[key]
    importlib.import_module(name)
    loaded[name] = sorted(k for k in sys.modules if k.startswith("ember."))
print(json.dumps(loaded))
"""


def test_each_layer_of_the_core_imports_only_layers_below_it():
    import json
    import subprocess
    import sys

    names = [name for name, _ in IMPORT_STACK]
    run = subprocess.run([sys.executable, "-c", _IMPORT_ALONE, json.dumps(list(ember.__path__)), json.dumps(names)],
                         check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = json.loads(run.stdout)
    offenders = {name: [m for m in loaded[name] if m.startswith(above)]
                 for name, forbidden in IMPORT_STACK for above in forbidden}
    offenders = {name: mods for name, mods in offenders.items() if mods}
    assert not offenders, f"modules importing layers above them: {offenders}"


def test_the_tensor_base_is_the_class_ember_exports():
    from ember._tensor_base import Tensor, _wrap

    assert ember.Tensor is Tensor
    t = ember.ones(2)
    assert type(t) is Tensor and type(_wrap(t._data, t._bk, t._device)) is Tensor
    assert Tensor.add.__qualname__ == "Tensor.add" and Tensor.__module__ == "ember.tensor"


def test_no_core_module_imports_after_code():
    # a module-level import below code (silenced E402) is how a cycle used to be dodged; the
    # package `__init__` only assembles the public namespace and is exempt
    offenders = []
    for path in sorted(pathlib.Path(ember.__file__).parent.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == pathlib.Path(ember.__file__).parent:
            continue
        tree = ast.parse(path.read_text())
        code_seen = False
        for i, node in enumerate(tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if code_seen:
                    offenders.append(f"{path.relative_to(path.parents[1])}:{node.lineno}")
            elif not (i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                code_seen = True
    assert not offenders, f"module-level imports after code: {offenders}"
