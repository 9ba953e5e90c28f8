"""REPORT-line statistics: pushed down to CloudWatch Logs Insights, or sampled when that is not possible.

Insights is a distributed engine that already exists next to the data, so the scan never downloads raw logs
by default: ONE query aggregates up to 50 log groups on the server, per group (``stats ... by @log``), over
the whole window, for text REPORT lines (``@type = "REPORT"``, Lambda's discovered fields) and JSON ones
(``type = "platform.report"``, ``record.metrics.*``) alike. A few queries run at once; each is polled with
backoff up to a timeout, then stopped. The groups that had timeouts get one more query (for all of them, 50
a query) for timeouts per UTC day (the ``Timeouts`` metric). ``statistics.bytesScanned`` goes into the scan's bill; an estimate of the
bytes (stored bytes x window / retention) keeps the total under ``insights_budget_gb``.

When Insights cannot run (denied, disabled, over budget, failed or timed out) or returns rows without
statistics (moto implements no ``stats``), the groups fall back to ``FilterLogEvents`` for REPORT lines: at
most ``report_lines`` lines per group, parsed locally with :func:`lambda_workbook.logs.parse_reports`. Each
``reports`` row says which path produced it, and ``sampled_fraction`` = lines read / CloudWatch Invocations
(:func:`fraction`), on both paths: a log group that keeps fewer days than the window is not taken for complete.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from .. import logs
from .aws_calls import GB, ScanCancelled
from .aws_common import RegionScan, classify

MAX_GROUPS = 50            # log groups per StartQuery
PARALLEL_QUERIES = 4       # Insights queries running at once per region
MAX_PAGES = 50             # FilterLogEvents pages per group at most
POLL_FIRST_S, POLL_MAX_S = 0.5, 8.0   # GetQueryResults backoff: first wait, doubling up to this
LAMBDA_PREFIX = "/aws/lambda/"
FILTER_PATTERN = '?"REPORT RequestId" ?"platform.report"'   # text or JSON REPORT lines

_FIELDS = """fields coalesce(@duration, record.metrics.durationMs) as dur,
    coalesce(@billedDuration, record.metrics.billedDurationMs) as billed,
    coalesce(@initDuration, record.metrics.initDurationMs) as init,
    coalesce(@maxMemoryUsed / 1000 / 1000, record.metrics.maxMemoryUsedMB) as used,
    coalesce(@memorySize / 1000 / 1000, record.metrics.memorySizeMB) as size,
    strcontains(@message, "Status: timeout") + strcontains(@message, '"status":"timeout"') as timed_out"""

#: Per log group statistics over the window. Memory fields: Lambda's discovered fields hold bytes, divided
#: by 1000 x 1000 as in AWS's own over-provisioning example query ("CloudWatch Logs Insights sample queries",
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-examples.html).
STATS_QUERY = f"""filter @type = "REPORT" or type = "platform.report"
| {_FIELDS}
| stats count(*) as invocations, count(init) as cold_starts, sum(timed_out) as timeouts,
    pct(init, 50) as init_p50_ms, pct(init, 99) as init_p99_ms, avg(init) as init_mean_ms,
    pct(dur, 50) as duration_p50_ms, pct(dur, 99) as duration_p99_ms, avg(dur) as duration_mean_ms,
    sum(billed) as billed_ms_sum, pct(used, 50) as max_memory_used_p50_mb,
    pct(used, 99) as max_memory_used_p99_mb, max(used) as max_memory_used_max_mb, max(size) as memory_size_mb
  by @log"""

TIMEOUTS_QUERY = """filter (@type = "REPORT" and @message like /Status: timeout/)
    or (type = "platform.report" and record.status = "timeout")
| stats count(*) as timeouts by @log, bin(1d)"""

_INT_STATS = ("invocations", "cold_starts", "timeouts")
_FLOAT_STATS = ("init_p50_ms", "init_p99_ms", "init_mean_ms", "duration_p50_ms", "duration_p99_ms",
                "duration_mean_ms", "billed_ms_sum", "max_memory_used_p50_mb", "max_memory_used_p99_mb",
                "max_memory_used_max_mb", "memory_size_mb")


def report_stats(df: pd.DataFrame) -> dict:
    """The ``reports`` statistics of parsed REPORT lines (:func:`lambda_workbook.logs.parse_reports`)."""
    init = df["init_duration_ms"].dropna().to_numpy()
    dur = df["duration_ms"].to_numpy()
    used = df["max_memory_used_mb"].to_numpy()

    def pct(a, q):
        return float(np.percentile(a, q)) if len(a) else math.nan

    return {
        "invocations": len(df), "cold_starts": len(init),
        "timeouts": int((df["status"].fillna("") == "timeout").sum()),
        "init_p50_ms": pct(init, 50), "init_p99_ms": pct(init, 99),
        "init_mean_ms": float(init.mean()) if len(init) else math.nan,
        "duration_p50_ms": pct(dur, 50), "duration_p99_ms": pct(dur, 99),
        "duration_mean_ms": float(dur.mean()) if len(dur) else math.nan,
        "billed_ms_sum": float(df["billed_duration_ms"].sum()),
        "max_memory_used_p50_mb": pct(used, 50), "max_memory_used_p99_mb": pct(used, 99),
        "max_memory_used_max_mb": float(used.max()) if len(used) else math.nan,
        "memory_size_mb": float(df["memory_size_mb"].max()) if len(df) else math.nan,
    }


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _group_of(log_field: str) -> str:
    """``@log`` is ``account-id:log-group-name``; returns the group name."""
    head, sep, rest = str(log_field).partition(":")
    return rest if sep and head.isdigit() and len(head) == 12 else str(log_field)


class _Target:
    """A log group read for exactly one function."""

    def __init__(self, group: str, function: dict, info: dict | None):
        self.group = group
        self.function = function
        self.info = info or {}

    def estimate_bytes(self, window_days: float) -> float:
        stored = float(self.info.get("storedBytes") or 0.0)
        age_days = window_days
        if self.info.get("creationTime"):
            age_days = (time.time() * 1000 - self.info["creationTime"]) / 86_400_000
        kept = self.info.get("retentionInDays") or age_days
        span = max(min(float(kept), age_days), window_days, 1e-9)
        return stored * min(1.0, window_days / span)


def _discover(rs: RegionScan) -> dict[str, dict] | None:
    """Existing log groups (name -> description) among those the functions log to; None if unreadable."""
    wanted = {f["log_group"] for f in rs.functions}
    found: dict[str, dict] = {}
    prefixes = [LAMBDA_PREFIX] if any(g.startswith(LAMBDA_PREFIX) for g in wanted) else []
    prefixes += sorted(g for g in wanted if not g.startswith(LAMBDA_PREFIX))
    for prefix in prefixes:
        groups = rs.optional("reports", "DescribeLogGroups", lambda p=prefix: list(
            rs.pages("logs", "describe_log_groups", "logGroups", logGroupNamePrefix=p)))
        if groups is None:
            return None
        found.update({g["logGroupName"]: g for g in groups if g["logGroupName"] in wanted})
    return found


def _invocations(rs: RegionScan) -> dict[str, float]:
    """CloudWatch Invocations per function over the window (for ``sampled_fraction``)."""
    out: dict[str, float] = defaultdict(float)
    for m in rs.metrics:
        sel = m[(m["metric"] == "Invocations") & (m["stat"] == "Sum")]
        for name, total in sel.groupby("function_name")["value"].sum().items():
            out[name] += float(total)
    return out


def read(rs: RegionScan) -> None:
    """Fill ``rs.reports`` (and ``report_samples``, ``Timeouts`` metrics) for the region's functions."""
    if not rs.functions:
        return
    existing = _discover(rs)
    users: dict[str, list[dict]] = defaultdict(list)
    for f in rs.functions:
        users[f["log_group"]].append(f)
    targets: list[_Target] = []
    for group, fns in sorted(users.items()):
        if len(fns) > 1:
            for f in fns:
                rs.note("reports", "missing", f"log group {group} is shared by {len(fns)} functions; its REPORT "
                        "lines cannot be attributed to one function", f["function_name"])
        elif existing is not None and group not in existing:
            rs.note("reports", "missing", f"log group {group} does not exist (never invoked, or logs elsewhere)",
                    fns[0]["function_name"])
        else:
            targets.append(_Target(group, fns[0], (existing or {}).get(group)))
    window_days = (rs.end - rs.start).total_seconds() / 86400
    for t in targets:
        kept = t.info.get("retentionInDays")
        if kept and kept < window_days:
            rs.note("reports", "partial", f"log group {t.group} keeps {kept} day(s) of logs, the window is "
                    f"{window_days:g} days: sampled_fraction says how much the REPORT statistics cover",
                    t.function["function_name"])
    rs.progress.add(len(targets))
    invocations = _invocations(rs)
    fallback, reason = _insights(rs, targets, invocations) if rs.options.insights else \
        (targets, "Logs Insights disabled (insights=False)")
    if fallback:
        rs.note("reports", "sampled", f"{reason}: REPORT lines of {len(fallback)} log group(s) sampled with "
                f"FilterLogEvents (at most {rs.options.report_lines} per group) and parsed locally")
        rs.pool(lambda t: _sample(rs, t, invocations.get(t.function["function_name"])), fallback)


def fraction(lines: int, metric_invocations: float | None, complete: bool) -> float:
    """``sampled_fraction``: REPORT lines read / CloudWatch Invocations over the window (at most 1).

    A read that saw every line in the window and comes within 1% of the metric counts as complete (1.0):
    metric datapoints carry the invocation's start time, log lines their end, so the edges differ a little.
    Without the metric, a complete read is 1.0 and an incomplete one unknown (NaN). Short log retention
    shows up here as a fraction below 1, as it should.
    """
    if metric_invocations:
        share = min(1.0, lines / metric_invocations)
        return 1.0 if complete and share >= 0.99 else share
    return 1.0 if complete else math.nan


# -- Insights ---------------------------------------------------------------------------------------------
@dataclass
class _Query:
    """A running Logs Insights query over a batch of log groups, polled with backoff."""

    id: str
    batch: list[_Target]
    t0: float = field(default_factory=time.monotonic)
    delay: float = POLL_FIRST_S
    next: float = 0.0                 # monotonic time of the next poll


def _start(rs: RegionScan, client, batch: list[_Target], query: str) -> _Query:
    qid = client.start_query(logGroupNames=[t.group for t in batch], queryString=query,
                             startTime=int(rs.start.timestamp()), endTime=int(rs.end.timestamp()))["queryId"]
    return _Query(qid, batch)


def _check(rs: RegionScan, client, q: _Query) -> tuple[dict | None, str | None]:
    """Poll ``q`` once: ``(response, None)`` once it has ended (its bytes scanned go into the scan's bill),
    ``(None, None)`` while it runs, ``(None, why)`` when it ran past ``insights_timeout_s`` and was stopped."""
    resp = client.get_query_results(queryId=q.id)
    status = resp.get("status", "Unknown")
    if status in ("Scheduled", "Running"):
        if time.monotonic() - q.t0 > rs.options.insights_timeout_s:
            rs.optional("reports:insights", "StopQuery", client.stop_query, queryId=q.id)
            return None, f"still {status.lower()} after {rs.options.insights_timeout_s:g} s"
        q.next = time.monotonic() + q.delay
        q.delay = min(q.delay * 2, POLL_MAX_S)
        return None, None
    rs.calls.add_bytes_scanned(rs.region, (resp.get("statistics") or {}).get("bytesScanned", 0.0))
    return resp, None


def _rows(resp: dict, batch: list[_Target]) -> list[tuple[_Target | None, dict]]:
    """Each result row as ``{field: value}``, with the target its ``@log`` names (None: not one of ``batch``)."""
    by_group = {t.group: t for t in batch}
    rows = [{f["field"]: f.get("value") for f in r} for r in resp.get("results", [])]
    return [(by_group.get(_group_of(r.get("@log", ""))), r) for r in rows]


def _insights(rs: RegionScan, targets: list[_Target], invocations: dict[str, float]) -> tuple[list[_Target], str]:
    """Run the stats query over batches of groups; returns the groups left for the fallback, and why."""
    if "StartQuery" in rs.disabled:
        return targets, "Logs Insights unavailable"
    window_days = (rs.end - rs.start).total_seconds() / 86400
    budget = rs.options.insights_budget_gb
    chosen, over = [], []
    used = 0.0
    for t in sorted(targets, key=lambda t: t.estimate_bytes(window_days)):
        est = t.estimate_bytes(window_days) / GB
        if budget is not None and used + est > budget:
            over.append(t)
        else:
            used += est
            chosen.append(t)
    if over:
        rs.note("reports", "sampled", f"{len(over)} log group(s) would take Logs Insights past the scan's budget "
                f"of {budget:g} GB scanned (estimated from stored bytes); their REPORT lines are sampled instead")
    batches = [chosen[i:i + MAX_GROUPS] for i in range(0, len(chosen), MAX_GROUPS)]
    client = rs.client("logs")
    left: list[_Target] = list(over)
    reason = "over the Logs Insights budget"
    pending = list(batches)
    running: list[_Query] = []
    timed_out: list[_Target] = []      # groups with timeouts: one more query for them all, per UTC day
    while pending or running:
        while pending and len(running) < PARALLEL_QUERIES:
            batch = pending.pop(0)
            try:
                running.append(_start(rs, client, batch, STATS_QUERY))
            except (ClientError, BotoCoreError) as exc:
                kind = rs.failed("reports:insights", exc) if classify(exc)[0] != "not_found" else "not_found"
                reason = f"Logs Insights StartQuery failed ({classify(exc)[1]})"
                left += batch
                if kind in ("denied", "unsupported", "credentials"):
                    left += [t for b in pending for t in b]
                    pending = []
        if not running:
            break
        now = time.monotonic()
        for q in sorted(running, key=lambda q: q.next):
            if q.next > now:
                continue
            done, verdict = _poll(rs, client, q, invocations, timed_out)
            if not done:
                continue
            running.remove(q)
            if verdict is not None:
                left += q.batch
                reason = verdict
                if verdict.startswith("Logs Insights returned rows without statistics"):
                    rs.disabled.add("StartQuery")   # the endpoint cannot aggregate: do not try again here
                    left += [t for b in pending for t in b]
                    pending = []
            rs.progress.step(len(q.batch))
        if running:
            wait = max(0.0, min(q.next for q in running) - time.monotonic())
            if rs.calls.cancel.wait(wait):
                raise ScanCancelled("scan interrupted")
    for i in range(0, len(timed_out), MAX_GROUPS):
        _timeouts_per_day(rs, client, timed_out[i:i + MAX_GROUPS])
    return left, reason


def _poll(rs: RegionScan, client, q: _Query, invocations: dict[str, float],
          timed_out: list[_Target]) -> tuple[bool, str | None]:
    """Poll one stats query; on success add its ``reports`` rows and put groups with timeouts in ``timed_out``.
    Returns (finished, None on success or the reason its groups need the fallback)."""
    try:
        resp, overdue = _check(rs, client, q)
    except (ClientError, BotoCoreError) as exc:
        return True, f"Logs Insights GetQueryResults failed ({classify(exc)[1]})"
    if overdue:
        return True, f"Logs Insights query {overdue}"
    if resp is None:
        return False, None
    status = resp.get("status", "Unknown")
    if status != "Complete":
        return True, f"Logs Insights query ended {status}"
    rows = _rows(resp, q.batch)
    if rows and not any("@log" in r and "invocations" in r for _, r in rows):
        return True, "Logs Insights returned rows without statistics (this endpoint does not run stats)"
    for t, r in rows:
        if t is None:
            continue
        stats = {k: int(float(r.get(k) or 0)) for k in _INT_STATS}
        stats |= {k: _float(r.get(k)) for k in _FLOAT_STATS}
        share = fraction(stats["invocations"], invocations.get(t.function["function_name"]), complete=True)
        rs.reports.append(_report_row(rs, t, stats, "insights", share))
        if stats["timeouts"]:
            timed_out.append(t)
    return True, None


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _timeouts_per_day(rs: RegionScan, client, targets: list[_Target]) -> None:
    try:
        q = _start(rs, client, targets, TIMEOUTS_QUERY)
        while True:
            resp, overdue = _check(rs, client, q)
            if overdue:
                rs.note("metrics:Timeouts", "missing", "Logs Insights timeouts-per-day query timed out")
                return
            if resp is not None:
                break
            if rs.calls.cancel.wait(max(0.0, q.next - time.monotonic())):
                raise ScanCancelled("scan interrupted")
    except (ClientError, BotoCoreError) as exc:
        rs.note("metrics:Timeouts", "missing", f"timeouts per day not read ({classify(exc)[1]})")
        return
    rows = []
    for t, r in _rows(resp, targets):
        day = next((v for k, v in r.items() if k == "day" or k.startswith("bin(")), None)
        if t is None or day is None:
            continue
        rows.append((t.function["function_name"], pd.Timestamp(day, tz="UTC").floor("D"), _float(r.get("timeouts"))))
    if rows:
        rs.metrics.append(_timeouts_frame(rs, rows))


def _timeouts_frame(rs: RegionScan, rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["function_name", "timestamp", "value"])
    df = df.groupby(["function_name", "timestamp"], as_index=False)["value"].sum()
    return df.assign(account_id=rs.account_id, region=rs.region, metric="Timeouts", stat="Sum", period_s=86400)[
        ["account_id", "region", "function_name", "metric", "stat", "period_s", "timestamp", "value"]]


def _report_row(rs: RegionScan, t: _Target, stats: dict, path: str, share: float) -> dict:
    fn = t.function
    return {"account_id": rs.account_id, "region": rs.region, "function_name": fn["function_name"],
            "log_group": t.group, **stats, "path": path, "sampled_fraction": share}


# -- fallback: a bounded FilterLogEvents sample ---------------------------------------------------------------
def _sample(rs: RegionScan, t: _Target, metric_invocations: float | None) -> None:
    client = rs.client("logs")
    name = t.function["function_name"]
    events: list[tuple[int, str]] = []
    token, exhausted = None, False
    try:
        for _ in range(MAX_PAGES):
            limit = min(10_000, rs.options.report_lines - len(events))
            resp = client.filter_log_events(
                logGroupName=t.group, startTime=_ms(rs.start), endTime=_ms(rs.end) - 1, filterPattern=FILTER_PATTERN,
                limit=limit, **({"nextToken": token} if token else {}))
            events += [(e["timestamp"], e["message"]) for e in resp.get("events", [])]
            token = resp.get("nextToken")
            if not token:
                exhausted = True
                break
            if len(events) >= rs.options.report_lines:
                break
    except (ClientError, BotoCoreError) as exc:
        rs.failed("reports", exc, name)
        rs.progress.step(1)
        return
    df = logs.parse_reports([m for _, m in events])
    rs.progress.step(1)
    if df.empty:
        return
    n = len(df)
    share = fraction(n, metric_invocations, complete=exhausted)
    rs.reports.append(_report_row(rs, t, report_stats(df), "filter_log_events", share))
    stamps = pd.to_datetime(np.array([events[i][0] for i in df["line"]], dtype="int64"), unit="ms", utc=True)
    if rs.options.report_samples:
        keep = np.unique(np.linspace(0, n - 1, min(n, rs.options.report_samples)).round().astype(int))
        rs.samples.append(pd.DataFrame({"account_id": rs.account_id, "region": rs.region, "function_name": name,
                                        "timestamp": stamps[keep].floor("s"),
                                        "message": [events[df["line"].iloc[i]][1] for i in keep]}))
    if share == 1.0:
        timed_out = df["status"].fillna("").to_numpy() == "timeout"
        if timed_out.any():
            days = stamps[timed_out].floor("D")
            rows = [(name, day, float(count)) for day, count in pd.Series(1, index=days).groupby(level=0).sum().items()]
            rs.metrics.append(_timeouts_frame(rs, rows))

