"""ember.save / ember.load: round trips of tensors, state dicts and optimizer state; atomic
writes; truncated, corrupted and foreign files; no code execution on load."""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn


def test_tensor_round_trip_keeps_values_dtype_shape_and_requires_grad(tmp_path):
    path = tmp_path / "t.pt"
    for t in [ember.randn(3, 4), ember.randn(2, dtype=ember.float64), ember.tensor(2.5),
              ember.arange(5), ember.tensor([True, False]), ember.zeros(0, 3),
              ember.randn(4, 3).t(), ember.randn(2, 2, requires_grad=True)]:
        ember.save(t, path)
        back = ember.load(path)
        assert isinstance(back, ember.Tensor)
        assert back.dtype == t.dtype and back.shape == t.shape
        assert back.requires_grad == t.requires_grad and back.is_leaf
        np.testing.assert_array_equal(back.detach().numpy(), t.detach().numpy())


def test_nested_checkpoint_round_trip(tmp_path):
    ckpt = {"epoch": 7, "lr": 1e-3, "best": float("inf"), "nan": float("nan"), "name": "mlp",
            "flags": (True, None), "hist": [0.5, 0.25], "arr": np.arange(6).reshape(2, 3),
            "nested": {1: {"step": ember.tensor(3.0)}, "x": [ember.ones(2)]}}
    ember.save(ckpt, tmp_path / "c.pt")
    back = ember.load(tmp_path / "c.pt")
    assert back["epoch"] == 7 and isinstance(back["epoch"], int)
    assert back["lr"] == 1e-3 and back["best"] == float("inf") and np.isnan(back["nan"])
    assert back["name"] == "mlp" and back["flags"] == (True, None) and back["hist"] == [0.5, 0.25]
    np.testing.assert_array_equal(back["arr"], ckpt["arr"])
    assert isinstance(back["arr"], np.ndarray) and back["arr"].dtype == ckpt["arr"].dtype
    assert list(back["nested"]) == [1, "x"]                 # int keys stay ints
    assert back["nested"][1]["step"].item() == 3.0
    np.testing.assert_array_equal(back["nested"]["x"][0].numpy(), np.ones(2, np.float32))


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))


def test_module_state_dict_round_trip_restores_the_model(tmp_path):
    model = _model()
    ember.save(model.state_dict(), tmp_path / "m.pt")
    sd = ember.load(tmp_path / "m.pt")
    assert isinstance(sd, OrderedDict) and list(sd) == list(model.state_dict())
    ember.manual_seed(1)
    fresh = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    fresh.load_state_dict(sd)
    x = ember.randn(5, 4)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_optimizer_state_round_trip_resumes_identically(tmp_path):
    def run(steps, model, opt):
        for i in range(steps):
            opt.zero_grad()
            x = ember.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4) * (i + 1))
            model(x).pow(2).mean().backward()
            opt.step()

    model = _model()
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    run(3, model, opt)
    ember.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.pt")
    run(3, model, opt)                                      # the uninterrupted run

    ck = ember.load(tmp_path / "ck.pt")
    resumed = _model()
    resumed.load_state_dict(ck["model"])
    opt2 = ember.optim.Adam(resumed.parameters(), lr=1e-2)
    opt2.load_state_dict(ck["opt"])
    run(3, resumed, opt2)
    for a, b in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_file_objects_work(tmp_path):
    buf = io.BytesIO()
    ember.save({"w": ember.ones(3)}, buf)
    buf.seek(0)
    assert ember.load(buf)["w"].sum().item() == 3.0


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="Sequential.*state_dict"):
        ember.save(_model(), tmp_path / "x.pt")
    with pytest.raises(TypeError, match="object"):
        ember.save({"a": object()}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="dtype object"):
        ember.save(np.array([1, "a"], dtype=object), tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    ember.save({"v": ember.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        ember.save({"v": ember.zeros(3)}, path)
    assert path.read_bytes() == before                      # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ck.pt"]                # and no temporary file is left


def test_truncated_and_corrupted_files_raise_naming_the_file(tmp_path):
    path = tmp_path / "good.pt"
    ember.save({"w": ember.randn(100, 100)}, path)
    data = path.read_bytes()
    for name, content in [("truncated.pt", data[: len(data) // 2]), ("empty.pt", b""),
                          ("garbage.pt", b"not a checkpoint at all" * 10)]:
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(RuntimeError, match=name):
            ember.load(bad)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF                          # inside the array payload: bad CRC
    (tmp_path / "flipped.pt").write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError, match="flipped.pt"):
        ember.load(tmp_path / "flipped.pt")
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        ember.load(tmp_path / "missing.pt")


def test_foreign_npz_and_broken_structure_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(3))
    with pytest.raises(RuntimeError, match="not an ember checkpoint"):
        ember.load(tmp_path / "plain.npz")
    bad = np.frombuffer(b'{"format": "ember.save", "version": 1, "root": {"tensor": 5}}',
                        dtype=np.uint8)
    np.savez(tmp_path / "dangling.npz", __ember__=bad)
    with pytest.raises(RuntimeError, match="missing array 't5'"):
        ember.load(tmp_path / "dangling.npz")
    future = np.frombuffer(b'{"format": "ember.save", "version": 99, "root": 1}', dtype=np.uint8)
    np.savez(tmp_path / "future.npz", __ember__=future)
    with pytest.raises(RuntimeError, match="version 99"):
        ember.load(tmp_path / "future.npz")


class _Payload:
    """Unpickling this would create a marker file: loading must never get that far."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_executes_code_from_the_file(tmp_path):
    marker = tmp_path / "pwned"
    # 1. an object array inside an otherwise valid archive (np.save pickles it)
    obj = np.empty(1, dtype=object)
    obj[0] = _Payload(str(marker))
    structure = np.frombuffer(b'{"format": "ember.save", "version": 1, "root": {"ndarray": 0}}',
                              dtype=np.uint8)
    with open(tmp_path / "evil.pt", "wb") as f:          # (a path would get '.npz' appended)
        np.savez(f, __ember__=structure, t0=obj)
    with pytest.raises(RuntimeError, match="evil.pt"):
        ember.load(tmp_path / "evil.pt")
    # 2. a raw pickle, as torch.save would write
    (tmp_path / "evil2.pt").write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(RuntimeError, match="evil2.pt"):
        ember.load(tmp_path / "evil2.pt")
    assert not marker.exists()


def test_archive_is_a_plain_zip_of_npy_files(tmp_path):
    ember.save({"w": ember.ones(2, 2)}, tmp_path / "z.pt")
    with zipfile.ZipFile(tmp_path / "z.pt") as z:
        assert sorted(z.namelist()) == ["__ember__.npy", "t0.npy"]
