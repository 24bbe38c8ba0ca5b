"""Turning a report dict into what people and machines read: the terminal table, CSV, the
comparison against a saved run, and the speed-up chart."""
from __future__ import annotations

import csv
import json

READING_GUIDE = """\
How to read this: each time is the median per call over interleaved rounds (implementations take
turns, so drift of the machine hits all alike). "vs numpy" and "vs torch" are speed-ups of ember:
other's time / ember's time, so 2.00x means ember took half the time. "rate" is ember's GFLOP/s
(compute-bound rows) or GB/s of compulsory memory traffic (memory-bound rows); "of limit" puts it
against the measured FMA peak or DRAM bandwidth (run --suite peak; "-" for rows small enough to
run from the caches, where DRAM bandwidth is not the limit). "err" is ember's max relative
error against the NumPy twin of the same computation. Flags: WRONG = error above tolerance,
noisy = interquartile spread above 10% for some implementation, SLOWER = slower than the saved
run given to --compare."""


def fmt_time(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def row_flags(row: dict) -> str:
    flags = []
    if row["errors"].get("ember") or not row["correct"]:
        flags.append("WRONG" if row["max_rel_error"] is not None else "FAILED")
    if row["noisy"]:
        flags.append("noisy")
    if row.get("regression"):
        flags.append(f"SLOWER {row['regression']['slowdown']:.2f}x")
    return " ".join(flags)


def header_lines(report: dict) -> list:
    m = report["machine"]
    lines = [f"ember-bench {report['date']}  |  {m['cpu']}  |  SIMD {m['simd']}  |  "
             f"{m['threads']} thread(s) for ember, NumPy's BLAS and torch  |  "
             f"numpy {m['numpy']}  torch "
             f"{m['torch'] or ('(left out)' if m.get('torch_left_out') else '(not installed)')}"]
    tc = report["thread_check"]
    if not tc["ok"]:
        lines.append(f"WARNING: {tc['threads']} threads gave only {tc['scaling']:.2f}x the "
                     f"1-thread FMA throughput ({tc['n_thread_gflops']:.0f} vs "
                     f"{tc['one_thread_gflops']:.0f} GFLOP/s): the cores are shared right now, "
                     f"so multi-thread figures below may really be 1-thread figures.")
    lim = report.get("limits")
    if lim:
        lines.append(f"machine limits: FMA peak {lim['fma_peak_gflops_1t']:.0f} GFLOP/s (1 thread), "
                     f"{lim['fma_peak_gflops']:.0f} ({m['threads']} threads); bandwidth "
                     f"{lim['bandwidth_gbs_1t']:.1f} GB/s (1 thread), {lim['bandwidth_gbs']:.1f} "
                     f"({m['threads']} threads)")
    return lines


def table_lines(report: dict) -> list:
    cols = ["suite", "case", "dtype", "thr", "ember", "numpy", "torch", "vs numpy", "vs torch",
            "rate", "of limit", "err", "flags"]
    body = []
    for r in report["rows"]:
        t = r["times_s"]
        rate = "-" if r["ember_rate"] is None else f"{r['ember_rate']:.1f} {r['unit']}"
        frac = "-" if r["fraction_of_limit"] is None else f"{100 * r['fraction_of_limit']:.0f}%"
        err = "-" if r["max_rel_error"] is None else f"{r['max_rel_error']:.1e}"
        body.append([r["suite"], r["case"], r["dtype"], str(r["threads"]),
                     fmt_time(t.get("ember")), fmt_time(t.get("numpy")), fmt_time(t.get("torch")),
                     fmt_ratio(r["speedup_vs_numpy"]), fmt_ratio(r["speedup_vs_torch"]),
                     rate, frac, err, row_flags(r)])
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c)
              for i, c in enumerate(cols)]
    right = {3, 4, 5, 6, 7, 8, 9, 10, 11}

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(b) for b in body]
    for r in report["rows"]:
        for name, msg in r["errors"].items():
            out.append(f"  ! {r['suite']} {r['case']}: {name} raised {msg}")
    return out


def render(report: dict) -> str:
    lines = header_lines(report) + [""] + table_lines(report)
    if report.get("regressions"):
        lines.append("")
        lines.append(f"{len(report['regressions'])} row(s) slower than the saved run:")
        for reg in report["regressions"]:
            lines.append(f"  {reg['suite']} {reg['case']} {reg['dtype']} x{reg['threads']}: "
                         f"{fmt_time(reg['baseline_s'])} -> {fmt_time(reg['now_s'])} "
                         f"({reg['slowdown']:.2f}x)")
    lines += ["", READING_GUIDE]
    return "\n".join(lines)


def write_json(report: dict, path: str) -> None:
    with open(path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=False)
        f.write("\n")


CSV_FIELDS = ["suite", "case", "dtype", "threads", "ember_s", "numpy_s", "torch_s",
              "speedup_vs_numpy", "speedup_vs_torch", "ember_rate", "unit", "fraction_of_limit",
              "max_rel_error", "correct", "noisy", "cpu", "simd", "numpy_version",
              "torch_version", "ember_version", "date"]


def write_csv(report: dict, path: str) -> None:
    m = report["machine"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in report["rows"]:
            t = r["times_s"]
            w.writerow({"suite": r["suite"], "case": r["case"], "dtype": r["dtype"],
                        "threads": r["threads"], "ember_s": t.get("ember"),
                        "numpy_s": t.get("numpy"), "torch_s": t.get("torch"),
                        "speedup_vs_numpy": r["speedup_vs_numpy"],
                        "speedup_vs_torch": r["speedup_vs_torch"],
                        "ember_rate": r["ember_rate"], "unit": r["unit"],
                        "fraction_of_limit": r["fraction_of_limit"],
                        "max_rel_error": r["max_rel_error"], "correct": r["correct"],
                        "noisy": r["noisy"], "cpu": m["cpu"], "simd": m["simd"],
                        "numpy_version": m["numpy"], "torch_version": m["torch"],
                        "ember_version": m["ember"], "date": report["date"]})


def compare(report: dict, baseline: dict, tolerance: float = 0.10) -> list:
    """Mark rows whose ember time grew by more than ``tolerance`` against ``baseline`` (a saved
    report); rows are matched by suite, case, dtype and threads. Returns the regressions."""
    saved = {(r["suite"], r["case"], r["dtype"], r["threads"]): r for r in baseline["rows"]}
    regressions = []
    for r in report["rows"]:
        old = saved.get((r["suite"], r["case"], r["dtype"], r["threads"]))
        now_s = r["times_s"].get("ember")
        old_s = old["times_s"].get("ember") if old else None
        r["regression"] = None
        if now_s and old_s and now_s > old_s * (1 + tolerance):
            r["regression"] = {"baseline_s": old_s, "now_s": now_s, "slowdown": now_s / old_s}
            regressions.append({"suite": r["suite"], "case": r["case"], "dtype": r["dtype"],
                                "threads": r["threads"], **r["regression"]})
    report["regressions"] = regressions
    return regressions


def plot(report: dict, path: str) -> bool:
    """A horizontal bar chart of ember's speed-ups (log scale); False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [r for r in report["rows"] if r["speedup_vs_numpy"] is not None]
    labels = [f"{r['suite']} {r['case']}" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.5))
    ys = list(range(len(rows)))
    ax.barh([y - 0.2 for y in ys], [r["speedup_vs_numpy"] for r in rows], height=0.4,
            label="vs NumPy")
    if any(r["speedup_vs_torch"] for r in rows):
        ax.barh([y + 0.2 for y in ys], [r["speedup_vs_torch"] or 0 for r in rows], height=0.4,
                label="vs PyTorch")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up of ember (other's time / ember's time)")
    m = report["machine"]
    ax.set_title(f"ember-bench {report['date'][:10]}, {m['simd']}, {m['threads']} thread(s)",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
