"""``ember-bench`` / ``python -m ember.bench``: time every kernel against NumPy (and PyTorch when
installed) and print a table. See ``ember-bench --help``."""
from __future__ import annotations

import argparse
import json
import os
import sys

from ember.bench import report as rep
from ember.bench.progress import Progress
from ember.bench.schema import validate
from ember.bench.suites import SUITES

ALL = list(SUITES) + ["peak"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="ember-bench",
        description="Time ember's kernels against NumPy (and PyTorch when installed), "
                    "interleaved, with a correctness check beside every row.")
    p.add_argument("--suite", action="append", metavar="NAME",
                   help=f"suite(s) to run, repeatable or comma-separated: {', '.join(ALL)} "
                        "(default: all)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--threads", type=int, default=None,
                   help="threads for ember, NumPy's BLAS and PyTorch alike (default: all cores)")
    p.add_argument("--quick", action="store_true",
                   help="small shapes and few rounds: a smoke test in seconds (for CI)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timing rounds per row (default 7, or 3 with --quick)")
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument("--csv", metavar="PATH", help="write the rows as CSV")
    p.add_argument("--compare", metavar="PATH",
                   help="flag rows slower than in this saved --json report")
    p.add_argument("--tolerance", type=float, default=0.10,
                   help="slow-down counted as a regression by --compare (default 0.10 = 10%%)")
    p.add_argument("--plot", metavar="PATH", help="write a PNG bar chart (needs matplotlib)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    names = []
    for item in args.suite or ["all"]:
        for name in item.split(","):
            name = name.strip()
            if name == "all":
                names.extend(n for n in ALL if n not in names)
            elif name not in ALL:
                p.error(f"unknown suite {name!r} (choose from {', '.join(ALL)}, all)")
            elif name not in names:
                names.append(name)
    args.suites = names
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    if args.repeat is not None and args.repeat < 1:
        p.error(f"--repeat must be >= 1, got {args.repeat}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = args.threads or os.cpu_count() or 1
    # (the thread pools' wait settings: see ember.bench.BENCH_ENV, applied by the console script)
    from ember.bench.runner import run

    baseline = None
    if args.compare:
        try:
            with open(args.compare) as f:
                baseline = json.load(f)
            validate(baseline)
        except (OSError, ValueError) as exc:
            print(f"ember-bench: cannot use --compare {args.compare}: {exc}", file=sys.stderr)
            return 2
    progress = Progress(enabled=False if args.no_progress else None)
    report = run(args.suites, dtype=args.dtype, threads=threads, quick=args.quick,
                 repeat=args.repeat, use_torch=not args.no_torch, progress=progress)
    if baseline is not None:
        rep.compare(report, baseline, args.tolerance)
    validate(report)
    print(rep.render(report))
    if args.json:
        rep.write_json(report, args.json)
    if args.csv:
        rep.write_csv(report, args.csv)
    if args.plot and not rep.plot(report, args.plot):
        print("ember-bench: --plot needs matplotlib (pip install matplotlib); no chart written",
              file=sys.stderr)
    failed = [r for r in report["rows"] if not r["correct"]]
    return 1 if failed else 0
