"""DataLoader workers hand large CPU tensors over in shared memory blocks (ember.utils.data.shared_batches):
zero-copy batches, blocks reused only once free, and nothing left in /dev/shm however the loader ends."""
import gc
import mmap
import os
import pathlib
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset, TensorDataset, shared_batches

pytestmark = pytest.mark.skipif(
    not shared_batches.available() or not ember.tensor([0.0])._bk.shares_host_memory,
    reason="needs POSIX shared memory on Linux and a CPU backend sharing host memory",
)

FEATURES = 64  # 128 x 64 float32 = 32 KiB per batch: at the shared memory threshold
SHM = pathlib.Path("/dev/shm")


def _blocks(pid: int | None = None) -> list[str]:
    """The names of this (or ``pid``'s) DataLoader blocks still in /dev/shm."""
    return sorted(p.name for p in SHM.glob(f"ember_{pid or os.getpid()}_*"))


def _data(n: int = 1024) -> np.ndarray:
    return np.arange(n * FEATURES, dtype=np.float32).reshape(n, FEATURES)


def _mapped(t: ember.Tensor) -> bool:
    """Whether the tensor's memory is a shared memory mapping (the array's base chain ends in an mmap)."""
    base = t.numpy()
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


class Crashing(Dataset):
    """Kills its worker process at index ``crash_at``."""

    def __init__(self, data: np.ndarray, crash_at: int) -> None:
        self.data, self.crash_at = data, crash_at

    def __getitem__(self, i):
        if i == self.crash_at:
            os._exit(3)
        return ember.from_numpy(self.data[i])

    def __len__(self) -> int:
        return len(self.data)


class FailsInMainProcess:
    """Unpickling it raises in the main process (and pickles fine in the worker)."""

    def __reduce__(self):
        return _fail_in_main, ()


def _fail_in_main():
    raise ValueError("cannot rebuild here")


def _with_unrebuildable(batch):
    return (ember.from_numpy(np.stack([s.numpy() for s in batch])), FailsInMainProcess())


def _with_unpicklable(batch):
    return (ember.from_numpy(np.stack([s.numpy() for s in batch])), lambda: None)


def test_large_batches_arrive_equal_and_without_a_copy():
    x = _data()
    batches = list(DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=128, num_workers=2))
    assert len(batches) == 8
    for i, (b,) in enumerate(batches):
        np.testing.assert_array_equal(b.numpy(), x[i * 128:(i + 1) * 128])
        assert b.dtype == ember.float32 and b.shape == (128, FEATURES)
        assert _mapped(b)
    assert _blocks() == []


def test_small_tensors_stay_in_the_pickle():
    x = _data()[:, :8]  # 4 KiB batches, below the threshold
    (b,) = next(iter(DataLoader(TensorDataset(ember.from_numpy(np.ascontiguousarray(x))), batch_size=128,
                                num_workers=1)))
    np.testing.assert_array_equal(b.numpy(), x[:128])
    assert not _mapped(b)


def test_a_kept_batch_is_not_overwritten_by_later_ones():
    x = _data(128 * 40)
    loader = DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=128, num_workers=2)
    kept = []
    for i, (b,) in enumerate(loader):
        if i % 7 == 0:
            kept.append((i, b, b.numpy().copy()))
        if i % 2 == 0:
            gc.collect()
    for i, b, expected in kept:
        np.testing.assert_array_equal(b.numpy(), expected)
        np.testing.assert_array_equal(expected, x[i * 128:(i + 1) * 128])


def test_keeping_every_batch_past_the_pool_size_falls_back_to_pickling():
    n = 128 * (2 * shared_batches.POOL_BLOCKS + 6)
    x = _data(n)
    batches = list(DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=128, num_workers=1))
    np.testing.assert_array_equal(np.concatenate([b.numpy() for (b,) in batches]), x)
    mapped = sum(_mapped(b) for (b,) in batches)
    assert mapped == shared_batches.POOL_BLOCKS
    assert _blocks() == []


def test_freed_blocks_are_reused():
    x = _data(128 * 100)
    loader = DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=128, num_workers=2)
    for (b,) in loader:  # 100 batches in 2 pools of POOL_BLOCKS blocks: only if freed blocks are reused
        assert _mapped(b)
        del b


def test_breaking_out_of_an_epoch_leaves_no_blocks():
    loader = DataLoader(TensorDataset(ember.from_numpy(_data())), batch_size=128, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    next(it)
    time.sleep(0.3)  # the workers fill their prefetched blocks
    del it
    gc.collect()
    assert _blocks() == []


def test_persistent_workers_give_back_unread_blocks_between_epochs():
    loader = DataLoader(TensorDataset(ember.from_numpy(_data())), batch_size=128, num_workers=2,
                        persistent_workers=True)
    for _ in range(shared_batches.POOL_BLOCKS + 4):  # a block leaked per epoch would exhaust the pools
        it = iter(loader)
        next(it)
    (b,) = next(iter(loader))
    assert _mapped(b)
    del b, it, loader
    gc.collect()
    assert _blocks() == []


def test_a_crashed_worker_leaves_no_blocks():
    loader = DataLoader(Crashing(_data(), crash_at=700), batch_size=128, num_workers=2)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(loader)
    gc.collect()
    assert _blocks() == []


def test_a_batch_that_cannot_be_rebuilt_raises_and_frees_its_blocks():
    loader = DataLoader(ember.from_numpy(_data()), batch_size=128, num_workers=1, collate_fn=_with_unrebuildable)
    it = iter(loader)
    with pytest.raises(RuntimeError, match="cannot be unpickled in the main process"):
        next(it)
    with pytest.raises(RuntimeError, match="cannot be unpickled in the main process"):
        next(it)
    del it
    gc.collect()
    assert _blocks() == []


def test_an_unpicklable_batch_raises_and_the_next_ones_arrive():
    loader = DataLoader(ember.from_numpy(_data()), batch_size=128, num_workers=1, collate_fn=_with_unpicklable)
    it = iter(loader)
    with pytest.raises(Exception, match="sending a batch in DataLoader worker process 0"):
        next(it)
    with pytest.raises(Exception, match="sending a batch"):
        next(it)
    del it
    gc.collect()
    assert _blocks() == []


def test_spawned_workers_hand_over_shared_blocks():
    x = _data(256)
    loader = DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=128, num_workers=1,
                        multiprocessing_context="spawn")
    batches = list(loader)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for (b,) in batches]), x)
    assert all(_mapped(b) for (b,) in batches)
    assert _blocks() == []


def test_a_dying_main_process_leaves_no_blocks():
    script = textwrap.dedent(f"""
        import os, time
        import numpy as np
        import ember
        from ember.utils.data import DataLoader, TensorDataset
        x = np.ones((4096, {FEATURES}), np.float32)
        it = iter(DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=128, num_workers=2, prefetch_factor=4))
        next(it)
        time.sleep(1.0)  # blocks made and in the queue, unread
        print(os.getpid(), flush=True)
        os._exit(0)
    """)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 20
    while _blocks(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _blocks(pid) == []
