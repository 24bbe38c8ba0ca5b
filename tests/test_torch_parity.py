"""PyTorch parity, driven by the op table: the same inputs through ember and torch, in float32 and
float64, must give the same outputs (values, shapes, dtypes, requires_grad) and the same gradient
for every input (including which inputs get none). PyTorch is a test oracle only.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from op_table import OPS, flatten_outputs, to_lib, to_numpy

torch = pytest.importorskip("torch")

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def run(op, lib, arrays, dtype, grads):
    """Forward through ``lib``, then backward with the upstream gradients ``grads`` (one per
    float output). Returns (outputs as NumPy, requires_grad flags, input grads or None)."""
    inputs = to_lib(lib, arrays, requires_grad=op.differentiable)
    outs = flatten_outputs(op.fn(lib, *inputs))
    values = [to_numpy(o) for o in outs]
    flags = [bool(o.requires_grad) for o in outs]
    if not op.differentiable:
        return values, flags, None
    diff = [o for o in outs if o.requires_grad]
    if len(diff) == 1:
        diff[0].backward(gradient=lib.tensor(grads[0].astype(dtype)))
    else:  # several outputs (split, chunk): one scalar that weights each by its upstream grad
        total = sum((o * lib.tensor(g.astype(dtype))).sum() for o, g in zip(diff, grads))
        total.backward()
    input_grads = [None if x.grad is None else to_numpy(x.grad) for x in inputs]
    return values, flags, input_grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
def test_parity_with_torch(op, dtype):
    arrays = op.inputs(dtype)
    tol = TOL[dtype]

    # Upstream gradients come from torch's output shapes so both libraries get the same ones.
    t_outs = flatten_outputs(op.torch(*to_lib(torch, arrays, requires_grad=op.differentiable)))
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(tuple(o.shape)) for o in t_outs if o.requires_grad]

    t_vals, t_flags, t_grads = run(op, torch, arrays, dtype, grads)
    e_vals, e_flags, e_grads = run(op, ember, arrays, dtype, grads)

    assert len(e_vals) == len(t_vals), f"{len(e_vals)} outputs, torch gives {len(t_vals)}"
    for i, (e, t) in enumerate(zip(e_vals, t_vals)):
        assert e.shape == t.shape, f"output {i}: shape {e.shape}, torch {t.shape}"
        assert e.dtype == t.dtype, f"output {i}: dtype {e.dtype}, torch {t.dtype}"
        np.testing.assert_allclose(e, t, **tol, err_msg=f"output {i}")
    assert e_flags == t_flags, f"requires_grad of outputs {e_flags}, torch {t_flags}"

    if t_grads is not None:
        for i, (e, t) in enumerate(zip(e_grads, t_grads)):
            assert (e is None) == (t is None), f"input {i}: grad {e is None and 'None'}, torch {t}"
            if t is not None:
                assert e.shape == t.shape and e.dtype == t.dtype, (
                    f"input {i}: grad {e.shape} {e.dtype}, torch {t.shape} {t.dtype}")
                np.testing.assert_allclose(e, t, **tol, err_msg=f"grad of input {i}")

