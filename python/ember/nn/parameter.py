"""``nn.Parameter`` and ``nn.Buffer``: tensors that a Module registers when they are assigned to
one of its attributes.

A Parameter is an ordinary ember Tensor (same array, same version counter as the tensor it was
built from, no copy) marked as a trainable weight: it requires grad by default, is a graph leaf,
and ``Module.parameters()`` finds it. A Buffer marks model state that is not trained (running
statistics); ``persistent=False`` keeps it out of the ``state_dict``.
"""
from __future__ import annotations

from ember._tensor import Tensor

__all__ = ["Parameter", "Buffer"]


def _empty():
    from ember._creation import empty
    return empty(0)


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True)``: ``data`` as a trainable leaf tensor.

    Shares ``data``'s memory (like torch); a tensor with a grad_fn is detached first. Its repr
    starts with ``Parameter containing:``.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _empty()
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        return Tensor._make_subclass(cls, data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (type(self), self._data, self._requires_grad,
                                     getattr(self, "__dict__", None)))


def _rebuild_parameter(cls, data, requires_grad, state):
    from ember._dtype import from_np
    from ember._tensor import _new_tensor
    # An unpickled array carries a fresh dtype object; the C++ bindings recognise dtypes by
    # identity, so view the data with NumPy's canonical dtype instance (no copy).
    data = data.view(from_np(data.dtype).np)
    p = Tensor._make_subclass(cls, _new_tensor(data), requires_grad)
    if state:
        p.__dict__.update(state)
    return p


class Buffer(Tensor):
    """``Buffer(data, *, persistent=True)``: assigning one to a Module attribute registers it as a
    buffer (``register_buffer(name, data, persistent)``). Shares ``data``'s memory."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _empty()
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor, got {type(data).__name__}")
        b = Tensor._make_subclass(cls, data, data.requires_grad and data.grad_fn is None)
        b.persistent = bool(persistent)
        return b
