"""``Function``: one differentiable op, with its forward and backward side by side.

The shape is ``torch.autograd.Function``::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # x: Tensor
            y = x.exp()
            ctx.save_for_backward(y)
            return y
        @staticmethod
        def backward(ctx, grad):          # grad: dL/dy, same shape as y
            y, = ctx.saved_tensors
            return grad * y               # dL/dx

    y = Exp.apply(x)

``apply`` runs ``forward`` and, when grad mode is on and some input requires grad, records a
graph node. The node *is* the ``ctx`` object (``y.grad_fn is ctx``): it keeps the saved values,
``needs_input_grad``, and one edge per input pointing at the producer of that input (another
node, or the leaf tensor itself, where the engine accumulates ``.grad``).

ember's own ops subclass ``ArrayFunction`` instead: identical protocol, but ``forward`` and
``backward`` receive and return NumPy arrays rather than Tensors. That keeps the per-op Python
overhead to one small object, and the engine never wraps intermediate gradients.
"""
from __future__ import annotations

import weakref

import numpy as np

from ember._dtype import legacy_name
from ember.autograd import grad_mode
from ember._tensor import Tensor, _new_tensor

_state = grad_mode._state

FREED_GRAPH_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


class FunctionCtx:
    """The ``ctx`` passed to forward/backward, and afterwards the graph node (``grad_fn``).

    Attributes used by the engine:
      _fn        the Function subclass whose ``backward`` this node runs
      _next      one entry per positional input: None (no grad needed) or (producer, output_nr),
                 where producer is a FunctionCtx or a leaf Tensor
      _in_meta   (shape, np.dtype) per input with an edge: gradients are summed/cast to it
      _out_meta  (shape, np.dtype) per output: missing output grads are materialised as zeros
      _hooks     {output_nr: [hook, ...]} tensor hooks of non-leaf outputs
      _retain    {output_nr: weakref(tensor)} outputs that called ``retain_grad()``
    """

    # Class-level defaults: most nodes never change these, so __init__ stays two stores.
    _saved = None
    _saved_versions = None
    _freed = False
    _next = ()
    _in_meta = ()
    _out_meta = ()
    _non_diff = None
    _hooks = None
    _retain = None
    materialize_grads = True

    def __init__(self, fn, needs_input_grad):
        self._fn = fn
        self.needs_input_grad = needs_input_grad

    # -- the torch ctx API -------------------------------------------------------------------
    def save_for_backward(self, *tensors) -> None:
        """Keep values for ``backward``; read them back with ``ctx.saved_tensors``. They are
        released after backward (unless ``retain_graph=True``) and checked for in-place changes."""
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(FREED_GRAPH_MSG)
        if self._saved_versions:
            for box, version, arr in self._saved_versions:
                if box[0] != version:
                    kind = f"ember.{legacy_name(arr.dtype)}Tensor {list(arr.shape)}"
                    raise RuntimeError(
                        "one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: [{kind}], which is "
                        f"needed by {self.name()}, is at version {box[0]}; expected version "
                        f"{version} instead. Hint: clone() the tensor before modifying it in place.")
        return self._saved if self._saved is not None else ()

    def mark_non_differentiable(self, *outputs) -> None:
        """Declare outputs (e.g. argmax indices) that never require grad."""
        self._non_diff = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """If False, ``backward`` receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    # -- introspection -------------------------------------------------------------------------
    def name(self) -> str:
        return self._fn.__name__ + ("Backward0" if self._fn._array_io else "Backward")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """((node, output_nr), ...) per input like torch; leaves appear as AccumulateGrad."""
        out = []
        for edge in self._next:
            if edge is None:
                out.append((None, 0))
            elif isinstance(edge[0], Tensor):
                out.append((AccumulateGrad(edge[0]), 0))
            else:
                out.append(edge)
        return tuple(out)

    def register_hook(self, hook):
        raise NotImplementedError("node hooks are not supported; use Tensor.register_hook")


class AccumulateGrad:
    """Introspection stand-in for the node that writes a leaf's ``.grad`` (see next_functions)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class Function:
    """Base class of differentiable ops: subclass it and write static ``forward``/``backward``.

    ``forward(ctx, *args)`` gets the arguments of ``apply`` (Tensors stay Tensors) and runs with
    grad recording off. ``backward(ctx, *grads)`` gets one gradient per output and returns one
    gradient (or None) per input of ``forward``; gradients may have the broadcast shape, the
    engine sums them back to each input's shape.
    """

    _array_io = False   # True in ArrayFunction: forward/backward see NumPy arrays
    _saves_inputs = True  # False lets in-place ops skip snapshotting the overwritten input
    _is_view = False      # True: output 0 may alias input 0 and shares its version counter

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("subclasses of Function must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("subclasses of Function must implement backward")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional (torch 2 style): if overridden, ``forward`` takes no ctx and this saves
        what backward needs from ``inputs`` and ``output``."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and, if needed, record the op in the graph."""
        needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
        ctx = FunctionCtx(cls, needs)
        if cls._array_io:
            out = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args],
                              **kwargs)
        else:
            prev, _state.enabled = _state.enabled, False
            try:
                if cls.setup_context is Function.setup_context:
                    out = cls.forward(ctx, *args, **kwargs)
                else:       # torch 2 style: forward(*args) then setup_context(ctx, args, out)
                    out = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, out)
            finally:
                _state.enabled = prev

        if type(out) is tuple:
            results = tuple([_new_tensor(_as_array(o)) for o in out])
        else:
            results = (_new_tensor(out if type(out) is np.ndarray else _as_array(out)),)
        if cls._is_view and isinstance(args[0], Tensor) and \
                np.may_share_memory(results[0]._data, args[0]._data):
            results[0]._version = args[0]._version   # in-place edits through a view are seen

        if _state.enabled and True in needs:
            _record(ctx, args, out if type(out) is tuple else (out,), results)
        return results if type(out) is tuple else results[0]


def _as_array(o) -> np.ndarray:
    """A forward's output as an ndarray (NumPy scalars from reductions, Tensors from user
    Functions)."""
    if isinstance(o, Tensor):
        return o._data
    return o if type(o) is np.ndarray else np.asarray(o)


class ArrayFunction(Function):
    """A Function whose forward/backward take and return NumPy arrays (ember's built-in ops).

    Non-tensor arguments (Python scalars, dims, shapes) pass through unchanged, so an op like
    ``Add`` can take ``(array, 2.0)`` as well as ``(array, array)``.
    """

    _array_io = True


def _record(ctx: FunctionCtx, args, outs, results) -> None:
    """Attach ``ctx`` as the grad_fn of the differentiable outputs and link it to its inputs."""
    non_diff = ctx._non_diff
    for i, (o, t) in enumerate(zip(outs, results)):
        if t._data.dtype.kind != "f":
            continue                     # integer/bool outputs never require grad
        if non_diff is not None and any(o is nd for nd in non_diff):
            continue
        t._requires_grad = True
        t.grad_fn = ctx
        t._output_nr = i
    nexts, metas = [], []
    for a, need in zip(args, ctx.needs_input_grad):
        if need:
            nexts.append((a.grad_fn, a._output_nr) if a.grad_fn is not None else (a, 0))
            metas.append((a._data.shape, a._data.dtype))
        else:
            nexts.append(None)
            metas.append(None)
    ctx._next = tuple(nexts)
    ctx._in_meta = tuple(metas)
    ctx._out_meta = tuple((t._data.shape, t._data.dtype) for t in results)
    if ctx._saved:
        _remember_versions(ctx, args, results)


def _remember_versions(ctx: FunctionCtx, args, results) -> None:
    """Record the version of every input/output whose data was saved, to detect in-place edits."""
    versions = []
    tensors = [a for a in args if isinstance(a, Tensor)] + list(results)
    for s in ctx._saved:
        if isinstance(s, Tensor):
            versions.append((s._version, s._version[0], s._data))
        elif isinstance(s, np.ndarray):
            for t in tensors:
                if t._data is s:
                    versions.append((t._version, t._version[0], s))
                    break
    ctx._saved_versions = versions


def retain_output_grad(tensor) -> None:
    """Make the engine store the gradient of non-leaf ``tensor`` in ``tensor.grad``."""
    node = tensor.grad_fn
    if node._retain is None:
        node._retain = {}
    node._retain[tensor._output_nr] = weakref.ref(tensor)
