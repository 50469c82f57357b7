"""DataLoader with worker processes: order, prefetching, IterableDataset sharding, reproducible seeding,
error propagation (exceptions, dead workers, timeout, batches the main process cannot unpickle),
clean shutdown (no orphan processes, even when the main process is killed) and single-threaded BLAS.

The datasets live at module level so that the tests also hold under the 'spawn' start method.
"""
import faulthandler
import multiprocessing
import os
import pickle
import random
import select
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ember
import ember.utils.data as data

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class Range(data.Dataset):
    """Sample i is i; the indices in `slow` take 20 ms, so later results overtake them."""

    def __init__(self, n, slow=()):
        self.n, self.slow = n, set(slow)

    def __getitem__(self, index):
        if index in self.slow:
            time.sleep(0.02)
        return index

    def __len__(self):
        return self.n


class Pids(Range):
    def __getitem__(self, index):
        return os.getpid()


class RandomDraws(Range):
    def __getitem__(self, index):
        return ember.rand(1).item(), float(np.random.rand()), random.random()


class WorkerInfoReport(Range):
    def __getitem__(self, index):
        info = data.get_worker_info()
        return info.id, info.num_workers, info.seed, info.dataset is self


def _parse_record(index):
    raise ValueError(f"corrupt record {index}")


class Failing(Range):
    def __getitem__(self, index):
        if index == 3:
            _parse_record(index)
        return index


class MissingKey(Range):
    def __getitem__(self, index):
        return {}["label"]


class Crashing(Range):
    def __init__(self, n, crash_at, how):
        super().__init__(n)
        self.crash_at, self.how = crash_at, how

    def __getitem__(self, index):
        if index == self.crash_at:
            if self.how == "exit":
                os._exit(3)
            faulthandler.disable()  # (pytest's handler would print the crashing worker's stack)
            os.kill(os.getpid(), signal.SIGKILL if self.how == "sigkill" else signal.SIGSEGV)
        return index


class Sleepy(Range):
    def __getitem__(self, index):
        time.sleep(5)
        return index


class Unpicklable(Range):
    def __getitem__(self, index):
        return (i for i in range(index))


def _refuse_to_rebuild(index):
    raise ValueError(f"record {index} only rebuilds inside a worker")


class RebuildsOnlyInWorkers:
    """Pickles fine; unpickling it raises."""

    def __init__(self, index):
        self.index = index

    def __reduce__(self):
        return _refuse_to_rebuild, (self.index,)


class UnpicklableInMainProcess(Range):
    def __getitem__(self, index):
        return RebuildsOnlyInWorkers(index) if index == 3 else index


class ThreadEnv(Range):
    def __getitem__(self, index):
        return [os.environ.get(name) for name in _THREAD_ENV_VARS]


def _blas_threads():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


class BlasThreads(Range):
    def __getitem__(self, index):
        return _blas_threads()


class CountingFetches(Range):
    def __init__(self, n, counter):
        super().__init__(n)
        self.counter = counter

    def __getitem__(self, index):
        with self.counter.get_lock():
            self.counter.value += 1
        return index


class ShardedStream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class WholeStream(ShardedStream):
    def __iter__(self):
        return iter(range(self.n))


_initialized_workers = []


def _record_worker_id(worker_id):
    _initialized_workers.append(worker_id)


class InitReport(Range):
    def __getitem__(self, index):
        return list(_initialized_workers)


def _failing_init(worker_id):
    raise OSError(f"cannot open shard for worker {worker_id}")


def _running(pid):
    """Whether process `pid` runs; a zombie does not (an orphan's may wait long for init to reap it)."""
    if os.path.isdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _assert_processes_gone(pids, within=3.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = {p.pid for p in multiprocessing.active_children()} & set(pids)
        if not alive and not any(_running(pid) for pid in pids):
            return
        time.sleep(0.02)
    raise AssertionError(f"worker processes {sorted(pids)} are still alive")


def _values(loader):
    return [v for batch in loader for v in batch.tolist()]


def test_workers_return_batches_in_sampler_order_even_when_later_ones_finish_first():
    loader = data.DataLoader(Range(12, slow=range(0, 12, 2)), batch_size=1, num_workers=2)
    assert _values(loader) == list(range(12))


def test_workers_give_the_same_batches_as_the_main_process():
    dataset = data.TensorDataset(ember.tensor(np.arange(40, dtype=np.float32).reshape(20, 2), device="cpu"),
                                 ember.arange(20, device="cpu"))
    single = [[t.tolist() for t in b] for b in data.DataLoader(dataset, batch_size=6)]
    batches = list(data.DataLoader(dataset, batch_size=6, num_workers=2))
    assert all(isinstance(t, ember.Tensor) and t.device == ember.device("cpu") for b in batches for t in b)
    assert [[t.tolist() for t in b] for b in batches] == single


def test_out_of_order_loading_yields_every_batch_once():
    loader = data.DataLoader(Range(12, slow=[0, 1]), batch_size=2, num_workers=2, in_order=False)
    assert sorted(_values(loader)) == list(range(12))


def test_workers_prefetch_prefetch_factor_batches_each_and_no_more():
    counter = multiprocessing.Value("i", 0)
    loader = data.DataLoader(CountingFetches(40, counter), batch_size=1, num_workers=2, prefetch_factor=2)
    iterator = iter(loader)
    assert next(iterator) == 0
    # 4 tasks were queued up front; taking the first batch queued one more.
    deadline = time.monotonic() + 5
    while counter.value < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert counter.value == 5
    del iterator


def test_iterable_dataset_sharded_with_get_worker_info_yields_each_sample_once():
    loader = data.DataLoader(ShardedStream(11), batch_size=2, num_workers=2)
    assert sorted(_values(loader)) == list(range(11))


def test_iterable_dataset_without_sharding_is_replicated_per_worker():
    loader = data.DataLoader(WholeStream(5), batch_size=2, num_workers=2)
    assert sorted(_values(loader)) == sorted(list(range(5)) * 2)


def test_get_worker_info_describes_the_worker_and_is_none_in_the_main_process():
    assert data.get_worker_info() is None
    loader = data.DataLoader(WorkerInfoReport(2), batch_size=None, num_workers=2)
    (id0, n0, seed0, own0), (id1, n1, seed1, own1) = [[int(v) for v in sample] for sample in loader]
    assert (id0, id1, n0, n1) == (0, 1, 2, 2)
    assert seed1 == seed0 + 1
    assert own0 and own1


def test_worker_info_is_read_only():
    info = data.WorkerInfo(id=0, num_workers=1, seed=0, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes"):
        info.id = 1


def _draws(**kwargs):
    loader = data.DataLoader(RandomDraws(8), batch_size=2, num_workers=2, **kwargs)
    return [[t.tolist() for t in batch] for batch in loader]


def test_worker_randomness_is_reproducible_from_manual_seed():
    ember.manual_seed(5)
    first = _draws()
    ember.manual_seed(5)
    assert _draws() == first
    ember.manual_seed(6)
    assert _draws() != first


def test_worker_randomness_follows_the_loader_generator():
    first = _draws(generator=ember.Generator().manual_seed(1))
    assert _draws(generator=ember.Generator().manual_seed(1)) == first


def test_each_worker_seeds_ember_numpy_and_random_differently():
    batches = _draws()
    # Batch 0 comes from worker 0 and batch 1 from worker 1: every generator differs between them.
    assert all(a != b for a, b in zip(batches[0], batches[1]))


def test_worker_init_fn_runs_in_each_worker_with_its_id():
    _initialized_workers.clear()
    loader = data.DataLoader(InitReport(2), batch_size=None, num_workers=2, worker_init_fn=_record_worker_id)
    assert [[int(v) for v in sample] for sample in loader] == [[0], [1]]
    assert _initialized_workers == []


def test_worker_exception_is_reraised_with_its_type_and_the_worker_traceback():
    iterator = iter(data.DataLoader(Failing(8), batch_size=2, num_workers=2))
    assert next(iterator).tolist() == [0, 1]
    with pytest.raises(ValueError) as excinfo:
        next(iterator)
    message = str(excinfo.value)
    assert "Caught ValueError in DataLoader worker process 1." in message
    assert "Original Traceback" in message and "_parse_record" in message and "corrupt record 3" in message
    # As in PyTorch, the iteration can go on past the failed batch.
    assert next(iterator).tolist() == [4, 5]
    del iterator


def test_worker_key_error_keeps_a_readable_message():
    with pytest.raises(KeyError) as excinfo:
        next(iter(data.DataLoader(MissingKey(2), num_workers=1)))
    message = str(excinfo.value)
    assert "Caught KeyError in DataLoader worker process 0" in message and "\\n" not in message


def test_a_batch_that_cannot_be_sent_back_raises_instead_of_hanging():
    message = r"(?s)Caught TypeError sending a batch in DataLoader worker process 0.*generator"
    with pytest.raises(TypeError, match=message):
        next(iter(data.DataLoader(Unpicklable(2), batch_size=None, num_workers=1)))


def test_a_batch_the_main_process_cannot_unpickle_raises_naming_worker_and_batch_and_iteration_goes_on():
    iterator = iter(data.DataLoader(UnpicklableInMainProcess(6), batch_size=None, num_workers=2))
    pids = [w.pid for w in iterator._workers]
    assert [next(iterator) for _ in range(3)] == [0, 1, 2]
    message = (
        r"DataLoader worker process 1 sent batch 3, which cannot be unpickled in the main process: "
        r"ValueError: record 3 only rebuilds inside a worker"
    )
    with pytest.raises(RuntimeError, match=message) as excinfo:
        next(iterator)
    assert isinstance(excinfo.value.__cause__, ValueError)
    assert list(iterator) == [4, 5]
    _assert_processes_gone(pids)


def test_worker_init_fn_exception_is_reraised():
    with pytest.raises(OSError, match="cannot open shard for worker 0"):
        next(iter(data.DataLoader(Range(4), num_workers=1, worker_init_fn=_failing_init)))


@pytest.mark.parametrize(
    "how, cause",
    [("exit", "exit code 3"), ("sigkill", "killed by signal SIGKILL"), ("segfault", "killed by signal SIGSEGV")],
)
def test_a_worker_that_dies_raises_an_error_naming_it_and_the_others_are_stopped(how, cause):
    loader = data.DataLoader(Crashing(8, crash_at=5, how=how), batch_size=1, num_workers=2)
    iterator = iter(loader)
    pids = [w.pid for w in iterator._workers]
    with pytest.raises(RuntimeError, match=rf"DataLoader worker 1 \(pid {pids[1]}\) exited unexpectedly \({cause}\)"):
        for _ in iterator:
            pass
    _assert_processes_gone(pids)


def test_timeout_raises_instead_of_waiting_for_a_slow_worker():
    loader = data.DataLoader(Sleepy(4), num_workers=1, timeout=0.1)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.1 seconds"):
        next(iter(loader))
    assert time.monotonic() - start < 2  # the worker would take 5 s


def test_workers_exit_when_the_iteration_stops_early():
    pids = set()
    for i, batch in enumerate(data.DataLoader(Pids(100), batch_size=2, num_workers=2)):
        pids.update(batch.tolist())
        if i == 3:
            break
    assert len(pids) == 2
    _assert_processes_gone(pids)


def test_workers_exit_when_the_iterator_is_deleted_or_exhausted():
    iterator = iter(data.DataLoader(Pids(10), batch_size=2, num_workers=2))
    pids = set(next(iterator).tolist()) | set(next(iterator).tolist())
    del iterator
    _assert_processes_gone(pids)

    pids = set(_values(data.DataLoader(Pids(4), batch_size=1, num_workers=2)))
    _assert_processes_gone(pids)


def test_persistent_workers_serve_every_epoch_and_exit_with_the_loader():
    loader = data.DataLoader(Pids(8), batch_size=2, num_workers=2, persistent_workers=True)
    first = set(_values(loader))
    for _ in loader:
        break
    second = set(_values(loader))
    assert len(first) == 2 and first == second
    assert all(pid in {p.pid for p in multiprocessing.active_children()} for pid in first)
    del loader
    _assert_processes_gone(first)


def test_persistent_workers_restart_an_iterable_dataset_each_epoch():
    loader = data.DataLoader(ShardedStream(7), batch_size=2, num_workers=2, persistent_workers=True)
    assert sorted(_values(loader)) == sorted(_values(loader)) == list(range(7))
    del loader


def test_unpicklable_worker_arguments_under_spawn_raise_and_start_no_worker():
    before = set(multiprocessing.active_children())
    loader = data.DataLoader(Range(4), num_workers=2, multiprocessing_context="spawn", worker_init_fn=lambda i: None)
    with pytest.raises((AttributeError, pickle.PicklingError)):
        iter(loader)
    assert set(multiprocessing.active_children()) == before


def test_workers_started_with_spawn_load_module_level_datasets():
    loader = data.DataLoader(Range(6), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert _values(loader) == list(range(6))


def test_workers_started_by_another_thread_outlive_that_thread():
    # Linux's parent-death signal follows the thread that started a process, not the process.
    loader = data.DataLoader(Range(16, slow=range(16)), batch_size=2, num_workers=2)
    iterators = []
    starter = threading.Thread(target=lambda: iterators.append(iter(loader)))
    starter.start()
    starter.join(timeout=60)
    assert [v for batch in iterators[0] for v in batch.tolist()] == list(range(16))


_KILLED_MAIN_PROCESS = """
import os, sys, threading, time
import ember.utils.data as data


class BlockedForever(data.Dataset):
    def __getitem__(self, index):
        os.write(sys.stdout.fileno(), f"fetching {os.getpid()}\\n".encode())  # one write: the lines never mix
        time.sleep(600)

    def __len__(self):
        return 4


if __name__ == "__main__":
    start_method, starter = sys.argv[1:]
    loader = data.DataLoader(BlockedForever(), num_workers=2, multiprocessing_context=start_method)
    iterators = []
    if starter == "main thread":
        iterators.append(iter(loader))
    else:
        thread = threading.Thread(target=lambda: iterators.append(iter(loader)))
        thread.start()
        thread.join()
    next(iterators[0])
"""


def _read_pids(stream, count, within):
    """The pids in the first `count` lines (`fetching PID`) of `stream`; None if they take longer than `within`."""
    fd, text, deadline = stream.fileno(), b"", time.monotonic() + within
    while text.count(b"\n") < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        text += chunk
    return {int(line.split()[1]) for line in text.splitlines()[:count]}


@pytest.mark.skipif(sys.platform == "win32", reason="kills the main process with SIGKILL")
@pytest.mark.parametrize(
    "start_method, starter", [("fork", "main thread"), ("fork", "other thread"), ("forkserver", "main thread")]
)
def test_workers_blocked_in_getitem_die_when_the_main_process_is_killed(tmp_path, start_method, starter):
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start_method!r} start method on this platform")
    script = tmp_path / "killed_main_process.py"
    script.write_text(_KILLED_MAIN_PROCESS)
    stderr_path = tmp_path / "stderr"
    with open(stderr_path, "w") as stderr:
        main = subprocess.Popen(
            [sys.executable, str(script), start_method, starter], stdout=subprocess.PIPE, stderr=stderr
        )
    pids = None
    try:
        pids = _read_pids(main.stdout, count=2, within=60.0)
        assert pids is not None, f"the workers did not start fetching; stderr:\n{stderr_path.read_text()}"
        main.kill()
        main.wait(timeout=30)
        _assert_processes_gone(pids, within=10.0)
    finally:
        main.kill()
        main.wait(timeout=30)
        for pid in pids or ():
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        main.stdout.close()


def test_workers_set_the_thread_count_variables_to_one(monkeypatch):
    for name in _THREAD_ENV_VARS:
        monkeypatch.setenv(name, "2")
    loader = data.DataLoader(ThreadEnv(2), batch_size=None, num_workers=2)
    assert list(loader) == [["1"] * len(_THREAD_ENV_VARS)] * 2
    assert all(os.environ[name] == "2" for name in _THREAD_ENV_VARS)


@pytest.mark.skipif(threadpoolctl is None, reason="threadpoolctl is not installed")
@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_run_blas_single_threaded_and_the_main_process_keeps_its_threads(monkeypatch, start_method):
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start_method!r} start method on this platform")
    if not _blas_threads():
        pytest.skip("numpy has no BLAS thread pool here")
    for name in _THREAD_ENV_VARS:
        monkeypatch.setenv(name, "2")  # what a spawned worker's BLAS starts with
    loader = data.DataLoader(BlasThreads(2), batch_size=None, num_workers=2, multiprocessing_context=start_method)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # what a forked worker's BLAS inherits
        blas_threads = list(loader)
        assert _blas_threads() == [2] * len(_blas_threads())
    assert all(threads == [1] * len(threads) for threads in blas_threads)
