"""Tensor core: creation, dtypes and promotion, operators, math, reductions, shape ops,
indexing, repr and errors. Values are checked against NumPy and, when installed, against
PyTorch (forward values, dtypes and gradients)."""
from __future__ import annotations

import numpy as np
import pytest

import ember

try:
    import torch
except ImportError:          # torch is only an oracle
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def same_dtype(e, t) -> bool:
    return str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]


def check_against_torch(fn, *arrays, grad=True, atol=1e-6, rtol=1e-5, ember_fn=None):
    """Run ``fn`` on ember and torch tensors made from ``arrays``; compare the outputs and the
    gradients of a random weighted sum of the outputs w.r.t. every float input."""
    ember_fn = ember_fn or fn
    xe = [ember.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    xt = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ye, yt = ember_fn(*xe), fn(*xt)
    ye = ye if isinstance(ye, (tuple, list)) else (ye,)
    yt = yt if isinstance(yt, (tuple, list)) else (yt,)
    assert len(ye) == len(yt)
    for a, b in zip(ye, yt):
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        assert same_dtype(a, b), (a.dtype, b.dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=rtol)
    if not grad:
        return
    pairs = [(a, b) for a, b in zip(ye, yt) if b.requires_grad]
    if not pairs:
        return
    seeds = [rand(*b.shape).astype(b.detach().numpy().dtype) for _, b in pairs]
    le = sum((a * ember.tensor(s)).sum() for (a, _), s in zip(pairs, seeds))
    lt = sum((b * torch.tensor(s)).sum() for (_, b), s in zip(pairs, seeds))
    le.backward()
    lt.backward()
    for a, b in zip(xe, xt):
        if b.requires_grad:
            if b.grad is None:
                assert a.grad is None or np.allclose(a.grad.numpy(), 0)
                continue
            assert a.grad is not None
            assert a.grad.dtype == a.dtype
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=rtol)


# ---------------------------------------------------------------------------------- creation
def test_tensor_infers_dtypes_like_torch():
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.tensor([1.0, 2]).dtype is ember.float32
    assert ember.tensor([True, False]).dtype is ember.bool
    assert ember.tensor(np.zeros(2, np.float64)).dtype is ember.float64
    assert ember.tensor(3.5).shape == ()
    assert ember.tensor([1, 2], dtype=ember.float64).dtype is ember.float64
    assert repr(ember.float32) == "ember.float32"
    assert ember.float is ember.float32 and ember.double is ember.float64
    assert ember.long is ember.int64


def test_creation_functions():
    assert ember.zeros(2, 3).shape == (2, 3) == ember.zeros((2, 3)).shape
    assert ember.ones([4]).numpy().tolist() == [1, 1, 1, 1]
    assert ember.full((2,), 7).dtype is ember.int64
    assert ember.full((2,), 7.0).dtype is ember.float32
    assert ember.empty(3).dtype is ember.float32
    assert ember.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ember.arange(5).dtype is ember.int64
    assert ember.arange(0, 1, 0.25).tolist() == [0, 0.25, 0.5, 0.75]
    assert ember.arange(0, 1, 0.25).dtype is ember.float32
    np.testing.assert_allclose(ember.linspace(0, 1, 5).numpy(), [0, .25, .5, .75, 1])
    assert ember.eye(3).numpy().trace() == 3
    assert ember.zeros_like(ember.ones(2, dtype=ember.int64)).dtype is ember.int64
    assert ember.ones_like(ember.ones(2, 2)).shape == (2, 2)
    x = ember.zeros(2, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ember.zeros(2, dtype=ember.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(-1, 2)


@needs_torch
def test_arange_matches_torch():
    for args in [(10,), (1, 10, 3), (0.0, 1.0, 0.1), (5, 0, -1), (-2.5, 2.5, 0.5)]:
        a, b = ember.arange(*args), torch.arange(*args)
        assert same_dtype(a, b)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_random_functions_and_seed():
    ember.manual_seed(0)
    a = ember.rand(3, 4)
    ember.manual_seed(0)
    b = ember.rand(3, 4)
    assert np.array_equal(a.numpy(), b.numpy())
    assert a.dtype is ember.float32 and (a.numpy() >= 0).all() and (a.numpy() < 1).all()
    assert ember.randn(2, 3, dtype=ember.float64).dtype is ember.float64
    r = ember.randint(0, 5, (100,))
    assert r.dtype is ember.int64 and r.numpy().min() >= 0 and r.numpy().max() < 5
    assert ember.randint(3, (2, 2)).shape == (2, 2)
    assert ember.randn_like(a).shape == (3, 4)
    assert sorted(ember.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_from_numpy_and_numpy_share_memory():
    arr = np.arange(4.0)
    t = ember.from_numpy(arr)
    assert t.dtype is ember.float64
    arr[0] = 10
    assert t[0].item() == 10
    t.numpy()[1] = 20
    assert arr[1] == 20
    g = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\)"):
        g.numpy()
    assert g.detach().numpy().tolist() == [1, 1]


# ---------------------------------------------------------------------------------- basics
def test_attributes_and_conversions():
    x = ember.arange(6.0).reshape(2, 3)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert repr(x.shape) == "ember.Size([2, 3])"
    assert x.dim() == x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert x.sum().item() == 15.0 and isinstance(x.sum().item(), float)
    assert float(ember.tensor(2.5)) == 2.5 and int(ember.tensor(3)) == 3
    assert bool(ember.tensor([1])) and not bool(ember.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        ember.ones(2).item()
    assert [r.tolist() for r in x] == [[0, 1, 2], [3, 4, 5]]
    assert x.to(ember.float64).dtype is ember.float64
    assert x.double().dtype is ember.float64 and x.long().dtype is ember.int64
    assert x.float() is x and x.to(ember.float32) is x
    assert x.T.shape == (3, 2) and x.t().shape == (3, 2)
    assert not x.T.is_contiguous() and x.T.contiguous().is_contiguous()
    assert x.device == ember.device("cpu") and x.to("cpu") is x


def test_repr_like_torch():
    assert repr(ember.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(ember.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ember.tensor([1.0, 2.0], requires_grad=True)) == \
        "tensor([1., 2.], requires_grad=True)"
    assert repr(ember.tensor([1.0], dtype=ember.float64)) == "tensor([1.], dtype=ember.float64)"
    x = ember.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"


@needs_torch
@pytest.mark.parametrize("data", [[1.5, 2.25], [[1.0, 2.0], [3.0, 4.0]], [1e-5, 1e5], [1, 2, 300],
                                  [True, False], [-1.5, 100.25], [float("nan"), 1.0], 3.5,
                                  list(range(2000)), [[0.5] * 20] * 3])
def test_repr_matches_torch(data):
    assert repr(ember.tensor(data)) == repr(torch.tensor(data))


def test_clone_detach_data():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    c.sum().backward()
    assert x.grad.tolist() == [1, 1]
    assert not x.data.requires_grad
    x.data.mul_(2)              # in-place through .data bypasses autograd, like torch
    assert x.detach().tolist() == [2, 4]


# ---------------------------------------------------------------------------------- promotion
@needs_torch
@pytest.mark.parametrize("a,b", [
    (np.array([1, 2]), 2.5), (np.array([1, 2]), 2), (np.array([True]), 1),
    (np.array([1.0], np.float32), np.array([1.0], np.float64)),
    (np.array([1], np.int64), np.array([1.0], np.float32)),
    (np.array([1.0], np.float32), np.array(2.0, np.float64)),
    (np.array([1], np.int64), np.array(2.0, np.float64)),
    (np.array([1], np.int32), np.array([1], np.int64)),
    (np.array([True]), np.array([False])),
])
def test_type_promotion_matches_torch(a, b):
    def wrap(lib, x):
        return lib.tensor(x) if isinstance(x, np.ndarray) else x
    for op in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x / y,
               lambda x, y: y + x, lambda x, y: x > y):
        e = op(wrap(ember, a), wrap(ember, b))
        t = op(wrap(torch, a), wrap(torch, b))
        assert same_dtype(e, t), (a.dtype, b, e.dtype, t.dtype)
        np.testing.assert_allclose(e.numpy().astype(float), t.numpy().astype(float), rtol=1e-6)


def test_int_division_gives_float32():
    assert (ember.tensor([1, 2]) / ember.tensor([2, 2])).dtype is ember.float32
    assert (ember.tensor([3, 4]) // 2).tolist() == [1, 2]
    assert (ember.tensor([3, 4]) % 3).tolist() == [0, 1]


# ---------------------------------------------------------------------------------- operators
@needs_torch
@pytest.mark.parametrize("name,fn", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a.abs() ** b),
    ("maximum", lambda a, b: a.maximum(b)),
    ("minimum", lambda a, b: a.minimum(b)),
    ("where", lambda a, b: (a.where(a > b, b))),
    ("mod", lambda a, b: a % (b.abs() + 1)),
])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)),
                                    ((), (3,)), ((5,), ())])
def test_binary_ops_match_torch(name, fn, shapes):
    check_against_torch(fn, rand(*shapes[0]), rand(*shapes[1]))


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda a: 2 - a, lambda a: 2 * a, lambda a: 1 / a, lambda a: 2 ** a, lambda a: a ** 2,
    lambda a: -a, lambda a: a + 1, lambda a: a - 0.5, lambda a: a / 3, lambda a: 3 + a,
    lambda a: a.abs() ** 0.5, lambda a: a ** 0, lambda a: a ** 3,
])
def test_scalar_ops_match_torch(fn):
    check_against_torch(fn, rand(3, 4))


def test_broadcast_error_message_like_torch():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\) at non-singleton dimension 1"):
        ember.ones(2, 3) + ember.ones(2, 4)


def test_comparisons_return_bool_without_grad():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert r.dtype is ember.bool and not r.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]
    assert (x == None) is False  # noqa: E711


def test_inplace_ops():
    x = ember.ones(3)
    x += 1
    x *= ember.tensor([1.0, 2.0, 3.0])
    x -= 1
    x /= 2
    assert x.tolist() == [0.5, 1.5, 2.5]
    x.add_(1, alpha=2).sub_(ember.ones(3)).mul_(2).div_(2)
    assert x.tolist() == [1.5, 2.5, 3.5]
    x.zero_()
    assert x.tolist() == [0, 0, 0]
    x.fill_(4)
    assert x.tolist() == [4, 4, 4]
    x.copy_(ember.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1, 2, 3]
    i = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        i += 1.5
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ember.ones(3).add_(ember.ones(2, 3))


def test_inplace_on_leaf_requiring_grad_raises():
    w = ember.ones(3, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.fill_(1),
               lambda: w.__iadd__(1), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation"):
            op()
    with ember.no_grad():        # the optimiser's update
        w -= 0.5
        w[0] = 2.0
    assert w.tolist() == [2, 0.5, 0.5] and w.is_leaf and w.requires_grad


@needs_torch
def test_inplace_on_non_leaf_records_in_graph():
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y += x          # y = 3x
        y.mul_(x)       # y = 3x^2
        y[0] = 0.0      # y[0] no longer depends on x
        y.sum().backward()
        if lib is ember:
            ge = x.grad.numpy().copy()
        else:
            np.testing.assert_allclose(ge, x.grad.numpy())
    assert ge.tolist() == [0, 12, 18]


@needs_torch
def test_inplace_modification_of_saved_tensor_is_detected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y           # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    # views share the version counter
    x2 = ember.tensor([1.0, 2.0], requires_grad=True)
    e = x2.exp()         # saves its output
    v = e[0:1]
    with ember.no_grad():
        v.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


# ---------------------------------------------------------------------------------- math
UNARY = {
    "exp": lambda x: x.exp(), "log": lambda x: x.abs().log(), "sqrt": lambda x: x.abs().sqrt(),
    "abs": lambda x: x.abs(), "sin": lambda x: x.sin(), "cos": lambda x: x.cos(),
    "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(),
    "neg": lambda x: x.neg(), "reciprocal": lambda x: x.reciprocal(),
    "square": lambda x: x.square(), "log1p": lambda x: x.abs().log1p(),
    "expm1": lambda x: x.expm1(), "sign": lambda x: x.sign(), "rsqrt": lambda x: x.abs().rsqrt(),
    "clamp_scalar": lambda x: x.clamp(-0.5, 0.5), "clamp_min": lambda x: x.clamp(min=0.1),
    "clamp_max": lambda x: x.clamp(max=0.1), "floor": lambda x: x.floor(),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unary_math_matches_torch(name, dtype):
    tol = 1e-6 if dtype == np.float64 else 1e-5
    check_against_torch(UNARY[name], rand(4, 5, dtype=dtype), atol=tol, rtol=tol)


@needs_torch
def test_module_level_functions_match_torch():
    x = np.abs(rand(3, 4)) + 0.1
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "sqrt"):
        check_against_torch(getattr(torch, name), x, ember_fn=getattr(ember, name))


@needs_torch
def test_clamp_with_tensor_bounds_and_where():
    check_against_torch(lambda x, lo, hi: x.clamp(lo, hi), rand(3, 4), rand(3, 4) - 1,
                        rand(4) + 1)
    check_against_torch(lambda c, a, b: (ember if isinstance(c, ember.Tensor) else torch)
                        .where(c > 0, a, b), rand(3, 4), rand(3, 4), rand(4))
    check_against_torch(lambda a: (ember if isinstance(a, ember.Tensor) else torch)
                        .where(a > 0, a, 0.0), rand(3, 4))


@needs_torch
def test_maximum_ties_split_gradient():
    a = np.array([1.0, 2.0, 3.0])
    check_against_torch(lambda x, y: x.maximum(y), a, np.array([1.0, 5.0, 0.0]))
    check_against_torch(lambda x, y: x.minimum(y), a, np.array([1.0, 5.0, 0.0]))


def test_int_tensor_math_is_float32():
    assert ember.tensor([1, 2]).exp().dtype is ember.float32
    assert ember.tensor([1, 4]).sqrt().tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------------------- reductions
REDUCTIONS = {
    "sum": lambda x: x.sum(), "sum0": lambda x: x.sum(0), "sum_tuple": lambda x: x.sum((0, 2)),
    "sum_keep": lambda x: x.sum(-1, keepdim=True), "mean": lambda x: x.mean(),
    "mean1": lambda x: x.mean(1), "mean_tuple_keep": lambda x: x.mean((1, 2), keepdim=True),
    "max": lambda x: x.max(), "min": lambda x: x.min(),
    "max_dim": lambda x: x.max(1), "min_dim_keep": lambda x: x.min(2, keepdim=True),
    "amax": lambda x: x.amax((0, 1)), "amin": lambda x: x.amin(-1),
    "var": lambda x: x.var(), "var1": lambda x: x.var(1), "var_biased": lambda x: x.var(
        1, unbiased=False), "var_corr": lambda x: x.var((0, 2), correction=0, keepdim=True),
    "std": lambda x: x.std(), "std2": lambda x: x.std(2, keepdim=True),
    "prod": lambda x: x.prod(), "prod1": lambda x: x.prod(1),
    "logsumexp": lambda x: x.logsumexp(1), "logsumexp_t": lambda x: x.logsumexp((0, 2)),
    "argmax": lambda x: x.argmax(), "argmax1": lambda x: x.argmax(1),
    "argmin_keep": lambda x: x.argmin(2, keepdim=True),
    "cumsum": lambda x: x.cumsum(1), "norm": lambda x: x.norm(),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_torch(name):
    check_against_torch(REDUCTIONS[name], rand(3, 4, 5))


@needs_torch
def test_max_min_ties_gradient_like_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check_against_torch(lambda t: t.max(), x)         # full reduction: split among ties
    check_against_torch(lambda t: t.amax(1), x)       # amax: split among ties
    check_against_torch(lambda t: t.max(1).values, x)  # max(dim): the returned index only
    check_against_torch(lambda t: t.min(), np.array([0.0, 0.0, 1.0]))


def test_max_dim_namedtuple():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    r = x.max(dim=1)
    assert r.values.tolist() == [5, 7] and r.indices.tolist() == [1, 0]
    values, indices = x.min(0)
    assert values.tolist() == [1, 0, 2] and indices.dtype is ember.int64


@needs_torch
def test_prod_with_zeros_gradient():
    check_against_torch(lambda t: t.prod(), np.array([2.0, 0.0, 3.0]))
    check_against_torch(lambda t: t.prod(1), np.array([[2.0, 0.0, 0.0], [1.0, 2.0, 3.0]]))


def test_mean_of_int_raises_like_torch():
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        ember.tensor([1, 2]).mean()
    assert ember.tensor([1, 2]).sum().dtype is ember.int64
    assert ember.tensor([True, True]).sum().item() == 2


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.ones(2, 3).sum(2)


# ---------------------------------------------------------------------------------- shape ops
SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6), "reshape_neg": lambda x: x.reshape(-1, 3),
    "view": lambda x: x.view(2, -1), "flatten": lambda x: x.flatten(),
    "flatten12": lambda x: x.flatten(1), "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2), "T": lambda x: x.T if x.ndim == 2 else
    x.permute(2, 1, 0), "unsqueeze": lambda x: x.unsqueeze(1), "unsqueeze_neg":
    lambda x: x.unsqueeze(-1), "squeeze": lambda x: x[:, :1].squeeze(),
    "squeeze_dim": lambda x: x[:, :1].squeeze(1), "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "expand_new": lambda x: x.expand(3, 2, 3, 4), "repeat": lambda x: x.repeat(2, 1, 3),
    "repeat_more": lambda x: x.repeat(2, 1, 1, 2), "flip": lambda x: x.flip(0),
    "split": lambda x: x.split(2, dim=2), "split_list": lambda x: x.split([1, 2], dim=1),
    "chunk": lambda x: x.chunk(3, dim=2), "unbind": lambda x: x.unbind(1),
    "contiguous": lambda x: x.transpose(0, 1).contiguous(), "clone": lambda x: x.clone(),
    "narrow": lambda x: x.narrow(2, 1, 2), "select": lambda x: x.select(1, 2),
    "tril": lambda x: x.tril(), "triu": lambda x: x.triu(1),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops_match_torch(name):
    check_against_torch(SHAPE_OPS[name], rand(2, 3, 4))


@needs_torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack_match_torch(dim):
    def cat(a, b, c):
        lib = ember if isinstance(a, ember.Tensor) else torch
        return lib.cat([a, b, c], dim=dim)

    def stack(a, b, c):
        lib = ember if isinstance(a, ember.Tensor) else torch
        return lib.stack([a, b, c], dim=dim)
    check_against_torch(cat, rand(2, 3), rand(2, 3), rand(2, 3))
    check_against_torch(stack, rand(2, 3), rand(2, 3), rand(2, 3))


def test_shape_errors():
    with pytest.raises(RuntimeError, match=r"shape '\[4, 4\]' is invalid for input of size 6"):
        ember.ones(2, 3).reshape(4, 4)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        ember.cat([ember.ones(2, 3), ember.ones(2, 4)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        ember.stack([ember.ones(2), ember.ones(3)])
    with pytest.raises(RuntimeError, match="must match the existing size"):
        ember.ones(2, 3).expand(2, 4)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum"):
        ember.ones(3).split([1, 1])


def test_split_chunk_sizes_like_torch():
    x = ember.arange(10)
    assert [p.numel() for p in x.split(3)] == [3, 3, 3, 1]
    assert [p.numel() for p in x.chunk(4)] == [3, 3, 3, 1]
    assert [p.numel() for p in ember.arange(6).chunk(4)] == [2, 2, 2]


# ---------------------------------------------------------------------------------- matmul
@needs_torch
@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
                                   ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                                   ((2, 3, 4), (4,)), ((3, 4), (2, 4, 5))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_matches_torch(sa, sb, dtype):
    tol = 1e-10 if dtype == np.float64 else 1e-4
    check_against_torch(lambda a, b: a @ b, rand(*sa, dtype=dtype), rand(*sb, dtype=dtype),
                        atol=tol, rtol=tol)


def test_matmul_int_and_errors():
    a = ember.tensor([[1, 2], [3, 4]])
    assert (a @ a).tolist() == [[7, 10], [15, 22]]
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(2x3 and 4x5\)"):
        ember.ones(2, 3) @ ember.ones(4, 5)
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.ones(2, 3) @ ember.ones(3, dtype=ember.float64)


# ---------------------------------------------------------------------------------- indexing
INDEX_KEYS = [
    1, -1, slice(1, 3), (slice(None), 2), (Ellipsis, 1), (None, 0), (1, slice(None, None, 2)),
    [0, 2, 2], (slice(None), [1, 1, 0]), ([0, 1], [2, 3]), np.array([True, False, True, False]),
]


@needs_torch
@pytest.mark.parametrize("key", INDEX_KEYS, ids=repr)
def test_getitem_matches_torch(key):
    x = rand(4, 5)
    k_e, k_t = key, key
    if isinstance(key, np.ndarray):
        k_e, k_t = ember.tensor(key), torch.tensor(key)
    check_against_torch(lambda t: t[k_e] if isinstance(t, ember.Tensor) else t[k_t], x)


@needs_torch
def test_getitem_with_tensor_indices_and_masks():
    x = rand(5, 3)
    idx = np.array([4, 0, 4, 4])
    check_against_torch(lambda t: t[ember.tensor(idx)] if isinstance(t, ember.Tensor)
                        else t[torch.tensor(idx)], x)
    check_against_torch(lambda t: t[t > 0], x)


def test_repeated_index_gradient_accumulates():
    x = ember.zeros(3, requires_grad=True)
    x[ember.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3, 0, 1]


def test_index_errors():
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        ember.ones(3)[5]
    with pytest.raises(IndexError):
        ember.ones(3)[ember.tensor([1.0])]


def test_setitem_plain_data():
    x = ember.zeros(2, 3)
    x[0] = 1.0
    x[:, 2] = ember.tensor([5.0, 6.0])
    x[x > 5] = -1.0
    assert x.tolist() == [[1, 1, 5], [0, 0, -1]]
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = ember.ones(4)


@needs_torch
def test_setitem_gradient_flows_to_value():
    for lib in (ember, torch):
        v = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.zeros(2, 3)
        x[:, 1] = v * 3
        (x * x).sum().backward()
        if lib is ember:
            g = v.grad.numpy().copy()
    np.testing.assert_allclose(g, v.grad.numpy())


@needs_torch
def test_gather_and_masked_fill():
    x = rand(3, 4)
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    check_against_torch(lambda t: t.gather(1, ember.tensor(idx) if isinstance(t, ember.Tensor)
                                           else torch.tensor(idx)), x)
    mask = x > 0
    check_against_torch(lambda t: t.masked_fill(ember.tensor(mask) if isinstance(
        t, ember.Tensor) else torch.tensor(mask), -1.0), x)


# ---------------------------------------------------------------------------------- misc
def test_no_torch_import_in_library():
    import subprocess
    import sys
    code = "import sys, ember; ember.ones(2).sum(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_numpy_interop():
    x = ember.tensor([1.0, 2.0])
    r = np.array([1.0, 1.0]) + x
    assert isinstance(r, ember.Tensor) and r.tolist() == [2, 3]
    assert np.asarray(x).tolist() == [1, 2]


def test_deepcopy_and_pickle():
    import copy
    import pickle
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = copy.deepcopy(x)
    assert y.requires_grad and y.tolist() == [1, 2] and not np.shares_memory(
        y.detach().numpy(), x.detach().numpy())
    z = pickle.loads(pickle.dumps(x))
    assert z.requires_grad and z.tolist() == [1, 2] and z.dtype is ember.float32


def test_legacy_constructor_and_parameter_style_subclass():
    assert ember.Tensor([1, 2]).dtype is ember.float32
    assert ember.Tensor(2, 3).shape == (2, 3) and ember.Tensor().shape == (0,)

    class Parameter(ember.Tensor):           # how torch.nn.Parameter is written
        def __new__(cls, data, requires_grad=True):
            return ember.Tensor._make_subclass(cls, data, requires_grad)

    p = Parameter(ember.ones(2, 3))
    assert isinstance(p, Parameter) and p.requires_grad and p.is_leaf
    y = p * 2
    assert type(y) is ember.Tensor
    y.sum().backward()
    assert p.grad.tolist() == [[2] * 3] * 2
    import copy
    q = copy.deepcopy(p)
    assert isinstance(q, Parameter) and q.requires_grad


def test_optimizer_style_updates():
    p = ember.ones(3, requires_grad=True)
    (p * p).sum().backward()
    m = ember.zeros(3)
    v = ember.zeros(3)
    with ember.no_grad():
        m.mul_(0.9).add_(p.grad, alpha=0.1)
        v.mul_(0.99).addcmul_(p.grad, p.grad, value=0.01)
        p.addcdiv_(m, v.sqrt().add_(1e-8), value=-0.1)
    np.testing.assert_allclose(m.numpy(), 0.2)
    np.testing.assert_allclose(v.numpy(), 0.04)
    np.testing.assert_allclose(p.detach().numpy(), 1 - 0.1 * 0.2 / 0.2, rtol=1e-6)
    assert p.is_leaf and p.requires_grad


def test_flatten_of_a_0d_tensor_checks_its_dims_like_torch():
    x = ember.tensor(3.0)
    for dims in ((0,), (-1,), (0, -1)):
        assert x.flatten(*dims).shape == (1,)
    with pytest.raises(IndexError, match=r"range of \[-1, 0\], but got 1"):
        x.flatten(1)
    with pytest.raises(IndexError, match="got -2"):
        x.flatten(0, -2)
