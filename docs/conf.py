"""Sphinx configuration of ember's documentation site (`tox -e docs` builds it into docs/_build/html)."""
from __future__ import annotations

import doctest
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))
os.environ.setdefault("EMBER_BACKEND", "numpy")
os.environ.setdefault("EMBER_DISABLE_PLUGIN_AUTOLOAD", "1")  # the site documents ember, not what is installed

import ember  # noqa: E402

project = "ember"
author = "the ember authors"
copyright = "the ember authors"  # noqa: A001
release = version = ember.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "ember_api",
]

# One docstring dialect: Google style (Args:/Returns:), Markdown-like `code` spans.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_param = False  # an argument's type in parentheses is shown as written, not linked
default_role = "code"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_inherit_docstrings = True

# The public modules whose every name must be in the API reference with a docstring (ember_api checks).
ember_api_modules = [
    "ember", "ember.nn", "ember.nn.functional", "ember.nn.init", "ember.nn.utils", "ember.nn.utils.rnn", "ember.optim",
    "ember.optim.lr_scheduler", "ember.utils.data", "ember.transforms", "ember.autograd", "ember.linalg",
    "ember.special", "ember.cuda", "ember.plugins", "ember.backends", "ember.testing", "ember.utils.hooks",
    "ember.utils.dlpack", "ember.serialization", "ember.distributed", "ember.nn.parallel", "ember.models",
    "ember.models.weights", "ember.models.convert", "ember.hub",
    "ember.compiler",
]

# Names a module's __getattr__ provides on first use (not in its namespace until then).
ember_api_lazy_names = {"ember": ["compile", "save", "load", "default_generator"]}

nitpicky = True
nitpick_ignore = [
    # External types named in annotations: the site does not link to numpy's or Python's
    # documentation (intersphinx would need the network at build time).
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Iterator"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "os.PathLike"),
    ("py:exc", "pickle.UnpicklingError"),
    ("py:exc", "urllib.error.URLError"),
    ("py:class", "datetime.timedelta"),
    ("py:class", "multiprocessing.context.BaseContext"),
    ("py:class", "numpy.ndarray"),
    # A type variable, and the private named tuple load_state_dict returns (PyTorch's _IncompatibleKeys).
    ("py:class", "ember.utils.data.dataset.T_co"),
    ("py:class", "ember.nn.modules.module._IncompatibleKeys"),
    # The private recording wrapper that ember.compile passes to OptimizedModule (users never build one).
    ("py:class", "ember.compiler.api._CompiledFunction"),
]

# Text for public data that is neither a dtype nor documented by a comment.
ember_api_data_docs = {
    "ember.plugins.hookimpl": "Marks a plugin's hook implementations (``@hookimpl def ember_register_layers(registry)``); "
                              "pluggy's ``HookimplMarker`` for the project ``ember``.",
    "ember.plugins.hookspec": "Marks ember's hook specifications (pluggy's ``HookspecMarker`` for the project ``ember``).",
    "ember.default_generator": "The CPU default generator (an `ember.Generator`), seeded by `ember.manual_seed`.",
}

doctest_global_setup = """
import ember
from ember import nn, optim
ember.manual_seed(0)
"""
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1

html_theme = "furo"
html_title = f"ember {release}"
html_static_path = []
templates_path = []
exclude_patterns = ["_build"]
