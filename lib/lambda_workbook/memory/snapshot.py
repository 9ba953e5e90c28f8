"""A snapshot function's memory: its observations, fitted model and recommendations (reads a Snapshot, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import prices as _prices
from ..analysis import per_snapshot
from ..renamed import renamed
from .decision import Decision, Policy, decide
from .model import DEFAULT_CV, DEFAULT_HEADROOM, DurationModel, fit
from .recommend import Recommendation, recommend


@renamed(function_name="name")
def function_observations(snapshot, function_name: str, *, account_id: str | None = None,
                          region: str | None = None, _index=None, _fn=None) -> dict[str, Any]:
    """What a snapshot says about one function's duration and memory: the inputs of :func:`fit`.

    REPORT aggregates at the configured size (mean warm duration with timed-out invocations taken out,
    p50/p99, Max Memory Used p99, cold-start share and mean INIT), the invocation rate, the CPU share from
    Lambda Insights / X-Ray when present, and raw REPORT lines at any *other* size the function ran at in the
    window (a memory change), which become extra observations.
    """
    from .. import costs as _costs
    from ..engine import ByFunction

    fn = _fn if _fn is not None else snapshot.function(function_name, account_id=account_id, region=region)
    key = dict(account_id=fn["account_id"], region=fn["region"])
    index = _index or ByFunction(snapshot)   # the tables split by function once (recommend_all shares one)
    fast = hasattr(index, "first")   # recommend_all's index: rows as mappings, the month factor computed once
    if fast:
        r = index.first("reports", fn)
    else:
        rep = index.rows("reports", fn)
        r = rep.iloc[0] if len(rep) else None
    factor = index.month_factor() if fast else _costs.month_factor(snapshot)
    out: dict[str, Any] = {"function_name": function_name, **key, "runtime": fn["runtime"] or None,
                           "arch": fn["arch"], "memory_mb": float(fn["memory_mb"]),
                           "timeout_s": float(fn["timeout_s"]), "cpu_fraction": None, "evidence": [],
                           "provisioned_concurrency": float(np.nan_to_num(fn.get("provisioned_concurrency", 0.0)))}
    if r is not None and r["invocations"] > 0:
        n = float(r["invocations"])
        timeouts = float(r.get("timeouts", 0.0) or 0.0)
        mean = float(r["duration_mean_ms"]) if pd.notna(r.get("duration_mean_ms")) else float(r["duration_p50_ms"])
        if 0 < timeouts < n:
            mean = (mean * n - timeouts * out["timeout_s"] * 1000.0) / (n - timeouts)
            out["evidence"].append(f"{timeouts:.0f} timed-out invocations left out of the mean")
        mean = max(mean, 1e-3)
        out.update(invocations=n, invocations_per_month=n * factor / max(float(r.get("sampled_fraction", 1.0) or 1.0), 1e-9),
                   duration_mean_ms=mean, duration_p50_ms=float(r["duration_p50_ms"]),
                   duration_p99_ms=float(r["duration_p99_ms"]),
                   max_memory_used_p99_mb=float(r["max_memory_used_p99_mb"]),
                   cold_start_share=float(r["cold_starts"]) / n if n else 0.0,
                   init_mean_ms=float(r["init_mean_ms"]) if pd.notna(r.get("init_mean_ms")) else
                   float(r["init_p50_ms"]) if pd.notna(r.get("init_p50_ms")) else 0.0,
                   source=f"REPORT lines ({r['path']})")
        p50, p99 = out["duration_p50_ms"], out["duration_p99_ms"]
        sigma = math.log(p99 / p50) / 2.326 if p50 > 0 and p99 > p50 else 0.0
        out["cv"] = float(math.sqrt(math.expm1(sigma ** 2))) if sigma else DEFAULT_CV
    else:
        c = _costs.function_costs(snapshot)   # memoised per snapshot: one row per function, each on its own
        if hasattr(index, "cost_row"):    # recommend_all's index: a lookup, not a pass over the table
            row = index.cost_row(c, (key["account_id"], key["region"], fn["function_name"]))
        else:
            row = c[(c["function_name"] == fn["function_name"]) & (c["account_id"] == key["account_id"])
                    & (c["region"] == key["region"])].iloc[0]
        if not (row["invocations"] > 0 and pd.notna(row["duration_mean_ms"])):
            raise ValueError(f"function {function_name!r} has no invocations with a duration in this snapshot: nothing to model")
        out.update(invocations=float(row["invocations"]), invocations_per_month=float(row["invocations_per_month"]),
                   duration_mean_ms=float(row["duration_mean_ms"]), duration_p50_ms=np.nan, duration_p99_ms=np.nan,
                   max_memory_used_p99_mb=np.nan, cold_start_share=0.0, init_mean_ms=0.0, cv=DEFAULT_CV,
                   source="CloudWatch Duration average")
    if fast:
        ins = index.first("insights", fn)
    else:
        rows = index.rows("insights", fn)
        ins = rows.iloc[0] if len(rows) else None
    if ins is not None and pd.notna(ins["cpu_fraction"]) and ins["cpu_fraction"] > 0:
        out["cpu_fraction"] = float(ins["cpu_fraction"])
        out["evidence"].append(f"CPU share {out['cpu_fraction']:.2f} from {ins['evidence']}")
    calls = index.rows("calls", fn)
    out["wait_ms"] = None
    if len(calls):
        per_call = calls["mean_ms"].fillna(0.0)
        n_calls = calls["calls_per_invocation"].fillna(0.0) + calls["retries_per_invocation"].fillna(0.0)
        wait = float((per_call * n_calls).sum())
        if wait > 0:
            out["wait_ms"] = min(wait, 0.98 * out["duration_mean_ms"])
            out["evidence"].append(f"{wait:.0f} ms of downstream calls per invocation "
                                   f"({', '.join(sorted(set(calls['evidence'])))})")
    if hasattr(index, "other_sizes"):   # recommend_all's index: every REPORT line parsed once for the pass
        extra = index.other_sizes(fn, out["memory_mb"])
    else:
        extra = _other_size_samples(index.rows("report_samples", fn), out["memory_mb"])
    out["other_sizes"] = extra
    if len(extra):
        out["evidence"].append(f"REPORT lines at other sizes: {sorted(set(extra['memory_mb'].astype(int)))} MB")
    return out


def _other_size_samples(lines: pd.DataFrame, configured: float) -> pd.DataFrame:
    cols = ["memory_mb", "duration_ms", "max_memory_used_mb"]
    if lines.empty:
        return pd.DataFrame(columns=cols)
    from .. import logs

    return _other_sizes_of(logs.parse_reports(lines["message"].tolist()), configured)


def _other_sizes_of(parsed: pd.DataFrame, configured: float) -> pd.DataFrame:
    """Warm, successful reports of ``parsed`` (:func:`lambda_workbook.logs.parse_reports`) at another size."""
    cols = ["memory_mb", "duration_ms", "max_memory_used_mb"]
    if parsed.empty:
        return pd.DataFrame(columns=cols)
    warm = parsed["init_duration_ms"].isna() & ~parsed["status"].fillna("").isin(["timeout", "error"])
    other = parsed[warm & (parsed["memory_size_mb"] != configured)]
    return other.rename(columns={"memory_size_mb": "memory_mb"})[cols].reset_index(drop=True)


def fit_function(obs: dict[str, Any]) -> DurationModel:
    """:func:`fit` on a function's observations (see :func:`function_observations`)."""
    extra = obs.get("other_sizes")
    mem = [obs["memory_mb"]]
    dur = [obs["duration_mean_ms"]]
    counts = [max(obs["invocations"], 1.0)]
    used = [obs["max_memory_used_p99_mb"]]
    if extra is not None and len(extra):
        mem += extra["memory_mb"].tolist()
        dur += extra["duration_ms"].tolist()
        counts += [1.0] * len(extra)
        used += extra["max_memory_used_mb"].tolist()
    model = fit(mem, dur, arch=obs["arch"], runtime=obs["runtime"], cpu_fraction=obs["cpu_fraction"],
                counts=counts, max_memory_used_mb=used, wait_ms=obs.get("wait_ms"))
    model.cv = float(obs.get("cv", DEFAULT_CV))
    if np.isfinite(obs["max_memory_used_p99_mb"]):
        model.max_memory_used_mb = float(np.nanmax([obs["max_memory_used_p99_mb"], model.max_memory_used_mb or 0.0]))
    return model


@dataclass
class FunctionRecommendation:
    """A function's memory: its model, the decision (what the review says) and the strategy's curve (the charts)."""

    observations: dict[str, Any]
    model: DurationModel
    decision: Decision
    recommendation: Recommendation
    other_arch: Recommendation | None   # None in recommend_all's pass (its rows take the decision's figures)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def finding(self) -> str | None:
        return self.decision.finding

    @property
    def action(self) -> str:
        """'decrease', 'increase', 'measure' or 'keep' (the decision's call)."""
        return self.decision.action

    @property
    def arm64_candidate(self) -> bool:
        return self.decision.arm64_candidate

    @property
    def notes(self) -> list[str]:
        return [*self.decision.notes, *self.recommendation.notes]

    def row(self) -> dict[str, Any]:
        o, r, d = self.observations, self.recommendation, self.decision
        opt, m, a = d.option, d.measurement, d.other_arch
        changes = d.action in ("decrease", "increase")
        nan = float("nan")
        return {
            "account_id": o["account_id"], "region": o["region"], "function_name": o["function_name"],
            "runtime": o["runtime"], "arch": o["arch"], "memory_mb": o["memory_mb"],
            "invocations_per_month": o["invocations_per_month"], "duration_mean_ms": o["duration_mean_ms"],
            "max_memory_used_p99_mb": o["max_memory_used_p99_mb"], "cpu_fraction": o["cpu_fraction"],
            "sizes_measured": len(self.model.observations), "floor_mb": d.floor_mb,
            "action": d.action, "finding": d.finding, "probability": opt.probability if changes else nan,
            "recommended_memory_mb": opt.memory_mb if changes else o["memory_mb"],
            "recommended_duration_ms": opt.duration_ms if changes else d.current_duration_ms,
            "recommended_duration_low_ms": opt.duration_band[0] if changes else nan,
            "recommended_duration_high_ms": opt.duration_band[1] if changes else nan,
            "current_monthly_usd": d.current_monthly_usd,
            "recommended_monthly_usd": opt.monthly_usd if changes else d.current_monthly_usd,
            "monthly_savings_usd": opt.saving_usd if changes else 0.0,
            "monthly_savings_low_usd": opt.saving_band[0] if changes else 0.0,
            "monthly_savings_high_usd": opt.saving_band[1] if changes else 0.0,
            "measure_sizes": ",".join(str(x) for x in m.sizes) if m else "",
            "measure_command": m.command if m else "", "measure_cost_usd": m.cost_usd if m else nan,
            "measure_value_usd": m.expected_value_usd if m else nan,
            "measure_saving_low_usd": m.saving_range[0] if m else nan,
            "measure_saving_high_usd": m.saving_range[1] if m else nan,
            "policy_memory_mb": r.memory_mb, "policy_duration_ms": r.duration_ms,
            "policy_duration_low_ms": r.duration_interval[0], "policy_duration_high_ms": r.duration_interval[1],
            "policy_monthly_savings_usd": r.monthly_savings,
            "other_arch": a.arch, "other_arch_memory_mb": a.memory_mb, "other_arch_duration_ms": a.duration_ms,
            "other_arch_monthly_usd": a.monthly_usd, "other_arch_savings_usd": a.saving_usd,
            "other_arch_savings_low_usd": a.saving_band[0], "other_arch_savings_high_usd": a.saving_band[1],
            "other_arch_probability": a.probability, "arm64_candidate": d.arm64_candidate,
            "evidence": "; ".join([o["source"], *o["evidence"]]), "notes": "; ".join(self.notes),
            "title": d.title(), "evidence_text": d.evidence(), "note": d.note(), "recommendation": d.recommendation(),
            "arm64_title": d.arm64_title() if d.arm64 else "", "arm64_evidence": d.arm64_evidence() if d.arm64 else "",
            "arm64_recommendation": d.arm64_recommendation() if d.arm64 else "",
            "band_meaning": d.band_meaning() if d.action != "keep" else "",
            "arm64_band_meaning": d.band_meaning("arm64") if d.arm64 else "",
        }


def policy_from(*, cost_tolerance: float | None = 0.10, max_slowdown: float | None = 0.10,
                headroom: float = DEFAULT_HEADROOM, min_savings_share: float = 0.10, min_speedup: float = 0.25,
                confidence: float = 0.9, **extra) -> Policy:
    """The decision :class:`Policy` from :func:`recommend_for_function`'s keyword arguments."""
    known = {k: v for k, v in extra.items() if k in ("plausible", "min_measure_usd")}
    return Policy(min_savings_share=min_savings_share, max_slowdown=10.0 - 1e-9 if max_slowdown is None else max_slowdown,
                  min_speedup=min_speedup, cost_tolerance=0.0 if cost_tolerance is None else cost_tolerance,
                  confidence=confidence, headroom=headroom, **known)


@renamed(function_name="name")
def recommend_for_function(snapshot, function_name: str, *, strategy: str = "cost", cost_tolerance: float | None = 0.10,
                           max_slowdown: float | None = 0.10, latency_slo_ms: float | None = None,
                           headroom: float = DEFAULT_HEADROOM, min_savings_share: float = 0.10,
                           min_speedup: float = 0.25, confidence: float = 0.9, account_id: str | None = None,
                           region: str | None = None, plausible: float = 0.2, min_measure_usd: float = 5.0,
                           _index=None, _fn=None, _row_only: bool = False,
                           **recommend_kwargs) -> FunctionRecommendation:
    """Fit a snapshot function, decide about its memory and architecture, and draw its curve for ``strategy``.

    The decision (:mod:`.decision`) makes the finding: ``memory-overprovisioned`` when a smaller size saves at
    least ``min_savings_share`` of today's cost and is at most ``max_slowdown`` slower, with probability at least
    ``confidence``; ``memory-underprovisioned`` when a larger size is at least ``min_speedup`` faster for at most
    ``cost_tolerance`` more, with that probability; ``memory-measure`` when neither is that likely but one is
    plausible (``plausible``) and worth at least ``min_measure_usd`` a month; ``arm64-candidate`` when the switch
    at today's size meets the decrease test. The strategy's recommendation (cheapest size within
    ``cost_tolerance``, never more than ``max_slowdown`` slower unless ``latency_slo_ms`` is given) is the curve
    the notebook charts; it never overrides the decision.

    ``_row_only`` (for :func:`recommend_all`) computes what ``row()`` reads and no more: the strategy's curve
    without the other sizes' bands, and no recommendation on the other architecture (``other_arch`` is None;
    the row's ``other_arch`` figures come from the decision).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.9), got {confidence!r}")
    pol = policy_from(cost_tolerance=cost_tolerance, max_slowdown=max_slowdown, headroom=headroom,
                      min_savings_share=min_savings_share, min_speedup=min_speedup, confidence=confidence,
                      plausible=plausible, min_measure_usd=min_measure_usd)
    obs = function_observations(snapshot, function_name, account_id=account_id, region=region, _index=_index, _fn=_fn)
    model = fit_function(obs)
    slo = latency_slo_ms
    if slo is None and max_slowdown is not None:
        slo = obs["duration_mean_ms"] * (1 + max_slowdown)
    kw = dict(strategy=strategy, cost_tolerance=cost_tolerance, latency_slo_ms=slo, headroom=headroom,
              invocations_per_month=obs["invocations_per_month"], region=obs["region"], slo_confidence=confidence,
              init_ms=obs["init_mean_ms"], cold_start_share=obs["cold_start_share"],
              provisioned_concurrency=obs["provisioned_concurrency"], **recommend_kwargs)
    current = obs["memory_mb"]
    rec = recommend(model, arch=obs["arch"], current_memory_mb=current, _pick_only=_row_only, **kw)
    other = "arm64" if obs["arch"] == "x86_64" else "x86_64"
    alt = None if _row_only else recommend(model, arch=other, current_memory_mb=current, **kw)
    dec = decide_function(obs, model, pol, book=kw.get("book"), pricing=kw.get("pricing"))
    return FunctionRecommendation(obs, model, dec, rec, alt, settings=kw)


def decide_function(obs: dict[str, Any], model: DurationModel, policy: Policy, *, book=None,
                    pricing: _prices.Pricing | None = None) -> Decision:
    """The decision for a snapshot function, priced at its own traffic, INIT and provisioned concurrency."""
    cost_kw = dict(invocations_per_month=obs["invocations_per_month"], init_ms=obs["init_mean_ms"],
                   cold_start_share=obs["cold_start_share"], provisioned_concurrency=obs["provisioned_concurrency"],
                   book=_prices.resolve(obs["region"], book=book, pricing=pricing))
    draws: dict | None = {} if obs["provisioned_concurrency"] else None   # the second decision reuses the draws
    dec = decide(model, obs, policy, cost_kw, _draws=draws)
    if obs["provisioned_concurrency"]:
        # the environments' allocation grows with memory, so a provisioned-concurrency change changes this decision
        alone = decide(model, obs, policy, {**cost_kw, "provisioned_concurrency": 0.0}, _draws=draws)
        dec.notes.append(f"{obs['provisioned_concurrency']:g} provisioned environments priced all month at each size "
                         "(their allocation grows with memory and is part of these figures, so they overlap a "
                         f"provisioned-concurrency change): without them the memory decision would be '{alone.title()}'")
    return dec


@per_snapshot
def recommend_all(snapshot, *, progress: bool = False, pricing: _prices.Pricing | None = None,
                  **kwargs) -> pd.DataFrame:
    """:func:`recommend_for_function` for every function with invocations: one row each (see ``row``).

    Each function is priced by ``pricing``'s book for its region (default: the snapshot's books,
    :func:`lambda_workbook.prices.for_snapshot`; a ``book=`` keyword replaces the book of its region)."""
    from .. import costs as _costs
    from ..engine import fanout
    from .per_function import recommend_chunk

    pricing = _prices.for_snapshot(snapshot, book=kwargs.pop("book", None), pricing=pricing)
    # each function on its own (its rows, its seed): in chunks, on more than one process for a big snapshot
    if fanout.processes(snapshot, len(snapshot.functions)) > 1:
        _costs.function_costs(snapshot)   # once here: the workers receive it with the snapshot's memo
    done = fanout.map_chunks(recommend_chunk, snapshot, [fn for _, fn in snapshot.functions.iterrows()],
                             progress=progress, desc="memory", pricing=pricing, kwargs=kwargs)
    rows = [v for kind, v in done if kind == "row"]
    skipped = [v for kind, v in done if kind == "skipped"]
    out = pd.DataFrame(rows)
    out.attrs["skipped"] = skipped
    if len(out):
        out["_value"] = out["monthly_savings_usd"].where(out["action"] != "measure", out["measure_value_usd"])
        out = out.sort_values("_value", ascending=False, ignore_index=True).drop(columns="_value")
    return out
