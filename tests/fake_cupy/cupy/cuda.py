"""`cupy.cuda` simulated: devices, runtime, memory classes, streams and events (see the package docstring)."""
import os
import threading
import types

_local = threading.local()


def _count():
    return int(os.environ.get("EMBER_FAKE_CUPY_DEVICES", "1"))


def get_device_id():
    return getattr(_local, "device", 0)


class Device:
    def __init__(self, device=None):
        self.id = get_device_id() if device is None else int(device)
        self._stack = []

    def __enter__(self):
        self._stack.append(get_device_id())
        _local.device = self.id
        return self

    def __exit__(self, *exc):
        _local.device = self._stack.pop()

    def use(self):
        _local.device = self.id

    def synchronize(self):
        pass


class CUDARuntimeError(RuntimeError):
    pass


def _properties(device):
    return {"name": f"Fake GPU {device}".encode(), "major": 9, "minor": 0, "totalGlobalMem": 80 << 30,
            "multiProcessorCount": 132, "integrated": 0, "isMultiGpuBoard": 0}


runtime = types.SimpleNamespace(
    getDeviceCount=_count, getDevice=get_device_id, runtimeGetVersion=lambda: 12090, driverGetVersion=lambda: 12090,
    getDeviceProperties=_properties, memGetInfo=lambda: (60 << 30, 80 << 30), CUDARuntimeError=CUDARuntimeError)


class _Memory:
    pass


memory = types.SimpleNamespace(PooledMemory=type("PooledMemory", (_Memory,), {}),
                               Memory=type("Memory", (_Memory,), {}), MemoryAsync=type("MemoryAsync", (_Memory,), {}))


class MemoryHook:
    name = "MemoryHook"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class Stream:
    null = None

    def __init__(self, null=False, non_blocking=False, priority=0):
        self.ptr = 0 if null else id(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def use(self):
        pass

    def synchronize(self):
        pass

    @property
    def done(self):
        return True

    def wait_event(self, event):
        pass


Stream.null = Stream(null=True)


def get_current_stream(device_id=-1):
    return Stream.null


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.done = True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


def get_elapsed_time(start, end):
    return 0.0
