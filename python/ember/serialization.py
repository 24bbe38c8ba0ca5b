"""``ember.save`` / ``ember.load``: checkpoints as NumPy ``.npz`` archives, with no pickle.

``torch.save`` pickles, and unpickling a file can run any code in it. ember's format cannot:
a checkpoint is a zip archive (``numpy.savez``) holding

  __ember__      the structure: UTF-8 JSON as a uint8 array,
                 {"format": "ember.save", "version": 1, "root": <node>}
  t0, t1, ...    one plain numeric array per tensor or ndarray in the object

and is read back with ``numpy.load(allow_pickle=False)``. A node of the structure is

  null, true/false, an int, a string          themselves
  {"float": 1.5} / {"float": "inf"}           a float (non-finite ones spelled out)
  {"tensor": i, "requires_grad": b}           array t<i> as an ember.Tensor
  {"ndarray": i}                              array t<i> as a NumPy array
  {"list": [...]}, {"tuple": [...]}           sequences
  {"dict": [[key, value], ...], "ordered": b} dicts (keys: str, int, float, bool or None), so
                                              an optimizer's state dict keeps its int keys

That covers tensors, ``state_dict()`` of modules and optimizers, and nested dicts/lists of them
(a checkpoint with model, optimizer, epoch and metrics). Whole modules are refused: save their
``state_dict()``, as PyTorch recommends.

Writing is atomic: the archive goes to a temporary file next to the target, is flushed to disk,
then renamed over it, so a crash mid-save never leaves a half-written checkpoint under the name.
"""
from __future__ import annotations

import io
import json
import math
import numbers
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from ember._creation import from_numpy
from ember._tensor import Tensor

__all__ = ["save", "load"]

FORMAT = "ember.save"
VERSION = 1
_STRUCTURE = "__ember__"


# ----------------------------------------------------------------------------------------------
# Encoding
# ----------------------------------------------------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays: dict = {}
        self._seen: dict = {}     # id(array) -> index: shared tensors are stored once

    def array(self, arr: np.ndarray) -> int:
        key = id(arr)
        if key in self._seen:
            return self._seen[key]
        if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
            raise TypeError(f"ember.save: cannot save an array of dtype {arr.dtype} "
                            "(only bool, integer, float and complex arrays)")
        index = len(self.arrays)
        # (np.ascontiguousarray would turn a 0-d array into a 1-d one)
        self.arrays[f"t{index}"] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self._seen[key] = index
        return index

    def node(self, obj, path: str):
        if obj is None or isinstance(obj, (bool, np.bool_)):
            return None if obj is None else bool(obj)
        if isinstance(obj, Tensor):
            return {"tensor": self.array(obj.detach().numpy()),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self.array(obj)}
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, numbers.Real):
            value = float(obj)
            return {"float": value if math.isfinite(value) else repr(value)}
        if isinstance(obj, str):
            return obj
        if isinstance(obj, list):
            return {"list": [self.node(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"tuple": [self.node(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (str, bool, numbers.Integral, numbers.Real))):
                    raise TypeError(f"ember.save: dict key {k!r} at {path} has type "
                                    f"{type(k).__name__}; keys must be str, int, float, bool "
                                    "or None")
                items.append([self.node(k, path), self.node(v, f"{path}[{k!r}]")])
            return {"dict": items, "ordered": isinstance(obj, OrderedDict)}
        hint = (" Save its state_dict() instead (and rebuild the module when loading)."
                if hasattr(obj, "state_dict") else "")
        raise TypeError(f"ember.save: cannot save an object of type {type(obj).__name__} at "
                        f"{path}: only tensors, NumPy arrays, numbers, strings, None and "
                        f"dicts/lists/tuples of them.{hint}")


def save(obj, f) -> None:
    """Write ``obj`` (tensors, state dicts, and dicts/lists/tuples of them) to ``f``: a path
    (written atomically) or a writable binary file object."""
    enc = _Encoder()
    structure = {"format": FORMAT, "version": VERSION, "root": enc.node(obj, "obj")}
    payload = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    arrays = {_STRUCTURE: payload, **enc.arrays}
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ember-save-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------
class CheckpointError(RuntimeError):
    """A file that is not a readable ember checkpoint (truncated, corrupted or foreign)."""


class _Decoder:
    def __init__(self, archive, name: str):
        self.archive = archive
        self.name = name

    def bad(self, why: str) -> CheckpointError:
        return CheckpointError(f"ember.load: {self.name} is not a valid ember checkpoint: {why}")

    def array(self, index) -> np.ndarray:
        key = f"t{index}"
        if not isinstance(index, int) or isinstance(index, bool) or key not in self.archive.files:
            raise self.bad(f"the structure refers to a missing array {key!r}")
        return self.archive[key]

    def node(self, n):
        if n is None or isinstance(n, (bool, int, str)):
            return n
        if isinstance(n, dict) and len(n) >= 1:
            if "tensor" in n:
                t = from_numpy(self.array(n["tensor"]))
                return t.requires_grad_(True) if n.get("requires_grad") else t
            if "ndarray" in n:
                return self.array(n["ndarray"])
            if "float" in n:
                value = n["float"]
                if isinstance(value, str) and value in ("inf", "-inf", "nan"):
                    return float(value)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return float(value)
                raise self.bad(f"bad float {value!r}")
            if "list" in n and isinstance(n["list"], list):
                return [self.node(v) for v in n["list"]]
            if "tuple" in n and isinstance(n["tuple"], list):
                return tuple(self.node(v) for v in n["tuple"])
            if "dict" in n and isinstance(n["dict"], list):
                out = OrderedDict() if n.get("ordered") else {}
                for item in n["dict"]:
                    if not (isinstance(item, list) and len(item) == 2):
                        raise self.bad("malformed dict entry")
                    out[self.node(item[0])] = self.node(item[1])
                return out
        raise self.bad(f"unknown structure node {str(n)[:80]}")


def load(f, map_location=None, weights_only=None):
    """Read an object written by ``ember.save`` from a path or a binary file object.

    ``map_location`` and ``weights_only`` are accepted for torch compatibility: ember only has
    the CPU, and never loads anything but data. A truncated, corrupted or foreign file raises
    ``RuntimeError`` naming the file; nothing in the file is ever executed.
    """
    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise RuntimeError(f"ember.load: only map_location='cpu' is supported, got {map_location!r}")
    name = repr(os.fspath(f)) if not hasattr(f, "read") else getattr(f, "name", "<file object>")
    source = f if hasattr(f, "read") else os.fspath(f)
    if isinstance(source, str) and not os.path.exists(source):
        raise FileNotFoundError(f"ember.load: no such file: {source!r}")
    try:
        with np.load(source, allow_pickle=False) as archive:
            if _STRUCTURE not in archive.files:
                raise CheckpointError(f"ember.load: {name} is not an ember checkpoint (no "
                                      f"{_STRUCTURE} entry; was it written by ember.save?)")
            try:
                structure = json.loads(bytes(archive[_STRUCTURE]).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CheckpointError(f"ember.load: {name} has an unreadable structure: {exc}")
            if (not isinstance(structure, dict) or structure.get("format") != FORMAT
                    or "root" not in structure):
                raise CheckpointError(f"ember.load: {name} is not an ember checkpoint")
            if structure.get("version") != VERSION:
                raise CheckpointError(f"ember.load: {name} has format version "
                                      f"{structure.get('version')!r}; this ember reads {VERSION}")
            decoder = _Decoder(archive, name)
            return decoder.node(structure["root"])
    except CheckpointError:
        raise
    except ValueError as exc:
        # np.load refuses object arrays (pickles) with ValueError: never unpickle anything.
        raise CheckpointError(f"ember.load: {name} is not a valid ember checkpoint (it holds "
                              f"data ember will not read: {exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, io.UnsupportedOperation,
            zipfile.LargeZipFile) as exc:
        raise CheckpointError(f"ember.load: {name} is truncated or corrupted "
                              f"({type(exc).__name__}: {exc})") from None
