"""`ember.backends.cudnn`: PyTorch's cuDNN flags, kept so that PyTorch code runs unchanged.

ember does not use cuDNN: on the GPU its convolutions run as strided windows and GEMMs (cuBLAS,
through cupy) and its pooling as elementwise kernels. So `is_available()` is False and `version()`
None, and the flags below are stored and read back but change nothing in ember:

- `enabled` (default True): PyTorch uses cuDNN when True; ember never does.
- `benchmark` (default False): PyTorch times several cuDNN algorithms per input shape; ember has one
  algorithm per kernel, so there is nothing to choose.
- `deterministic` (default False): PyTorch then picks deterministic cuDNN algorithms. ember's GPU
  results are deterministic except the sums of `index_add`/`scatter_add`/embedding gradients, which
  use atomic adds; this flag does not change them.
- `allow_tf32` (default True): ember computes float32 convolutions in float32 (cupy's default).
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

enabled: bool = True
benchmark: bool = False
deterministic: bool = False
allow_tf32: bool = True
benchmark_limit: int = 10


def is_available() -> bool:
    """Whether ember can use cuDNN: always False (ember's GPU convolutions do not use it)."""
    return False


def version() -> None:
    """The cuDNN version ember uses: None (ember does not use cuDNN)."""
    return None


@contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10, deterministic: bool = False,
          allow_tf32: bool = True) -> Iterator[None]:
    """Set the flags for the `with` block and restore them after, as `torch.backends.cudnn.flags`."""
    module = sys.modules[__name__]
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {n: getattr(module, n) for n in names}
    for name, value in zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)):
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
