"""Invocation sources: what each way of invoking a function costs, how it behaves, and what batching buys.

Pure model: data in, DataFrames out. Two data files drive it and no source has code of its own:

* the **trigger catalog** ``data/triggers/catalog.json`` holds every source's semantics (sync or async, retries,
  failure handling, ordering, payload and batch limits, scaling, polling) and its *meters*: which price-book item
  it consumes and by which generic rule (per event with payload chunks, per delivery attempt, per invocation, per
  API call of up to N messages, per hour, per poll, capacity units such as LCUs and shards, GB-seconds with
  rounding), plus the assumptions where nothing is published;
* the **price book** (:mod:`lambda_workbook.prices`) holds the prices, chunk sizes (``metering_kb``), capacity
  figures (``lcu``, ``capacity``) and rounding steps (``rounding_ms``, ``rounding_mb``).

The contract::

    w = Workload(events_per_month=10_000_000, payload_kb=2.0, duration_ms=120.0, memory_mb=512, sync=True,
                 arch="x86_64", region="us-east-1", batch_size=1, batch_window_s=0.0,
                 invocation_overhead_ms=0.0)
    compare(w)   # DataFrame indexed by source id: feasible, reason, invocations, source_cost, lambda_cost,
                 # monthly_cost (USD/month), latency / retry / ordering columns, ...

``duration_ms`` is the work per event; one invocation with a batch of ``b`` events runs
``invocation_overhead_ms + b × duration_ms``.

**Batch fill** (queues and streams). Each of a source's ``partitions`` (SQS pollers, stream shards ×
parallelization) gathers its own batches from Poisson arrivals. With a batching window a batch opens with its
first event and closes when full (the batch size, capped by the 6 MB batch payload) or when the window has
passed; without a window a polled stream (Kinesis each second, DynamoDB Streams 4 times a second) hands over
what arrived since the last poll, and SQS long polling returns at once (one event per invocation: an
assumption, since nothing is published on how many messages an idle-window poller gathers). The expectations
are exact for Poisson arrivals (see :func:`batch_fill`; ``benchmarks/bench_triggers.py`` checks them against a
simulation). Bursty traffic fills batches better than Poisson traffic, so batching savings are on the
conservative side. The worst-case added wait is the polling gap plus the window.

**Retries** (``Workload.failure_rate``): each delivery attempt fails with that probability; a source retries up to
its catalog ``attempts`` (None = until success), and every attempt is metered and invoked again.

**Unknown prices**: a meter whose price the book stores as ``null`` (Kinesis on-demand retrieval) or whose quantity
nobody can know (WebSocket connection-minutes) is *unknown*, never $0: its ``cost`` in :func:`meters` is NaN, the
row's ``unpriced`` column names it, ``lower_bound`` is True (the totals are what the priced parts cost), and
:func:`view`, :func:`results` and the findings say so. Such a row is never reported as the cheapest without the
word "unknown" (:func:`lambda_workbook.unpriced.cheapest`).

**Batching windows** are refused where the event source mapping has none (``window_max_s`` 0 in the catalog: SQS
FIFO queues), so :func:`best_batch` never recommends one there.

**Observed functions**: :func:`observed` reads a snapshot's triggers and traffic; for batched triggers the
events are the invocations times the batch fill that the same model predicts (inverted: given the invocation
rate, the window and the batch size, the event rate is unique), so that pricing the current trigger reproduces
the invocations CloudWatch counted. :func:`findings` turns the comparisons into review findings.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as _optimize
from scipy import stats as _stats

from . import billing, costs, datafiles
from . import findings as _findings
from . import prices as _prices
from . import unpriced as _unpriced
from .analysis import per_snapshot
from .schema import KEY, Snapshot

CATALOG_SCHEMA = "lambda-workbook/triggers/1"
KB_PER_MB = 1024.0
KB_PER_GB = 1024.0**2
MEMORY_RANGE_MB = billing.MEMORY_RANGE_MB
MAX_BATCH = 10_000
MAX_WINDOW_S = 300.0
DEFAULT_BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
DEFAULT_WINDOWS_S = (0, 1, 2, 5, 10, 20, 30, 60, 120, 300)
TIE_USD, TIE_SHARE = 0.01, 0.001   # batch settings this close to the cheapest count as equally cheap
RULES = ("per_event", "per_attempt", "per_invocation", "per_call", "per_hour", "per_poll", "capacity", "gb_seconds")
ROLES = ("producer", "transport", "delivery", "fixed")
SECTION = "invocation source"
SECONDS_PER_MONTH = billing.MONTH_HOURS * 3600.0


# --------------------------------------------------------------------------------------------------------
# the catalog


class CatalogError(ValueError):
    """The trigger catalog file is malformed; the message names the source and the key."""


@dataclass(frozen=True)
class Catalog:
    """The trigger catalog as loaded from ``data/triggers/catalog.json``."""

    doc: dict[str, Any]
    path: Path | None = None

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return self.doc["sources"]

    @property
    def ids(self) -> list[str]:
        return list(self.sources)

    def source(self, source_id: str) -> dict[str, Any]:
        try:
            return self.sources[source_id]
        except KeyError:
            raise KeyError(f"unknown invocation source {source_id!r}; the catalog has {', '.join(self.ids)}") from None

    def lambda_limit(self, source_id: str) -> dict[str, Any]:
        kind = self.doc["invocation_kinds"][self.source(source_id)["invocation"]]
        return self.doc["lambda_limits"][kind["lambda_limit"]]

    def batching_ids(self) -> list[str]:
        return [sid for sid, s in self.sources.items() if s.get("batching")]


_REQUIRED = ("name", "short", "family", "invocation", "caller_waits", "attempts", "ordering", "retries",
             "on_failure", "scaling", "meters", "sources")


def parse_catalog(doc: dict[str, Any], path: Path | None = None) -> Catalog:
    """Check a catalog document's shape (names the source and key at fault) and wrap it."""
    where = str(path) if path else "trigger catalog"
    if doc.get("schema") != CATALOG_SCHEMA:
        raise CatalogError(f"{where}: schema is {doc.get('schema')!r}, expected {CATALOG_SCHEMA!r}")
    for key in ("lambda_limits", "invocation_kinds", "sources", "unknown_latency"):
        if key not in doc:
            raise CatalogError(f"{where}: missing key {key!r}")
    kinds = doc["invocation_kinds"]
    for sid, s in doc["sources"].items():
        missing = [k for k in _REQUIRED if k not in s]
        if missing:
            raise CatalogError(f"{where}: source {sid!r} lacks {missing}")
        if s["invocation"] not in kinds:
            raise CatalogError(f"{where}: source {sid!r} has invocation {s['invocation']!r}; allowed: {sorted(kinds)}")
        if kinds[s["invocation"]]["lambda_limit"] not in doc["lambda_limits"]:
            raise CatalogError(f"{where}: invocation kind {s['invocation']!r} names an unknown Lambda limit")
        for i, m in enumerate(s["meters"]):
            if m.get("rule") not in RULES:
                raise CatalogError(f"{where}: source {sid!r} meter {i} has rule {m.get('rule')!r}; allowed: {RULES}")
            if m.get("role") not in ROLES:
                raise CatalogError(f"{where}: source {sid!r} meter {i} has role {m.get('role')!r}; allowed: {ROLES}")
            if "item" not in m:
                raise CatalogError(f"{where}: source {sid!r} meter {i} names no price item")
            units = m.get("units", 1)
            if isinstance(units, str) and units not in s.get("assumptions", {}):
                raise CatalogError(f"{where}: source {sid!r} meter {i} takes its units from assumption {units!r}, "
                                   "which the source does not define")
            if m["rule"] == "per_call" and not s.get("batching", {}).get("per_call"):
                raise CatalogError(f"{where}: source {sid!r} meter {i} is per_call but batching.per_call is not set")
        b = s.get("batching")
        if b:
            for key in ("default_size", "max_size", "window_max_s", "poll_interval_s", "partitions"):
                if key not in b:
                    raise CatalogError(f"{where}: source {sid!r} batching lacks {key!r}")
            if b["partitions"] == "capacity" and "capacity" not in s:
                raise CatalogError(f"{where}: source {sid!r} sizes partitions by capacity but has no 'capacity' block")
    return Catalog(doc, path)


@lru_cache(maxsize=8)
def _load_catalog(path: str) -> Catalog:
    with open(path, encoding="utf-8") as fh:
        return parse_catalog(json.load(fh), Path(path))


def catalog_path() -> Path:
    return datafiles.data_dir() / "triggers" / "catalog.json"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The bundled trigger catalog (or the one at ``path``)."""
    p = Path(path) if path else catalog_path()
    if not p.exists():
        raise FileNotFoundError(f"no trigger catalog at {p}")
    return _load_catalog(str(p))


# --------------------------------------------------------------------------------------------------------
# the workload


def _number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
            below: float | None = None, doc: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"Workload.{name} must be a number{doc}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"Workload.{name} must be finite{doc}, got {value!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"Workload.{name} must be >= {minimum:g}{doc}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ValueError(f"Workload.{name} must be <= {maximum:g}{doc}, got {value!r}")
    if below is not None and v >= below:
        raise ValueError(f"Workload.{name} must be < {below:g}{doc}, got {value!r}")
    return v


@dataclass(frozen=True)
class Workload:
    """A month of events to deliver to one function. Validated on construction (clear errors).

    The first ten fields are the public contract. The rest refine the model:
    ``response_kb`` (response size for bytes processed by an ALB; None = same as the payload),
    ``partitions`` (parallel batch gatherers: SQS pollers or stream shards × parallelization; None = the
    catalog's default or the shard count the traffic needs), ``failure_rate`` (probability that a delivery
    attempt fails and is retried), ``peak_to_mean`` (peak over mean rate, for sizing shards and LCUs),
    ``free_tier`` (apply monthly free allowances of Lambda, SQS, SNS and Step Functions; off by default because
    a per-function comparison should not claim the account's allowance).
    """

    events_per_month: float = 10_000_000
    payload_kb: float = 2.0
    duration_ms: float = 120.0
    memory_mb: int = 512
    sync: bool = True
    arch: str = "x86_64"
    region: str = "us-east-1"
    batch_size: int = 1
    batch_window_s: float = 0.0
    invocation_overhead_ms: float = 0.0
    response_kb: float | None = None
    partitions: int | None = None
    failure_rate: float = 0.0
    peak_to_mean: float = 1.0
    free_tier: bool = False

    def __post_init__(self) -> None:
        _number("events_per_month", self.events_per_month, minimum=0, doc=" (events a month)")
        _number("payload_kb", self.payload_kb, minimum=0, doc=" (KB per event)")
        _number("duration_ms", self.duration_ms, minimum=0, doc=" (ms of work per event)")
        _number("memory_mb", self.memory_mb, minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1], doc=" (MB)")
        if not isinstance(self.sync, (bool, np.bool_)):
            raise ValueError(f"Workload.sync must be True (the caller waits for the result) or False, got {self.sync!r}")
        billing.check_arch(self.arch)
        if not isinstance(self.region, str) or not _prices._REGION.match(self.region):
            raise ValueError(f"Workload.region must look like 'us-east-1', got {self.region!r}")
        n = _number("batch_size", self.batch_size, minimum=1, maximum=MAX_BATCH, doc=" (events per batch, 1-10,000)")
        if not n.is_integer():
            raise ValueError(f"Workload.batch_size must be a whole number of events, got {self.batch_size!r}")
        object.__setattr__(self, "batch_size", int(n))
        _number("batch_window_s", self.batch_window_s, minimum=0, maximum=MAX_WINDOW_S, doc=" (seconds, 0-300)")
        _number("invocation_overhead_ms", self.invocation_overhead_ms, minimum=0, doc=" (ms per invocation)")
        if self.response_kb is not None:
            _number("response_kb", self.response_kb, minimum=0, doc=" (KB per response)")
        if self.partitions is not None:
            p = _number("partitions", self.partitions, minimum=1, doc=" (parallel batch gatherers)")
            if not p.is_integer():
                raise ValueError(f"Workload.partitions must be a whole number, got {self.partitions!r}")
            object.__setattr__(self, "partitions", int(p))
        _number("failure_rate", self.failure_rate, minimum=0, below=1, doc=" (probability that an attempt fails)")
        _number("peak_to_mean", self.peak_to_mean, minimum=1, doc=" (peak rate over mean rate)")
        if not isinstance(self.free_tier, (bool, np.bool_)):
            raise ValueError(f"Workload.free_tier must be True or False, got {self.free_tier!r}")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --------------------------------------------------------------------------------------------------------
# the generic model


def expected_attempts(failure_rate: float, max_attempts: float | None) -> float:
    """Mean delivery attempts per event when each attempt fails with ``failure_rate`` (None = retry forever)."""
    p = float(failure_rate)
    if p <= 0:
        return 1.0
    if max_attempts is None:
        return 1.0 / (1.0 - p)
    return (1.0 - p ** float(max_attempts)) / (1.0 - p)


def _poisson_range(mu: float) -> tuple[int, int]:
    """Counts outside ``[lo, hi]`` have negligible probability under Poisson(mu) (12 standard deviations)."""
    spread = 12.0 * math.sqrt(mu) + 12.0
    return int(max(0.0, math.floor(mu - spread))), int(math.ceil(mu + spread))


def poisson_capped_mean(mu: float, m: float) -> float:
    """``E[min(m, X)]`` for ``X ~ Poisson(mu)``: ``sum over k < m of P(X > k)``."""
    if mu <= 0 or m <= 0:
        return 0.0
    if math.isinf(m):
        return float(mu)
    lo, hi = _poisson_range(mu)
    m = int(m)
    if m <= lo:
        return float(m)
    k = np.arange(lo, min(m, hi))
    return lo + float(_stats.poisson.sf(k, mu).sum())


def poisson_batches(mu: float, n: float) -> float:
    """``E[ceil(X / n)]`` for ``X ~ Poisson(mu)``: the batches of at most ``n`` that ``X`` events make."""
    if mu <= 0:
        return 0.0
    lo, hi = _poisson_range(mu)
    n = int(n)
    first = -(-lo // n)                      # batches j with j·n < lo are (almost) surely started
    j = np.arange(first, hi // n + 1)
    return first + float(_stats.poisson.sf(j * n, mu).sum())


def batch_fill(rate_per_partition: float, batch_size: float, window_s: float, poll_interval_s: float = 0.0,
               cap: float = math.inf) -> tuple[float, float, float]:
    """``(events per invocation, worst-case added wait s, mean added wait s)`` for one partition.

    Poisson arrivals at ``rate_per_partition`` events/s; ``n = min(batch_size, cap)``:

    * with a window ``W > 0`` a batch opens with its first event and closes when it holds ``n`` events or ``W``
      has passed: it holds ``1 + E[min(n - 1, Poisson(λW))]`` events; its first event waits ``(fill - 1) / λ``
      on average, and a batch that never fills waits the whole window (the worst case, plus the polling gap);
    * without a window, a polled stream hands over what arrived since the last poll, split into batches of at
      most ``n``: ``λP / E[ceil(Poisson(λP) / n)]`` events per invocation, waiting ``P / 2`` on average;
    * without a window or polling gap (SQS long polling) no time is spent gathering: one event per invocation.
    """
    lam = max(float(rate_per_partition), 0.0)
    n = max(1.0, min(float(batch_size), float(cap)))
    poll, window = float(poll_interval_s), float(window_s)
    if window > 0 and n > 1:
        fill = min(n, 1.0 + poisson_capped_mean(lam * window, n - 1.0))
        first_waits = (fill - 1.0) / lam if lam > 0 else window
        gather_mean = first_waits * (1.0 + fill) / (2.0 * fill)
        return fill, poll + window, poll / 2.0 + gather_mean
    if poll > 0 and lam > 0 and n > 1:
        mu = lam * poll
        batches = poisson_batches(mu, n)   # ~mu for tiny mu; 0 only when mu underflows
        return max(1.0, min(n, mu / batches if batches > 0 else 1.0)), poll, poll / 2.0
    return 1.0, poll, poll / 2.0


def rate_from_invocations(invocation_rate: float, batch_size: float, window_s: float, poll_interval_s: float = 0.0,
                          cap: float = math.inf) -> float:
    """The per-partition event rate that :func:`batch_fill` turns into ``invocation_rate`` invocations/s.

    ``λ / fill(λ)`` grows strictly with ``λ`` and ``fill`` lies in ``[1, n]``, so the root lies in ``[r, r·n]``.
    """
    r = max(float(invocation_rate), 0.0)
    n = max(1.0, min(float(batch_size), float(cap)))
    if n <= 1 or r == 0 or (window_s <= 0 and poll_interval_s <= 0):
        return r

    def gap(lam: float) -> float:
        return lam / batch_fill(lam, n, window_s, poll_interval_s)[0] - r

    lo, hi = r, r * n
    if gap(lo) >= 0:
        return lo
    if gap(hi) <= 0:
        return hi
    return float(_optimize.brentq(gap, lo, hi, xtol=1e-12 * hi, rtol=1e-12))


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


def _measures(w: Workload, source: dict, book: _prices.PriceBook, rate: float) -> dict[str, float]:
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


def _capacity_units(item_id: str, field_name: str, dims: list[dict], measures: dict, book: _prices.PriceBook,
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
        return int(_capacity_units(c["item"], c["field"], c["dims"], measures, book, integral=True, minimum=1))
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
        n = _capacity_units(item_id, field_name, dims, ctx["measures"], book, integral=bool(meter.get("integral")),
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


def _batch_cap(cat: Catalog, payload_kb: float) -> int:
    """Events of ``payload_kb`` that fit the 6 MB batch payload (at least 1, at most the largest batch)."""
    limit = float(cat.doc["lambda_limits"]["batch"]["payload_kb"])
    if payload_kb <= limit / MAX_BATCH:
        return MAX_BATCH
    return max(1, math.floor(limit / payload_kb))


def _evaluate(w: Workload, sid: str, cat: Catalog, book: _prices.PriceBook, producer: bool = True) -> dict:
    """One source priced for one workload: the table row plus its meters (under ``"_meters"``)."""
    s = cat.source(sid)
    seconds = SECONDS_PER_MONTH
    rate = w.events_per_month / seconds
    measures = _measures(w, s, book, rate)
    limit = cat.lambda_limit(sid)
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
        cap = _batch_cap(cat, w.payload_kb)
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


def _rows(w: Workload, sources, producer: bool, book, catalog) -> list[dict]:
    if not isinstance(w, Workload):
        raise TypeError(f"expected a triggers.Workload, got {type(w).__name__}")
    cat = catalog or load_catalog()
    book = book or _prices.load(w.region)
    if book.region != w.region:
        raise ValueError(f"the price book is for {book.region}, the workload for {w.region}")
    return [_evaluate(w, sid, cat, book, producer) for sid in _check_ids(cat, sources)]


def compare(w: Workload, *, sources=None, producer: bool = True, book: _prices.PriceBook | None = None,
            catalog: Catalog | None = None) -> pd.DataFrame:
    """Every invocation source priced for workload ``w``: one row per source id, USD per month.

    Infeasible sources stay in the table with ``feasible=False`` and the ``reason``. ``producer=False`` leaves
    out what it costs to put the events into the source (SendMessage, Publish, PutEvents, PUT units, the S3
    PUT or DynamoDB write) for when the events exist there anyway. ``source_cost + lambda_cost = monthly_cost``.
    A row with ``lower_bound`` True left the parts named in ``unpriced`` out (their price or quantity is unknown):
    its costs are lower bounds, never totals.
    """
    rows = _rows(w, sources, producer, book, catalog)
    for r in rows:
        r.pop("_meters")
    return pd.DataFrame(rows).set_index("source")


def meters(w: Workload, *, sources=None, producer: bool = True, book: _prices.PriceBook | None = None,
           catalog: Catalog | None = None) -> pd.DataFrame:
    """The metered quantities behind :func:`compare`'s ``source_cost``: one row per source and meter."""
    rows = [m for r in _rows(w, sources, producer, book, catalog) for m in r["_meters"]]
    cols = ["source", "item", "rule", "role", "quantity", "unit", "cost", "known", "charged", "free_item", "note"]
    return pd.DataFrame(rows, columns=cols)


def semantics(catalog: Catalog | None = None) -> pd.DataFrame:
    """The catalog's behaviour of every source side by side (no workload needed)."""
    cat = catalog or load_catalog()
    rows = []
    for sid, s in cat.sources.items():
        b = s.get("batching") or {}
        limit = cat.lambda_limit(sid)
        own = s.get("payload_limit")
        rows.append({
            "source": sid, "name": s["name"], "invocation": s["invocation"], "caller waits": s["caller_waits"],
            "payload limit": own["label"] if own else ("none (the event references the object)"
                                                      if s.get("payload_by_reference") else limit["label"]),
            "batching": (f"batch 1–{b['max_size']:,} (default {b['default_size']}), "
                         + (f"window 0–{b['window_max_s']:g} s" if b["window_max_s"] > 0 else "no batching window")
                         + (f", poll every {b['poll_interval_s']:g} s" if b["poll_interval_s"] else "")) if b else "—",
            "ordering": s["ordering"], "retries": s["retries"], "on failure": s["on_failure"],
            "scaling": s["scaling"], "added latency": cat.doc["unknown_latency"], "sources": s["sources"],
        })
    return pd.DataFrame(rows).set_index("source")


# --------------------------------------------------------------------------------------------------------
# batching


def batching(w: Workload, source: str = "sqs", *, batch_sizes=None, windows_s=None, producer: bool = True,
             book: _prices.PriceBook | None = None, catalog: Catalog | None = None) -> pd.DataFrame:
    """Monthly cost and added wait of ``source`` over a grid of batch sizes and batching windows.

    Queues and streams never hand the result back, so the grid is priced for a caller that does not wait.
    Sizes above the source's maximum are left out, and so are windows where the source allows none (SQS FIFO);
    combinations the API refuses stay with their reason.
    """
    cat = catalog or load_catalog()
    s = cat.source(source)
    b = s.get("batching")
    if not b:
        raise ValueError(f"{source!r} does not batch; sources that do: {', '.join(cat.batching_ids())}")
    sizes = sorted({int(n) for n in (batch_sizes or DEFAULT_BATCH_SIZES) if 1 <= n <= b["max_size"]})
    windows = sorted({float(x) for x in (windows_s or DEFAULT_WINDOWS_S) if 0 <= x <= b["window_max_s"]})
    if not sizes or not windows:
        raise ValueError(f"no batch size in 1–{b['max_size']} or window in 0–{b['window_max_s']:g} s to price")
    book = book or _prices.load(w.region)
    rows = []
    for n in sizes:
        for win in windows:
            r = _evaluate(replace(w, sync=False, batch_size=n, batch_window_s=win), source, cat, book, producer)
            rows.append({"batch_size": n, "window_s": win, **{k: r[k] for k in (
                "feasible", "reason", "batch_fill", "invocations", "batch_ms", "source_cost", "lambda_cost",
                "monthly_cost", "batch_wait_max_s", "batch_wait_mean_s", "concurrency", "notes", "unpriced",
                "lower_bound")}})
    out = pd.DataFrame(rows)
    out.attrs["source"] = source
    return out


def best_batch(w: Workload, source: str = "sqs", *, max_wait_s: float = 1.0, max_batch_ms: float | None = None,
               batch_sizes=None, windows_s=None, producer: bool = True, book: _prices.PriceBook | None = None,
               catalog: Catalog | None = None, required: bool = True) -> pd.Series | None:
    """The cheapest allowed batch size and window whose added wait stays within ``max_wait_s``.

    The bound applies to the worst-case wait (polling gap plus window). ``max_batch_ms`` optionally bounds one
    batch's run time (keep it well under the function's timeout). Settings within a cent or 0.1% of the cheapest
    count as equally cheap; among them the shorter wait, then the smaller batch wins. When no setting qualifies:
    a ValueError saying why, or None with ``required=False``. A source with an unknown part (``lower_bound``) is
    compared on its priced parts; the returned row keeps ``unpriced`` so that whoever reports it can say so.
    """
    bound = _number("max_wait_s", max_wait_s, minimum=0, doc=" (seconds)")
    grid = batching(w, source, batch_sizes=batch_sizes, windows_s=windows_s, producer=producer, book=book,
                    catalog=catalog)
    ok = grid[grid["feasible"] & (grid["batch_wait_max_s"] <= bound + 1e-9)]
    if max_batch_ms is not None:
        ok = ok[ok["batch_ms"] <= max_batch_ms]
    if ok.empty:
        if not required:
            return None
        cat = catalog or load_catalog()
        poll = cat.source(source)["batching"]["poll_interval_s"]
        raise ValueError(f"no batch setting of {source!r} keeps the added wait within {bound:g} s"
                         + (f" (its polling alone adds up to {poll:g} s)" if poll > bound else "")
                         + (f" with batches under {max_batch_ms:g} ms" if max_batch_ms is not None else ""))
    cheapest = float(ok["monthly_cost"].min())
    near = ok[ok["monthly_cost"] <= cheapest + max(TIE_USD, TIE_SHARE * cheapest)]
    best = near.sort_values(["batch_wait_max_s", "batch_size", "window_s", "monthly_cost"]).iloc[0]
    best.name = source
    return best


# --------------------------------------------------------------------------------------------------------
# functions of a snapshot

_SHARDS = re.compile(r"(\d+)\s+shards?\b", re.IGNORECASE)
_ROUTE = re.compile(r"\b(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|ANY)\s+/\S*|\s/[\w{}./-]*")


def _daily_factors(snapshot: Snapshot) -> pd.DataFrame:
    """Per function: 10th and 90th percentile daily invocations over the mean day (traffic spread)."""
    m = snapshot.metrics
    inv = m[(m["metric"] == "Invocations") & (m["stat"] == "Sum")]
    start, end = pd.Timestamp(snapshot.manifest["start"]), pd.Timestamp(snapshot.manifest["end"])
    first, last = start.ceil("D"), end.floor("D")
    days = pd.date_range(first, last, freq="D", inclusive="left")
    if len(days) < 2:
        return pd.DataFrame(columns=["low", "high"])
    inv = inv[(inv["timestamp"] >= first) & (inv["timestamp"] < last)]
    daily = inv.groupby(KEY + [inv["timestamp"].dt.floor("D").rename("day")])["value"].sum()
    out = {}
    for key, series in daily.groupby(level=[0, 1, 2]):
        per_day = series.droplevel([0, 1, 2]).reindex(days, fill_value=0.0).to_numpy()
        mean = per_day.mean()
        if mean > 0:
            out[key] = (np.percentile(per_day, 10) / mean, np.percentile(per_day, 90) / mean)
    return pd.DataFrame.from_dict(out, orient="index", columns=["low", "high"])


def observed(snapshot: Snapshot, *, invocation_overhead_ms: float = 0.0, default_payload_kb: float = 1.0,
             catalog: Catalog | None = None, book: _prices.PriceBook | None = None) -> pd.DataFrame:
    """One row per enabled trigger of each function: what invokes it, and the events behind its invocations.

    Invocations and mean duration per month come from :func:`lambda_workbook.costs.function_costs`; a function
    with several triggers has its invocations split evenly between them (no per-source counts exist). For
    batched triggers the events per month are the invocations times the batch fill the model predicts at the
    configured batch size and window (see the module doc); per-event work is
    ``(mean duration - invocation_overhead_ms) / fill``. Payload comes from the trigger row (``payload_kb``),
    else ``default_payload_kb`` (and the row says so).
    """
    cat = catalog or load_catalog()
    cols = KEY + ["source", "in_catalog", "sync", "detail", "memory_mb", "arch", "timeout_s", "invocations_per_month",
                  "duration_mean_ms", "batch_size", "batch_window_s", "partitions", "batch_fill", "events_per_month",
                  "payload_kb", "duration_per_event_ms", "evidence"]
    if snapshot.functions.empty:
        return pd.DataFrame(columns=cols)
    fc = costs.function_costs(snapshot).set_index(KEY)
    t = snapshot.triggers
    t = t[t["enabled"]]
    share = t.groupby(KEY)["source_type"].transform("count")
    rows = []
    for (_, trig), n_triggers in zip(t.iterrows(), share, strict=True):
        key = tuple(trig[k] for k in KEY)
        if key not in fc.index:
            continue
        f = fc.loc[key]
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
            cap = _batch_cap(cat, payload)
            inv_rate = inv / SECONDS_PER_MONTH
            if shards:
                partitions = int(shards.group(1)) * pf
            elif b["partitions"] != "capacity":
                partitions = int(b["partitions"]) * pf
            poll = float(b["poll_interval_s"])
            if partitions is None:  # shards sized by the traffic itself: settle the circular estimate
                rbook = book if book is not None and book.region == trig["region"] else _prices.load(trig["region"])
                c = s["capacity"]
                partitions = pf
                for _ in range(4):
                    lam = rate_from_invocations(inv_rate / partitions, batch, window, poll, cap) * partitions
                    probe = Workload(events_per_month=lam * SECONDS_PER_MONTH, payload_kb=payload,
                                     region=trig["region"])
                    shards = _capacity_units(c["item"], c["field"], c["dims"], _measures(probe, s, rbook, lam), rbook,
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


def _workload(row: pd.Series, *, invocation_overhead_ms: float = 0.0, events_scale: float = 1.0, **changes) -> Workload:
    memory = min(max(int(row["memory_mb"]), MEMORY_RANGE_MB[0]), MEMORY_RANGE_MB[1])
    args = dict(events_per_month=float(row["events_per_month"]) * events_scale, payload_kb=float(row["payload_kb"]),
                duration_ms=float(row["duration_per_event_ms"]), memory_mb=memory, sync=bool(row["sync"]),
                arch=row["arch"], region=row["region"], batch_size=int(row["batch_size"]),
                batch_window_s=float(row["batch_window_s"]), invocation_overhead_ms=invocation_overhead_ms,
                partitions=None if pd.isna(row["partitions"]) else int(row["partitions"]))
    args.update(changes)
    return Workload(**args)


def _pick(obs: pd.DataFrame, snapshot: Snapshot, function: str, account_id, region, source) -> pd.Series:
    fn = snapshot.function(function, account_id=account_id, region=region)
    rows = obs[(obs["function_name"] == function) & (obs["account_id"] == fn["account_id"])
               & (obs["region"] == fn["region"])]
    if source is not None:
        rows = rows[rows["source"] == source]
    rows = rows[rows["in_catalog"]]
    if rows.empty:
        have = ", ".join(obs.loc[obs["function_name"] == function, "source"]) or "none"
        raise KeyError(f"function {function!r} has no trigger the catalog can price"
                       + (f" of type {source!r}" if source else "") + f" (its triggers: {have})")
    return rows.iloc[0]


def workload_for(snapshot: Snapshot, function: str, *, account_id: str | None = None, region: str | None = None,
                 source: str | None = None, invocation_overhead_ms: float = 0.0, default_payload_kb: float = 1.0,
                 observations: pd.DataFrame | None = None) -> Workload:
    """The workload a function's (first, or ``source``) trigger delivers, as observed in the snapshot.

    ``observations`` is a table :func:`observed` made earlier with the same settings (saves recomputing it).
    """
    obs = observations if observations is not None else observed(
        snapshot, invocation_overhead_ms=invocation_overhead_ms, default_payload_kb=default_payload_kb)
    row = _pick(obs, snapshot, function, account_id, region, source)
    return _workload(row, invocation_overhead_ms=invocation_overhead_ms)


#: The bill each invocation source's charges appear on (sources without a charge of their own are left out).
SOURCE_SERVICE = {"apigw-rest": "api-gateway", "apigw-http": "api-gateway", "apigw-websocket": "api-gateway",
                  "alb": "load-balancer", "sqs": "sqs", "sqs-fifo": "sqs", "sns": "sns", "eventbridge": "eventbridge",
                  "kinesis": "kinesis", "kinesis-on-demand": "kinesis", "dynamodb-streams": "dynamodb",
                  "sfn-standard": "step-functions", "sfn-express": "step-functions", "s3": "s3"}


def source_spend(snapshot: Snapshot, *, observations: pd.DataFrame | None = None,
                 catalog: Catalog | None = None) -> pd.DataFrame:
    """What each function's trigger costs a month on its own bill (the source's charges, Lambda's not):
    one row per function and source with ``service`` (:data:`SOURCE_SERVICE`), ``monthly_usd`` and
    ``lower_bound`` (a part of the source is not priced). Regions without a price snapshot are skipped."""
    cat = catalog or load_catalog()
    obs = observations if observations is not None else observed(snapshot, catalog=cat)
    priced = set(_prices.available())
    rows = []
    for _, row in obs[obs["in_catalog"] & (obs["events_per_month"] > 0)].iterrows():
        service = SOURCE_SERVICE.get(row["source"])
        if service is None or row["region"] not in priced:
            continue
        t = compare(_workload(row), sources=[row["source"]], book=_prices.load(row["region"]), catalog=cat).iloc[0]
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


def alternatives(snapshot: Snapshot, function: str, *, account_id: str | None = None, region: str | None = None,
                 source: str | None = None, invocation_overhead_ms: float = 0.0, default_payload_kb: float = 1.0,
                 observations: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`compare` at the function's observed traffic, with its ``current`` source marked and the monthly
    ``saving`` of every alternative against it (positive = cheaper than today)."""
    obs = observations if observations is not None else observed(
        snapshot, invocation_overhead_ms=invocation_overhead_ms, default_payload_kb=default_payload_kb)
    row = _pick(obs, snapshot, function, account_id, region, source)
    table = compare(_workload(row, invocation_overhead_ms=invocation_overhead_ms))
    table.insert(0, "current", table.index == row["source"])
    table.insert(1, "saving", table.loc[row["source"], "monthly_cost"] - table["monthly_cost"])
    table.attrs["function"] = function
    table.attrs["evidence"] = row["evidence"]
    return table


# --------------------------------------------------------------------------------------------------------
# findings

FINDING_COLUMNS = ["id", "severity", "section", "account_id", "region", "function", "title", "evidence",
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
            "region": row["region"], "function": row["function_name"], "title": title, "evidence": evidence,
            "monthly_impact_usd": impact, "monthly_impact_low_usd": band[0], "monthly_impact_high_usd": band[1],
            "recommendation": recommendation}


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _count(x: float) -> str:
    return f"{x / 1e6:,.1f}M" if x >= 1e6 else f"{x:,.0f}"


def _rest_to_http(row, cat, book, factors, p) -> dict | None:
    feats = rest_only_features(row["detail"], cat)
    if feats:
        return None

    def saving(scale: float) -> float:
        t = compare(_workload(row, events_scale=scale), sources=["apigw-rest", "apigw-http"], book=book, catalog=cat)
        return float(t.loc["apigw-rest", "source_cost"] - t.loc["apigw-http", "source_cost"])

    s = saving(1.0)
    if s < p["min_saving_usd"]:
        return None
    t = compare(_workload(row), sources=["apigw-rest", "apigw-http", "function-url"], book=book, catalog=cat)
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


def _batch_size(row, cat, book, factors, p) -> dict | None:
    s = cat.source(row["source"])
    w = _workload(row, invocation_overhead_ms=p["invocation_overhead_ms"], sync=False)
    cur = compare(w, sources=[row["source"]], book=book, catalog=cat).iloc[0]
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
        now = compare(ws, sources=[row["source"]], book=book, catalog=cat).iloc[0]["monthly_cost"]
        new = compare(replace(ws, batch_size=n, batch_window_s=win), sources=[row["source"]], book=book,
                      catalog=cat).iloc[0]["monthly_cost"]
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


def _sync_for_async(row, calls, cat, book, factors, p) -> dict | None:
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
        t = compare(worker, sources=handoff, book=book, catalog=cat)
        t = t[t["feasible"]].sort_values(["lower_bound", "monthly_cost"])   # fully priced hand-offs first
        best = t.iloc[0]
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
def findings(snapshot: Snapshot, **thresholds: Any) -> pd.DataFrame:
    """Invocation-source findings over every function of a snapshot (thresholds: :data:`DEFAULT_THRESHOLDS`).

    * ``apigw-rest-to-http`` — a REST API trigger with no REST-only feature evident, where an HTTP API would save
      at least ``min_saving_usd`` a month;
    * ``batch-size`` — a queue or stream trigger whose cheapest batch size and window within the wait bound
      saves at least ``min_saving_usd`` and ``min_saving_fraction`` of its current cost;
    * ``sync-for-async`` — a synchronous trigger whose function spends most of its time on calls whose results
      the response does not use (the snapshot's ``calls`` table, ``result_used=False``).

    ``monthly_impact_low_usd``/``_high_usd`` price the month at the 10th and 90th percentile day of the window.
    Functions in regions without a price snapshot are skipped; ``attrs["skipped_regions"]`` names them.
    """
    unknown = set(thresholds) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValueError(f"unknown threshold(s) {sorted(unknown)}; known: {', '.join(DEFAULT_THRESHOLDS)}")
    p = {**DEFAULT_THRESHOLDS, **thresholds}
    for name, value in p.items():
        _number(name, value, minimum=0, doc=" (finding threshold)")
    priced = set(_prices.available())
    skipped = [r for r in snapshot.regions if r not in priced]
    if skipped:
        snapshot = snapshot.subset(snapshot.functions[~snapshot.functions["region"].isin(skipped)])
    cat = load_catalog()
    obs = observed(snapshot, invocation_overhead_ms=p["invocation_overhead_ms"],
                   default_payload_kb=p["default_payload_kb"], catalog=cat)
    factors = _daily_factors(snapshot)
    out = []
    for _, row in obs[obs["in_catalog"] & (obs["events_per_month"] > 0)].iterrows():
        book = _prices.load(row["region"])
        key = tuple(row[k] for k in KEY)
        band = tuple(factors.loc[[key]].iloc[0]) if key in factors.index else None
        s = cat.source(row["source"])
        found = []
        if row["source"] == "apigw-rest":
            found.append(_rest_to_http(row, cat, book, band, p))
        if s.get("batching"):
            found.append(_batch_size(row, cat, book, band, p))
        if row["sync"] and s["caller_waits"]:
            mine = snapshot.for_function("calls", key[2], account_id=key[0], region=key[1])
            found.append(_sync_for_async(row, mine, cat, book, band, p))
        out += [f for f in found if f]
    df = pd.DataFrame(out, columns=FINDING_COLUMNS).sort_values("monthly_impact_usd", ascending=False,
                                                                  ignore_index=True)
    df.attrs["skipped_regions"] = skipped
    return df


# --------------------------------------------------------------------------------------------------------
# display helpers for notebooks and the CLI

VIEW_COLUMNS = {"name": "source", "feasible": "feasible", "reason": "why not", "invocations": "invocations/month",
                "batch_fill": "events/invocation", "source_cost": "source ($/mo)", "lambda_cost": "Lambda ($/mo)",
                "monthly_cost": "total ($/mo)", "unpriced": _unpriced.UNKNOWN_COLUMN,
                "batch_wait_max_s": "batching wait ≤ (s)", "notes": "notes"}
SEMANTIC_COLUMNS = {"name": "source", "invocation": "invocation", "caller_waits": "caller waits",
                    "hop_latency": "added latency per hop", "batch_wait_max_s": "batching wait ≤ (s)",
                    "retries": "retries", "max_attempts": "attempts (modelled)", "on_failure": "on failure",
                    "ordering": "ordering", "payload_limit_kb": "payload limit (KB)", "scaling": "scaling"}


def view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare`'s cost columns with readable headers, feasible sources first and cheapest first. A row with
    a part nobody priced says so in the ``unknown (not priced)`` column: its totals are lower bounds."""
    t = table.sort_values(["feasible", "monthly_cost"], ascending=[False, True])
    out = t[list(VIEW_COLUMNS)].rename(columns=VIEW_COLUMNS)
    out[_unpriced.UNKNOWN_COLUMN] = t["unpriced"].map(_unpriced.lower_bound_text)
    if "saving" in t:
        out.insert(1, "current", t["current"])
        out.insert(len(out.columns) - 1, "saving ($/mo)", t["saving"].round(2))
    out["invocations/month"] = out["invocations/month"].round(0)
    out["events/invocation"] = out["events/invocation"].round(2)
    for col in ("source ($/mo)", "Lambda ($/mo)", "total ($/mo)"):
        out[col] = out[col].round(2)
    out["batching wait ≤ (s)"] = out["batching wait ≤ (s)"].round(2)
    return out


def semantics_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare`'s latency, retry, ordering and limit columns side by side."""
    out = table[list(SEMANTIC_COLUMNS)].rename(columns=SEMANTIC_COLUMNS)
    out["batching wait ≤ (s)"] = out["batching wait ≤ (s)"].round(2)
    return out


def describe(w: Workload) -> pd.DataFrame:
    """The workload as a two-column table."""
    return pd.DataFrame({"value": w.as_dict()}).rename_axis("workload")


def results(w: Workload, table: pd.DataFrame, found: pd.DataFrame | None = None,
            best: pd.Series | None = None) -> dict[str, Any]:
    """The invocation-source notebook's results as plain JSON-able data.

    ``cheapest_feasible`` is the cheapest feasible source whose cost is fully priced (None when every feasible
    source has an unknown part); ``cheapest_feasible_text`` says so in words, naming with the word "unknown" any
    source whose priced parts alone cost less. Each source lists its ``unpriced`` items and whether its
    ``monthly_cost`` is a ``lower_bound``.
    """
    cheapest, cheapest_text = _unpriced.cheapest(table)
    out: dict[str, Any] = {
        "notebook": "invocation_sources",
        "workload": {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in w.as_dict().items()},
        "sources": {sid: {"feasible": bool(r.feasible), "reason": r.reason,
                          "invocations": round(float(r.invocations), 3),
                          "source_cost": round(float(r.source_cost), 6), "lambda_cost": round(float(r.lambda_cost), 6),
                          "monthly_cost": round(float(r.monthly_cost), 6),
                          "unpriced": _unpriced.items(r.unpriced), "lower_bound": bool(r.lower_bound)}
                    for sid, r in table.iterrows()},
        "cheapest_feasible": cheapest,
        "cheapest_feasible_text": cheapest_text,
    }
    if best is not None:
        out["best_batch"] = {"source": best.name, "batch_size": int(best["batch_size"]),
                             "window_s": float(best["window_s"]), "monthly_cost": round(float(best["monthly_cost"]), 6),
                             "batch_wait_max_s": round(float(best["batch_wait_max_s"]), 6),
                             "unpriced": _unpriced.items(best.get("unpriced")),
                             "lower_bound": bool(best.get("lower_bound", False))}
    if found is not None:
        out["findings"] = [{"id": r.id, "function": r.function, "account_id": r.account_id, "title": r.title,
                            "monthly_impact_usd": round(float(r.monthly_impact_usd), 4)} for r in found.itertuples()]
    return out
