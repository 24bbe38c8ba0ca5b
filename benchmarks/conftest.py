"""Benchmark setup: every implementation gets the same, recorded thread count.

Run with ``pytest benchmarks`` (a plain ``pytest`` only collects tests/). The thread count is
``EMBER_BENCH_THREADS`` (default 2); it is applied to ember, OpenBLAS (NumPy) and PyTorch before
any of them starts its thread pool, and recorded in the benchmark JSON's machine_info.
"""
import os

THREADS = int(os.environ.get("EMBER_BENCH_THREADS", "2"))
# Must be set before NumPy loads OpenBLAS and before libgomp starts.
os.environ["OPENBLAS_NUM_THREADS"] = str(THREADS)
os.environ["OMP_NUM_THREADS"] = str(THREADS)
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ember  # noqa: E402

ember.set_num_threads(THREADS)

try:
    import torch  # noqa: E402

    torch.set_num_threads(THREADS)
except ImportError:
    torch = None


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["threads"] = THREADS
    machine_info["ember_backend"] = ember.backend_info()
    machine_info["numpy"] = np.__version__
    machine_info["torch"] = torch.__version__ if torch is not None else None


@pytest.fixture
def torch_module():
    if torch is None:
        pytest.skip("PyTorch is not installed")
    return torch


def implementations():
    """Names of the implementations to compare: ember, numpy, and torch when installed."""
    return ["ember", "numpy"] + (["torch"] if torch is not None else [])
