"""Fused cross-entropy and NLL loss (ember.ops, the NumPy twins, the autograd Functions and
ember.nn.functional.cross_entropy / nll_loss).

Checked over a table of inputs ((C,), (N, C) with odd widths, 64x10, 4096x1000, batch 1,
(N, C, d) and (N, C, d1, d2) whose class axis is strided) and every option (reduction none /
mean / sum, class weights, ignore_index including all-ignored, label smoothing, class-index and
probability targets) against
  * the NumPy twin in float64 (loss, log-sum-exp and input gradient, with and without the saved
    lse; both dtypes; every SIMD level; 1 and 2 threads, bitwise equal),
  * float64 gradcheck through the real C++ backward for every option combination,
  * PyTorch: the loss and every gradient (input; targets and weights for probabilities),
plus IEEE extremes, integer target dtypes, non-contiguous operands, the deprecated
size_average/reduce arguments, and bad input raising PyTorch's exception with its message.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import ops
from ember.autograd import gradcheck
from ember.ops import reference as ref

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]
REDUCTIONS = ["none", "mean", "sum"]
EPS = {np.float32: 2e-6, np.float64: 1e-13}

# input shapes: (C,), rows of odd widths, batch 1, spatial (class axis strided by prod(d))
SHAPES = [(6,), (64, 10), (5, 1), (7, 3), (9, 17), (3, 1001), (1, 10), (4, 5, 3), (2, 4, 3, 5),
          (2, 3, 2, 2, 3)]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def class_axis(shape):
    return 0 if len(shape) == 1 else 1


def make_inputs(rng, shape, dtype, kind, ignore=True):
    """Logits, targets (class indices with some ignored, or probabilities) and weights."""
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    c = shape[class_axis(shape)]
    if kind == "prob":
        p = rng.random(shape) ** 3
        t = (p / p.sum(axis=class_axis(shape), keepdims=True)).astype(dtype)
    else:
        tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
        t = rng.integers(0, c, tshape)
        if ignore and t.ndim:
            t.reshape(-1)[1::4] = -100
    w = (rng.random(c) + 0.25).astype(dtype)
    return x, t, w


def bound(expected, dtype, scale):
    """Allowed error: relative to the value, plus sums of ~C terms of size `scale`."""
    return 8 * EPS[dtype] * (np.abs(expected) + scale)


def assert_within(actual, expected, bnd):
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    special = ~np.isfinite(expected)
    np.testing.assert_array_equal(actual[special], expected[special])
    err = np.where(special, 0, np.abs(actual - np.where(special, 0, expected)))
    bnd = np.where(special, 0, np.broadcast_to(bnd, err.shape))
    if err.size and not np.all(err <= bnd):
        i = np.unravel_index(np.argmax(err - bnd), err.shape)
        raise AssertionError(f"error {err[i]:.3g} at {i} exceeds {bnd[i]:.3g}: got {actual[i]!r}"
                             f", expected {expected[i]!r}")


def check_ce(rng, shape, dtype, kind, reduction, use_weight, eps, ignore=True):
    x, t, w = make_inputs(rng, shape, dtype, kind, ignore)
    w = w if use_weight else None
    kw = dict(weight=w, reduction=reduction, label_smoothing=eps)
    loss, lse = ops.cross_entropy(x, t, return_lse=True, **kw)
    w64 = None if w is None else w.astype(np.float64)
    t64 = t.astype(np.float64) if kind == "prob" else t
    kw64 = dict(kw, weight=w64)
    loss64, lse64 = ref.cross_entropy(x.astype(np.float64), t64, return_lse=True, **kw64)
    assert loss.dtype == dtype and lse.dtype == np.float64
    classes = shape[class_axis(shape)]
    scale = np.log(classes) + 10 if reduction == "none" else (np.log(classes) + 10) * max(
        1, loss64.size)
    assert_within(loss, loss64, bound(loss64, dtype, scale))
    assert_within(lse, lse64, bound(lse64, dtype, 1))
    g = np.asarray(rng.standard_normal(loss.shape) + 1.5, dtype)
    dx = ops.cross_entropy_backward(x, t, g, lse=lse, **kw)
    dx_no_lse = ops.cross_entropy_backward(x, t, g, **kw)
    dx64 = ref.cross_entropy_backward(x.astype(np.float64), t64, g.astype(np.float64), **kw64)
    assert dx.dtype == dtype and dx.shape == x.shape
    gscale = np.abs(g).max(initial=0) * (w.max() if w is not None else 1) * 4
    assert_within(dx, dx64, bound(dx64, dtype, gscale))
    np.testing.assert_array_equal(dx, dx_no_lse)
    # the twin's own backward with the saved lse agrees with its recomputation
    np.testing.assert_allclose(ref.cross_entropy_backward(x.astype(np.float64), t64, g, lse=lse64,
                                                          **kw64), dx64, rtol=1e-12, atol=1e-14)


OPTIONS = list(itertools.product(["class", "prob"], REDUCTIONS, [False, True], [0.0, 0.15]))


def opt_id(o):
    kind, red, use_w, eps = o
    return f"{kind}-{red}-{'w' if use_w else 'now'}-ls{eps}"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("opt", OPTIONS, ids=opt_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cross_entropy_matches_numpy_twin(rng, shape, opt, dtype):
    check_ce(rng, shape, dtype, *opt)


@pytest.mark.parametrize("kind", ["class", "prob"])
def test_cross_entropy_4096x1000(rng, kind):
    check_ce(rng, (4096, 1000), np.float32, kind, "mean", True, 0.1)


@pytest.mark.parametrize("shape", [(3, 15), (2, 16), (2, 17), (2, 47), (2, 4, 15), (2, 4, 17),
                                   (3, 5, 2, 9)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", ["class", "prob"])
def test_cross_entropy_every_simd_level(rng, simd_level, shape, dtype, kind):
    check_ce(rng, shape, dtype, kind, "none", True, 0.2)
    check_ce(rng, shape, dtype, kind, "mean", False, 0.0)


@pytest.mark.parametrize("shape", [(700, 300), (4, 30, 800)], ids=["rows", "columns"])
@pytest.mark.parametrize("kind", ["class", "prob"])
def test_threads_agree_bitwise(rng, restore_threads, shape, kind):
    x, t, w = make_inputs(rng, shape, np.float32, kind)
    out = {}
    for n in (1, 2):
        ember.set_num_threads(n)
        loss, lse = ops.cross_entropy(x, t, w, label_smoothing=0.1, return_lse=True)
        none = ops.cross_entropy(x, t, w, reduction="none")
        dx = ops.cross_entropy_backward(x, t, 1.0, w, label_smoothing=0.1, lse=lse)
        nll = ops.nll_loss(x, t, w) if kind == "class" else loss
        out[n] = (loss, lse, none, dx, nll)
    for a, b in zip(out[1], out[2]):
        np.testing.assert_array_equal(a, b)


def test_threads_fixture_values(rng, threads):
    check_ce(rng, (700, 300), np.float32, "class", "mean", True, 0.1)
    check_ce(rng, (4, 30, 800), np.float64, "prob", "sum", True, 0.0)


# ----------------------------------------------------------------------------------------------
# NLL loss
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("use_weight", [False, True], ids=["now", "w"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES + [(4096, 1000)], ids=str)
def test_nll_loss_matches_numpy_twin(rng, shape, reduction, use_weight, dtype):
    x, t, w = make_inputs(rng, shape, dtype, "class")
    w = w if use_weight else None
    loss = ops.nll_loss(x, t, w, reduction=reduction)
    loss64 = ref.nll_loss(x.astype(np.float64), t, None if w is None else w.astype(np.float64),
                          reduction=reduction)
    assert loss.dtype == dtype
    assert_within(loss, loss64, bound(loss64, dtype, 10 * max(1, t.size)))
    g = np.asarray(rng.standard_normal(loss.shape), dtype)
    dx = ops.nll_loss_backward(x, t, g, w, reduction=reduction)
    dx64 = ref.nll_loss_backward(x.astype(np.float64), t, g.astype(np.float64),
                                 None if w is None else w.astype(np.float64), reduction=reduction)
    assert dx.dtype == dtype and dx.shape == x.shape
    assert_within(dx, dx64, bound(dx64, dtype, 0))
    assert np.count_nonzero(dx) <= t.size


# ----------------------------------------------------------------------------------------------
# ignore_index, all ignored, extremes
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(4, 5), (2, 5, 3)], ids=str)
def test_all_ignored(torch, shape, eps):
    x = np.random.default_rng(1).standard_normal(shape)
    t = np.full(shape[:1] + shape[2:], -100)
    for red, want in [("mean", np.nan), ("sum", 0.0)]:
        got = ops.cross_entropy(x, t, reduction=red, label_smoothing=eps)
        theirs = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t),
                                                   reduction=red, label_smoothing=eps)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, theirs.numpy())
        np.testing.assert_array_equal(ops.nll_loss(x, t, reduction=red), want)
        np.testing.assert_array_equal(ops.cross_entropy_backward(x, t, 1.0, reduction=red,
                                                                 label_smoothing=eps), 0)
    np.testing.assert_array_equal(ops.cross_entropy(x, t, reduction="none"), np.zeros(t.shape))
    xt = ember.tensor(x, requires_grad=True)
    F.cross_entropy(xt, ember.tensor(t), label_smoothing=eps).backward()
    np.testing.assert_array_equal(xt.grad.numpy(), 0)       # PyTorch: zeros, not nan


@pytest.mark.parametrize("ignore_index", [1, 7, -1])
def test_ignore_index_values(torch, rng, ignore_index):
    """A class index (1), an out-of-range index (7) and -1 as ignore_index, with weights and
    smoothing (the ignored target's weight must not enter the mean's denominator)."""
    x = rng.standard_normal((6, 5))
    t = np.array([0, ignore_index, 2, ignore_index, 4, 1 if ignore_index != 1 else 3])
    w = rng.random(5) + 0.5
    for red in REDUCTIONS:
        got = ops.cross_entropy(x, t, w, ignore_index=ignore_index, reduction=red,
                                label_smoothing=0.3)
        theirs = torch.nn.functional.cross_entropy(
            torch.from_numpy(x), torch.from_numpy(t), torch.from_numpy(w),
            ignore_index=ignore_index, reduction=red, label_smoothing=0.3)
        np.testing.assert_allclose(got, theirs.numpy(), rtol=1e-13)
        np.testing.assert_allclose(ops.nll_loss(x, t, w, ignore_index, red), torch.nn.functional
                                   .nll_loss(torch.from_numpy(x), torch.from_numpy(t),
                                             torch.from_numpy(w), ignore_index=ignore_index,
                                             reduction=red).numpy(), rtol=1e-13)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_extreme_logits(torch, simd_level, dtype, layout):
    inf = np.inf
    x = np.array([[1e4, -1e4, 0.0],          # target 0: loss exactly 0
                  [1e4, -1e4, 0.0],          # target 1: loss 2e4
                  [-inf, 0.0, 1.0],          # -inf non-target: finite
                  [-inf, 0.0, 1.0],          # -inf target: inf
                  [-1e4, -1e4, -1e4]], dtype)
    t = np.array([0, 1, 2, 0, 1])
    xin, tin = (x, t) if layout == "rows" else (np.ascontiguousarray(x.T)[None], t[None])
    got = ops.cross_entropy(xin, tin, reduction="none").reshape(-1)
    want = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t),
                                             reduction="none").numpy()
    np.testing.assert_array_equal(got[:2], [0, 2e4])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got[3] == inf
    g = ops.cross_entropy_backward(xin, tin, np.ones(tin.shape, dtype), reduction="none")
    g = g.reshape(x.shape) if layout == "rows" else g[0].T
    tx = torch.tensor(x[[0, 1, 2, 4]], requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.from_numpy(t[[0, 1, 2, 4]]), reduction="sum"
                                      ).backward()
    np.testing.assert_allclose(g[[0, 1, 2, 4]], tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_zero_weights_give_nan_mean(torch):
    x = np.random.default_rng(2).standard_normal((4, 5))
    t = np.array([0, 1, 2, 3])
    w = np.zeros(5)
    got = ops.cross_entropy(x, t, w)
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t),
                                               torch.from_numpy(w))
    assert np.isnan(got) and np.isnan(theirs.item())


@pytest.mark.parametrize("shape", [(0, 5), (0, 5, 3), (3, 5, 0)], ids=str)
def test_zero_size(torch, shape):
    x = np.zeros(shape)
    t = np.zeros(shape[:1] + shape[2:], np.int64)
    p = np.zeros(shape)
    for red in REDUCTIONS:
        for target in (t, p):
            got = ops.cross_entropy(x, target, reduction=red)
            theirs = torch.nn.functional.cross_entropy(torch.from_numpy(x),
                                                       torch.from_numpy(target), reduction=red)
            np.testing.assert_array_equal(got, theirs.numpy())
            assert ops.cross_entropy_backward(x, target, np.zeros(got.shape), reduction=red
                                              ).shape == shape
        np.testing.assert_array_equal(ops.nll_loss(x, t, reduction=red), torch.nn.functional
                                      .nll_loss(torch.from_numpy(x), torch.from_numpy(t),
                                                reduction=red).numpy())


def test_no_classes_only_ignored_targets():
    x = np.zeros((3, 0))
    assert ops.cross_entropy(x, np.full(3, -100), reduction="sum") == 0
    with pytest.raises(IndexError, match="Target 0 is out of bounds."):
        ops.cross_entropy(x, np.zeros(3, np.int64))


# ----------------------------------------------------------------------------------------------
# target dtypes and layouts
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tdtype", [np.int32, np.int16, np.int8, np.uint8, np.uint16, np.int64])
def test_integer_target_dtypes(rng, tdtype):
    x, t, w = make_inputs(rng, (8, 5), np.float32, "class", ignore=False)
    want = ops.cross_entropy(x, t, w, reduction="none")
    np.testing.assert_array_equal(ops.cross_entropy(x, t.astype(tdtype), w, reduction="none"),
                                  want)
    np.testing.assert_array_equal(ops.nll_loss(x, t.astype(tdtype), w, reduction="none"),
                                  ops.nll_loss(x, t, w, reduction="none"))
    if tdtype is np.uint16:
        # ember.Tensor, like torch.from_numpy, has no uint16: it must say so, not guess.
        with pytest.raises(TypeError, match="uint16"):
            ember.tensor(t.astype(tdtype))
        return
    xt = ember.tensor(x, requires_grad=True)
    F.cross_entropy(xt, ember.tensor(t.astype(tdtype))).backward()
    np.testing.assert_array_equal(xt.grad.numpy(), ops.cross_entropy_backward(x, t))


def test_non_contiguous_operands(rng):
    x, t, w = make_inputs(rng, (9, 7), np.float64, "class")
    xv = np.ascontiguousarray(x.T).T                       # transposed storage
    tv = np.repeat(t, 2)[::2]                              # strided targets
    wv = np.repeat(w, 3)[::3]
    for red in REDUCTIONS:
        np.testing.assert_allclose(ops.cross_entropy(xv, tv, wv, reduction=red, label_smoothing=0.1),
                                   ref.cross_entropy(x, t, w, reduction=red, label_smoothing=0.1),
                                   rtol=1e-13)
    np.testing.assert_allclose(ops.cross_entropy_backward(xv, tv, 1.0, wv),
                               ref.cross_entropy_backward(x, t, 1.0, w), rtol=1e-13, atol=1e-15)
    # spatial input sliced along its inner axes, probability targets in another layout
    xs = rng.standard_normal((3, 4, 6, 10))[:, :, ::2, 1:8]
    p = rng.random((3, 7, 3, 4)).transpose(0, 3, 2, 1)
    p = p / p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ops.cross_entropy(xs, p, reduction="none"),
                               ref.cross_entropy(np.ascontiguousarray(xs), np.ascontiguousarray(p),
                                                 reduction="none"), rtol=1e-13)
    np.testing.assert_allclose(ops.cross_entropy_backward(xs, p, 0.5),
                               ref.cross_entropy_backward(np.ascontiguousarray(xs),
                                                          np.ascontiguousarray(p), 0.5),
                               rtol=1e-12, atol=1e-15)
    tt = rng.integers(0, 4, (3, 3, 7))
    np.testing.assert_allclose(ops.nll_loss(xs, tt), ref.nll_loss(np.ascontiguousarray(xs), tt),
                               rtol=1e-13)


def test_one_dim_input_with_one_element_target(torch, rng):
    x = rng.standard_normal(5)
    for t in (np.array(2), np.array([2])):
        got = ops.cross_entropy(x, t, reduction="none")
        theirs = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t),
                                                   reduction="none")
        assert got.shape == tuple(theirs.shape) == ()
        np.testing.assert_allclose(got, theirs.numpy(), rtol=1e-14)
        np.testing.assert_allclose(ops.nll_loss(x, t, reduction="none"), torch.nn.functional
                                   .nll_loss(torch.from_numpy(x), torch.from_numpy(t),
                                             reduction="none").numpy(), rtol=1e-14)


def test_probability_targets_promote_like_torch(torch, rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    p = rng.random((4, 5))
    p /= p.sum(1, keepdims=True)
    got = ops.cross_entropy(x, p)
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(p))
    assert got.dtype == np.float64 and theirs.dtype == torch.float64
    np.testing.assert_allclose(got, theirs.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# autograd: gradcheck through the C++ backward, every option combination
# ----------------------------------------------------------------------------------------------
GRAD_OPTIONS = list(itertools.product(REDUCTIONS, [False, True], [0.0, 0.3], [False, True]))


@pytest.mark.parametrize("reduction,use_weight,eps,ignore", GRAD_OPTIONS,
                         ids=[f"{r}-{'w' if w else 'now'}-ls{e}-{'ign' if i else 'all'}"
                              for r, w, e, i in GRAD_OPTIONS])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)], ids=str)
def test_gradcheck_cross_entropy_class(rng, shape, reduction, use_weight, eps, ignore):
    x, t, w = make_inputs(rng, shape, np.float64, "class", ignore=False)
    if ignore:
        t.reshape(-1)[1] = 3
    xt = ember.tensor(x, requires_grad=True)
    tt, wt = ember.tensor(t), ember.tensor(w) if use_weight else None
    assert gradcheck(lambda a: F.cross_entropy(a, tt, wt, ignore_index=3 if ignore else -100,
                                               reduction=reduction, label_smoothing=eps), (xt,))


@pytest.mark.parametrize("reduction,use_weight,eps", list(itertools.product(
    REDUCTIONS, [False, True], [0.0, 0.3])))
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2)], ids=str)
def test_gradcheck_cross_entropy_prob(rng, shape, reduction, use_weight, eps):
    """Gradients w.r.t. logits, probability targets and weights together."""
    x, p, w = make_inputs(rng, shape, np.float64, "prob")
    args = [ember.tensor(x, requires_grad=True), ember.tensor(p, requires_grad=True)]
    if use_weight:
        args.append(ember.tensor(w, requires_grad=True))
    assert gradcheck(lambda a, b, *c: F.cross_entropy(a, b, *c, reduction=reduction,
                                                      label_smoothing=eps), tuple(args))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (5,)], ids=str)
def test_gradcheck_nll_loss(rng, shape, reduction):
    x, t, w = make_inputs(rng, shape, np.float64, "class")
    xt = ember.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: F.nll_loss(a, ember.tensor(t), ember.tensor(w),
                                          reduction=reduction), (xt,))
    # log_softmax followed by nll_loss equals the fused cross-entropy, gradients included
    assert gradcheck(lambda a: F.nll_loss(F.log_softmax(a, class_axis(shape)), ember.tensor(t),
                                          reduction=reduction), (xt,))


# ----------------------------------------------------------------------------------------------
# PyTorch parity: the loss and every gradient
# ----------------------------------------------------------------------------------------------
PARITY_SHAPES = [(64, 10), (5, 1), (7, 3), (9, 17), (3, 1001), (1, 10), (6,), (4, 5, 3),
                 (2, 4, 3, 5), (2, 3, 2, 2, 3)]
PARITY = [(s, d, k, r, w, e) for s in PARITY_SHAPES for d in DTYPES for k in ("class", "prob")
          for r in REDUCTIONS for w in (False, True) for e in (0.0, 0.1)
          if d == np.float32 or (w and e)]
PARITY += [((4096, 1000), np.float32, k, "mean", w, e) for k in ("class", "prob")
           for w, e in [(False, 0.0), (True, 0.1)]]


def parity_id(case):
    s, d, k, r, w, e = case
    return f"{s}-{np.dtype(d).name}-{k}-{r}-{'w' if w else 'now'}-ls{e}"


@pytest.mark.parametrize("case", PARITY, ids=[parity_id(c) for c in PARITY])
def test_torch_parity_cross_entropy(torch, rng, case):
    shape, dtype, kind, reduction, use_weight, eps = case
    x, t, w = make_inputs(rng, shape, dtype, kind)
    w = w if use_weight else None
    needs_tw = kind == "prob"
    xt = ember.tensor(x, requires_grad=True)
    tt = ember.tensor(t, requires_grad=needs_tw)
    wt = None if w is None else ember.tensor(w, requires_grad=needs_tw)
    loss = F.cross_entropy(xt, tt, wt, reduction=reduction, label_smoothing=eps)
    tx = torch.tensor(x, requires_grad=True)
    ttt = torch.tensor(t, requires_grad=needs_tw)
    twt = None if w is None else torch.tensor(w, requires_grad=needs_tw)
    tloss = torch.nn.functional.cross_entropy(tx, ttt, twt, reduction=reduction,
                                              label_smoothing=eps)
    assert tuple(loss.shape) == tuple(tloss.shape) and loss.dtype.np == dtype
    want = tloss.detach().numpy().astype(np.float64)
    classes = shape[class_axis(shape)]
    assert_within(loss.detach().numpy(), want,
                  bound(want, dtype, (np.log(classes) + 10) * (1 if reduction != "sum" else
                                                               max(1, want.size * 64))))
    g = np.asarray(rng.standard_normal(loss.shape) + 1.5, dtype)
    loss.backward(ember.tensor(g))
    tloss.backward(torch.from_numpy(g))
    gw = 4 * np.abs(g).max(initial=0) * (1 if w is None else w.max())
    for ours, theirs in [(xt, tx)] + ([(tt, ttt)] + ([(wt, twt)] if w is not None else [])
                                      if needs_tw else []):
        want = theirs.grad.numpy().astype(np.float64)
        scale = gw * (np.sqrt(want.size) if ours is wt else 1) * (
            (np.log(classes) + 10) if ours is not xt else 1)
        assert_within(ours.grad.numpy(), want, bound(want, dtype, scale))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(64, 10), (7, 3), (6,), (4, 5, 3), (2, 4, 3, 5), (4096, 1000)],
                         ids=str)
def test_torch_parity_nll_loss(torch, rng, shape, reduction, dtype):
    x, t, w = make_inputs(rng, shape, dtype, "class")
    for weight in (None, w):
        xt = ember.tensor(x, requires_grad=True)
        loss = F.nll_loss(xt, ember.tensor(t), None if weight is None else ember.tensor(weight),
                          reduction=reduction)
        tx = torch.tensor(x, requires_grad=True)
        tloss = torch.nn.functional.nll_loss(tx, torch.from_numpy(t), None if weight is None
                                             else torch.from_numpy(weight), reduction=reduction)
        want = tloss.detach().numpy().astype(np.float64)
        assert_within(loss.detach().numpy(), want, bound(want, dtype, 10 * max(1, t.size)))
        g = np.asarray(rng.standard_normal(loss.shape) + 1.5, dtype)
        loss.backward(ember.tensor(g))
        tloss.backward(torch.from_numpy(g))
        want = tx.grad.numpy().astype(np.float64)
        assert_within(xt.grad.numpy(), want, bound(want, dtype, 0))


# ----------------------------------------------------------------------------------------------
# the nn.functional signature: legacy arguments, weights that require grad, half precision
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none"),
    (True, None, "mean")])
def test_legacy_size_average_reduce(rng, size_average, reduce, expected):
    x, t, w = make_inputs(rng, (6, 4), np.float64, "class")
    xt, tt = ember.tensor(x), ember.tensor(t)
    for fn, op in [(F.cross_entropy, ops.cross_entropy), (F.nll_loss, ops.nll_loss)]:
        with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
            got = fn(xt, tt, size_average=size_average, reduce=reduce)
        np.testing.assert_array_equal(got.numpy(), op(x, t, reduction=expected))


def test_elementwise_mean_is_mean(rng):
    x, t, w = make_inputs(rng, (6, 4), np.float64, "class")
    with pytest.warns(UserWarning, match="elementwise_mean"):
        got = ops.cross_entropy(x, t, reduction="elementwise_mean")
    np.testing.assert_array_equal(got, ops.cross_entropy(x, t))


def test_class_weight_requiring_grad_is_refused(torch, rng):
    x, t, w = make_inputs(rng, (4, 3), np.float64, "class")
    msg = "not differentiable with respect to argument 'weight'"
    for fn, tfn in [(F.cross_entropy, torch.nn.functional.cross_entropy),
                    (F.nll_loss, torch.nn.functional.nll_loss)]:
        with pytest.raises(RuntimeError, match=msg):
            tfn(torch.from_numpy(x), torch.from_numpy(t), torch.tensor(w, requires_grad=True))
        with pytest.raises(RuntimeError, match=msg):
            fn(ember.tensor(x, requires_grad=True), ember.tensor(t),
               ember.tensor(w, requires_grad=True))
        with ember.no_grad():
            fn(ember.tensor(x), ember.tensor(t), ember.tensor(w, requires_grad=True))


def test_half_precision(rng):
    x, t, w = make_inputs(rng, (5, 4), np.float16, "class")
    xt = ember.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, ember.tensor(t))
    assert loss.dtype == ember.float16
    loss.backward()
    assert xt.grad.dtype == ember.float16
    np.testing.assert_allclose(loss.item(), ref.cross_entropy(x.astype(np.float64), t), rtol=2e-3)
    np.testing.assert_allclose(xt.grad.numpy().astype(np.float64),
                               ref.cross_entropy_backward(x.astype(np.float64), t), atol=2e-3)


def test_second_backward_through_freed_graph(rng):
    x, t, w = make_inputs(rng, (4, 3), np.float64, "class")
    xt = ember.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, ember.tensor(t))
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


# ----------------------------------------------------------------------------------------------
# bad input: PyTorch's exception class and message
# ----------------------------------------------------------------------------------------------
def i64(*v):
    return np.array(v, np.int64)


X45 = np.zeros((4, 5), np.float32)
BAD = [
    # (id, function name, input, target, kwargs)
    ("target_batch", "cross_entropy", X45, i64(0, 1, 2), {}),
    ("target_rank_2d", "cross_entropy", X45, np.zeros((4, 2), np.int64), {}),
    ("prob_shape", "cross_entropy", X45, np.zeros((4, 6), np.float32), {}),
    ("float_target_class_shape", "cross_entropy", X45, np.zeros(4, np.float32), {}),
    ("bool_target", "cross_entropy", X45, np.zeros(4, bool), {}),
    ("int_target_prob_shape", "cross_entropy", X45, np.zeros((4, 5), np.int64), {}),
    ("weight_len", "cross_entropy", X45, i64(0, 1, 2, 3), {"weight": np.ones(3, np.float32)}),
    ("weight_2d", "cross_entropy", X45, i64(0, 1, 2, 3), {"weight": np.ones((5, 1), np.float32)}),
    ("weight_len_prob", "cross_entropy", X45, np.zeros((4, 5), np.float32),
     {"weight": np.ones(3, np.float32)}),
    ("weight_dtype", "cross_entropy", X45, i64(0, 1, 2, 3), {"weight": np.ones(5)}),
    ("weight_int", "cross_entropy", X45, i64(0, 1, 2, 3), {"weight": np.ones(5, np.int64)}),
    ("reduction", "cross_entropy", X45, i64(0, 1, 2, 3), {"reduction": "bad"}),
    ("reduction_none_obj", "cross_entropy", X45, i64(0, 1, 2, 3), {"reduction": None}),
    ("target_high", "cross_entropy", X45, i64(0, 1, 2, 5), {}),
    ("target_negative", "cross_entropy", X45, i64(0, -3, 2, 1), {}),
    ("target_high_smoothing", "cross_entropy", X45, i64(0, 1, 9, 1), {"label_smoothing": 0.1}),
    ("target_high_weight", "cross_entropy", X45, i64(0, 1, 2, 7),
     {"weight": np.ones(5, np.float32)}),
    ("smoothing_gt_1", "cross_entropy", X45, i64(0, 1, 2, 3), {"label_smoothing": 1.5}),
    ("ignore_index_prob", "cross_entropy", X45, np.zeros((4, 5), np.float32),
     {"ignore_index": 1}),
    ("input_0d", "cross_entropy", np.float32(1.0), np.int64(0), {}),
    ("one_d_target_size", "cross_entropy", np.zeros(5, np.float32), i64(1, 2), {}),
    ("one_d_target_rank", "cross_entropy", np.zeros(5, np.float32), np.zeros((1, 1), np.int64),
     {}),
    ("target_0d_batch", "cross_entropy", X45, np.int64(1), {}),
    ("spatial_3d", "cross_entropy", np.zeros((2, 5, 3), np.float32), np.zeros((2, 4), np.int64),
     {}),
    ("spatial_3d_batch", "cross_entropy", np.zeros((2, 5, 3), np.float32),
     np.zeros((3, 3), np.int64), {}),
    ("spatial_3d_rank", "cross_entropy", np.zeros((2, 5, 3), np.float32), np.zeros(2, np.int64),
     {}),
    ("spatial_4d", "cross_entropy", np.zeros((2, 3, 2, 2), np.float32),
     np.zeros((2, 2, 3), np.int64), {}),
    ("spatial_4d_rank", "cross_entropy", np.zeros((2, 3, 2, 2), np.float32),
     np.zeros((2, 2), np.int64), {}),
    ("spatial_5d", "cross_entropy", np.zeros((2, 3, 2, 2, 2), np.float32),
     np.zeros((2, 2, 3, 2), np.int64), {}),
    ("spatial_target_oob", "cross_entropy", np.zeros((2, 3, 4), np.float32),
     np.array([[0, 1, 2, 2], [0, 1, 3, 0]]), {}),
    ("nll_target_high", "nll_loss", X45, i64(0, 1, 2, 5), {}),
    ("nll_target_batch", "nll_loss", X45, i64(0, 1), {}),
    ("nll_weight_len", "nll_loss", X45, i64(0, 1, 2, 3), {"weight": np.ones(3, np.float32)}),
    ("nll_reduction", "nll_loss", X45, i64(0, 1, 2, 3), {"reduction": "avg"}),
    ("nll_input_0d", "nll_loss", np.float32(1.0), np.int64(0), {}),
    ("nll_float_target", "nll_loss", X45, np.zeros(4, np.float32), {}),
    ("nll_spatial_4d", "nll_loss", np.zeros((2, 5, 3, 4), np.float32),
     np.zeros((2, 3, 5), np.int64), {}),
    ("nll_spatial_3d", "nll_loss", np.zeros((2, 3, 4), np.float32), np.zeros((2, 4, 1), np.int64),
     {}),
]


def call_torch(torch, name, x, t, kw):
    kw = {k: torch.from_numpy(np.asarray(v)) if isinstance(v, np.ndarray) else v
          for k, v in kw.items()}
    return getattr(torch.nn.functional, name)(torch.from_numpy(np.asarray(x)),
                                              torch.from_numpy(np.asarray(t)), **kw)


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_raises_like_torch(torch, case):
    _, name, x, t, kw = case
    with pytest.raises(Exception) as theirs:
        call_torch(torch, name, x, t, kw)
    with pytest.raises(Exception) as ours_f:
        getattr(F, name)(ember.tensor(x), ember.tensor(t),
                         **{k: ember.tensor(v) if isinstance(v, np.ndarray) else v
                            for k, v in kw.items()})
    with pytest.raises(Exception) as ours_ops:
        getattr(ops, name)(x, t, **kw)
    with pytest.raises(Exception) as ours_ref:
        getattr(ref, name)(x, t, **kw)
    for ours in (ours_f, ours_ops, ours_ref):
        assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
        assert str(ours.value) == str(theirs.value)


def test_targets_out_of_range_never_reach_the_kernel():
    """Every path that indexes by target validates first: backward calls too."""
    x = np.zeros((3, 4, 5))
    t = np.zeros((3, 5), np.int64)
    t[2, 4] = 4
    for fn in (lambda: ops.cross_entropy_backward(x, t), lambda: ops.nll_loss_backward(x, t),
               lambda: ember._C.cross_entropy(x, t, None, -100, 1, 0.0, False),
               lambda: ember._C.nll_loss_backward(x, t, np.array(1.0), None, -100, 0)):
        with pytest.raises(IndexError, match="Target 4 is out of bounds."):
            fn()
    with pytest.raises(IndexError, match=f"Target {2**62} is out of bounds."):
        ops.cross_entropy(np.zeros((1, 3)), np.array([2**62]))


def test_binding_checks_sizes_itself():
    """The C++ entry points refuse inconsistent arrays even without the Python checks."""
    x = np.zeros((4, 5))
    with pytest.raises(ValueError, match="target"):
        ember._C.cross_entropy(x, np.zeros(3, np.int64), None, -100, 1, 0.0, False)
    with pytest.raises(TypeError, match="int64"):
        ember._C.cross_entropy(x, np.zeros(4, np.int32), None, -100, 1, 0.0, False)
    with pytest.raises(ValueError, match="weight"):
        ember._C.nll_loss(x, np.zeros(4, np.int64), np.ones(4), -100, 1)
    with pytest.raises(ValueError, match="grad"):
        ember._C.cross_entropy_backward(x, np.zeros(4, np.int64), np.ones(3), None, -100, 0, 0.0)
    with pytest.raises(ValueError, match="lse"):
        ember._C.cross_entropy_backward(x, np.zeros(4, np.int64), np.ones(()), None, -100, 1, 0.0,
                                        np.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        ember._C.cross_entropy_prob(x, np.zeros((4, 6)), None, 1, 0.0, False)
    with pytest.raises(TypeError, match="same dtype"):
        ember._C.cross_entropy_prob(x, np.zeros((4, 5), np.float32), None, 1, 0.0, False)


def test_integer_logits_refused(torch):
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.cross_entropy(np.zeros((2, 3), np.int64), np.array([0, 1]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.cross_entropy(ember.tensor([[1, 2, 3]]), ember.tensor([0]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        torch.nn.functional.cross_entropy(torch.tensor([[1, 2, 3]]), torch.tensor([0]))
