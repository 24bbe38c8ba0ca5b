"""MNIST / Fashion-MNIST (IDX files) and CIFAR-10/100 (python pickles) from local files.

ember never downloads: point ``root`` at the files you have. The classes mirror
torchvision's (``MNIST(root, train=True, transform=None, target_transform=None,
download=False)``, attributes ``data``, ``targets``, ``classes``); a sample is
``(image, int label)`` where the image is a uint8 NumPy array, (H, W) for MNIST and
(H, W, 3) for CIFAR, just what ``transforms.ToTensor()`` turns into a (C, H, W) float tensor
in [0, 1], the way torchvision's PIL images are.

IDX format (big-endian): two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, one uint32 per dimension,
then the values. Files may be gzip-compressed.

CIFAR batches are pickles. Unpickling can run arbitrary code, so they are read by a restricted
unpickler that only builds dicts, lists, strings, numbers and NumPy arrays and refuses every
other global.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import zlib

import numpy as np

from ember._tensor import _new_tensor
from ember.utils.data.dataset import Dataset

__all__ = ["load_idx", "load_cifar_batch", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100",
           "UnsafePickleError"]

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: str) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic number."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: '{path}'")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from None
    return raw


def load_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a NumPy array of its shape and (native) dtype."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic number {raw[:4].hex() or 'missing'}, "
                         "expected 0000XXYY)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, "
                         f"the file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[code])
    count = int(np.prod(dims, dtype=np.int64))
    expected, found = count * dtype.itemsize, len(raw) - header
    if found < expected:
        raise ValueError(f"{path}: truncated IDX file: shape {tuple(dims)} needs {expected} "
                         f"bytes of data, found {found}")
    if found > expected:
        raise ValueError(f"{path}: {found - expected} unexpected bytes after the IDX data of "
                         f"shape {tuple(dims)}")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _find(dirs: list[str], name: str, dataset: str) -> str:
    for d in dirs:
        for candidate in (name, name + ".gz"):
            path = os.path.join(d, candidate)
            if os.path.isfile(path):
                return path
    raise FileNotFoundError(f"{dataset}: cannot find '{name}' (or '{name}.gz') in "
                            f"{' or '.join(repr(d) for d in dirs)}. ember never downloads "
                            "data sets: copy the files there first.")


class MNIST(Dataset):
    """MNIST from the four IDX files under ``root/MNIST/raw``, ``root/MNIST`` or ``root``
    (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-...``, optionally .gz).

    ``data``: uint8 Tensor (N, 28, 28); ``targets``: int64 Tensor (N,). ``download`` is
    accepted for torchvision compatibility, but nothing is ever downloaded: missing files
    raise FileNotFoundError naming the folders searched.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    _files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        name = type(self).__name__
        dirs = [os.path.join(self.root, name, "raw"), os.path.join(self.root, name), self.root]
        image_file, label_file = (_find(dirs, f, name) for f in self._files[bool(train)])
        images, labels = load_idx(image_file), load_idx(label_file)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{image_file}: expected uint8 images of shape (N, H, W), got "
                             f"{images.dtype} {images.shape}")
        if labels.ndim != 1:
            raise ValueError(f"{label_file}: expected 1-d labels, got shape {labels.shape}")
        if labels.shape[0] != images.shape[0]:
            raise ValueError(f"{image_file} has {images.shape[0]} images but {label_file} has "
                             f"{labels.shape[0]} labels")
        self.data = _new_tensor(images)
        self.targets = _new_tensor(labels.astype(np.int64))

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return self.data._data.shape[0]

    def __getitem__(self, index):
        img = self.data._data[index]
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


class FashionMNIST(MNIST):
    """Fashion-MNIST: same file names and format as MNIST, under ``root/FashionMNIST``."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


# ----------------------------------------------------------------------------- CIFAR
def _latin1_encode(text, encoding="latin1"):
    """What protocol-2 pickles call to rebuild a bytes object (``_codecs.encode``)."""
    if encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]      # numpy's array-rebuilding function
_scalar = np.float64(0).__reduce__()[0]                   # numpy's scalar-rebuilding function
_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than plain data (it could have run code)."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only builtin containers, strings, numbers and NumPy arrays/dtypes."""

    def __init__(self, file, path: str):
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module, name):
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._path}: refusing to load global '{module}.{name}': a CIFAR batch may "
                "only contain dicts, lists, strings, numbers and NumPy arrays") from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self._path}: persistent ids are not allowed")


def _load_pickle(path: str):
    raw = _read_bytes(path)
    try:
        obj = _RestrictedUnpickler(io.BytesIO(raw), path).load()
    except UnsafePickleError:
        raise
    except Exception as exc:   # truncated or garbled streams raise many kinds of error
        raise ValueError(f"{path}: not a valid pickle (truncated or corrupt: "
                         f"{type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict in the pickle, got {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def load_cifar_batch(path, label_key: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch: (images uint8 (N, 32, 32, 3), labels int64 (N,)).

    The file holds a dict with 'data' (N, 3072) uint8 rows (1024 red, 1024 green, 1024 blue
    values, each row-major 32x32) and ``label_key`` ('labels' for CIFAR-10, 'fine_labels' or
    'coarse_labels' for CIFAR-100).
    """
    path = os.fspath(path)
    entry = _load_pickle(path)
    if "data" not in entry or label_key not in entry:
        raise ValueError(f"{path}: a CIFAR batch needs the keys 'data' and '{label_key}', "
                         f"found {sorted(map(str, entry))}")
    data = entry["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or \
            data.shape[1] != 3 * 32 * 32:
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else \
            type(data).__name__
        raise ValueError(f"{path}: 'data' must be a uint8 array of shape (N, 3072), got {desc}")
    try:
        labels = np.asarray(entry[label_key], dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: '{label_key}' must be a list of ints ({exc})") from None
    if labels.shape[0] != data.shape[0]:
        raise ValueError(f"{path}: {data.shape[0]} images but {labels.shape[0]} labels")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(Dataset):
    """CIFAR-10 from the python batches in ``root/cifar-10-batches-py`` (or ``root``):
    ``data_batch_1`` .. ``data_batch_5`` for ``train=True``, ``test_batch`` otherwise.

    ``data``: uint8 NumPy array (N, 32, 32, 3); ``targets``: list of ints; class names from
    ``batches.meta`` when present. ``download`` is accepted but nothing is downloaded.
    """

    base_folder = "cifar-10-batches-py"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    label_key = "labels"
    meta = ("batches.meta", "label_names")
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform, self.target_transform = transform, target_transform
        name = type(self).__name__
        dirs = [os.path.join(self.root, self.base_folder), self.root]
        images, labels = [], []
        for fname in (self.train_list if train else self.test_list):
            x, y = load_cifar_batch(_find(dirs, fname, name), self.label_key)
            images.append(x)
            labels.append(y)
        self.data = np.concatenate(images)
        self.targets = np.concatenate(labels).tolist()
        meta_file, meta_key = self.meta
        for d in dirs:
            path = os.path.join(d, meta_file)
            if os.path.isfile(path):
                entry = _load_pickle(path)
                if meta_key in entry:
                    self.classes = [str(c) for c in entry[meta_key]]
                break

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


class CIFAR100(CIFAR10):
    """CIFAR-100 from ``root/cifar-100-python`` (files ``train``, ``test``, ``meta``), with
    the 100 fine labels."""

    base_folder = "cifar-100-python"
    train_list = ["train"]
    test_list = ["test"]
    label_key = "fine_labels"
    meta = ("meta", "fine_label_names")
    classes = [str(i) for i in range(100)]
