"""``gradcheck``: compare analytical gradients with central finite differences.

For an input x and output y = f(x) the Jacobian entry J[i, j] = dy_i/dx_j is estimated as
(f(x + eps e_j)_i - f(x - eps e_j)_i) / (2 eps) and compared with the row produced by
``autograd.grad(y, x, grad_outputs=e_i)``. Only float64 makes this meaningful: with float32 the
rounding error of f (about 1e-7 relative) divided by 2*eps swamps the derivative.
"""
from __future__ import annotations

import numpy as np

from ember._tensor import Tensor, _new_tensor
from ember.autograd import grad_mode
from ember.autograd.api import grad as autograd_grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical Jacobians differ."""


def _outputs(fn, inputs) -> tuple:
    out = fn(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return tuple(o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f")


def _numerical_jacobian(fn, inputs, x: Tensor, n_outputs_sizes, eps: float) -> list:
    """One (out_numel, x_numel) matrix per output, by perturbing x's elements one at a time."""
    jac = [np.zeros((size, x._data.size)) for size in n_outputs_sizes]
    flat = x._data.reshape(-1)       # a view when x is contiguous (checked by the caller)
    with grad_mode.no_grad():
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = [o._data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs)]
            flat[j] = orig - eps
            minus = [o._data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs)]
            flat[j] = orig
            for k in range(len(jac)):
                jac[k][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical_jacobian(outputs, x: Tensor) -> list:
    """One (out_numel, x_numel) matrix per output, one backward pass per output element."""
    jac = []
    for o in outputs:
        rows = np.zeros((o._data.size, x._data.size))
        if o._requires_grad:
            for i in range(o._data.size):
                seed = np.zeros(o._data.size, o._data.dtype)
                seed[i] = 1
                g, = autograd_grad(o, x, grad_outputs=_new_tensor(seed.reshape(o._data.shape)),
                                   retain_graph=True, allow_unused=True)
                if g is not None:
                    rows[i] = g._data.reshape(-1)
        jac.append(rows)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **unused) -> bool:
    """Check ``func``'s gradients w.r.t. every input that requires grad; True if they match.

    ``func(*inputs)`` may return a tensor or a tuple of tensors. Differentiable inputs must be
    float64. On a mismatch raises GradcheckError (or returns False if ``raise_exception=False``)
    showing both Jacobians.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    for i, t in diff:
        if t._data.dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {t.dtype}; differentiable inputs must be "
                "ember.float64 (finite differences in float32 are too imprecise to compare). "
                "Use x.double().")
        if not t._data.flags.c_contiguous:
            raise ValueError(f"gradcheck: input {i} must be contiguous; call .contiguous()")

    outputs = _outputs(func, inputs)
    sizes = [o._data.size for o in outputs]
    for i, x in diff:
        analytical = _analytical_jacobian(outputs, x)
        numerical = _numerical_jacobian(func, inputs, x, sizes, eps)
        for k, (a, n) in enumerate(zip(analytical, numerical)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{n}\nanalytical:{a}\n"
                    f"max abs difference: {np.max(np.abs(a - n))}\n")
    return True
