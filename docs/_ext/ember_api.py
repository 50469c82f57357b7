"""Sphinx extension for ember's API reference.

- ``.. ember-names:: MODULE`` documents every public name of MODULE (its ``__all__``, or the public
  attributes that are not modules) with autodoc: classes with their members, functions, and data
  such as dtypes. A new public name therefore appears in the reference without editing a page.
- After reading, every public name of the modules listed in ``ember_api_modules`` (conf.py) is
  checked: a function or class without a docstring, a public method or property of a documented
  class without one, or a name missing from the reference is a warning, so ``-W`` fails the build.
- ``.. ember-benchmark-results::`` shows the benchmark summary table and plots found at build time.
- Annotations name classes where they are defined (``Tensor``, ``ember.tensor.Tensor``); a
  reference that does not resolve is sent to the one documented class of that name.
"""
from __future__ import annotations

import __future__
import functools
import glob
import importlib
import inspect
import os
import re
import types

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.inspect import getdoc
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

logger = logging.getLogger(__name__)


#: module name -> public names its module ``__getattr__`` provides on first use (conf.py ``ember_api_lazy_names``)
LAZY_NAMES: dict[str, list[str]] = {}


def public_names(module: types.ModuleType) -> list[str]:
    """The public names of `module`: its ``__all__`` without private names, else its public attributes,
    plus the names it imports lazily."""
    lazy = LAZY_NAMES.get(module.__name__, [])
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return [n for n in declared if not n.startswith("_")] + [n for n in lazy if n not in declared]
    return sorted({n for n, v in vars(module).items()
                   if not n.startswith("_") and not isinstance(v, (types.ModuleType, __future__._Feature))} | set(lazy))


def kind_of(obj) -> str:
    """'module', 'exception', 'class', 'function' or 'data' (instances, even callable ones, are data)."""
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    return "function" if inspect.isroutine(obj) else "data"


@functools.lru_cache(maxsize=None)
def _exporters(modules: tuple[str, ...]) -> dict[int, list[str]]:
    """id(object) -> the full public names it has in `modules`, in their order."""
    index: dict[int, list[str]] = {}
    for modname in modules:
        module = importlib.import_module(modname)
        for name in public_names(module):
            index.setdefault(id(getattr(module, name)), []).append(f"{modname}.{name}")
    return index


def home_of(obj, modules: tuple[str, ...]) -> str | None:
    """The full name under which `obj` is documented in full, when several public modules export it:
    in the module whose name is the longest prefix of the module defining it, else the first."""
    names = _exporters(modules).get(id(obj), [])
    if len({n.rsplit(".", 1)[0] for n in names}) < 2:
        return None
    defining = getattr(obj, "__module__", "") or ""
    inside = [n for n in names if defining.startswith(n.rsplit(".", 1)[0] + ".") or defining == n.rsplit(".", 1)[0]]
    return max(inside, key=lambda n: len(n.rsplit(".", 1)[0])) if inside else names[0]


def data_text(full: str, obj) -> str:
    """What a data entry says: the dtype it is (or aliases), else its repr."""
    if repr(obj) != full and repr(obj).startswith("ember."):
        return f"Alias of :py:data:`{obj!r}`."
    if hasattr(obj, "is_floating_point") and hasattr(obj, "itemsize"):
        kind = "bool" if obj.name == "bool" else "floating point" if obj.is_floating_point else (
            "signed integer" if obj.is_signed else "unsigned integer")
        return f"The dtype of {obj.itemsize * 8}-bit {kind} numbers." if obj.name != "bool" else "The dtype of booleans."
    return f"``{obj!r}``"


def public_members(cls: type) -> list[str]:
    """The public methods and properties a class defines itself (inherited ones are documented on the base)."""
    return [k for k, v in vars(cls).items()
            if not k.startswith("_") and (callable(v) or isinstance(v, (property, classmethod, staticmethod)))]


def member_doc(cls: type, name: str) -> str:
    """The docstring autodoc shows for `cls.name` (inherited from a base class when not overridden)."""
    raw = inspect.getattr_static(cls, name)
    obj = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
    return getdoc(obj, getattr, True, cls, name) or ""


class EmberNames(SphinxDirective):
    """Document every public name of a module (or the ones given by ``:names:``)."""

    required_arguments = 1
    option_spec = {
        "names": directives.unchanged,        # only these names, in this order
        "exclude": directives.unchanged,      # names documented on another page
        "no-members": directives.unchanged,   # classes documented without their members
    }

    def run(self) -> list[nodes.Node]:
        modname = self.arguments[0]
        module = importlib.import_module(modname)
        names = self.options.get("names", "").split() or public_names(module)
        excluded = set(self.options.get("exclude", "").split())
        no_members = set(self.options.get("no-members", "").split())
        self.env.ember_no_members.setdefault(self.env.docname, set()).update(f"{modname}.{n}" for n in no_members)
        groups: dict[str, list[str]] = {"class": [], "exception": [], "function": [], "data": []}
        for name in names:
            if name in excluded:
                continue
            kind = kind_of(getattr(module, name))
            if kind != "module":
                groups[kind].append(name)
        lines: list[str] = []
        titles = {"class": "Classes", "exception": "Exceptions", "function": "Functions", "data": "Data"}
        for kind, members in groups.items():
            if not members:
                continue
            if "names" not in self.options:
                lines += [f".. rubric:: {titles[kind]}", ""]
            for name in members:
                obj = getattr(module, name)
                if kind == "data":
                    text = self.config.ember_api_data_docs.get(f"{modname}.{name}") or data_text(f"{modname}.{name}", obj)
                    lines += [f".. py:data:: {name}", f"   :module: {modname}", "", f"   {text}", ""]
                    continue
                home = home_of(obj, tuple(self.config.ember_api_modules))
                if home is not None and home.rsplit(".", 1)[0] != modname:
                    role, directive = ("func", "function") if kind == "function" else ("class", kind)
                    lines += [f".. py:{directive}:: {name}", f"   :module: {modname}", "",
                              f"   Alias of :{role}:`{home}`.", ""]
                    continue
                lines.append(f".. auto{kind}:: {modname}.{name}")
                if kind in ("class", "exception") and name not in no_members:
                    lines.append("   :members:")
                lines.append("")
        content = StringList(lines, source=f"<ember-names {modname}>")
        node = nodes.container()
        nested_parse_with_titles(self.state, content, node)
        return node.children


class BenchmarkResults(SphinxDirective):
    """The targets table of ``summary.md`` and every ``*.png`` plot in the benchmark results folder
    (config ``ember_benchmark_results``, relative to docs/), or a note saying how to produce them."""

    def run(self) -> list[nodes.Node]:
        folder = os.path.normpath(os.path.join(self.env.app.confdir, self.config.ember_benchmark_results))
        summary = os.path.join(folder, "summary.md")
        plots = sorted(glob.glob(os.path.join(folder, "*.png")))
        lines: list[str] = []
        if os.path.isfile(summary):
            self.env.note_dependency(summary)
            text = open(summary, encoding="utf-8").read().split("## Script output")[0]
            text = re.sub(r"(?<!`)`([^`\n]+)`(?!`)", r"``\1``", text)  # Markdown code spans as literals
            intro = [line for line in text.splitlines() if line.startswith("Written by")]
            table = [line for line in text.splitlines() if line.startswith("|")]
            lines += intro + [""]
            if len(table) > 2:
                lines += [".. list-table:: Targets and measurements (benchmarks/results/summary.md)",
                          "   :header-rows: 1", ""]
                for row in table[:1] + table[2:]:
                    cells = [c.strip() for c in row.strip().strip("|").split("|")]
                    lines.append(f"   * - {cells[0]}")
                    lines += [f"     - {c}" for c in cells[1:]]
                lines.append("")
        else:
            lines += ["*No summary.md in benchmarks/results/ when this site was built:* run "
                      "``python benchmarks/run_all.py`` to measure, then rebuild.", ""]
        for plot in plots:
            self.env.note_dependency(plot)
            rel = os.path.relpath(plot, os.path.dirname(self.env.doc2path(self.env.docname)))
            name = os.path.basename(plot)
            lines += [f".. figure:: {rel}", "   :width: 90%", "", f"   ``{name}``", ""]
        if not plots:
            lines += ["*No plots in benchmarks/results/ when this site was built:* run "
                      "``python benchmarks/bench_scaling.py`` (needs matplotlib), then rebuild.", ""]
        node = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source="<ember-benchmark-results>"), node)
        return node.children


def _purge(app, env, docname: str) -> None:
    env.ember_no_members.pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    env.ember_no_members.update(other.ember_no_members)


def _init_env(app, env, docnames) -> None:
    LAZY_NAMES.update(app.config.ember_api_lazy_names)
    if not hasattr(env, "ember_no_members"):
        env.ember_no_members = {}


def check_api(app, env) -> None:
    """Warn for every public name of `ember_api_modules` that is undocumented or missing from the reference."""
    objects = env.get_domain("py").objects
    no_members = set().union(*env.ember_no_members.values()) if env.ember_no_members else set()
    modules = tuple(app.config.ember_api_modules)
    for modname in modules:
        module = importlib.import_module(modname)
        if modname not in objects:
            logger.warning("ember_api: module %s has no page in the API reference", modname)
        for name in public_names(module):
            obj = getattr(module, name)
            full = f"{modname}.{name}"
            kind = kind_of(obj)
            if kind == "module":
                continue
            if kind != "data" and not (getattr(obj, "__doc__", None) or "").strip():
                logger.warning("ember_api: public name %s has no docstring", full)
            if full not in objects:
                logger.warning("ember_api: public name %s is not in the API reference", full)
            elif kind in ("class", "exception") and full not in no_members and home_of(obj, modules) in (None, full):
                for member in public_members(obj):
                    if not member_doc(obj, member).strip():
                        logger.warning("ember_api: public member %s.%s has no docstring", full, member)


def resolve_by_class_name(app, env, node, contnode):
    """Resolve a class reference written as a bare or defining-module name (``Tensor``) to its documented entry."""
    if node.get("refdomain") != "py" or node.get("reftype") not in ("class", "obj", "exc"):
        return None
    target = node["reftarget"].rsplit(".", 1)[-1]
    objects = env.get_domain("py").objects
    found = sorted((n for n, e in objects.items()
                    if e.objtype in ("class", "exception") and not e.aliased and n.rsplit(".", 1)[-1] == target),
                   key=len)
    if not found:
        return None
    entry = objects[found[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, found[0])


def setup(app):
    app.add_config_value("ember_api_modules", [], "env")
    app.add_config_value("ember_api_data_docs", {}, "env")
    app.add_config_value("ember_api_lazy_names", {}, "env")
    app.add_directive("ember-names", EmberNames)
    app.add_directive("ember-benchmark-results", BenchmarkResults)
    app.add_config_value("ember_benchmark_results", "../benchmarks/results", "env")
    app.connect("env-before-read-docs", _init_env)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", check_api)
    app.connect("missing-reference", resolve_by_class_name)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
