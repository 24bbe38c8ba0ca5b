"""The 8x8 handwritten digits shipped with ember (no download): ``load_digits`` and ``Digits``.

1,797 images of 8x8 pixels with values 0..16 and labels 0..9 (UCI "Optical Recognition of
Handwritten Digits", E. Alpaydin and C. Kaynak, CC BY 4.0; see DIGITS_NOTICE.md).
"""
from __future__ import annotations

import hashlib
import os

import numpy as np

from ember._tensor import _new_tensor
from ember.data._arrays import as_tensors
from ember.utils.data.dataset import Dataset

__all__ = ["load_digits", "Digits", "Bunch"]

DIGITS_PATH = os.path.join(os.path.dirname(__file__), "digits.npz")
_IMAGES_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
_TARGET_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"

DESCR = """Optical recognition of handwritten digits (8x8)
-----------------------------------------------
1797 images, 10 classes (digits 0..9), 8x8 pixels with integer values 0..16: 32x32
bitmaps from NIST's preprocessing programs, divided into non-overlapping 4x4 blocks whose
"on" pixels are counted. The test set of the UCI ML data set by E. Alpaydin and C. Kaynak
(Bogazici University, 1998), CC BY 4.0, https://doi.org/10.24432/C50P49, as distributed
with scikit-learn.
"""

_cache: dict = {}


class Bunch(dict):
    """A dict whose keys are also attributes (``bunch.data`` is ``bunch['data']``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __dir__(self):
        return list(self.keys())


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (1797, 8, 8), target uint8 (1797,)), checked against their SHA-256."""
    if "digits" not in _cache:
        if not os.path.exists(DIGITS_PATH):
            raise FileNotFoundError(f"the digits data file is missing from the ember "
                                    f"installation: {DIGITS_PATH}")
        with np.load(DIGITS_PATH, allow_pickle=False) as f:
            images, target = f["images"], f["target"]
        if (hashlib.sha256(images.tobytes()).hexdigest() != _IMAGES_SHA256 or
                hashlib.sha256(target.tobytes()).hexdigest() != _TARGET_SHA256):
            raise ValueError(f"{DIGITS_PATH}: checksum mismatch, the file is corrupt")
        images.flags.writeable = False
        target.flags.writeable = False
        _cache["digits"] = (images, target)
    return _cache["digits"]


def load_digits(*, n_class: int = 10, return_X_y: bool = False,
                return_tensors: bool = False):
    """The digits as a ``Bunch``: ``data`` (n, 64), ``images`` (n, 8, 8), ``target`` (n,),
    ``target_names`` (0..n_class-1) and ``DESCR``; or ``(data, target)`` with ``return_X_y``.

    NumPy arrays by default (float64 pixel values 0..16 and int64 labels, as scikit-learn's
    ``load_digits``); with ``return_tensors=True`` ember Tensors (float32 pixels, int64
    labels). ``n_class`` keeps only the digits 0..n_class-1.
    """
    if isinstance(n_class, bool) or not isinstance(n_class, (int, np.integer)) or \
            not 1 <= n_class <= 10:
        raise ValueError(f"n_class must be an int in [1, 10], got {n_class!r}")
    images_u8, target_u8 = _read_digits()
    keep = target_u8 < n_class
    images = images_u8[keep].astype(np.float64)
    target = target_u8[keep].astype(np.int64)
    data = images.reshape(images.shape[0], 64)
    if return_tensors:
        data, images, target = as_tensors(data, images, target)
    if return_X_y:
        return data, target
    return Bunch(data=data, images=images, target=target, target_names=np.arange(n_class),
                 DESCR=DESCR)


class Digits(Dataset):
    """The digits as a map-style Dataset: sample ``i`` is ``(image, label)`` with ``image`` a
    float32 Tensor (1, 8, 8) scaled to [0, 1] (pixel / 16) and ``label`` an int, after the
    optional ``transform`` / ``target_transform``.

    ``data`` (uint8 Tensor (1797, 8, 8), values 0..16) and ``targets`` (int64 Tensor) hold
    everything, like torchvision's MNIST; split it with ``random_split`` or
    ``ember.data.train_val_test_split``.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, transform=None, target_transform=None):
        images, target = _read_digits()
        self.data = _new_tensor(images.copy())
        self.targets = _new_tensor(target.astype(np.int64))
        self.transform, self.target_transform = transform, target_transform
        self._images = (images.astype(np.float32) / np.float32(16.0))[:, None]

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return self._images.shape[0]

    def __getitem__(self, index):
        img = _new_tensor(self._images[index].copy())
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        return f"Dataset Digits\n    Number of datapoints: {len(self)}"
