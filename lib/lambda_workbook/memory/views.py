"""Tables and plain results of the memory recommendations, for the notebook and the findings engine (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..renamed import renamed
from .model import DurationModel
from .snapshot import FunctionRecommendation

VIEW_COLUMNS = {
    "function_name": "function", "account_id": "account", "arch": "arch", "memory_mb": "memory (MB)",
    "invocations_per_month": "invocations/month", "duration_mean_ms": "mean duration (ms)",
    "max_memory_used_p99_mb": "max memory used p99 (MB)", "current_monthly_usd": "today ($/month)",
    "finding": "finding", "probability": "probability",
    "monthly_savings_usd": "saves ($/month: mean, at least, at most)",
    "other_arch_savings_usd": "other arch at today's size", "title": "decision",
}


def _usd(x: float) -> str:
    if x != x:
        return ""
    return f"-${-x:,.2f}" if x <= -0.005 else f"${max(x, 0.0):,.2f}"


def view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`recommend_all`'s table for reading: decided changes first, then measure-first, then the rest;
    numbers formatted as text (no exponents, blanks where nothing applies). A saving's "at least" and "at most"
    each hold with the decision's probability (the policy's confidence, 90% by default): the same bounds as
    the finding's evidence. *probability* is the chance the change meets the policy."""
    if table.empty:
        return pd.DataFrame(columns=list(VIEW_COLUMNS.values()))
    t = table.copy()
    t["_order"] = t["action"].map({"decrease": 3, "increase": 3, "measure": 2}).fillna(0) + t["arm64_candidate"]
    t["_value"] = t["monthly_savings_usd"].where(t["action"] != "measure", t["measure_value_usd"])
    t = t.sort_values(["_order", "_value", "other_arch_savings_usd"], ascending=False).reset_index(drop=True)
    changes = t["action"].isin(["decrease", "increase"])
    out = pd.DataFrame({
        "function": t["function_name"], "account": t["account_id"], "arch": t["arch"],
        "memory (MB)": t["memory_mb"].map("{:,.0f}".format),
        "invocations/month": t["invocations_per_month"].map("{:,.0f}".format),
        "mean duration (ms)": t["duration_mean_ms"].map("{:,.1f}".format),
        "max memory used p99 (MB)": t["max_memory_used_p99_mb"].map(lambda v: "" if v != v else f"{v:,.0f}"),
        "today ($/month)": t["current_monthly_usd"].map(_usd),
        "finding": t["finding"].fillna("") + np.where(t["arm64_candidate"], " arm64-candidate", ""),
        "probability": t["probability"].map(lambda v: "" if v != v else f"{v:.0%}"),
        "saves ($/month: mean, at least, at most)": [
            f"{_usd(v)} (≥ {_usd(lo)}, ≤ {_usd(hi)})" if ch else "" for v, lo, hi, ch in
            zip(t["monthly_savings_usd"], t["monthly_savings_low_usd"], t["monthly_savings_high_usd"], changes, strict=True)],
        "other arch at today's size": [f"{a}: saves {_usd(v)} (meets the policy: {p:.0%})" for a, v, p in
                                       zip(t["other_arch"], t["other_arch_savings_usd"], t["other_arch_probability"],
                                           strict=True)],
        "decision": t["title"],
    })
    out["finding"] = out["finding"].str.strip()
    return out


MEASURE_COLUMNS = ("function", "account", "memory (MB)", "today ($/month)", "a change could save ($/month: at least, at most)",
                   "expected ($/month)", "measuring costs", "command")


def measure_view(table: pd.DataFrame) -> pd.DataFrame:
    """The functions to measure before changing, most valuable first: what a measurement would lead to saves at
    least / at most (each with the decision's probability), what it is worth in expectation, the tuning command and
    what that measurement costs."""
    t = table[table["action"] == "measure"] if len(table) else table
    if t.empty:
        return pd.DataFrame(columns=list(MEASURE_COLUMNS))
    t = t.sort_values("measure_value_usd", ascending=False).reset_index(drop=True)
    return pd.DataFrame({
        "function": t["function_name"], "account": t["account_id"], "memory (MB)": t["memory_mb"].map("{:,.0f}".format),
        "today ($/month)": t["current_monthly_usd"].map(_usd),
        "a change could save ($/month: at least, at most)": [f"{_usd(lo)} to {_usd(hi)}" for lo, hi in
                                               zip(t["measure_saving_low_usd"], t["measure_saving_high_usd"], strict=True)],
        "expected ($/month)": t["measure_value_usd"].map(_usd),
        "measuring costs": t["measure_cost_usd"].map(lambda v: f"${v:,.4f}" if v >= 0.0001 else "< $0.0001"),
        "command": t["measure_command"]}, columns=list(MEASURE_COLUMNS))


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


@renamed(function_name="name")
def pick_function(table: pd.DataFrame, function_name: str = "") -> str:
    """``function_name`` if given (checked against the table), else the function with the largest finding savings."""
    if function_name:
        if function_name not in set(table["function_name"]):
            raise KeyError(f"function {function_name!r} has no memory recommendation (known: "
                           f"{', '.join(sorted(table['function_name'])[:10])}, ...)")
        return function_name
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
        (f"{a.arch} at {a.memory_mb:,.0f} MB", f"{a.duration_ms:,.1f} ms, ${a.monthly_usd:,.2f}/month, "
         + (f"saves {_usd(a.saving_usd)}" if a.saving_usd >= 0 else f"costs {_usd(-a.saving_usd)} more")
         + f" (saving at least {_usd(a.saving_band[0])}, at most {_usd(a.saving_band[1])}, each with "
         f"{d.policy.confidence:.0%} probability); meets the policy with probability {a.probability:.0%}"),
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


def pick(decision, arch: str | None = None) -> dict[str, Any]:
    """The point a :class:`Decision` picks on ``arch`` (default: the function's own), for a chart or a table:
    ``memory_mb``, ``duration_ms``, ``monthly_cost``, ``saving_usd`` and its band (the decision's bounds),
    ``probability`` of meeting the policy, ``rule`` (the test and its probability, in words), ``outcome`` and
    ``text`` (the finding's title, or why there is none). The explorer and the review read the same object."""
    d, f = decision, decision.function
    own = str(f["arch"])
    arch = arch or own
    p = d.policy
    if arch != own:
        o = d.other_arch
        chosen = d.arm64 is not None and arch == "arm64"
        text = d.arm64_title() if chosen else (
            f"{arch} at today's {o.memory_mb:,.0f} MB: probability {o.probability:.0%} (below {p.confidence:.0%}), "
            "no finding" if own == "x86_64" else f"{arch} at today's {o.memory_mb:,.0f} MB: never a finding "
            "(only x86_64 functions are arm64 candidates)")
        return {"memory_mb": o.memory_mb, "duration_ms": o.duration_ms, "monthly_cost": o.monthly_usd,
                "saving_usd": o.saving_usd, "saving_band": o.saving_band, "probability": o.probability,
                "rule": f"{arch} at today's size {p.rule('arm64')}", "outcome": "switch" if chosen else "keep",
                "text": text}
    if d.action in ("decrease", "increase"):
        o = d.option
        return {"memory_mb": o.memory_mb, "duration_ms": o.duration_ms, "monthly_cost": o.monthly_usd,
                "saving_usd": o.saving_usd, "saving_band": o.saving_band, "probability": o.probability,
                "rule": p.rule(d.action), "outcome": d.action, "text": d.title()}
    return {"memory_mb": float(f["memory_mb"]), "duration_ms": d.current_duration_ms,
            "monthly_cost": d.current_monthly_usd, "saving_usd": 0.0, "saving_band": (0.0, 0.0),
            "probability": float("nan"), "rule": p.rule(), "outcome": d.action, "text": d.title()}


@renamed(function_name="function")
@dataclass
class MemoryPick:
    """What ``explorers.MemoryExplorer`` shows: the picked point, the rule behind it and the objects it came from."""

    function_name: str
    mode: str
    arch: str
    memory_mb: float
    duration_ms: float
    monthly_cost: float
    monthly_savings: float | None
    savings_band: tuple[float, float] | None
    probability: float
    rule: str
    text: str
    decision: Any
    recommendation: Any
    current_memory_mb: float
    observed: pd.DataFrame | None = None

    @property
    def curve(self) -> pd.DataFrame:
        return self.recommendation.curve
