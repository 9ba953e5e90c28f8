"""A snapshot's functions as workloads: what invokes each one, the events behind its invocations, and what its
trigger costs on the source's own bill."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .. import costs
from .. import prices as _prices
from ..renamed import renamed
from ..schema import KEY, Snapshot
from .catalog import Catalog, load_catalog
from .fill import batch_fill, rate_from_invocations
from .pricing import SECONDS_PER_MONTH, batch_cap, capacity_units, compare, peak_measures, priced
from .workload import MEMORY_RANGE_MB, Workload

_SHARDS = re.compile(r"(\d+)\s+shards?\b", re.IGNORECASE)


def observed(snapshot: Snapshot, *, invocation_overhead_ms: float = 0.0, default_payload_kb: float = 1.0,
             catalog: Catalog | None = None, book: _prices.PriceBook | None = None,
             pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """One row per enabled trigger of each function: what invokes it, and the events behind its invocations.

    Invocations and mean duration per month come from :func:`lambda_workbook.costs.function_costs`; a function
    with several triggers has its invocations split evenly between them (no per-source counts exist). For
    batched triggers the events per month are the invocations times the batch fill the model predicts at the
    configured batch size and window (see :mod:`lambda_workbook.triggers`); per-event work is
    ``(mean duration - invocation_overhead_ms) / fill``. Payload comes from the trigger row (``payload_kb``),
    else ``default_payload_kb`` (and the row says so). Prices: ``pricing``'s book of each trigger's region
    (default: :func:`lambda_workbook.prices.for_snapshot`; ``book`` replaces the book of its region).
    """
    cat = catalog or load_catalog()
    pricing = _prices.for_snapshot(snapshot, book=book, pricing=pricing)
    cols = KEY + ["source", "in_catalog", "sync", "detail", "memory_mb", "arch", "timeout_s", "invocations_per_month",
                  "duration_mean_ms", "batch_size", "batch_window_s", "partitions", "batch_fill", "events_per_month",
                  "payload_kb", "duration_per_event_ms", "evidence"]
    if snapshot.functions.empty:
        return pd.DataFrame(columns=cols)
    fc = costs.function_costs(snapshot, pricing=pricing).set_index(KEY)
    by_key = dict(zip(fc.index, fc.to_dict("records"), strict=True))   # one function's costs by its key
    t = snapshot.triggers
    t = t[t["enabled"]]
    share = t.groupby(KEY)["source_type"].transform("count")
    rows = []
    for (_, trig), n_triggers in zip(t.iterrows(), share, strict=True):
        key = tuple(trig[k] for k in KEY)
        f = by_key.get(key)
        if f is None:
            continue
        sid = trig["source_type"]
        s = cat.sources.get(sid)
        inv = float(f["invocations_per_month"]) / n_triggers
        mean_ms = float(f["duration_mean_ms"]) if pd.notna(f["duration_mean_ms"]) else 0.0
        payload = float(trig["payload_kb"]) if pd.notna(trig["payload_kb"]) else float(default_payload_kb)
        evidence = [f"{inv:,.0f} invocations/month ({f['path']})"]
        if n_triggers > 1:
            evidence.append(f"split evenly over {n_triggers} triggers")
        evidence.append(f"payload {payload:g} KB" + ("" if pd.notna(trig["payload_kb"]) else " (assumed: unknown)"))
        batch, window, partitions, fill = 1, 0.0, None, 1.0
        if s and s.get("batching"):
            b = s["batching"]
            batch = int(trig["batch_size"]) if pd.notna(trig["batch_size"]) else int(b["default_size"])
            window = float(trig["batch_window_s"]) if pd.notna(trig["batch_window_s"]) else 0.0
            pf = int(trig["parallelization"]) if pd.notna(trig["parallelization"]) else 1
            shards = _SHARDS.search(str(trig["detail"]))
            cap = batch_cap(cat, payload)
            inv_rate = inv / SECONDS_PER_MONTH
            if shards:
                partitions = int(shards.group(1)) * pf
            elif b["partitions"] != "capacity":
                partitions = int(b["partitions"]) * pf
            poll = float(b["poll_interval_s"])
            if partitions is None:  # shards sized by the traffic itself: settle the circular estimate
                rbook = pricing.book(trig["region"])
                c = s["capacity"]
                partitions = pf
                for _ in range(4):
                    lam = rate_from_invocations(inv_rate / partitions, batch, window, poll, cap) * partitions
                    probe = Workload(events_per_month=lam * SECONDS_PER_MONTH, payload_kb=payload,
                                     region=trig["region"])
                    shards = capacity_units(c["item"], c["field"], c["dims"], peak_measures(probe, s, rbook, lam), rbook,
                                             integral=True, minimum=1)
                    partitions = pf * int(shards)
            lam = rate_from_invocations(inv_rate / partitions, batch, window, poll, cap)
            fill = batch_fill(lam, batch, window, poll, cap)[0] if inv_rate > 0 else 1.0
            evidence.append(f"batch size {batch}, window {window:g} s, {partitions} partition(s) → ≈{fill:.3g} "
                            "events per invocation (modelled)")
        events = inv * fill
        per_event = max(mean_ms - invocation_overhead_ms, 0.0) / fill
        rows.append({
            **dict(zip(KEY, key, strict=True)), "source": sid, "in_catalog": s is not None, "sync": bool(trig["sync"]),
            "detail": trig["detail"], "memory_mb": int(f["memory_mb"]), "arch": f["arch"],
            "timeout_s": float(f["timeout_s"]), "invocations_per_month": inv, "duration_mean_ms": mean_ms,
            "batch_size": batch, "batch_window_s": window, "partitions": partitions, "batch_fill": fill,
            "events_per_month": events, "payload_kb": payload, "duration_per_event_ms": per_event,
            "evidence": "; ".join(evidence),
        })
    return pd.DataFrame(rows, columns=cols)


def row_workload(row: pd.Series, *, invocation_overhead_ms: float = 0.0, events_scale: float = 1.0, **changes) -> Workload:
    memory = min(max(int(row["memory_mb"]), MEMORY_RANGE_MB[0]), MEMORY_RANGE_MB[1])
    args = dict(events_per_month=float(row["events_per_month"]) * events_scale, payload_kb=float(row["payload_kb"]),
                duration_ms=float(row["duration_per_event_ms"]), memory_mb=memory, sync=bool(row["sync"]),
                arch=row["arch"], region=row["region"], batch_size=int(row["batch_size"]),
                batch_window_s=float(row["batch_window_s"]), invocation_overhead_ms=invocation_overhead_ms,
                partitions=None if pd.isna(row["partitions"]) else int(row["partitions"]))
    args.update(changes)
    return Workload(**args)


def _pick(obs: pd.DataFrame, snapshot: Snapshot, function_name: str, account_id, region, source) -> pd.Series:
    fn = snapshot.function(function_name, account_id=account_id, region=region)
    rows = obs[(obs["function_name"] == function_name) & (obs["account_id"] == fn["account_id"])
               & (obs["region"] == fn["region"])]
    if source is not None:
        rows = rows[rows["source"] == source]
    rows = rows[rows["in_catalog"]]
    if rows.empty:
        have = ", ".join(obs.loc[obs["function_name"] == function_name, "source"]) or "none"
        raise KeyError(f"function {function_name!r} has no trigger the catalog can price"
                       + (f" of type {source!r}" if source else "") + f" (its triggers: {have})")
    return rows.iloc[0]


@renamed(function_name="function")
def workload_for(snapshot: Snapshot, function_name: str, *, account_id: str | None = None, region: str | None = None,
                 source: str | None = None, invocation_overhead_ms: float = 0.0, default_payload_kb: float = 1.0,
                 observations: pd.DataFrame | None = None) -> Workload:
    """The workload a function's (first, or ``source``) trigger delivers, as observed in the snapshot.

    ``observations`` is a table :func:`observed` made earlier with the same settings (saves recomputing it).
    """
    obs = observations if observations is not None else observed(
        snapshot, invocation_overhead_ms=invocation_overhead_ms, default_payload_kb=default_payload_kb)
    row = _pick(obs, snapshot, function_name, account_id, region, source)
    return row_workload(row, invocation_overhead_ms=invocation_overhead_ms)


#: The bill each invocation source's charges appear on (sources without a charge of their own are left out).
SOURCE_SERVICE = {"apigw-rest": "api-gateway", "apigw-http": "api-gateway", "apigw-websocket": "api-gateway",
                  "alb": "load-balancer", "sqs": "sqs", "sqs-fifo": "sqs", "sns": "sns", "eventbridge": "eventbridge",
                  "kinesis": "kinesis", "kinesis-on-demand": "kinesis", "dynamodb-streams": "dynamodb",
                  "sfn-standard": "step-functions", "sfn-express": "step-functions", "s3": "s3"}


def source_spend(snapshot: Snapshot, *, observations: pd.DataFrame | None = None,
                 catalog: Catalog | None = None, pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """What each function's trigger costs a month on its own bill (the source's charges, Lambda's not):
    one row per function and source with ``service`` (:data:`SOURCE_SERVICE`), ``monthly_usd`` and
    ``lower_bound`` (a part of the source is not priced). Regions without a book in ``pricing`` (default:
    :func:`lambda_workbook.prices.for_snapshot`) are skipped."""
    cat = catalog or load_catalog()
    pricing = _prices.for_snapshot(snapshot, pricing=pricing)
    obs = observations if observations is not None else observed(snapshot, catalog=cat, pricing=pricing)
    with_book = set(pricing.regions)
    rows = []
    for _, row in obs[obs["in_catalog"] & (obs["events_per_month"] > 0)].iterrows():
        service = SOURCE_SERVICE.get(row["source"])
        if service is None or row["region"] not in with_book:
            continue
        t = priced(row_workload(row), [row["source"]], book=pricing.book(row["region"]), catalog=cat)[0]
        rows.append({**{k: row[k] for k in KEY}, "source": row["source"], "service": service,
                     "monthly_usd": float(t["source_cost"]), "lower_bound": bool(t["lower_bound"])})
    return pd.DataFrame(rows, columns=[*KEY, "source", "service", "monthly_usd", "lower_bound"])


def from_parameters(p: Any, snapshot: Snapshot | None = None) -> Workload:
    """The workload of the ``invocation_sources`` notebook's checked parameters: the observed traffic of
    ``p.function`` in ``snapshot`` when a function is named, else the workload fields given."""
    if p.function:
        if snapshot is None:
            raise ValueError(f"function {p.function!r} was named but no snapshot was given")
        return workload_for(snapshot, p.function, invocation_overhead_ms=p.invocation_overhead_ms)
    return Workload(events_per_month=p.events_per_month, payload_kb=p.payload_kb, duration_ms=p.duration_ms,
                    memory_mb=p.memory_mb, sync=p.sync, arch=p.arch, region=p.workload_region,
                    batch_size=p.batch_size, batch_window_s=p.batch_window_s,
                    invocation_overhead_ms=p.invocation_overhead_ms)


@renamed(function_name="function")
def alternatives(snapshot: Snapshot, function_name: str, *, account_id: str | None = None, region: str | None = None,
                 source: str | None = None, invocation_overhead_ms: float = 0.0, default_payload_kb: float = 1.0,
                 observations: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`compare` at the function's observed traffic, with its ``current`` source marked and the monthly
    ``saving`` of every alternative against it (positive = cheaper than today)."""
    obs = observations if observations is not None else observed(
        snapshot, invocation_overhead_ms=invocation_overhead_ms, default_payload_kb=default_payload_kb)
    row = _pick(obs, snapshot, function_name, account_id, region, source)
    table = compare(row_workload(row, invocation_overhead_ms=invocation_overhead_ms))
    table.insert(0, "current", table.index == row["source"])
    table.insert(1, "saving", table.loc[row["source"], "monthly_cost"] - table["monthly_cost"])
    table.attrs["function_name"] = function_name
    table.attrs["evidence"] = row["evidence"]
    return table
