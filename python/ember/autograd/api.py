"""``ember.autograd.backward`` and ``ember.autograd.grad``: the entry points into the engine."""
from __future__ import annotations

import numpy as np

from ember._tensor import Tensor, _new_tensor
from ember.autograd.engine import run_backward


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(outputs: tuple, grad_outputs: tuple) -> list:
    """Check each output can start a backward pass and give it a gradient array."""
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; "
                           "pass one gradient (or None) per output")
    grads = []
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected a Tensor at position {i}, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grads.append(np.ones(t._data.shape, t._data.dtype))
            continue
        g = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=t._data.dtype)
        if g.shape != t._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and "
                f"output[{i}] has a shape of {list(t._data.shape)}.")
        grads.append(g if g.dtype == t._data.dtype else g.astype(t._data.dtype))
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate d(sum_i <tensors_i, grad_tensors_i>)/d(leaf) into every reachable leaf's .grad.

    ``grad_tensors`` may be omitted for scalar outputs (it is then 1). The graph's saved values
    are freed afterwards unless ``retain_graph=True``. ``create_graph=True`` (higher-order
    gradients) is not supported: ember's backward formulas run on NumPy arrays.
    """
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported "
                                  "by ember: backward formulas run on NumPy arrays")
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported; use autograd.grad")
    tensors = _as_tuple(tensors)
    grads = _root_grads(tensors, _as_tuple(grad_tensors))
    run_backward(tensors, grads, retain_graph=bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(sum_i <outputs_i, grad_outputs_i>)/d(inputs_j) for each input, without touching
    any ``.grad``.

    An input the outputs do not depend on raises, unless ``allow_unused=True`` (then its entry
    is None, or zeros with ``materialize_grads=True``). ``create_graph=True`` raises
    NotImplementedError (see ``backward``).
    """
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported "
                                  "by ember: backward formulas run on NumPy arrays")
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    allow_unused = bool(allow_unused) or materialize_grads
    outputs = _as_tuple(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = _as_tuple(inputs)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(outputs, _as_tuple(grad_outputs))
    captured = run_backward(outputs, grads, retain_graph=bool(retain_graph), capture=list(inputs))
    result = []
    for t, g in zip(inputs, captured):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
            result.append(_new_tensor(np.zeros_like(t._data)) if materialize_grads else None)
        else:
            result.append(_new_tensor(np.array(g, copy=True)))
    return tuple(result)
