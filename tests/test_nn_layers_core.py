"""The core layers and their functionals: Linear/F.linear, Bilinear/F.bilinear, Embedding/
F.embedding, F.one_hot, Flatten/Unflatten, Identity. Forward values and every gradient against
PyTorch with copied weights (float32 and float64), float64 gradcheck through the real backward,
plain-NumPy reference values, and torch's errors for bad input. Ends with a small network
trained side by side with torch."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])


def _torch():
    return pytest.importorskip("torch")


def ember_t(a, requires_grad=False):
    return ember.tensor(a, requires_grad=requires_grad)


def copy_weights(e_mod, t_mod):
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})


def assert_close(e, t, dtype):
    if e is None or t is None:
        assert e is None and t is None
        return
    e = e.detach().numpy() if hasattr(e, "detach") else e
    t = t.detach().numpy() if hasattr(t, "detach") else t
    assert e.shape == t.shape and e.dtype == t.dtype
    np.testing.assert_allclose(e, t, **TOL[dtype])


# ------------------------------------------------------------------------------ Linear
LINEAR_SHAPES = [(4, 3), (3,), (2, 5, 3), (2, 1, 4, 3), (0, 3)]


@DTYPES
@pytest.mark.parametrize("x_shape", LINEAR_SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(dtype, x_shape, bias, rng):
    torch = _torch()
    t_mod = torch.nn.Linear(3, 6, bias=bias).to(getattr(torch, np.dtype(dtype).name))
    e_mod = nn.Linear(3, 6, bias=bias, dtype=getattr(ember, np.dtype(dtype).name))
    copy_weights(e_mod, t_mod)
    x = rng.standard_normal(x_shape).astype(dtype)
    g = rng.standard_normal(x_shape[:-1] + (6,)).astype(dtype)
    tx, ex = torch.tensor(x, requires_grad=True), ember_t(x, requires_grad=True)
    ty, ey = t_mod(tx), e_mod(ex)
    assert_close(ey, ty, dtype)
    ty.backward(torch.tensor(g))
    ey.backward(ember_t(g))
    assert_close(ex.grad, tx.grad, dtype)
    assert_close(e_mod.weight.grad, t_mod.weight.grad, dtype)
    assert_close(e_mod.bias.grad if bias else None, t_mod.bias.grad if bias else None, dtype)


def test_linear_reference_values(rng):
    x = rng.standard_normal((2, 4, 3))
    w = rng.standard_normal((5, 3))
    b = rng.standard_normal(5)
    y = F.linear(ember_t(x), ember_t(w), ember_t(b)).numpy()
    np.testing.assert_allclose(y, x @ w.T + b, rtol=1e-12)
    # 1-D weight and broadcasting biases (as torch allows)
    np.testing.assert_allclose(F.linear(ember_t(x), ember_t(w[0])).numpy(), x @ w[0],
                               rtol=1e-12)
    y2 = F.linear(ember_t(x[0]), ember_t(w), ember_t(np.ones((4, 5)))).numpy()
    np.testing.assert_allclose(y2, x[0] @ w.T + 1, rtol=1e-12)


def test_linear_gradcheck(rng):
    x = ember_t(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = ember_t(rng.standard_normal((3, 4)), requires_grad=True)
    b = ember_t(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))
    bb = ember_t(rng.standard_normal((3, 3)), requires_grad=True)    # broadcast bias
    assert gradcheck(F.linear, (x, w, bb))


def test_linear_noncontiguous_input_and_inplace_detection(rng):
    x = rng.standard_normal((3, 5))
    w = rng.standard_normal((2, 3))
    xt = ember_t(x, True)
    y = F.linear(xt.t(), ember_t(w))                       # a transposed (strided) input
    np.testing.assert_allclose(y.detach().numpy(), x.T @ w.T, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), (np.ones((5, 2)) @ w).T, rtol=1e-12)
    m = nn.Linear(3, 2)
    out = m(ember.ones(4, 3, requires_grad=True))
    with ember.no_grad():
        m.weight.mul_(2)                                   # like an optimiser step too early
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_linear_partial_requires_grad():
    m = nn.Linear(3, 2)
    m.weight.requires_grad_(False)
    x = ember.ones(4, 3, requires_grad=True)
    m(x).sum().backward()
    assert m.weight.grad is None and m.bias.grad is not None and x.grad is not None
    np.testing.assert_allclose(m.bias.grad.numpy(), [4.0, 4.0])


def test_linear_errors_match_torch():
    torch = _torch()
    cases = [((4, 3), (5, 2)), ((2, 4, 3), (5, 2)), ((3,), (5, 2)), ((), (5, 3))]
    for x_shape, w_shape in cases:
        with pytest.raises(RuntimeError) as t_err:
            torch.nn.functional.linear(torch.zeros(x_shape), torch.zeros(w_shape))
        with pytest.raises(RuntimeError) as e_err:
            F.linear(ember.zeros(x_shape), ember.zeros(w_shape))
        assert str(e_err.value) == str(t_err.value)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(4x2 and 3x5\)"):
        nn.Linear(3, 5)(ember.zeros(4, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(3, 5)(ember.zeros(4, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(3, 5)(ember.zeros(4, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        F.linear(ember.zeros(2, 3), ember.zeros(5, 3, 1))
    with pytest.raises(RuntimeError, match="bias"):
        F.linear(ember.zeros(2, 3), ember.zeros(5, 3), ember.zeros(4))


def test_linear_repr_and_attributes():
    m = nn.Linear(7, 2, bias=False)
    assert repr(m) == "Linear(in_features=7, out_features=2, bias=False)"
    assert m.bias is None and list(m.state_dict()) == ["weight"]
    assert (m.in_features, m.out_features) == (7, 2)
    assert m.weight.shape == (2, 7)


# ------------------------------------------------------------------------------ Bilinear
@DTYPES
@pytest.mark.parametrize("lead", [(5,), (), (2, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(dtype, lead, bias, rng):
    torch = _torch()
    t_mod = torch.nn.Bilinear(3, 4, 2, bias=bias).to(getattr(torch, np.dtype(dtype).name))
    e_mod = nn.Bilinear(3, 4, 2, bias=bias, dtype=getattr(ember, np.dtype(dtype).name))
    copy_weights(e_mod, t_mod)
    x1 = rng.standard_normal(lead + (3,)).astype(dtype)
    x2 = rng.standard_normal(lead + (4,)).astype(dtype)
    g = rng.standard_normal(lead + (2,)).astype(dtype)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    e1, e2 = ember_t(x1, True), ember_t(x2, True)
    ty, ey = t_mod(t1, t2), e_mod(e1, e2)
    assert_close(ey, ty, dtype)
    ty.backward(torch.tensor(g))
    ey.backward(ember_t(g))
    assert_close(e1.grad, t1.grad, dtype)
    assert_close(e2.grad, t2.grad, dtype)
    assert_close(e_mod.weight.grad, t_mod.weight.grad, dtype)
    assert_close(e_mod.bias.grad if bias else None, t_mod.bias.grad if bias else None, dtype)


def test_bilinear_reference_and_gradcheck(rng):
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    w, b = rng.standard_normal((5, 3, 2)), rng.standard_normal(5)
    y = F.bilinear(ember_t(x1), ember_t(x2), ember_t(w), ember_t(b)).numpy()
    np.testing.assert_allclose(y, np.einsum("ni,oij,nj->no", x1, w, x2) + b, rtol=1e-12)
    args = [ember_t(a, True) for a in (x1[:2], x2[:2], w, b)]
    assert gradcheck(F.bilinear, args)


def test_bilinear_errors_match_torch():
    torch = _torch()
    cases = [((4, 3), (4, 2), (5, 3, 3), None), ((4, 3), (3, 2), (5, 3, 2), None),
             ((4, 3), (4, 2), (5, 3, 2), (4,)), ((4, 3), (4, 2), (5, 4, 2), None)]
    for s1, s2, sw, sb in cases:
        targs = [torch.zeros(s) for s in (s1, s2, sw)] + [None if sb is None else torch.zeros(sb)]
        eargs = [ember.zeros(s) for s in (s1, s2, sw)] + [None if sb is None else ember.zeros(sb)]
        with pytest.raises(RuntimeError) as t_err:
            torch.nn.functional.bilinear(*targs)
        with pytest.raises(RuntimeError) as e_err:
            F.bilinear(*eargs)
        assert str(e_err.value) == str(t_err.value)


# ------------------------------------------------------------------------------ Embedding
EMBED_CASES = [
    dict(),
    dict(padding_idx=2),
    dict(padding_idx=-1),
    dict(scale_grad_by_freq=True),
    dict(scale_grad_by_freq=True, padding_idx=0),
    dict(max_norm=1.0),
    dict(max_norm=0.5, norm_type=1.0),
    dict(max_norm=2.0, norm_type=float("inf")),
]


@DTYPES
@pytest.mark.parametrize("kwargs", EMBED_CASES, ids=lambda k: ",".join(f"{a}={b}"
                                                                       for a, b in k.items()))
@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32])
def test_embedding_matches_torch(dtype, kwargs, idx_dtype, rng):
    torch = _torch()
    t_mod = torch.nn.Embedding(7, 4, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    e_mod = nn.Embedding(7, 4, dtype=getattr(ember, np.dtype(dtype).name), **kwargs)
    copy_weights(e_mod, t_mod)
    idx = np.array([[0, 2, 2, 6], [6, 2, 1, 1], [3, 3, 3, 2]], dtype=idx_dtype)  # repeats
    g = rng.standard_normal((3, 4, 4)).astype(dtype)
    ty, ey = t_mod(torch.tensor(idx)), e_mod(ember.tensor(idx))
    assert_close(ey, ty, dtype)
    ty.backward(torch.tensor(g))
    ey.backward(ember_t(g))
    assert_close(e_mod.weight.grad, t_mod.weight.grad, dtype)
    assert_close(e_mod.weight, t_mod.weight, dtype)        # max_norm renormalised in place


def test_embedding_reference_values(rng):
    w = rng.standard_normal((6, 3))
    idx = np.array([[5, 0], [0, 0], [1, 4]])
    out = F.embedding(ember.tensor(idx), ember_t(w)).numpy()
    np.testing.assert_array_equal(out, w[idx])
    weight = ember_t(w, True)
    g = rng.standard_normal((3, 2, 3))
    F.embedding(ember.tensor(idx), weight, padding_idx=1).backward(ember_t(g))
    expected = np.zeros_like(w)
    for (i, j), k in np.ndenumerate(idx):
        if k != 1:
            expected[k] += g[i, j]
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-12)
    # a 0-d index gives one row
    np.testing.assert_array_equal(F.embedding(ember.tensor(4), ember_t(w)).numpy(), w[4])


def test_embedding_gradcheck(rng):
    w = ember_t(rng.standard_normal((5, 3)), True)
    idx = ember.tensor([[0, 4, 4], [2, 0, 1]])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))
    # (padding_idx and scale_grad_by_freq deliberately change the gradient, so they are not
    # gradchecked: test_embedding_matches_torch and test_embedding_reference_values cover them)


def test_embedding_padding_row():
    m = nn.Embedding(5, 3, padding_idx=-2)
    assert m.padding_idx == 3 and (m.weight[3].detach().numpy() == 0).all()
    assert m.weight.detach().numpy()[[0, 1, 2, 4]].any()
    m(ember.tensor([3, 3, 0])).sum().backward()
    np.testing.assert_array_equal(m.weight.grad.numpy()[3], 0)
    np.testing.assert_array_equal(m.weight.grad.numpy()[0], 1)


def test_embedding_from_pretrained():
    w = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    m = nn.Embedding.from_pretrained(w, padding_idx=1)
    assert not m.weight.requires_grad and m.padding_idx == 1
    assert m.weight._data is w._data, "from_pretrained shares memory (as in torch)"
    np.testing.assert_array_equal(m(ember.tensor([1])).numpy(), [[3.0, 4.0]])   # not zeroed
    m2 = nn.Embedding.from_pretrained(w, freeze=False)
    assert m2.weight.requires_grad
    m2(ember.tensor([2, 2])).sum().backward()
    np.testing.assert_array_equal(m2.weight.grad.numpy(), [[0, 0], [0, 0], [2, 2]])
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dim"):
        nn.Embedding.from_pretrained(ember.ones(3))


def test_embedding_errors():
    torch = _torch()
    w = ember.randn(5, 3)
    with pytest.raises(IndexError, match="index 5 is not in \\[0, 5\\)"):
        F.embedding(ember.tensor([0, 5]), w)
    with pytest.raises(IndexError, match="index -1 is not in"):
        nn.Embedding(5, 3)(ember.tensor([[0, -1]]))
    for bad in (-6, 5):
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            nn.Embedding(5, 3, padding_idx=bad)
        with pytest.raises(AssertionError) as t_err:
            torch.nn.Embedding(5, 3, padding_idx=bad)
        assert "Padding_idx must be within num_embeddings" in str(t_err.value)
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(ember.tensor([0]), w, padding_idx=7)
    with pytest.raises(RuntimeError, match="one of the following scalar types: Long, Int; but "
                                           "got ember.FloatTensor"):
        F.embedding(ember.tensor([0.0, 1.0]), w)
    with pytest.raises(RuntimeError, match="ByteTensor"):
        F.embedding(ember.tensor([0, 1], dtype=ember.uint8), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(ember.tensor([0]), ember.ones(5))
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(4, 3, _weight=ember.ones(3, 3))


def test_embedding_repr_matches_torch():
    torch = _torch()
    for kw in (dict(), dict(padding_idx=-1, max_norm=1.0, norm_type=1, scale_grad_by_freq=True,
                             sparse=True)):
        assert repr(nn.Embedding(5, 3, **kw)) == repr(torch.nn.Embedding(5, 3, **kw))


# ------------------------------------------------------------------------------ one_hot
@pytest.mark.parametrize("shape,num_classes", [((5,), -1), ((2, 3), 7), ((), 4), ((0,), 3),
                                               ((3, 0, 2), 2)])
def test_one_hot_matches_torch(shape, num_classes, rng):
    torch = _torch()
    hi = max(num_classes, 3) if num_classes > 0 else 6
    idx = rng.integers(0, hi, shape)
    e = F.one_hot(ember.tensor(idx), num_classes)
    t = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_one_hot_values_and_errors():
    out = F.one_hot(ember.tensor([2, 0]), 3).numpy()
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ember.tensor([0, 1]), 1)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(ember.tensor([0, -1]), 3)
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        F.one_hot(ember.tensor([0, 1], dtype=ember.int32))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes"):
        F.one_hot(ember.tensor([], dtype=ember.int64))


# ------------------------------------------------------------------------------ Flatten etc.
@pytest.mark.parametrize("module_args,x_shape", [
    (("Flatten",), (2, 3, 4, 5)), (("Flatten", 0, -1), (2, 3, 4)), (("Flatten", 1, 2), (2, 3, 4, 5)),
    (("Flatten", -3, -2), (2, 3, 4, 5)), (("Unflatten", 1, (2, 6)), (3, 12, 2)),
    (("Unflatten", -1, [3, -1]), (2, 12)), (("Unflatten", 0, (1, 2)), (2,)),
    (("Identity", 3, "x"), (2, 2))])
def test_shape_layers_match_torch(module_args, x_shape, rng):
    torch = _torch()
    name, *args = module_args
    e_mod, t_mod = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e_mod) == repr(t_mod)
    x = rng.standard_normal(x_shape)
    g = rng.standard_normal(tuple(t_mod(torch.tensor(x)).shape))
    tx, ex = torch.tensor(x, requires_grad=True), ember_t(x, True)
    ty, ey = t_mod(tx), e_mod(ex)
    assert tuple(ey.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
    ty.backward(torch.tensor(g))
    ey.backward(ember_t(g))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


def test_unflatten_errors():
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found "
                                        "type int"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim"):
        nn.Unflatten(1, (2, 4))(ember.ones(2, 6))
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        nn.Flatten(2, 1)(ember.ones(2, 3, 4))


# ------------------------------------------------------------------------------ training
def _build(lib):
    tnn = lib.nn
    return tnn.Sequential(tnn.Embedding(12, 8), tnn.Flatten(), tnn.Linear(3 * 8, 16),
                          tnn.Identity(), tnn.Linear(16, 4))


def _train(lib, model, idx, target, steps=30, lr=0.1):
    """Plain SGD on a squared error with gradient clipping; returns the loss per step."""
    losses = []
    x, y = lib.tensor(idx), lib.tensor(target)
    for _ in range(steps):
        model.zero_grad()
        h = model(x)
        loss = ((h.tanh() - y) ** 2).mean()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        with lib.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return np.array(losses)


def test_small_network_trains_like_torch(rng):
    torch = _torch()
    torch.manual_seed(0)
    t_model = _build(torch)
    e_model = _build(ember)
    copy_weights(e_model, t_model)
    idx = rng.integers(0, 12, (32, 3))
    target = np.tanh(rng.standard_normal((32, 4))).astype(np.float32)
    t_losses = _train(torch, t_model, idx, target)
    e_losses = _train(ember, e_model, idx, target)
    assert t_losses[-1] < 0.7 * t_losses[0]
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4)
    for (name, e), (_, t) in zip(e_model.state_dict().items(), t_model.state_dict().items()):
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
