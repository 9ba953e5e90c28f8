"""The sample account's table rows for one function: configuration, metrics, REPORT aggregates and lines,
triggers, calls and role policies."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd

from .archetypes import DAYS, END, MINUTES, REGION, REPORT_LINES_PER_FUNCTION, START, Archetype
from .traffic import Traffic, draw_durations, init_median, mean_warm_ms, rng_for


def key_of(arch: Archetype) -> dict:
    return {"account_id": arch.account, "region": REGION, "function_name": arch.name}


def function_row(arch: Archetype) -> dict:
    acct = arch.account
    arn = f"arn:aws:lambda:{REGION}:{acct}:function:{arch.name}"
    layers = ";".join(f"arn:aws:lambda:{REGION}:{acct}:layer:shared-{i}:3" for i in range(arch.layers))
    return {
        **key_of(arch), "function_arn": arn, "runtime": arch.runtime, "handler": "app.handler",
        "memory_mb": arch.memory_mb, "arch": arch.arch, "timeout_s": arch.timeout_s,
        "ephemeral_storage_mb": arch.ephemeral_mb, "package_type": arch.package_type,
        "code_size_bytes": int(arch.code_mb * 1024 * 1024), "layer_count": arch.layers, "layers": layers,
        "vpc_id": "vpc-0a1b2c3d4e5f60718" if arch.vpc else "", "subnet_count": 2 if arch.vpc else 0,
        "security_group_count": 1 if arch.vpc else 0, "tracing_mode": "Active" if arch.tracing else "PassThrough",
        "log_group": f"/aws/lambda/{arch.name}", "log_format": arch.log_format,
        "role_arn": f"arn:aws:iam::{acct}:role/{arch.name}-role", "last_modified": "2026-09-14T10:21:07.000+0000",
        "state": "Active", "env_var_names": ";".join(arch.env), "reserved_concurrency": arch.reserved,
        "provisioned_concurrency": arch.provisioned, "aliases": "live" if not np.isnan(arch.provisioned) else "",
        "function_url_auth": "AWS_IAM" if arch.trigger.source_type == "function-url" else "",
        "description": arch.description,
    }


def _ts(minutes: np.ndarray) -> pd.DatetimeIndex:
    return START + pd.to_timedelta(minutes, unit="min")


def _metric_rows(arch: Archetype, metric: str, stat: str, period_s: int, ts, values) -> pd.DataFrame:
    return pd.DataFrame({**key_of(arch), "metric": metric, "stat": stat, "period_s": period_s,
                         "timestamp": ts, "value": np.asarray(values, dtype=float)})


def _per_minute(arch: Archetype, metric: str, series: np.ndarray) -> pd.DataFrame:
    nz = np.flatnonzero(series)
    return _metric_rows(arch, metric, "Sum", 60, _ts(nz), series[nz])


def _hourly_duration_stats(arch: Archetype, traffic: Traffic, rng: np.random.Generator) -> list[pd.DataFrame]:
    hourly_n = traffic.counts.reshape(-1, 60).sum(axis=1)
    hourly_to = traffic.timeouts.reshape(-1, 60).sum(axis=1)
    rows = {k: [] for k in ("Average", "Maximum", "p50", "p90", "p99")}
    hours = np.flatnonzero(hourly_n)
    for h in hours:
        n = int(hourly_n[h])
        k = min(n, 400)
        d = draw_durations(arch, k, rng)
        n_to = int(round(k * hourly_to[h] / n))
        if n_to:
            d[:n_to] = arch.timeout_s * 1000.0
        rows["Average"].append(d.mean())
        rows["Maximum"].append(d.max())
        for p in (50, 90, 99):
            rows[f"p{p}"].append(np.percentile(d, p))
    ts = START + pd.to_timedelta(hours, unit="h")
    return [_metric_rows(arch, "Duration", stat, 3600, ts, np.round(v, 2)) for stat, v in rows.items()]


def metric_frame(arch: Archetype, traffic: Traffic) -> pd.DataFrame:
    rng = rng_for(arch, "metrics")
    frames = [_per_minute(arch, "Invocations", traffic.counts), _per_minute(arch, "Errors", traffic.errors),
              _per_minute(arch, "Throttles", traffic.throttles)]
    frames += _hourly_duration_stats(arch, traffic, rng)
    minute_conc = traffic.counts * mean_warm_ms(arch) / 60000.0
    burst = np.where(traffic.counts > 0, np.ceil(minute_conc + 2.0 * np.sqrt(minute_conc)), 0)
    if not np.isnan(arch.reserved):
        burst = np.minimum(burst, arch.reserved)
    hourly_conc = burst.reshape(-1, 60).max(axis=1)
    hours = np.flatnonzero(hourly_conc)
    frames.append(_metric_rows(arch, "ConcurrentExecutions", "Maximum", 3600,
                               START + pd.to_timedelta(hours, unit="h"), hourly_conc[hours]))
    all_hours = START + pd.to_timedelta(np.arange(DAYS * 24), unit="h")
    if arch.trigger.source_type in ("kinesis", "dynamodb-streams"):
        if arch.iterator_age_growth:
            age = np.linspace(2_000.0, 6.5 * 3_600_000.0, DAYS * 24) * rng.uniform(0.9, 1.1, DAYS * 24)
        else:
            age = rng.uniform(150.0, 1_800.0, DAYS * 24)
        frames.append(_metric_rows(arch, "IteratorAge", "Maximum", 3600, all_hours, np.round(age)))
    if not arch.trigger.sync and arch.trigger.source_type in ("s3", "sns", "eventbridge", "invoke-async"):
        active = np.flatnonzero(traffic.counts.reshape(-1, 60).sum(axis=1))
        ts = START + pd.to_timedelta(active, unit="h")
        frames.append(_metric_rows(arch, "AsyncEventAge", "Average", 3600, ts, np.round(rng.uniform(15, 60, len(active)))))
        frames.append(_metric_rows(arch, "AsyncEventAge", "Maximum", 3600, ts, np.round(rng.uniform(80, 900, len(active)))))
    if not np.isnan(arch.provisioned):
        hourly = traffic.counts.reshape(-1, 60).sum(axis=1)
        frames.append(_metric_rows(arch, "ProvisionedConcurrencyInvocations", "Sum", 3600, all_hours, hourly))
        frames.append(_metric_rows(arch, "ProvisionedConcurrencySpilloverInvocations", "Sum", 3600, all_hours,
                                   np.zeros(DAYS * 24)))
        util = np.minimum(hourly_conc / arch.provisioned, 1.0)
        frames.append(_metric_rows(arch, "ProvisionedConcurrencyUtilization", "Maximum", 3600, all_hours, np.round(util, 4)))
        frames.append(_metric_rows(arch, "ProvisionedConcurrentExecutions", "Maximum", 3600, all_hours, hourly_conc))
    if traffic.timeouts.any():
        daily = traffic.timeouts.reshape(-1, 1440).sum(axis=1)
        days = np.flatnonzero(daily)
        frames.append(_metric_rows(arch, "Timeouts", "Sum", 86400, START + pd.to_timedelta(days, unit="D"), daily[days]))
    return pd.concat(frames, ignore_index=True)


def population(arch: Archetype, traffic: Traffic, rng: np.random.Generator, n: int = 20000):
    """A large draw of invocations representative of the window: durations, inits, memory used, status."""
    total = int(traffic.counts.sum())
    share_to = traffic.timeouts.sum() / max(total, 1)
    share_cold = traffic.cold.sum() / max(total, 1)
    d = draw_durations(arch, n, rng)
    status = np.full(n, "success", dtype=object)
    to = rng.random(n) < share_to
    d[to] = arch.timeout_s * 1000.0
    status[to] = "timeout"
    cold = rng.random(n) < share_cold
    init = np.where(cold, init_median(arch) * rng.lognormal(0.0, 0.2, n), np.nan)
    used = np.minimum(np.round(arch.used_mb * rng.lognormal(0.0, 0.05, n)), arch.memory_mb)
    return d, init, used, status


def report_aggregate(arch: Archetype, traffic: Traffic, pop) -> dict:
    d, init, used, status = pop
    total = int(traffic.counts.sum())
    cold_total = int(traffic.cold.sum())
    inits = init[~np.isnan(init)]
    if inits.size == 0 and cold_total:
        inits = np.array([init_median(arch)])
    mean_billed_warm = np.ceil(d).mean()
    billed = total * mean_billed_warm + cold_total * (inits.mean() if inits.size else 0.0)
    return {
        **key_of(arch), "log_group": f"/aws/lambda/{arch.name}", "invocations": total, "cold_starts": cold_total,
        "timeouts": int(traffic.timeouts.sum()),
        "init_p50_ms": float(np.percentile(inits, 50)) if cold_total else np.nan,
        "init_p99_ms": float(np.percentile(inits, 99)) if cold_total else np.nan,
        "init_mean_ms": float(inits.mean()) if cold_total else np.nan,
        "duration_p50_ms": float(np.percentile(d, 50)), "duration_p99_ms": float(np.percentile(d, 99)),
        "duration_mean_ms": float(d.mean()), "billed_ms_sum": float(np.round(billed)),
        "max_memory_used_p50_mb": float(np.percentile(used, 50)), "max_memory_used_p99_mb": float(np.percentile(used, 99)),
        "max_memory_used_max_mb": float(used.max()), "memory_size_mb": float(arch.memory_mb),
        "path": "sample", "sampled_fraction": 1.0,
    }


def report_line(request_id: str, duration: float, memory_mb: int, used_mb: float, init: float = np.nan,
                status: str = "success", log_format: str = "Text", ts: pd.Timestamp | None = None) -> str:
    """A REPORT line as Lambda writes it (text with its tab/space quirks, or JSON platform.report)."""
    billed = int(np.ceil(round(duration + (0.0 if np.isnan(init) else init), 6)))
    if log_format == "JSON":
        metrics = {"durationMs": round(duration, 2), "billedDurationMs": billed, "memorySizeMB": int(memory_mb),
                   "maxMemoryUsedMB": int(used_mb)}
        if not np.isnan(init):
            metrics["initDurationMs"] = round(init, 2)
        record = {"requestId": request_id, "metrics": metrics, "status": status}
        when = (ts or END).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return json.dumps({"time": when, "type": "platform.report", "record": record}, separators=(",", ":"))
    parts = [f"REPORT RequestId: {request_id}", f"Duration: {duration:.2f} ms", f"Billed Duration: {billed} ms ",
             f"Memory Size: {int(memory_mb)} MB", f"Max Memory Used: {int(used_mb)} MB"]
    if not np.isnan(init):
        parts.append(f"Init Duration: {init:.2f} ms")
    if status == "timeout":
        parts.append("Status: timeout")
    return "\t".join(parts) + "\t"


def report_sample_frame(arch: Archetype, traffic: Traffic, pop, rng: np.random.Generator) -> pd.DataFrame:
    d, init, used, status = pop
    minutes = np.repeat(np.arange(MINUTES), traffic.counts)
    if minutes.size == 0:
        return pd.DataFrame(columns=["account_id", "region", "function_name", "timestamp", "message"])
    k = min(REPORT_LINES_PER_FUNCTION, minutes.size)
    picked = np.sort(rng.choice(minutes.size, size=k, replace=False))
    ts = START + pd.to_timedelta(minutes[picked], unit="min") + pd.to_timedelta(rng.integers(0, 60, k), unit="s")
    idx = rng.choice(len(d), size=k, replace=False)
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(k)]
    lines = [report_line(ids[j], float(d[i]), arch.memory_mb, float(used[i]), float(init[i]), str(status[i]),
                         arch.log_format, ts[j]) for j, i in enumerate(idx)]
    out = pd.DataFrame({**key_of(arch), "timestamp": ts, "message": lines})
    if arch.tried_mb:
        out = pd.concat([_tried_samples(arch, rng_for(arch, "tried")), out], ignore_index=True)
    return out


def _tried_samples(arch: Archetype, rng: np.random.Generator, k: int = 60) -> pd.DataFrame:
    """REPORT lines from the window's first two days, when the function ran at ``tried_mb`` (a memory change)."""
    m = float(arch.tried_mb)
    sigma = arch.noise
    d = mean_warm_ms(arch, m) * rng.lognormal(-sigma**2 / 2, sigma, k)
    used = np.minimum(np.round(arch.used_mb * rng.lognormal(0.0, 0.05, k)), m)
    ts = START + pd.to_timedelta(np.sort(rng.integers(0, 2 * 24 * 60, k)), unit="min")
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(k)]
    lines = [report_line(ids[j], float(d[j]), int(m), float(used[j]), np.nan, "success", arch.log_format, ts[j])
             for j in range(k)]
    return pd.DataFrame({**key_of(arch), "timestamp": ts, "message": lines})


def trigger_row(arch: Archetype) -> dict:
    t = arch.trigger
    last = (t.detail.split() or [""])[-1]
    arn = {
        "sqs": f"arn:aws:sqs:{REGION}:{arch.account}:{last}",
        "kinesis": f"arn:aws:kinesis:{REGION}:{arch.account}:stream/clickstream",
        "dynamodb-streams": f"arn:aws:dynamodb:{REGION}:{arch.account}:table/orders/stream/2026-01-01T00:00:00.000",
        "sns": f"arn:aws:sns:{REGION}:{arch.account}:{last}",
        "s3": f"arn:aws:s3:::{last}",
        "eventbridge": f"arn:aws:events:{REGION}:{arch.account}:rule/{arch.name}",
        "apigw-rest": f"arn:aws:execute-api:{REGION}:{arch.account}:a1b2c3d4e5",
        "apigw-http": f"arn:aws:execute-api:{REGION}:{arch.account}:f6g7h8i9j0",
        "function-url": f"arn:aws:lambda:{REGION}:{arch.account}:function:{arch.name}",
        "invoke-sync": f"arn:aws:lambda:{REGION}:{arch.account}:function:users-api",
    }.get(t.source_type, "")
    evidence = {"sqs": "list_event_source_mappings", "kinesis": "list_event_source_mappings",
                "dynamodb-streams": "list_event_source_mappings", "apigw-rest": "apigateway:get_integration",
                "apigw-http": "apigatewayv2:get_integrations", "function-url": "list_function_url_configs",
                "sns": "sns:list_subscriptions", "eventbridge": "events:list_rule_names_by_target",
                "s3": "s3:get_bucket_notification_configuration", "invoke-sync": "get_policy"}[t.source_type]
    return {**key_of(arch), "source_type": t.source_type, "source_arn": arn, "sync": t.sync, "batch_size": t.batch_size,
            "batch_window_s": t.batch_window_s, "parallelization": t.parallelization, "filter_count": 0,
            "enabled": True, "payload_kb": t.payload_kb, "detail": t.detail, "evidence": evidence}


def call_rows(arch: Archetype) -> list[dict]:
    return [{**key_of(arch), "service": c.service, "operation": c.operation, "resource": c.resource,
             "calls_per_invocation": c.calls_per_invocation, "mean_ms": c.mean_ms, "response_kb": c.response_kb,
             "used_fraction": c.used_fraction, "items_evaluated": c.items_evaluated, "items_returned": c.items_returned,
             "item_kb": c.item_kb, "retries_per_invocation": c.retries_per_invocation, "result_used": c.result_used,
             "evidence": "sample"} for c in arch.calls]


def role_rows(arch: Archetype) -> list[dict]:
    role = f"arn:aws:iam::{arch.account}:role/{arch.name}-role"
    rows = [{"account_id": arch.account, "role_arn": role, "policy_name": "AWSLambdaBasicExecutionRole",
             "effect": "Allow", "action": a, "resource": f"arn:aws:logs:{REGION}:{arch.account}:*"}
            for a in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")]
    for action, resource in arch.actions:
        res = resource if resource == "*" or resource.startswith("arn:") else \
            f"arn:aws:dynamodb:{REGION}:{arch.account}:{resource}"
        rows.append({"account_id": arch.account, "role_arn": role, "policy_name": f"{arch.name}-inline",
                     "effect": "Allow", "action": action, "resource": res})
    return rows
