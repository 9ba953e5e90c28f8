"""The AWS source's pure parts, without a server: metric planning, error kinds, options, boundary rules,
IAM matching, resource-policy triggers, REPORT statistics."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from lambda_workbook import iam, logs
from lambda_workbook.sources import aws, aws_inventory, aws_logs, aws_metrics, aws_triggers

NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
END = datetime(2026, 11, 27, 15, tzinfo=UTC)


def _region_scan(n: int, days: int = 14, **options) -> aws.RegionScan:
    rs = aws.RegionScan(account=None, region="us-east-1", start=END - timedelta(days=days), end=END,
                        evidence=aws.Evidence(), progress=None, options=aws.ScanOptions(**options))
    rs.functions = [{"function_name": f"fn{i}"} for i in range(n)]
    return rs


# -- periods by age and batching ---------------------------------------------------------------------------
def test_a_window_within_15_days_is_one_time_range_at_60_s():
    assert aws_metrics.segments(END - timedelta(days=14), END, 60, NOW) == [(END - timedelta(days=14), END, 60)]
    assert aws_metrics.segments(END - timedelta(days=14), END, 3600, NOW) == [(END - timedelta(days=14), END, 3600)]


def test_older_data_is_asked_for_at_the_period_it_still_exists_in():
    segs = aws_metrics.segments(END - timedelta(days=100), END, 60, NOW)
    assert [p for _, _, p in segs] == [3600, 300, 60]
    (a0, a1, _), (b0, b1, _), (c0, c1, _) = segs
    assert a0 == END - timedelta(days=100) and a1 == b0 and b1 == c0 and c1 == END
    assert NOW - c0 <= timedelta(days=15) and NOW - b0 <= timedelta(days=63)
    assert all(t.minute == 0 and t.second == 0 for seg in segs for t in seg[:2])   # hour-aligned boundaries
    # an hourly metric needs no cut at all: the ranges merge
    assert aws_metrics.segments(END - timedelta(days=100), END, 3600, NOW) == [(END - timedelta(days=100), END, 3600)]


def test_plan_packs_500_queries_per_call_and_isolates_percentiles():
    rs = _region_scan(600)
    rs.triggers = [{"function_name": "fn1", "source_type": "kinesis"}, {"function_name": "fn2", "source_type": "sqs"}]
    rs.concurrency = [{"function_name": "fn3", "kind": "provisioned", "qualifier": "live"},
                      {"function_name": "fn3", "kind": "provisioned", "qualifier": "v7"}]
    plan = aws_metrics.plan(rs, percentiles=True, now=NOW)
    assert list(plan) == [(rs.start, rs.end)]              # one time range for everything
    queries = plan[(rs.start, rs.end)]
    per_fn = {q.metric for q in queries if q.function_name == "fn0"}
    assert per_fn == {"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "AsyncEventAge"}
    assert {q.metric for q in queries if q.metric == "IteratorAge"} and \
        {q.function_name for q in queries if q.metric == "IteratorAge"} == {"fn1"}
    assert "AsyncEventAge" not in {q.metric for q in queries if q.function_name in ("fn1", "fn2")}
    pc = [q for q in queries if q.metric.startswith("Provisioned")]
    assert {(q.function_name, q.qualifier) for q in pc} == {("fn3", "live"), ("fn3", "v7")} and len(pc) == 8
    assert {q.period_s for q in queries if q.metric == "Invocations"} == {60}
    batches = aws_metrics._batches(queries)
    assert all(len(b) <= 500 for b in batches)
    assert all(len({q.percentile for q in b}) == 1 for b in batches)
    basic = sum(not q.percentile for q in queries)
    pct = sum(q.percentile for q in queries)
    assert len(batches) == math.ceil(basic / 500) + math.ceil(pct / 500)
    assert len(batches) <= math.ceil(len(queries) / 500) + 1
    assert len({(q.function_name, q.metric, q.stat, q.qualifier) for q in queries}) == len(queries)


def test_plan_without_percentiles_and_with_a_coarser_count_period():
    rs = _region_scan(3, count_period_s=300)
    queries = aws_metrics.plan(rs, percentiles=False, now=NOW)[(rs.start, rs.end)]
    assert not any(q.percentile for q in queries)
    assert {q.period_s for q in queries if q.metric == "Errors"} == {300}


def test_query_api_shape():
    q = aws_metrics.Query("fn", "ProvisionedConcurrencyUtilization", "Maximum", 3600, "live").api("q7")
    assert q["Id"] == "q7" and q["MetricStat"]["Stat"] == "Maximum" and q["MetricStat"]["Period"] == 3600
    assert q["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": "fn"},
                                                       {"Name": "Resource", "Value": "fn:live"}]


# -- errors, options -------------------------------------------------------------------------------------------
def _error(code: str, status: int = 400, message: str = "m", op: str = "ListAliases") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, op)


@pytest.mark.parametrize("code,kind", [("AccessDeniedException", "denied"), ("AuthorizationError", "denied"),
                                       ("ThrottlingException", "throttled"), ("TooManyRequestsException", "throttled"),
                                       ("ResourceNotFoundException", "not_found"), ("404", "unsupported"),
                                       ("UnrecognizedClientException", "credentials"), ("ServiceException", "error")])
def test_classify_names_the_kind_and_the_operation(code, kind):
    got, reason = aws.classify(_error(code))
    assert got == kind and reason.startswith(f"ListAliases: {code}")


def test_classify_hides_html_error_pages():
    _, reason = aws.classify(_error("500", 500, "<!doctype html><html><title>500 Internal</title></html>"))
    assert "<" not in reason and "HTTP 500" in reason


@pytest.mark.parametrize("option,value", [("lookback_days", 0), ("lookback_days", 456), ("workers", 0),
                                          ("count_period_s", 120), ("max_attempts", 0), ("report_lines", 0)])
def test_bad_options_are_refused_by_name(option, value):
    with pytest.raises(ValueError, match=f"{option}={value!r}"):
        aws.ScanOptions(**{option: value}).check()


def test_scan_refuses_unknown_options_and_bad_regions_before_calling_aws():
    with pytest.raises(TypeError, match="nonsense"):
        aws.scan(nonsense=1, progress=False)
    with pytest.raises(ValueError, match="'moon-1'"):
        aws.scan(profiles=None, regions="moon-1", progress=False)


# -- the boundary: environment variable values ---------------------------------------------------------------
def test_function_row_keeps_names_and_drops_values():
    cfg = {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
           "Environment": {"Variables": {"DB_PASSWORD": "hunter2", "LOG_LEVEL": "debug"}}, "MemorySize": 1024,
           "Architectures": ["arm64"], "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/custom/f"},
           "VpcConfig": {"VpcId": "vpc-1", "SubnetIds": ["a", "b"], "SecurityGroupIds": ["s"]}}
    row = aws_inventory.function_row("123456789012", "us-east-1", cfg)
    assert row["env_var_names"] == "DB_PASSWORD;LOG_LEVEL"
    assert "hunter2" not in repr(row) and "debug" not in repr(row)
    assert "Environment" not in cfg                       # dropped from the response itself
    assert (row["memory_mb"], row["arch"], row["log_format"], row["log_group"]) == (1024, "arm64", "JSON", "/custom/f")
    assert (row["vpc_id"], row["subnet_count"], row["security_group_count"]) == ("vpc-1", 2, 1)
    defaults = aws_inventory.function_row("123456789012", "us-east-1", {"FunctionName": "g"})
    assert (defaults["log_group"], defaults["log_format"], defaults["arch"]) == ("/aws/lambda/g", "Text", "x86_64")


def test_botocore_debug_logs_of_response_bodies_are_redacted(caplog):
    import logging

    with caplog.at_level(logging.DEBUG, logger="botocore.parsers"):
        logging.getLogger("botocore.parsers").debug("Response body:\n%r", b'{"Variables": {"K": "hunter2"}}')
    assert "hunter2" not in caplog.text and "redacted" in caplog.text


def test_parse_function_arn():
    assert aws_inventory.parse_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f:live") == (
        "eu-west-1", "123456789012", "f", "live")
    assert aws_inventory.parse_function_arn("arn:aws:sqs:us-east-1:123456789012:q") is None


# -- triggers from resource policies -------------------------------------------------------------------------------
def test_resource_policy_principals_map_to_trigger_kinds():
    rs = _region_scan(0)
    fn = {"function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc/authorizers/x"}}},
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:h77/*/GET/x"}}},
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}},
        {"Effect": "Allow", "Principal": {"Service": "elasticloadbalancing.amazonaws.com"}},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}},
        {"Effect": "Deny", "Principal": {"Service": "sns.amazonaws.com"}},
    ]}
    rows = aws_triggers.policy_rows(rs, fn, policy, http_api_ids={"h77"})
    got = [(r["source_type"], r["sync"]) for r in rows]
    assert got == [("invoke-sync", True), ("apigw-http", True), ("s3", False), ("alb", True), ("unknown", False)]
    assert rows[2]["source_arn"] == "arn:aws:s3:::bucket" and all(r["evidence"] == "get_policy" for r in rows)


# -- REPORT statistics ------------------------------------------------------------------------------------------------
def test_report_stats_of_parsed_lines():
    lines = [
        "REPORT RequestId: a\tDuration: 10.00 ms\tBilled Duration: 11 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t"
        "Init Duration: 200.00 ms\t",
        "REPORT RequestId: b\tDuration: 20.00 ms\tBilled Duration: 20 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t",
        '{"time":"2026-11-01T00:00:00.000Z","type":"platform.report","record":{"requestId":"c","metrics":'
        '{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":70},"status":"timeout"}}',
        "START RequestId: d Version: $LATEST",
    ]
    s = aws_logs.report_stats(logs.parse_reports(lines))
    assert (s["invocations"], s["cold_starts"], s["timeouts"]) == (3, 1, 1)
    assert s["duration_p50_ms"] == 20.0 and s["billed_ms_sum"] == 3031.0
    assert s["init_p50_ms"] == 200.0 and s["max_memory_used_max_mb"] == 70.0 and s["memory_size_mb"] == 128.0
    assert s["duration_p99_ms"] == pytest.approx(np.percentile([10, 20, 3000], 99))
    empty = aws_logs.report_stats(logs.parse_reports([]))
    assert empty["invocations"] == 0 and math.isnan(empty["duration_p50_ms"])


def test_sampled_fraction_counts_lines_against_cloudwatch_invocations():
    assert aws_logs.fraction(995, 1000.0, complete=True) == 1.0          # edge effects of a complete read
    assert aws_logs.fraction(500, 1000.0, complete=True) == 0.5          # short retention: half the window
    assert aws_logs.fraction(995, 1000.0, complete=False) == 0.995
    assert aws_logs.fraction(1200, 1000.0, complete=False) == 1.0
    assert aws_logs.fraction(10, None, complete=True) == 1.0
    assert math.isnan(aws_logs.fraction(10, 0.0, complete=False))


def test_insights_log_field_names_the_group():
    assert aws_logs._group_of("123456789012:/aws/lambda/f") == "/aws/lambda/f"
    assert aws_logs._group_of("/aws/lambda/f") == "/aws/lambda/f"
    assert "by @log" in aws_logs.STATS_QUERY and 'type = "platform.report"' in aws_logs.STATS_QUERY


# -- IAM action matching ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern,action,hit", [
    ("lambda:ListFunctions", "lambda:ListFunctions", True), ("lambda:listfunctions", "lambda:ListFunctions", True),
    ("lambda:List*", "lambda:ListAliases", True), ("lambda:List*", "lambda:GetPolicy", False),
    ("*", "s3:GetObject", True), ("s3:*", "s3tables:GetTable", False), ("logs:?etQueryResults", "logs:GetQueryResults", True),
    ("lambda:Get*Concurrency", "lambda:GetFunctionConcurrency", True), ("lambda:Get*", "lambda:ListAliases", False),
    ("iam:Get[A]*", "iam:GetA", False),
])
def test_action_matches(pattern, action, hit):
    assert iam.action_matches(pattern, action) is hit


@given(st.text(alphabet="abcXYZ:*?[].", max_size=12))
def test_a_literal_pattern_matches_itself(text):
    literal = text.replace("*", "").replace("?", "")
    assert iam.action_matches(literal, literal)
    assert iam.action_matches("*", literal)


def test_allows_with_deny_and_not_action():
    doc = {"Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                         {"Effect": "Deny", "Action": "lambda:Invoke*", "Resource": "*"},
                         {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"}]}
    assert iam.allows(doc, "lambda:ListFunctions")
    assert not iam.allows(doc, "lambda:InvokeFunction")
    assert iam.allows(doc, "s3:GetObject") and iam.allows(doc, "s3:GetObject", "arn:aws:s3:::b/k")
    assert not iam.allows(doc, "s3:GetObject", "arn:aws:s3:::other/k")
    assert not iam.allows(doc, "iam:PassRole")
    assert iam.rows(doc)[-1] == ("Allow", "NOT iam:*", "arn:aws:s3:::b/*")
    assert iam.allows('{"Statement": {"Effect": "Allow", "Action": "sts:GetCallerIdentity"}}', "sts:GetCallerIdentity")
    with pytest.raises(ValueError, match="not JSON"):
        iam.statements("{nope")


def test_an_unknown_profile_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "config").write_text("[profile known]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(ValueError, match="'nope' is not configured.*known"):
        aws.scan(profiles="nope", regions="us-east-1", progress=False)


def test_pages_follow_next_token_where_botocore_has_no_paginator():
    class Client:                     # ListEventBuses: NextToken paging, no botocore paginator
        def __init__(self):
            self.calls = []

        def can_paginate(self, operation):
            return False

        def list_event_buses(self, **params):
            self.calls.append(params)
            return {"EventBuses": [{"Name": "default"}], "NextToken": "t2"} if "NextToken" not in params \
                else {"EventBuses": [{"Name": "orders"}]}

    client = Client()
    rs = _region_scan(0)
    rs.client = lambda service, **_: client
    assert [b["Name"] for b in rs.pages("events", "list_event_buses", "EventBuses", Limit=1)] == ["default", "orders"]
    assert client.calls == [{"Limit": 1}, {"Limit": 1, "NextToken": "t2"}]


def test_a_timeouts_per_day_query_past_its_timeout_is_stopped_and_named():
    from types import SimpleNamespace

    class Logs:                       # an Insights query that never finishes
        def __init__(self):
            self.stopped = []

        def start_query(self, **_):
            return {"queryId": "q1"}

        def get_query_results(self, queryId):
            return {"status": "Running", "results": []}

        def stop_query(self, queryId):
            self.stopped.append(queryId)
            return {"success": True}

    rs = _region_scan(1, insights_timeout_s=0.05)
    rs.account = SimpleNamespace(account_id="123456789012", calls=aws.CallLog())
    client = Logs()
    aws_logs._timeouts_per_day(rs, client, [aws_logs._Target("/aws/lambda/fn0", rs.functions[0], None)])
    assert client.stopped == ["q1"] and not rs.metrics
    assert [(r["item"], r["status"]) for r in rs.evidence.rows] == [("metrics:Timeouts", "missing")]
    assert "timed out" in rs.evidence.rows[0]["reason"]


def test_resource_patterns_are_case_sensitive_unlike_actions():
    assert iam.resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/k") and iam.resource_matches("*", "x")
    assert not iam.resource_matches("arn:aws:s3:::B/*", "arn:aws:s3:::b/k")
    assert iam.action_matches("S3:GET*", "s3:GetObject")
