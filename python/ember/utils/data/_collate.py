"""``default_collate`` and ``default_convert``: torch's rules for turning samples into batches.

``default_collate(batch)`` looks at the first sample and recurses:

  sample type                  batch result
  Tensor                       ``stack(batch)`` (a new leading dimension)
  NumPy array                  tensors of the same dtype, stacked (string/object arrays refused)
  NumPy scalar                 1-d tensor of that dtype (float32 stays float32)
  float                        float64 tensor
  int (and bool)               ``ember.tensor(batch)``: int64 (bool for bools)
  str / bytes                  the list unchanged
  Mapping                      same mapping type, each key collated
  namedtuple                   same namedtuple, each field collated
  tuple / other Sequence       a list (tuples) or the same sequence type, position by position
                               (all samples must have equal length)
"""
from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ember._tensor import Tensor, _new_tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _is_string_array(a: np.ndarray) -> bool:
    return a.dtype.kind in "SaUO"


def _np_to_tensor(a) -> Tensor:
    from ember._creation import from_numpy   # refuses dtypes ember has no name for
    return from_numpy(np.asarray(a))


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        batch = list(batch)
    if len(batch) == 0:
        raise IndexError("default_collate: the batch is empty (list index out of range)")
    elem = batch[0]
    if isinstance(elem, Tensor):
        from ember._functions.shape import stack
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if _is_string_array(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([_np_to_tensor(b) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if _is_string_array(np.asarray(elem)):
            raise TypeError(_ERR.format(elem.dtype))
        return _np_to_tensor(np.array(batch))
    if isinstance(elem, float):
        return _new_tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        from ember._creation import tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        merged = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                out = copy.copy(elem)
                out.update(merged)
                return out
            return type(elem)(merged)
        except TypeError:
            return merged
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(s) != size for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                out = copy.copy(elem)
                for i, c in enumerate(columns):
                    out[i] = c
                return out
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Without batching: NumPy arrays and scalars become tensors, containers are walked,
    everything else passes through unchanged."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_string_array(data) else _np_to_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_, np.object_)):
        return _np_to_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        merged = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                out = copy.copy(data)
                out.update(merged)
                return out
            return type(data)(merged)
        except TypeError:
            return merged
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                out = copy.copy(data)
                for i, c in enumerate(converted):
                    out[i] = c
                return out
            return type(data)(converted)
        except TypeError:
            return converted
    return data
