"""Backward passes run concurrently from several threads into shared tensors lose no gradient, as in
PyTorch: a leaf's `.grad`, a `retain_grad` tensor's `.grad`, gradients changed by hooks and
`backward(inputs=...)` all end up as the exact sum of the passes, and a gradient a leaf keeps is never
changed under a pass that still reads it. Hogwild-style training (threads sharing one model's
parameters) gets the gradients, and the step, of the sequential sum.

The leaves are large (1,000,000 elements) so that the array library works without the GIL long enough
for unsynchronised read-modify-writes to overlap; the values are small integers in float32, so every sum
is exact and any lost update shows.
"""
import threading

import numpy as np

import ember
import ember.nn as nn

N = 1_000_000
THREADS = 4
PASSES = 200


def _run_threads(work, threads: int = THREADS) -> None:
    """Run `work(i)` in threads i = 0..threads-1 that start together; re-raise the first error one of them hit."""
    barrier = threading.Barrier(threads)
    errors = []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]


def _assert_all_equal(grad, expected: float) -> None:
    g = grad.detach().cpu().numpy()
    short = int((g != expected).sum())
    assert short == 0, f"{short} of {g.size} elements differ from {expected} (min {g.min()}, max {g.max()})"


def test_threads_backward_into_one_leaf_sum_exactly(device):
    w = ember.zeros(N, device=device, requires_grad=True)  # no graph node yet: the threads race to make it
    ones = ember.ones(N, device=device)

    def work(i):
        for _ in range(PASSES):
            (w * ones).sum().backward()

    _run_threads(work)
    _assert_all_equal(w.grad, THREADS * PASSES)


def test_a_gradient_a_leaf_keeps_is_not_changed_by_another_thread_while_the_pass_still_reads_it(device):
    # (h + w) sends one gradient object both to w.grad and on through h = v * ones. While it flows through
    # h (paused here by h's hook), another thread's backward adds into w.grad in place: w must have taken
    # a copy, or v's gradient comes out doubled.
    w = ember.zeros(8, device=device, requires_grad=True)
    v = ember.zeros(8, device=device, requires_grad=True)
    ones = ember.ones(8, device=device)

    def other_pass():
        (w * ones).sum().backward()

    def pause(grad):
        other = threading.Thread(target=other_pass)
        other.start()
        other.join()

    h = v * ones
    h.register_hook(pause)
    ((h + w) * ones).sum().backward()
    _assert_all_equal(v.grad, 1.0)
    _assert_all_equal(w.grad, 2.0)


def test_threads_through_a_leaf_hook_sum_the_hooked_gradients(device):
    w = ember.zeros(N, device=device, requires_grad=True)
    w.register_hook(lambda g: g * 2.0)
    ones = ember.ones(N, device=device)

    def work(i):
        for _ in range(PASSES // 4):
            (w * ones).sum().backward()

    _run_threads(work)
    _assert_all_equal(w.grad, 2 * THREADS * (PASSES // 4))


def test_threads_backward_through_a_shared_graph_sum_into_retain_grad(device):
    x = ember.ones(N, device=device, requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    ones = ember.ones(N, device=device)

    def work(i):
        for _ in range(PASSES // 4):
            (y * ones).sum().backward(retain_graph=True)

    _run_threads(work)
    _assert_all_equal(y.grad, THREADS * (PASSES // 4))
    _assert_all_equal(x.grad, 3 * THREADS * (PASSES // 4))


def test_threads_backward_with_inputs_sum_exactly(device):
    w = ember.zeros(N, device=device, requires_grad=True)
    other = ember.zeros(N, device=device, requires_grad=True)
    ones = ember.ones(N, device=device)

    def work(i):
        for _ in range(PASSES // 4):
            (w * ones + other).sum().backward(inputs=[w])

    _run_threads(work)
    _assert_all_equal(w.grad, THREADS * (PASSES // 4))
    assert other.grad is None


class _Bag(nn.Module):
    """A bag of embeddings and a linear head: the classic Hogwild model (a large table, few rows per step)."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Embedding(100_000, 10)
        self.head = nn.Linear(10, 4)

    def forward(self, idx):
        return self.head(self.table(idx).mean(1))


def _model(device):
    ember.manual_seed(0)
    return _Bag().to(device=device, dtype=ember.float64)


def test_hogwild_threads_sharing_a_model_get_the_sequential_gradients_and_step(device):
    rng = np.random.default_rng(0)
    batches = [(ember.tensor(rng.integers(0, 100_000, (4, 8)), device=device),
                ember.tensor(rng.integers(0, 4, 4), device=device)) for _ in range(THREADS * 25)]
    reference = _model(device)
    for x, y in batches:
        nn.functional.cross_entropy(reference(x), y).backward()
    ember.optim.SGD(reference.parameters(), lr=0.1).step()

    model = _model(device)

    def work(i):
        for x, y in batches[i::THREADS]:
            nn.functional.cross_entropy(model(x), y).backward()

    _run_threads(work)
    for p, q in zip(model.parameters(), reference.parameters()):
        assert p.grad.allclose(q.grad, rtol=1e-10, atol=1e-12)
    ember.optim.SGD(model.parameters(), lr=0.1).step()
    for p, q in zip(model.parameters(), reference.parameters()):
        assert p.detach().allclose(q.detach(), rtol=1e-10, atol=1e-12)
