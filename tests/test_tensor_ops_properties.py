"""Property tests (hypothesis): laws that must hold for arbitrary small shapes, strides and values.

Each test is bounded (max_examples=50, no deadline) so the file runs in seconds.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember
from ember.ops import matmul

# Generation of a few hundred floats can be slow on a busy CI core; that is not a failure.
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FLOAT_DTYPES = st.sampled_from([np.float32, np.float64])


def float_arrays(dtype, shape):
    return hnp.arrays(dtype, shape, elements=st.floats(-100, 100, width=32))


def close(dtype):
    return dict(rtol=1e-5, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# ember.ops.matmul: any small shape, any layout
# ----------------------------------------------------------------------------------------------

@st.composite
def strided_operand(draw, rows, cols, dtype):
    """A (rows, cols) float array, possibly a transposed, stepped or reversed view."""
    transpose = draw(st.booleans())
    r_step, c_step = draw(st.sampled_from([1, 2, -1, -3])), draw(st.sampled_from([1, 2, -1]))
    shape = (cols, rows) if transpose else (rows, cols)
    base_shape = (max(shape[0], 1) * abs(r_step), max(shape[1], 1) * abs(c_step))
    base = draw(float_arrays(dtype, base_shape))
    view = base[::r_step, ::c_step][: shape[0], : shape[1]]
    return view.T if transpose else view


@SETTINGS
@given(data=st.data(), m=st.integers(0, 20), k=st.integers(0, 20), n=st.integers(0, 20),
       dtype=FLOAT_DTYPES)
def test_ops_matmul_any_shape_and_strides(data, m, k, n, dtype):
    a = data.draw(strided_operand(m, k, dtype))
    b = data.draw(strided_operand(k, n, dtype))
    c = matmul(a, b)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert c.shape == (m, n) and c.dtype == dtype
    # Error bound relative to the magnitudes summed (see test_gemm.py).
    bound = 4 * np.finfo(dtype).eps * np.sqrt(max(k, 1)) * (np.abs(a) @ np.abs(b)) + 1e-30
    assert np.all(np.abs(c - expected) <= bound)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(signature="(m,k),(k,n)->(m,n)",
                                                 max_dims=4, max_side=5),
       dtype=FLOAT_DTYPES, seed=st.integers(0, 2**32 - 1))
def test_ops_matmul_batch_broadcasting(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
    c = matmul(a, b)
    assert c.shape == np.matmul(a, b).shape == shapes.result_shape
    np.testing.assert_allclose(c, np.matmul(a.astype(np.float64), b.astype(np.float64)),
                               **close(dtype))


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(signature="(m?,k),(k,n?)->(m?,n?)",
                                                 max_dims=3, max_side=4),
       seed=st.integers(0, 2**32 - 1))
def test_tensor_matmul_matches_numpy(shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    c = ember.tensor(a) @ ember.tensor(b)
    expected = np.matmul(a, b)
    assert tuple(c.shape) == np.shape(expected)
    np.testing.assert_allclose(c.numpy(), expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Broadcasting arithmetic and algebraic laws on Tensors
# ----------------------------------------------------------------------------------------------

OPS = {"+": np.add, "-": np.subtract, "*": np.multiply}


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
       op=st.sampled_from(sorted(OPS)), dtype=FLOAT_DTYPES, data=st.data())
def test_broadcasting_arithmetic_matches_numpy(shapes, op, dtype, data):
    a = data.draw(float_arrays(dtype, shapes.input_shapes[0]))
    b = data.draw(float_arrays(dtype, shapes.input_shapes[1]))
    ta, tb = ember.tensor(a), ember.tensor(b)
    out = {"+": ta + tb, "-": ta - tb, "*": ta * tb}[op]
    expected = OPS[op](a, b)
    assert tuple(out.shape) == shapes.result_shape
    assert out.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
    np.testing.assert_allclose(out.numpy(), expected, **close(dtype))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5), data=st.data())
def test_add_then_subtract_recovers(shape, data):
    a = data.draw(float_arrays(np.float64, shape))
    b = data.draw(float_arrays(np.float64, shape))
    got = ((ember.tensor(a) + ember.tensor(b)) - ember.tensor(b)).numpy()
    np.testing.assert_allclose(got, a, rtol=0, atol=1e-12)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), data=st.data())
def test_sum_over_dims_is_consistent(shape, data):
    x = data.draw(float_arrays(np.float64, shape))
    t = ember.tensor(x)
    total = t.sum().item()
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    partial = t.sum(dim=dim)
    kept = t.sum(dim=dim, keepdim=True)
    assert tuple(partial.shape) == tuple(np.delete(shape, dim % len(shape)))
    assert tuple(kept.shape) == tuple(1 if i == dim % len(shape) else s for i, s in enumerate(shape))
    np.testing.assert_allclose(partial.sum().item(), total, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(partial.numpy(), x.sum(axis=dim), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(kept.numpy(), x.sum(axis=dim, keepdims=True), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(t.mean().item() * x.size, total, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_permute_round_trip(shape, data):
    x = data.draw(float_arrays(np.float64, shape))
    perm = data.draw(st.permutations(range(len(shape))))
    t = ember.tensor(x).permute(*perm)
    np.testing.assert_array_equal(t.numpy(), np.transpose(x, perm))
    inverse = np.argsort(perm).tolist()
    np.testing.assert_array_equal(t.permute(*inverse).numpy(), x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_reshape_round_trip(shape, data):
    x = data.draw(float_arrays(np.float64, shape))
    t = ember.tensor(x)
    flat = t.reshape(-1)
    assert tuple(flat.shape) == (x.size,)
    np.testing.assert_array_equal(flat.numpy(), x.reshape(-1))
    np.testing.assert_array_equal(flat.reshape(*shape).numpy(), x)
    # Reshaping a non-contiguous (permuted) tensor follows its logical (row-major) order.
    p = t.permute(*reversed(range(len(shape))))
    np.testing.assert_array_equal(p.reshape(-1).numpy(), np.transpose(x).reshape(-1))


# ----------------------------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------------------------

@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=4), dtype=FLOAT_DTYPES,
       data=st.data())
def test_gradient_of_sum_is_ones(shape, dtype, data):
    x = ember.tensor(data.draw(float_arrays(dtype, shape)), requires_grad=True)
    x.sum().backward()
    assert tuple(x.grad.shape) == tuple(shape) and x.grad.dtype == x.dtype
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_gradient_of_mean_is_one_over_n(shape, data):
    x = ember.tensor(data.draw(float_arrays(np.float64, shape)), requires_grad=True)
    x.mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1.0 / np.prod(shape)), rtol=1e-15)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       data=st.data())
def test_broadcast_gradient_counts_uses(shapes, data):
    # d/da sum(a + b) is, for each element of a, how many output elements it was broadcast to.
    sa, sb = shapes.input_shapes
    a = ember.tensor(data.draw(float_arrays(np.float64, sa)), requires_grad=True)
    b = ember.tensor(data.draw(float_arrays(np.float64, sb)), requires_grad=True)
    (a + b).sum().backward()
    n_out = int(np.prod(shapes.result_shape))
    np.testing.assert_array_equal(a.grad.numpy(), np.full(sa, n_out / max(int(np.prod(sa)), 1)))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(sb, n_out / max(int(np.prod(sb)), 1)))


@SETTINGS
@given(n=st.integers(1, 6), picks=st.lists(st.integers(0, 5), min_size=1, max_size=12))
def test_repeated_index_gradient_counts(n, picks):
    idx = [p % n for p in picks]
    x = ember.zeros(n, dtype=ember.float64, requires_grad=True)
    x[idx].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.bincount(idx, minlength=n).astype(float))
