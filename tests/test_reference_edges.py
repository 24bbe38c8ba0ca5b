"""Edge cases of the NumPy twins and of the recurrent ops' argument handling that the
bad-input and fuzz runs found: NaN locality, empty batches, 0-d softmax, strided columns,
misaligned arrays."""
import numpy as np
import pytest

import ember
from ember import ops
from ember.ops import reference as ref


def test_adaptive_avg_pool_twin_keeps_nan_in_its_window(rng):
    x = rng.random((2, 3, 7, 9)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan
    want = ops.adaptive_avg_pool2d(x, (3, 4))
    got = ref.adaptive_avg_pool2d(x, (3, 4))
    assert np.isnan(got).sum() == np.isnan(want).sum() == 1
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


def test_adaptive_max_pool_twin_on_an_empty_batch():
    y, idx = ref.adaptive_max_pool2d(np.zeros((0, 3, 4, 4), np.float32), 2)
    assert y.shape == idx.shape == (0, 3, 2, 2)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_twins_on_0d_input(fn):
    for x in (np.array(2.0), np.array(np.float32(-3))):
        got = getattr(ref, fn)(x, 0)
        assert got.shape == () and got.dtype == x.dtype
        assert got == getattr(ops, fn)(x, 0) == (1.0 if fn == "softmax" else 0.0)


def test_lstm_twin_with_one_hidden_unit_in_float32(rng):
    """H = 1 makes every gate a strided (B, 1) column of the gate matrix."""
    B, I, H = 5, 3, 1
    args = [rng.standard_normal(s).astype(np.float32) for s in
            ((B, I), (B, H), (B, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,))]
    for got, want in zip(ref.lstm_cell_forward(*args), ops.lstm_cell_forward(*args)):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def _misaligned(a):
    raw = np.zeros(a.nbytes + 1, np.uint8)
    out = raw[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


def test_recurrent_ops_accept_misaligned_states_and_gradients(rng):
    B, I, H = 4, 3, 5
    x, h, c = (rng.standard_normal(s) for s in ((B, I), (B, H), (B, H)))
    w_ih, w_hh = rng.standard_normal((4 * H, I)), rng.standard_normal((4 * H, H))
    b = rng.standard_normal(4 * H)
    want = ops.lstm_cell_forward(x, h, c, w_ih, w_hh, b, b)
    got = ops.lstm_cell_forward(x, _misaligned(h), _misaligned(c), w_ih, w_hh, _misaligned(b), b)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
