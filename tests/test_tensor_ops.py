"""ember.Tensor forward values vs NumPy (float32), driven by the op table, plus the parts of the
Tensor API that are not ops on inputs: random creation, attributes, in-place identity, grad modes.
"""
from __future__ import annotations

import operator

import numpy as np
import pytest

import ember
from op_table import OPS, flatten_outputs, to_lib, to_numpy

# float32 forward tolerance. The NumPy oracle runs in float64 on the same float32 values, so
# the only error allowed is ember's own float32 rounding (a few ulps, more for reductions).
RTOL32, ATOL32 = 1e-5, 1e-5


def check_forward(op, lib):
    """Run ``op`` through ``lib`` (ember; the scratch validation of the table passes torch) on
    float32 inputs and compare every output's shape, dtype and values with NumPy."""
    xs32 = op.inputs(np.float32)
    # Expected dtype: NumPy's result on the inputs as given (float32 stays float32, ...);
    # expected values: the same math in float64 on those exact float32 values.
    expected_dtypes = [np.asarray(r).dtype
                       for r in flatten_outputs(op.numpy(*[x.copy() for x in xs32]))]
    xs64 = [x.astype(np.float64) if x.dtype == np.float32 and not a.dtype else x
            for x, a in zip(xs32, op.args)]
    expected = [np.asarray(r) for r in flatten_outputs(op.numpy(*xs64))]

    out = flatten_outputs(op.fn(lib, *to_lib(lib, xs32, requires_grad=False)))
    assert len(out) == len(expected), f"{op.name}: {len(out)} outputs, expected {len(expected)}"
    for i, (o, ref, dt) in enumerate(zip(out, expected, expected_dtypes)):
        assert isinstance(o, lib.Tensor), f"{op.name}[{i}] returned {type(o).__name__}"
        got = to_numpy(o)
        assert tuple(o.shape) == ref.shape, f"{op.name}[{i}]: shape {tuple(o.shape)} != {ref.shape}"
        assert got.dtype == dt, f"{op.name}[{i}]: dtype {got.dtype}, expected {dt}"
        if dt.kind == "f":
            np.testing.assert_allclose(got, ref, rtol=RTOL32, atol=ATOL32, err_msg=op.name)
        else:
            np.testing.assert_array_equal(got, ref.astype(dt), err_msg=op.name)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
def test_forward_matches_numpy(op):
    check_forward(op, ember)


# ----------------------------------------------------------------------------------------------
# Creation functions whose values are random or uninitialised
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: ember.empty(2, 3), lambda: ember.empty((2, 3)), lambda: ember.rand(2, 3),
    lambda: ember.randn((2, 3)), lambda: ember.randn_like(ember.zeros(2, 3)),
], ids=["empty", "empty_tuple", "rand", "randn_tuple", "randn_like"])
def test_random_and_empty_shape_dtype(make):
    t = make()
    assert tuple(t.shape) == (2, 3)
    assert t.dtype == ember.float32
    assert t.requires_grad is False


def test_creation_dtype_and_requires_grad_keywords():
    t = ember.zeros(2, dtype=ember.float64, requires_grad=True)
    assert t.dtype == ember.float64 and t.requires_grad and t.is_leaf
    assert ember.randn(3, dtype=ember.float64).dtype == ember.float64
    assert ember.empty(4, dtype=ember.int64).dtype == ember.int64
    assert ember.ones_like(ember.zeros(2, dtype=ember.float64)).dtype == ember.float64
    assert ember.zeros_like(ember.zeros(2), dtype=ember.int64).dtype == ember.int64


def test_rand_range_and_randn_moments():
    ember.manual_seed(0)
    u = ember.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01           # sd of the mean is 0.002
    z = ember.randn(20000).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_randint_range_dtype():
    ember.manual_seed(1)
    r = ember.randint(3, 9, (5000,))
    assert r.dtype == ember.int64 and tuple(r.shape) == (5000,)
    v = r.numpy()
    assert v.min() == 3 and v.max() == 8        # both ends reached in 5000 draws of 6 values
    r2 = ember.randint(4, size=(2, 3))
    assert tuple(r2.shape) == (2, 3) and 0 <= r2.numpy().min() and r2.numpy().max() < 4


def test_manual_seed_reproducible():
    ember.manual_seed(123)
    a = (ember.randn(5).numpy(), ember.rand(3).numpy(), ember.randint(0, 100, (4,)).numpy())
    ember.manual_seed(123)
    b = (ember.randn(5).numpy(), ember.rand(3).numpy(), ember.randint(0, 100, (4,)).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    ember.manual_seed(124)
    assert not np.array_equal(ember.randn(5).numpy(), a[0])


def test_from_numpy_shares_memory_and_keeps_dtype():
    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ember.from_numpy(arr)
    assert t.dtype == ember.float64 and tuple(t.shape) == (2, 3)
    arr[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    assert ember.from_numpy(np.zeros(2, dtype=np.int64)).dtype == ember.int64


def test_tensor_copies_its_input():
    arr = np.ones(3, dtype=np.float32)
    t = ember.tensor(arr)
    arr[0] = 5.0
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_default_dtype_is_float32():
    assert ember.tensor([1.0]).dtype == ember.float32
    assert ember.zeros(1).dtype == ember.float32
    assert ember.tensor(np.zeros(1)).dtype == ember.float64  # an array keeps its dtype, as torch


# ----------------------------------------------------------------------------------------------
# Attributes and conversions
# ----------------------------------------------------------------------------------------------

def test_shape_size_dim_numel():
    t = ember.zeros(2, 3, 4)
    assert tuple(t.shape) == (2, 3, 4) and t.shape == (2, 3, 4)
    assert tuple(t.size()) == (2, 3, 4)
    assert t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3
    assert t.numel() == 24
    s = ember.tensor(3.0)
    assert s.dim() == 0 and tuple(s.shape) == () and s.numel() == 1


def test_item_tolist():
    assert ember.tensor([[2.5]]).item() == 2.5
    assert isinstance(ember.tensor(3).item(), int)
    assert ember.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ember.tensor([1, 2]).tolist() == [1, 2]
    assert ember.tensor(1.5).tolist() == 1.5
    with pytest.raises((ValueError, RuntimeError)):
        ember.zeros(2).item()
    x = ember.tensor([[2.0]], requires_grad=True)   # no detach needed for Python values
    assert x.item() == 2.0 and x.tolist() == [[2.0]]


def test_numpy_shares_memory():
    t = ember.zeros(3)
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 0.0]


def test_numpy_of_requires_grad_tensor_needs_detach():
    t = ember.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), [0.0, 0.0])


def test_detach_shares_data_without_grad():
    x = ember.ones(3, requires_grad=True)
    d = x.detach()
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
    d.numpy()[0] = 9.0
    assert x.detach().numpy()[0] == 9.0


def test_clone_copies_data_and_keeps_graph():
    x = ember.ones(3, requires_grad=True)
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None and not c.is_leaf
    c.detach().numpy()[0] = 9.0
    assert x.detach().numpy()[0] == 1.0


def test_dtype_attribute_per_dtype():
    assert ember.zeros(1, dtype=ember.float64).dtype == ember.float64
    assert ember.tensor([True]).dtype == ember.bool
    assert ember.tensor([1]).dtype == ember.int64
    assert ember.float32 != ember.float64


def test_basic_slice_is_a_view():
    # PyTorch: basic indexing returns a view sharing storage; writes through it reach the base.
    x = ember.zeros(3, 4)
    row = x[1]
    row += 5.0
    col = x[:, 2]
    col *= 0.0
    x.T[0, 0] = 7.0                              # x[0, 0] through a transposed view
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5.0
    expected[:, 2] = 0.0
    expected[0, 0] = 7.0
    np.testing.assert_array_equal(x.numpy(), expected)


# ----------------------------------------------------------------------------------------------
# In-place operators modify the tensor itself
# ----------------------------------------------------------------------------------------------

INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv}


@pytest.mark.parametrize("op_name", list(INPLACE))
def test_inplace_operator_keeps_identity_and_views(op_name):
    t = ember.ones(2, 3)
    alias = t
    view = t.numpy()                            # shares memory with t
    expected = {"+=": 3.0, "-=": -1.0, "*=": 2.0, "/=": 0.5}[op_name]
    result = INPLACE[op_name](t, 2.0)
    assert result is alias
    np.testing.assert_array_equal(view, np.full((2, 3), expected, np.float32))
    assert t.dtype == ember.float32


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        x += 1.0


# ----------------------------------------------------------------------------------------------
# Bad input gets a clear error, as in PyTorch
# ----------------------------------------------------------------------------------------------

def test_broadcast_mismatch_raises():
    with pytest.raises(RuntimeError):
        ember.ones(3, 4) + ember.ones(5)


def test_inplace_broadcast_cannot_grow_the_tensor():
    t = ember.ones(4)
    with pytest.raises(RuntimeError):
        t += ember.ones(3, 4)


def test_matmul_shape_mismatch_raises():
    with pytest.raises(RuntimeError):
        ember.ones(3, 4) @ ember.ones(5, 2)


def test_index_out_of_range_raises():
    with pytest.raises(IndexError):
        ember.ones(3, 4)[3]


def test_reshape_wrong_size_raises():
    with pytest.raises(RuntimeError):
        ember.ones(3, 4).reshape(5, 2)


# ----------------------------------------------------------------------------------------------
# Grad modes
# ----------------------------------------------------------------------------------------------

def test_no_grad_context():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
    assert y.requires_grad is False and y.grad_fn is None
    assert (x * 2).requires_grad is True


def test_no_grad_decorator():
    x = ember.ones(2, requires_grad=True)

    @ember.no_grad()
    def f(t):
        return t * 2

    assert f(x).requires_grad is False


def test_enable_grad_inside_no_grad():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        with ember.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad is True and z.requires_grad is False


def test_set_grad_enabled_context_and_function():
    x = ember.ones(2, requires_grad=True)
    with ember.set_grad_enabled(False):
        assert (x * 2).requires_grad is False
    assert (x * 2).requires_grad is True
    ember.set_grad_enabled(False)
    try:
        assert (x * 2).requires_grad is False
    finally:
        ember.set_grad_enabled(True)
    assert (x * 2).requires_grad is True
    with ember.set_grad_enabled(True):
        assert (x * 2).requires_grad is True


def test_grad_mode_restored_after_exception():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(ZeroDivisionError):
        with ember.no_grad():
            1 / 0
    assert (x * 2).requires_grad is True
