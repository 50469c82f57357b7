"""The cupy backend's own code, run on a machine without a GPU: the conformance kit on `--backend cupy` over
fake_cupy, a numpy stand-in for cupy's API (arrays are numpy arrays, the CUDA runtime is simulated, kernel
bodies run on the CPU through the host C++ compiler). This checks the backend's plumbing (names, calling
conventions, random state, scatter-add, DLPack, transfers, several devices), not GPU semantics; a machine
with a GPU runs the same kit on the real cupy.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from host_kernels import CXX

pytestmark = [pytest.mark.no_device,
              pytest.mark.skipif(CXX is None, reason="no C++ compiler (g++ or c++) to run the kernels on the host")]

TESTS = pathlib.Path(__file__).resolve().parent


def _run(args: list[str], devices: int, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "fake_cupy"), str(TESTS)] + sys.path),
           "EMBER_FAKE_CUPY_DEVICES": str(devices), "EMBER_BACKEND": "cupy"}
    env.pop("EMBER_REQUIRE_DEVICE", None)
    return subprocess.run([sys.executable] + args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)


def test_the_kit_passes_on_the_cupy_backend_over_fake_cupy(tmp_path):
    run = _run(["-m", "pytest", "-p", "fake_cupy_plugin", "-p", "no:cacheprovider", "--pyargs", "ember.testing",
                "--backend", "cupy", "-q",
                # fake_cupy's arrays are numpy arrays, so DLPack reports them in host memory, not on a GPU
                "--deselect", "suite/test_dlpack.py::test_dlpack_device_names_the_memory_of_the_tensor"], 2, tmp_path)
    last = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0 and " passed" in last and "failed" not in last, run.stdout[-4000:] + run.stderr[-2000:]


def test_with_several_gpus_every_backend_method_runs_on_its_own_device(tmp_path):
    run = _run(["-c", textwrap.dedent("""
        import cupy, ember
        entered = []
        enter = cupy.cuda.Device.__enter__
        cupy.cuda.Device.__enter__ = lambda self: (entered.append(self.id), enter(self))[1]
        a = ember.ones(3, device="cuda:1")
        b = (a * 2 + a).sum()
        assert b.device == ember.device("cuda:1") and b.item() == 9.0
        assert entered and set(entered) == {1}, entered  # every op entered device 1, and only it
        assert cupy.cuda.get_device_id() == 0  # and left the current device as it was
        ember.cuda.set_device(1)
        assert ember.zeros(1, device="cuda").device == ember.device("cuda:1") and cupy.cuda.get_device_id() == 1
        with ember.cuda.device(0):
            assert ember.cuda.current_device() == 0 and ember.ones(1).cuda().device == ember.device("cuda:0")
        assert ember.cuda.current_device() == 1
        print("ok")
    """)], 2, tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_the_cuda_api_answers_through_the_backend_hooks(tmp_path):
    run = _run(["-c", textwrap.dedent("""
        import ember
        cuda = ember.cuda
        assert cuda.is_available() and cuda.device_count() == 2 and not cuda.is_initialized()
        assert cuda.get_device_name(1) == "Fake GPU 1" and cuda.get_device_capability() == (9, 0)
        props = cuda.get_device_properties(0)
        assert props.total_memory == 80 << 30 and "Fake GPU 0" in repr(props)
        cuda.manual_seed_all(3)
        a = ember.randn(4, device="cuda:1")
        state = cuda.get_rng_state(1)
        b = ember.randn(4, device="cuda:1")
        cuda.set_rng_state(state, 1)
        assert ember.randn(4, device="cuda:1").tolist() == b.tolist() != a.tolist()
        cuda.manual_seed_all(3)
        assert ember.randn(4, device="cuda:1").tolist() == a.tolist() and cuda.initial_seed() == 3
        assert cuda.is_initialized() and cuda.memory_allocated() == 0 and cuda.mem_get_info() == (60 << 30, 80 << 30)
        cuda.reset_peak_memory_stats()
        assert cuda.max_memory_allocated() == 0 and cuda.memory_stats()["allocated_bytes.all.peak"] == 0
        cuda.empty_cache()
        s = cuda.Stream(1)
        start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        with cuda.stream(s):
            start.record()
            ember.ones(3, device="cuda:1").sum()
            end.record()
        end.synchronize()
        assert start.elapsed_time(end) == 0.0 and s.query() and s.device == ember.device("cuda:1")
        assert cuda.current_stream().cuda_stream == 0 and cuda.default_stream() == cuda.current_stream()
        cuda.synchronize(1)
        print("ok")
    """)], 2, tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_dataloader_pin_memory_pins_every_cpu_tensor_of_a_batch_when_cuda_exists(tmp_path):
    run = _run(["-c", textwrap.dedent("""
        import warnings
        import ember
        from ember.utils.data import DataLoader, TensorDataset
        data = TensorDataset(ember.arange(12.0, device="cpu").reshape(6, 2), ember.arange(6, device="cpu"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            batches = list(DataLoader(data, batch_size=4, pin_memory=True))
        assert all(t.is_pinned() and t.device == ember.device("cpu") for b in batches for t in b)
        assert batches[0][0].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]
        x = ember.ones(2, device="cpu")
        assert not x.is_pinned() and x.pin_memory().is_pinned() and x.pin_memory().cuda().device.type == "cuda"
        print("ok")
    """)], 1, tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
