"""Offline stand-ins for a Lambda function's ``invoke(memory_mb)``: a log-normal simulator for demos and tests,
and a replay of real per-invocation measurements (each call draws one measured invocation of that size)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import billing


def simulated_function(mean_ms, *, cv=0.1, p99_ms=None, init_ms: float = 150.0, oom_below_mb: float | None = None,
                       timeout_ms: float | None = None, error_rate: float = 0.0, seed: int = 0,
                       used_mb: float | None = None) -> Callable[[float], dict[str, Any]]:
    """An ``invoke(memory_mb)`` drawing warm durations from log-normal distributions around ``mean_ms``.

    ``mean_ms`` maps sizes to mean warm durations (a mapping, or a callable of the size). The spread is
    ``cv`` (a number or mapping), or is solved from ``p99_ms`` (a mapping) so that mean and p99 both match.
    The first invocation at each size is a cold start (``init_ms``). Sizes below ``oom_below_mb`` run out of
    memory; durations above ``timeout_ms`` time out; ``error_rate`` fails invocations at random.
    """
    rng = np.random.default_rng(seed)
    seen: set[float] = set()

    def mean_at(m: float) -> float:
        if callable(mean_ms):
            return float(mean_ms(m))
        if m not in mean_ms:
            raise KeyError(f"the simulated function has no measurement at {m:g} MB (it has {sorted(mean_ms)})")
        return float(mean_ms[m])

    def sigma_at(m: float, mu: float) -> float:
        if p99_ms is not None and m in p99_ms and p99_ms[m] > mu:
            r = math.log(p99_ms[m] / mu)
            z = 2.3263478740408408
            return z - math.sqrt(max(z * z - 2 * r, 0.0)) if r < z * z / 2 else z
        c = cv.get(m, 0.1) if isinstance(cv, Mapping) else float(cv)
        return math.sqrt(math.log1p(c * c))

    def invoke(memory_mb: float) -> dict[str, Any]:
        m = float(memory_mb)
        mu = mean_at(m)
        s = sigma_at(m, mu)
        d = float(mu * math.exp(rng.normal(-s * s / 2, s)))
        out: dict[str, Any] = {"duration_ms": d, "source": "simulated"}
        if m not in seen:
            seen.add(m)
            out["init_duration_ms"] = float(init_ms * math.exp(rng.normal(0, 0.1)))
        used = used_mb if used_mb is not None else min(m, 64.0)
        out["max_memory_used_mb"] = float(min(used, m))
        if oom_below_mb is not None and m < oom_below_mb:
            out.update(error="Runtime.OutOfMemory: Runtime exited with error: signal: killed", max_memory_used_mb=m)
        elif timeout_ms is not None and d > timeout_ms:
            out.update(duration_ms=float(timeout_ms), status="timeout", error=f"Task timed out after {timeout_ms / 1000:.2f} seconds")
        elif error_rate and rng.random() < error_rate:
            out["error"] = "Handled: simulated failure"
        init = out.get("init_duration_ms", 0.0)
        out["billed_duration_ms"] = float(billing.billed_ms(out["duration_ms"], init))
        return out

    return invoke


def replayed_function(invocations: pd.DataFrame, *, seed: int = 0,
                      init_ms: float = 150.0) -> Callable[[float], dict[str, Any]]:
    """An ``invoke(memory_mb)`` that replays measured invocations: each call draws one row of that size at
    random (with replacement), so heavy tails, stragglers and bimodal sizes are the measured ones.

    ``invocations`` has ``memory_mb`` and ``duration_ms`` columns, optionally ``billed_duration_ms`` (missing:
    the duration rounded up to 1 ms), ``max_memory_used_mb`` and ``init_duration_ms``. As on a freshly
    published version, the first call at each size is a cold start: it carries the drawn row's INIT (or
    ``init_ms`` when the row has none). Later calls are returned as warm, with the row's billed duration.
    """
    if "memory_mb" not in invocations or "duration_ms" not in invocations:
        raise ValueError("invocations needs memory_mb and duration_ms columns, got "
                         f"{', '.join(map(str, invocations.columns))}")
    d = invocations[np.isfinite(invocations["duration_ms"].to_numpy(float))]
    billed = (d["billed_duration_ms"] if "billed_duration_ms" in d else pd.Series(np.nan, index=d.index))
    billed = billed.astype(float).fillna(np.ceil(d["duration_ms"].astype(float)))
    cols = {"duration_ms": d["duration_ms"].astype(float), "billed_duration_ms": billed}
    for c in ("max_memory_used_mb", "init_duration_ms"):
        cols[c] = d[c].astype(float) if c in d else pd.Series(np.nan, index=d.index)
    table = pd.DataFrame(cols)
    by_size = {float(m): g.to_numpy(float) for m, g in table.groupby(d["memory_mb"].astype(float))}
    rng = np.random.default_rng(seed)
    seen: set[float] = set()

    def invoke(memory_mb: float) -> dict[str, Any]:
        m = float(memory_mb)
        if m not in by_size:
            raise KeyError(f"no measured invocation at {m:g} MB (measured: {', '.join(f'{k:g}' for k in sorted(by_size))})")
        rows = by_size[m]
        dur, bill, used, init = rows[rng.integers(len(rows))]
        out: dict[str, Any] = {"duration_ms": dur, "billed_duration_ms": bill, "source": "replay"}
        if np.isfinite(used):
            out["max_memory_used_mb"] = used
        if m not in seen:
            seen.add(m)
            out["init_duration_ms"] = init if np.isfinite(init) and init > 0 else init_ms
        return out

    return invoke
