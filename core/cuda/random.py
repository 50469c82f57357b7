"""Seeding and the states of the CUDA devices' default generators, as `torch.cuda`'s random functions.

Without CUDA, the seeding functions and `set_rng_state` are silent no-ops and `get_rng_state_all` is
empty, as PyTorch does ("it's safe to call this function if CUDA is not available"); `initial_seed`
and `get_rng_state` raise, since there is no generator to answer.
"""
from __future__ import annotations

import os

from ..device import device as _device
from ..random import default_generator_for
from ._runtime import backend, status


def _generator(device, what: str):
    return default_generator_for(_device("cuda", backend(device, what).index))


def manual_seed(seed: int) -> None:
    """Seed the current CUDA device's default generator (a no-op without CUDA)."""
    if status()[0]:
        _generator(None, "manual_seed").manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the default generator of every CUDA device (a no-op without CUDA)."""
    for index in range(status()[2]):
        _generator(index, "manual_seed_all").manual_seed(seed)


def seed() -> None:
    """Seed the current CUDA device's default generator from the OS's entropy (a no-op without CUDA)."""
    if status()[0]:
        _generator(None, "seed").seed()


def seed_all() -> None:
    """Seed every CUDA device's default generator with one seed from the OS's entropy (a no-op without CUDA)."""
    manual_seed_all(int.from_bytes(os.urandom(8), "little") >> 1)


def initial_seed() -> int:
    """The seed of the current CUDA device's default generator (RuntimeError without CUDA)."""
    return _generator(None, "initial_seed").initial_seed()


def get_rng_state(device="cuda"):
    """The state of `device`'s default generator as a uint8 CPU tensor (RuntimeError without CUDA)."""
    return _generator(device, "get_rng_state").get_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restore `device`'s default generator from `get_rng_state` (a no-op without CUDA)."""
    if status()[0]:
        _generator(device, "set_rng_state").set_state(new_state)


def get_rng_state_all() -> list:
    """The states of every CUDA device's default generator ([] without CUDA)."""
    return [get_rng_state(i) for i in range(status()[2])]


def set_rng_state_all(new_states) -> None:
    """Restore every CUDA device's default generator from `get_rng_state_all` (a no-op without CUDA)."""
    if status()[0]:
        for index, state in enumerate(new_states):
            set_rng_state(state, index)

