"""Random number generators: one default generator per device (type and index), seeded by `manual_seed`."""
from __future__ import annotations

import os
import threading

from . import dtypes
from ._tensor_base import _wrap
from .device import as_device, device as device_cls

_DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed
_defaults: dict = {}
_lock = threading.Lock()
_initial_seed = _DEFAULT_SEED


class Generator:
    """A random stream on one device, as `torch.Generator`: `manual_seed`, `seed`, `get_state`."""

    def __init__(self, device="cpu") -> None:
        self.device = as_device(device)
        self._bk = self.device.backend
        self._seed = _DEFAULT_SEED
        self.native = self._bk.new_generator(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset the stream from `seed`; returns self."""
        seed = int(seed)
        if not -(2 ** 63) <= seed < 2 ** 64:
            raise RuntimeError(f"Overflow when unpacking long: seed {seed} is out of range")
        self._seed = seed % (2 ** 64)
        self.native = self._bk.new_generator(self._seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed used."""
        s = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 tensor on the CPU."""
        import numpy as np

        cpu = as_device("cpu")
        state = np.frombuffer(self._bk.generator_state(self.native), dtype=np.uint8).copy()
        return _wrap(cpu.backend.asarray(state, dtypes.uint8), cpu.backend, cpu, dtypes.uint8)

    def set_state(self, state) -> Generator:
        """Restore a state from `get_state`."""
        self._bk.set_generator_state(self.native, bytes(state.numpy().tobytes()))
        return self


def default_generator_for(device) -> Generator:
    """The default generator of `device` (one per device index; created and seeded on first use)."""
    dev = as_device(device)
    gen = _defaults.get(dev)
    if gen is None:
        with _lock:
            gen = _defaults.get(dev)
            if gen is None:
                gen = Generator(dev).manual_seed(_initial_seed)
                _defaults[dev] = gen
    return gen


def generator_for(device, generator) -> Generator:
    """`generator` (checked to be on `device`) or the device's default generator."""
    if generator is None:
        return default_generator_for(device)
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    dev = device if isinstance(device, device_cls) else as_device(device)
    if generator.device is not dev:
        raise RuntimeError(f"Expected a '{dev}' device generator but found one on '{generator.device}'; "
                           f"create it with ember.Generator(device={str(dev)!r})")
    return generator


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator; returns the CPU one. The same seed gives the same numbers."""
    global _initial_seed
    _initial_seed = int(seed)
    with _lock:
        gens = list(_defaults.values())
    for gen in gens:
        gen.manual_seed(seed)
    return default_generator_for("cpu")


def seed() -> int:
    """Seed the default generators non-deterministically; returns the seed."""
    s = int.from_bytes(os.urandom(8), "little") >> 1
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed of the CPU default generator."""
    return default_generator_for("cpu").initial_seed()


def get_rng_state():
    """The CPU default generator's state (a uint8 tensor)."""
    return default_generator_for("cpu").get_state()


def set_rng_state(state) -> None:
    """Restore the CPU default generator from `get_rng_state`."""
    default_generator_for("cpu").set_state(state)
