"""Interoperability with AWS Lambda Power Tuning and AWS Compute Optimizer (pure: documents in, tables out).

* Power Tuning's output (``{"power", "cost", "duration", "stateMachine": {"visualization"}, "stats"}``,
  ``stats`` only with ``includeOutputResults``) becomes observations: its per-size average durations feed
  :func:`lambda_workbook.memory.fit`. Without ``stats`` the numbers are decoded from the visualization URL.
* The visualization URL is produced from our own measurements in Power Tuning's format
  (``../shared/reference/anchors.md`` §1): ``https://lambda-power-tuning.show/#`` followed by
  ``base64(Int16 sizes);base64(Float32 durations);base64(Float32 costs)``, little-endian, sorted by size;
  two series compare as ``s1;t1;c1;s2;t2;c2;legend1;legend2``.
* Compute Optimizer's ``get_lambda_function_recommendations`` response becomes one row per function and
  option, to compare with (or seed) our model: its current Duration is an observation at the current size.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import numpy as np
import pandas as pd

VISUALIZATION_BASE = "https://lambda-power-tuning.show/"


# --------------------------------------------------------------------------------------------------------
# Power Tuning


def _b64(values, dtype: str) -> str:
    return base64.b64encode(np.asarray(values, dtype=dtype).tobytes()).decode("ascii")


def _unb64(text: str, dtype: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise ValueError(f"not base64 data in a Power Tuning URL: {text[:40]!r}") from None
    size = np.dtype(dtype).itemsize
    if len(raw) % size:
        raise ValueError(f"Power Tuning URL field has {len(raw)} bytes, not a multiple of {size}")
    return np.frombuffer(raw, dtype=dtype).astype(float)


def _series(memory_mb, duration_ms, cost_usd) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.asarray(memory_mb, dtype=float).ravel()
    d = np.asarray(duration_ms, dtype=float).ravel()
    c = np.asarray(cost_usd, dtype=float).ravel()
    if not (m.size == d.size == c.size) or m.size == 0:
        raise ValueError(f"memory_mb, duration_ms and cost_usd must be equal-length and non-empty; "
                         f"got {m.size}, {d.size}, {c.size}")
    if np.any((m < 1) | (m > 32767)) or not np.all(np.isfinite(d)) or not np.all(np.isfinite(c)):
        raise ValueError("sizes must be 1-32,767 MB (Int16) and durations/costs finite numbers")
    order = np.argsort(m, kind="stable")
    return m[order], d[order], c[order]


def _hash(memory_mb, duration_ms, cost_usd) -> list[str]:
    m, d, c = _series(memory_mb, duration_ms, cost_usd)
    return [_b64(np.round(m), "<i2"), _b64(d, "<f4"), _b64(c, "<f4")]


def _base(region: str) -> str:
    return VISUALIZATION_BASE + ("?currency=CNY" if str(region).startswith("cn-") else "")


def power_tuning_url(memory_mb, duration_ms, cost_usd, *, region: str = "us-east-1") -> str:
    """A Power Tuning visualization URL for per-size average durations (ms) and costs (USD per invocation)."""
    return _base(region) + "#" + ";".join(_hash(memory_mb, duration_ms, cost_usd))


def power_tuning_compare_url(first: pd.DataFrame, second: pd.DataFrame, legends=("x86_64", "arm64"), *,
                             region: str = "us-east-1") -> str:
    """Two series on one chart (e.g. x86_64 against arm64); each frame has memory_mb, duration_ms, cost_usd."""
    parts = []
    for frame in (first, second):
        parts += _hash(frame["memory_mb"], frame["duration_ms"], frame["cost_usd"])
    parts += [quote(str(legend), safe="") for legend in legends]
    return _base(region) + "#" + ";".join(parts)


def parse_power_tuning_url(url: str) -> pd.DataFrame:
    """Decode a visualization URL into rows of memory_mb, duration_ms, cost_usd (and ``series`` for two)."""
    frag = urlsplit(str(url)).fragment
    if not frag:
        raise ValueError(f"no '#...' data in the Power Tuning URL {str(url)[:60]!r}")
    fields = frag.split(";")
    if len(fields) not in (3, 8):
        raise ValueError(f"a Power Tuning URL holds 3 fields (or 8 for a comparison), got {len(fields)}")
    frames = []
    legends = [unquote(x) for x in fields[6:8]] if len(fields) == 8 else [None]
    for k, legend in enumerate(legends):
        m, d, c = (_unb64(fields[3 * k], "<i2"), _unb64(fields[3 * k + 1], "<f4"), _unb64(fields[3 * k + 2], "<f4"))
        if not (m.size == d.size == c.size):
            raise ValueError(f"Power Tuning URL series {k + 1} has {m.size} sizes, {d.size} durations, {c.size} costs")
        frame = pd.DataFrame({"memory_mb": m, "duration_ms": d, "cost_usd": c})
        if legend is not None:
            frame.insert(0, "series", legend)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _load(doc) -> dict[str, Any]:
    if isinstance(doc, (str, Path)) and not str(doc).lstrip().startswith("{"):
        doc = Path(doc).read_text(encoding="utf-8")
    if isinstance(doc, str):
        doc = json.loads(doc)
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
    if isinstance(doc.get("output"), str):  # a Step Functions DescribeExecution response
        doc = json.loads(doc["output"])
    return doc


def from_power_tuning(doc) -> pd.DataFrame:
    """Power Tuning output (dict, JSON text or a file path) as rows of memory_mb, duration_ms, cost_usd.

    ``cost_usd`` is Power Tuning's average price per invocation, which leaves out the request fee. The
    frame's ``attrs`` hold Power Tuning's own pick (``power``) and its run's cost when present.
    """
    doc = _load(doc)
    stats = doc.get("stats")
    if stats:
        rows = []
        for i, s in enumerate(stats):
            try:
                rows.append({"memory_mb": float(s["value"]), "duration_ms": float(s["averageDuration"]),
                             "cost_usd": float(s["averagePrice"])})
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"Power Tuning stats[{i}] needs value, averagePrice and averageDuration; got {s!r}") from None
        out = pd.DataFrame(rows).sort_values("memory_mb", ignore_index=True)
    else:
        url = (doc.get("stateMachine") or {}).get("visualization")
        if not url:
            raise ValueError("Power Tuning output has neither 'stats' (run with includeOutputResults) nor "
                             "stateMachine.visualization")
        out = parse_power_tuning_url(url)
    out.attrs.update({k: doc[k] for k in ("power", "cost", "duration") if k in doc})
    sm = doc.get("stateMachine") or {}
    out.attrs.update({k: sm[k] for k in ("executionCost", "lambdaCost") if k in sm})
    return out


# --------------------------------------------------------------------------------------------------------
# Compute Optimizer


def _metric(metrics, name: str, statistic: str) -> float:
    for m in metrics or []:
        if m.get("name") == name and m.get("statistic") == statistic:
            return float(m.get("value", np.nan))
    return np.nan


def from_compute_optimizer(response) -> pd.DataFrame:
    """``get_lambda_function_recommendations`` output as one row per function and memory option.

    Functions without options (``Optimized`` or ``Unavailable``) keep one row with NaN option columns, so
    nothing silently disappears; ``finding`` and ``reasons`` say why.
    """
    doc = _load(response) if not isinstance(response, dict) else response
    recs = doc.get("lambdaFunctionRecommendations")
    if recs is None:
        raise ValueError("expected a get_lambda_function_recommendations response with "
                         "'lambdaFunctionRecommendations'")
    rows = []
    for r in recs:
        arn = r.get("functionArn", "")
        base = {
            "function_arn": arn, "function_name": arn.split(":function:")[-1].split(":")[0] if arn else "",
            "account_id": r.get("accountId", ""), "version": r.get("functionVersion", ""),
            "current_memory_mb": float(r.get("currentMemorySize", np.nan)),
            "finding": r.get("finding", ""), "reasons": ";".join(r.get("findingReasonCodes", []) or []),
            "performance_risk": r.get("currentPerformanceRisk", ""),
            "invocations": float(r.get("numberOfInvocations", np.nan)),
            "lookback_days": float(r.get("lookbackPeriodInDays", np.nan)),
            "duration_avg_ms": _metric(r.get("utilizationMetrics"), "Duration", "Average"),
            "duration_max_ms": _metric(r.get("utilizationMetrics"), "Duration", "Maximum"),
            "memory_used_avg_mb": _metric(r.get("utilizationMetrics"), "Memory", "Average"),
            "memory_used_max_mb": _metric(r.get("utilizationMetrics"), "Memory", "Maximum"),
        }
        options = r.get("memorySizeRecommendationOptions") or []
        if not options:
            rows.append({**base, "rank": np.nan, "memory_mb": np.nan})
        for o in options:
            proj = o.get("projectedUtilizationMetrics")
            saving = o.get("savingsOpportunity") or {}
            rows.append({**base, "rank": float(o.get("rank", np.nan)), "memory_mb": float(o.get("memorySize", np.nan)),
                         "duration_low_ms": _metric(proj, "Duration", "LowerBound"),
                         "duration_expected_ms": _metric(proj, "Duration", "Expected"),
                         "duration_high_ms": _metric(proj, "Duration", "UpperBound"),
                         "savings_usd": float((saving.get("estimatedMonthlySavings") or {}).get("value", np.nan)),
                         "savings_pct": float(saving.get("savingsOpportunityPercentage", np.nan))})
    cols = ["function_arn", "function_name", "account_id", "version", "current_memory_mb", "finding", "reasons",
            "performance_risk", "invocations", "lookback_days", "duration_avg_ms", "duration_max_ms",
            "memory_used_avg_mb", "memory_used_max_mb", "rank", "memory_mb", "duration_low_ms",
            "duration_expected_ms", "duration_high_ms", "savings_usd", "savings_pct"]
    return pd.DataFrame(rows).reindex(columns=cols)


def compute_optimizer_observation(rows: pd.DataFrame, function_name: str) -> dict[str, float]:
    """The current-size observation Compute Optimizer saw for one function: memory and mean duration."""
    sel = rows[rows["function_name"] == function_name]
    if sel.empty:
        raise KeyError(f"function {function_name!r} is not in the Compute Optimizer rows "
                       f"(it has {', '.join(sorted(rows['function_name'].unique())[:8])})")
    r = sel.iloc[0]
    duration = r["duration_avg_ms"] if np.isfinite(r["duration_avg_ms"]) else r["duration_max_ms"]
    if not np.isfinite(duration):
        raise ValueError(f"Compute Optimizer reports no Duration metric for {function_name!r}")
    return {"memory_mb": float(r["current_memory_mb"]), "duration_ms": float(duration),
            "invocations": float(r["invocations"]), "max_memory_used_mb": float(r["memory_used_max_mb"])}


def compare_compute_optimizer(model, rows: pd.DataFrame, function_name: str, level: float = 0.9) -> pd.DataFrame:
    """Compute Optimizer's projected durations next to our model's prediction and band at the same sizes."""
    sel = rows[(rows["function_name"] == function_name) & rows["memory_mb"].notna()]
    if sel.empty:
        return pd.DataFrame(columns=["memory_mb", "co_rank", "co_low_ms", "co_expected_ms", "co_high_ms",
                                     "model_ms", "model_low_ms", "model_high_ms"])
    m = sel["memory_mb"].to_numpy(float)
    lo, hi = model.interval(m, level)
    return pd.DataFrame({"memory_mb": m, "co_rank": sel["rank"].to_numpy(), "co_low_ms": sel["duration_low_ms"].to_numpy(),
                         "co_expected_ms": sel["duration_expected_ms"].to_numpy(),
                         "co_high_ms": sel["duration_high_ms"].to_numpy(), "model_ms": model.predict(m),
                         "model_low_ms": lo, "model_high_ms": hi})
