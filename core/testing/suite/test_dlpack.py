"""DLPack: `Tensor.__dlpack__`/`__dlpack_device__`, `ember.from_dlpack` and `ember.utils.dlpack`, on the
backend under test. Exchanges with numpy (and PyTorch, when installed) need the data in host memory:
on a device whose arrays live elsewhere (a GPU) those tests skip by that capability."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils.dlpack import DLDeviceType, from_dlpack, to_dlpack


def _host_tensor(device, requires_grad=False):
    t = ember.arange(6.0, device=device).reshape(2, 3)
    if t.__dlpack_device__()[0] != DLDeviceType.kDLCPU:
        pytest.skip(f"{device} tensors are not in host memory: numpy cannot read them through DLPack")
    return t.requires_grad_() if requires_grad else t


def test_dlpack_device_names_the_memory_of_the_tensor(device):
    kind, index = ember.ones(2, device=device).__dlpack_device__()
    if device.type == "cuda":
        assert (kind, index) == (DLDeviceType.kDLCUDA, device.index)
    elif device.type == "cpu":
        assert (kind, index) == (DLDeviceType.kDLCPU, 0)


def test_numpy_reads_a_tensor_through_dlpack_without_a_copy(device):
    t = _host_tensor(device)
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, [[0, 1, 2], [3, 4, 5]])
    if a.flags.writeable:
        a[0, 0] = 100
        assert t[0, 0].item() == 100


def test_a_strided_view_exports_its_layout(device):
    t = _host_tensor(device)
    np.testing.assert_array_equal(np.from_dlpack(t.T), [[0, 3], [1, 4], [2, 5]])


def test_a_tensor_round_trips_through_a_capsule_to_the_host(device):
    t = _host_tensor(device)
    back = from_dlpack(to_dlpack(t))
    assert back.device == ember.device("cpu") and back.dtype is ember.float32
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_a_capsule_is_consumed_once(device):
    capsule = to_dlpack(_host_tensor(device))
    from_dlpack(capsule)
    with pytest.raises(ValueError, match="consumed only once"):
        from_dlpack(capsule)


def test_a_tensor_that_requires_grad_is_not_exported(device):
    with pytest.raises(BufferError, match="detach"):
        ember.ones(2, device=device, requires_grad=True).__dlpack__()


def test_from_dlpack_to_the_device_under_test_copies_the_values(device):
    a = np.arange(4, dtype=np.int32)
    t = ember.from_dlpack(a, device=device)
    assert t.device == device and t.dtype is ember.int32 and t.tolist() == [0, 1, 2, 3]


def test_the_backend_imports_a_host_array(device):
    bk = device.backend
    for host in (np.arange(6.0).reshape(2, 3), np.array([True, False]), np.arange(3, dtype=np.int64)):
        np.testing.assert_array_equal(bk.to_numpy(bk.from_dlpack(host)), host)


@pytest.mark.no_device
def test_from_dlpack_of_a_numpy_array_shares_its_memory():
    a = np.arange(4.0)
    t = ember.from_dlpack(a)
    a[0] = 9.0
    assert t.device == ember.device("cpu") and t.dtype is ember.float64 and t[0].item() == 9.0
    assert ember.utils.dlpack.from_dlpack is ember.from_dlpack


@pytest.mark.no_device
def test_from_dlpack_copy_and_device_arguments():
    a = np.ones(3, dtype=np.float32)
    copied = ember.from_dlpack(a, copy=True)
    a[0] = 5.0
    assert copied[0].item() == 1.0
    with pytest.raises(ValueError, match="copy=False"):
        ember.from_dlpack(np.ones(2), device="reference", copy=False)


@pytest.mark.no_device
def test_from_dlpack_refuses_what_is_not_dlpack():
    with pytest.raises(TypeError, match="__dlpack__"):
        ember.from_dlpack([1, 2, 3])


def test_torch_and_ember_share_memory_both_ways(device):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (tox -e torch installs it)")
    t = _host_tensor(device)
    shared = torch.from_dlpack(t)
    shared[0, 0] = 7.0
    assert t[0, 0].item() == 7.0
    source = torch.arange(3.0)
    mine = ember.from_dlpack(source)
    source[1] = -1.0
    assert mine.tolist() == [0.0, -1.0, 2.0]
