"""ember-bench: times every kernel against NumPy (and PyTorch when installed).

    ember-bench                        all suites, all cores, float32
    ember-bench --suite matmul,peak --threads 1 --json out.json
    python -m ember.bench --quick      a smoke run in seconds

Layout: ``cli`` (arguments), ``runner`` (runs the rows, checks, machine info), ``timing``
(interleaved medians), ``suites/`` (one module per kernel family), ``report`` (table, CSV,
--compare, --plot), ``schema`` (the JSON report's schema), ``threads`` (pinning every library's
thread count).
"""


def main(argv=None) -> int:
    from ember.bench.cli import main as _main

    return _main(argv)
