"""Runs the suites: builds each row, checks ember against the NumPy twin, times every
implementation interleaved, and collects everything into one report (a plain dict, the JSON).
"""
from __future__ import annotations

import datetime
import os
import platform
import sys
import time

import numpy as np

import ember
from ember.bench import suites as suite_registry
from ember.bench.cases import max_relative_error, tolerance
from ember.bench.threads import pin_threads
from ember.bench.timing import time_interleaved

SCHEMA_VERSION = 1
NOISY_SPREAD = 0.10          # interquartile range / median above which a row is flagged


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        name = fields.get("model name", platform.processor() or "unknown")
        if "cpu family" in fields and "model" in fields:
            name += f" (family {fields['cpu family']}, model {fields['model']})"
        return name
    except OSError:
        return platform.processor() or platform.machine()


def machine_info(threads: int, pinned: dict, torch) -> dict:
    backend = ember.backend_info()
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "simd": backend["simd"],
        "simd_detected": backend["simd_detected"],
        "openmp": backend["openmp"],
        "compiler": backend["compiler"],
        "threads": threads,
        "threads_pinned": pinned,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ember": ember.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        # how long each thread pool spins before sleeping (see ember.bench.BENCH_ENV)
        "pool_wait_env": {k: os.environ.get(k) for k in
                          ("OPENBLAS_THREAD_TIMEOUT", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")},
    }


def check_thread_scaling(threads: int, seconds: float) -> dict:
    """FMA throughput on 1 and on ``threads`` threads. On a shared host both vCPUs are sometimes
    scheduled on one physical core, and then every "2-thread" figure is really a 1-thread one."""
    one = ember._C.probe_fma_peak(1, seconds)
    many = ember._C.probe_fma_peak(threads, seconds) if threads > 1 else one
    scaling = many / one if one > 0 else 0.0
    return {"one_thread_gflops": one, "n_thread_gflops": many, "threads": threads,
            "scaling": scaling, "ok": threads == 1 or scaling >= 0.75 * threads}


def measure_limits(threads: int, quick: bool) -> dict:
    """The machine's measured limits: FMA peak and STREAM-triad bandwidth, 1 and N threads."""
    seconds, mib, repeats = (0.1, 32, 2) if quick else (0.5, 128, 5)
    limits = {"fma_peak_gflops_1t": ember._C.probe_fma_peak(1, seconds),
              "bandwidth_gbs_1t": ember._C.probe_bandwidth(1, mib, repeats)}
    limits["fma_peak_gflops"] = (ember._C.probe_fma_peak(threads, seconds) if threads > 1
                                 else limits["fma_peak_gflops_1t"])
    limits["bandwidth_gbs"] = (ember._C.probe_bandwidth(threads, mib, repeats) if threads > 1
                               else limits["bandwidth_gbs_1t"])
    limits["how"] = ("FMA: 12 independent vector FMA chains per thread, widest SIMD; bandwidth: "
                     f"STREAM triad a = b + s*c over 3 x {mib} MiB arrays, best of {repeats}")
    return limits


def run_case(case, threads: int, rounds: int, quick: bool, limits: dict | None) -> dict:
    row = {"suite": case.suite, "case": case.name, "dtype": case.dtype, "threads": threads,
           "unit": "GFLOP/s" if case.flops else ("GB/s" if case.bytes else ""),
           "work_per_call": case.flops or case.bytes, "note": case.note,
           "times_s": {}, "spread": {}, "errors": {}, "max_rel_error": None,
           "tolerance": tolerance(case.dtype), "correct": False, "noisy": False}
    try:
        prepared = case.prepare()
    except Exception as exc:  # a case that cannot even be built is a failed row, not a crash
        row["errors"]["ember"] = f"setup failed: {type(exc).__name__}: {exc}"
        return _finish(row, case, limits)
    impls = {}
    for name, fn in prepared.impls.items():   # run once: outputs for the check, and warm-up
        try:
            out = fn()
            impls[name] = fn
            if name == "ember":
                ember_out = out
            elif name == "numpy":
                numpy_out = out
        except Exception as exc:
            row["errors"][name] = f"{type(exc).__name__}: {exc}"
    if "ember" in impls and "numpy" in impls:
        if prepared.check is not None:
            ember_out, numpy_out = prepared.check()
        row["max_rel_error"] = max_relative_error(ember_out, numpy_out)
        row["correct"] = row["max_rel_error"] <= row["tolerance"]
    timings = time_interleaved(impls, rounds=rounds, warmup=1,
                               min_sample_s=5e-4 if quick else 2e-3,
                               settle_s=5e-4 if quick else 2e-3) if impls else {}
    for name, t in timings.items():
        row["times_s"][name] = t.median_s
        row["spread"][name] = t.spread
    row["noisy"] = any(s > NOISY_SPREAD for s in row["spread"].values())
    return _finish(row, case, limits)


# Below this much compulsory traffic a memory-bound row runs from the caches (2 MiB L2 per core
# and a shared L3 here), so its GB/s is not set against the DRAM bandwidth.
CACHE_RESIDENT_BYTES = 8 * 2**20


def _finish(row: dict, case, limits: dict | None) -> dict:
    t = row["times_s"]
    e = t.get("ember")
    row["speedup_vs_numpy"] = t["numpy"] / e if e and "numpy" in t else None
    row["speedup_vs_torch"] = t["torch"] / e if e and "torch" in t else None
    rate = None
    if e:
        rate = (case.flops / e / 1e9) if case.flops else ((case.bytes / e / 1e9) if case.bytes else None)
    row["ember_rate"] = rate
    row["fraction_of_limit"] = None
    if rate is not None and limits:
        limit = limits.get("fma_peak_gflops") if case.flops else limits.get("bandwidth_gbs")
        # A memory-bound row whose traffic fits in the caches is not limited by DRAM
        # bandwidth: a fraction of it would read as over 100% and mean nothing.
        if not case.flops and case.bytes < CACHE_RESIDENT_BYTES:
            limit = None
        if limit:
            # float64 FMAs do half the work of float32 ones per instruction
            if case.flops and row["dtype"] == "float64":
                limit /= 2
            row["fraction_of_limit"] = rate / limit
    return row


def run(suite_names, dtype="float32", threads=None, quick=False, repeat=None, use_torch=True,
        progress=None) -> dict:
    """Run the named suites ('peak' included) and return the report dict (see ember.bench.schema)."""
    threads = threads or os.cpu_count() or 1
    torch = None
    if use_torch:
        try:
            import torch  # noqa: F811  (an optional oracle and competitor, never required)
        except ImportError:
            torch = None
    pinned = pin_threads(threads, torch)
    rounds = repeat or (3 if quick else 7)
    report = {"schema_version": SCHEMA_VERSION,
              "date": datetime.datetime.now().isoformat(timespec="seconds"),
              "command": " ".join(sys.argv),
              "quick": bool(quick), "rounds": rounds, "dtype": dtype,
              "machine": dict(machine_info(threads, pinned, torch), torch_left_out=not use_torch),
              "thread_check": check_thread_scaling(threads, 0.05 if quick else 0.2),
              "limits": None, "rows": []}
    names = list(suite_names)
    if "peak" in names:
        report["limits"] = measure_limits(threads, quick)
        names.remove("peak")
    all_cases = []
    for name in names:
        all_cases.extend(suite_registry.load(name).cases(dtype, quick, torch))
    if progress is not None:
        progress.start(len(all_cases))
    t0 = time.perf_counter()
    for case in all_cases:
        if progress is not None:
            progress.update(f"{case.suite} {case.name}")
        report["rows"].append(run_case(case, threads, rounds, quick, report["limits"]))
    if progress is not None:
        progress.close()
    report["elapsed_s"] = time.perf_counter() - t0
    return report
