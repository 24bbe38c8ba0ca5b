"""``parameters_to_vector`` / ``vector_to_parameters``: a model's parameters as one flat vector
and back (e.g. for second-order or evolutionary optimisers)."""
from __future__ import annotations

from ember._functions.shape import cat
from ember._tensor import Tensor
from ember.nn.modules.module import _typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the flattened parameters into one 1-D tensor (differentiable: gradients of
    the vector flow back to the parameters)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Point each parameter's data at its consecutive slice of ``vec`` (reshaped; like torch the
    parameters then share memory with ``vec``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        if pointer + n > vec.numel():
            raise RuntimeError(f"vector_to_parameters: vec has {vec.numel()} elements, fewer "
                               f"than the parameters need (at least {pointer + n})")
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
