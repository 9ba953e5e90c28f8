"""Metering and pricing: each source's meters turned into monthly quantities and priced with the price book,
plus Lambda's own charges; :func:`compare` and :func:`meters` are the tables."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from .catalog import Catalog, load_catalog
from .fill import batch_fill, expected_attempts
from .workload import MAX_BATCH, Workload

KB_PER_MB = 1024.0
KB_PER_GB = 1024.0**2
SECONDS_PER_MONTH = billing.MONTH_HOURS * 3600.0


def _ceil(x: float) -> float:
    return float(math.ceil(round(x, 9)))


def _chunks(size_kb: float, chunk_kb: float | None) -> float:
    """Billed units of a payload metered in ``chunk_kb`` increments (at least one)."""
    if not chunk_kb:
        return 1.0
    return max(1.0, _ceil(size_kb / chunk_kb))


def _assumption(source: dict, value: Any) -> float | None:
    if isinstance(value, str):
        return float(source["assumptions"][value])
    return None if value is None else float(value)


def peak_measures(w: Workload, source: dict, book: _prices.PriceBook, rate: float) -> dict[str, float]:
    """Rates a capacity rule can divide by a price item's capacity figures (peak rates)."""
    peak = rate * w.peak_to_mean
    response = w.payload_kb if w.response_kb is None else w.response_kb
    a = source.get("assumptions", {})
    rules = float(a.get("rules", 1))
    free_rules = 0.0
    for m in source["meters"]:
        free_rules = max(free_rules, float(book.item(m["item"]).get("lcu", {}).get("free_rules", 0)))
    return {
        "events_per_s": peak,
        "records_per_s": peak,
        "mb_per_s": peak * w.payload_kb / KB_PER_MB,
        "gb_per_hour": peak * 3600.0 * (w.payload_kb + response) / KB_PER_GB,
        "new_connections_per_s": peak / float(a.get("requests_per_connection", 1)),
        "rule_evaluations_per_s": peak * max(0.0, rules - free_rules),
    }


def capacity_units(item_id: str, field_name: str, dims: list[dict], measures: dict, book: _prices.PriceBook,
                    *, integral: bool, minimum: float = 0.0) -> float:
    caps = book.item(item_id).get(field_name)
    if not caps:
        raise KeyError(f"price item {item_id!r} holds no {field_name!r} figures for a capacity rule")
    need = max(measures[d["measure"]] / float(caps[d["capacity"]]) for d in dims)
    if integral:
        need = _ceil(need)
    return max(need, float(minimum))


def _partitions(w: Workload, source: dict, measures: dict, book: _prices.PriceBook) -> int:
    if w.partitions is not None:
        return w.partitions
    p = source["batching"]["partitions"]
    if p == "capacity":
        c = source["capacity"]
        return int(capacity_units(c["item"], c["field"], c["dims"], measures, book, integral=True, minimum=1))
    return int(p)


def _chunk_kb(meter: dict, book: _prices.PriceBook) -> float | None:
    if "chunk_kb" in meter:
        return float(meter["chunk_kb"])
    if meter.get("chunk") == "item":
        item = book.item(meter["item"])
        if "metering_kb" not in item:
            raise KeyError(f"price item {meter['item']!r} has no metering_kb for a chunked meter")
        return float(item["metering_kb"])
    return None


def _meter_quantity(meter: dict, source: dict, ctx: dict, book: _prices.PriceBook) -> tuple[float, bool]:
    """``(quantity in the price item's unit, known)`` of one meter for one month."""
    rule = meter["rule"]
    units = _assumption(source, meter.get("units", 1))
    if units is None:
        return 0.0, False
    chunk = _chunk_kb(meter, book)
    size = ctx["payload_kb"]
    if rule == "per_event":
        base = ctx["events"]
    elif rule == "per_attempt":
        base = ctx["events"] * ctx["attempts"]
    elif rule == "per_invocation":
        base, size = ctx["invocations"], ctx["fill"] * ctx["payload_kb"]
    elif rule == "per_call":
        per_call = float(source["batching"]["per_call"])
        calls_per_batch = max(1.0, _ceil(ctx["fill"] / per_call))
        base, size = ctx["invocations"] * calls_per_batch, ctx["fill"] * ctx["payload_kb"] / calls_per_batch
    elif rule == "per_hour":
        return ctx["hours"] * units, True
    elif rule == "per_poll":
        return ctx["partitions"] * float(meter["polls_per_s"]) * ctx["seconds"] * units, True
    elif rule == "capacity":
        if meter["dims"] == "capacity":
            c = source["capacity"]
            item_id, field_name, dims = c["item"], c["field"], c["dims"]
        else:
            item_id, field_name, dims = meter["item"], meter["field"], meter["dims"]
        n = capacity_units(item_id, field_name, dims, ctx["measures"], book, integral=bool(meter.get("integral")),
                            minimum=float(meter.get("minimum", 0)))
        return n * ctx["hours"] * units, True
    elif rule == "gb_seconds":
        item = book.item(meter["item"])
        step_ms, step_mb = float(item["rounding_ms"]), float(item["rounding_mb"])
        memory = _assumption(source, meter["memory"])
        seconds = _ceil(ctx["batch_ms"] / step_ms) * step_ms / 1000.0
        gb = _ceil(memory / step_mb) * step_mb / 1024.0
        return ctx["invocations"] * seconds * gb * units, True
    else:  # pragma: no cover - parse_catalog refuses unknown rules
        raise AssertionError(rule)
    if meter.get("to_gb"):
        kb = _chunks(size, chunk) * chunk if chunk else size
        return base * kb / KB_PER_GB * units, True
    return base * _chunks(size, chunk) * units, True


def _price_meters(meters: list[dict], w: Workload, book: _prices.PriceBook) -> list[str]:
    """Fill each meter's ``cost``: tiers and free allowances apply per price item. A meter whose price or quantity
    is unknown gets ``cost`` NaN (never 0); the items left unpriced are returned."""
    unpriced: list[str] = []
    totals: dict[str, float] = {}
    for m in meters:
        if m["known"] and m["charged"]:
            totals[m["item"]] = totals.get(m["item"], 0.0) + m["quantity"]
    free_left: dict[str, float] = {}
    item_cost: dict[str, float] = {}
    for item_id, q in totals.items():
        free_ids = {m["free_item"] for m in meters if m["item"] == item_id and m.get("free_item")}
        billable = q
        if w.free_tier:
            for fid in free_ids:
                left = free_left.setdefault(fid, book.quantity(fid))
                used = min(left, billable)
                free_left[fid] = left - used
                billable -= used
        tiers = book.tiers(item_id)
        if any(np.isnan(p) for _, p in tiers) and billable > 0:
            unpriced.append(item_id)
            item_cost[item_id] = np.nan
        elif billable > 0:
            item_cost[item_id] = float(book.cost(item_id, billable))
        else:
            item_cost[item_id] = 0.0
    for m in meters:
        if not m["known"]:
            unpriced.append(m["item"])
            m["cost"] = np.nan
        elif not m["charged"] or totals.get(m["item"], 0.0) == 0:
            m["cost"] = 0.0
        else:
            m["cost"] = item_cost[m["item"]] * m["quantity"] / totals[m["item"]]
    return sorted(set(unpriced))


def batch_cap(cat: Catalog, payload_kb: float) -> int:
    """Events of ``payload_kb`` that fit the 6 MB batch payload (at least 1, at most the largest batch)."""
    limit = float(cat.doc["lambda_limits"]["batch"]["payload_kb"])
    if payload_kb <= limit / MAX_BATCH:
        return MAX_BATCH
    return max(1, math.floor(limit / payload_kb))


def caller_and_payload(w: Workload, s: dict, limit: dict) -> tuple[list[str], list[str]]:
    """Why source ``s`` cannot carry workload ``w`` (a synchronous caller it cannot serve, a payload above its
    own or Lambda's limit) and the notes that go with it: ``(reasons, notes)``."""
    reasons, notes = [], []
    if w.sync and not s["caller_waits"]:
        reasons.append(f"sync caller cannot wait on {s['short']}")
    own = s.get("payload_limit")
    if own and w.payload_kb > own["payload_kb"]:
        reasons.append(f"payload above {own['label']}")
    by_reference = bool(s.get("payload_by_reference"))
    if not by_reference and w.payload_kb > limit["payload_kb"]:
        reasons.append(f"payload above {limit['label']}")
    extra_kb = limit.get("unverified_extra_above_kb")
    if extra_kb and not by_reference and w.payload_kb > extra_kb:
        notes.append(f"⚠ async payloads above {extra_kb} KB may bill extra Lambda requests (unverified, not modelled)")
    return reasons, notes


def evaluate(w: Workload, sid: str, cat: Catalog, book: _prices.PriceBook, producer: bool = True) -> dict:
    """One source priced for one workload: the table row plus its meters (under ``"_meters"``)."""
    s = cat.source(sid)
    seconds = SECONDS_PER_MONTH
    rate = w.events_per_month / seconds
    measures = peak_measures(w, s, book, rate)
    limit = cat.lambda_limit(sid)
    reasons, notes = caller_and_payload(w, s, limit)
    own, by_reference = s.get("payload_limit"), bool(s.get("payload_by_reference"))

    b = s.get("batching")
    if b:
        if w.batch_size > b["max_size"]:
            reasons.append(f"batch size {w.batch_size:,} above the {s['short']} maximum of {b['max_size']:,}")
        if w.batch_window_s > b["window_max_s"]:
            reasons.append(b.get("window_refused") or f"batching window above the {s['short']} maximum of "
                                                      f"{b['window_max_s']:g} s")
        above = b.get("window_needed_above")
        if above is not None and w.batch_size > above and w.batch_window_s < b["window_needed_s"]:
            reasons.append(f"batch size above {above} needs a batching window of at least {b['window_needed_s']:g} s")
        partitions = _partitions(w, s, measures, book)
        cap = batch_cap(cat, w.payload_kb)
        fill, wait_max, wait_mean = batch_fill(rate / partitions, w.batch_size, w.batch_window_s,
                                               float(b["poll_interval_s"]), cap)
        if w.batch_size > 1 and fill < 1.5 and rate > 0:
            notes.append(f"batches hold ≈{fill:.2g} events at this rate: a longer batching window fills them")
        if cap < w.batch_size:
            notes.append(f"the 6 MB batch payload cap limits batches to {cap:,} events of {w.payload_kb:g} KB")
    else:
        partitions, fill, wait_max, wait_mean = np.nan, 1.0, 0.0, 0.0

    attempts = expected_attempts(w.failure_rate, s["attempts"])
    events = float(w.events_per_month)
    invocations = events * attempts / fill
    batch_ms = w.invocation_overhead_ms + fill * w.duration_ms
    ctx = {"events": events, "attempts": attempts, "invocations": invocations, "fill": fill,
           "payload_kb": w.payload_kb, "hours": billing.MONTH_HOURS, "seconds": seconds, "measures": measures,
           "partitions": 1 if np.isnan(partitions) else partitions, "batch_ms": batch_ms}
    meters = []
    for m in s["meters"]:
        if not producer and m["role"] == "producer":
            continue
        q, known = _meter_quantity(m, s, ctx, book)
        meters.append({"source": sid, "item": m["item"], "rule": m["rule"], "role": m["role"], "quantity": q,
                       "unit": book.unit(m["item"]), "known": known, "charged": m.get("charged", True),
                       "free_item": m.get("free_item"), "note": m.get("note", "")})
    unpriced = _price_meters(meters, w, book)
    if unpriced:
        notes.append("not priced (unknown): " + ", ".join(unpriced) + "; the costs are lower bounds")

    lam = billing.breakdown(invocations, batch_ms, w.memory_mb, arch=w.arch, region=w.region,
                            free_tier=w.free_tier, book=book)
    source_cost = float(np.nansum([m["cost"] for m in meters]))     # the priced parts: a lower bound if unpriced
    producer_cost = float(np.nansum([m["cost"] for m in meters if m["role"] == "producer"]))
    concurrency = invocations / seconds * batch_ms / 1000.0
    acct = cat.doc["lambda_limits"]["account_concurrency"]
    if concurrency * w.peak_to_mean > acct["value"]:
        notes.append(f"needs ≈{concurrency * w.peak_to_mean:,.0f} concurrent executions, above the {acct['label']}")
    maxc = s.get("max_concurrency")
    if maxc and concurrency * w.peak_to_mean > maxc["value"]:
        notes.append(f"needs more than the {maxc['label']}")
    if b and b.get("parallelization_max") and concurrency * w.peak_to_mean > partitions * b["parallelization_max"]:
        notes.append(f"needs more than {b['parallelization_max']} concurrent batches per shard: add shards")
    own_kb = own["payload_kb"] if own else math.inf
    payload_limit_kb = own_kb if by_reference else min(own_kb, float(limit["payload_kb"]))
    total = source_cost + lam["total_usd"]
    return {
        "source": sid, "name": s["name"], "family": s["family"], "invocation": s["invocation"],
        "caller_waits": bool(s["caller_waits"]), "feasible": not reasons, "reason": "; ".join(reasons),
        "events": events, "attempts": attempts, "batch_fill": fill, "partitions": partitions,
        "invocations": invocations, "batch_ms": batch_ms,
        "source_cost": source_cost, "producer_cost": producer_cost,
        "lambda_request_cost": lam["request_usd"], "lambda_compute_cost": lam["compute_usd"] + lam["ephemeral_usd"],
        "lambda_cost": lam["total_usd"], "monthly_cost": total,
        "cost_per_million_events": total / events * 1e6 if events else np.nan,
        "concurrency": concurrency,
        "batch_wait_max_s": wait_max, "batch_wait_mean_s": wait_mean, "hop_latency": cat.doc["unknown_latency"],
        "ordering": s["ordering"], "retries": s["retries"], "on_failure": s["on_failure"],
        "max_attempts": np.nan if s["attempts"] is None else float(s["attempts"]),
        "payload_limit_kb": payload_limit_kb, "scaling": s["scaling"], "notes": "; ".join(notes),
        "unpriced": ", ".join(unpriced), "lower_bound": bool(unpriced), "source_keys": s["sources"],
        "_meters": meters,
    }


def _check_ids(cat: Catalog, sources) -> list[str]:
    if sources is None:
        return cat.ids
    ids = [sources] if isinstance(sources, str) else list(sources)
    for sid in ids:
        cat.source(sid)
    return ids


def _rows(w: Workload, sources, producer: bool, book, catalog, pricing=None) -> list[dict]:
    if not isinstance(w, Workload):
        raise TypeError(f"expected a triggers.Workload, got {type(w).__name__}")
    cat = catalog or load_catalog()
    book = _prices.resolve(w.region, book=book, pricing=pricing)   # a book for another region is refused
    return [evaluate(w, sid, cat, book, producer) for sid in _check_ids(cat, sources)]


def priced(w: Workload, sources, *, book: _prices.PriceBook | None = None, catalog: Catalog | None = None,
           producer: bool = True) -> list[dict]:
    """:func:`compare`'s rows as plain dicts in ``sources`` order (no table built: for callers that read a few
    values of one or two sources many times)."""
    return _rows(w, sources, producer, book, catalog)


def compare(w: Workload, *, sources=None, producer: bool = True, book: _prices.PriceBook | None = None,
            catalog: Catalog | None = None, pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """Every invocation source priced for workload ``w``: one row per source id, USD per month.

    Infeasible sources stay in the table with ``feasible=False`` and the ``reason``. ``producer=False`` leaves
    out what it costs to put the events into the source (SendMessage, Publish, PutEvents, PUT units, the S3
    PUT or DynamoDB write) for when the events exist there anyway. ``source_cost + lambda_cost = monthly_cost``.
    A row with ``lower_bound`` True left the parts named in ``unpriced`` out (their price or quantity is unknown):
    its costs are lower bounds, never totals. Prices: ``book``, else ``pricing``'s book for ``w.region``, else
    the bundled book of ``w.region`` (:func:`lambda_workbook.prices.resolve`).
    """
    rows = _rows(w, sources, producer, book, catalog, pricing)
    for r in rows:
        r.pop("_meters")
    return pd.DataFrame(rows).set_index("source")


def meters(w: Workload, *, sources=None, producer: bool = True, book: _prices.PriceBook | None = None,
           catalog: Catalog | None = None, pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """The metered quantities behind :func:`compare`'s ``source_cost``: one row per source and meter."""
    rows = [m for r in _rows(w, sources, producer, book, catalog, pricing) for m in r["_meters"]]
    cols = ["source", "item", "rule", "role", "quantity", "unit", "cost", "known", "charged", "free_item", "note"]
    return pd.DataFrame(rows, columns=cols)
