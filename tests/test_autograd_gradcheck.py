"""ember.autograd: float64 gradcheck on every differentiable row of the op table, plus the engine's
own behaviour (accumulation, broadcasting, retain_grad, long graphs, custom Functions).
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from op_table import GRADCHECKED, flatten_outputs, to_lib


def float_outputs(lib, out):
    """The op's floating-point outputs as a tuple (indices from max(dim) carry no gradient)."""
    return tuple(o for o in flatten_outputs(out) if o.dtype in (lib.float32, lib.float64))


def check_gradcheck(op, lib, gradcheck):
    inputs = to_lib(lib, op.inputs(np.float64), requires_grad=True)
    assert gradcheck(lambda *xs: float_outputs(lib, op.fn(lib, *xs)), tuple(inputs)) is True


@pytest.mark.parametrize("op", GRADCHECKED, ids=lambda o: o.name)
def test_gradcheck(op):
    check_gradcheck(op, ember, ember.autograd.gradcheck)


# ----------------------------------------------------------------------------------------------
# gradcheck itself
# ----------------------------------------------------------------------------------------------

def _x(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def cube_function(factor=3):
    """x**3 as a custom ember.autograd.Function; ``factor`` != 3 gives it a wrong backward.
    (Built on call, so a missing ember.autograd fails these tests, not the file's collection.)"""

    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * factor * x * x

    return Cube


def test_gradcheck_accepts_custom_function():
    x = _x(3, 4)
    y = cube_function().apply(x)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() ** 3)
    assert ember.autograd.gradcheck(cube_function().apply, (x,)) is True
    assert ember.autograd.gradcheck(cube_function().apply, x, eps=1e-7, atol=1e-6, rtol=1e-4)


def test_gradcheck_raises_on_wrong_backward():
    with pytest.raises(Exception):
        ember.autograd.gradcheck(cube_function(factor=2).apply, (_x(3, 4),))


def test_custom_function_backward_reaches_leaf():
    x = _x(5)
    cube_function().apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2, rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------

def test_grad_accumulates_over_backward_calls():
    x = _x(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 5.0))


def test_tensor_used_twice_sums_both_paths():
    x = _x(4)
    y = x * x + x.exp() + x                     # dy/dx = 2x + e^x + 1
    y.backward(gradient=ember.ones(4, dtype=ember.float64))
    v = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * v + np.exp(v) + 1, rtol=1e-12)


def test_broadcast_gradient_is_summed_to_input_shape():
    a = _x(3, 4)
    b = _x(4, seed=1)
    c = _x(3, 1, seed=2)
    (a * b + c).sum().backward()
    assert tuple(b.grad.shape) == (4,) and tuple(c.grad.shape) == (3, 1)
    np.testing.assert_allclose(b.grad.numpy(), a.detach().numpy().sum(0), rtol=1e-12)
    np.testing.assert_array_equal(c.grad.numpy(), np.full((3, 1), 4.0))


def test_backward_gradient_argument_scales():
    x = _x(2, 3)
    g = np.arange(6, dtype=np.float64).reshape(2, 3)
    (x * 5).backward(gradient=ember.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), 5 * g)


def test_backward_on_non_scalar_without_gradient_raises():
    with pytest.raises(RuntimeError):
        (_x(3) * 2).backward()


def test_leaf_and_grad_fn_bookkeeping():
    x = _x(3)
    w = ember.ones(3, dtype=ember.float64)      # does not require grad
    y = x * w
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    assert w.is_leaf and not w.requires_grad
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert w.grad is None
    assert y.grad is None                       # non-leaf grads are not kept by default


def test_retain_grad_keeps_non_leaf_grad():
    x = _x(3)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.detach().numpy(), rtol=1e-12)


def test_requires_grad_underscore():
    x = ember.ones(3, dtype=ember.float64)
    assert x.requires_grad is False
    assert x.requires_grad_() is x and x.requires_grad is True
    x.requires_grad_(False)
    assert x.requires_grad is False


def test_grad_of_sum_is_ones_in_input_dtype():
    for dtype in (ember.float32, ember.float64):
        x = ember.zeros(2, 3, dtype=dtype, requires_grad=True)
        x.sum().backward()
        assert x.grad.dtype == dtype
        np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_long_chain_does_not_hit_recursion_limit():
    # An unrolled RNN gives graphs thousands of nodes deep: the engine's topological sort must
    # be iterative.
    x = ember.tensor(1.0, dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000, rel=1e-9)


def test_no_grad_tensors_do_not_build_graph():
    x = _x(3)
    with ember.no_grad():
        y = x * 2
    z = (y * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy(), rtol=1e-12)  # y is a constant


def test_int_and_bool_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError):
        ember.tensor([1, 2], requires_grad=True)
