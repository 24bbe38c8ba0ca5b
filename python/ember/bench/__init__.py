"""ember-bench: times every kernel against NumPy (and PyTorch when installed).

    ember-bench                        all suites, all cores, float32
    ember-bench --suite matmul,peak --threads 1 --json out.json
    python -m ember.bench --quick      a smoke run in seconds

Layout: ``cli`` (arguments), ``runner`` (runs the rows, checks, machine info), ``timing``
(interleaved medians), ``suites/`` (one module per kernel family), ``report`` (table, CSV,
--compare, --plot), ``schema`` (the JSON report's schema), ``threads`` (pinning every library's
thread count).
"""


import os
import sys

# Three thread pools share the cores in one process: OpenBLAS's (NumPy), ember's OpenMP and
# PyTorch's OpenMP. Left at their defaults each keeps spinning for milliseconds after every call
# (libgomp's default spin is ~16 ms here), stealing the cores of whichever implementation runs
# next: a 0.05 ms product then takes 7-13 ms. The runner gives all three the same short wait
# before they sleep. Both settings are read once, when each library loads, so they must be in
# the environment before the process imports NumPy: the console script re-executes itself
# with them (a user's own values are kept).
BENCH_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4", "GOMP_SPINCOUNT": "2000"}


def main(argv=None) -> int:
    """Console entry point (``ember-bench``, ``python -m ember.bench``)."""
    if argv is None:
        missing = {k: v for k, v in BENCH_ENV.items() if k not in os.environ}
        if missing and os.environ.get("EMBER_BENCH_REEXEC") != "1":
            env = dict(os.environ, EMBER_BENCH_REEXEC="1", **missing)
            os.execve(sys.executable, [sys.executable, "-m", "ember.bench", *sys.argv[1:]], env)
    from ember.bench.cli import main as _main

    return _main(argv)
