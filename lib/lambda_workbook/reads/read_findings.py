"""Read findings from a snapshot's calls: Scans and filtered Queries that pay for items they throw away,
whole-object GETs of which little is used."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import prices as _prices
from ..engine import fanout
from .calls import read_calls
from .dynamodb import dynamodb_options
from .limits import (
    OBJECT_LAMBDA_CLOSED_SINCE,
    PARSE_MS_PER_MB,
    SELECT_CLOSED_SINCE,
    ReadsError,
    consistency_factor,
)
from .network import DEFAULT_NETWORK, Network, calibrate_network
from .ranking import rank
from .s3 import s3_options

SECTION = "external services"


#: The bills a read finding's saving comes out of: the service's reads and the function's waiting.
_READ_BILLS = {"dynamodb": ("dynamodb", "lambda"), "s3": ("s3", "lambda")}
FINDING_COLUMNS = ["id", "severity", "account_id", "region", "function_name", "title", "evidence", "source", "evidence_path",
                   "saves_from",
                   "monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "current_monthly_usd",
                   "alternative", "alternative_monthly_usd", "recommendation", "section"]


@dataclass(frozen=True)
class Thresholds:
    """When a read finding fires, and the assumptions its dollars rest on."""

    scan_max_selectivity: float = 0.10     # items returned / evaluated at or below this fires (Scan, Query)
    whole_object_max_used: float = 0.25    # share of a GetObject's bytes used at or below this fires
    whole_object_min_mb: float = 1.0       # smaller objects are latency-bound: not worth a range read
    min_impact_usd: float = 0.0            # quieter below this monthly impact
    consistency: str = "eventual"          # not in snapshots; DynamoDB's default
    gsi_writes_per_item_month: float = 30.0  # table writes per item per month an index would absorb (daily)
    medium_usd: float = 10.0
    high_usd: float = 100.0
    parse_ms_per_mb: float = PARSE_MS_PER_MB


def _severity(usd: float, t: Thresholds) -> str:
    return "high" if usd >= t.high_usd else "medium" if usd >= t.medium_usd else "low"


def _dynamodb_finding(r, t: Thresholds, book: _prices.PriceBook, net: Network) -> dict | None:
    if not (np.isfinite(r.items_evaluated) and np.isfinite(r.items_returned) and np.isfinite(r.item_kb)):
        return None
    if r.items_evaluated <= 0 or r.items_returned / r.items_evaluated > t.scan_max_selectivity:
        return None
    pages = max(float(r.calls_per_invocation), 1e-9)
    table = r.items_evaluated * pages      # what one invocation evaluates: the table (Scan) or the key's items
    needed = r.items_returned * pages
    page_mb = r.items_evaluated * r.item_kb / 1024.0
    eval_ms = max(r.mean_ms - net.dynamodb_request_ms, 0.0) / page_mb if page_mb > 0 and r.mean_ms > 0 else None
    inv = float(r.invocations_per_month)
    common = dict(memory_mb=r.memory_mb, arch=r.arch, region=r.region, book=book, network=net,
                  consistency=t.consistency, evaluate_ms_per_mb=eval_ms, parse_ms_per_mb=t.parse_ms_per_mb)
    writes = table * t.gsi_writes_per_item_month
    if r.operation == "Scan":
        opts = dynamodb_options(table, needed, r.item_kb, inv, writes_per_month=writes, scan_calls=pages, **common)
        current = opts.loc["scan"]
    else:  # a Query whose filter throws most of the evaluated items away
        opts = dynamodb_options(table, needed, r.item_kb, inv, query_items_evaluated=table, query_calls=pages,
                                writes_per_month=writes, **common)
        current = opts.loc["query"]
    alt = opts.loc["query-gsi"]
    sparse = dynamodb_options(table, needed, r.item_kb, inv, writes_per_month=writes * r.items_returned / r.items_evaluated,
                              index_items=needed, **common).loc["query-gsi"]
    busy = dynamodb_options(table, needed, r.item_kb, inv, writes_per_month=writes * 10, **common).loc["query-gsi"]
    central = current["monthly_cost"] - alt["monthly_cost"]
    high = current["monthly_cost"] - sparse["monthly_cost"]
    low = current["monthly_cost"] - busy["monthly_cost"]
    if central < t.min_impact_usd:
        return None
    scan = r.operation == "Scan"
    evidence = (
        f"{r.operation} on {r.resource or 'a table'}: {pages:g} call(s) per invocation, each evaluating "
        f"{r.items_evaluated:,.0f} items of {r.item_kb:g} KB ({page_mb * 1024:,.0f} KB) to return "
        f"{r.items_returned:g} ({r.items_returned / r.items_evaluated:.2%}); {r.mean_ms:g} ms per call; "
        f"{current['read_units']:,.1f} read units per invocation ({t.consistency}, assumed: consistency is not "
        f"recorded) x {inv:,.0f} invocations/month = ${current['request_usd']:,.2f}/month of reads and "
        f"{current['lambda_ms']:,.0f} ms of Lambda time per invocation. A Query on a global secondary index "
        f"would read {alt['read_units']:,.2f} units; its upkeep assumes {t.gsi_writes_per_item_month:g} writes "
        f"per item per month over ~{table:,.0f} items (low: 10x that; high: a sparse index of the "
        f"{r.items_returned / r.items_evaluated:.2%} that match). Prices {book.region} {book.as_of}.")
    return dict(
        id="dynamodb-scan" if scan else "dynamodb-query-filter", severity=_severity(central, t),
        account_id=r.account_id, region=r.region, function_name=r.function_name,
        title=(f"Scans {r.resource or 'a table'} and keeps {r.items_returned / r.items_evaluated:.2%} of the items "
               "it pays for" if scan else
               f"Query on {r.resource or 'a table'} filters away {1 - r.items_returned / r.items_evaluated:.2%} "
               "of the items it pays for"),
        evidence=evidence, source=f"calls ({r.evidence}); invocations: {r.path}",
        evidence_path=f"calls:{r.evidence}; {r.path}", saves_from="+".join(_READ_BILLS[r.service]),
        monthly_impact_usd=central, monthly_impact_low_usd=min(low, central), monthly_impact_high_usd=max(high, central),
        current_monthly_usd=current["monthly_cost"], alternative="query-gsi",
        alternative_monthly_usd=alt["monthly_cost"],
        recommendation=(
            f"Read only the items you need: Query a global secondary index keyed by the attribute the filter tests "
            f"(a sparse index if only matching items carry it) — ${alt['monthly_cost']:,.2f}/month including "
            f"${alt['service_usd']:,.2f} of index writes and storage, eventually consistent reads only — or "
            f"redesign the table's key so a Query on the table selects them (${opts.loc['query', 'monthly_cost']:,.2f}"
            "/month, a migration). A FilterExpression or ProjectionExpression does not lower read units."),
        section=SECTION)


def _s3_finding(r, t: Thresholds, book: _prices.PriceBook, net: Network) -> dict | None:
    obj = r.response_kb / 1024.0
    if not (np.isfinite(r.used_fraction) and r.used_fraction <= t.whole_object_max_used and obj >= t.whole_object_min_mb):
        return None
    inv = float(r.invocations_per_month)
    reads_month = inv * r.calls_per_invocation
    own = net
    if r.mean_ms > net.request_ms:
        own = calibrate_network([{"memory_mb": r.memory_mb, "mb": obj, "ms": r.mean_ms}], base=net)
    kw = dict(memory_mb=r.memory_mb, arch=r.arch, region=r.region, book=book, network=own,
              parse_ms_per_mb=t.parse_ms_per_mb)
    opts = rank(s3_options(obj, r.used_fraction, reads_month, layout_known=True, **kw))
    get, rng = opts.loc["get"], opts.loc["range-get"]
    central = get["monthly_cost"] - rng["monthly_cost"]
    low = get["monthly_cost_low"] - rng["monthly_cost_low"]
    high = get["monthly_cost_high"] - rng["monthly_cost_high"]
    if central < t.min_impact_usd:
        return None
    athena, select = opts.loc["athena"], opts.loc["select"]
    evidence = (
        f"GetObject on {r.resource or 'a bucket'}: {obj:,.3g} MB per call, {r.used_fraction:.2%} of it used "
        f"({obj * r.used_fraction:,.3g} MB); {r.calls_per_invocation:g} call(s) per invocation, {r.mean_ms:g} ms per "
        f"call at {r.memory_mb:g} MB ({own.mb_per_s(r.memory_mb):,.0f} MB/s measured); {inv:,.0f} invocations/month "
        f"move {reads_month * obj / 1024:,.1f} GB to use {reads_month * obj * r.used_fraction / 1024:,.2f} GB. "
        f"Whole object: {get['lambda_ms']:,.0f} ms per read (incl. parse at {t.parse_ms_per_mb:g} ms/MB, assumed) "
        f"and {get['memory_needed_mb']:,.0f} MB of memory; the needed bytes: {rng['lambda_ms']:,.0f} ms and "
        f"{rng['memory_needed_mb']:,.0f} MB. Prices {book.region} {book.as_of}.")
    return dict(
        id="s3-whole-object", severity=_severity(central, t), account_id=r.account_id, region=r.region,
        function_name=r.function_name,
        title=f"Downloads whole {obj:,.3g} MB objects from {r.resource or 'S3'} to use {r.used_fraction:.1%} of them",
        evidence=evidence, source=f"calls ({r.evidence}); invocations: {r.path}",
        evidence_path=f"calls:{r.evidence}; {r.path}", saves_from="+".join(_READ_BILLS[r.service]),
        monthly_impact_usd=central, monthly_impact_low_usd=min(low, central), monthly_impact_high_usd=max(high, central),
        current_monthly_usd=get["monthly_cost"], alternative="range-get", alternative_monthly_usd=rng["monthly_cost"],
        recommendation=(
            f"Read only the bytes you need. Ranked: (1) a byte-range GET of the {obj * r.used_fraction:,.3g} MB — "
            f"${rng['monthly_cost']:,.2f}/month — once the layout is known: write the needed records to their own "
            f"object or an offset index when the data is produced; (2) Athena — ${athena['monthly_cost']:,.2f}/month "
            f"({athena['billed_scan_mb']:g} MB billed per query, 10 MB minimum) plus seconds of query time, not "
            f"published, that a waiting function pays for; (3) S3 Select — closed to new customers since "
            f"{SELECT_CLOSED_SINCE} (existing customers: ${select['monthly_cost']:,.2f}/month); S3 Object Lambda is "
            f"closed to new customers since {OBJECT_LAMBDA_CLOSED_SINCE}. Holding less data may also allow a "
            "smaller memory size (see the memory notebook)."),
        section=SECTION)


def findings(snapshot, *, network: Network | None = None, calls: pd.DataFrame | None = None,
             pricing: _prices.Pricing | None = None, **thresholds) -> pd.DataFrame:
    """Read findings where the snapshot holds the evidence (its ``calls`` table).

    ``dynamodb-scan`` (a Scan whose filter keeps at most ``scan_max_selectivity`` of the items it pays for),
    ``dynamodb-query-filter`` (the same for a Query) and ``s3-whole-object`` (a GetObject of at least
    ``whole_object_min_mb`` of which at most ``whole_object_max_used`` is used). Thresholds and assumptions are
    the fields of :class:`Thresholds`, passed as keywords. One row per finding with the columns of
    :data:`FINDING_COLUMNS`, biggest monthly impact first. ``calls``: :func:`read_calls` of the snapshot when
    already computed (priced at the same consistency). Prices: ``pricing``'s book of each call's region
    (default: :func:`lambda_workbook.prices.for_snapshot`).
    """
    known = set(Thresholds.__dataclass_fields__)
    unknown = set(thresholds) - known
    if unknown:
        raise ReadsError(f"unknown threshold(s) {sorted(unknown)}; reads.findings takes {', '.join(sorted(known))}")
    t = Thresholds(**thresholds)
    consistency_factor(t.consistency)
    net = network or DEFAULT_NETWORK
    pricing = _prices.for_snapshot(snapshot, pricing=pricing)
    if calls is None:
        calls = read_calls(snapshot, consistency=t.consistency, pricing=pricing)
    # each call on its own: in chunks, on more than one process for a big snapshot
    rows = fanout.map_chunks(findings_chunk, snapshot, calls, t=t, net=net, pricing=pricing)
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return out.sort_values("monthly_impact_usd", ascending=False, ignore_index=True)


def findings_chunk(snapshot, calls: pd.DataFrame, scope: dict, *, t: Thresholds, net: Network,
                   pricing: _prices.Pricing) -> list[dict]:
    """:func:`findings`' rows for a slice of the ``calls`` table (a task of
    :func:`lambda_workbook.engine.fanout.map_chunks`)."""
    rows = []
    for r in calls.itertuples():
        if not np.isfinite(r.invocations_per_month) or r.invocations_per_month <= 0:
            continue
        book = pricing.book(r.region)
        if r.service == "dynamodb" and r.operation in ("Scan", "Query"):
            f = _dynamodb_finding(r, t, book, net)
        elif r.service == "s3" and r.operation == "GetObject":
            f = _s3_finding(r, t, book, net)
        else:
            f = None
        if f:
            rows.append(f)
    return rows
