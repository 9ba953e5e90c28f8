"""Tables and plain results of the memory recommendations, for the notebook and the findings engine (pure)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .model import DurationModel
from .snapshot import FunctionRecommendation

VIEW_COLUMNS = {
    "function_name": "function", "account_id": "account", "arch": "arch", "memory_mb": "memory (MB)",
    "invocations_per_month": "invocations/month", "duration_mean_ms": "mean duration (ms)",
    "max_memory_used_p99_mb": "max memory used p99 (MB)", "finding": "finding", "action": "action",
    "recommended_memory_mb": "recommended (MB)", "recommended_duration_ms": "duration there (ms)",
    "probability": "probability", "current_monthly_usd": "today ($/mo)", "monthly_savings_usd": "saves ($/mo)",
    "monthly_savings_low_usd": "saves low", "monthly_savings_high_usd": "saves high",
    "measure_value_usd": "measuring is worth ($/mo)", "other_arch": "other arch",
    "other_arch_savings_usd": "other arch saves ($/mo)", "arm64_candidate": "arm64 candidate", "title": "decision",
}


def view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`recommend_all`'s table with readable headers and rounding, findings first."""
    if table.empty:
        return pd.DataFrame(columns=list(VIEW_COLUMNS.values()))
    t = table.copy()
    t["_order"] = t["action"].map({"decrease": 3, "increase": 3, "measure": 2}).fillna(0) + t["arm64_candidate"]
    t["_value"] = t["monthly_savings_usd"].where(t["action"] != "measure", t["measure_value_usd"])
    t = t.sort_values(["_order", "_value", "other_arch_savings_usd"], ascending=False)
    out = t[list(VIEW_COLUMNS)].rename(columns=VIEW_COLUMNS).reset_index(drop=True)
    out["finding"] = out["finding"].fillna("")
    for col in ("invocations/month",):
        out[col] = out[col].round(0)
    for col in ("mean duration (ms)", "duration there (ms)", "max memory used p99 (MB)"):
        out[col] = out[col].round(1)
    for col in ("today ($/mo)", "saves ($/mo)", "saves low", "saves high", "other arch saves ($/mo)",
                "measuring is worth ($/mo)"):
        out[col] = out[col].round(2)
    out["probability"] = out["probability"].round(3)
    return out


MEASURE_COLUMNS = {"function_name": "function", "account_id": "account", "memory_mb": "memory (MB)",
                   "current_monthly_usd": "today ($/mo)", "measure_saving_low_usd": "could save from ($/mo)",
                   "measure_saving_high_usd": "to ($/mo)", "measure_value_usd": "expected ($/mo)",
                   "measure_cost_usd": "measuring costs ($)", "measure_command": "command"}


def measure_view(table: pd.DataFrame) -> pd.DataFrame:
    """The functions to measure before changing, most valuable first: the saving's plausible range (90%), what
    it is worth in expectation, the tuning command and what that measurement costs."""
    t = table[table["action"] == "measure"] if len(table) else table
    if t.empty:
        return pd.DataFrame(columns=list(MEASURE_COLUMNS.values()))
    t = t.sort_values("measure_value_usd", ascending=False)
    out = t[list(MEASURE_COLUMNS)].rename(columns=MEASURE_COLUMNS).reset_index(drop=True)
    for col in ("today ($/mo)", "could save from ($/mo)", "to ($/mo)", "expected ($/mo)"):
        out[col] = out[col].round(2)
    out["measuring costs ($)"] = out["measuring costs ($)"].round(4)
    return out


def results(table: pd.DataFrame, focus: FunctionRecommendation | None = None) -> dict[str, Any]:
    """The memory notebook's results as plain JSON-able data (for batch runs and the findings engine)."""
    def clean(v):
        if isinstance(v, (np.floating, float)):
            return None if not np.isfinite(v) else round(float(v), 6)
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, np.bool_):
            return bool(v)
        return v

    keep = ["account_id", "region", "function_name", "arch", "memory_mb", "action", "finding", "probability",
            "recommended_memory_mb", "recommended_duration_ms", "current_monthly_usd", "monthly_savings_usd",
            "monthly_savings_low_usd", "monthly_savings_high_usd", "measure_command", "measure_cost_usd",
            "measure_value_usd", "other_arch", "other_arch_savings_usd", "arm64_candidate", "sizes_measured", "title"]
    rows = [{k: clean(v) for k, v in r.items()} for r in table[keep].to_dict("records")] if len(table) else []
    out: dict[str, Any] = {
        "notebook": "memory", "functions": len(rows),
        "findings": [r for r in rows if r["finding"] in ("memory-overprovisioned", "memory-underprovisioned")],
        "measure_first": [r for r in rows if r["finding"] == "memory-measure"],
        "arm64_candidates": [r["function_name"] for r in rows if r["arm64_candidate"]],
        "monthly_savings_usd": round(float(sum(r["monthly_savings_usd"] or 0.0 for r in rows
                                               if r["finding"] in ("memory-overprovisioned", "memory-underprovisioned"))), 4),
        "functions_table": rows, "skipped": [list(x) for x in table.attrs.get("skipped", [])],
    }
    if focus is not None:
        rec = focus.recommendation
        out["focus"] = {"function_name": focus.observations["function_name"], "finding": focus.finding,
                        "action": focus.action, "decision": {"title": focus.decision.title(),
                                                             "evidence": focus.decision.evidence(),
                                                             "note": focus.decision.note(),
                                                             "recommendation": focus.decision.recommendation()},
                        "model": {k: clean(v) if not isinstance(v, tuple) else [clean(x) for x in v]
                                                          for k, v in focus.model.params.items()},
                        "recommendation": {k: clean(v) if not isinstance(v, list) else v for k, v in rec.summary().items()},
                        "other_arch": {k: clean(v) if not isinstance(v, list) else v
                                       for k, v in focus.other_arch.summary().items()}}
    return out


def policy(p) -> dict[str, Any]:
    """:func:`recommend_for_function` keyword arguments from the memory notebook's checked parameters."""
    return {"strategy": p.strategy, "latency_slo_ms": p.latency_slo_ms or None, "max_slowdown": p.max_slowdown,
            "cost_tolerance": p.cost_tolerance, "balanced_weight": p.balanced_weight, "headroom": p.headroom,
            "confidence": p.confidence}


def pick_function(table: pd.DataFrame, name: str = "") -> str:
    """``name`` if given (checked against the table), else the function with the largest finding savings."""
    if name:
        if name not in set(table["function_name"]):
            raise KeyError(f"function {name!r} has no memory recommendation (known: "
                           f"{', '.join(sorted(table['function_name'])[:10])}, ...)")
        return name
    if table.empty:
        raise ValueError("no function with invocations to look at")
    order = table["action"].map({"decrease": 2, "increase": 2, "measure": 1}).fillna(0)
    value = table["monthly_savings_usd"].where(table["action"] != "measure", table["measure_value_usd"])
    ranked = table.assign(_f=order, _v=value).sort_values(["_f", "_v"], ascending=False)
    return str(ranked["function_name"].iloc[0])


def describe(fr: FunctionRecommendation) -> pd.DataFrame:
    """One function's decision (the same text as its finding) beside the model and the strategy's curve."""
    d, r, o = fr.decision, fr.recommendation, fr.observations
    p = fr.model.params
    a = d.other_arch
    rows = [
        ("decision", d.title()),
        ("why", d.evidence()),
        ("how sure", d.note()),
        ("what to do", d.recommendation()),
        ("evidence", "; ".join([o["source"], *o["evidence"]])),
        ("model: waiting / CPU at 1 vCPU / parallelism",
         f"{p['fixed_ms']:,.1f} ms / {p['cpu_ms_at_1_vcpu']:,.1f} ms / {p['parallelism_vcpu']:.2f} vCPU "
         f"(90%: {p['fixed_ms_range'][0]:,.1f}-{p['fixed_ms_range'][1]:,.1f} / {p['cpu_ms_at_1_vcpu_range'][0]:,.1f}-"
         f"{p['cpu_ms_at_1_vcpu_range'][1]:,.1f} ms)"),
        ("Max Memory Used p99 -> memory floor", f"{o['max_memory_used_p99_mb']:,.0f} MB -> {d.floor_mb:,.0f} MB"),
        (f"the {r.strategy} strategy's size on {r.arch} (the chart)", f"{r.memory_mb:,.0f} MB, {r.duration_ms:,.1f} ms, "
         f"${r.monthly_cost:,.2f}/month — a finding only if the decision above says so"),
        (f"{a.arch} at {a.memory_mb:,.0f} MB", f"{a.duration_ms:,.1f} ms, ${a.monthly_usd:,.2f}/month, saves "
         f"${a.saving_usd:,.2f} (90%: {a.saving_band[0]:,.2f} to {a.saving_band[1]:,.2f}); meets the policy with "
         f"probability {a.probability:.0%}"),
    ]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def compare_power_tuning(model: DurationModel, doc) -> pd.DataFrame:
    """A Power Tuning run's average durations (its ``stats`` or visualization URL) against the model's
    prediction and band at the same sizes; ``attrs['power']`` is Power Tuning's own pick."""
    from .. import interop

    pt = interop.from_power_tuning(doc)
    m = pt["memory_mb"].to_numpy(float)
    lo, hi = model.interval(m)
    pred = model.predict(m)
    out = pt.rename(columns={"duration_ms": "power_tuning_ms", "cost_usd": "power_tuning_usd"}).assign(
        model_ms=pred, model_low_ms=lo, model_high_ms=hi,
        error_pct=(pred - pt["duration_ms"].to_numpy()) / pt["duration_ms"].to_numpy() * 100)
    out.attrs.update(pt.attrs)
    return out
