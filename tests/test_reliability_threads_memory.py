"""Reliability: kernels called from several Python threads at once, set_num_threads changed
while another thread computes, bit-for-bit determinism, and steady memory over a long training
loop."""
from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import ember
from ember import nn, ops


def _kernel_jobs(rng):
    """(name, call, expected) for a spread of C++ kernels, expected computed single-threaded."""
    a = rng.standard_normal((200, 300)).astype(np.float32)
    b = rng.standard_normal((300, 150)).astype(np.float32)
    x = rng.standard_normal((4, 8, 20, 20)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    seq = rng.standard_normal((6, 5, 12)).astype(np.float32)
    wi = rng.standard_normal((4 * 16, 12)).astype(np.float32) * 0.3
    wh = rng.standard_normal((4 * 16, 16)).astype(np.float32) * 0.3
    jobs = [
        ("matmul", lambda: ops.matmul(a, b)),
        ("conv2d", lambda: ops.conv2d(x, w, None, 1, 1)),
        ("conv2d_backward", lambda: ops.conv2d_backward(ops.conv2d(x, w, None, 1, 1), x, w, 1, 1)),
        ("max_pool2d", lambda: ops.max_pool2d(x, 2)),
        ("lstm", lambda: ops.lstm_sequence_forward(seq, None, None, wi, wh)[0]),
    ]
    saved = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        expected = [(name, fn, _flat(fn())) for name, fn in jobs]
    finally:
        ember.set_num_threads(saved)
    return expected


def _flat(out):
    if isinstance(out, (tuple, list)):
        return tuple(np.array(o) for o in out if o is not None)
    return (np.array(out),)


def _close(got, want):
    return all(np.allclose(g, w, rtol=1e-5, atol=1e-5) for g, w in zip(_flat(got), want))


def test_concurrent_python_threads_get_correct_results(rng, restore_threads):
    ember.set_num_threads(2)
    jobs = _kernel_jobs(rng)
    failures = []

    def worker(offset):
        for i in range(12):
            name, fn, want = jobs[(i + offset) % len(jobs)]
            try:
                if not _close(fn(), want):
                    failures.append(f"{name}: wrong result")
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a kernel hung"
    assert failures == []


def test_set_num_threads_while_another_thread_computes(rng, restore_threads):
    jobs = _kernel_jobs(rng)
    stop = threading.Event()
    failures = []

    def compute():
        i = 0
        while not stop.is_set():
            name, fn, want = jobs[i % len(jobs)]
            i += 1
            try:
                if not _close(fn(), want):
                    failures.append(f"{name}: wrong result")
            except Exception as exc:  # pragma: no cover
                failures.append(f"{name}: {exc!r}")

    workers = [threading.Thread(target=compute) for _ in range(2)]
    for t in workers:
        t.start()
    for k in range(300):
        ember.set_num_threads(1 + k % 2)
    stop.set()
    for t in workers:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in workers), "a kernel hung"
    assert failures == []


@pytest.mark.parametrize("threads", [1, 2])
def test_kernels_are_bitwise_deterministic(rng, restore_threads, threads):
    ember.set_num_threads(threads)
    for name, fn, _ in _kernel_jobs(rng):
        first, second = _flat(fn()), _flat(fn())
        for f, s in zip(first, second):
            assert np.array_equal(f, s), f"{name} differs between two runs with {threads} threads"


def _train(seed, steps=15):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        x = ember.randn(16, 10)
        y = ember.randn(16, 3)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_same_seed_same_training_bit_for_bit(restore_threads):
    ember.set_num_threads(2)
    a, b = _train(123), _train(123)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    c = _train(124)
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_graph_is_freed_after_backward():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    out = model(ember.randn(5, 4))
    hidden = model[1](model[0](ember.randn(5, 4)))
    ref = weakref.ref(hidden)
    loss = (hidden.sum() + out.sum())
    loss.backward()
    del hidden, loss, out
    gc.disable()
    try:
        assert ref() is None, "an intermediate tensor outlived its graph (a reference cycle?)"
    finally:
        gc.enable()


def test_long_training_loop_holds_steady_memory():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = ember.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    loss_fn = nn.MSELoss()
    x = ember.randn(32, 64)
    y = ember.randn(32, 10)

    def steps(n):
        for _ in range(n):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

    steps(50)                                  # warm-up: optimizer state, caches
    gc.collect()
    tracemalloc.start()
    try:
        steps(100)
        base, _ = tracemalloc.get_traced_memory()
        steps(1000)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One step allocates ~60 KiB of arrays; a leak of one per step would be ~60 MiB here.
    assert after - base < 256 * 1024, f"memory grew by {(after - base) / 1024:.0f} KiB over 1000 steps"
