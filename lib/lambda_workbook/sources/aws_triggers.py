"""Triggers: what invokes each function, read from the services that hold the wiring.

Region-wide listings cost a few calls however many functions exist: event source mappings, API Gateway
REST and HTTP/WebSocket APIs (integrations, routes), SNS subscriptions, EventBridge rules and targets, S3
bucket notifications (buckets listed once per account). Function URLs come with the per-function inventory.
A function still without a trigger gets its resource policy read (``GetPolicy``) as a fallback signal; one
without any signal is named in the evidence table.
"""

from __future__ import annotations

import json
import math
import re

from botocore.exceptions import BotoCoreError, ClientError

from .aws_common import RegionScan, classify
from .aws_inventory import parse_function_arn

_FUNCTION_IN = re.compile(r"arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(?::[\w$-]+)?")
_ASYNC_TYPES = {"s3", "sns", "eventbridge", "schedule", "invoke-async"}


def row(rs: RegionScan, function_arn: str, source_type: str, source_arn: str, *, sync: bool, evidence: str,
        detail: str = "", enabled: bool = True, batch_size=math.nan, batch_window_s=math.nan,
        parallelization=math.nan, filter_count: int = 0) -> dict | None:
    """A ``triggers`` row for the function an ARN names (None when the ARN names no function)."""
    parsed = parse_function_arn(function_arn)
    if not parsed:
        return None
    region, account, name, _ = parsed
    return {"account_id": account, "region": region, "function_name": name, "source_type": source_type,
            "source_arn": source_arn, "sync": bool(sync), "batch_size": _num(batch_size),
            "batch_window_s": _num(batch_window_s), "parallelization": _num(parallelization),
            "filter_count": int(filter_count), "enabled": bool(enabled), "payload_kb": math.nan,
            "detail": detail, "evidence": evidence}


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _tail(arn: str) -> str:
    return re.split(r"[:/]", arn)[-1] if arn else ""


# -- event source mappings -------------------------------------------------------------------------------
def _esm_type(arn: str, mapping: dict) -> tuple[str, str]:
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    if service == "sqs":
        name = _tail(arn)
        return ("sqs-fifo" if name.endswith(".fifo") else "sqs"), f"queue {name}"
    if service == "kinesis":
        return "kinesis", f"stream {_tail(arn)}"
    if service == "dynamodb":
        table = arn.split(":table/")[-1].split("/")[0]
        return "dynamodb-streams", f"{table} table stream"
    if service == "kafka":
        return "msk", f"MSK cluster {arn.split('/')[1] if '/' in arn else arn}"
    if mapping.get("SelfManagedEventSource"):
        return "unknown", "self-managed Apache Kafka"
    if service == "mq":
        return "unknown", f"Amazon MQ broker {_tail(arn)}"
    if service in ("rds", "docdb"):
        return "unknown", f"DocumentDB change stream {_tail(arn)}"
    return "unknown", arn


def event_source_mappings(rs: RegionScan) -> list[dict]:
    mappings = rs.optional("triggers:event-source-mappings", "ListEventSourceMappings",
                           lambda: list(rs.pages("lambda", "list_event_source_mappings", "EventSourceMappings")))
    out = []
    for m in mappings or []:
        arn = m.get("EventSourceArn") or ""
        kind, detail = _esm_type(arn, m)
        streams = kind in ("kinesis", "dynamodb-streams")
        filters = (m.get("FilterCriteria") or {}).get("Filters") or []
        if m.get("StartingPosition") and streams:
            detail += f", from {m['StartingPosition']}"
        out.append(row(rs, m.get("FunctionArn", ""), kind, arn, sync=False, evidence="list_event_source_mappings",
                       detail=detail, enabled=m.get("State") in ("Enabled", "Enabling", "Creating", "Updating"),
                       batch_size=m.get("BatchSize"), batch_window_s=m.get("MaximumBatchingWindowInSeconds"),
                       parallelization=m.get("ParallelizationFactor") if streams else None,
                       filter_count=len(filters)))
    return out


# -- API Gateway ---------------------------------------------------------------------------------------------
def rest_apis(rs: RegionScan) -> list[dict]:
    """REST APIs: each resource's methods with their integrations (``embed=methods``: one call per page)."""
    apis = rs.optional("triggers:apigw-rest", "GetRestApis", lambda: list(rs.pages("apigateway", "get_rest_apis", "items")))
    out = []
    for api in apis or []:
        routes: dict[str, list[str]] = {}
        resources = rs.optional("triggers:apigw-rest", "GetResources", lambda a=api: list(rs.pages(
            "apigateway", "get_resources", "items", restApiId=a["id"], embed=["methods"])))
        for res in resources or []:
            for method, spec in (res.get("resourceMethods") or {}).items():
                uri = ((spec or {}).get("methodIntegration") or {}).get("uri") or ""
                found = _FUNCTION_IN.search(uri)
                if found:
                    routes.setdefault(found.group(0), []).append(f"{method} {res.get('path', '')}")
        source = f"arn:aws:execute-api:{rs.region}:{rs.account_id}:{api['id']}"
        for fn_arn, methods in routes.items():
            out.append(row(rs, fn_arn, "apigw-rest", source, sync=True, evidence="apigateway:get_resources",
                           detail=f"REST API {api.get('name', '')}: " + ", ".join(sorted(methods)[:8])
                           + (" ..." if len(methods) > 8 else "")))
    return out


def http_apis(rs: RegionScan) -> tuple[list[dict], set[str]]:
    """HTTP and WebSocket APIs: integrations pointing at functions, with the routes that use them."""
    apis = rs.optional("triggers:apigw-http", "GetApis", lambda: list(rs.pages("apigatewayv2", "get_apis", "Items")))
    out, ids = [], set()
    for api in apis or []:
        api_id = api["ApiId"]
        ids.add(api_id)
        websocket = api.get("ProtocolType") == "WEBSOCKET"
        integrations = rs.optional("triggers:apigw-http", "GetIntegrations", lambda a=api_id: list(
            rs.pages("apigatewayv2", "get_integrations", "Items", ApiId=a)))
        targets = {}
        for integ in integrations or []:
            found = _FUNCTION_IN.search(integ.get("IntegrationUri") or "")
            if found:
                targets[integ["IntegrationId"]] = found.group(0)
        if not targets:
            continue
        routes = rs.optional("triggers:apigw-http", "GetRoutes", lambda a=api_id: list(
            rs.pages("apigatewayv2", "get_routes", "Items", ApiId=a))) or []
        by_fn: dict[str, list[str]] = {arn: [] for arn in targets.values()}
        for r in routes:
            integ = str(r.get("Target") or "").removeprefix("integrations/")
            if integ in targets:
                by_fn[targets[integ]].append(r.get("RouteKey", ""))
        source = f"arn:aws:execute-api:{rs.region}:{rs.account_id}:{api_id}"
        for fn_arn, keys in by_fn.items():
            label = "WebSocket API" if websocket else "HTTP API"
            out.append(row(rs, fn_arn, "apigw-websocket" if websocket else "apigw-http", source, sync=True,
                           evidence="apigatewayv2:get_integrations",
                           detail=f"{label} {api.get('Name', '')}: " + ", ".join(sorted(keys)[:8])
                           + (" ..." if len(keys) > 8 else "")))
    return out, ids


# -- SNS, EventBridge, S3 -------------------------------------------------------------------------------------
def sns_subscriptions(rs: RegionScan) -> list[dict]:
    subs = rs.optional("triggers:sns", "ListSubscriptions", lambda: list(rs.pages("sns", "list_subscriptions", "Subscriptions")))
    return [row(rs, s.get("Endpoint", ""), "sns", s.get("TopicArn", ""), sync=False, evidence="sns:list_subscriptions",
                detail=f"topic {_tail(s.get('TopicArn', ''))}")
            for s in subs or [] if s.get("Protocol") == "lambda"]


def eventbridge_rules(rs: RegionScan) -> list[dict]:
    """Rules on every event bus; targets read per rule, or per function when rules outnumber functions."""
    buses = rs.optional("triggers:eventbridge", "ListEventBuses",
                        lambda: list(rs.pages("events", "list_event_buses", "EventBuses")))
    out = []
    for bus in buses or []:
        bus_name = bus.get("Name", "default")
        rules = rs.optional("triggers:eventbridge", "ListRules", lambda b=bus_name: list(
            rs.pages("events", "list_rules", "Rules", EventBusName=b))) or []
        by_name = {r["Name"]: r for r in rules}
        pairs: list[tuple[dict, str]] = []
        if len(rules) <= len(rs.functions):
            for rule in rules:
                targets = rs.optional("triggers:eventbridge", "ListTargetsByRule", lambda r=rule, b=bus_name: list(
                    rs.pages("events", "list_targets_by_rule", "Targets", Rule=r["Name"], EventBusName=b))) or []
                pairs += [(rule, t.get("Arn", "")) for t in targets if _FUNCTION_IN.fullmatch(t.get("Arn", ""))]
        else:
            for fn in rs.functions:
                names = rs.optional("triggers:eventbridge", "ListRuleNamesByTarget", lambda f=fn, b=bus_name: list(
                    rs.pages("events", "list_rule_names_by_target", "RuleNames", TargetArn=f["function_arn"],
                             EventBusName=b))) or []
                pairs += [(by_name[n], fn["function_arn"]) for n in names if n in by_name]
        for rule, fn_arn in pairs:
            schedule = rule.get("ScheduleExpression")
            detail = f"schedule {schedule}" if schedule else f"rule {rule['Name']}"
            if bus_name != "default":
                detail += f" on bus {bus_name}"
            out.append(row(rs, fn_arn, "eventbridge", rule.get("Arn", ""), sync=False, detail=detail,
                           enabled=rule.get("State") == "ENABLED", evidence="events:list_targets_by_rule",
                           filter_count=1 if rule.get("EventPattern") else 0))
    return out


def _account_buckets(rs: RegionScan) -> dict[str, list[str]] | None:
    """Buckets per region, listed once per account (ListBuckets, then GetBucketLocation when needed)."""
    with rs.account.cache_lock:
        if "s3_buckets" in rs.account.cache:
            return rs.account.cache["s3_buckets"]
        buckets = rs.optional("triggers:s3", "ListBuckets", lambda: list(rs.pages("s3", "list_buckets", "Buckets")))
        by_region: dict[str, list[str]] | None = None
        if buckets is not None:
            by_region = {}
            s3 = rs.client("s3")
            for b in buckets:
                region = b.get("BucketRegion")
                if not region:
                    try:
                        region = s3.get_bucket_location(Bucket=b["Name"]).get("LocationConstraint") or "us-east-1"
                    except (ClientError, BotoCoreError):
                        region = "?"
                by_region.setdefault(region, []).append(b["Name"])
        rs.account.cache["s3_buckets"] = by_region
        return by_region


def s3_notifications(rs: RegionScan) -> list[dict]:
    by_region = _account_buckets(rs)
    if by_region is None:
        return []
    names = by_region.get(rs.region, [])
    s3 = rs.client("s3")
    unreadable: list[str] = []

    def one(bucket: str) -> list[dict]:
        try:
            cfg = s3.get_bucket_notification_configuration(Bucket=bucket)
        except (ClientError, BotoCoreError):
            unreadable.append(bucket)
            return []
        rows = []
        for c in cfg.get("LambdaFunctionConfigurations", []):
            events = ",".join(c.get("Events", []))
            rows.append(row(rs, c.get("LambdaFunctionArn", ""), "s3", f"arn:aws:s3:::{bucket}", sync=False,
                            evidence="s3:get_bucket_notification_configuration", detail=f"{events} on {bucket}",
                            filter_count=1 if c.get("Filter") else 0))
        return rows

    out = [r for rows in rs.pool(one, names) for r in rows]
    if unreadable:
        rs.note("triggers:s3", "partial", f"{len(unreadable)} of {len(names)} buckets' notifications unreadable "
                f"(e.g. {sorted(unreadable)[0]})")
    return out


# -- resource policy fallback ---------------------------------------------------------------------------------
_PRINCIPALS = {
    "s3.amazonaws.com": ("s3", False), "sns.amazonaws.com": ("sns", False),
    "events.amazonaws.com": ("eventbridge", False), "scheduler.amazonaws.com": ("eventbridge", False),
    "elasticloadbalancing.amazonaws.com": ("alb", True), "logs.amazonaws.com": ("invoke-async", False),
    "iot.amazonaws.com": ("invoke-async", False), "cognito-idp.amazonaws.com": ("invoke-sync", True),
    "secretsmanager.amazonaws.com": ("invoke-sync", True), "states.amazonaws.com": ("invoke-sync", True),
}


def _source_arn(statement: dict) -> str:
    for cond in (statement.get("Condition") or {}).values():
        for key, value in (cond or {}).items():
            if key.lower() == "aws:sourcearn":
                return value[0] if isinstance(value, list) else str(value)
    return ""


def policy_rows(rs: RegionScan, fn: dict, policy: dict, http_api_ids: set[str]) -> list[dict]:
    """Trigger rows from a function's resource policy (who may invoke it)."""
    out = []
    for st in policy.get("Statement", []):
        if str(st.get("Effect", "")).lower() != "allow":
            continue
        principal = st.get("Principal") or {}
        service = principal.get("Service") if isinstance(principal, dict) else None
        service = service[0] if isinstance(service, list) else service
        source = _source_arn(st)
        if service == "apigateway.amazonaws.com":
            api_id = source.split(":")[5].split("/")[0] if source.count(":") >= 5 else ""
            if "/authorizers/" in source:
                kind, sync, detail = "invoke-sync", True, "API Gateway Lambda authorizer"
            else:
                kind = "apigw-http" if api_id in http_api_ids else "apigw-rest"
                sync, detail = True, f"API {api_id}" if api_id else "API Gateway"
        elif service in _PRINCIPALS:
            (kind, sync), detail = _PRINCIPALS[service], f"invoke permission for {service}"
        else:
            who = service or (principal.get("AWS") if isinstance(principal, dict) else principal)
            kind, sync, detail = "unknown", False, f"invoke permission for {who}"
        out.append(row(rs, fn["function_arn"], kind, source, sync=sync, evidence="get_policy", detail=detail))
    return out


def read(rs: RegionScan) -> None:
    """Fill ``rs.triggers`` (it may already hold function-URL rows) and note functions with no trigger."""
    found = event_source_mappings(rs) + rest_apis(rs)
    http_rows, http_ids = http_apis(rs)
    found += http_rows + sns_subscriptions(rs) + eventbridge_rules(rs)
    if rs.options.s3:
        found += s3_notifications(rs)
    rs.triggers.extend(r for r in found if r is not None)
    have = {t["function_name"] for t in rs.triggers if t["region"] == rs.region and t["account_id"] == rs.account_id}
    missing = [f for f in rs.functions if f["function_name"] not in have]
    lam = rs.client("lambda")

    def fallback(fn: dict) -> list[dict]:
        if "GetPolicy" in rs.disabled:
            return []
        try:
            doc = lam.get_policy(FunctionName=fn["function_name"])["Policy"]
        except (ClientError, BotoCoreError) as exc:
            if classify(exc)[0] != "not_found":      # not_found: the function has no resource policy
                rs.failed("triggers:policy", exc, fn["function_name"])
            return []
        try:
            return policy_rows(rs, fn, json.loads(doc), http_ids)
        except (ValueError, AttributeError, TypeError):
            rs.note("triggers:policy", "partial", "resource policy is not valid JSON", fn["function_name"])
            return []

    for fn, rows in zip(missing, rs.pool(fallback, missing), strict=True):
        rows = [r for r in rows if r is not None]
        rs.triggers.extend(rows)
        if not rows:
            rs.note("triggers", "missing", "no trigger found (event source mappings, API Gateway, function URLs, "
                    "SNS, EventBridge, S3, resource policy): invoked directly, or by a source not read "
                    "(ALB target groups, EventBridge Scheduler, Step Functions, another account)",
                    fn["function_name"])


def is_async(source_type: str) -> bool:
    return source_type in _ASYNC_TYPES
