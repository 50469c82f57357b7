"""`cupy.random.Generator` over a "Philox4x3210" bit generator, simulated with numpy's PCG64. Its `_state`
is a fixed-size byte array on the "device" with cupy's `set`, as the real one (see the package docstring)."""
import numpy as _np


class _DeviceBytes(_np.ndarray):
    def set(self, arr):
        self[...] = arr
        self.owner._load(bytes(_np.asarray(self).view(_np.uint8)))


class Philox4x3210:
    def __init__(self, seed=None, *, size=-1):
        self._pcg = _np.random.PCG64(seed)

    @property
    def _state(self):
        s = self._pcg.state
        raw = (s["state"]["state"].to_bytes(16, "little") + s["state"]["inc"].to_bytes(16, "little")
               + bytes([s["has_uint32"]]) + int(s["uinteger"]).to_bytes(4, "little"))
        out = _np.frombuffer(raw, _np.int8).copy().view(_DeviceBytes)
        out.owner = self
        return out

    def _load(self, raw):
        self._pcg.state = {"bit_generator": "PCG64",
                           "state": {"state": int.from_bytes(raw[:16], "little"),
                                     "inc": int.from_bytes(raw[16:32], "little")},
                           "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:37], "little")}


class Generator:
    def __init__(self, bit_generator):
        self.bit_generator = bit_generator

    def _numpy(self):
        return _np.random.Generator(self.bit_generator._pcg)

    def random(self, size=None, dtype=_np.float64, out=None):
        return self._numpy().random(size, dtype=dtype)

    def standard_normal(self, size=None, dtype=_np.float64, out=None):
        return self._numpy().standard_normal(size, dtype=dtype)

    def integers(self, low, high=None, size=None, dtype=_np.int64, endpoint=False):
        return self._numpy().integers(low, high, size=size, dtype=dtype, endpoint=endpoint)
