"""ember.utils.data: datasets, samplers and ``DataLoader`` with ``torch.utils.data``'s names.

    from ember.utils.data import DataLoader, TensorDataset, random_split
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)

Shuffling is deterministic under ``ember.manual_seed(s)`` or with ``generator=`` (an
``ember.Generator``); the streams are NumPy's, not torch's, so the orders differ from torch's.
"""
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data.dataloader import DataLoader, get_worker_info
from ember.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                      StackDataset, Subset, TensorDataset, random_split)
from ember.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
