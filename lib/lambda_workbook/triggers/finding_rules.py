"""Invocation-source findings for the review: REST API to HTTP API, batch size and window, and synchronous
APIs that wait on work whose result they do not use."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from .. import findings as _findings
from .. import prices as _prices
from .. import unpriced as _unpriced
from ..analysis import per_snapshot
from ..schema import KEY, Snapshot
from .batch_settings import best_batch
from .catalog import Catalog, load_catalog
from .observations import SOURCE_SERVICE, observed, row_workload
from .pricing import compare, priced
from .workload import Workload, check_number

SECTION = "invocation source"
_ROUTE = re.compile(r"\b(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|ANY)\s+/\S*|\s/[\w{}./-]*")


def _daily_factors(snapshot: Snapshot) -> pd.DataFrame:
    """Per function: 10th and 90th percentile daily invocations over the mean day (traffic spread)."""
    from .. import engine

    start, end = pd.Timestamp(snapshot.manifest["start"]), pd.Timestamp(snapshot.manifest["end"])
    first, last = start.ceil("D"), end.floor("D")
    days = pd.date_range(first, last, freq="D", inclusive="left")
    if len(days) < 2:
        return pd.DataFrame(columns=["low", "high"])
    d = engine.daily_counts(snapshot)   # whole UTC days: the window's partial first and last days left out
    d = d[(d["metric"] == "Invocations") & (d["day"] >= first) & (d["day"] < last)]
    if d.empty:
        return pd.DataFrame(columns=["low", "high"])
    per_day = d.pivot_table(index=KEY, columns="day", values="value", aggfunc="sum").reindex(
        columns=days, fill_value=0.0).fillna(0.0)
    values = per_day.to_numpy()
    mean = values.mean(axis=1)
    keep = mean > 0
    low = np.percentile(values[keep], 10, axis=1) / mean[keep]
    high = np.percentile(values[keep], 90, axis=1) / mean[keep]
    return pd.DataFrame({"low": low, "high": high}, index=per_day.index[keep])


FINDING_COLUMNS = ["id", "severity", "section", "account_id", "region", "function_name", "title", "evidence",
                   "monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "recommendation", "saves_from"]


def severity(monthly_usd: float, thresholds: dict[str, Any] | None = None) -> str:
    """high from ``high_usd`` a month (default $100), medium from ``medium_usd`` ($10), low otherwise."""
    p = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    return _findings.Severity(p["medium_usd"], p["high_usd"])(monthly_usd)


def rest_only_features(detail: str, catalog: Catalog | None = None) -> list[str]:
    """REST-API-only features a trigger's detail text mentions. Within each clause (split at punctuation and
    "and"), words after "no", "without", "not", "none" or "never" are negated.

    ``"REST API catalog: no keys, no caching, no WAF"`` → ``[]``; ``"usage plan gold, cache 0.5 GB"`` → API keys
    and usage plans, response caching; ``"private endpoint without WAF"`` → private endpoints. Route paths
    (``"GET /keys/{id}"``) are ignored.
    """
    cat = catalog or load_catalog()
    feats = cat.source("apigw-rest").get("exclusive_features", [])
    text = _ROUTE.sub(" ", str(detail or "")).lower()     # routes ("GET /keys/{id}") are not features
    clauses = re.split(r"[,;:.()/]|\band\b", text)
    live = [re.split(r"\b(?:no|without|not|none|never)\b", c)[0] for c in clauses]
    return [f["feature"] for f in feats if any(k in c for c in live for k in f["keywords"])]


def _band(saving_at, factors: tuple[float, float] | None) -> tuple[float, float]:
    if factors is None:
        return np.nan, np.nan
    vals = sorted(saving_at(f) for f in factors)
    return vals[0], vals[-1]


def _finding(fid: str, row: pd.Series, title: str, evidence: str, impact: float, band: tuple[float, float],
             recommendation: str, p: dict[str, Any], sev: str | None = None, saves_from: str = "") -> dict:
    return {"id": fid, "severity": sev or severity(impact, p), "section": SECTION, "saves_from": saves_from, "account_id": row["account_id"],
            "region": row["region"], "function_name": row["function_name"], "title": title, "evidence": evidence,
            "monthly_impact_usd": impact, "monthly_impact_low_usd": band[0], "monthly_impact_high_usd": band[1],
            "recommendation": recommendation}


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _count(x: float) -> str:
    return f"{x / 1e6:,.1f}M" if x >= 1e6 else f"{x:,.0f}"


def rest_to_http_finding(row, cat, book, factors, p) -> dict | None:
    feats = rest_only_features(row["detail"], cat)
    if feats:
        return None

    def saving(scale: float) -> float:
        rest, http = priced(row_workload(row, events_scale=scale), ["apigw-rest", "apigw-http"], book=book, catalog=cat)
        return float(rest["source_cost"] - http["source_cost"])

    s = saving(1.0)
    if s < p["min_saving_usd"]:
        return None
    t = compare(row_workload(row), sources=["apigw-rest", "apigw-http", "function-url"], book=book, catalog=cat)
    detail = str(row["detail"]).strip()
    evidence = (f"{_count(row['events_per_month'])} requests/month of {row['payload_kb']:g} KB on an API Gateway REST "
                f"API: {_money(t.loc['apigw-rest', 'source_cost'])}/month; as an HTTP API (512 KB metering) "
                f"{_money(t.loc['apigw-http', 'source_cost'])}/month. No REST-only feature evident in the trigger "
                f"({detail!r})" if detail else "No REST-only feature evident (the scan gave no detail)")
    evidence += f". {row['evidence']}."
    rec = ("Move the route to an HTTP API (same Lambda proxy integration; JWT or Lambda authorizers are available). "
           "First confirm the API uses none of: " + ", ".join(
               f["feature"] for f in cat.source("apigw-rest").get("exclusive_features", []))
           + f". A function URL would cost {_money(t.loc['function-url', 'source_cost'])} for the same traffic if "
           "one function serves the whole API.")
    return _finding("apigw-rest-to-http", row, f"REST API → HTTP API saves {_money(s)}/month", evidence, s,
                    _band(saving, factors), rec, p, saves_from="api-gateway")


def batch_size_finding(row, cat, book, factors, p) -> dict | None:
    s = cat.source(row["source"])
    w = row_workload(row, invocation_overhead_ms=p["invocation_overhead_ms"], sync=False)
    cur = priced(w, [row["source"]], book=book, catalog=cat)[0]
    bound = max(p["max_batch_wait_s"], float(cur["batch_wait_max_s"]))
    max_ms = row["timeout_s"] * 1000.0 * p["timeout_share"]
    try:
        best = best_batch(w, row["source"], max_wait_s=bound, max_batch_ms=max_ms, book=book, catalog=cat)
    except ValueError:
        return None
    saving = float(cur["monthly_cost"] - best["monthly_cost"])
    if saving < p["min_saving_usd"] or saving < p["min_saving_fraction"] * float(cur["monthly_cost"]):
        return None
    n, win = int(best["batch_size"]), float(best["window_s"])

    def saving_at(scale: float) -> float:
        ws = replace(w, events_per_month=w.events_per_month * scale)
        now = priced(ws, [row["source"]], book=book, catalog=cat)[0]["monthly_cost"]
        new = priced(replace(ws, batch_size=n, batch_window_s=win), [row["source"]], book=book,
                     catalog=cat)[0]["monthly_cost"]
        return float(now - new)

    title = (f"{s['short']} batch size {int(row['batch_size'])} → {n} (window {win:g} s) saves {_money(saving)}/month")
    evidence = (f"{_count(row['invocations_per_month'])} invocations/month at batch size {int(row['batch_size'])}, "
                f"window {row['batch_window_s']:g} s ≈ {_count(row['events_per_month'])} events of "
                f"{row['payload_kb']:g} KB, {row['duration_per_event_ms']:.1f} ms each "
                f"(invocation overhead assumed {p['invocation_overhead_ms']:g} ms). Today: source "
                f"{_money(cur['source_cost'])} + Lambda {_money(cur['lambda_cost'])}/month. Cheapest setting adding at "
                f"most {bound:g} s of wait: batch {n}, window {win:g} s ≈ {best['batch_fill']:.3g} events per "
                f"invocation, {_count(best['invocations'])} invocations: source {_money(best['source_cost'])} + "
                f"Lambda {_money(best['lambda_cost'])}; events wait up to {best['batch_wait_max_s']:.2g} s. "
                + (f"Cheapest setting by its priced parts; {_unpriced.lower_bound_text(best['unpriced'])} (costs "
                   "and saving cover the priced parts only). " if best["lower_bound"] else "")
                + f"{row['evidence']}.")
    rec = (f"Set BatchSize {n} and MaximumBatchingWindowInSeconds {win:g} on the event source mapping; return "
           "partial batch failures (ReportBatchItemFailures) so one bad record does not retry the whole batch; a "
           f"full batch runs ≈{best['batch_ms'] / 1000:.2g} s against a {row['timeout_s']:g} s timeout.")
    service = SOURCE_SERVICE.get(row["source"])
    return _finding("batch-size", row, title, evidence, saving, _band(saving_at, factors), rec, p,
                    saves_from="+".join(["lambda", service] if service else ["lambda"]))


def sync_for_async_finding(row, calls, cat, book, factors, p) -> dict | None:
    if "result_used" not in calls or calls.empty:
        return None
    free = calls[~calls["result_used"].astype(bool)]
    if free.empty:
        return None
    ff_ms = float((free["calls_per_invocation"] * free["mean_ms"]).sum())
    mean_ms = float(row["duration_mean_ms"])
    if mean_ms <= 0 or ff_ms < p["min_fire_and_forget_ms"] or ff_ms / mean_ms < p["min_fire_and_forget_share"]:
        return None
    kept_ms = max(mean_ms - ff_ms, 0.0)
    handoff = [sid for sid, s in cat.sources.items() if s["invocation"] in ("async", "poll")]

    def impact(scale: float) -> tuple[float, pd.Series]:
        events = float(row["events_per_month"]) * scale
        now = billing.lambda_cost(events, mean_ms, int(row["memory_mb"]), arch=row["arch"], book=book)
        api = billing.lambda_cost(events, kept_ms, int(row["memory_mb"]), arch=row["arch"], book=book)
        worker = Workload(events_per_month=events, payload_kb=float(row["payload_kb"]), duration_ms=ff_ms,
                          memory_mb=int(p["worker_memory_mb"]), sync=False, arch=row["arch"], region=row["region"])
        t = [r for r in priced(worker, handoff, book=book, catalog=cat) if r["feasible"]]
        best = sorted(t, key=lambda r: (r["lower_bound"], r["monthly_cost"]))[0]   # fully priced hand-offs first
        return now - api - float(best["monthly_cost"]), best

    saving, best = impact(1.0)
    unknown = f" ({_unpriced.lower_bound_text(best['unpriced'])})" if best["lower_bound"] else ""
    today = billing.lambda_cost(row["events_per_month"], mean_ms, int(row["memory_mb"]), arch=row["arch"], book=book)
    what = ", ".join(f"{c.service} {c.operation} {c.resource} {c.mean_ms * c.calls_per_invocation:,.0f} ms"
                     for c in free.itertuples())
    title = f"Synchronous API waits {ff_ms / 1000:.2g} s on fire-and-forget work"
    evidence = (f"{len(free)} call(s) whose results the response does not use ({what}) take {ff_ms:,.0f} ms of the "
                f"{mean_ms:,.0f} ms mean duration ({ff_ms / mean_ms:.0%}) on a synchronous {row['source']} trigger; "
                f"{_count(row['events_per_month'])} requests/month. Lambda today {_money(today)}/month; "
                f"answering after {kept_ms:,.0f} ms and handing the rest to a {int(p['worker_memory_mb'])} MB worker "
                f"via {best['name']}: {_money(best['monthly_cost'])}/month for the hand-off and worker{unknown}.")
    cheapest = f"cheapest fully priced here: {best['name']}" if not best["lower_bound"] else (
        f"cheapest unknown: {best['name']} has parts that are not priced")
    rec = (f"Respond as soon as the work the response needs is done and hand the rest off asynchronously ({cheapest}"
           "; an SQS queue adds a dead-letter queue and batching, EventBridge adds routing). "
           f"Callers get their answer ≈{ff_ms / 1000:.2g} s sooner and the API's timeout no longer covers third-party "
           "latency; the worker waits on I/O, so it can run at low memory.")
    sev = "medium" if ff_ms >= 1000 else "low"
    return _finding("sync-for-async", row, title, evidence, saving, _band(lambda f: impact(f)[0], factors), rec, p,
                    sev, saves_from="lambda")


DEFAULT_THRESHOLDS = {
    "min_saving_usd": 1.0,              # a saving below this (USD/month) is not worth a finding
    "min_saving_fraction": 0.10,        # batch-size: saving as a share of the trigger's current cost
    "max_batch_wait_s": 1.0,            # batch-size: added wait accepted (or the current wait, if longer)
    "timeout_share": 0.5,               # batch-size: a full batch must run within this share of the timeout
    "invocation_overhead_ms": 0.0,      # per-invocation time that batching saves (not observable: 0 = conservative)
    "default_payload_kb": 1.0,          # payload when the trigger does not say
    "min_fire_and_forget_ms": 100.0,    # sync-for-async: unused-result call time per invocation
    "min_fire_and_forget_share": 0.5,   # sync-for-async: ... as a share of the mean duration
    "worker_memory_mb": 128,            # sync-for-async: memory of the asynchronous worker
    "medium_usd": 10.0,                 # severity: medium from this saving (USD/month; the review passes its own)
    "high_usd": 100.0,                  # severity: high from this saving
}


@per_snapshot
def findings(snapshot: Snapshot, *, pricing: _prices.Pricing | None = None, **thresholds: Any) -> pd.DataFrame:
    """Invocation-source findings over every function of a snapshot (thresholds: :data:`DEFAULT_THRESHOLDS`).

    * ``apigw-rest-to-http`` — a REST API trigger with no REST-only feature evident, where an HTTP API would save
      at least ``min_saving_usd`` a month;
    * ``batch-size`` — a queue or stream trigger whose cheapest batch size and window within the wait bound
      saves at least ``min_saving_usd`` and ``min_saving_fraction`` of its current cost;
    * ``sync-for-async`` — a synchronous trigger whose function spends most of its time on calls whose results
      the response does not use (the snapshot's ``calls`` table, ``result_used=False``).

    ``monthly_impact_low_usd``/``_high_usd`` price the month at the 10th and 90th percentile day of the window.
    Prices: ``pricing``'s book of each function's region (default: :func:`lambda_workbook.prices.for_snapshot`).
    Functions in regions without a book are skipped; ``attrs["skipped_regions"]`` names them.
    """
    unknown = set(thresholds) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValueError(f"unknown threshold(s) {sorted(unknown)}; known: {', '.join(DEFAULT_THRESHOLDS)}")
    p = {**DEFAULT_THRESHOLDS, **thresholds}
    for name, value in p.items():
        check_number(name, value, minimum=0, doc=" (finding threshold)")
    pricing = _prices.for_snapshot(snapshot, pricing=pricing)
    priced = set(pricing.regions)
    skipped = [r for r in snapshot.regions if r not in priced]
    if skipped:
        snapshot = snapshot.subset(snapshot.functions[~snapshot.functions["region"].isin(skipped)])
    cat = load_catalog()
    obs = observed(snapshot, invocation_overhead_ms=p["invocation_overhead_ms"],
                   default_payload_kb=p["default_payload_kb"], catalog=cat, pricing=pricing)
    factors = _daily_factors(snapshot)
    calls = {k: g for k, g in snapshot.calls.groupby(KEY)} if len(snapshot.calls) else {}
    bands = dict(zip(factors.index, map(tuple, factors.to_numpy()), strict=True))
    out = []
    for _, row in obs[obs["in_catalog"] & (obs["events_per_month"] > 0)].iterrows():
        book = pricing.book(row["region"])
        key = tuple(row[k] for k in KEY)
        band = bands.get(key)
        s = cat.source(row["source"])
        found = []
        if row["source"] == "apigw-rest":
            found.append(rest_to_http_finding(row, cat, book, band, p))
        if s.get("batching"):
            found.append(batch_size_finding(row, cat, book, band, p))
        if row["sync"] and s["caller_waits"]:
            mine = calls.get(key, snapshot.calls.iloc[:0])
            found.append(sync_for_async_finding(row, mine, cat, book, band, p))
        out += [f for f in found if f]
    df = pd.DataFrame(out, columns=FINDING_COLUMNS).sort_values("monthly_impact_usd", ascending=False,
                                                                  ignore_index=True)
    df.attrs["skipped_regions"] = skipped
    return df
