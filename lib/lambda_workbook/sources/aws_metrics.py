"""CloudWatch metrics with ``GetMetricData``: few calls, the finest period the data's age allows.

Plan: one query per (function, metric, statistic) and time range. The window is cut where CloudWatch's
retention changes resolution (60 s data for 15 days, 300 s for 63 days, 3,600 s up to 455 days: "Amazon
CloudWatch concepts", metrics retention, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
cloudwatch_concepts.html); each metric asks for ``max(its own period, the finest period available)`` and adjacent ranges with
the same period merge, so a window within 15 days is ONE time range. Queries of a time range are packed 500
per call (the API's limit) whatever their periods; percentile queries go in their own calls so an endpoint
that cannot compute them (moto answers HTTP 500) loses nothing else; on such non-AWS endpoints percentile calls
are not retried and the first failure ends them. ``NextToken`` pages are followed and their values joined;
results still ``PartialData``, ``Forbidden`` or ``InternalError`` after the last page become evidence.

Counts (Invocations, Errors, Throttles) are read at ``count_period_s`` (60 s by default: the per-minute traffic
shape that cold-start and concurrency models need); durations, concurrency and ages hourly.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from .. import schema
from .aws_common import RegionScan, classify
from .aws_triggers import is_async

MAX_QUERIES = 500          # GetMetricData: metrics per call
MAX_PAGES = 10_000         # NextToken pages followed per call at most (a guard, never reached in practice)
PERCENTILES = ("p50", "p90", "p99")
#: (age in days up to which a period is available, period in seconds), from CloudWatch's metrics retention
RETENTION = ((15, 60), (63, 300), (455, 3600))


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    stats: tuple[str, ...]
    period_s: int                 # the coarsest period wanted; finer data is never requested
    when: str = "all"             # all | stream | async | provisioned
    counts: bool = False          # read at the scan's count period


SPECS = (
    MetricSpec("Invocations", ("Sum",), 3600, counts=True),
    MetricSpec("Errors", ("Sum",), 3600, counts=True),
    MetricSpec("Throttles", ("Sum",), 3600, counts=True),
    MetricSpec("Duration", ("Average", "Maximum"), 3600),
    MetricSpec("Duration", PERCENTILES, 3600),
    MetricSpec("ConcurrentExecutions", ("Maximum",), 3600),
    MetricSpec("IteratorAge", ("Maximum",), 3600, when="stream"),
    MetricSpec("AsyncEventAge", ("Average", "Maximum"), 3600, when="async"),
    MetricSpec("ProvisionedConcurrencyInvocations", ("Sum",), 3600, when="provisioned"),
    MetricSpec("ProvisionedConcurrencySpilloverInvocations", ("Sum",), 3600, when="provisioned"),
    MetricSpec("ProvisionedConcurrencyUtilization", ("Maximum",), 3600, when="provisioned"),
    MetricSpec("ProvisionedConcurrentExecutions", ("Maximum",), 3600, when="provisioned"),
)


@dataclass(frozen=True)
class Query:
    function_name: str
    metric: str
    stat: str
    period_s: int
    qualifier: str = ""

    @property
    def percentile(self) -> bool:
        return self.stat.startswith("p")

    def api(self, qid: str) -> dict:
        dims = [{"Name": "FunctionName", "Value": self.function_name}]
        if self.qualifier:
            dims.append({"Name": "Resource", "Value": f"{self.function_name}:{self.qualifier}"})
        return {"Id": qid, "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": self.metric, "Dimensions": dims},
            "Period": self.period_s, "Stat": self.stat}}


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(hours=1)


def segments(start: datetime, end: datetime, min_period: int, now: datetime | None = None) -> list[tuple]:
    """``[(seg_start, seg_end, period_s)]`` covering ``[start, end)`` with the finest period, no finer than
    ``min_period``, that CloudWatch still holds for data of that age; equal neighbours merged."""
    now = now or datetime.now(UTC)
    out: list[list] = []
    newer = end
    for age_days, period in RETENTION:
        older = max(start, _ceil_hour(now - timedelta(days=age_days)))
        if older < newer:
            p = max(period, min_period)
            if out and out[-1][2] == p:
                out[-1][0] = older
            else:
                out.append([older, newer, p])
            newer = older
    return sorted(tuple(s) for s in out)


def plan(rs: RegionScan, *, percentiles: bool, now: datetime | None = None) -> dict[tuple, list[Query]]:
    """Queries per time range ``(start, end)`` for the region's functions (see the module docstring)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for t in rs.triggers:
        kinds[t["function_name"]].add(t["source_type"])
    qualifiers: dict[str, list[str]] = defaultdict(list)
    for c in rs.concurrency:
        if c["kind"] == "provisioned":
            qualifiers[c["function_name"]].append(c["qualifier"])
    out: dict[tuple, list[Query]] = defaultdict(list)
    for spec in SPECS:
        if set(spec.stats) <= set(PERCENTILES) and not percentiles:
            continue
        floor = rs.options.count_period_s if spec.counts else spec.period_s
        for seg_start, seg_end, period in segments(rs.start, rs.end, floor, now):
            for fn in rs.functions:
                name = fn["function_name"]
                types = kinds.get(name, set())
                if spec.when == "stream" and not types & {"kinesis", "dynamodb-streams"}:
                    continue
                if spec.when == "async" and types and not any(is_async(t) for t in types):
                    continue
                quals = qualifiers.get(name, []) if spec.when == "provisioned" else [""]
                for qual in quals:
                    out[(seg_start, seg_end)] += [Query(name, spec.metric, s, period, qual) for s in spec.stats]
    return dict(out)


def _batches(queries: list[Query]) -> list[list[Query]]:
    basic = [q for q in queries if not q.percentile]
    pct = [q for q in queries if q.percentile]
    return [part[i:i + MAX_QUERIES] for part in (basic, pct) for i in range(0, len(part), MAX_QUERIES)]


def _percentile_client(rs: RegionScan):
    """The client for percentile batches: the usual one on AWS; elsewhere (moto, LocalStack) one without
    retries, because such endpoints answer pNN with HTTP 500, which is retried as a transient error."""
    if rs.account.custom_endpoint(rs.region):
        return rs.client("cloudwatch", attempts=1)
    return rs.client("cloudwatch")


def _fetch(rs: RegionScan, client, start: datetime, end: datetime, batch: list[Query], made: Counter,
           key: tuple) -> list[tuple]:
    """One batch, every NextToken page followed; ``made[key]`` counts the calls (pages) sent."""
    ids = {f"q{i}": q for i, q in enumerate(batch)}
    params = {"MetricDataQueries": [q.api(i) for i, q in ids.items()], "StartTime": start, "EndTime": end,
              "ScanBy": "TimestampAscending"}
    points: dict[str, list] = defaultdict(list)
    status: dict[str, str] = {}
    messages: list[str] = []
    token = None
    for _ in range(MAX_PAGES):
        made[key] += 1
        resp = client.get_metric_data(**params, **({"NextToken": token} if token else {}))
        for r in resp.get("MetricDataResults", []):
            points[r["Id"]] += zip(r.get("Timestamps", []), r.get("Values", []), strict=False)
            status[r["Id"]] = r.get("StatusCode", "Complete")
            messages += [m.get("Value", "") for m in r.get("Messages", []) or []]
        messages += [f"{m.get('Code', '')}: {m.get('Value', '')}" for m in resp.get("Messages", []) or []]
        token = resp.get("NextToken")
        if not token:
            break
    rows = []
    for qid, q in ids.items():
        code = status.get(qid, "Complete")
        if code != "Complete":
            rs.note(f"metrics:{q.metric}", "partial" if code == "PartialData" else "missing",
                    f"GetMetricData status {code} for {q.metric} {q.stat}", q.function_name)
        for ts, value in points[qid]:
            rows.append((q.function_name, q.metric, q.stat, q.period_s, q.qualifier, ts, value))
    for m in sorted(set(messages) - {""}):
        rs.note("metrics", "partial", f"GetMetricData message: {m}")
    return rows


def read(rs: RegionScan) -> None:
    """Fill ``rs.metrics`` (and ``rs.segments``) for the region's functions."""
    if not rs.functions:
        return
    percentiles = True if rs.options.percentiles is None else rs.options.percentiles
    if not percentiles:
        rs.note("metrics:percentiles", "skipped", "Duration percentiles not requested (percentiles=False)")
    client = rs.client("cloudwatch")
    planned = plan(rs, percentiles=percentiles)
    work = [(rng, b) for rng, queries in sorted(planned.items()) for b in _batches(queries)]
    rs.progress.add(len(work))
    rows: list[tuple] = []
    pct_failed = False
    read_series: Counter = Counter()
    calls: Counter = Counter()
    for rng, batch in work:
        start, end = rng
        is_pct = batch[0].percentile
        if is_pct and pct_failed:
            rs.progress.step(1)
            continue
        try:
            rows += _fetch(rs, _percentile_client(rs) if is_pct else client, start, end, batch, calls, rng)
            read_series[rng] += len(batch)
        except (ClientError, BotoCoreError) as exc:
            reason = classify(exc)[1]
            if is_pct:
                pct_failed = True
                rs.note("metrics:percentiles", "missing", f"the endpoint failed a percentile query ({reason}); "
                        "Duration p50/p90/p99 are not in the snapshot")
            else:
                rs.note("metrics", "missing", f"{len(batch)} metric series from {start:%Y-%m-%d %H:%M} to "
                        f"{end:%Y-%m-%d %H:%M} UTC could not be read ({reason})")
        rs.progress.step(1)
    for rng, queries in sorted(planned.items()):
        rs.segments.append({"account_id": rs.account_id, "region": rs.region, "start": rng[0].isoformat(),
                            "end": rng[1].isoformat(), "periods_s": sorted({q.period_s for q in queries}),
                            "series": len(queries), "series_read": read_series[rng], "calls": calls[rng]})
    if rows:
        rs.metrics.append(frame(rs, rows))


def frame(rs: RegionScan, rows: list[tuple]) -> pd.DataFrame:
    """Long-form ``metrics`` rows; per-alias ProvisionedConcurrency* series combine into one per function."""
    df = pd.DataFrame(rows, columns=["function_name", "metric", "stat", "period_s", "qualifier", "timestamp", "value"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    if (df["qualifier"] != "").any():
        keys = ["function_name", "metric", "stat", "period_s", "timestamp"]
        plain = df[df["qualifier"] == ""]
        per_alias = df[df["qualifier"] != ""]
        summed = per_alias[per_alias["stat"] == "Sum"].groupby(keys, as_index=False)["value"].sum()
        maxed = per_alias[per_alias["stat"] != "Sum"].groupby(keys, as_index=False)["value"].max()
        df = pd.concat([plain, summed, maxed], ignore_index=True)
    df = df.drop(columns="qualifier")
    df.insert(0, "region", rs.region)
    df.insert(0, "account_id", rs.account_id)
    return df[[c.name for c in schema.TABLES["metrics"].columns]].dropna(subset=["value"])
