"""Interleaved timing of ember against NumPy (and PyTorch): the table in RESULTS.md.

    python benchmarks/interleaved.py [--threads 2] [--rounds 15] [--dtype float32]

Each round times every implementation once, in a rotating order, so drift of the machine hits
all of them alike; the table quotes medians over rounds and the ratios between them. A round
repeats short calls until it has taken at least ~2 ms, to stay well above timer resolution.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--rounds", type=int, default=15)
parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
parser.add_argument("--no-torch", action="store_true",
                    help="leave PyTorch out: its own OpenMP pool spinning beside ember's and "
                         "OpenBLAS's distorts every row on a 2-core machine")
parser.add_argument("--probe", action="store_true", help="also measure FMA peak and bandwidth")
args = parser.parse_args()

os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
import numpy as np  # noqa: E402

import ember  # noqa: E402

ember.set_num_threads(args.threads)
torch = None
if not args.no_torch:
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

SHAPES = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
          (2048, 2048, 2048), (64, 784, 512)]


def calls_per_sample(fn, target=2e-3):
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    return max(1, int(target / max(dt, 1e-7)))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    rng = np.random.default_rng(0)
    info = ember.backend_info()
    print(f"# {time.strftime('%Y-%m-%d')}  threads={args.threads}  dtype={args.dtype}  "
          f"simd={info['simd']}  numpy={np.__version__}  torch={torch.__version__ if torch else '-'}")
    if args.probe:
        peak = ember._C.probe_fma_peak(args.threads, 1.0)
        bw = ember._C.probe_bandwidth(args.threads)
        print(f"# measured FMA peak {peak:.0f} GFLOP/s, triad bandwidth {bw:.1f} GB/s")
    head = "| shape (MxKxN) | ember ms | NumPy ms | ember GFLOP/s | NumPy / ember |"
    sep = "|---|---|---|---|---|"
    if torch is not None:
        head += " torch ms | torch / ember |"
        sep += "---|---|"
    print(head)
    print(sep)
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k)).astype(args.dtype)
        b = rng.standard_normal((k, n)).astype(args.dtype)
        impls = {"ember": lambda: ember.ops.matmul(a, b), "numpy": lambda: np.matmul(a, b)}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            impls["torch"] = lambda: torch.matmul(ta, tb)
        reps = {name: calls_per_sample(fn) for name, fn in impls.items()}
        for fn in impls.values():  # warm-up: packing buffers, thread pools
            fn()
        samples = {name: [] for name in impls}
        names = list(impls)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                fn, count = impls[name], reps[name]
                t0 = time.perf_counter()
                for _ in range(count):
                    fn()
                samples[name].append((time.perf_counter() - t0) / count)
        med = {name: median(v) for name, v in samples.items()}
        gflops = 2 * m * n * k / med["ember"] / 1e9
        row = (f"| {m}x{k}x{n} | {med['ember']*1e3:.3f} | {med['numpy']*1e3:.3f} | {gflops:.0f} | "
               f"{med['numpy']/med['ember']:.2f} |")
        if torch is not None:
            row += f" {med['torch']*1e3:.3f} | {med['torch']/med['ember']:.2f} |"
        print(row)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
