"""Engine mechanics: accumulation, broadcasting, grad modes, deep graphs, diamonds,
retain_graph, error messages, retain_grad, hooks, autograd.grad, custom Functions, gradcheck."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import ember
from ember.autograd import Function

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def test_gradients_accumulate_across_backward_calls():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3 + 2, 3 + 4]
    x.grad.zero_()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2, 2]
    x.grad = None
    x.sum().backward()
    assert x.grad.tolist() == [1, 1]


def test_broadcast_gradient_summed_to_input_shape():
    a = ember.ones(2, 3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    c = ember.ones(2, 1, requires_grad=True)
    s = ember.tensor(2.0, requires_grad=True)
    ((a + b) * c * s).sum().backward()
    assert a.grad.shape == (2, 3) and a.grad.tolist() == [[2] * 3] * 2
    assert b.grad.shape == (3,) and b.grad.tolist() == [4, 4, 4]
    assert c.grad.shape == (2, 1) and c.grad.tolist() == [[12], [12]]
    assert s.grad.shape == () and s.grad.item() == 12


def test_gradient_dtype_matches_tensor_dtype():
    x32 = ember.ones(3, requires_grad=True)
    x64 = ember.ones(3, dtype=ember.float64, requires_grad=True)
    (x32 * x64).sum().backward()          # the product is float64
    assert x32.grad.dtype is ember.float32 and x64.grad.dtype is ember.float64
    y = ember.ones(2, requires_grad=True)
    (y.double() * 2).sum().backward()
    assert y.grad.dtype is ember.float32 and y.grad.tolist() == [2, 2]


def test_no_grad_enable_grad_set_grad_enabled():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @ember.no_grad()
    def f(t):
        return t * 2

    @ember.no_grad
    def g(t):
        return t * 2
    assert not f(x).requires_grad and not g(x).requires_grad
    assert ember.is_grad_enabled()

    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)

    @ember.set_grad_enabled(False)
    def h(t):
        return t * 2
    assert ember.is_grad_enabled() and not h(x).requires_grad and ember.is_grad_enabled()


def test_ten_thousand_op_chain_does_not_recurse():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)     # an iterative engine needs no stack depth
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 10_000, rtol=1e-3)


def test_diamond_graph_and_shared_subexpressions():
    x = ember.tensor([2.0], requires_grad=True)
    a = x * 3        # used twice below
    b = a * a        # 9x^2
    c = a + b        # 3x + 9x^2
    d = c * a        # (3x + 9x^2) * 3x = 9x^2 + 27x^3
    d.backward(ember.ones(1))
    assert x.grad.item() == pytest.approx(18 * 2 + 81 * 4)


def test_retain_graph_and_freed_graph_error():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4, 8]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_error_messages_match_torch():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and "
                                           "does not have a grad_fn"):
        ember.ones(3).sum().backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(2))
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (x * 2).requires_grad = False


def test_backward_with_gradient_argument():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(ember.tensor([1.0, 0.5, 0.0]))
    assert x.grad.tolist() == [2, 2, 0]


def test_non_leaf_grad_is_none_unless_retained():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = x * 3
    z.retain_grad()
    w = y * z
    w.retain_grad()
    w.sum().backward()
    assert y.grad is None and not y.is_leaf
    assert z.retains_grad and z.grad.tolist() == [2, 4]
    assert w.grad.tolist() == [1, 1]
    x.retain_grad()         # no-op on a leaf


def test_tensor_hooks():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: g * 10)
    y = x * 2
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.sum().backward()
    assert seen == [[1, 1]] and x.grad.tolist() == [20, 20]
    h.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2, 2]


def test_autograd_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0], requires_grad=True)
    u = ember.tensor([1.0], requires_grad=True)
    out = (x * x).sum() * y
    gx, gy = ember.autograd.grad(out, [x, y], retain_graph=True)
    assert gx.tolist() == [6, 12] and gy.tolist() == [5]
    assert x.grad is None and y.grad is None           # grad() does not accumulate
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad(out, [x, u], retain_graph=True)
    gx, gu = ember.autograd.grad(out, [x, u], allow_unused=True, retain_graph=True)
    assert gu is None
    h = x * 2                       # gradient w.r.t. a non-leaf
    (gh,) = ember.autograd.grad((h * h).sum(), h)
    assert gh.tolist() == [4, 8]
    with pytest.raises(NotImplementedError):
        ember.autograd.grad(out, x, create_graph=True)


def test_autograd_backward_multiple_roots():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * x
    ember.autograd.backward([a.sum(), b], [None, ember.ones(2)])
    assert x.grad.tolist() == [4, 6]


def test_detach_cuts_the_graph():
    x = ember.tensor([1.0], requires_grad=True)
    y = x * 2
    z = y.detach() * x
    z.sum().backward()
    assert x.grad.tolist() == [2]


def test_multi_output_op_with_unused_output():
    x = ember.arange(6.0).requires_grad_()
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    assert x.grad.tolist() == [0, 0, 3, 3, 0, 0]


# ---------------------------------------------------------------------------------- Function
class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 3 * x ** 2 * ctx.scale, None


class MulAdd(Function):
    """Two tensor inputs; records which need a gradient."""
    calls = []

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b + a

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        MulAdd.calls.append(ctx.needs_input_grad)
        ga = grad * (b + 1) if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb


class SortWithIndex(Function):
    @staticmethod
    def forward(ctx, x):
        idx = ember.tensor(np.argsort(x.detach().numpy()))
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return x[idx], idx

    @staticmethod
    def backward(ctx, grad, _):
        idx, = ctx.saved_tensors
        out = ember.zeros_like(grad)
        out[idx] = grad
        return out


def test_custom_function():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward" and y.tolist() == [2, 16]
    y.sum().backward()
    assert x.grad.tolist() == [6, 24]
    assert ember.autograd.gradcheck(lambda t: Cube.apply(t, 0.5), (x,))

    MulAdd.calls.clear()
    a = ember.tensor([2.0], requires_grad=True)
    b = ember.tensor([5.0])
    MulAdd.apply(a, b).sum().backward()
    assert MulAdd.calls == [(True, False)] and a.grad.tolist() == [6]

    v, i = SortWithIndex.apply(ember.tensor([3.0, 1.0, 2.0], requires_grad=True))
    assert v.requires_grad and not i.requires_grad and i.tolist() == [1, 2, 0]


def test_function_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


# ---------------------------------------------------------------------------------- gradcheck
def _d(*shape):
    return ember.randn(*shape, dtype=ember.float64, requires_grad=True)


@pytest.mark.parametrize("fn,shapes", [
    (lambda a, b: (a * b + a / (b * b + 1)).sum(), [(3, 4), (4,)]),
    (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    (lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    (lambda a: a.sigmoid() * a.tanh() + a.exp().log1p(), [(5,)]),
    (lambda a: a.var(0) + a.std(1, keepdim=True).sum(), [(3, 4)]),
    (lambda a: a.logsumexp(1), [(3, 4)]),
    (lambda a: a.prod(1), [(3, 4)]),
    (lambda a: a[[0, 0, 2]].permute(1, 0).reshape(-1).cumsum(0), [(3, 4)]),
    (lambda a: (a.max(1).values, a.amax(0)), [(3, 4)]),
    (lambda a, b: ember.where(a > 0, a, b).clamp(-0.5, 0.5) ** 2, [(3, 4), (4,)]),
    (lambda a: ember.cat([a, a * 2], 1).repeat(2, 1).split(3, 1)[1], [(2, 3)]),
    (lambda a: a.abs().sqrt().reciprocal(), [(4,)]),
])
def test_gradcheck_passes(fn, shapes):
    ember.manual_seed(1)
    assert ember.autograd.gradcheck(fn, [_d(*s) for s in shapes])


def test_gradcheck_detects_wrong_gradient_and_refuses_float32():
    class WrongExp(Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = _d(3)
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(WrongExp.apply, (x,))
    assert ember.autograd.gradcheck(WrongExp.apply, (x,), raise_exception=False) is False
    with pytest.raises(ValueError, match="float64"):
        ember.autograd.gradcheck(lambda t: t * 2, (ember.ones(2, requires_grad=True),))


# ---------------------------------------------------------------------------------- torch
@needs_torch
def test_small_mlp_gradients_match_torch():
    rng = np.random.default_rng(0)
    xs, w1, b1, w2 = (rng.standard_normal(s).astype(np.float32)
                      for s in [(8, 5), (5, 16), (16,), (16, 3)])
    target = rng.integers(0, 3, 8)

    def run(lib, x, W1, B1, W2):
        h = (x @ W1 + B1).relu()
        logits = h @ W2
        logp = logits - logits.logsumexp(1, keepdim=True)
        return -logp[lib.arange(8), lib.tensor(target)].mean()

    pe = [ember.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
    pt = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
    le = run(ember, ember.tensor(xs), *pe)
    lt = run(torch, torch.tensor(xs), *pt)
    le.backward()
    lt.backward()
    assert le.item() == pytest.approx(lt.item(), rel=1e-5)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_graph_is_freed_after_backward():
    import weakref
    x = ember.ones(3, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._saved is None          # saved activations released
    ref = weakref.ref(node)
    del y, node
    assert ref() is None                # no reference cycles keep the graph alive
