"""Cody's erf approximation, which the numpy backend uses without scipy and the reference backend always."""
import math

import numpy as np


def test_numpy_backends_cody_erf_matches_math_erf_to_float64_precision():
    from ember.backends.numpy_erf import erf_cody as _erf_cody

    grid = np.concatenate([np.linspace(-30, 30, 60001), np.geomspace(1e-300, 1e-3, 200),
                           [0.0, 0.46875, 0.46875 + 1e-12, 4.0, 4.0 + 1e-12, 26.543, 1e300]])
    grid = np.concatenate([grid, -grid])
    got = _erf_cody(grid)
    exact = np.array([math.erf(v) for v in grid])
    assert np.all(np.abs(got - exact) <= 1e-15 * np.abs(exact))
    special = _erf_cody(np.array([np.inf, -np.inf, np.nan]))
    assert special[0] == 1.0 and special[1] == -1.0 and np.isnan(special[2])
    assert _erf_cody(np.float32([0.5])).dtype == np.float32
