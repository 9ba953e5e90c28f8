"""What one invocation told the tuner: its classification (warm, cold, failed) and the option list's checks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import billing

SAMPLE_COLUMNS = ["step", "memory_mb", "duration_ms", "billed_duration_ms", "init_duration_ms",
                  "max_memory_used_mb", "kind", "error", "source"]
FAILED = ("oom", "timeout", "error")


class TuningError(RuntimeError):
    """The tuner cannot choose a size: every size failed, or the function fails regardless of memory."""


def classify_sample(raw: Mapping[str, Any], memory_mb: float) -> dict[str, Any]:
    """One ``invoke`` answer as a row: ``kind`` is ok (warm), cold, oom, timeout or error."""
    if not isinstance(raw, Mapping):
        raise TypeError(f"invoke({memory_mb:g}) must return a mapping with duration_ms, got {type(raw).__name__}")

    def num(key):
        v = raw.get(key)
        try:
            return float(v) if v is not None else np.nan
        except (TypeError, ValueError):
            return np.nan

    out = {"memory_mb": float(memory_mb), "duration_ms": num("duration_ms"),
           "billed_duration_ms": num("billed_duration_ms"), "init_duration_ms": num("init_duration_ms"),
           "max_memory_used_mb": num("max_memory_used_mb"), "error": None, "source": raw.get("source", "")}
    error = raw.get("error")
    status = str(raw.get("status") or "").lower()
    text = "" if error in (None, False, "") else str(error)
    low = text.lower()
    if status == "timeout" or "timed out" in low or "timeout" in low:
        kind = "timeout"
    elif "outofmemory" in low.replace(" ", "") or "out of memory" in low or "memoryerror" in low or (
            text and np.isfinite(out["max_memory_used_mb"]) and out["max_memory_used_mb"] >= memory_mb):
        kind = "oom"
    elif text or status == "error":
        kind = "error"
    elif not (np.isfinite(out["duration_ms"]) and out["duration_ms"] > 0):
        kind, text = "error", "no duration reported"
    elif (np.isfinite(out["init_duration_ms"]) and out["init_duration_ms"] > 0) or raw.get("cold"):
        kind = "cold"
    else:
        kind = "ok"
    if np.isnan(out["billed_duration_ms"]) and np.isfinite(out["duration_ms"]):
        init = out["init_duration_ms"] if np.isfinite(out["init_duration_ms"]) else 0.0
        out["billed_duration_ms"] = float(billing.billed_ms(out["duration_ms"], init))
    out["kind"], out["error"] = kind, (text or None)
    return out


def check_options(memory_options) -> list[float]:
    """The sizes as sorted unique floats; one clear error for an empty list or a size Lambda does not offer."""
    try:
        opts = sorted({float(m) for m in memory_options})
    except (TypeError, ValueError):
        raise ValueError(f"memory_options must be sizes in MB, got {memory_options!r}") from None
    if not opts:
        raise ValueError("memory_options is empty: give at least one size in MB")
    lo, hi = billing.MEMORY_RANGE_MB
    bad = [m for m in opts if not (lo <= m <= hi)]
    if bad:
        raise ValueError(f"memory_options must be between {lo} and {hi} MB; got {bad[0]:g}")
    return opts


def anchors(options: list[float]) -> list[float]:
    """The first sizes to measure: smallest, largest, and the option nearest their geometric mean."""
    if len(options) <= 2:
        return list(options)
    lo, hi = options[0], options[-1]
    mid = min(options[1:-1], key=lambda m: abs(math.log(m) - 0.5 * (math.log(lo) + math.log(hi))))
    return [lo, hi, mid]
