"""Rules on what the code does (calls table, CPU share): orchestration inside a function, and a
function that only moves events."""

from __future__ import annotations

import math

import pandas as pd

from .context import Context, calls_path, calls_text, dollars, finding_row
from .thresholds import Thresholds


def rule_orchestration_in_code(ctx: Context, t: Thresholds) -> list[dict]:
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
        book = ctx.book(key)
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
                    + f"; {inv:,.0f} invocations/month pay {dollars(lambda_wait)}/month for the sleeping. As a workflow "
                    f"(≈{transitions:,.0f} state transitions each): Standard {dollars(standard)}/month, Express "
                    + (f"{dollars(express)}/month ({t.express_memory_mb:g} MB assumed)" if fits_express else
                       "not possible (runs longer than 5 minutes)")
                    + "; band: the workflow at twice to half this estimate")
        rec = (f"Move the waiting and retrying into a Step Functions workflow ({name} is cheapest here): Wait states "
               "instead of sleeps, Retry with backoff instead of retry loops, and a Task per call; the function keeps "
               "only the work, runs for milliseconds, and a stuck step no longer holds a paid environment until "
               "the timeout. Wait states cost nothing while they wait.")
        out.append(finding_row("orchestration-in-code", key, "medium" if total >= 10_000 else "low",
                        f"Waits {total / 1000:,.1f} s per invocation inside the function", evidence,
                        "; ".join(p for p in (calls_path(calls), c["path"], "insights" if cpu == cpu else "") if p),
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


def rule_transport_only(ctx: Context, t: Thresholds) -> list[dict]:
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
                    f"{calls_text(calls)}" + (", results unused" if unused else "") + "; "
                    + (f"CPU {cpu:.0%} of the duration ({cpu_from})" if cpu == cpu else
                       f"the forwarding calls take {call_ms / max(mean, 1e-9):.0%} of the {mean:,.0f} ms mean")
                    + f"; the function costs {dollars(usd)}/month ({c['invocations_per_month']:,.0f} invocations). "
                    "The integration's own charge is not in the price book: the saving shown is before it")
        rec = (f"Functions transform, they do not transport: replace the function with {how}; keep a function "
               "only as an enrichment step if the events must change on the way. Fewer moving parts, no code to "
               "patch, no invocations to pay for.")
        out.append(finding_row("transport-only", key, t.severity(usd), f"Only forwards events ({source['source_type']} "
                        f"→ {svc.iloc[0]}): a direct integration would do", evidence,
                        "; ".join(p for p in (calls_path(calls), "insights" if cpu == cpu else c["path"], "triggers")
                                  if p), rec, usd, math.nan, usd))
    return out
