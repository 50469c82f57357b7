"""What `ember.compile` generates on numpy: chains of elementwise calls become one fused call, results
that stay inside the step go into the program's buffers, results that leave it never do."""
import inspect
import re

import ember


def _source(fn) -> str:
    (replay, _), = fn._cache.values()
    return inspect.getsource(replay)  # the generated source is registered in linecache


def test_a_chain_of_elementwise_calls_becomes_one_fused_call_into_a_kept_buffer():
    fn = ember.compile(lambda x: ((x * 2 + 1) / 3).sum())
    fn(ember.randn(5))
    src = _source(fn)
    assert len(re.findall(r"= F\d+\(", src)) == 1 and "out=B[0])" in src
    assert not re.search(r"\b(mul|add|div)_\d+\(", src)  # the three calls are gone
    assert src.count("B = P.take()") == 1 and src.count("P.give(B)") == 1


def test_a_result_read_outside_the_chain_ends_it():
    def f(x):
        y = x * 2
        z = (y + 1) * 3
        return z.sum() + y.sum()

    fn = ember.compile(f)
    fn(ember.randn(5))
    src = _source(fn)
    assert re.search(r"mul_\d+\(", src) and len(re.findall(r"= F\d+\(", src)) == 1  # x * 2 alone, then (y + 1) * 3


def test_returned_results_and_their_views_get_no_kept_buffer():
    fn = ember.compile(lambda x: ((x * 2 + 1).reshape(-1), (x - 1) * 3))
    fn(ember.randn(2, 3))
    assert "out=B" not in _source(fn)


def test_results_whose_lifetimes_do_not_overlap_share_a_buffer():
    def f(x):
        a = (x * 2).exp().sum()  # one fused chain into a buffer
        b = (x * 3).exp().sum()  # the same shape, after the first result is dead: the same buffer
        return a + b

    fn = ember.compile(f)
    x = ember.randn(4)
    fn(x)
    src = _source(fn)
    assert set(re.findall(r"out=B\[(\d+)\]", src)) == {"0"} and src.count("out=B[0]") == 2
    assert fn(x).tolist() == f(x).tolist()


def test_a_buffer_that_would_raise_the_peak_of_live_arrays_is_not_kept():
    def f(x):
        a = (x * 2).exp().sum()  # a temporary of x's size, dead before the peak
        return a + ember.cat([x, x, x]).sum()  # the peak: three times x's size

    fn = ember.compile(f)
    fn(ember.randn(1000))
    src = _source(fn)
    assert re.search(r"= F\d+\(", src) and "out=B" not in src


def test_a_backend_declining_an_operation_still_fuses_the_calls_before_it(monkeypatch):
    from ember.backends.numpy_backend import NumpyBackend

    fuse = NumpyBackend.fuse_elementwise
    monkeypatch.setattr(NumpyBackend, "fuse_elementwise",
                        lambda self, chain: None if any(s.op == "exp" for s in chain.steps) else fuse(self, chain))
    fn = ember.compile(lambda x: ((x * 2 + 1).exp() * 3).sum())
    x = ember.randn(5)
    fn(x)
    src = _source(fn)
    assert len(re.findall(r"= F\d+\(", src)) == 1 and re.search(r"exp_\d+\(", src)  # (x * 2 + 1) fused, then exp
    assert fn(x).tolist() == ((x * 2 + 1).exp() * 3).sum().tolist()
