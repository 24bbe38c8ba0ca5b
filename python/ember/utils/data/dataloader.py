"""``DataLoader``: batches from a dataset, with ``torch.utils.data.DataLoader``'s signature.

The loader turns a sampler's indices into batches:

    sampler        which indices, in which order (SequentialSampler, or RandomSampler when
                   ``shuffle=True``, drawing from ``generator``)
    batch_sampler  groups them into lists of ``batch_size`` (``drop_last`` drops a short tail)
    fetch          ``[dataset[i] for i in batch]`` (or ``dataset.__getitems__(batch)``)
    collate_fn     merges the samples (``default_collate`` stacks tensors, see _collate.py)

``batch_size=None`` turns batching off: each sample passes through ``default_convert``.

Everything runs in the calling process. ``num_workers > 0`` is accepted so torch scripts run
unchanged, but the batches are produced in-process (same batches, same order as
``num_workers=0``; a one-time warning says so); ``worker_init_fn`` is never called,
``pin_memory``, ``timeout`` and the other multiprocessing options are accepted and ignored.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data.dataset import IterableDataset, TensorDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

_warned_workers = False


def get_worker_info():
    """Always None: ember's DataLoader has no worker processes (torch returns None in the
    main process too)."""
    return None


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the 'index' stream for an IterableDataset."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in (shuffled) batches; see the module docstring."""

    _frozen_attrs = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            _warn_workers(num_workers)

        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._is_iterable = is_iterable
        self.__initialized = True

    def __setattr__(self, name, value):
        if name in self._frozen_attrs and self.__dict__.get("_DataLoader__initialized"):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _LoaderIter(self)

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)


def _warn_workers(num_workers: int) -> None:
    global _warned_workers
    if not _warned_workers:
        _warned_workers = True
        warnings.warn(f"ember's DataLoader loads data in the main process: num_workers="
                      f"{num_workers} is accepted, but batches are produced in-process, "
                      "in the same order as with num_workers=0 (worker_init_fn is not called)",
                      UserWarning, stacklevel=3)


class _LoaderIter:
    """One pass over a DataLoader (what ``iter(loader)`` returns)."""

    def __init__(self, loader: DataLoader):
        self._loader = loader
        self._dataset = loader.dataset
        self._collate_fn = loader.collate_fn
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_iter = iter(loader._index_sampler)
        self._num_yielded = 0
        if loader._is_iterable:
            self._data_iter = iter(self._dataset)
            self._ended = False
        # A plain TensorDataset batched by default_collate is just fancy indexing: one gather
        # per tensor instead of len(batch) slices and a stack (same values, dtypes and shapes).
        self._gather = (type(self._dataset) is TensorDataset and self._auto_collation
                        and self._collate_fn is default_collate)

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self):
        index = next(self._index_iter)          # StopIteration ends the epoch
        data = self._fetch_iterable(index) if self._loader._is_iterable \
            else self._fetch_map(index)
        self._num_yielded += 1
        return data

    def _fetch_map(self, index):
        ds = self._dataset
        if not self._auto_collation:
            return self._collate_fn(ds[index])
        if self._gather:
            idx = np.asarray(index, dtype=np.int64)
            return [t[idx] for t in ds.tensors]
        getitems = getattr(ds, "__getitems__", None)
        samples = getitems(index) if callable(getitems) else [ds[i] for i in index]
        return self._collate_fn(samples)

    def _fetch_iterable(self, index):
        if self._ended:
            raise StopIteration
        if not self._auto_collation:
            try:
                return self._collate_fn(next(self._data_iter))
            except StopIteration:
                self._ended = True
                raise
        samples = []
        for _ in index:
            try:
                samples.append(next(self._data_iter))
            except StopIteration:
                self._ended = True
                break
        if not samples or (self._drop_last and len(samples) < len(index)):
            raise StopIteration
        return self._collate_fn(samples)
