"""The architecture review: one findings engine over the seed article's whole checklist.

:func:`run` (or :func:`findings`) turns a snapshot into ONE table of findings, one row per thing a review
should talk about, with the columns of :data:`COLUMNS`:

* ``id`` — what kind of finding (the checklist in :data:`CHECKS`), ``severity`` — high, medium or low;
* ``account_id, region, function`` — where;
* ``title``, ``evidence`` — the numbers behind it, and ``evidence_path`` — which source produced them
  (``reports:sample``/``reports:insights`` REPORT-line statistics, ``metrics:<name>`` CloudWatch metrics,
  ``calls:xray`` traced calls, ``insights`` CPU share, ``functions.<column>`` configuration, ``roles``, ...);
* ``monthly_impact_usd`` with a ``monthly_impact_low_usd``/``_high_usd`` band where it can be quantified (USD a
  month saved by following the recommendation; NaN for risks without a price: throttles, a deprecated runtime,
  an IAM wildcard...);
* ``recommendation`` and ``section`` — the part of the seed article it belongs to (:data:`SECTIONS`).

It composes the models other modules own — :mod:`memory` (``memory-overprovisioned``,
``memory-underprovisioned``, ``arm64-candidate``, derived from :func:`memory.recommend_all`), :mod:`triggers`,
:mod:`reads` and :mod:`coldstarts` (their ``findings``) — and adds its own rules, small functions over the
snapshot tables (``stream-iterator-age``, ``timeout-headroom``, ``timeout-rate``, ``error-rate``,
``throttles``, ``deprecated-runtime``, ``vpc-review``, ``iam-wildcard``, ``secret-env-names``,
``orchestration-in-code``, ``transport-only``). A module or rule that fails does not sink the review: the
failure is kept in :attr:`Review.errors` (and ``findings.attrs["errors"]``) and the rest still runs.

Thresholds are parameters: :class:`Thresholds` for the rules here (each field documents its default), and
``module_thresholds={"triggers": {...}, "reads": {...}, "coldstarts": {...}, "memory": {...}}`` passed through
to the modules. Pure: snapshot in, tables out (the price book and the runtime table are data files).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import billing, costs, datafiles
from . import findings as contract
from . import prices as _prices
from .findings import COLUMNS, MONEY, NOT_SAVINGS, SECTIONS, SEVERITIES  # noqa: F401  (public: review.COLUMNS, ...)
from .schema import KEY, Snapshot

MODULES = ("rules", "memory", "triggers", "reads", "coldstarts")


@dataclass(frozen=True)
class Check:
    section: str
    module: str
    checks: str


#: The checklist: every finding id the engine can produce, its section, the module that owns it, what it checks.
CHECKS: dict[str, Check] = {
    "memory-overprovisioned": Check("execution environment", "memory", "a smaller memory size saves at least 10% "
                                    "of the function's cost and is at most 10% slower, with 90% probability under "
                                    "the duration model"),
    "memory-underprovisioned": Check("execution environment", "memory", "a larger size makes the function at "
                                     "least 25% faster for at most 10% more (90% probability)"),
    "memory-measure": Check("execution environment", "memory", "a memory change that is plausible and worth money "
                            "but not certain from what was measured: measure it first (command and cost given)"),
    "arm64-candidate": Check("execution environment", "memory", "an x86_64 function that arm64 would run for at "
                             "least 10% less without being 10% slower at the same size (90% probability)"),
    "apigw-rest-to-http": Check("invocation source", "triggers", "a REST API using no REST-only feature, where an "
                                "HTTP API costs less"),
    "batch-size": Check("invocation source", "triggers", "a queue or stream whose cheapest batch size and window "
                        "within the wait bound saves money"),
    "sync-for-async": Check("invocation source", "triggers", "a synchronous API that waits on calls whose "
                            "results its response does not use"),
    "stream-iterator-age": Check("invocation source", "rules", "a stream consumer whose IteratorAge stays above "
                                 "the alarm value: it falls behind and may lose records"),
    "dynamodb-scan": Check("external services", "reads", "a Scan whose filter keeps a small share of the items "
                           "it pays for"),
    "dynamodb-query-filter": Check("external services", "reads", "a Query whose filter throws most evaluated "
                                   "items away"),
    "s3-whole-object": Check("external services", "reads", "whole-object GETs of which little is used"),
    "cold-starts": Check("execution environment", "coldstarts", "frequent cold starts that lift a synchronous "
                         "p99 or bill real INIT money"),
    "init-heavy": Check("function code", "coldstarts", "a long INIT (package size and layers as likely causes)"),
    "provisioned-concurrency": Check("execution environment", "coldstarts", "idle or too small provisioned "
                                     "concurrency, or a steady load it would serve for less"),
    "vpc-init": Check("execution environment", "coldstarts", "VPC attachment on a function with frequent cold "
                      "starts (heuristic)"),
    "per-invocation-setup": Check("function code", "coldstarts", "clients or secrets set up on every invocation "
                                  "(heuristic)"),
    "timeout-headroom": Check("execution environment", "rules", "a timeout far above the slowest observed "
                              "duration: a hang bills up to the timeout"),
    "timeout-rate": Check("execution environment", "rules", "more than 10% of a day's invocations time out "
                          "(Trusted Advisor L4dfs2Q3C3)"),
    "error-rate": Check("function code", "rules", "more than 10% of a day's invocations fail (Trusted Advisor "
                        "L4dfs2Q3C2)"),
    "throttles": Check("execution environment", "rules", "requests rejected by a concurrency limit"),
    "deprecated-runtime": Check("execution environment", "rules", "a runtime past (or close to) the end of "
                                "support (Trusted Advisor L4dfs2Q4C5)"),
    "vpc-review": Check("execution environment", "rules", "VPC only where needed: a VPC function reaching public "
                        "endpoints through NAT, with no private resource in evidence, or in one subnet"),
    "iam-wildcard": Check("external services", "rules", "an execution role granting actions with '*' "
                          "(least privilege)"),
    "secret-env-names": Check("execution environment", "rules", "environment variables whose names say they "
                              "hold secrets (names only: values are never read)"),
    "orchestration-in-code": Check("function code", "rules", "long low-CPU waits and retries inside one "
                                   "invocation: a workflow's job (Step Functions)"),
    "transport-only": Check("function code", "rules", "a function that only forwards events to another service: "
                            "a direct integration moves them without code"),
}

#: The finding ids the issue requires (each has a sample-account archetype).
REQUIRED_IDS = tuple(k for k in CHECKS if k not in ("dynamodb-query-filter", "vpc-init", "per-invocation-setup"))


def _t(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Thresholds:
    """When this module's rules fire (the modules' own thresholds go in ``module_thresholds``)."""

    timeout_rate: float = _t(0.10, "timeout-rate: share of one day's invocations that timed out (Trusted Advisor: "
                             "> 10% on any day)")
    error_rate: float = _t(0.10, "error-rate: share of one day's invocations that failed, timeouts left out when "
                           "they are counted (Trusted Advisor: > 10% on any day)")
    min_daily_invocations: float = _t(20.0, "timeout-rate, error-rate: days with fewer invocations are not judged")
    rate_days: float = _t(0.0, "timeout-rate, error-rate: judge only the last this many days of the window "
                          "(Trusted Advisor looks at 7; 0 = every day of the snapshot)")
    headroom_ratio: float = _t(10.0, "timeout-headroom: timeout at least this many times the slowest observed "
                               "duration (the larger of p99 and the maximum)")
    headroom_min_s: float = _t(60.0, "timeout-headroom: ... and at least this many seconds above it")
    throttle_share: float = _t(0.001, "throttles: throttled share of the requests over the window")
    min_throttles: float = _t(100.0, "throttles: at least this many throttled requests in the window")
    iterator_age_ms: float = _t(30_000.0, "stream-iterator-age: hourly maximum IteratorAge above this (the Lambda "
                                "developer guide's alarm value, 30 s)")
    iterator_age_hours: float = _t(3.0, "stream-iterator-age: ... in at least this many hours of the window")
    stream_retention_h: float = _t(24.0, "stream-iterator-age: stream retention assumed (24 h, the Kinesis and "
                                   "DynamoDB Streams default); an age above half of it is high severity")
    runtime_warn_days: float = _t(90.0, "deprecated-runtime: also warn this many days before the end of support")
    orchestration_wait_ms: float = _t(1000.0, "orchestration-in-code: sleeps plus retried calls per invocation (ms)")
    orchestration_wait_share: float = _t(0.25, "orchestration-in-code: ... as a share of the mean duration")
    orchestration_max_cpu: float = _t(0.20, "orchestration-in-code: CPU share of the duration at or below this, "
                                      "when Lambda Insights or X-Ray measured it")
    express_memory_mb: float = _t(64.0, "orchestration-in-code: memory billed for an Express workflow (the "
                                  "smallest 64 MB chunk; not observable beforehand)")
    transport_max_cpu: float = _t(0.10, "transport-only: CPU share of the duration at or below this")
    transport_call_share: float = _t(0.5, "transport-only, CPU share unknown: the forwarding calls take at least "
                                     "this share of the mean duration")
    secret_names: str = _t(r"(^|_)(SECRET|PASSWORD|PASSWD|PWD|TOKEN|CREDENTIALS?|PRIVATE_?KEY|API_?KEY|ACCESS_KEY|"
                           r"SIGNING_KEY|CLIENT_SECRET|CONNECTION_STRING)(_|$)",
                           "secret-env-names: regular expression (case-insensitive) for names that hold secrets")
    secret_reference_suffixes: str = _t("ARN,NAME,ID,PATH,PARAM,PARAMETER,REF,TABLE,BUCKET,QUEUE,TOPIC,TTL",
                                        "secret-env-names: last name parts that mark a reference to a secret, "
                                        "not a secret (comma-separated)")
    medium_usd: float = _t(10.0, "severity of a finding priced by this module: medium from this USD a month")
    high_usd: float = _t(100.0, "... high from this USD a month")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Thresholds:
        """Thresholds from a mapping (a YAML file's ``thresholds:``); unknown names are a clear error."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown review threshold(s) {unknown}; known: {', '.join(known)}")
        for name, value in values.items():
            if isinstance(known[name].default, str):
                if not isinstance(value, str):
                    raise ValueError(f"review threshold {name!r} must be a string, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"review threshold {name!r} must be a number >= 0, got {value!r}")
        return cls(**values)

    def severity(self, usd: float) -> str:
        """The severity of a finding worth ``usd`` a month (``medium_usd``, ``high_usd``)."""
        return self.policy()(usd)

    def policy(self) -> contract.Severity:
        """The dollars-to-severity policy every module receives (:class:`findings.Severity`)."""
        return contract.Severity(self.medium_usd, self.high_usd)


def describe_thresholds() -> pd.DataFrame:
    """Every threshold of :class:`Thresholds` with its default and meaning."""
    return pd.DataFrame([(f.name, f.default, f.metadata["doc"]) for f in fields(Thresholds)],
                        columns=["threshold", "default", "meaning"]).set_index("threshold")


def checklist() -> pd.DataFrame:
    """The checklist: every finding id with its section, owning module and what it checks."""
    return pd.DataFrame([(k, c.section, c.module, c.checks) for k, c in CHECKS.items()],
                        columns=["id", "section", "module", "checks"])


# --------------------------------------------------------------------------------------------------------
# the context the rules share


@lru_cache(maxsize=1)
def runtime_table() -> dict[str, Any]:
    """``data/runtimes/lambda-runtimes.json``: deprecation dates of Lambda runtimes, with their sources."""
    path = datafiles.data_dir() / "runtimes" / "lambda-runtimes.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["path"] = str(path)
    return doc


def resolve_as_of(snapshot: Snapshot, as_of: Any = "auto") -> tuple[dt.date, str]:
    """The date runtime support is judged against: ``"auto"`` is today for a live scan (a snapshot not read
    from disk) and the snapshot's end otherwise; ``"end"``, ``"today"`` or a date force it."""
    end = pd.Timestamp(snapshot.manifest["end"]).date()
    if as_of in (None, "auto"):
        live = snapshot.manifest.get("source") == "aws" and snapshot.path is None
        as_of = "today" if live else "end"
    if as_of == "end":
        return end, "the snapshot's end"
    if as_of == "today":
        return dt.datetime.now(dt.UTC).date(), "today (live scan)"
    try:
        return pd.Timestamp(as_of).date(), "given"
    except (ValueError, TypeError):
        raise ValueError(f"as_of must be 'auto', 'end', 'today' or a date, got {as_of!r}") from None


class _Context:
    """Tables the rules share, computed once: per-function costs, daily counts, calls, triggers, CPU share."""

    def __init__(self, snapshot: Snapshot, as_of: tuple[dt.date, str]):
        self.snap = snapshot
        self.as_of, self.as_of_basis = as_of
        self.factor = costs.month_factor(snapshot)
        self.end = pd.Timestamp(snapshot.manifest["end"])
        self.costs = costs.function_costs(snapshot).set_index(KEY)
        self.functions = snapshot.functions.set_index(KEY)
        m = snapshot.metrics
        counts = m[m["metric"].isin(["Invocations", "Errors", "Throttles", "Timeouts"]) & (m["stat"] == "Sum")]
        day = counts["timestamp"].dt.floor("D").rename("day")
        self.daily = counts.pivot_table(index=KEY + [day], columns="metric", values="value", aggfunc="sum",
                                        fill_value=0.0)
        for col in ("Invocations", "Errors", "Throttles", "Timeouts"):
            if col not in self.daily.columns:
                self.daily[col] = 0.0
        self.has_timeouts = set(map(tuple, m.loc[m["metric"] == "Timeouts", KEY].drop_duplicates().to_numpy()))
        self.metrics = m
        self._calls = {k: g for k, g in snapshot.calls.groupby(KEY)}
        self._triggers = {k: g for k, g in snapshot.triggers[snapshot.triggers["enabled"]].groupby(KEY)}
        ins = snapshot.insights.dropna(subset=["cpu_fraction"])
        self._cpu = {tuple(r[k] for k in KEY): (float(r["cpu_fraction"]), str(r["evidence"])) for _, r in ins.iterrows()}
        rep = snapshot.reports
        self._reports = dict(zip(map(tuple, rep[KEY].to_numpy()), rep["timeouts"], strict=True))

    def function_keys(self) -> list[tuple]:
        """Every function of the snapshot (each has a row in :attr:`costs` too)."""
        return list(self.functions.index)

    def calls(self, key: tuple) -> pd.DataFrame:
        return self._calls.get(key, self.snap.calls.iloc[0:0])

    def triggers(self, key: tuple) -> pd.DataFrame:
        return self._triggers.get(key, self.snap.triggers.iloc[0:0])

    def cpu(self, key: tuple) -> tuple[float, str]:
        return self._cpu.get(key, (math.nan, ""))

    def timeouts(self, key: tuple) -> float:
        """Timed-out invocations in the window: the daily Timeouts metric, else the REPORT-line count."""
        if key in self.has_timeouts:
            return float(self.daily.loc[key, "Timeouts"].sum())
        rep = self._reports.get(key)
        return float(rep) if rep is not None and rep == rep else 0.0

    def sync(self, key: tuple) -> bool:
        t = self.triggers(key)
        return bool(len(t)) and bool(t["sync"].any())

    def invocation_usd(self, key: tuple, duration_ms: float, n: float = 1.0) -> float:
        """USD of ``n`` invocations of ``duration_ms`` at the function's memory and architecture."""
        f = self.functions.loc[key]
        mem = min(max(float(f["memory_mb"]), billing.MEMORY_RANGE_MB[0]), billing.MEMORY_RANGE_MB[1])
        return billing.lambda_cost(n, max(duration_ms, 0.0), mem, arch=f["arch"], book=_prices.load(key[1]))

    def metric(self, key: tuple, metric: str, stat: str) -> pd.DataFrame:
        m = self.metrics
        sel = m[(m["metric"] == metric) & (m["stat"] == stat)]
        mask = (sel["account_id"] == key[0]) & (sel["region"] == key[1]) & (sel["function_name"] == key[2])
        return sel[mask]


def _row(fid: str, key: tuple, severity: str, title: str, evidence: str, path: str, recommendation: str,
         impact: float = math.nan, low: float = math.nan, high: float = math.nan, meaning: str = "") -> dict[str, Any]:
    band = contract.Band(impact, low, high, meaning) if impact == impact else None
    return contract.Finding(fid, key, severity, title, evidence, recommendation, CHECKS[fid].section,
                            tuple(path.split("; ")), band=band).row()


def _usd(x: float) -> str:
    return f"${x:,.2f}"


def _calls_text(calls: pd.DataFrame, n: int = 3) -> str:
    c = calls.assign(total=calls["calls_per_invocation"].fillna(0) * calls["mean_ms"].fillna(0))
    c = c.sort_values("total", ascending=False).head(n)
    return "; ".join(f"{r.service} {r.operation} {r.resource} ({r.calls_per_invocation:g}× {r.mean_ms:,.0f} ms)"
                     for r in c.itertuples())


def _calls_path(calls: pd.DataFrame) -> str:
    return "calls:" + "+".join(sorted(set(calls["evidence"].astype(str)))) if len(calls) else ""


# --------------------------------------------------------------------------------------------------------
# rules: reliability (Trusted Advisor thresholds)


def _daily_rate(ctx: _Context, t: Thresholds, fid: str, limit: float) -> list[dict]:
    """timeout-rate / error-rate: a day whose share of failed invocations exceeds ``limit``."""
    out = []
    for key, g in ctx.daily.groupby(level=[0, 1, 2]):
        if key not in ctx.costs.index:
            continue
        g = g.droplevel([0, 1, 2])
        timeouts_known = key in ctx.has_timeouts
        if fid == "timeout-rate":
            bad = g["Timeouts"]
            if not timeouts_known:
                continue
        else:
            bad = (g["Errors"] - g["Timeouts"]).clip(lower=0) if timeouts_known else g["Errors"]
        inv = g["Invocations"]
        judged = inv >= t.min_daily_invocations
        if t.rate_days:
            judged &= g.index >= ctx.end - pd.Timedelta(days=t.rate_days)
        rate = (bad / inv.where(inv > 0)).where(judged)
        over = rate[rate > limit]
        if over.empty:
            continue
        worst = rate.idxmax()
        f = ctx.functions.loc[key]
        c = ctx.costs.loc[key]
        what = "timed out" if fid == "timeout-rate" else "failed"
        total_bad, total_inv = float(bad.sum()), float(inv.sum())
        per_ms = float(f["timeout_s"]) * 1000.0 if fid == "timeout-rate" else float(c["duration_mean_ms"] or 0.0)
        lost = ctx.invocation_usd(key, per_ms, total_bad * ctx.factor)
        worst_day = ctx.invocation_usd(key, per_ms, float(bad[worst]))
        spikes = ctx.invocation_usd(key, per_ms, float(bad[over.index].sum()) * ctx.factor)
        calls = ctx.calls(key)
        evidence = (f"{len(over)} of {int(judged.sum())} days above {limit:.0%}: worst {worst:%Y-%m-%d} {rate[worst]:.1%} "
                    f"({bad[worst]:,.0f} of {inv[worst]:,.0f} invocations {what}); over the window {total_bad:,.0f} "
                    f"of {total_inv:,.0f} ({total_bad / max(total_inv, 1):.2%})")
        if fid == "timeout-rate":
            evidence += f"; timeout {f['timeout_s']:g} s, so each one billed {per_ms / 1000:g} s"
            path = "metrics:Timeouts (daily, from REPORT lines); metrics:Invocations"
        else:
            evidence += "; timeouts left out (counted separately)" if timeouts_known else "; includes any timeouts"
            path = "metrics:Errors" + ("-Timeouts" if timeouts_known else "") + "; metrics:Invocations"
        if len(calls):
            evidence += f". Slowest downstream calls: {_calls_text(calls, 2)}"
            path += "; " + _calls_path(calls)
        evidence += (f". Lost compute (the failed invocations' bill): {_usd(lost)}/month at the window's rate; "
                     f"{_usd(spikes)}/month from the {len(over)} day(s) above {limit:.0%} alone; {_usd(worst_day)} "
                     "on the worst day")
        sync = ctx.sync(key)
        if fid == "timeout-rate":
            title = f"{rate[worst]:.0%} of invocations timed out on {worst:%Y-%m-%d}"
            rec = ("Find what hangs (the slowest calls above; X-Ray shows which): give every SDK and HTTP client a "
                   "timeout shorter than the function's — default SDK timeouts can exceed it — and retry with "
                   "backoff or fail fast behind a circuit breaker; for asynchronous callers keep an on-failure "
                   "destination or dead-letter queue so timed-out events are not lost.")
        else:
            title = f"{rate[worst]:.0%} of invocations failed on {worst:%Y-%m-%d}"
            rec = ("Look at the worst day's errors in the logs (Logs Insights: filter @type = 'REPORT' or ERROR "
                   "lines by day); handle the dependency's failures explicitly (retry with backoff, return partial "
                   "batch failures for queues and streams) and alarm on the Errors/Invocations ratio per day.")
        out.append(_row(fid, key, "high" if sync else "medium", title, evidence, path, rec,
                        lost, min(spikes, lost), lost))
    return out


def rule_timeout_rate(ctx: _Context, t: Thresholds) -> list[dict]:
    """``timeout-rate``: more than ``timeout_rate`` of a day's invocations timed out (daily Timeouts metric)."""
    return _daily_rate(ctx, t, "timeout-rate", t.timeout_rate)


def rule_error_rate(ctx: _Context, t: Thresholds) -> list[dict]:
    """``error-rate``: more than ``error_rate`` of a day's invocations failed (Errors minus Timeouts)."""
    return _daily_rate(ctx, t, "error-rate", t.error_rate)


def rule_throttles(ctx: _Context, t: Thresholds) -> list[dict]:
    """``throttles``: at least ``min_throttles`` throttled requests and ``throttle_share`` of all requests."""
    out = []
    totals = ctx.daily.groupby(level=[0, 1, 2])[["Invocations", "Throttles"]].sum()
    for key, r in totals.iterrows():
        thr, inv = float(r["Throttles"]), float(r["Invocations"])
        if key not in ctx.functions.index or thr < t.min_throttles or thr / max(thr + inv, 1.0) < t.throttle_share:
            continue
        f = ctx.functions.loc[key]
        per_min = ctx.metric(key, "Throttles", "Sum")
        peak = ctx.metric(key, "ConcurrentExecutions", "Maximum")["value"].max()
        days = ctx.daily.loc[key]
        bad_days = days[days["Throttles"] > 0]
        worst = per_min.loc[per_min["value"].idxmax()] if len(per_min) else None
        reserved = f["reserved_concurrency"]
        sync = ctx.sync(key)
        evidence = (f"{thr:,.0f} of {thr + inv:,.0f} requests throttled ({thr / (thr + inv):.2%}) on {len(bad_days)} "
                    f"day(s)")
        if worst is not None:
            evidence += f"; worst minute {worst['timestamp']:%Y-%m-%d %H:%M} UTC: {worst['value']:,.0f} throttled"
        evidence += f"; peak concurrency {peak:g}" if pd.notna(peak) else ""
        evidence += (f"; reserved concurrency {reserved:g}" if pd.notna(reserved) else
                     "; no reserved concurrency (the account's unreserved pool ran out)")
        trig = ", ".join(sorted(set(ctx.triggers(key)["source_type"]))) or "unknown trigger"
        evidence += f"; trigger: {trig}" + (" (callers get HTTP 429 / TooManyRequests)" if sync else "")
        if pd.notna(reserved):
            rec = (f"Reserved concurrency {reserved:g} caps the function below its bursts: raise it to the burst's "
                   "need (requests per second × duration in seconds, plus headroom), or, if the cap protects a "
                   "downstream on purpose, put a queue in front and let the consumer drain it at the capped rate.")
        else:
            rec = ("Raise the account's concurrency quota (Service Quotas) or reserve concurrency for this function so "
                   "other functions cannot starve it; smooth bursts with a queue where callers need not wait.")
        out.append(_row("throttles", key, "high" if sync else "medium",
                        f"{thr:,.0f} requests throttled ({thr / (thr + inv):.1%})", evidence,
                        "metrics:Throttles; metrics:ConcurrentExecutions; functions.reserved_concurrency", rec))
    return out


def rule_stream_iterator_age(ctx: _Context, t: Thresholds) -> list[dict]:
    """``stream-iterator-age``: hourly maximum IteratorAge above ``iterator_age_ms`` in enough hours."""
    m = ctx.metrics
    ages = m[(m["metric"] == "IteratorAge") & (m["stat"] == "Maximum")]
    out = []
    for key, g in ages.groupby(KEY):
        if key not in ctx.functions.index:
            continue
        g = g.sort_values("timestamp")
        over = g[g["value"] > t.iterator_age_ms]
        if len(over) < t.iterator_age_hours:
            continue
        worst = float(g["value"].max())
        n = max(len(g) // 7, 1)
        first, last = float(g["value"].head(n).mean()), float(g["value"].tail(n).mean())
        growing = last > 2 * first and last > t.iterator_age_ms
        retention_ms = t.stream_retention_h * 3_600_000.0
        trig = ctx.triggers(key)
        trig = trig[trig["source_type"].isin(["kinesis", "dynamodb-streams", "msk"])]
        c = ctx.costs.loc[key]
        evidence = (f"IteratorAge above {t.iterator_age_ms / 1000:g} s in {len(over)} of {len(g)} hours; worst "
                    f"{worst / 3_600_000:.2f} h ({worst / retention_ms:.0%} of a {t.stream_retention_h:g} h retention); "
                    f"first {n} h average {first / 1000:,.1f} s, last {n} h {last / 1000:,.1f} s"
                    + (" — still growing" if growing else ""))
        if len(trig):
            r = trig.iloc[0]
            evidence += (f"; {r['source_type']} trigger ({r['detail']}), batch size {r['batch_size']:g}, "
                         f"parallelization {r['parallelization'] if pd.notna(r['parallelization']) else 1:g}")
        evidence += f"; mean duration per batch {c['duration_mean_ms']:,.0f} ms"
        rec = ("The consumer cannot keep up: raise the event source mapping's ParallelizationFactor (up to 10 "
               "concurrent batches per shard) or add shards, make each batch cheaper (larger batches amortise "
               "per-invocation work; more memory buys CPU if the work is CPU-bound), and set "
               "MaximumRecordAgeInSeconds with an on-failure destination so records that would expire are kept.")
        sev = "high" if worst >= 0.5 * retention_ms or growing else "medium"
        out.append(_row("stream-iterator-age", key, sev, f"Stream consumer {worst / 3_600_000:.1f} h behind",
                        evidence, "metrics:IteratorAge (Maximum, hourly); triggers", rec))
    return out


def rule_timeout_headroom(ctx: _Context, t: Thresholds) -> list[dict]:
    """``timeout-headroom``: timeout ≥ ``headroom_ratio`` × the slowest observed duration and ``headroom_min_s``
    above it, on a function that never timed out."""
    out = []
    maxima = ctx.metrics[(ctx.metrics["metric"] == "Duration") & (ctx.metrics["stat"].isin(["Maximum", "p99"]))]
    slow = maxima.groupby(KEY + ["stat"])["value"].max().unstack("stat")
    for key in ctx.function_keys():
        c = ctx.costs.loc[key]
        if not c["invocations"] > 0:
            continue
        if ctx.timeouts(key) > 0:
            continue
        p99 = float(c["duration_p99_ms"]) if pd.notna(c["duration_p99_ms"]) else math.nan
        path = c["path"] if pd.notna(c["duration_p99_ms"]) else ""
        observed_max = math.nan
        if key in slow.index:
            row = slow.loc[key]
            if "p99" in row and pd.notna(row["p99"]) and math.isnan(p99):
                p99, path = float(row["p99"]), "metrics:Duration p99"
            if "Maximum" in row and pd.notna(row["Maximum"]):
                observed_max = float(row["Maximum"])
        ref = np.nanmax([p99, observed_max]) if (p99 == p99 or observed_max == observed_max) else math.nan
        if not ref > 0:
            continue
        timeout_ms = float(ctx.functions.loc[key, "timeout_s"]) * 1000.0
        if timeout_ms < t.headroom_ratio * ref or timeout_ms - ref < t.headroom_min_s * 1000.0:
            continue
        suggested_s = max(3, math.ceil(3 * ref / 1000.0))
        day = float(ctx.costs.loc[key, "invocations_per_month"]) / (billing.MONTH_HOURS / 24.0)
        hang_now = ctx.invocation_usd(key, timeout_ms, day)
        hang_new = ctx.invocation_usd(key, suggested_s * 1000.0, day)
        seen = [f"p99 {p99 / 1000:,.2f} s" if p99 == p99 else "",
                f"slowest observed {observed_max / 1000:,.2f} s" if observed_max == observed_max else ""]
        evidence = (f"timeout {timeout_ms / 1000:g} s; {', '.join(s for s in seen if s)}: the timeout is "
                    f"{timeout_ms / ref:,.0f}× the slowest and no invocation timed out. If a dependency hangs for a "
                    f"day, the {day:,.0f} invocations of a mean day bill {_usd(hang_now)} at today's timeout vs "
                    f"{_usd(hang_new)} at {suggested_s} s")
        rec = (f"Lower the timeout towards {suggested_s} s (about 3× the slowest observed run) so a hung dependency "
               "fails fast and cheaply, and keep client timeouts below it; raise it again only with evidence.")
        sev = "medium" if timeout_ms >= 300_000 else "low"
        paths = "; ".join(p for p in (path, "metrics:Duration Maximum" if observed_max == observed_max else "",
                                       "functions.timeout_s") if p)
        out.append(_row("timeout-headroom", key, sev, f"Timeout {timeout_ms / 1000:g} s for runs of at most "
                        f"{ref / 1000:,.1f} s", evidence, paths, rec))
    return out


# --------------------------------------------------------------------------------------------------------
# rules: configuration


def _runtime_family(runtime: str) -> str:
    return re.sub(r"[\d.]+(\.x|\.al2(023)?)?$", "", runtime.split(".al2")[0]) if runtime else ""


def rule_deprecated_runtime(ctx: _Context, t: Thresholds) -> list[dict]:
    """``deprecated-runtime``: a runtime past its end of support at the review date, or within
    ``runtime_warn_days`` of it (dates: ``data/runtimes/lambda-runtimes.json``)."""
    table = runtime_table()
    rts = table["runtimes"]
    out = []
    for key in ctx.function_keys():
        runtime = str(ctx.functions.loc[key, "runtime"] or "")
        if runtime not in rts:
            continue
        end = dt.date.fromisoformat(rts[runtime]["deprecation"])
        days = (end - ctx.as_of).days
        if days > t.runtime_warn_days:
            continue
        family = _runtime_family(runtime)
        same = {r: v for r, v in rts.items() if _runtime_family(r) == family and r != runtime}
        newest = max(same, key=lambda r: rts[r]["deprecation"]) if same else None
        past = days <= 0
        evidence = (f"runtime {runtime}: end of support {end:%Y-%m-%d} "
                    + (f"({-days} days before the review date" if past else f"(in {days} days from the review date")
                    + f" {ctx.as_of:%Y-%m-%d}, {ctx.as_of_basis}); dates from {table['source'].split(':')[0]} "
                    f"as of {table['as_of']}")
        if past:
            evidence += "; past that date Lambda no longer patches it, and creating or updating such functions is blocked later"
        rec = (f"Upgrade to {newest} (supported until {rts[newest]['deprecation']}"
               + (f", per {rts[newest]['source']}" if rts[newest].get("source") else "") + ")" if newest else
               "Move to a supported runtime") + (
               "; test the code and its dependencies on it first (major versions change APIs and defaults).")
        title = (f"{runtime} reached end of support on {end:%Y-%m-%d}" if past else
                 f"{runtime} reaches end of support on {end:%Y-%m-%d}")
        out.append(_row("deprecated-runtime", key, "high" if past else "medium", title, evidence,
                        "functions.runtime; data/runtimes/lambda-runtimes.json", rec))
    return out


_PRIVATE_SERVICES = {"rds", "aurora", "elasticache", "redis", "memcached", "documentdb", "docdb", "neptune",
                     "opensearch", "elasticsearch", "msk", "kafka", "efs", "memorydb", "redshift"}
_GATEWAY_ENDPOINT_SERVICES = {"s3", "dynamodb"}
_PRIVATE_HOST = re.compile(r"(^|[./])(internal|local|lan|corp|intra)([./:]|$)|^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)")


def _destination(service: str, resource: str) -> str:
    """private (in the VPC), gateway (S3/DynamoDB: free gateway endpoints), aws (other public AWS endpoints),
    internet (a public host) or none (a wait)."""
    s = str(service).lower()
    if s == "wait":
        return "none"
    if s in _PRIVATE_SERVICES:
        return "private"
    if s in _GATEWAY_ENDPOINT_SERVICES:
        return "gateway"
    if s == "http":
        return "private" if _PRIVATE_HOST.search(str(resource).lower()) else "internet"
    return "aws"


def rule_vpc_review(ctx: _Context, t: Thresholds) -> list[dict]:
    """``vpc-review``: a VPC function whose traced calls reach no private resource, or whose public traffic
    goes through a NAT gateway, or whose VPC config has a single subnet."""
    out = []
    for key in ctx.function_keys():
        f = ctx.functions.loc[key]
        if not str(f["vpc_id"] or ""):
            continue
        calls = ctx.calls(key)
        dest = calls.apply(lambda r: _destination(r["service"], r["resource"]), axis=1) if len(calls) else pd.Series(
            dtype=object)
        private = calls[dest == "private"]
        public = calls[dest.isin(["gateway", "aws", "internet"])]
        single = int(f["subnet_count"]) < 2
        if len(calls) and public.empty and not single:
            continue  # reaches only private resources: the VPC is needed
        c = ctx.costs.loc[key]
        kb = float(((public["calls_per_invocation"].fillna(0) + public["retries_per_invocation"].fillna(0))
                    * public["response_kb"].fillna(0)).sum()) if len(public) else 0.0
        # calls whose size or count is not recorded are unknown, not 0 KB: the NAT figure is then a lower bound
        unsized = public[public["response_kb"].isna() | public["calls_per_invocation"].isna()] if len(public) else public
        gb_month = kb * float(c["invocations_per_month"]) / 1024.0**2
        nat = gb_month * _prices.load(key[1]).price("vpc.nat_gateway_gb")
        parts = [f"VPC {f['vpc_id']}, {int(f['subnet_count'])} subnet(s), {int(f['security_group_count'])} "
                 "security group(s)"]
        if private.empty and len(calls):
            parts.append("no traced call reaches a private resource")
        elif len(private):
            parts.append("private resources: " + ", ".join(sorted(set(private["service"] + " " + private["resource"]))))
        if not len(calls):
            parts.append("no traced calls: whether it needs the VPC is not in evidence")
        if len(public):
            parts.append("public endpoints (through NAT unless VPC endpoints exist): " + ", ".join(
                sorted(set(public["service"] + " " + public["resource"]))) + f"; ≈{gb_month:,.3g} GB/month of "
                f"responses ({kb:,.1f} KB per invocation; request bodies are not recorded) = {_usd(nat)}/month of "
                "NAT data processing" + (" at least (unknown: the response size or call count of " + ", ".join(
                    sorted(set(unsized["service"] + " " + unsized["resource"]))) + " is not recorded, so it is not "
                    "priced)" if len(unsized) else ""))
        if single:
            parts.append("a single subnet: no Multi-AZ (Trusted Advisor L4dfs2Q4C6)")
        if private.empty:
            rec = ("Keep the VPC only if the function reaches private resources; none is in evidence, so detach it "
                   "and call the services through their public endpoints (no NAT gateway, no ENIs, simpler cold "
                   "starts).")
            title = "VPC attachment with no private resource in evidence"
        else:
            rec = ("The VPC is needed for the private resources; route S3 and DynamoDB through free gateway "
                   "endpoints and other AWS services through interface endpoints where the NAT bill justifies it, and "
                   "keep internet calls few.")
            title = "VPC function sends public traffic through NAT"
        if single:
            rec += " Configure subnets in at least two Availability Zones."
            if not len(public) and len(private):
                title = "VPC function in a single subnet"
        paths = "functions.vpc_id, subnet_count" + (f"; {_calls_path(calls)}" if len(calls) else "")
        sev = "medium" if (private.empty and len(calls)) or single else "low"
        impact = (nat, 0.0, nat) if len(public) else (math.nan, math.nan, math.nan)
        out.append(_row("vpc-review", key, sev, title, "; ".join(parts), paths, rec, *impact))
    return out


def rule_iam_wildcard(ctx: _Context, t: Thresholds) -> list[dict]:
    """``iam-wildcard``: the execution role allows actions containing ``*``."""
    roles = ctx.snap.roles
    if roles.empty:
        return []
    wild = roles[(roles["effect"].str.lower() == "allow") & roles["action"].str.contains("*", regex=False)]
    by_role = {k: g for k, g in wild.groupby(["account_id", "role_arn"])}
    out = []
    for key in ctx.function_keys():
        role = ctx.functions.loc[key, "role_arn"]
        g = by_role.get((key[0], role))
        if g is None:
            continue
        full = g["action"] == "*"
        service = g["action"].str.endswith(":*")
        any_resource = g["resource"] == "*"
        sev = "high" if (full.any() or (service & any_resource).any()) else "medium" if service.any() else "low"
        grants = "; ".join(f"{r.action} on {r.resource} ({r.policy_name})" for r in g.head(6).itertuples())
        more = f" and {len(g) - 6} more" if len(g) > 6 else ""
        calls = ctx.calls(key)
        used = sorted({f"{r.service}:{r.operation} on {r.resource}" for r in calls.itertuples()
                       if r.service not in ("http", "wait", "rds") and r.operation})
        evidence = f"role {role} allows {grants}{more}"
        if used:
            evidence += f". Traced calls need only: {', '.join(used)}"
        rec = ("Replace the wildcards with the actions the function calls on the resources it uses"
               + (f" ({', '.join(used)})" if used else "") + "; IAM Access Analyzer can generate a policy from the "
               "role's CloudTrail activity. A compromised or buggy function can then do no more than its job.")
        out.append(_row("iam-wildcard", key, sev, f"Execution role grants {', '.join(g['action'].head(3))}"
                        + (" …" if len(g) > 3 else ""), evidence,
                        "roles (execution-role policies)" + (f"; {_calls_path(calls)}" if len(calls) else ""), rec))
    return out


def secret_names(names: str | list[str], t: Thresholds | None = None) -> list[str]:
    """Environment variable names that look like they hold a secret (names only, never values)."""
    t = t or Thresholds()
    pattern = re.compile(t.secret_names, re.IGNORECASE)
    refs = {s.strip().upper() for s in t.secret_reference_suffixes.split(",") if s.strip()}
    items = names.split(";") if isinstance(names, str) else list(names)
    return [n for n in (x.strip() for x in items) if n and pattern.search(n) and n.upper().split("_")[-1] not in refs]


def rule_secret_env_names(ctx: _Context, t: Thresholds) -> list[dict]:
    """``secret-env-names``: environment variable names that say they hold secrets."""
    out = []
    for key in ctx.function_keys():
        found = secret_names(str(ctx.functions.loc[key, "env_var_names"] or ""), t)
        if not found:
            continue
        evidence = (f"environment variables named {', '.join(found)} (names only: the workbook never reads values); "
                    "anyone allowed lambda:GetFunctionConfiguration can read them in plain text")
        rec = ("Keep secrets in AWS Secrets Manager or SSM Parameter Store (SecureString), fetch them once in INIT "
               "(the AWS Parameters and Secrets Lambda Extension caches them) and keep only their names or ARNs in "
               "the environment; rotate the values that were exposed.")
        out.append(_row("secret-env-names", key, "medium", f"{len(found)} environment variable(s) look like secrets",
                        evidence, "functions.env_var_names", rec))
    return out


# --------------------------------------------------------------------------------------------------------
# rules: what the code does (calls table, CPU share)


def rule_orchestration_in_code(ctx: _Context, t: Thresholds) -> list[dict]:
    """``orchestration-in-code``: sleeps and retried calls take at least ``orchestration_wait_ms`` and
    ``orchestration_wait_share`` of an invocation that is mostly not CPU (CPU share ≤ ``orchestration_max_cpu``)."""
    out = []
    for key in ctx.function_keys():
        calls = ctx.calls(key)
        if calls.empty:
            continue
        c = ctx.costs.loc[key]
        mean = float(c["duration_mean_ms"]) if pd.notna(c["duration_mean_ms"]) else 0.0
        waits = calls[calls["service"].str.lower() == "wait"]
        sleep_ms = float((waits["calls_per_invocation"] * waits["mean_ms"]).sum())
        retries = calls["retries_per_invocation"].fillna(0.0)
        retry_ms = float((retries * calls["mean_ms"].fillna(0.0)).sum())
        total = sleep_ms + retry_ms
        cpu, cpu_from = ctx.cpu(key)
        if mean <= 0 or total < t.orchestration_wait_ms or total / mean < t.orchestration_wait_share:
            continue
        if cpu == cpu and cpu > t.orchestration_max_cpu:
            continue
        inv = float(c["invocations_per_month"])
        book = _prices.load(key[1])
        n_calls = float(calls.loc[calls["service"].str.lower() != "wait", "calls_per_invocation"].sum())
        transitions = 2.0 * float(waits["calls_per_invocation"].sum()) + n_calls + float(retries.sum()) + 2.0
        standard = inv * transitions * book.price("stepfunctions.standard.transition")
        gb_s = book.item("stepfunctions.express.gb_second")   # billed in the item's rounding steps
        step_ms, step_mb = float(gb_s["rounding_ms"]), float(gb_s["rounding_mb"])
        express_gb_s = (math.ceil(mean / step_ms) * step_ms / 1000.0
                        * math.ceil(t.express_memory_mb / step_mb) * step_mb / 1024.0)
        express = inv * (book.price("stepfunctions.express.request")
                         + express_gb_s * book.price("stepfunctions.express.gb_second"))
        lambda_wait = ctx.invocation_usd(key, sleep_ms, inv) - ctx.invocation_usd(key, 0.0, inv)
        fits_express = mean <= 300_000
        best, name = (express, "Express") if fits_express and express < standard else (standard, "Standard")
        saving = lambda_wait - best
        low, high = lambda_wait - 2.0 * best, lambda_wait - 0.5 * best   # the workflow at twice / half the estimate
        what = []
        if sleep_ms:
            what.append(f"{waits['calls_per_invocation'].sum():g} sleep(s) totalling {sleep_ms:,.0f} ms")
        if retry_ms:
            r = calls[retries > 0]
            what.append("retries: " + ", ".join(f"{x.retries_per_invocation:g}× {x.service} {x.operation} {x.resource}"
                                                 f" ({x.mean_ms:,.0f} ms)" for x in r.itertuples()))
        evidence = (f"{'; '.join(what)} per invocation = {total:,.0f} ms of a {mean:,.0f} ms mean ({total / mean:.0%})"
                    + (f"; CPU {cpu:.0%} of the duration ({cpu_from})" if cpu == cpu else "; CPU share not measured")
                    + f"; {inv:,.0f} invocations/month pay {_usd(lambda_wait)}/month for the sleeping. As a workflow "
                    f"(≈{transitions:,.0f} state transitions each): Standard {_usd(standard)}/month, Express "
                    + (f"{_usd(express)}/month ({t.express_memory_mb:g} MB assumed)" if fits_express else
                       "not possible (runs longer than 5 minutes)")
                    + "; band: the workflow at twice to half this estimate")
        rec = (f"Move the waiting and retrying into a Step Functions workflow ({name} is cheapest here): Wait states "
               "instead of sleeps, Retry with backoff instead of retry loops, and a Task per call; the function keeps "
               "only the work, runs for milliseconds, and a stuck step no longer holds a paid environment until "
               "the timeout. Wait states cost nothing while they wait.")
        out.append(_row("orchestration-in-code", key, "medium" if total >= 10_000 else "low",
                        f"Waits {total / 1000:,.1f} s per invocation inside the function", evidence,
                        "; ".join(p for p in (_calls_path(calls), c["path"], "insights" if cpu == cpu else "") if p),
                        rec, saving, min(low, high), max(low, high)))
    return out


_SINKS = {"kinesis": ("putrecord", "putrecords"), "firehose": ("putrecord", "putrecordbatch"),
          "sqs": ("sendmessage", "sendmessagebatch"), "sns": ("publish", "publishbatch"),
          "eventbridge": ("putevents",), "events": ("putevents",), "stepfunctions": ("startexecution",),
          "states": ("startexecution",)}
_SINK_NAMES = {"kinesis": "Kinesis", "firehose": "Data Firehose", "sqs": "SQS", "sns": "SNS",
               "eventbridge": "an EventBridge bus", "events": "an EventBridge bus", "stepfunctions": "Step Functions",
               "states": "Step Functions"}


def direct_integration(source_type: str, sink: str) -> str | None:
    """The AWS feature that moves events from ``source_type`` to ``sink`` without a function, if one exists."""
    target = _SINK_NAMES.get(sink, sink)
    if source_type in ("sqs", "sqs-fifo", "kinesis", "dynamodb-streams", "msk"):
        return f"an EventBridge Pipe ({source_type} → {target})"
    if source_type in ("eventbridge", "schedule") and sink in _SINK_NAMES:
        return f"the EventBridge rule's target set to {target} directly"
    if source_type == "sns" and sink in ("sqs", "firehose"):
        return f"an SNS subscription delivering to {target}"
    if source_type == "s3" and sink in ("sqs", "sns", "eventbridge", "events"):
        return f"S3 event notifications sent to {target}"
    if source_type in ("apigw-rest", "apigw-http") and sink in ("sqs", "kinesis", "stepfunctions", "states",
                                                                "eventbridge", "events"):
        return f"an API Gateway AWS service integration with {target}"
    return None


def rule_transport_only(ctx: _Context, t: Thresholds) -> list[dict]:
    """``transport-only``: every traced call forwards the event to another service (Kinesis, Firehose, SQS, SNS,
    EventBridge, Step Functions), the response does not use them, and the function barely uses CPU."""
    out = []
    for key in ctx.function_keys():
        calls = ctx.calls(key)
        trig = ctx.triggers(key)
        if calls.empty or trig.empty:
            continue
        svc = calls["service"].str.lower()
        op = calls["operation"].str.lower()
        if not all(o in _SINKS.get(s, ()) for s, o in zip(svc, op, strict=True)):
            continue
        c = ctx.costs.loc[key]
        mean = float(c["duration_mean_ms"]) if pd.notna(c["duration_mean_ms"]) else 0.0
        call_ms = float((calls["calls_per_invocation"] * calls["mean_ms"]).sum())
        cpu, cpu_from = ctx.cpu(key)
        if cpu == cpu:
            if cpu > t.transport_max_cpu:
                continue
        elif mean <= 0 or call_ms / mean < t.transport_call_share:
            continue
        source = trig.iloc[0]
        unused = not calls["result_used"].astype(bool).any()
        if not (unused or not bool(source["sync"])):
            continue
        how = direct_integration(str(source["source_type"]), svc.iloc[0])
        if how is None:
            continue
        usd = float(c["monthly_usd"])
        evidence = (f"{source['source_type']} trigger ({source['detail']}); every traced call forwards: "
                    f"{_calls_text(calls)}" + (", results unused" if unused else "") + "; "
                    + (f"CPU {cpu:.0%} of the duration ({cpu_from})" if cpu == cpu else
                       f"the forwarding calls take {call_ms / max(mean, 1e-9):.0%} of the {mean:,.0f} ms mean")
                    + f"; the function costs {_usd(usd)}/month ({c['invocations_per_month']:,.0f} invocations). "
                    "The integration's own charge is not in the price book: the saving shown is before it")
        rec = (f"Functions transform, they do not transport: replace the function with {how}; keep a function "
               "only as an enrichment step if the events must change on the way. Fewer moving parts, no code to "
               "patch, no invocations to pay for.")
        out.append(_row("transport-only", key, t.severity(usd), f"Only forwards events ({source['source_type']} "
                        f"→ {svc.iloc[0]}): a direct integration would do", evidence,
                        "; ".join(p for p in (_calls_path(calls), "insights" if cpu == cpu else c["path"], "triggers")
                                  if p), rec, usd, math.nan, usd))
    return out


RULES = {
    "timeout-rate": rule_timeout_rate, "error-rate": rule_error_rate, "throttles": rule_throttles,
    "stream-iterator-age": rule_stream_iterator_age, "timeout-headroom": rule_timeout_headroom,
    "deprecated-runtime": rule_deprecated_runtime, "vpc-review": rule_vpc_review, "iam-wildcard": rule_iam_wildcard,
    "secret-env-names": rule_secret_env_names, "orchestration-in-code": rule_orchestration_in_code,
    "transport-only": rule_transport_only,
}


# --------------------------------------------------------------------------------------------------------
# the modules other issues own, normalised into COLUMNS


def _memory_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any]) -> pd.DataFrame:
    """The memory decisions as findings: every text comes from :class:`memory.Decision` (see its row)."""
    from . import memory

    recs = memory.recommend_all(snapshot, **options)
    if recs.empty:
        return pd.DataFrame(columns=COLUMNS)
    fc = costs.function_costs(snapshot).set_index(KEY)
    have_cpu = set(map(tuple, snapshot.insights.dropna(subset=["cpu_fraction"])[KEY].to_numpy()))
    out = []
    for r in recs.to_dict("records"):
        key = (r["account_id"], r["region"], r["function_name"])
        path = (fc.loc[key, "path"] if key in fc.index else "", "insights" if key in have_cpu else "", "memory model")

        def finding(fid: str, sev: str, title: str, evidence: str, rec: str, band: contract.Band,
                    note: str = r["note"], key=key, path=path) -> contract.Finding:
            return contract.Finding(fid, key, sev, title, evidence, rec, CHECKS[fid].section, path, note, band)

        prob = float(r["probability"]) if r.get("probability") == r.get("probability") else math.nan
        if r["action"] in ("decrease", "increase"):
            s = float(r["monthly_savings_usd"])
            faster = 1.0 - r["recommended_duration_ms"] / r["duration_mean_ms"] if r["duration_mean_ms"] else 0.0
            sev = t.severity(s) if r["action"] == "decrease" else ("medium" if faster >= 0.5 else "low")
            out.append(finding(r["finding"], sev, r["title"], r["evidence_text"], r["recommendation"], contract.Band(
                s, float(r["monthly_savings_low_usd"]), float(r["monthly_savings_high_usd"]), probability=prob)))
        elif r["action"] == "measure":
            out.append(finding("memory-measure", "low", r["title"], r["evidence_text"], r["recommendation"],
                               contract.Band(float(r["measure_value_usd"]), float(r["measure_saving_low_usd"]),
                                             float(r["measure_saving_high_usd"]), probability=prob)))
        if bool(r["arm64_candidate"]):
            s = float(r["other_arch_savings_usd"])
            out.append(finding("arm64-candidate", t.severity(s), r["arm64_title"], r["arm64_evidence"],
                               r["arm64_recommendation"], contract.Band(
                                   s, float(r["other_arch_savings_low_usd"]), float(r["other_arch_savings_high_usd"]),
                                   probability=float(r["other_arch_probability"])), note=""))
    return contract.frame(out)


def _trigger_paths(snapshot: Snapshot) -> dict[tuple, str]:
    t = snapshot.triggers
    return {k: "triggers:" + "+".join(sorted(set(g["evidence"].astype(str)))) for k, g in t.groupby(KEY)}


def _with_severity(t: Thresholds, options: dict[str, Any]) -> dict[str, Any]:
    """A module's options with the review's dollars-to-severity thresholds, unless the module sets its own."""
    return {**t.policy().as_options(), **options}


def _triggers_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any]) -> pd.DataFrame:
    from . import triggers

    df = triggers.findings(snapshot, **_with_severity(t, options))
    paths = _trigger_paths(snapshot)
    fc = costs.function_costs(snapshot).set_index(KEY)
    calls = {k: _calls_path(g) for k, g in snapshot.calls.groupby(KEY)}
    out = []
    for r in df.to_dict("records"):
        key = (r["account_id"], r["region"], r["function"])
        p = [paths.get(key, "triggers"), fc.loc[key, "path"] if key in fc.index else "metrics"]
        if r["id"] == "sync-for-async" and calls.get(key):
            p.append(calls[key])
        out.append({**r, "evidence_path": contract.join_path(p)})
    return contract.frame(out)


def _reads_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any]) -> pd.DataFrame:
    from . import reads

    return contract.frame(reads.findings(snapshot, **_with_severity(t, options)).to_dict("records"))


def _coldstarts_findings(snapshot: Snapshot, t: Thresholds, options: dict[str, Any]) -> pd.DataFrame:
    from . import coldstarts

    return contract.frame(coldstarts.findings(snapshot, **_with_severity(t, options)).to_dict("records"))


ADAPTERS = {"memory": _memory_findings, "triggers": _triggers_findings, "reads": _reads_findings,
            "coldstarts": _coldstarts_findings}


def normalise(df: pd.DataFrame, module: str = "") -> pd.DataFrame:
    """A module's findings in :data:`COLUMNS` (:func:`findings.complete`), severities and sections checked."""
    out = contract.complete(df)
    out["severity"] = out["severity"].str.lower().map(
        lambda s: s if s in SEVERITIES else "high" if s in ("critical", "error") else "low")
    default = {k: c.section for k, c in CHECKS.items()}
    out["section"] = [s if s in SECTIONS else default.get(i, "function code")
                      for s, i in zip(out["section"], out["id"], strict=True)]
    return out


def rank(found: pd.DataFrame, by: str = "review") -> pd.DataFrame:
    """Findings in review order (:func:`findings.rank`): findings worth at least $1 a month by dollars, then
    the rest by severity and kind of risk; ``by="money"`` or ``"risk"`` for the other two orders."""
    return contract.rank(found, by)


# --------------------------------------------------------------------------------------------------------
# the engine


@dataclass
class Review:
    """One review of a snapshot: the ranked findings, what failed, and how it was judged."""

    findings: pd.DataFrame
    errors: pd.DataFrame
    as_of: str
    as_of_basis: str
    thresholds: Thresholds
    module_thresholds: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    #: the snapshot's flagged problems (:attr:`Snapshot.flags` as dicts): what this review could not judge
    flags: list[dict[str, Any]] = field(default_factory=list)
    #: what each function spends a month per service (:func:`spend`): the ceiling of every saving
    spend: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=contract.SPEND_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """Spend per service and savings counted once (:func:`findings.summary`)."""
        return contract.summary(self.findings, self.spend)

    def meta(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "as_of_basis": self.as_of_basis, "thresholds": asdict(self.thresholds),
                "module_thresholds": self.module_thresholds, "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "errors": self.errors.to_dict("records"), "flags": self.flags}


ERROR_COLUMNS = ["module", "error", "detail"]


def check_module_thresholds(module_thresholds: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """``module_thresholds`` as a plain dict of dicts; a module without thresholds here is a clear error."""
    out = {k: dict(v or {}) for k, v in (module_thresholds or {}).items()}
    bad = sorted(set(out) - set(ADAPTERS))
    if bad:
        raise ValueError(f"module_thresholds: unknown module(s) {bad}; known: {', '.join(ADAPTERS)}")
    return out


def run(snapshot: Snapshot, *, thresholds: Thresholds | dict | None = None,
        module_thresholds: dict[str, dict[str, Any]] | None = None, modules=MODULES, as_of: Any = "auto",
        progress: bool = False) -> Review:
    """Review a snapshot: every rule here and every module's findings, ranked by dollars.

    ``modules`` picks parts (:data:`MODULES`; ``"rules"`` = this module's own rules). A module or rule that
    raises is recorded in :attr:`Review.errors` with its traceback; the others still run.
    """
    from tqdm.auto import tqdm

    t = thresholds if isinstance(thresholds, Thresholds) else Thresholds.from_dict(thresholds)
    module_thresholds = check_module_thresholds(module_thresholds)
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        raise ValueError(f"unknown module(s) {unknown}; the review composes {', '.join(MODULES)}")
    when = resolve_as_of(snapshot, as_of)
    frames, errors, seconds = [], [], {}

    def attempt(name: str, fn) -> None:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frames.append(normalise(pd.DataFrame(fn()), name))
        except Exception as exc:  # a failing part must not sink the review
            errors.append({"module": name, "error": f"{type(exc).__name__}: {exc}",
                           "detail": "".join(traceback.format_exception(exc)[-3:])})
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

    for name in tqdm(list(modules), desc="review", disable=not progress):
        if name == "rules":
            shared: list[_Context] = []
            attempt("rules", lambda shared=shared: shared.append(_Context(snapshot, when)) or [])
            for fid, rule in RULES.items() if shared else ():
                attempt(f"rules:{fid}", lambda rule=rule, shared=shared: rule(shared[0], t))
        else:
            attempt(name, lambda name=name: ADAPTERS[name](snapshot, t, module_thresholds.get(name, {})))
    spent: list[pd.DataFrame] = []
    attempt("spend", lambda: spent.append(spend(snapshot)) or [])
    frames = [f for f in frames if len(f)]
    found = rank(pd.concat(frames, ignore_index=True)) if frames else normalise(pd.DataFrame(columns=COLUMNS))
    errs = pd.DataFrame(errors, columns=ERROR_COLUMNS)
    found.attrs["errors"] = errs.to_dict("records")
    found.attrs["as_of"] = str(when[0])
    flags = [f.as_dict() for f in snapshot.flags or []]
    return Review(found, errs, str(when[0]), when[1], t, module_thresholds, seconds, flags,
                  spent[0] if spent else pd.DataFrame(columns=contract.SPEND_COLUMNS))


def spend(snapshot: Snapshot) -> pd.DataFrame:
    """What each function spends a month, per service (:data:`findings.SPEND_COLUMNS`): Lambda (requests,
    compute with billed INIT, storage, provisioned concurrency), its trigger's own charges and its DynamoDB and
    S3 reads, at list prices without the free tier. A service nobody priced has no row (its spend is unknown)."""
    from . import reads, triggers

    fc = costs.function_costs(snapshot)
    rows = [fc[KEY].assign(service="lambda", monthly_usd=fc["monthly_usd"].astype(float),
                           basis="list prices: requests, compute incl. billed INIT, storage, provisioned")]
    src = triggers.source_spend(snapshot)
    if len(src):
        rows.append(src[KEY].assign(service=src["service"], monthly_usd=src["monthly_usd"],
                                    basis="trigger " + src["source"] + np.where(src["lower_bound"], " (lower bound)", "")))
    rc = reads.read_calls(snapshot)
    if len(rc):
        rc = rc[np.isfinite(rc["monthly_read_usd"])]
        rows.append(rc[KEY].assign(service=rc["service"], monthly_usd=rc["monthly_read_usd"],
                                   basis="reads " + rc["operation"]))
    out = pd.concat(rows, ignore_index=True).rename(columns={"function_name": "function"})
    out = out.groupby(["account_id", "region", "function", "service"], as_index=False).agg(
        monthly_usd=("monthly_usd", "sum"), basis=("basis", lambda b: "; ".join(sorted(set(b)))))
    return out[contract.SPEND_COLUMNS]


def findings(snapshot: Snapshot, **kwargs) -> pd.DataFrame:
    """:func:`run`'s findings (errors in ``.attrs["errors"]``)."""
    return run(snapshot, **kwargs).findings


def errors(found: pd.DataFrame) -> pd.DataFrame | str:
    """The checks that failed while producing ``found`` (kept in its ``attrs``), or a line saying none did."""
    errs = pd.DataFrame(found.attrs.get("errors", []), columns=ERROR_COLUMNS)
    if errs.empty:
        return "Every check ran." if "errors" in found.attrs else "Check failures are listed in the review pack's index."
    return errs[["module", "error"]]


# --------------------------------------------------------------------------------------------------------
# views and files


def totals(found: pd.DataFrame, spend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Findings and monthly savings per section (and overall), savings counted once: overlapping findings of
    one function count as their largest and never above what the function spends on those bills
    (:func:`findings.savings`; ``spend`` from :func:`spend`). ``sum_usd`` is the plain sum of the findings.
    Measure-first findings are counted but their expected value is not a saving."""
    rows = []
    for section in (*SECTIONS, "all"):
        all_f = found if section == "all" else found[found["section"] == section]
        f = all_f[~all_f["id"].isin(NOT_SAVINGS)]
        counted = contract.savings(all_f, spend)
        rows.append({"section": section, "findings": len(all_f),
                     **{s: int((all_f["severity"] == s).sum()) for s in SEVERITIES},
                     "priced": int(f["monthly_impact_usd"].notna().sum()),
                     "monthly_usd": float(counted["monthly_usd"].sum()),
                     "monthly_low_usd": float(counted["low_usd"].sum()),
                     "monthly_high_usd": float(counted["high_usd"].sum()),
                     "sum_usd": float(f["monthly_impact_usd"].clip(lower=0).sum())})
    return pd.DataFrame(rows).set_index("section")


def by_function(found: pd.DataFrame, spend: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per function: findings, high-severity count and monthly savings counted once (:func:`findings.savings`)."""
    cols = ["account_id", "region", "function"]
    if found.empty:
        return pd.DataFrame(columns=cols + ["findings", "high", "monthly_usd", "ids"])
    g = found.assign(hi=found["severity"] == "high")
    out = g.groupby(cols).agg(findings=("id", "size"), high=("hi", "sum"),
                              ids=("id", lambda s: ", ".join(sorted(set(s)))))
    counted = contract.savings(found, spend).groupby(cols)["monthly_usd"].sum()
    out["monthly_usd"] = counted.reindex(out.index).fillna(0.0)
    return out.reset_index().sort_values(["monthly_usd", "high", "findings"], ascending=False, ignore_index=True)


def _money(x: float) -> str:
    return "" if pd.isna(x) else f"${x:,.2f}" if x >= 0 else f"−${-x:,.2f}"


def band(r) -> str:
    """``$12.00 ($8.00–$15.00)`` for a finding row (mapping or namedtuple)."""
    get = r.get if isinstance(r, dict) else lambda k: getattr(r, k)
    central, low, high = get("monthly_impact_usd"), get("monthly_impact_low_usd"), get("monthly_impact_high_usd")
    if pd.isna(central):
        return "—"
    text = _money(central)
    if low == low and high == high and (abs(low - central) > 0.005 or abs(high - central) > 0.005):
        text += f" ({_money(low)}–{_money(high)})"
    elif high == high and abs(high - central) > 0.005:
        text += f" (up to {_money(high)})"
    return text


def view(found: pd.DataFrame, top: int | None = None, *, styled: bool = False):
    """The ranked findings with readable headers, for notebooks (``styled``: a Styler that shows whole texts,
    left-aligned, instead of pandas' truncated cells)."""
    if found.empty:
        return "No findings: every check passed."
    f = rank(found).head(top) if top else rank(found)
    out = pd.DataFrame({
        "$/month (band)": [band(r) for r in f.to_dict("records")], "severity": f["severity"].to_numpy(),
        "id": f["id"].to_numpy(), "function": (f["function"] + " (" + f["account_id"].str[-4:] + ")").to_numpy(),
        "finding": f["title"].to_numpy(), "evidence": f["evidence"].to_numpy(), "source": f["evidence_path"].to_numpy(),
        "recommendation": f["recommendation"].to_numpy(),
    }, index=pd.RangeIndex(1, len(f) + 1, name="rank"))
    if not styled:
        return out
    return out.style.set_properties(**{"text-align": "left", "vertical-align": "top"}).set_table_styles(
        [{"selector": "th", "props": [("text-align", "left")]}])


def to_csv(found: pd.DataFrame) -> str:
    """The ranked findings as CSV (a ``rank`` column first)."""
    f = rank(found)
    return f.assign(rank=range(1, len(f) + 1))[["rank", *COLUMNS]].to_csv(index=False, lineterminator="\n",
                                                                          float_format="%.2f")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def spend_line(summary: dict[str, Any]) -> str:
    """``Spend $X/month (Lambda $a, API Gateway $b, ...)`` from :func:`findings.summary`."""
    parts = [f"{SERVICE_NAMES.get(k, k)} {_money(v['spend_usd'])}" for k, v in summary["by_service"].items()
             if v["spend_usd"] == v["spend_usd"]]
    return f"spend {_money(summary['spend_usd'])}/month" + (f" ({', '.join(parts)})" if parts else "")


#: How a bill is named on a page.
SERVICE_NAMES = {"lambda": "Lambda", "api-gateway": "API Gateway", "sqs": "SQS", "sns": "SNS", "kinesis": "Kinesis",
                 "dynamodb": "DynamoDB", "s3": "S3", "eventbridge": "EventBridge", "nat-gateway": "NAT gateway",
                 "step-functions": "Step Functions", "load-balancer": "Load balancer"}


def savings_line(summary: dict[str, Any]) -> str:
    """The de-duplicated savings in one sentence, saying what was counted once."""
    text = (f"savings up to {_money(summary['savings_usd'])}/month ({_money(summary['savings_low_usd'])}–"
            f"{_money(summary['savings_high_usd'])}), overlapping findings of a function counted once")
    if summary["sum_of_findings_usd"] > summary["savings_usd"] + 0.005:
        text += f" (the findings add up to {_money(summary['sum_of_findings_usd'])} before that)"
    if summary["uncapped_services"]:
        text += "; spend not measured for " + ", ".join(SERVICE_NAMES.get(s, s) for s in summary["uncapped_services"])
    return text


def to_markdown(found: pd.DataFrame, *, title: str = "Lambda architecture review: findings",
                context: str = "", links: dict[tuple, str] | None = None, spend: pd.DataFrame | None = None) -> str:
    """The ranked findings as Markdown for tickets: a summary table, then one section per finding."""
    f = rank(found)
    t = totals(f, spend).loc["all"]
    summ = contract.summary(f, spend)
    lines = [f"# {title}", ""]
    if context:
        lines += [context, ""]
    lines += [f"{len(f)} findings ({int(t['high'])} high, {int(t['medium'])} medium, {int(t['low'])} low); "
              + (spend_line(summ) + "; " if spend is not None and len(spend) else "") + savings_line(summ) + ".",
              "", "Order: findings worth at least $1/month by dollars, then the rest by severity (risks first).", "",
              "| # | $/month | severity | id | function | finding |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(f.to_dict("records"), 1):
        lines.append(f"| {i} | {_md(band(r))} | {r['severity']} | `{r['id']}` | {_md(r['function'])} "
                     f"({_md(r['account_id'])}, {_md(r['region'])}) | {_md(r['title'])} |")
    for i, r in enumerate(f.to_dict("records"), 1):
        lines += ["", f"## {i}. [{r['severity']}] {r['id']}: {r['function']} — {r['title']}", "",
                  f"- **Where:** {r['function']} in account {r['account_id']}, {r['region']}",
                  f"- **Section:** {r['section']}", f"- **Monthly impact:** {band(r)}"
                  + (f" — band: {r['band_meaning']}" if r.get("band_meaning") else "")
                  + (f"; probability {r['probability']:.0%}" if r.get("probability") == r.get("probability") else ""),
                  f"- **Evidence** ({r['evidence_path']}): {r['evidence']}",
                  f"- **Recommendation:** {r['recommendation']}"]
        link = (links or {}).get((r["account_id"], r["region"], r["function"]))
        if link:
            lines.append(f"- **Deep dive:** {link}")
    return "\n".join(lines) + "\n"


def results(review: Review | pd.DataFrame, top: int = 20) -> dict[str, Any]:
    """The findings as plain JSON-able data (for a notebook's results JSON and the review pack)."""
    found = review.findings if isinstance(review, Review) else review
    spent = review.spend if isinstance(review, Review) else None
    t = totals(found, spent)
    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4) if isinstance(v, float) else v)
             for k, v in r.items()} for r in rank(found).head(top).to_dict("records")]
    out = {"count": int(len(found)), "by_id": {k: int(v) for k, v in found["id"].value_counts().sort_index().items()},
           "by_severity": {s: int((found["severity"] == s).sum()) for s in SEVERITIES},
           "monthly_usd": round(float(t.loc["all", "monthly_usd"]), 4),
           "by_section": {s: {"findings": int(t.loc[s, "findings"]), "monthly_usd": round(float(t.loc[s, "monthly_usd"]), 4)}
                          for s in SECTIONS},
           "top": rows}
    summ = contract.summary(found, spent)
    out["summary"] = {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4) if isinstance(v, float)
                          else v) for k, v in summ.items() if k != "by_service"}
    out["summary"]["by_service"] = {k: {n: (None if x != x else round(x, 4)) for n, x in v.items()}
                                    for k, v in summ["by_service"].items()}
    if isinstance(review, Review):
        out.update({k: v for k, v in review.meta().items() if k in ("as_of", "as_of_basis", "errors", "flags")})
    else:
        out["errors"] = found.attrs.get("errors", [])
    return out


def save(found: pd.DataFrame, path: str | Path) -> Path:
    """Write findings as CSV (atomic); :func:`load` reads them back with their types."""
    from . import atomicfile

    return atomicfile.write_text(path, to_csv(found))


def load(path: str | Path) -> pd.DataFrame:
    """Findings written by :func:`save` (or a review pack's ``findings.csv``)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns and c not in contract.OPTIONAL]
    if missing:
        raise ValueError(f"{path}: not a findings file (missing column(s) {missing})")
    for col in contract.NUMBERS:
        df[col] = pd.to_numeric(df[col].replace("", np.nan), errors="coerce") if col in df else np.nan
    for col in contract.OPTIONAL:
        if col not in df:
            df[col] = ""
    return df[COLUMNS]


def for_snapshot(found: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """The findings about functions of ``snapshot`` (e.g. after restricting it to an account or region)."""
    keys = set(map(tuple, snapshot.functions[KEY].to_numpy()))
    mask = np.array([(a, r, f) in keys for a, r, f in zip(found["account_id"], found["region"], found["function"],
                                                        strict=True)], dtype=bool)
    out = found[mask].reset_index(drop=True)
    out.attrs.update(found.attrs)
    return out
