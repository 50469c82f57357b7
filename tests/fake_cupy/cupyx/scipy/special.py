"""`cupyx.scipy.special.erf` simulated (see fake_cupy/cupy/__init__.py)."""
from ember.backends.numpy_erf import erf_cody as erf  # noqa: F401
