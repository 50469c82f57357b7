"""`ember.cuda`, `ember.backends.cudnn`/`mps` and the CUDA device errors, on a machine without a usable GPU.

Needs no GPU (every test is `no_device`, so it also runs in `tox -e cupy`): "no usable CUDA" is forced
where a test needs it, by giving the cupy backend's availability probe a known answer. PyTorch's answers
on a CPU-only machine are the reference: `is_available()` False, `device_count()` 0, seeding a silent
no-op, memory counts 0, and what needs a device raises.
"""
from __future__ import annotations

import importlib.machinery
import subprocess
import sys
import textwrap
import types

import pytest

import ember
from ember.backends import cupy_backend
from ember.backends.cupy_backend import CupyBackend

pytestmark = pytest.mark.no_device

REASON = "cupy is not installed; install it with `pip install ember[cupy]`"


@pytest.fixture
def no_cuda(monkeypatch):
    """CUDA unavailable for the test, for the reason "cupy is not installed"."""
    if ember.cuda.is_initialized():
        pytest.skip("this process already uses a CUDA device: a machine without one cannot be simulated")
    monkeypatch.setattr(CupyBackend, "_availability", (False, REASON, 0))


@pytest.fixture
def two_gpus_known(monkeypatch):
    """The cupy backend reports two GPUs (only what needs no device instance can be exercised)."""
    monkeypatch.setattr(CupyBackend, "_availability", (True, "", 2))


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---- no cupy import, no ImportError ----------------------------------------------------------------
def test_importing_ember_and_its_cuda_and_backends_namespaces_never_imports_cupy():
    out = _run("""
        import sys
        import ember, ember.cuda, ember.backends, ember.backends.cudnn, ember.backends.mps
        from ember.plugins import get_plugin_manager
        assert "cupy" in get_plugin_manager().backends.by_name  # the cupy backend is registered...
        ember.nn.Linear(2, 2)(ember.ones(1, 2)).sum().backward()
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("cupy", "cupyx")))  # ...and cupy not imported
    """)
    assert out.strip() == "[]"


def test_without_cupy_installed_cuda_answers_without_import_error():
    out = _run("""
        import sys
        sys.modules["cupy"] = None  # as if cupy were not installed
        import ember
        print(ember.cuda.is_available(), ember.cuda.device_count(), ember.cuda.memory_allocated())
        print(ember.cuda.unavailable_reason())
        try:
            ember.ones(2).cuda()
        except RuntimeError as exc:
            print(exc)
    """).splitlines()
    assert out[0] == "False 0 0"
    assert "cupy is not installed" in out[1] and "pip install ember[cupy]" in out[1]
    assert "cuda" in out[2] and "pip install ember[cupy]" in out[2]


# ---- the reasons ------------------------------------------------------------------------------------
def _fake_cupy(error: Exception | None, count: int = 0):
    def get_device_count():
        if error is not None:
            raise error
        return count
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count, runtimeGetVersion=lambda: 12090)
    cupy = types.ModuleType("cupy")
    cupy.__spec__ = importlib.machinery.ModuleSpec("cupy", None)
    cupy.cuda = types.SimpleNamespace(runtime=runtime)
    return cupy


@pytest.mark.parametrize("error, count, expected", [
    (RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version"), 0,
     "too old for the CUDA runtime 12.9"),
    (RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected"), 0, "no CUDA device found"),
    (RuntimeError("cudaErrorStubLibrary: CUDA driver is a stub library"), 0, "stub library"),
    (RuntimeError("cudaErrorUnknown: unknown error"), 0, "cudaErrorUnknown: unknown error"),
    (None, 0, "no CUDA device found"),
], ids=["driver too old", "no device", "stub driver", "other error", "zero devices"])
def test_an_unusable_cuda_runtime_gives_the_reason(monkeypatch, error, count, expected):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(error, count))
    ok, reason, n = cupy_backend._probe()
    assert (ok, n) == (False, 0) and expected in reason


def test_the_driver_reason_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("cudaErrorInsufficientDriver: old")))
    reason = cupy_backend._probe()[1]
    assert "update the NVIDIA driver" in reason and "cupy-cuda11x" in reason


def test_a_visible_devices_setting_is_named_when_no_device_is_found(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("cudaErrorNoDevice: no device")))
    assert "CUDA_VISIBLE_DEVICES=''" in cupy_backend._probe()[1]


def test_a_probe_that_finds_gpus_reports_them(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(None, 3))
    assert cupy_backend._probe() == (True, "", 3)


def test_cuda_tensors_and_the_cuda_functions_say_why_cuda_is_unavailable(no_cuda):
    for make in (lambda: ember.zeros(2, device="cuda"), lambda: ember.ones(2).cuda(),
                 lambda: ember.ones(2).to("cuda:0"), lambda: ember.nn.Linear(2, 2).cuda(), ember.cuda.synchronize,
                 ember.cuda.current_device):
        with pytest.raises(RuntimeError, match=r"pip install ember\[cupy\]"):
            make()


def test_the_unavailable_reason_is_empty_only_when_available(no_cuda):
    assert ember.cuda.unavailable_reason() == REASON


def test_a_device_index_past_the_last_gpu_is_refused_with_the_count(two_gpus_known):
    with pytest.raises(RuntimeError, match=r"cuda:2 does not exist.*2 cuda device"):
        ember.zeros(1, device="cuda:2")
    with pytest.raises(RuntimeError, match="invalid device index 5: there are 2 CUDA device"):
        ember.cuda.set_device(5)
    with pytest.raises(RuntimeError, match="invalid device index 7"):
        ember.cuda.get_device_name(7)


# ---- PyTorch's answers on a CPU-only machine ----------------------------------------------------------
RAISES = "raises"
CPU_ONLY_ANSWERS = {  # function -> what PyTorch does without CUDA (returns the value, or raises)
    "is_available": False, "device_count": 0, "is_initialized": False, "current_device": RAISES,
    "set_device(0)": RAISES, "set_device(-1)": None, "device(0)": RAISES, "device(-1)": None, "synchronize": RAISES,
    "manual_seed": None, "manual_seed_all": None, "seed": None, "seed_all": None, "initial_seed": RAISES,
    "get_rng_state": RAISES, "get_rng_state_all": [], "set_rng_state": None, "set_rng_state_all": None,
    "get_device_name": RAISES, "get_device_properties": RAISES, "get_device_capability": RAISES,
    "memory_allocated": 0, "max_memory_allocated": 0, "memory_reserved": 0, "max_memory_reserved": 0,
    "memory_stats": {}, "reset_peak_memory_stats": RAISES, "empty_cache": None, "mem_get_info": RAISES,
    "Stream": RAISES, "current_stream": RAISES, "default_stream": RAISES, "Event": RAISES, "stream(None)": None,
}


def _calls(cuda, state):
    def enter(ctx):
        with ctx:
            return None
    return {
        "is_available": cuda.is_available, "device_count": cuda.device_count, "is_initialized": cuda.is_initialized,
        "current_device": cuda.current_device, "set_device(0)": lambda: cuda.set_device(0),
        "set_device(-1)": lambda: cuda.set_device(-1), "device(0)": lambda: enter(cuda.device(0)),
        "device(-1)": lambda: enter(cuda.device(-1)), "synchronize": cuda.synchronize,
        "manual_seed": lambda: cuda.manual_seed(1), "manual_seed_all": lambda: cuda.manual_seed_all(1),
        "seed": cuda.seed, "seed_all": cuda.seed_all, "initial_seed": cuda.initial_seed,
        "get_rng_state": cuda.get_rng_state, "get_rng_state_all": cuda.get_rng_state_all,
        "set_rng_state": lambda: cuda.set_rng_state(state),
        "set_rng_state_all": lambda: cuda.set_rng_state_all([state]),
        "get_device_name": cuda.get_device_name, "get_device_properties": lambda: cuda.get_device_properties(0),
        "get_device_capability": cuda.get_device_capability, "memory_allocated": cuda.memory_allocated,
        "max_memory_allocated": cuda.max_memory_allocated, "memory_reserved": cuda.memory_reserved,
        "max_memory_reserved": cuda.max_memory_reserved, "memory_stats": cuda.memory_stats,
        "reset_peak_memory_stats": cuda.reset_peak_memory_stats, "empty_cache": cuda.empty_cache,
        "mem_get_info": cuda.mem_get_info, "Stream": cuda.Stream, "current_stream": cuda.current_stream,
        "default_stream": cuda.default_stream, "Event": cuda.Event, "stream(None)": lambda: enter(cuda.stream(None)),
    }


def _outcome(call, errors=(Exception,)):
    try:
        return call()
    except errors:
        return RAISES


@pytest.mark.parametrize("name", sorted(CPU_ONLY_ANSWERS))
def test_without_cuda_each_function_answers_as_pytorch_on_a_cpu_only_machine(no_cuda, name):
    call = _calls(ember.cuda, ember.zeros(16, dtype=ember.uint8))[name]
    want = CPU_ONLY_ANSWERS[name]
    if want is RAISES:
        with pytest.raises(RuntimeError, match="CUDA is not available: cupy is not installed"):
            call()
    else:
        assert call() == want


def test_the_table_of_answers_matches_the_installed_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (tox -e torch installs it)")
    if torch.cuda.is_available():
        pytest.skip("PyTorch sees a GPU here: its CPU-only answers cannot be observed")
    calls = _calls(torch.cuda, torch.zeros(16, dtype=torch.uint8))
    assert {name: _outcome(call) for name, call in calls.items()} == CPU_ONLY_ANSWERS


def test_set_device_refuses_a_cpu_device_as_pytorch():
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        ember.cuda.set_device("cpu")


# ---- devices -------------------------------------------------------------------------------------------
def test_cuda_device_strings_parse_without_a_gpu():
    assert ember.device("cuda:1") is ember.device("cuda", 1) and ember.device(1) is ember.device("cuda:1")
    assert str(ember.device("cuda")) == "cuda" and ember.device("cuda").index is None
    for bad in ("cuda:-1", "cuda:x", "cuda:0:1", "cu da"):
        with pytest.raises(ValueError):
            ember.device(bad)


def test_cuda_without_an_index_means_the_current_device_of_the_thread():
    from ember.device import current_index, set_current_index, tensor_device

    assert tensor_device(ember.device("cuda")) is ember.device("cuda:0")
    set_current_index("cuda", 1)
    try:
        assert tensor_device(ember.device("cuda")) is ember.device("cuda:1")
        assert tensor_device(ember.device("cuda:0")) is ember.device("cuda:0")
    finally:
        set_current_index("cuda", 0)
    assert current_index("cuda") == 0


def test_get_device_is_minus_one_on_the_cpu():
    assert ember.ones(1, device="cpu").get_device() == -1


# ---- ember.backends ------------------------------------------------------------------------------------
def test_backends_is_reachable_after_import_ember_with_pytorchs_flag_namespaces():
    cudnn, mps = ember.backends.cudnn, ember.backends.mps
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, False, False, True)
    assert cudnn.is_available() is False and cudnn.version() is None
    assert mps.is_available() is False and mps.is_built() is False
    assert ember.backends.Backend is ember.backends.base.Backend


def test_cudnn_flags_can_be_set_and_flags_restores_them(monkeypatch):
    cudnn = ember.backends.cudnn
    monkeypatch.setattr(cudnn, "benchmark", cudnn.benchmark)
    cudnn.benchmark = True
    assert ember.backends.cudnn.benchmark is True
    with cudnn.flags(enabled=False, deterministic=True):
        assert (cudnn.enabled, cudnn.deterministic, cudnn.benchmark) == (False, True, False)
    assert (cudnn.enabled, cudnn.deterministic, cudnn.benchmark) == (True, False, True)


def test_the_flag_namespaces_match_pytorchs_defaults():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (tox -e torch installs it)")
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ember.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    if not torch.backends.mps.is_available():
        assert ember.backends.mps.is_available() == torch.backends.mps.is_available()


def test_pin_memory_without_cuda_warns_in_the_dataloader_and_raises_on_a_tensor():
    from ember.utils.data import DataLoader, TensorDataset

    data = TensorDataset(ember.arange(4.0, device="cpu"))
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        batches = list(DataLoader(data, batch_size=2, pin_memory=True))
    assert [b[0].tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0]] and not batches[0][0].is_pinned()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.ones(2, device="cpu").pin_memory()
