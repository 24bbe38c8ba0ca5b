"""ember-bench: the --quick run, its JSON against the schema, CSV, correctness flagging of a
wrong kernel, --compare flagging a slowed-down kernel, and quiet output when piped."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import ember
from ember.bench import cli, report as rep
from ember.bench.schema import validate

QUICK = ["--quick", "--suite", "matmul", "--no-torch", "--threads", "1", "--repeat", "2",
         "--no-progress"]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "base.json"
    assert cli.main(QUICK + ["--json", str(path)]) == 0
    return path


def test_quick_json_validates_and_is_complete(baseline):
    data = json.loads(baseline.read_text())
    validate(data)
    assert data["quick"] is True and data["machine"]["threads"] == 1
    assert data["machine"]["simd"] == ember.backend_info()["simd"]
    assert data["machine"]["threads_pinned"]["ember"] == 1
    cases = [r["case"] for r in data["rows"]]
    assert "128x128x128 fwd" in cases and "64x784x512 fwd+bwd" in cases
    for row in data["rows"]:
        assert row["correct"] and row["max_rel_error"] < 1e-5
        assert row["times_s"]["ember"] > 0 and row["times_s"]["numpy"] > 0
        assert row["speedup_vs_numpy"] == pytest.approx(
            row["times_s"]["numpy"] / row["times_s"]["ember"])
        assert row["unit"] == "GFLOP/s" and row["ember_rate"] > 0


def test_schema_rejects_a_broken_report(baseline):
    data = json.loads(baseline.read_text())
    broken = json.loads(json.dumps(data))
    del broken["rows"][0]["max_rel_error"]
    with pytest.raises(ValueError, match=r"rows\[0\].*max_rel_error"):
        validate(broken)
    broken = json.loads(json.dumps(data))
    broken["rows"][0]["threads"] = "two"
    with pytest.raises(ValueError, match=r"rows\[0\]\.threads"):
        validate(broken)
    broken = json.loads(json.dumps(data))
    broken["machine"]["simd"] = "sse9"
    with pytest.raises(ValueError, match="machine.simd"):
        validate(broken)


def test_wrong_kernel_is_reported(monkeypatch, tmp_path, capsys):
    real = ember.ops.matmul
    monkeypatch.setattr(ember.ops, "matmul", lambda a, b, out=None: real(a, b) * np.float32(1.01))
    out = tmp_path / "wrong.json"
    assert cli.main(QUICK + ["--json", str(out)]) == 1      # non-zero exit on a wrong kernel
    data = json.loads(out.read_text())
    assert all(not r["correct"] for r in data["rows"])
    assert all(r["max_rel_error"] == pytest.approx(0.01, rel=0.05) for r in data["rows"])
    assert "WRONG" in capsys.readouterr().out


def test_raising_kernel_is_reported_not_fatal(monkeypatch, tmp_path, capsys):
    def broken(a, b, out=None):
        raise RuntimeError("kernel exploded")
    monkeypatch.setattr(ember.ops, "matmul", broken)
    assert cli.main(QUICK) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text and "kernel exploded" in text


def test_compare_flags_a_slowed_down_row(monkeypatch, tmp_path, baseline, capsys):
    real = ember.ops.matmul

    def slow(a, b, out=None):
        time.sleep(0.003)
        return real(a, b)
    monkeypatch.setattr(ember.ops, "matmul", slow)
    out = tmp_path / "now.json"
    cli.main(QUICK + ["--compare", str(baseline), "--json", str(out)])
    data = json.loads(out.read_text())
    validate(data)
    slowed = {(r["case"]) for r in data["rows"] if r["regression"]}
    assert "128x128x128 fwd" in slowed
    assert data["regressions"] and all(r["slowdown"] > 1.1 for r in data["regressions"])
    assert "SLOWER" in capsys.readouterr().out


def test_compare_without_slowdown_flags_nothing(tmp_path):
    fake_now = {"rows": [{"suite": "matmul", "case": "x", "dtype": "float32", "threads": 1,
                          "times_s": {"ember": 1.0}}]}
    saved = {"rows": [{"suite": "matmul", "case": "x", "dtype": "float32", "threads": 1,
                       "times_s": {"ember": 0.95}}]}
    assert rep.compare(fake_now, saved, tolerance=0.10) == []
    saved["rows"][0]["times_s"]["ember"] = 0.5
    assert len(rep.compare(fake_now, saved, tolerance=0.10)) == 1


def test_compare_with_a_bad_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"rows\": 3}")
    assert cli.main(QUICK + ["--compare", str(bad)]) == 2
    assert "cannot use --compare" in capsys.readouterr().err


def test_csv_has_one_line_per_row(tmp_path, baseline):
    path = tmp_path / "rows.csv"
    assert cli.main(QUICK + ["--csv", str(path)]) == 0
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(json.loads(baseline.read_text())["rows"])
    assert rows[0]["cpu"] and rows[0]["simd"] == ember.backend_info()["simd"]


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--suite", "nope"])
    assert exc.value.code == 2 and "unknown suite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--threads", "0"])


def test_console_entry_point_piped_output_is_clean(tmp_path):
    """As a subprocess with stdout/stderr piped: the table on stdout, no progress bar noise."""
    path = tmp_path / "sub.json"
    proc = subprocess.run([sys.executable, "-m", "ember.bench", "--quick", "--suite", "matmul",
                           "--no-torch", "--threads", "1", "--repeat", "1", "--json", str(path)],
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT",
                                            "EMBER_BENCH_REEXEC")})
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stdout and proc.stderr == ""
    assert "How to read this" in proc.stdout and "matmul" in proc.stdout
    data = json.loads(path.read_text())
    validate(data)
    # the console script re-executed itself with every thread pool's short wait in place
    assert data["machine"]["pool_wait_env"]["GOMP_SPINCOUNT"] == "2000"
    assert data["machine"]["pool_wait_env"]["OPENBLAS_THREAD_TIMEOUT"] == "4"


def test_peak_suite_reports_limits(tmp_path):
    path = tmp_path / "peak.json"
    assert cli.main(["--quick", "--suite", "peak", "--no-torch", "--threads", "1",
                     "--no-progress", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    lim = data["limits"]
    assert lim["fma_peak_gflops"] > 1 and lim["bandwidth_gbs"] > 0.1
    assert data["rows"] == []


def test_every_suite_runs_quick_and_checks_out(tmp_path):
    """The default run (every suite, PyTorch too when installed) in --quick form: every row
    is present, correct against its NumPy twin, and torch's time is there when torch is."""
    try:
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False
    path = tmp_path / "all.json"
    assert cli.main(["--quick", "--threads", "1", "--repeat", "1", "--no-progress",
                     "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    validate(data)
    suites = {r["suite"] for r in data["rows"]}
    assert suites == {"matmul", "conv2d", "pool", "lstm", "softmax", "train"}
    for row in data["rows"]:
        assert row["correct"], row
        assert (row["times_s"].get("torch") is not None) == has_torch, row
