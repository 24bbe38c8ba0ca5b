"""ember-bench's softmax suite: the --quick run gives every row (op x shape x pass), correct and
timed, in both dtypes; a wrong softmax kernel is flagged; the PyTorch callables compute the same
numbers as the NumPy twin (the runner only checks ember against NumPy)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import ember
from ember.bench import cli
from ember.bench.cases import max_relative_error, to_numpy
from ember.bench.schema import validate
from ember.bench.suites import softmax as suite

QUICK = ["--quick", "--suite", "softmax", "--no-torch", "--threads", "1", "--repeat", "1",
         "--no-progress"]
NAMES = {f"{op} {n}x{c} {p}" for n, c in suite.QUICK_SHAPES
         for op in ("softmax", "log_softmax", "cross_entropy") for p in ("fwd", "fwd+bwd")}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_quick_run_has_every_row_correct_and_timed(tmp_path, dtype):
    path = tmp_path / "softmax.json"
    assert cli.main(QUICK + ["--dtype", dtype, "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    validate(data)
    rows = data["rows"]
    assert {r["case"] for r in rows} == NAMES and len(rows) == len(NAMES)
    for row in rows:
        assert row["suite"] == "softmax" and row["dtype"] == dtype and row["threads"] == 1
        assert not row["errors"], row["errors"]
        assert row["correct"] and row["max_rel_error"] <= (1e-5 if dtype == "float32" else 1e-12)
        assert row["times_s"]["ember"] > 0 and row["times_s"]["numpy"] > 0
        assert row["unit"] == "GB/s" and row["ember_rate"] > 0
    n, c = suite.QUICK_SHAPES[0]
    item = np.dtype(dtype).itemsize
    by_name = {r["case"]: r for r in rows}
    # softmax forward reads x and writes y; its backward also reads y and g and writes dx
    assert by_name[f"softmax {n}x{c} fwd"]["work_per_call"] == 2 * n * c * item
    assert by_name[f"softmax {n}x{c} fwd+bwd"]["work_per_call"] == 5 * n * c * item


def test_wrong_softmax_kernel_is_flagged(monkeypatch, tmp_path):
    real = ember.ops.softmax
    monkeypatch.setattr(ember.ops, "softmax", lambda x, dim=-1: real(x, dim) * np.float32(1.01))
    path = tmp_path / "wrong.json"
    assert cli.main(QUICK + ["--json", str(path)]) == 1
    rows = json.loads(path.read_text())["rows"]
    wrong = {r["case"] for r in rows if not r["correct"]}
    assert wrong == {r["case"] for r in rows if r["case"].startswith("softmax ")}
    for r in rows:
        if r["case"] in wrong and r["case"].endswith(" fwd"):   # the backward compounds it
            assert r["max_rel_error"] == pytest.approx(0.01, rel=0.05)


def test_torch_rows_compute_the_same_as_numpy():
    torch = pytest.importorskip("torch")
    cases = list(suite.cases("float64", True, torch))
    assert len(cases) == len(NAMES)
    for case in cases:
        impls = case.prepare().impls
        assert set(impls) == {"ember", "numpy", "torch"}
        want = impls["numpy"]()
        got = to_numpy(impls["torch"]())
        assert max_relative_error(got, want) < 1e-12, case.name
