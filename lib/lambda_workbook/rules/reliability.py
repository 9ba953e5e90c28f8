"""Rules on what fails or falls behind: timeouts and errors by day (Trusted Advisor thresholds),
throttles, stream lag, and a timeout far above the slowest run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import billing, engine
from ..schema import KEY
from .context import Context, calls_path, calls_text, dollars, finding_row
from .thresholds import Thresholds


def _daily_rate(ctx: Context, t: Thresholds, fid: str, limit: float) -> list[dict]:
    """timeout-rate / error-rate: a day whose share of failed invocations exceeds ``limit``."""
    out = []
    for key, g in _over_limit(ctx, t, fid, limit).groupby(level=[0, 1, 2]):
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
            evidence += f". Slowest downstream calls: {calls_text(calls, 2)}"
            path += "; " + calls_path(calls)
        evidence += (f". Lost compute (the failed invocations' bill): {dollars(lost)}/month at the window's rate; "
                     f"{dollars(spikes)}/month from the {len(over)} day(s) above {limit:.0%} alone; {dollars(worst_day)} "
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
        out.append(finding_row(fid, key, "high" if sync else "medium", title, evidence, path, rec,
                        lost, min(spikes, lost), lost))
    return out


def _over_limit(ctx: Context, t: Thresholds, fid: str, limit: float) -> pd.DataFrame:
    """The daily rows of the functions that may have a day over ``limit``: a test over every row at once, at
    least as wide as :func:`_daily_rate`'s per function (Errors bound Errors minus Timeouts), which then
    decides on those functions' rows alone."""
    d = ctx.daily
    if d.empty:
        return d
    inv = d["Invocations"]
    bad = d["Timeouts"] if fid == "timeout-rate" else d["Errors"]
    judged = inv >= t.min_daily_invocations
    if t.rate_days:
        judged &= d.index.get_level_values(-1) >= ctx.end - pd.Timedelta(days=t.rate_days)
    hit = ((bad / inv.where(inv > 0)) > limit) & judged
    keys = d.index.droplevel(-1)
    return d[keys.isin(keys[hit.to_numpy()])]


def rule_timeout_rate(ctx: Context, t: Thresholds) -> list[dict]:
    """``timeout-rate``: more than ``timeout_rate`` of a day's invocations timed out (daily Timeouts metric)."""
    return _daily_rate(ctx, t, "timeout-rate", t.timeout_rate)


def rule_error_rate(ctx: Context, t: Thresholds) -> list[dict]:
    """``error-rate``: more than ``error_rate`` of a day's invocations failed (Errors minus Timeouts)."""
    return _daily_rate(ctx, t, "error-rate", t.error_rate)


def rule_throttles(ctx: Context, t: Thresholds) -> list[dict]:
    """``throttles``: at least ``min_throttles`` throttled requests and ``throttle_share`` of all requests."""
    out = []
    totals = ctx.daily.groupby(level=[0, 1, 2])[["Invocations", "Throttles"]].sum()
    worst_minute, peaks = ctx.peak("Throttles", "Sum"), ctx.largest("ConcurrentExecutions", "Maximum")
    for key, r in totals.iterrows():
        thr, inv = float(r["Throttles"]), float(r["Invocations"])
        if key not in ctx.functions.index or thr < t.min_throttles or thr / max(thr + inv, 1.0) < t.throttle_share:
            continue
        f = ctx.functions.loc[key]
        peak = peaks.get(key, math.nan)
        days = ctx.daily.loc[key]
        bad_days = days[days["Throttles"] > 0]
        worst = worst_minute.loc[key] if key in worst_minute.index else None
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
        out.append(finding_row("throttles", key, "high" if sync else "medium",
                        f"{thr:,.0f} requests throttled ({thr / (thr + inv):.1%})", evidence,
                        "metrics:Throttles; metrics:ConcurrentExecutions; functions.reserved_concurrency", rec))
    return out


def rule_stream_iterator_age(ctx: Context, t: Thresholds) -> list[dict]:
    """``stream-iterator-age``: hourly maximum IteratorAge above ``iterator_age_ms`` in enough hours."""
    ages = engine.metric_rows(ctx.snap, "IteratorAge", "Maximum")   # only stream consumers have these rows
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
        out.append(finding_row("stream-iterator-age", key, sev, f"Stream consumer {worst / 3_600_000:.1f} h behind",
                        evidence, "metrics:IteratorAge (Maximum, hourly); triggers", rec))
    return out


def rule_timeout_headroom(ctx: Context, t: Thresholds) -> list[dict]:
    """``timeout-headroom``: timeout ≥ ``headroom_ratio`` × the slowest observed duration and ``headroom_min_s``
    above it, on a function that never timed out."""
    out = []
    maxima = ctx.stats[(ctx.stats["metric"] == "Duration") & (ctx.stats["stat"].isin(["Maximum", "p99"]))]
    slow = maxima.groupby(KEY + ["stat"])["peak"].max().unstack("stat")
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
                    f"day, the {day:,.0f} invocations of a mean day bill {dollars(hang_now)} at today's timeout vs "
                    f"{dollars(hang_new)} at {suggested_s} s")
        rec = (f"Lower the timeout towards {suggested_s} s (about 3× the slowest observed run) so a hung dependency "
               "fails fast and cheaply, and keep client timeouts below it; raise it again only with evidence.")
        sev = "medium" if timeout_ms >= 300_000 else "low"
        paths = "; ".join(p for p in (path, "metrics:Duration Maximum" if observed_max == observed_max else "",
                                       "functions.timeout_s") if p)
        out.append(finding_row("timeout-headroom", key, sev, f"Timeout {timeout_ms / 1000:g} s for runs of at most "
                        f"{ref / 1000:,.1f} s", evidence, paths, rec))
    return out
