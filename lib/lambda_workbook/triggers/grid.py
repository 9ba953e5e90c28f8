"""The batching grid as arrays: one source priced for one workload at every batch size and window in one pass.

:func:`evaluate_grid` gives the columns :func:`.batch_settings.batching` shows with the numbers that
:func:`.pricing.evaluate` gives one setting at a time: the same formulas in the same order, applied to arrays
(elementwise IEEE arithmetic, so the same bits), the rounding steps through Python's ``round`` as there, and the
Poisson sums of :mod:`.fill` taken one setting at a time over one array of survival probabilities.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import billing
from .. import prices as _prices
from .catalog import Catalog
from .fill import _poisson_range, expected_attempts, poisson_sf
from .pricing import (
    KB_PER_GB,
    SECONDS_PER_MONTH,
    _assumption,
    _chunk_kb,
    _meter_quantity,
    _partitions,
    batch_cap,
    caller_and_payload,
    peak_measures,
)
from .workload import Workload

#: meter rules whose quantity depends on the batch setting (the others are priced once per workload)
_PER_SETTING = ("per_invocation", "per_call", "gb_seconds")


def _ceil_each(x: np.ndarray) -> np.ndarray:
    """``pricing._ceil`` of every element (Python's ``round`` to 9 places, then the ceiling)."""
    return np.array([float(math.ceil(round(v, 9))) for v in x.tolist()], dtype=float)


def _chunks_each(size: np.ndarray, chunk_kb: float | None) -> np.ndarray | float:
    if not chunk_kb:
        return 1.0
    return np.maximum(1.0, _ceil_each(size / chunk_kb))


def fill_grid(lam: float, sizes: np.ndarray, windows: np.ndarray, poll_interval_s: float, cap: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`.fill.batch_fill` at every ``(sizes[i], windows[i])`` for one partition rate ``lam``."""
    lam = max(float(lam), 0.0)
    poll = float(poll_interval_s)
    count = len(sizes)
    fill, wait_max, wait_mean = np.ones(count), np.full(count, poll), np.full(count, poll / 2.0)
    pieces, mus, plan = [], [], []        # survival probabilities to sum, one piece per setting that needs one
    for i, (size, window) in enumerate(zip(sizes.tolist(), windows.tolist(), strict=True)):
        n = max(1.0, min(float(size), float(cap)))
        window = float(window)
        if window > 0 and n > 1:
            mu, m = lam * window, n - 1.0
            if mu <= 0 or m <= 0:
                plan.append((i, "window", n, 0.0, None))
                continue
            lo, hi = _poisson_range(mu)
            m = int(m)
            if m <= lo:
                plan.append((i, "window", n, float(m), None))
                continue
            pieces.append(np.arange(lo, min(m, hi)))
            mus.append(mu)
            plan.append((i, "window", n, lo, len(pieces) - 1))
        elif poll > 0 and lam > 0 and n > 1:
            mu = lam * poll
            lo, hi = _poisson_range(mu)
            n_int = int(n)
            first = -(-lo // n_int)
            pieces.append(np.arange(first, hi // n_int + 1) * n_int)
            mus.append(mu)
            plan.append((i, "poll", n, first, len(pieces) - 1))
    sums: list[float] = []
    if pieces:
        lengths = [len(p) for p in pieces]
        sf = poisson_sf(np.concatenate(pieces), np.repeat(np.asarray(mus, dtype=float), lengths))
        ends = np.cumsum(lengths).tolist()
        sums = [float(sf[end - length:end].sum()) for end, length in zip(ends, lengths, strict=True)]
    for i, kind, n, base, piece in plan:
        if kind == "window":
            window = float(windows[i])
            capped = base if piece is None else base + sums[piece]
            f = min(n, 1.0 + capped)
            first_waits = (f - 1.0) / lam if lam > 0 else window
            gather_mean = first_waits * (1.0 + f) / (2.0 * f)
            fill[i], wait_max[i], wait_mean[i] = f, poll + window, poll / 2.0 + gather_mean
        else:
            mu = lam * poll
            batches = base + sums[piece]
            fill[i] = max(1.0, min(n, mu / batches if batches > 0 else 1.0))
    return fill, wait_max, wait_mean


def _lambda_total(invocations: np.ndarray, batch_ms: np.ndarray, w: Workload, book: _prices.PriceBook) -> np.ndarray:
    """``billing.breakdown(invocations, batch_ms, w.memory_mb, ...)["total_usd"]`` at every setting (no INIT,
    no account usage before, the default ephemeral storage)."""
    billing.check_arch(w.arch)
    memory = billing.check_memory(w.memory_mb)
    if np.any(invocations < 0) or np.any(np.isnan(invocations)):
        raise ValueError(f"invocations must be >= 0, got {invocations!r}")
    warm_ms = billing.billed_ms(batch_ms)
    cold = invocations
    total_ms = (invocations - cold) * warm_ms + cold * warm_ms
    gb = memory / 1024.0
    gb_s = total_ms / 1000.0 * gb
    requests = invocations
    free_requests = free_gb_s = 0.0
    if w.free_tier:
        free_requests = np.minimum(requests, book.quantity("lambda.free_tier.requests"))
        free_gb_s = np.minimum(gb_s, book.quantity("lambda.free_tier.gb_seconds"))
    request_cost = (requests - free_requests) * book.price(f"lambda.request.{w.arch}")
    compute_cost = book.cost(f"lambda.duration.{w.arch}", gb_s - free_gb_s, already=0.0)
    extra_storage_gb = max(float(billing.EPHEMERAL_FREE_MB) - billing.EPHEMERAL_FREE_MB, 0.0) / 1024.0
    storage_cost = total_ms / 1000.0 * extra_storage_gb * book.price(f"lambda.ephemeral_storage.{w.arch}")
    return request_cost + compute_cost + storage_cost


def _meter_quantities(meter: dict, source: dict, ctx: dict, book: _prices.PriceBook) -> tuple[Any, bool]:
    """``pricing._meter_quantity`` with the per-setting parts of ``ctx`` as arrays."""
    rule = meter["rule"]
    if rule not in _PER_SETTING:
        return _meter_quantity(meter, source, ctx, book)
    units = _assumption(source, meter.get("units", 1))
    if units is None:
        return 0.0, False
    chunk = _chunk_kb(meter, book)
    if rule == "gb_seconds":
        item = book.item(meter["item"])
        step_ms, step_mb = float(item["rounding_ms"]), float(item["rounding_mb"])
        memory = _assumption(source, meter["memory"])
        seconds = _ceil_each(ctx["batch_ms"] / step_ms) * step_ms / 1000.0
        gb = float(math.ceil(round(memory / step_mb, 9))) * step_mb / 1024.0
        return ctx["invocations"] * seconds * gb * units, True
    if rule == "per_invocation":
        base, size = ctx["invocations"], ctx["fill"] * ctx["payload_kb"]
    else:  # per_call
        per_call = float(source["batching"]["per_call"])
        calls_per_batch = np.maximum(1.0, _ceil_each(ctx["fill"] / per_call))
        base, size = ctx["invocations"] * calls_per_batch, ctx["fill"] * ctx["payload_kb"] / calls_per_batch
    if meter.get("to_gb"):
        kb = _chunks_each(size, chunk) * chunk if chunk else size
        return base * kb / KB_PER_GB * units, True
    return base * _chunks_each(size, chunk) * units, True


def _price_grid(meters: list[dict], w: Workload, book: _prices.PriceBook, count: int
                ) -> tuple[np.ndarray, list[list[str]]]:
    """``pricing._price_meters`` at every setting: the source cost (priced parts) and the unpriced items."""
    unpriced: list[list[str]] = [[] for _ in range(count)]
    totals: dict[str, Any] = {}
    for m in meters:
        if m["known"] and m["charged"]:
            totals[m["item"]] = totals.get(m["item"], 0.0) + m["quantity"]
    free_left: dict[str, Any] = {}
    item_cost: dict[str, np.ndarray] = {}
    for item_id, q in totals.items():
        free_ids = {m["free_item"] for m in meters if m["item"] == item_id and m.get("free_item")}
        billable = np.broadcast_to(np.asarray(q, dtype=float), (count,))
        if w.free_tier:
            for fid in free_ids:
                left = free_left.setdefault(fid, book.quantity(fid))
                used = np.minimum(left, billable)
                free_left[fid] = left - used
                billable = billable - used
        positive = billable > 0
        if any(np.isnan(p) for _, p in book.tiers(item_id)):
            for i in np.flatnonzero(positive).tolist():
                unpriced[i].append(item_id)
            item_cost[item_id] = np.where(positive, np.nan, 0.0)
        else:
            item_cost[item_id] = np.where(positive, book.cost(item_id, np.where(positive, billable, 0.0)), 0.0)
    costs = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in meters:
            if not m["known"]:
                for names in unpriced:
                    names.append(m["item"])
                costs.append(np.full(count, np.nan))
                continue
            total = np.broadcast_to(np.asarray(totals.get(m["item"], 0.0), dtype=float), (count,))
            if not m["charged"]:
                costs.append(np.zeros(count))
            else:
                share = item_cost[m["item"]] * m["quantity"] / total
                costs.append(np.where(total == 0, 0.0, share))
    source_cost = np.nansum(np.ascontiguousarray(np.array(costs).T), axis=1) if costs else np.zeros(count)
    return source_cost, [sorted(set(names)) if names else names for names in unpriced]


def evaluate_grid(w: Workload, sid: str, sizes, windows, cat: Catalog, book: _prices.PriceBook,
                  producer: bool = True) -> dict[str, Any]:
    """Source ``sid`` priced for ``w`` at every ``(sizes[i], windows[i])``: the columns of
    :func:`.batch_settings.batching` (``feasible``, ``reason``, ``batch_fill``, ``invocations``, ``batch_ms``,
    ``source_cost``, ``lambda_cost``, ``monthly_cost``, ``batch_wait_max_s``, ``batch_wait_mean_s``,
    ``concurrency``, ``notes``, ``unpriced``, ``lower_bound``) as arrays and lists, equal to
    :func:`.pricing.evaluate` of ``replace(w, batch_size=sizes[i], batch_window_s=windows[i])``."""
    s = cat.source(sid)
    b = s.get("batching")
    if not b:
        raise ValueError(f"{sid!r} does not batch; sources that do: {', '.join(cat.batching_ids())}")
    sizes = np.asarray(sizes, dtype=np.int64)
    windows = np.asarray(windows, dtype=float)
    count = len(sizes)
    seconds = SECONDS_PER_MONTH
    rate = w.events_per_month / seconds
    measures = peak_measures(w, s, book, rate)
    limit = cat.lambda_limit(sid)
    reasons, notes = caller_and_payload(w, s, limit)

    partitions = _partitions(w, s, measures, book)
    cap = batch_cap(cat, w.payload_kb)
    fill, wait_max, wait_mean = fill_grid(rate / partitions, sizes, windows, float(b["poll_interval_s"]), cap)
    attempts = expected_attempts(w.failure_rate, s["attempts"])
    events = float(w.events_per_month)
    invocations = events * attempts / fill
    batch_ms = w.invocation_overhead_ms + fill * w.duration_ms
    ctx = {"events": events, "attempts": attempts, "invocations": invocations, "fill": fill,
           "payload_kb": w.payload_kb, "hours": billing.MONTH_HOURS, "seconds": seconds, "measures": measures,
           "partitions": partitions, "batch_ms": batch_ms}
    meters = []
    for m in s["meters"]:
        if not producer and m["role"] == "producer":
            continue
        q, known = _meter_quantities(m, s, ctx, book)
        meters.append({"item": m["item"], "role": m["role"], "quantity": q, "known": known,
                       "charged": m.get("charged", True), "free_item": m.get("free_item")})
    source_cost, unpriced = _price_grid(meters, w, book, count)
    lambda_cost = _lambda_total(invocations, batch_ms, w, book)
    concurrency = invocations / seconds * batch_ms / 1000.0
    acct = cat.doc["lambda_limits"]["account_concurrency"]
    maxc = s.get("max_concurrency")
    above = b.get("window_needed_above")
    out_reasons, out_notes = [], []
    for i, (n, win) in enumerate(zip(sizes.tolist(), windows.tolist(), strict=True)):
        why, said = list(reasons), list(notes)
        if n > b["max_size"]:
            why.append(f"batch size {n:,} above the {s['short']} maximum of {b['max_size']:,}")
        if win > b["window_max_s"]:
            why.append(b.get("window_refused") or f"batching window above the {s['short']} maximum of "
                                                  f"{b['window_max_s']:g} s")
        if above is not None and n > above and win < b["window_needed_s"]:
            why.append(f"batch size above {above} needs a batching window of at least {b['window_needed_s']:g} s")
        f = float(fill[i])
        if n > 1 and f < 1.5 and rate > 0:
            said.append(f"batches hold ≈{f:.2g} events at this rate: a longer batching window fills them")
        if cap < n:
            said.append(f"the 6 MB batch payload cap limits batches to {cap:,} events of {w.payload_kb:g} KB")
        if unpriced[i]:
            said.append("not priced (unknown): " + ", ".join(unpriced[i]) + "; the costs are lower bounds")
        peak = float(concurrency[i]) * w.peak_to_mean
        if peak > acct["value"]:
            said.append(f"needs ≈{peak:,.0f} concurrent executions, above the {acct['label']}")
        if maxc and peak > maxc["value"]:
            said.append(f"needs more than the {maxc['label']}")
        if b.get("parallelization_max") and peak > partitions * b["parallelization_max"]:
            said.append(f"needs more than {b['parallelization_max']} concurrent batches per shard: add shards")
        out_reasons.append("; ".join(why))
        out_notes.append("; ".join(said))
    return {
        "feasible": [not r for r in out_reasons], "reason": out_reasons, "batch_fill": fill,
        "invocations": invocations, "batch_ms": batch_ms, "source_cost": source_cost, "lambda_cost": lambda_cost,
        "monthly_cost": source_cost + lambda_cost, "batch_wait_max_s": wait_max, "batch_wait_mean_s": wait_mean,
        "concurrency": concurrency, "notes": out_notes, "unpriced": [", ".join(u) for u in unpriced],
        "lower_bound": [bool(u) for u in unpriced],
    }
