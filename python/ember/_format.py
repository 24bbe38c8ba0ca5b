"""``repr(tensor)`` in PyTorch's style: ``tensor([1.5000, 2.0000], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from ember._dtype import get_default_dtype

_INT64, _BOOL = np.dtype(np.int64), np.dtype(np.bool_)


def _float_formatter(arr: np.ndarray):
    """torch's rules: integral values print as ``1.``, others with 4 decimals, and scientific
    notation when the magnitudes span more than 1e8 or drop under 1e-4; all padded alike."""
    finite = arr[np.isfinite(arr)] if arr.size else arr
    if finite.size == 0:
        fmt = "{:.4f}"
    else:
        mags = np.abs(finite)
        nonzero = mags[mags != 0]
        integral = np.all(finite == np.round(finite))
        big, small = (nonzero.max(), nonzero.min()) if nonzero.size else (0.0, 0.0)
        if nonzero.size and (big / small > 1000.0 or big > 1e8 or small < 1e-4):
            fmt = "{:.4e}"
        elif integral:
            fmt = "{:.0f}."
        else:
            fmt = "{:.4f}"

    def one(x):
        if np.isfinite(x):
            return fmt.format(x)
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")

    width = 0
    if arr.size:
        sample = arr.reshape(-1)
        if sample.size > 2000:     # summarised output: only the edges print, but the extremes
            sample = np.concatenate([sample[:1000], sample[-1000:],  # decide the width
                                     [np.nanmax(arr) if finite.size else 0,
                                      np.nanmin(arr) if finite.size else 0]])
        finite_sample = sample[np.isfinite(sample)]
        if finite_sample.size:      # like torch, nan/inf do not widen the columns
            width = max(len(one(x)) for x in (finite_sample.max(), finite_sample.min()))
    return lambda x: one(x).rjust(width)


def format_tensor(t) -> str:
    data = t._data
    suffix = []
    if data.dtype not in (get_default_dtype().np, _INT64, _BOOL):   # torch hides these
        suffix.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")

    if data.size == 0:
        body = "[]"
        if data.shape != (0,):
            suffix.insert(0, f"size={tuple(data.shape)}")
    else:
        formatter = {}
        if data.dtype.kind == "f":
            formatter = {"float_kind": _float_formatter(data)}
        body = np.array2string(data, separator=", ", prefix="tensor(", threshold=1000,
                               edgeitems=3, max_line_width=81, formatter=formatter)
        body = body.replace(", ...,", ",  ...,")   # torch pads the summary marker
    tail = "".join(", " + s for s in suffix)
    return f"tensor({body}{tail})"
