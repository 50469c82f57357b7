"""Thread pools: DataLoader workers run one thread, and small products leave the BLAS pool as they found it."""
import os

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset

threadpoolctl = pytest.importorskip("threadpoolctl")


class ThreadCount(Dataset):
    """Each item is `ember.get_num_threads()` as seen by the process that reads it."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return ember.get_num_threads()


def _blas_pool_sizes():
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def two_threads():
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(before)


def test_dataloader_workers_report_one_thread_while_the_main_process_keeps_its_own(two_threads):
    counts = list(DataLoader(ThreadCount(), batch_size=None, num_workers=2))
    assert counts == [1, 1, 1, 1]
    assert ember.get_num_threads() == 2


def test_main_process_loading_reports_the_main_process_threads(two_threads):
    assert list(DataLoader(ThreadCount(), batch_size=None, num_workers=0)) == [2, 2, 2, 2]


def test_small_and_large_products_match_numpy_and_leave_the_blas_pool_size_unchanged(two_threads):
    before = _blas_pool_sizes()
    rng = np.random.default_rng(0)
    for m, k, n in [(64, 10, 1568), (512, 512, 64)]:  # below and above the one-thread size
        a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
        np.testing.assert_allclose((ember.tensor(a) @ ember.tensor(b)).numpy(), a @ b, rtol=1e-5, atol=1e-4)
        assert _blas_pool_sizes() == before
    conv = ember.nn.Conv2d(1, 4, 3)
    conv(ember.randn(2, 1, 8, 8, requires_grad=True)).sum().backward()
    assert _blas_pool_sizes() == before


def _numpy_openblas_sizes():  # other BLAS libraries (scipy's, torch's) may be loaded too: not lowered
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
            if pool["internal_api"] == "openblas"
            and os.path.basename(os.path.dirname(pool["filepath"])) == "numpy.libs"]


def test_one_thread_scope_nests_and_restores_the_pool_size(two_threads):
    backend = ember.randn(1).device.backend
    scope = getattr(backend, "_one_thread", None)
    if scope is None or not _numpy_openblas_sizes():
        pytest.skip("numpy's BLAS here is not an OpenBLAS with openblas_set_num_threads_local")
    with scope:
        with scope:
            assert _numpy_openblas_sizes() == [1]
        assert _numpy_openblas_sizes() == [1]
    assert _numpy_openblas_sizes() == [2]
