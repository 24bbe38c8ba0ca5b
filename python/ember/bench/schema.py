"""The JSON report's schema (JSON Schema, draft-07 subset) and a small validator for it.

The validator covers the keywords the schema uses (type, properties, required, items, enum,
minimum, additionalProperties), so the tests need no extra package.
"""
from __future__ import annotations

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_TIMES = {"type": "object", "additionalProperties": _NUM}

ROW = {
    "type": "object",
    "required": ["suite", "case", "dtype", "threads", "unit", "times_s", "spread",
                 "max_rel_error", "tolerance", "correct", "noisy", "speedup_vs_numpy",
                 "speedup_vs_torch", "ember_rate", "fraction_of_limit", "errors"],
    "properties": {
        "suite": {"type": "string", "enum": ["matmul", "conv2d", "pool", "lstm", "softmax",
                                             "train"]},
        "case": {"type": "string"},
        "dtype": {"type": "string", "enum": ["float32", "float64"]},
        "threads": {"type": "integer", "minimum": 1},
        "unit": {"type": "string", "enum": ["GFLOP/s", "GB/s", ""]},
        "work_per_call": _NUM,
        "note": {"type": "string"},
        "times_s": _TIMES,
        "spread": _TIMES,
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "max_rel_error": _NUM_OR_NULL,
        "tolerance": _NUM,
        "correct": {"type": "boolean"},
        "noisy": {"type": "boolean"},
        "speedup_vs_numpy": _NUM_OR_NULL,
        "speedup_vs_torch": _NUM_OR_NULL,
        "ember_rate": _NUM_OR_NULL,
        "fraction_of_limit": _NUM_OR_NULL,
        "regression": {"type": ["object", "null"]},
    },
}

REPORT = {
    "type": "object",
    "required": ["schema_version", "date", "quick", "rounds", "dtype", "machine",
                 "thread_check", "limits", "rows"],
    "properties": {
        "schema_version": {"type": "integer", "enum": [1]},
        "date": {"type": "string"},
        "command": {"type": "string"},
        "quick": {"type": "boolean"},
        "rounds": {"type": "integer", "minimum": 1},
        "dtype": {"type": "string", "enum": ["float32", "float64"]},
        "elapsed_s": _NUM,
        "machine": {
            "type": "object",
            "required": ["cpu", "simd", "threads", "threads_pinned", "ember", "numpy", "torch",
                         "python"],
            "properties": {
                "cpu": {"type": "string"},
                "simd": {"type": "string", "enum": ["avx512", "avx2", "generic"]},
                "threads": {"type": "integer", "minimum": 1},
                "threads_pinned": {"type": "object"},
                "ember": {"type": "string"},
                "numpy": {"type": "string"},
                "torch": {"type": ["string", "null"]},
                "python": {"type": "string"},
            },
        },
        "thread_check": {
            "type": "object",
            "required": ["one_thread_gflops", "n_thread_gflops", "scaling", "ok"],
            "properties": {"one_thread_gflops": _NUM, "n_thread_gflops": _NUM,
                           "scaling": _NUM, "ok": {"type": "boolean"}},
        },
        "limits": {
            "type": ["object", "null"],
            "properties": {"fma_peak_gflops": _NUM, "fma_peak_gflops_1t": _NUM,
                           "bandwidth_gbs": _NUM, "bandwidth_gbs_1t": _NUM,
                           "how": {"type": "string"}},
        },
        "rows": {"type": "array", "items": ROW},
        "regressions": {"type": "array"},
    },
}

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def validate(instance, schema: dict = REPORT, path: str = "$") -> None:
    """Raise ValueError naming the JSON path of the first place ``instance`` breaks ``schema``."""
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_is_type(instance, t) for t in names):
            raise ValueError(f"{path}: expected {' or '.join(names)}, got {type(instance).__name__}")
    if "enum" in schema and instance not in schema["enum"]:
        raise ValueError(f"{path}: {instance!r} is not one of {schema['enum']}")
    if "minimum" in schema and _is_type(instance, "number") and instance < schema["minimum"]:
        raise ValueError(f"{path}: {instance} is below the minimum {schema['minimum']}")
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                raise ValueError(f"{path}: missing required key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            if key in props:
                validate(value, props[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                validate(value, extra, f"{path}.{key}")
            elif extra is False:
                raise ValueError(f"{path}: unexpected key {key!r}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            validate(item, schema["items"], f"{path}[{i}]")
