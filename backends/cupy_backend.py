"""The cupy backend: ember's "cuda" device type. Registered through the same pluggy hook as third-party backends.

cupy is imported when a CUDA device is first used (or `is_available()` first asks), never when
this module is imported. One backend instance serves one GPU (`cupy.cuda.Device(index)`). What
differs from numpy lives here; everything else is the shared array-module code of
`ArrayKernels`:

- host transfer: `cupy.asarray` (host to device) and `cupy.asnumpy` (device to host, a copy);
- placement: cupy launches kernels and allocates on the *current* device. On a machine with one
  GPU that is always this backend's device, so calls go straight to cupy; with several GPUs every
  interface method of an instance runs inside `with cupy.cuda.Device(index)`;
- random numbers: `cupy.random.Generator` over a `Philox4x3210` bit generator per device. Its
  state is the cuRAND state array on the device, exported whole (about 2 MB) by
  `generator_state` (cupy's generators have no state API; the array is the bit generator's
  `_state` attribute). cupy's Generator has no `permutation` or `choice`, so permutations and
  multinomial draws use the interface's default bodies (sorting uniform keys);
- `index_add`/`scatter_add` through `cupyx.scatter_add` (atomic adds: float sums may differ in
  the last bits from run to run), `erf` from `cupyx.scipy.special`;
- the optimizer updates (`sgd_step`, `adam_step`), `sigmoid` and the activation gradients
  (`relu_backward`, `sigmoid_backward`, `tanh_backward`) as single `ElementwiseKernel` launches
  for float32/float64 (compiled on first use and cached by cupy per dtype and device);
- for `ember.compile`, one generated `ElementwiseKernel` per chain of elementwise calls
  (`fuse_elementwise`, source from `cupy_fusion.py`), cached by its source;
- the CUDA runtime questions `ember.cuda` asks (current device, properties, memory, streams,
  events): the "CUDA runtime hooks" at the end of `CupyBackend`.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from contextlib import AbstractContextManager
from typing import Any

from ember.plugins.hookspecs import hookimpl

from .array_kernels import ArrayKernels
from .base import tiers
from .cupy_fusion import kernel_source
from .derived import DerivedPrimitives

_STATE_MAGIC = b"ember-cupy-philox4x3210:"

# name -> (in_params, out_params, body) of the ElementwiseKernels (float32/float64 only)
KERNELS = {
    "relu_backward": ("T grad, T out", "T y", "y = out > (T)0 ? grad : (T)0"),
    "sigmoid_backward": ("T grad, T out", "T y", "y = grad * out * ((T)1 - out)"),
    "tanh_backward": ("T grad, T out", "T y", "y = grad * ((T)1 - out * out)"),
    "sigmoid": ("T a", "T y", "T e = exp(-fabs(a)); T r = (T)1 / (e + (T)1); y = a < (T)0 ? e * r : r"),
    "sgd": ("T grad, T lr, T weight_decay, bool maximize", "T param",
            "T d = maximize ? -grad : grad;"
            "if (weight_decay != (T)0) d = param * weight_decay + d;"
            "param = param - d * lr"),
    "sgd_momentum": ("T grad, T lr, T momentum, T one_minus_dampening, T weight_decay, bool nesterov, bool maximize, "
                     "bool first", "T param, T buf",
                     "T d = maximize ? -grad : grad;"
                     "if (weight_decay != (T)0) d = param * weight_decay + d;"
                     "buf = first ? d : buf * momentum + d * one_minus_dampening;"
                     "T u = nesterov ? buf * momentum + d : buf;"
                     "param = param - u * lr"),
}
_ADAM_IN = ("T grad, T lr_decay, T weight_decay, T one_minus_beta1, T beta2, T one_minus_beta2, "
            "T bias_correction2_sqrt, T eps, T step_size, bool maximize, bool decoupled")


def _adam_body(amsgrad: bool) -> str:
    """`FusedKernels.adam_step`'s arithmetic, in its order, for one element."""
    second = "exp_avg_sq"
    if amsgrad:  # numpy's maximum: a NaN in either wins
        second = "max_exp_avg_sq"
        keep_max = ("max_exp_avg_sq = (isnan(max_exp_avg_sq) || max_exp_avg_sq > exp_avg_sq) ? max_exp_avg_sq "
                    ": exp_avg_sq;")
    return ("T g = maximize ? -grad : grad;"
            "if (weight_decay != (T)0) { if (decoupled) param = param * lr_decay; else g = param * weight_decay + g; }"
            "exp_avg = exp_avg + (g - exp_avg) * one_minus_beta1;"
            "exp_avg_sq = exp_avg_sq * beta2 + g * g * one_minus_beta2;"
            + (keep_max if amsgrad else "")
            + f"param = param - exp_avg / (sqrt({second}) / bias_correction2_sqrt + eps) * step_size")


KERNELS["adam"] = (_ADAM_IN, "T param, T exp_avg, T exp_avg_sq", _adam_body(False))
KERNELS["adam_amsgrad"] = (_ADAM_IN, "T param, T exp_avg, T exp_avg_sq, T max_exp_avg_sq", _adam_body(True))

# dtypes cupyx.scatter_add (CUDA atomicAdd) supports; others accumulate in int32 and cast back
_ATOMIC_ADD_DTYPES = frozenset({"float16", "float32", "float64", "int32", "uint32", "int64", "uint64"})


def _cuda_version(code: int) -> str:
    return f"{code // 1000}.{code % 1000 // 10}"


def _runtime_error_reason(runtime, exc: Exception) -> str:
    """A reason a person can act on for a CUDA runtime error raised while counting devices."""
    name = str(exc).split(":", 1)[0].strip()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    hidden = f" (CUDA_VISIBLE_DEVICES={visible!r} may hide them)" if visible is not None else ""
    if name == "cudaErrorInsufficientDriver":
        try:
            runtime_version = f" {_cuda_version(runtime.runtimeGetVersion())}"
        except Exception:
            runtime_version = ""
        return (f"NVIDIA driver missing, or too old for the CUDA runtime{runtime_version} of the installed cupy "
                f"(cudaErrorInsufficientDriver): install or update the NVIDIA driver, or install the cupy wheel "
                f"built for the CUDA version your driver supports (e.g. cupy-cuda11x)")
    if name == "cudaErrorNoDevice":
        return f"no CUDA device found{hidden} (cudaErrorNoDevice)"
    if name == "cudaErrorStubLibrary":
        return "the CUDA driver found is a stub library, not a real NVIDIA driver (cudaErrorStubLibrary)"
    return f"CUDA runtime error while counting devices: {exc}"


def _probe() -> tuple[bool, str, int]:
    """(available, reason, device count) of CUDA through cupy, without raising."""
    if importlib.util.find_spec("cupy") is None:
        return False, "cupy is not installed; install it with `pip install ember[cupy]`", 0
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:
        return False, (f"cupy is installed but fails to import ({type(exc).__name__}: {exc}); reinstall it with "
                       f"`pip install --force-reinstall ember[cupy]`"), 0
    runtime = cupy.cuda.runtime
    try:
        count = runtime.getDeviceCount()
    except RuntimeError as exc:  # CUDARuntimeError derives from RuntimeError
        return False, _runtime_error_reason(runtime, exc), 0
    if count == 0:
        return False, "no CUDA device found (the CUDA runtime reports 0 devices)", 0
    return True, "", count


def _on_device(device, fn):
    """`fn` run with `device` (a cupy.cuda.Device) as the current device."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        with device:
            return fn(*args, **kwargs)
    return call


class CupyBackend(ArrayKernels):
    """NVIDIA GPUs through cupy; one instance per device index."""

    name = "cupy"
    device_type = "cuda"
    array_module = "cupy"
    shares_host_memory = False

    _availability: tuple[bool, str, int] | None = None  # probed once per process

    def __init__(self, index: int | None = None) -> None:
        super().__init__(0 if index is None else index)
        cupy = self.xp
        self._device = cupy.cuda.Device(self.index)
        self._kernels: dict[str, Any] = {}
        self._erf = None
        self._peak = None
        memory = cupy.cuda.memory
        self._owned_memory = (memory.PooledMemory, memory.Memory, memory.MemoryAsync)
        if self.device_count() > 1:  # another GPU may be current: pin every interface method to ours
            for name in set(tiers()["required"] + tiers()["derived"] + tiers()["fused"]) - {"is_available",
                                                                                            "device_count"}:
                setattr(self, name, _on_device(self._device, getattr(self, name)))

    def _kernel(self, name: str):
        k = self._kernels.get(name)
        if k is None:
            k = self._kernels[name] = self.xp.ElementwiseKernel(*KERNELS[name], f"ember_{name}")
        return k

    # ---- devices ----
    @classmethod
    def _probe(cls) -> tuple[bool, str, int]:
        if cls._availability is None:
            cls._availability = _probe()
        return cls._availability

    @classmethod
    def is_available(cls) -> tuple[bool, str]:
        ok, reason, _ = cls._probe()
        return ok, reason

    @classmethod
    def device_count(cls) -> int:
        return cls._probe()[2]

    def library_version(self) -> str:
        runtime = self.xp.cuda.runtime
        return f"cupy {self.xp.__version__} (CUDA runtime {_cuda_version(runtime.runtimeGetVersion())}, " \
               f"driver {_cuda_version(runtime.driverGetVersion())})"

    def synchronize(self) -> None:
        self._device.synchronize()

    def owns_memory(self, a) -> bool:
        # a view has a base; memory cupy did not allocate (DLPack imports) belongs to someone else
        return a.base is None and type(a.data.mem) in self._owned_memory

    # ---- transfer ----
    def to_numpy(self, a):
        return self.xp.asnumpy(a)

    def from_dlpack(self, obj):
        device_type = obj.__dlpack_device__()[0]
        if device_type in (2, 13):  # kDLCUDA, kDLCUDAManaged: share the memory
            return self.xp.from_dlpack(obj)
        return DerivedPrimitives.from_dlpack(self, obj)

    # ---- random ----
    def new_generator(self, seed: int):
        random = self.xp.random
        return random.Generator(random.Philox4x3210(seed))

    def generator_state(self, gen) -> bytes:
        return _STATE_MAGIC + self.xp.asnumpy(gen.bit_generator._state).tobytes()

    def set_generator_state(self, gen, state: bytes) -> None:
        import numpy

        target = gen.bit_generator._state
        payload = bytes(state)
        if not payload.startswith(_STATE_MAGIC) or len(payload) - len(_STATE_MAGIC) != target.nbytes:
            raise ValueError(f"not a state of a cupy Philox4x3210 generator on this device: expected "
                             f"{len(_STATE_MAGIC) + target.nbytes} bytes from Generator.get_state() on cuda:"
                             f"{self.index}, got {len(payload)}")
        target.set(numpy.frombuffer(payload, dtype=target.dtype, offset=len(_STATE_MAGIC)))

    permutation = DerivedPrimitives.permutation  # cupy's Generator has no permutation
    multinomial = DerivedPrimitives.multinomial  # nor choice

    # ---- elementwise ----
    def erf(self, a, out=None):
        if self._erf is None:
            self._erf = importlib.import_module("cupyx.scipy.special").erf
        r = self._erf(a)
        if r.dtype != a.dtype:
            r = r.astype(a.dtype)
        if out is None:
            return r
        out[...] = r
        return out

    def sigmoid(self, a):
        if a.dtype.char not in "fd":
            return super().sigmoid(a)
        return self._kernel("sigmoid")(a)

    def relu_backward(self, grad, out):
        if grad.dtype.char not in "fd":
            return super().relu_backward(grad, out)
        return self._kernel("relu_backward")(grad, out)

    def sigmoid_backward(self, grad, out):
        if grad.dtype.char not in "fd":
            return super().sigmoid_backward(grad, out)
        return self._kernel("sigmoid_backward")(grad, out)

    def tanh_backward(self, grad, out):
        if grad.dtype.char not in "fd":
            return super().tanh_backward(grad, out)
        return self._kernel("tanh_backward")(grad, out)

    def fuse_elementwise(self, chain):
        source = kernel_source(chain)
        if source is None:
            return None
        kernel = self._kernels.get(source[3])
        if kernel is None:
            kernel = self._kernels[source[3]] = self.xp.ElementwiseKernel(*source)

        def fused(*inputs, out=None):
            return kernel(*inputs) if out is None else kernel(*inputs, out)
        return _on_device(self._device, fused) if self.device_count() > 1 else fused

    # ---- indexing ----
    def index_add(self, a, key, values):
        xp = self.xp
        if a.dtype.name in _ATOMIC_ADD_DTYPES:
            out = a.copy()
            self._scatter_add()(out, key, values)
            return out
        wide = a.astype(xp.int32)  # int8/uint8/int16/bool: wraps (or ors) exactly as numpy's add.at
        self._scatter_add()(wide, key, xp.asarray(values).astype(xp.int32))
        return wide.astype(a.dtype)

    def _scatter_add(self):
        return importlib.import_module("cupyx").scatter_add

    scatter_add = DerivedPrimitives.scatter_add  # index_add with broadcast index grids (no numpy-only indices())

    # ---- optimizer updates: one kernel launch per parameter ----
    def sgd_step(self, param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                 maximize):
        if param.dtype.char not in "fd":
            return super().sgd_step(param, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
                                    weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        if momentum == 0:
            self._kernel("sgd")(grad, lr, weight_decay, maximize, param)
            return None
        first = momentum_buffer is None
        buf = self.xp.empty_like(param) if first else momentum_buffer
        self._kernel("sgd_momentum")(grad, lr, momentum, 1 - dampening, weight_decay, nesterov, maximize, first,
                                     param, buf)
        return buf

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
                  weight_decay, decoupled_weight_decay, maximize):
        if param.dtype.char not in "fd":
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr,
                                     beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                                     decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        scalars = (grad, 1 - lr * weight_decay, weight_decay, 1 - beta1, beta2, 1 - beta2,
                   (1 - beta2 ** step) ** 0.5, eps, lr / (1 - beta1 ** step), maximize, decoupled_weight_decay)
        if max_exp_avg_sq is None:
            self._kernel("adam")(*scalars, param, exp_avg, exp_avg_sq)
        else:
            self._kernel("adam_amsgrad")(*scalars, param, exp_avg, exp_avg_sq, max_exp_avg_sq)

    # ---- CUDA runtime hooks (called by ember.cuda; not part of the generic interface) ----
    @classmethod
    def set_current_device(cls, index: int) -> None:
        """Make GPU `index` cupy's current device on this thread (so cupy code outside ember follows)."""
        importlib.import_module("cupy").cuda.Device(index).use()

    def device_properties(self) -> dict:
        """name, major, minor, total_memory (bytes), multi_processor_count, is_integrated, is_multi_gpu_board."""
        p = self.xp.cuda.runtime.getDeviceProperties(self.index)
        name = p["name"]
        return {"name": name.decode() if isinstance(name, bytes) else str(name), "major": p["major"],
                "minor": p["minor"], "total_memory": p["totalGlobalMem"],
                "multi_processor_count": p["multiProcessorCount"], "is_integrated": bool(p["integrated"]),
                "is_multi_gpu_board": bool(p["isMultiGpuBoard"])}

    def mem_get_info(self) -> tuple[int, int]:
        """(free, total) bytes of device memory, as the driver reports them."""
        with self._device:
            return self.xp.cuda.runtime.memGetInfo()

    def memory_stats(self) -> dict[str, int]:
        """Bytes of cupy's memory pool on this device: "allocated" (held by arrays), "reserved" (held by
        the pool), and their peaks since tracking started ("peak_allocated", "peak_reserved"; the
        current values until `reset_peak_memory_stats` is first called)."""
        with self._device:
            pool = self.xp.get_default_memory_pool()
            allocated, reserved = pool.used_bytes(), pool.total_bytes()
        peak = self._peak
        if peak is None:
            return {"allocated": allocated, "reserved": reserved, "peak_allocated": allocated,
                    "peak_reserved": reserved}
        return {"allocated": allocated, "reserved": reserved,
                "peak_allocated": max(peak.peak_allocated, allocated), "peak_reserved": max(peak.peak_reserved,
                                                                                            reserved)}

    def reset_peak_memory_stats(self) -> None:
        """Restart the peaks from the current values; the first call starts tracking on the calling
        thread (a cupy memory hook: one Python callback per allocation and free from then on)."""
        with self._device:
            pool = self.xp.get_default_memory_pool()
            allocated, reserved = pool.used_bytes(), pool.total_bytes()
        if self._peak is None:
            self._peak = _peak_tracker(self.xp)(self.index, pool)
            self._peak.__enter__()
        self._peak.restart(allocated, reserved)

    def pinned_empty(self, shape: tuple[int, ...], dtype):
        """A host numpy array of `shape` and ember `dtype` in page-locked memory (copies to the GPU from it
        can run asynchronously)."""
        import numpy

        return importlib.import_module("cupyx").empty_pinned(shape, dtype=numpy.dtype(dtype.name))

    def empty_cache(self) -> None:
        """Return the pool's unused blocks to the driver."""
        with self._device:
            self.xp.get_default_memory_pool().free_all_blocks()

    def new_stream(self, priority: int = 0):
        """A new non-default stream on this device (lower `priority` runs first, as in CUDA)."""
        with self._device:
            return self.xp.cuda.Stream(non_blocking=True, priority=priority)

    def current_stream(self):
        """The stream ember's and cupy's work on this device is queued on, on this thread."""
        with self._device:
            return self.xp.cuda.get_current_stream()

    def default_stream(self):
        """The device's legacy default (null) stream."""
        return self.xp.cuda.Stream.null

    @staticmethod
    def use_stream(stream) -> AbstractContextManager:
        """A context manager that makes `stream` current on its device for the calling thread."""
        return stream

    @staticmethod
    def set_current_stream(stream) -> None:
        """Make `stream` current for the calling thread."""
        stream.use()

    @staticmethod
    def stream_handle(stream) -> int:
        """The raw `cudaStream_t` of `stream`."""
        return stream.ptr

    @staticmethod
    def stream_synchronize(stream) -> None:
        stream.synchronize()

    @staticmethod
    def stream_query(stream) -> bool:
        """Whether all work queued on `stream` has completed."""
        return stream.done

    @staticmethod
    def stream_wait_event(stream, event) -> None:
        """Make future work on `stream` wait for `event`."""
        stream.wait_event(event)

    def new_event(self, enable_timing: bool, blocking: bool, interprocess: bool):
        with self._device:
            return self.xp.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)

    @staticmethod
    def event_record(event, stream) -> None:
        event.record(stream)

    @staticmethod
    def event_synchronize(event) -> None:
        event.synchronize()

    @staticmethod
    def event_query(event) -> bool:
        return event.done

    def event_elapsed_time(self, start, end) -> float:
        """Milliseconds between two recorded timing events."""
        return self.xp.cuda.get_elapsed_time(start, end)


def _peak_tracker(cupy) -> type:
    """The memory hook class that follows allocated/reserved bytes of one device (built on first use,
    so that importing this module never imports cupy)."""
    class PeakMemoryHook(cupy.cuda.MemoryHook):
        def __init__(self, device_id: int, pool) -> None:
            self.name = f"ember_peak_memory_cuda{device_id}"  # hooks are registered by name, per thread
            self.device_id, self.pool = device_id, pool
            self.allocated = self.peak_allocated = self.peak_reserved = 0

        def restart(self, allocated: int, reserved: int) -> None:
            self.allocated = self.peak_allocated = allocated
            self.peak_reserved = reserved

        def malloc_postprocess(self, **kw) -> None:
            if kw["device_id"] == self.device_id and kw["mem_ptr"]:
                self.allocated += kw["mem_size"]
                if self.allocated > self.peak_allocated:
                    self.peak_allocated = self.allocated

        def free_postprocess(self, **kw) -> None:
            if kw["device_id"] == self.device_id:
                self.allocated -= kw["mem_size"]

        def alloc_postprocess(self, **kw) -> None:
            if kw["device_id"] == self.device_id and kw["mem_ptr"]:  # runs on that device: the pool answers for it
                self.peak_reserved = max(self.peak_reserved, self.pool.total_bytes())
    return PeakMemoryHook


@hookimpl
def ember_register_backends(registry) -> None:
    registry.add_backend(CupyBackend)
