"""The backward pass: walk the graph from the outputs to the leaves, without recursion.

Given root tensors ``y_i`` and their gradients ``dL/dy_i``:

1. Count, for every node reachable from the roots, how many edges point at it (an iterative
   depth-first walk with an explicit stack, so a 10,000-op chain or an unrolled RNN never hits
   Python's recursion limit).
2. Kahn's algorithm: a node runs only when every consumer has sent it a gradient (its count
   drops to 0). Its output gradients are summed into one buffer per output, its ``backward``
   maps them to input gradients, and each input gradient is summed back to the input's shape
   (undoing broadcasting) and cast to the input's dtype before it joins the producer's buffer.
3. Leaves accumulate into ``.grad`` (summing across backward calls); ``autograd.grad`` instead
   captures the gradients of its ``inputs`` and leaves ``.grad`` alone.

Saved values are freed as each node runs unless ``retain_graph=True``.
"""
from __future__ import annotations

import numpy as np

from ember.autograd import grad_mode
from ember.autograd.function import FunctionCtx
from ember._tensor import Tensor, _new_tensor


def sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched, giving ``shape``.

    (2, 3, 4) -> (3, 1): sum over axis 0 (added) and axis 2 (stretched from 1), keep it as 1.
    Returns None when ``grad`` is not a broadcast of ``shape``.
    """
    lead = grad.ndim - len(shape)
    if lead < 0:
        return None
    axes = list(range(lead))
    for i, s in enumerate(shape):
        gs = grad.shape[lead + i]
        if s == 1 and gs != 1:
            axes.append(lead + i)
        elif s != gs:
            return None
    if axes:
        grad = grad.sum(axis=tuple(axes), keepdims=True)
    return grad.reshape(shape)


def _fit(grad, meta, node: FunctionCtx, index: int) -> np.ndarray:
    """Make an input gradient match the input's shape and dtype, or explain why it can't."""
    shape, dtype = meta
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != shape:
        fitted = sum_to(grad, shape)
        if fitted is None:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - got "
                f"{list(grad.shape)} but expected shape compatible with {list(shape)}")
        grad = fitted
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _run_hooks(hooks, grad: np.ndarray) -> np.ndarray:
    for hook in hooks:
        out = hook(_new_tensor(grad))
        if out is not None:
            grad = out._data if isinstance(out, Tensor) else np.asarray(out)
    return grad


def _call_backward(node: FunctionCtx, grads: list, retain_graph: bool):
    """Run one node's backward on its summed output gradients; return its input gradients."""
    if node._hooks:
        for k, hooks in node._hooks.items():
            if grads[k] is not None:
                grads[k] = _run_hooks(hooks, grads[k])
    if node._retain:
        for k, ref in node._retain.items():
            t = ref()
            if t is not None and grads[k] is not None:
                g = grads[k]
                if t._grad is None:
                    t._grad = _new_tensor(np.array(g, copy=True))
                else:
                    t._grad = _new_tensor(t._grad._data + g)
    if node.materialize_grads:
        for k, g in enumerate(grads):
            if g is None:
                shape, dtype = node._out_meta[k]
                grads[k] = np.zeros(shape, dtype)

    fn = node._fn
    if fn._array_io:
        result = fn.backward(node, *grads)
    else:
        wrapped = [None if g is None else _new_tensor(g) for g in grads]
        with grad_mode.no_grad():
            result = fn.backward(node, *wrapped)
    if not isinstance(result, tuple):
        result = (result,)
    n_in = len(node._next)
    if len(result) != n_in:
        if len(result) > n_in and all(r is None for r in result[n_in:]):
            result = result[:n_in]
        elif fn._array_io and all(e is None for e in node._next[len(result):]):
            # ember's own ops return gradients for their leading tensor inputs only; the
            # trailing arguments (dims, flags) never need one
            result = result + (None,) * (n_in - len(result))
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(result)})")
    if not fn._array_io:
        result = tuple(r._data if isinstance(r, Tensor) else r for r in result)
    if not retain_graph:
        node._saved = None      # free the activations this node kept
        node._saved_versions = None
        node._freed = True
    return result


def _accumulate_leaf(leaf: Tensor, grad: np.ndarray) -> None:
    """``leaf.grad += grad``: the first gradient is copied (it may alias another buffer)."""
    if leaf._grad is None:
        leaf._grad = _new_tensor(np.array(grad, copy=True))
    else:
        acc = leaf._grad._data
        if acc.shape == grad.shape and acc.flags.writeable:
            acc += grad
        else:
            leaf._grad = _new_tensor(acc + grad)


def run_backward(roots, root_grads, retain_graph: bool, capture=None):
    """Backpropagate ``root_grads`` (arrays) from ``roots`` (tensors that require grad).

    ``capture``: None to accumulate into leaves' ``.grad``; or a list of tensors whose gradients
    are returned instead (``autograd.grad``), with None for those the graph never reached.
    """
    # Root entries: (node, output_nr) where node is a FunctionCtx or a leaf Tensor.
    starts = [(t.grad_fn, t._output_nr) if t.grad_fn is not None else (t, 0) for t in roots]

    deps: dict = {}
    seen = {node for node, _ in starts}
    stack = list(seen)
    while stack:
        node = stack.pop()
        if type(node) is not FunctionCtx:
            continue
        for edge in node._next:
            if edge is not None:
                producer = edge[0]
                deps[producer] = deps.get(producer, 0) + 1
                if producer not in seen:
                    seen.add(producer)
                    stack.append(producer)

    buffers: dict = {}

    def add_to_buffer(node, k, g):
        buf = buffers.get(node)
        if buf is None:
            n_out = len(node._out_meta) if type(node) is FunctionCtx else 1
            buf = buffers[node] = [None] * n_out
        prev = buf[k]
        buf[k] = g if prev is None else prev + g

    for (node, k), g in zip(starts, root_grads):
        add_to_buffer(node, k, g)

    captured = None
    targets = {}
    if capture is not None:
        captured = [None] * len(capture)
        for i, t in enumerate(capture):
            key = (t.grad_fn, t._output_nr) if t.grad_fn is not None else (t, 0)
            targets.setdefault(key, []).append(i)

    ready = [node for node in {n for n, _ in starts} if deps.get(node, 0) == 0]
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None)
        if type(node) is not FunctionCtx:                 # a leaf tensor
            if grads is None or grads[0] is None:
                continue
            g = grads[0]
            if node._hooks:
                g = _run_hooks(node._hooks, g)
            if capture is None:
                _accumulate_leaf(node, g)
            else:
                for i in targets.get((node, 0), ()):
                    captured[i] = g
            continue

        if grads is not None and targets:
            for k, g in enumerate(grads):
                for i in targets.get((node, k), ()):
                    captured[i] = g
        if grads is None or all(g is None for g in grads):
            in_grads = (None,) * len(node._next)
        else:
            in_grads = _call_backward(node, grads, retain_graph)
        for i, (edge, g) in enumerate(zip(node._next, in_grads)):
            if edge is None:
                continue
            producer, k = edge
            if g is not None:
                add_to_buffer(producer, k, _fit(g, node._in_meta[i], node, i))
            left = deps[producer] - 1
            deps[producer] = left
            if left == 0:
                ready.append(producer)
    return captured
