"""ember.ops recurrent kernels (LSTM, GRU, Elman RNN cells and sequences) against their NumPy
twins in ember.ops.reference: geometries (batch 1, odd sizes, H not a multiple of 16, I != H,
zero sizes), no bias, None states, strided views, both dtypes, 1 and 2 threads, every SIMD level,
sequence == T cell steps, subsets of gradients, determinism, concurrent callers, NaN and
saturation, bad input. Gradient checks: test_rnn_grad.py; PyTorch parity: test_rnn_torch.py.

Tolerance: the largest error relative to max(1, max |expected|). float32 results differ from
the reference by rounding (GEMM summation order, the kernels' polynomial exp); a wrong gate,
a missed step or a stale buffer gives errors of order 1.

The helpers here are shared with the other test_rnn_*.py files.
"""
from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest

import ember
from ember import ops
from ember.ops import reference

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]
KINDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
TOL = {np.dtype(np.float32): 5e-5, np.dtype(np.float64): 1e-11}

# (batch, input_size, hidden_size): batch 1, tiny, I != H both ways, H not a multiple of 16,
# H crossing a 16-wide block, and one large enough that the fused passes use 2 threads.
GEOMETRIES = [(1, 1, 1), (1, 5, 3), (3, 5, 7), (4, 7, 5), (2, 13, 17), (5, 33, 40),
              (70, 37, 130)]


def assert_close(actual, expected, what=""):
    """Max error relative to max(1, max |expected|) within the dtype's tolerance; same shape,
    dtype, and NaN positions."""
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), f"{what}: got {type(actual)}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(actual), nan), f"{what}: NaN positions differ"
    if actual.size == 0 or nan.all():
        return
    a, e = actual[~nan].astype(np.float64), expected[~nan].astype(np.float64)
    scale = max(1.0, float(np.abs(e).max()))
    err = float(np.abs(a - e).max()) / scale
    assert err <= TOL[actual.dtype], f"{what}: relative error {err:.3g} (scale {scale:.3g})"


def assert_all_close(actual, expected, what=""):
    assert len(actual) == len(expected), what
    for k, (a, e) in enumerate(zip(actual, expected)):
        if e is None:
            assert a is None, f"{what}[{k}]: expected None"
        else:
            assert_close(a, e, f"{what}[{k}]")


def make_params(rng, kind, B, I, H, dtype, T=None, bias=True):
    """Random inputs for one layer: x (B, I) or (T, B, I), states (B, H), weights scaled like
    torch's init (uniform in +-1/sqrt(H)) so pre-activations are O(1)."""
    G = GATES[kind]
    k = 1 / np.sqrt(max(H, 1))
    x_shape = (B, I) if T is None else (T, B, I)
    p = {
        "x": rng.standard_normal(x_shape).astype(dtype),
        "h": rng.standard_normal((B, H)).astype(dtype),
        "c": rng.standard_normal((B, H)).astype(dtype) if kind == "lstm" else None,
        "w_ih": rng.uniform(-k, k, (G * H, I)).astype(dtype),
        "w_hh": rng.uniform(-k, k, (G * H, H)).astype(dtype),
        "b_ih": rng.uniform(-k, k, G * H).astype(dtype) if bias else None,
        "b_hh": rng.uniform(-k, k, G * H).astype(dtype) if bias else None,
    }
    return p


def nonlinearity(kind):
    return "relu" if kind == "rnn_relu" else "tanh"


def cell_forward(mod, kind, p):
    """The forward of ``kind`` from ``mod`` (ember.ops or ember.ops.reference): a tuple whose
    first entry is h' (then c' for the LSTM, then the workspace)."""
    if kind == "lstm":
        return mod.lstm_cell_forward(p["x"], p["h"], p["c"], p["w_ih"], p["w_hh"], p["b_ih"],
                                     p["b_hh"])
    if kind == "gru":
        return mod.gru_cell_forward(p["x"], p["h"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
    return (mod.rnn_cell_forward(p["x"], p["h"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"],
                                 nonlinearity(kind)),)


def cell_backward(mod, kind, p, fwd, grad_h, grad_c=None, **flags):
    """Gradients (x, states..., w_ih, w_hh, b_ih, b_hh) of a cell_forward result."""
    if kind == "lstm":
        return mod.lstm_cell_backward(grad_h, grad_c, p["x"], p["h"], p["c"], p["w_ih"],
                                      p["w_hh"], fwd[1], fwd[2], **flags)
    if kind == "gru":
        return mod.gru_cell_backward(grad_h, p["x"], p["h"], p["w_ih"], p["w_hh"], fwd[1],
                                     **flags)
    return mod.rnn_cell_backward(grad_h, p["x"], p["h"], p["w_ih"], p["w_hh"], fwd[0],
                                 nonlinearity(kind), **flags)


def seq_forward(mod, kind, p):
    """(output, h_n[, c_n], workspace...) of a whole sequence."""
    if kind == "lstm":
        return mod.lstm_sequence_forward(p["x"], p["h"], p["c"], p["w_ih"], p["w_hh"],
                                         p["b_ih"], p["b_hh"])
    if kind == "gru":
        return mod.gru_sequence_forward(p["x"], p["h"], p["w_ih"], p["w_hh"], p["b_ih"],
                                        p["b_hh"])
    return mod.rnn_sequence_forward(p["x"], p["h"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"],
                                    nonlinearity(kind))


def seq_backward(mod, kind, p, fwd, grad_out, grad_hn, grad_cn=None, **flags):
    if kind == "lstm":
        return mod.lstm_sequence_backward(grad_out, grad_hn, grad_cn, p["x"], p["h"], p["c"],
                                          p["w_ih"], p["w_hh"], fwd[0], fwd[3], fwd[4], **flags)
    if kind == "gru":
        return mod.gru_sequence_backward(grad_out, grad_hn, p["x"], p["h"], p["w_ih"],
                                         p["w_hh"], fwd[0], fwd[2], **flags)
    return mod.rnn_sequence_backward(grad_out, grad_hn, p["x"], p["h"], p["w_ih"], p["w_hh"],
                                     fwd[0], nonlinearity(kind), **flags)


def n_outputs(kind):
    """Differentiable outputs of a sequence: output, h_n (and c_n)."""
    return 3 if kind == "lstm" else 2


def check_cell(rng, kind, p, dtype):
    """Forward and backward of ember.ops against the reference, for the same data."""
    B, H = p["h"].shape
    fwd = cell_forward(ops, kind, p)
    ref = cell_forward(reference, kind, p)
    assert_all_close(fwd, ref, f"{kind} forward")
    gh = rng.standard_normal((B, H)).astype(dtype)
    gc = rng.standard_normal((B, H)).astype(dtype) if kind == "lstm" else None
    assert_all_close(cell_backward(ops, kind, p, fwd, gh, gc),
                     cell_backward(reference, kind, p, ref, gh, gc), f"{kind} backward")


def check_sequence(rng, kind, p, dtype):
    T, B, _ = p["x"].shape
    H = p["h"].shape[1]
    fwd = seq_forward(ops, kind, p)
    ref = seq_forward(reference, kind, p)
    assert_all_close(fwd, ref, f"{kind} sequence forward")
    go = rng.standard_normal((T, B, H)).astype(dtype)
    gh = rng.standard_normal((B, H)).astype(dtype)
    gc = rng.standard_normal((B, H)).astype(dtype) if kind == "lstm" else None
    assert_all_close(seq_backward(ops, kind, p, fwd, go, gh, gc),
                     seq_backward(reference, kind, p, ref, go, gh, gc),
                     f"{kind} sequence backward")


# ----------------------------------------------------------------------------------------------
# Values against the NumPy twin
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("geom", GEOMETRIES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_cell_matches_reference(rng, kind, geom, dtype):
    check_cell(rng, kind, make_params(rng, kind, *geom, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("steps", [1, 3, 6])
@pytest.mark.parametrize("geom", GEOMETRIES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_matches_reference(rng, kind, geom, steps, dtype):
    check_sequence(rng, kind, make_params(rng, kind, *geom, dtype, T=steps), dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_no_bias(rng, kind):
    check_cell(rng, kind, make_params(rng, kind, 3, 5, 7, np.float32, bias=False), np.float32)
    check_sequence(rng, kind, make_params(rng, kind, 3, 5, 7, np.float32, T=4, bias=False),
                   np.float32)


@pytest.mark.parametrize("kind", KINDS)
def test_one_bias_only(rng, kind):
    """b_ih without b_hh and the reverse (torch's cell functions take them independently)."""
    for drop in ("b_ih", "b_hh"):
        p = make_params(rng, kind, 3, 5, 7, np.float64)
        p[drop] = None
        check_cell(rng, kind, p, np.float64)


@pytest.mark.parametrize("kind", KINDS)
def test_none_states_are_zeros(rng, kind):
    p = make_params(rng, kind, 3, 5, 7, np.float64, T=3)
    zeros = dict(p, h=np.zeros_like(p["h"]), c=None if p["c"] is None else np.zeros_like(p["c"]))
    nones = dict(p, h=None, c=None)
    assert_all_close(seq_forward(ops, kind, nones), seq_forward(ops, kind, zeros))
    cz = dict(zeros, x=p["x"][0])
    cn = dict(nones, x=p["x"][0])
    assert_all_close(cell_forward(ops, kind, cn), cell_forward(ops, kind, cz))
    fwd = cell_forward(ops, kind, cn)
    gh = np.ones((3, 7))
    assert_all_close(cell_backward(ops, kind, cn, fwd, gh), cell_backward(ops, kind, cz, fwd, gh))


@pytest.mark.parametrize("kind", KINDS)
def test_none_incoming_gradients_are_zeros(rng, kind):
    p = make_params(rng, kind, 3, 5, 7, np.float64, T=4)
    fwd = seq_forward(ops, kind, p)
    z_out, z_st = np.zeros((4, 3, 7)), np.zeros((3, 7))
    gh = rng.standard_normal((3, 7))
    gc = z_st if kind == "lstm" else None
    assert_all_close(seq_backward(ops, kind, p, fwd, None, gh, None),
                     seq_backward(ops, kind, p, fwd, z_out, gh, gc))
    go = rng.standard_normal((4, 3, 7))
    assert_all_close(seq_backward(ops, kind, p, fwd, go, None, None),
                     seq_backward(ops, kind, p, fwd, go, z_st, gc))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("B,I,H", [(0, 5, 7), (3, 0, 7), (3, 5, 0)])
def test_zero_sizes(rng, kind, B, I, H):
    """Empty batch, zero input size (only the recurrence drives the state) and zero hidden size:
    right shapes, and gradients of the non-empty arrays are the reference's (zeros for
    B == 0 / H == 0)."""
    check_cell(rng, kind, make_params(rng, kind, B, I, H, np.float64), np.float64)
    check_sequence(rng, kind, make_params(rng, kind, B, I, H, np.float64, T=3), np.float64)


# ----------------------------------------------------------------------------------------------
# Layouts: strided inputs, transposed weights
# ----------------------------------------------------------------------------------------------
def strided(a):
    """A non-contiguous view with a's values (every other element of a doubled array)."""
    if a is None:
        return None
    big = np.repeat(a, 2, axis=-1)
    view = big[..., ::2]
    assert not view.flags.c_contiguous or a.size <= 1
    return view


def transposed_storage(w):
    """w's values held as the transpose of a row-major array (w.T of a contiguous (I, G*H))."""
    return np.ascontiguousarray(w.T).T


def batch_major(x):
    """(T, B, I) values stored batch-major, as a batch_first input transposed to (T, B, I)."""
    return np.ascontiguousarray(np.swapaxes(x, 0, 1)).swapaxes(0, 1)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_strided_views(rng, kind, dtype):
    p = make_params(rng, kind, 4, 9, 11, dtype)
    q = {k: strided(v) for k, v in p.items()}
    q["w_ih"], q["w_hh"] = transposed_storage(p["w_ih"]), strided(p["w_hh"])
    check_cell(rng, kind, q, dtype)
    assert_all_close(cell_forward(ops, kind, q), cell_forward(ops, kind, p))

    s = make_params(rng, kind, 4, 9, 11, dtype, T=5)
    for x in (batch_major(s["x"]), strided(s["x"]), s["x"][::-1]):
        t = dict(s, x=x, w_ih=strided(s["w_ih"]), w_hh=transposed_storage(s["w_hh"]),
                 h=strided(s["h"]), c=strided(s["c"]), b_ih=strided(s["b_ih"]))
        check_sequence(rng, kind, t, dtype)


# ----------------------------------------------------------------------------------------------
# Threads, SIMD levels, determinism, concurrency
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_threads(rng, threads, kind):
    for dtype in DTYPES:
        check_cell(rng, kind, make_params(rng, kind, 70, 37, 130, dtype), dtype)
        check_sequence(rng, kind, make_params(rng, kind, 64, 20, 400 if "rnn" in kind else 130,
                                              dtype, T=3), dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_simd_levels(rng, simd_level, kind):
    """float32 picks the fused-pass build by SIMD level (double always runs the portable one)."""
    for geom in [(3, 5, 7), (5, 33, 40), (70, 37, 130)]:
        check_cell(rng, kind, make_params(rng, kind, *geom, np.float32), np.float32)
    check_sequence(rng, kind, make_params(rng, kind, 5, 33, 40, np.float32, T=4), np.float32)


def test_simd_levels_agree(rng):
    """The three builds of the fused passes compute the same function (to float32 rounding)."""
    p = make_params(rng, "lstm", 5, 33, 45, np.float32, T=3)
    saved = ember.backend_info()["simd"]
    results = []
    try:
        for level in ("generic", "avx2", "avx512"):
            try:
                ember._C.set_simd_level(level)
            except ValueError:
                continue
            fwd = seq_forward(ops, "lstm", p)
            results.append(fwd + seq_backward(ops, "lstm", p, fwd, np.ones_like(fwd[0]), None))
    finally:
        ember._C.set_simd_level(saved)
    for other in results[1:]:
        for a, b in zip(other, results[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic(rng, threads, kind):
    p = make_params(rng, kind, 64, 30, 130, np.float32, T=4)
    go = rng.standard_normal((4, 64, 130)).astype(np.float32)
    runs = []
    for _ in range(2):
        fwd = seq_forward(ops, kind, p)
        runs.append(fwd + seq_backward(ops, kind, p, fwd, go, None))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_concurrent_callers(rng):
    """Python threads calling the kernels at once (GIL released) each get their own scratch."""
    params = [make_params(rng, "lstm", 16, 20, 40, np.float32, T=6) for _ in range(4)]

    def run(p):
        fwd = seq_forward(ops, "lstm", p)
        return fwd + seq_backward(ops, "lstm", p, fwd, np.ones_like(fwd[0]), None)

    serial = [run(p) for p in params]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            for got, want in zip(pool.map(run, params), serial):
                for a, b in zip(got, want):
                    assert np.array_equal(a, b)


# ----------------------------------------------------------------------------------------------
# Sequence == T cell steps
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_equals_cell_steps(rng, kind, dtype):
    """Forward: h_t of the sequence = the cell applied step by step. Backward: the sequence's
    gradients = the cell backward chained through the steps, weight gradients summed."""
    T, B, I, H = 5, 3, 6, 9
    p = make_params(rng, kind, B, I, H, dtype, T=T)
    fwd = seq_forward(ops, kind, p)
    h, c, steps = p["h"], p["c"], []
    for t in range(T):
        q = dict(p, x=p["x"][t], h=h, c=c)
        step = cell_forward(ops, kind, q)
        steps.append((q, step))
        assert_close(fwd[0][t], step[0], f"output[{t}]")
        h = step[0]
        c = step[1] if kind == "lstm" else None
    assert_close(fwd[1], h, "h_n")
    if kind == "lstm":
        assert_close(fwd[2], c, "c_n")

    go = rng.standard_normal((T, B, H)).astype(dtype)
    gh = rng.standard_normal((B, H)).astype(dtype)
    gc = rng.standard_normal((B, H)).astype(dtype) if kind == "lstm" else None
    seq = seq_backward(ops, kind, p, fwd, go, gh, gc)
    dh, dc = gh, gc
    dx = np.empty_like(p["x"])
    sums = None
    for t in range(T - 1, -1, -1):
        q, step = steps[t]
        g = cell_backward(ops, kind, q, step, dh + go[t], dc)
        dx[t] = g[0]
        dh = g[1]
        dc = g[2] if kind == "lstm" else None
        tail = g[-4:]
        sums = list(tail) if sums is None else [s + v for s, v in zip(sums, tail)]
    assert_close(seq[0], dx, "d_input")
    assert_close(seq[1], dh, "d_h0")
    if kind == "lstm":
        assert_close(seq[2], dc, "d_c0")
    for k, name in enumerate(["d_w_ih", "d_w_hh", "d_b_ih", "d_b_hh"]):
        assert_close(seq[-4 + k], sums[k], name)


# ----------------------------------------------------------------------------------------------
# Subsets of gradients
# ----------------------------------------------------------------------------------------------
FLAG_SETS = [
    dict(input_grad=True, hidden_grad=False, weight_grad=False, bias_grad=False),
    dict(input_grad=False, hidden_grad=True, weight_grad=False, bias_grad=False),
    dict(input_grad=False, hidden_grad=False, weight_grad=True, bias_grad=False),
    dict(input_grad=False, hidden_grad=False, weight_grad=False, bias_grad=True),
    dict(input_grad=False, hidden_grad=False, weight_grad=False, bias_grad=False),
]


@pytest.mark.parametrize("flags", FLAG_SETS, ids=lambda f: "+".join(k for k, v in f.items() if v)
                         or "none")
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_subsets(rng, kind, flags):
    """Switched-off gradients are None; the others equal the full computation's."""
    n_states = 2 if kind == "lstm" else 1
    which = ([flags["input_grad"]] + [flags["hidden_grad"]] * n_states +
             [flags["weight_grad"]] * 2 + [flags["bias_grad"]] * 2)
    for T in (1, 4):
        p = make_params(rng, kind, 3, 5, 7, np.float64, T=T)
        fwd = seq_forward(ops, kind, p)
        go = rng.standard_normal(fwd[0].shape)
        full = seq_backward(ops, kind, p, fwd, go, None)
        part = seq_backward(ops, kind, p, fwd, go, None, **flags)
        ref = seq_backward(reference, kind, p, seq_forward(reference, kind, p), go, None,
                           **flags)
        assert_all_close(part, [f if w else None for f, w in zip(full, which)])
        assert_all_close(ref, part)


# ----------------------------------------------------------------------------------------------
# IEEE specials
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_nan_propagates_along_its_row(rng, kind, dtype):
    """A NaN in x[t=1, b=0] makes h_t of batch row 0 NaN from step 1 on, nothing else (relu
    included: relu(NaN) is NaN, as in torch)."""
    p = make_params(rng, kind, 3, 5, 7, dtype, T=4)
    p["x"][1, 0, 2] = np.nan
    out = seq_forward(ops, kind, p)[0]
    assert np.isfinite(out[0]).all() and np.isfinite(out[:, 1:]).all()
    assert np.isnan(out[1:, 0]).all()
    assert_all_close(seq_forward(ops, kind, p), seq_forward(reference, kind, p))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", KINDS)
def test_saturated_gates(rng, kind, dtype):
    """Pre-activations of order 1e4: sigmoid and tanh saturate to the reference's limits (the
    kernels' exp is clamped: no inf or NaN), forward and backward."""
    p = make_params(rng, kind, 4, 6, 8, dtype, T=3)
    p["x"] *= 1e4
    fwd = seq_forward(ops, kind, p)
    assert all(np.isfinite(a).all() for a in fwd)
    check_sequence(rng, kind, p, dtype)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------
def lstm_args(B=3, I=5, H=7, dtype=np.float32):
    rng = np.random.default_rng(0)
    return make_params(rng, "lstm", B, I, H, dtype)


def call_lstm_cell(p):
    return ops.lstm_cell_forward(p["x"], p["h"], p["c"], p["w_ih"], p["w_hh"], p["b_ih"],
                                 p["b_hh"])


BAD_LSTM_CELL = [
    ("w_ih rows", dict(w_ih=np.zeros((27, 5), np.float32)), ValueError,
     r"w_ih first dim must be 4 \* hidden_size = 28.*\(27, 5\)"),
    ("w_ih cols", dict(w_ih=np.zeros((28, 6), np.float32)), ValueError,
     r"input has inconsistent input_size: got 5 expected 6"),
    ("w_hh rows", dict(w_hh=np.zeros((27, 7), np.float32)), ValueError,
     r"w_hh must have shape \(4 \* hidden_size, hidden_size\) = \(28, 7\), got \(27, 7\)"),
    ("hidden mismatch", dict(h=np.zeros((3, 8), np.float32)), ValueError,
     r"hx must have shape \(batch, hidden_size\) = \(3, 7\), got \(3, 8\)"),
    ("cell mismatch", dict(c=np.zeros((3, 6), np.float32)), ValueError,
     r"cx must have shape \(batch, hidden_size\) = \(3, 7\), got \(3, 6\)"),
    ("batch mismatch", dict(h=np.zeros((2, 7), np.float32)), ValueError, r"\(3, 7\), got \(2, 7\)"),
    ("input rank", dict(x=np.zeros((1, 3, 5), np.float32)), ValueError,
     r"input must be 2-D \(batch, input_size\), got shape \(1, 3, 5\)"),
    ("weight rank", dict(w_hh=np.zeros(28, np.float32)), ValueError,
     r"w_hh must be 2-D, got shape \(28,\)"),
    ("bias shape", dict(b_ih=np.zeros(27, np.float32)), ValueError,
     r"b_ih must have shape \(28,\), got \(27,\)"),
    ("dtype mismatch", dict(w_hh=np.zeros((28, 7), np.float64)), ValueError,
     r"same dtype.*input float32.*w_hh float64"),
    ("int input", dict(x=np.zeros((3, 5), np.int64)), TypeError, r"input must be a float32"),
]


@pytest.mark.parametrize("case", BAD_LSTM_CELL, ids=lambda c: c[0])
def test_bad_lstm_cell_input(case):
    _, change, exc, msg = case
    with pytest.raises(exc, match=msg):
        call_lstm_cell({**lstm_args(), **change})


def test_bad_gru_and_rnn_input():
    rng = np.random.default_rng(0)
    p = make_params(rng, "gru", 3, 5, 7, np.float32)
    with pytest.raises(ValueError, match=r"w_ih first dim must be 3 \* hidden_size = 21"):
        ops.gru_cell_forward(p["x"], p["h"], p["w_ih"][:20], p["w_hh"])
    with pytest.raises(ValueError, match=r"b_hh must have shape \(21,\), got \(28,\)"):
        ops.gru_cell_forward(p["x"], p["h"], p["w_ih"], p["w_hh"], None, np.zeros(28, np.float32))
    q = make_params(rng, "rnn_tanh", 3, 5, 7, np.float32)
    with pytest.raises(ValueError, match=r"w_hh must have shape \(hidden_size, hidden_size\)"):
        ops.rnn_cell_forward(q["x"], q["h"], q["w_ih"], q["w_hh"][:, :6])
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        ops.rnn_cell_forward(q["x"], q["h"], q["w_ih"], q["w_hh"], nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        reference.rnn_sequence_forward(q["x"][None], q["h"], q["w_ih"], q["w_hh"],
                                       nonlinearity="gelu")


def test_bad_sequence_input():
    rng = np.random.default_rng(0)
    p = make_params(rng, "lstm", 3, 5, 7, np.float32, T=4)
    with pytest.raises(ValueError, match=r"input must be 3-D \(seq_len, batch, input_size\)"):
        ops.lstm_sequence_forward(p["x"][0], p["h"], p["c"], p["w_ih"], p["w_hh"])
    with pytest.raises(ValueError, match=r"h0 must have shape \(batch, hidden_size\) = \(3, 7\)"):
        ops.lstm_sequence_forward(p["x"], p["h"][None], p["c"], p["w_ih"], p["w_hh"])
    with pytest.raises(ValueError, match="sequence length to be larger than 0"):
        ops.lstm_sequence_forward(p["x"][:0], p["h"], p["c"], p["w_ih"], p["w_hh"])
    with pytest.raises(ValueError, match="sequence length to be larger than 0"):
        reference.lstm_sequence_forward(p["x"][:0], p["h"], p["c"], p["w_ih"], p["w_hh"])
    fwd = ops.lstm_sequence_forward(p["x"], p["h"], p["c"], p["w_ih"], p["w_hh"])
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(4, 3, 7\)"):
        ops.lstm_sequence_backward(fwd[0][:3], None, None, p["x"], p["h"], p["c"], p["w_ih"],
                                   p["w_hh"], fwd[0], fwd[3], fwd[4])
    with pytest.raises(ValueError, match=r"gates must have shape \(4, 3, 28\)"):
        ops.lstm_sequence_backward(fwd[0], None, None, p["x"], p["h"], p["c"], p["w_ih"],
                                   p["w_hh"], fwd[0], fwd[3], fwd[4][:, :, :27])


def test_binding_refuses_what_the_ops_layer_would_fix():
    """_C checks too (it is the last line before raw pointers): layouts it cannot read, dtypes,
    shapes, a missing forward output."""
    rng = np.random.default_rng(0)
    p = make_params(rng, "lstm", 3, 5, 7, np.float32, T=2)
    x, h, c, wi, wh = p["x"], p["h"], p["c"], p["w_ih"], p["w_hh"]
    with pytest.raises(ValueError, match="h0 must be C-contiguous"):
        ember._C.lstm_forward(x, np.asfortranarray(h), c, wi, wh, None, None)
    with pytest.raises(TypeError, match="c0 has dtype float64, expected float32"):
        ember._C.lstm_forward(x, h, c.astype(np.float64), wi, wh, None, None)
    with pytest.raises(TypeError, match="x must be float32 or float64"):
        ember._C.gru_forward(x.astype(np.int32), h, wi[:21], wh[:21], None, None)
    with pytest.raises(ValueError, match=r"w_hh must have shape \(7, 7\), got \(28, 7\)"):
        ember._C.rnn_forward(x, h, wi[:7], wh, None, None, "tanh")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        ember._C.rnn_forward(x, h, wi[:7], wh[:7], None, None, "gelu")
    out, cs, gates = ember._C.lstm_forward(x, h, c, wi, wh, None, None)
    with pytest.raises(ValueError, match="out .* is required"):
        ember._C.lstm_backward(x, h, c, wi, wh, None, cs, gates, out, None, None,
                               True, True, True, True, True, True)
