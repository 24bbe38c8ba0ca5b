"""ember.utils.data: datasets, samplers, default_collate and DataLoader; ember.Generator.

Values are checked directly; torch (when installed) is the oracle for default_collate's
output types and for the argument validation messages' conditions.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import ember
from ember._generator import Generator, default_generator
from ember.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                              IterableDataset, RandomSampler, SequentialSampler, StackDataset,
                              Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                              default_collate, default_convert, get_worker_info, random_split)


class Squares(Dataset):
    """A map-style dataset of (x, x**2) pairs, x = 0..n-1."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, float(i * i)


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


def xy(n=10, d=3):
    X = ember.tensor(np.arange(n * d, dtype=np.float32).reshape(n, d))
    y = ember.arange(n)
    return X, y


# ----------------------------------------------------------------------------- Generator
def test_generator_seeding_is_reproducible():
    g1, g2 = Generator().manual_seed(7), Generator().manual_seed(7)
    assert ember.randperm(20, generator=g1).tolist() == ember.randperm(20, generator=g2).tolist()
    assert g1.initial_seed() == 7
    assert Generator().manual_seed(3) is not None
    g = Generator()
    assert g.manual_seed(5) is g
    a = ember.rand(4, generator=Generator().manual_seed(1))
    b = ember.rand(4, generator=Generator().manual_seed(2))
    assert not np.array_equal(a.numpy(), b.numpy())


def test_generator_state_roundtrip():
    g = Generator().manual_seed(11)
    state = g.get_state()
    assert state.dtype == ember.uint8 and state.dim() == 1
    first = ember.randn(5, generator=g).numpy().copy()
    g.set_state(state)
    np.testing.assert_array_equal(ember.randn(5, generator=g).numpy(), first)
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(ember.zeros(3))
    with pytest.raises(RuntimeError, match="get_state"):
        g.set_state(ember.tensor(np.frombuffer(b"garbage", np.uint8).copy()))


def test_generator_seed_and_device():
    g = Generator("cpu")
    assert str(g.device) == "cpu"
    s = g.seed()
    assert g.initial_seed() == s
    with pytest.raises(RuntimeError):
        Generator("cuda")
    with pytest.raises(TypeError, match="int"):
        g.manual_seed(1.5)


def test_default_generator_is_the_global_stream():
    default_generator.manual_seed(123)
    assert ember.initial_seed() == 123
    a = ember.rand(3).numpy().copy()
    ember.manual_seed(123)
    np.testing.assert_array_equal(ember.rand(3).numpy(), a)
    ember.manual_seed(5)
    st = default_generator.get_state()
    b = ember.rand(3).numpy().copy()
    default_generator.set_state(st)
    np.testing.assert_array_equal(ember.rand(3).numpy(), b)


# ----------------------------------------------------------------------------- datasets
def test_tensor_dataset():
    X, y = xy()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    a, b = ds[3]
    np.testing.assert_array_equal(a.numpy(), [9, 10, 11])
    assert b.item() == 3
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(X, ember.arange(9))
    with pytest.raises(TypeError):
        TensorDataset(np.zeros(3))


def test_subset_concat_stack_chain():
    base = Squares(5)
    sub = Subset(base, [4, 0, 2])
    assert len(sub) == 3 and sub[0] == (4, 16.0) and sub[2] == (2, 4.0)
    cat = ConcatDataset([Squares(2), Squares(3)])
    assert len(cat) == 5 and cat.cumulative_sizes == [2, 5]
    assert [cat[i][0] for i in range(5)] == [0, 1, 0, 1, 2]
    assert cat[-1] == (2, 4.0)
    with pytest.raises(IndexError):
        cat[5]
    assert len(Squares(2) + Squares(4)) == 6
    st = StackDataset(Squares(3), Squares(3))
    assert st[1] == ((1, 1.0), (1, 1.0))
    st = StackDataset(a=Squares(3), b=Squares(3))
    assert st[2] == {"a": (2, 4.0), "b": (2, 4.0)}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(Squares(3), Squares(4))
    assert list(ChainDataset([Stream(2), Stream(3)])) == [0, 1, 0, 1, 2]
    assert len(Stream(2) + Stream(3)) == 5


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [10, 0]])
def test_random_split_sizes_and_disjoint(lengths):
    ember.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = random_split(range(10), lengths)
    sizes = [len(p) for p in parts]
    if isinstance(lengths[0], float):
        expected = [int(np.floor(10 * f)) for f in lengths]
        for i in range(10 - sum(expected)):
            expected[i % len(expected)] += 1
    else:
        expected = lengths
    assert sizes == expected
    items = [x for p in parts for x in p]
    assert sorted(items) == list(range(10))


def test_random_split_fraction_remainder_round_robin():
    # floor(11 * 0.3) = 3, floor(11 * 0.3) = 3, floor(11 * 0.4) = 4: one left for split 0
    parts = random_split(range(11), [0.3, 0.3, 0.4], generator=Generator().manual_seed(0))
    assert [len(p) for p in parts] == [4, 3, 4]


def test_random_split_matches_torch_sizes():
    torch = pytest.importorskip("torch")
    for n, lengths in [(11, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (100, [0.1] * 10), (3, [0.9, 0.1])]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = [len(p) for p in random_split(range(n), lengths)]
            theirs = [len(p) for p in torch.utils.data.random_split(range(n), lengths)]
        assert ours == theirs


def test_random_split_generator_determinism_and_errors():
    a = random_split(range(20), [5, 15], generator=Generator().manual_seed(4))
    b = random_split(range(20), [5, 15], generator=Generator().manual_seed(4))
    assert list(a[0]) == list(b[0])
    ember.manual_seed(9)
    c = list(random_split(range(20), [5, 15])[0])
    ember.manual_seed(9)
    assert list(random_split(range(20), [5, 15])[0]) == c
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1"):
        random_split(range(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(range(2), [0.9, 0.1])


# ----------------------------------------------------------------------------- samplers
def test_sequential_and_batch_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    bs = BatchSampler(SequentialSampler(range(10)), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
    bs = BatchSampler(SequentialSampler(range(10)), 4, drop_last=True)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(bs) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


def test_random_sampler_permutation_and_determinism():
    s = RandomSampler(range(50), generator=Generator().manual_seed(1))
    first = list(s)
    assert sorted(first) == list(range(50)) and first != list(range(50))
    second = list(s)   # a new epoch continues the generator: another order
    assert sorted(second) == list(range(50)) and second != first
    again = list(RandomSampler(range(50), generator=Generator().manual_seed(1)))
    assert again == first
    ember.manual_seed(3)
    g1 = list(RandomSampler(range(30)))
    ember.manual_seed(3)
    assert list(RandomSampler(range(30))) == g1


def test_random_sampler_num_samples_and_replacement():
    s = RandomSampler(range(4), num_samples=10, generator=Generator().manual_seed(0))
    out = list(s)
    assert len(out) == 10 == len(s)
    # two whole permutations, then two more distinct indices
    assert sorted(out[:4]) == sorted(out[4:8]) == [0, 1, 2, 3]
    assert len(set(out[8:])) == 2
    s = RandomSampler(range(5), replacement=True, num_samples=5000,
                      generator=Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=5)
    assert counts.sum() == 5000 and np.all(np.abs(counts - 1000) < 150)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)


def test_subset_random_sampler():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=Generator().manual_seed(0))
    out = list(s)
    assert sorted(out) == [10, 20, 30, 40] and len(s) == 4


def test_weighted_random_sampler_frequencies():
    w = [1.0, 2.0, 7.0, 0.0]
    s = WeightedRandomSampler(w, 20000, generator=Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=4)
    freq = counts / counts.sum()
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7, 0.0], atol=0.015)
    assert counts[3] == 0
    # without replacement: each index at most once, heavy ones first on average
    s = WeightedRandomSampler(ember.tensor([1.0, 1.0, 100.0]), 3, replacement=False,
                              generator=Generator().manual_seed(1))
    out = list(s)
    assert sorted(out) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        list(WeightedRandomSampler(w, 4, replacement=False))
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], 0)


# ----------------------------------------------------------------------------- collate
def test_default_collate_rules():
    out = default_collate([1, 2, 3])
    assert out.dtype == ember.int64 and out.tolist() == [1, 2, 3]
    assert default_collate([1.5, 2.0]).dtype == ember.float64
    assert default_collate([True, False]).dtype == ember.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == ember.float32
    arr = default_collate([np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)])
    assert arr.shape == (2, 2, 2) and arr.dtype == ember.float32
    assert default_collate(["a", "b"]) == ["a", "b"]
    pairs = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(pairs, list) and pairs[0].tolist() == [1, 3]
    d = default_collate([{"x": ember.ones(3), "s": "u"}, {"x": ember.zeros(3), "s": "v"}])
    assert d["x"].shape == (2, 3) and d["s"] == ["u", "v"]
    P = collections.namedtuple("P", "a b")
    p = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(p, P) and p.a.tolist() == [1, 3]
    nested = default_collate([{"a": [1, (2.0, 3)]}, {"a": [4, (5.0, 6)]}])
    assert nested["a"][0].tolist() == [1, 4] and nested["a"][1][1].tolist() == [3, 6]


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object()])
    with pytest.raises(TypeError, match="<U1"):
        default_collate([np.array(["a"])])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ember.zeros(2), ember.zeros(3)])


def test_default_convert():
    out = default_convert((np.zeros(2), 1, "a"))
    assert isinstance(out, list) and isinstance(out[0], ember.Tensor) and out[1:] == [1, "a"]
    assert default_convert(np.float64(1.0)).dtype == ember.float64


def _torch_like(x, torch):
    """Describe a collated structure by types, shapes and dtype names."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return ("T", tuple(x.shape), str(x.dtype).split(".")[-1])
    if isinstance(x, dict):
        return {k: _torch_like(v, torch) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_torch_like(v, torch) for v in x])
    return x


@pytest.mark.parametrize("batch", [
    [1, 2, 3], [1.0, 2.0], [True, False], [1, 2.5],
    [np.float32(1), np.float32(2)], [np.int32(4), np.int32(5)], [np.float64(1.0)],
    [np.zeros((3, 4), np.float32)] * 2, [np.zeros(5, np.uint8)] * 3, [np.zeros(2)] * 2,
    [(1, 2.0, "s")] * 3, [[1, 2], [3, 4]],
    [{"img": np.zeros((1, 2, 2), np.float32), "label": 3, "name": "x"}] * 4,
    [{"a": [1, (2.0, np.int64(3))]}] * 2,
], ids=lambda b: type(b[0]).__name__)
def test_default_collate_matches_torch(batch):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    assert _torch_like(default_collate(batch), torch) == _torch_like(torch_collate(batch), torch)


def test_default_collate_tensors_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    for dt, tdt in [(ember.float32, torch.float32), (ember.float64, torch.float64),
                    (ember.int64, torch.int64)]:
        ours = default_collate([ember.ones(2, 3, dtype=dt)] * 4)
        theirs = torch_collate([torch.ones(2, 3, dtype=tdt)] * 4)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    ours = default_collate([ember.tensor(1.0), ember.tensor(2.0)])
    assert ours.shape == (2,)


# ----------------------------------------------------------------------------- DataLoader
def test_dataloader_batches_shapes_dtypes():
    X, y = xy(10)
    dl = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 == len(batches)
    assert [tuple(b[0].shape) for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(b[0].dtype == ember.float32 and b[1].dtype == ember.int64 for b in batches)
    np.testing.assert_array_equal(batches[1][1].numpy(), [4, 5, 6, 7])
    np.testing.assert_array_equal(batches[2][0].numpy(), X.numpy()[8:])
    assert isinstance(batches[0], list)


def test_dataloader_drop_last():
    X, y = xy(10)
    dl = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [len(b[1]) for b in dl] == [4, 4]


def test_dataloader_default_batch_size_is_one():
    dl = DataLoader(Squares(3))
    out = list(dl)
    assert len(out) == 3 and out[2][0].tolist() == [2] and out[2][1].dtype == ember.float64


@pytest.mark.parametrize("dataset", ["tensor", "python"])
def test_dataloader_shuffle_each_sample_once_and_deterministic(dataset):
    n = 23
    ds = TensorDataset(*xy(n)) if dataset == "tensor" else Squares(n)
    dl = DataLoader(ds, batch_size=5, shuffle=True, generator=Generator().manual_seed(0))
    epoch1 = np.concatenate([b[0 if dataset == "python" else 1].numpy() for b in dl])
    epoch2 = np.concatenate([b[0 if dataset == "python" else 1].numpy() for b in dl])
    assert sorted(epoch1.tolist()) == list(range(n)) == sorted(epoch2.tolist())
    assert epoch1.tolist() != list(range(n)) and epoch1.tolist() != epoch2.tolist()
    dl2 = DataLoader(ds, batch_size=5, shuffle=True, generator=Generator().manual_seed(0))
    again = np.concatenate([b[0 if dataset == "python" else 1].numpy() for b in dl2])
    np.testing.assert_array_equal(again, epoch1)


def test_dataloader_shuffle_follows_manual_seed():
    ds = TensorDataset(*xy(30))
    ember.manual_seed(42)
    a = [b[1].tolist() for b in DataLoader(ds, batch_size=7, shuffle=True)]
    ember.manual_seed(42)
    b = [b[1].tolist() for b in DataLoader(ds, batch_size=7, shuffle=True)]
    assert a == b


def test_dataloader_gather_path_equals_generic_path():
    X, y = xy(17)
    fast = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True,
                      generator=Generator().manual_seed(3))

    class Plain(TensorDataset):   # a subclass takes the generic fetch-and-stack path
        pass

    slow = DataLoader(Plain(X, y), batch_size=5, shuffle=True,
                      generator=Generator().manual_seed(3))
    for (a, b), (c, d) in zip(fast, slow):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert a.dtype == c.dtype and b.dtype == d.dtype


def test_dataloader_custom_collate_and_dict_samples():
    class Dicts(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, i, np.float32), "y": i, "id": f"s{i}"}

    batches = list(DataLoader(Dicts(), batch_size=2))
    assert batches[0]["x"].shape == (2, 2) and batches[0]["x"].dtype == ember.float32
    assert batches[2]["y"].tolist() == [4] and batches[1]["id"] == ["s2", "s3"]
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return sum(s["y"] for s in samples)

    assert list(DataLoader(Dicts(), batch_size=2, collate_fn=collate)) == [1, 5, 4]
    assert seen == [2, 2, 1]


def test_dataloader_without_batching():
    out = list(DataLoader(Squares(3), batch_size=None))
    assert out == [[0, 0.0], [1, 1.0], [2, 4.0]]   # default_convert turns tuples into lists
    arrs = list(DataLoader([np.zeros(2, np.float32)] * 2, batch_size=None))
    assert isinstance(arrs[0], ember.Tensor) and arrs[0].shape == (2,)


def test_dataloader_sampler_and_batch_sampler():
    dl = DataLoader(Squares(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [b[0].tolist() for b in dl] == [[5, 4], [3, 2], [1, 0]]
    dl = DataLoader(Squares(6), batch_sampler=[[0, 1, 2], [5]])
    assert [b[0].tolist() for b in dl] == [[0, 1, 2], [5]] and len(dl) == 2
    assert dl.batch_size is None and dl.drop_last is False
    ws = WeightedRandomSampler([0.0, 0.0, 1.0], 4, generator=Generator().manual_seed(0))
    assert [b[0].tolist() for b in DataLoader(Squares(3), batch_size=2, sampler=ws)] == \
        [[2, 2], [2, 2]]


def test_dataloader_iterable_dataset():
    dl = DataLoader(Stream(10), batch_size=4)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(dl) == 3
    dl = DataLoader(Stream(10), batch_size=4, drop_last=True)
    assert [b.tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(dl) == 2
    assert [x for x in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]
    assert len(list(DataLoader(Stream(5, with_len=False), batch_size=2))) == 3
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0])
    assert get_worker_info() is None


def test_dataloader_num_workers_runs_in_process():
    import ember.utils.data.dataloader as dlmod
    dlmod._warned_workers = False
    X, y = xy(9)
    with pytest.warns(UserWarning, match="main process"):
        dl = DataLoader(TensorDataset(X, y), batch_size=4, num_workers=2, pin_memory=True,
                        worker_init_fn=lambda i: None, persistent_workers=True,
                        prefetch_factor=2)
    assert dl.num_workers == 2
    assert [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]


def test_dataloader_argument_errors():
    ds = Squares(4)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    dl = DataLoader(ds, batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        dl.batch_size = 3
    dl.num_workers = 0   # not frozen in torch either


def test_dataloader_iterator_protocol():
    dl = DataLoader(Squares(5), batch_size=2)
    it = iter(dl)
    assert len(it) == 3
    first = next(it)
    assert first[0].tolist() == [0, 1]
    assert len(list(it)) == 2
    with pytest.raises(StopIteration):
        next(it)


def test_dataloader_over_subset_and_random_split():
    ds = TensorDataset(*xy(20))
    train, val = random_split(ds, [0.75, 0.25], generator=Generator().manual_seed(0))
    seen = np.concatenate([b[1].numpy() for b in DataLoader(train, batch_size=4)] +
                          [b[1].numpy() for b in DataLoader(val, batch_size=4)])
    assert sorted(seen.tolist()) == list(range(20))
    assert len(DataLoader(train, batch_size=4)) == 4


def test_generator_is_exported_like_torch():
    """``torch.Generator().manual_seed(s)`` is how tutorials seed a DataLoader."""
    import ember.utils.data as data
    ds = data.TensorDataset(ember.arange(10))
    a = [b[0].tolist() for b in data.DataLoader(ds, 4, shuffle=True,
                                                 generator=ember.Generator().manual_seed(3))]
    b = [b[0].tolist() for b in data.DataLoader(ds, 4, shuffle=True,
                                                 generator=ember.Generator().manual_seed(3))]
    assert a == b and sorted(sum(a, [])) == list(range(10))
