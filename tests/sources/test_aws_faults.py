"""The AWS scan under faults: a proxy in front of moto (throttling, access denied, paging, Logs Insights as AWS
answers it) and botocore event hooks (PartialData + NextToken, a function deleted mid-scan, an interrupt)."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import cli, sources
from lambda_workbook.sources import aws, aws_logs
from lambda_workbook.sources import snapshot as snapshot_io

ACCOUNT = "210987654321"
NAMES = ["flt-0000", "flt-0001", "flt-0002", "flt-0003"]


@pytest.fixture(scope="module")
def faults_account(moto_server, tmp_path_factory):
    """Four small functions (SQS triggers on two, one SNS subscription, reserved concurrency on one,
    provisioned-concurrency metrics on one) in their own moto account, and a profile ``faults`` for it."""
    import moto_account

    end = pd.Timestamp.now(tz="UTC").floor("h")
    names = moto_account.seed_synthetic(moto_server.endpoint, ACCOUNT, 4, days=1, end=end, prefix="flt",
                                        points_per_day=24, lines=20, sqs_every=2)
    assert names == NAMES
    lam = moto_account.client(moto_server.endpoint, "lambda", ACCOUNT)
    lam.put_function_concurrency(FunctionName="flt-0001", ReservedConcurrentExecutions=3)
    sns = moto_account.client(moto_server.endpoint, "sns", ACCOUNT)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:flt-0003")
    pc = pd.DataFrame({"function_name": "flt-0000", "metric": "ProvisionedConcurrencyInvocations", "stat": "Sum",
                       "period_s": 3600, "timestamp": pd.date_range(end - pd.Timedelta(hours=6), periods=6, freq="h"),
                       "value": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]})
    moto_account.put_metrics(moto_account.client(moto_server.endpoint, "cloudwatch", ACCOUNT),
                             moto_account.metric_datums(pc, resource={"flt-0000": "live"}))
    env = moto_account.write_profiles(moto_server.endpoint, tmp_path_factory.mktemp("faults"), {"faults": ACCOUNT})
    return {"end": end, "env": env, "endpoint": moto_server.endpoint}


@pytest.fixture
def proxy(faults_account):
    import moto_account

    p = moto_account.FaultProxy(faults_account["endpoint"])
    yield p
    p.stop()


def _scan(ctx, endpoint, *, hooks=None, regions="us-east-1", days=1, **options):
    import moto_account

    with pytest.MonkeyPatch.context() as mp:
        moto_account.use_env(mp, {**ctx["env"], "AWS_ENDPOINT_URL": endpoint})
        if hooks:
            moto_account.hook_sessions(mp, hooks)
        return aws.scan(profiles="faults", regions=regions, lookback_days=days, progress=False,
                        end=ctx["end"].to_pydatetime(), **options)


def _evidence(snap, item: str) -> pd.DataFrame:
    return snap.evidence[snap.evidence["item"] == item]


# -- paging and throttling ---------------------------------------------------------------------------------------
def test_list_functions_pages_are_all_followed(faults_account, proxy):
    def page(req, forward):
        status, headers, body = forward(req, "/2015-03-31/functions/")
        fns = sorted(json.loads(body)["Functions"], key=lambda f: f["FunctionName"])
        start = int(req.query.get("Marker", 0))
        out = {"Functions": fns[start:start + 2]}
        if start + 2 < len(fns):
            out["NextMarker"] = str(start + 2)
        return 200, {"Content-Type": "application/json"}, json.dumps(out).encode()

    proxy.add("ListFunctions", page)
    snap = _scan(faults_account, proxy.endpoint)
    assert sorted(snap.functions["function_name"]) == NAMES
    assert proxy.answered["ListFunctions"] == 2          # two pages of two
    assert snap.manifest["scan_cost"]["api_calls"]["lambda.ListFunctions"] == 2


def test_throttling_is_retried_with_backoff_within_the_bound(faults_account, proxy):
    import moto_account

    proxy.add("GetFunctionConcurrency", lambda r, f: moto_account.error("rest-json", 429, "TooManyRequestsException",
                                                                         "Rate exceeded"), times=2)
    proxy.add("DescribeLogGroups", lambda r, f: moto_account.error("json", 400, "ThrottlingException"), times=2)
    proxy.add("ListSubscriptions", lambda r, f: moto_account.error("query", 400, "Throttling"), times=1)
    snap = _scan(faults_account, proxy.endpoint)
    assert not snap.evidence["reason"].str.contains("throttl", case=False).any()
    assert snap.function("flt-0001")["reserved_concurrency"] == 3
    assert proxy.seen["GetFunctionConcurrency"] == len(NAMES) + 2
    assert snap.manifest["scan_cost"]["retries"] >= 5
    assert list(snap.triggers.query("source_type == 'sns'")["function_name"]) == ["flt-0003"]


def test_throttling_beyond_the_bound_becomes_evidence(faults_account, proxy):
    import moto_account

    proxy.add("ListAliases", lambda r, f: moto_account.error("rest-json", 429, "TooManyRequestsException"),
              when=lambda r: "flt-0001" in r.path)
    t0 = time.monotonic()
    snap = _scan(faults_account, proxy.endpoint, max_attempts=3)
    assert proxy.answered["ListAliases"] == 3                       # 3 attempts, then it gives up
    row = _evidence(snap, "aliases")
    assert list(row["function_name"]) == ["flt-0001"] and "still throttled" in row["reason"].iloc[0]
    assert sorted(snap.functions["function_name"]) == NAMES       # the scan went on
    assert time.monotonic() - t0 < 120


# -- access denied on optional APIs --------------------------------------------------------------------------------
def test_access_denied_on_optional_apis_is_named_and_the_scan_goes_on(faults_account, proxy):
    import moto_account

    proxy.add("ListEventSourceMappings", lambda r, f: moto_account.error("rest-json", 403, "AccessDeniedException",
                                                                          "not authorized"))
    proxy.add("ListSubscriptions", lambda r, f: moto_account.error("query", 403, "AuthorizationError"))
    proxy.add("StartQuery", lambda r, f: moto_account.error("json", 400, "AccessDeniedException"))
    snap = _scan(faults_account, proxy.endpoint)
    assert sorted(snap.functions["function_name"]) == NAMES
    esm = _evidence(snap, "triggers:event-source-mappings")
    assert esm["status"].tolist() == ["missing"] and "AccessDeniedException" in esm["reason"].iloc[0]
    assert "AuthorizationError" in _evidence(snap, "triggers:sns")["reason"].iloc[0]
    assert "StartQuery" in _evidence(snap, "reports:insights")["reason"].iloc[0]
    sampled = _evidence(snap, "reports")
    assert sampled["status"].tolist() == ["sampled"] and "StartQuery" in sampled["reason"].iloc[0]
    assert (snap.reports["path"] == "filter_log_events").all() and len(snap.reports) == len(NAMES)
    assert proxy.answered["StartQuery"] == 1                       # denied once: not asked again
    assert snap.triggers.query("source_type in ['sqs', 'sns']").empty


def test_listing_denied_in_one_region_keeps_the_other(faults_account, proxy):
    import moto_account

    proxy.add("ListFunctions", lambda r, f: moto_account.error("rest-json", 403, "AccessDeniedException"),
              when=lambda r: "/eu-west-1/" in r.headers.get("authorization", ""))
    snap = _scan(faults_account, proxy.endpoint, regions="us-east-1,eu-west-1")
    assert sorted(snap.functions["function_name"]) == NAMES
    denied = _evidence(snap, "functions")
    assert denied["region"].tolist() == ["eu-west-1"] and "AccessDenied" in denied["reason"].iloc[0]
    proxy.add("ListFunctions", lambda r, f: moto_account.error("rest-json", 403, "AccessDeniedException"))
    with pytest.raises(aws.ScanError, match="AccessDeniedException"):
        _scan(faults_account, proxy.endpoint, regions="us-east-1")


# -- provisioned concurrency and Logs Insights as AWS answers them ------------------------------------------------
def test_provisioned_concurrency_per_alias_with_its_metrics(faults_account, proxy):
    def configs(req, forward):
        items = []
        if "flt-0000" in req.path:
            items = [{"FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:flt-0000:live",
                      "RequestedProvisionedConcurrentExecutions": 10, "AvailableProvisionedConcurrentExecutions": 10,
                      "AllocatedProvisionedConcurrentExecutions": 8, "Status": "IN_PROGRESS",
                      "LastModified": "2026-11-01T00:00:00+0000"}]
        return 200, {"Content-Type": "application/json"}, json.dumps({"ProvisionedConcurrencyConfigs": items}).encode()

    proxy.add("ListProvisionedConcurrencyConfigs", configs)
    snap = _scan(faults_account, proxy.endpoint)
    pc = snap.concurrency.query("kind == 'provisioned'")
    assert pc[["function_name", "qualifier", "requested", "allocated", "status"]].values.tolist() == [
        ["flt-0000", "live", 10.0, 8.0, "IN_PROGRESS"]]
    assert snap.function("flt-0000")["provisioned_concurrency"] == 10
    assert snap.functions.set_index("function_name").drop(index="flt-0000")["provisioned_concurrency"].isna().all()
    m = snap.for_function("metrics", "flt-0000")
    got = m[m["metric"] == "ProvisionedConcurrencyInvocations"]
    assert got["value"].sum() == 210.0 and set(got["period_s"]) == {3600}
    assert not snap.for_function("metrics", "flt-0001")["metric"].str.startswith("Provisioned").any()


def _insights_rows(groups: list[str]) -> list[list[dict]]:
    rows = []
    for i, g in enumerate(groups):
        values = {"@log": f"{ACCOUNT}:{g}", "invocations": str(1000 + i), "cold_starts": "12",
                  "timeouts": "3" if i == 0 else "0", "init_p50_ms": "210.5", "init_p99_ms": "390.25",
                  "init_mean_ms": "230", "duration_p50_ms": "45.5", "duration_p99_ms": "120.75",
                  "duration_mean_ms": "52.125", "billed_ms_sum": "54321", "max_memory_used_p50_mb": "80",
                  "max_memory_used_p99_mb": "95", "max_memory_used_max_mb": "99", "memory_size_mb": "256"}
        if i == 2:
            values.pop("init_p50_ms")          # Insights leaves out a statistic with no values
        rows.append([{"field": k, "value": v} for k, v in values.items()])
    return rows


def test_insights_results_are_parsed_polled_and_priced(faults_account, proxy, monkeypatch):
    monkeypatch.setattr(aws_logs, "MAX_GROUPS", 3)           # 4 log groups -> two stats queries
    queries, polls = {}, {}

    def start(req, forward):
        body = json.loads(req.body)
        qid = f"q{len(queries)}"
        queries[qid] = body
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"queryId": qid}).encode()

    def results(req, forward):
        qid = json.loads(req.body)["queryId"]
        polls[qid] = polls.get(qid, 0) + 1
        body = queries[qid]
        if polls[qid] == 1:
            out = {"status": "Running", "results": []}
        elif "bin(1d)" in body["queryString"]:
            day = (faults_account["end"] - pd.Timedelta(hours=12)).floor("D")
            out = {"status": "Complete", "statistics": {"bytesScanned": 1.0 * 2**30}, "results": [[
                {"field": "@log", "value": f"{ACCOUNT}:{group}"},
                {"field": "bin(1d)", "value": day.strftime("%Y-%m-%d %H:%M:%S.000")},
                {"field": "timeouts", "value": "3"}] for group in body["logGroupNames"]]}
        else:
            out = {"status": "Complete", "statistics": {"bytesScanned": 2.0 * 2**30},
                   "results": _insights_rows(body["logGroupNames"])}
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(out).encode()

    proxy.add("StartQuery", start)
    proxy.add("GetQueryResults", results)
    snap = _scan(faults_account, proxy.endpoint)
    stats = [q for q in queries.values() if q["queryString"] == aws_logs.STATS_QUERY]
    assert [len(q["logGroupNames"]) for q in stats] == [3, 1]
    daily = [q for q in queries.values() if q["queryString"] == aws_logs.TIMEOUTS_QUERY]
    assert len(daily) == 1 and len(daily[0]["logGroupNames"]) == 2      # one query for both groups with timeouts
    assert all(q["startTime"] == int(pd.Timestamp(snap.manifest["start"]).timestamp()) for q in stats)
    assert proxy.seen["FilterLogEvents"] == 0                 # raw logs are never downloaded
    assert all(n >= 2 for n in polls.values())                # polled until complete
    r = snap.reports.set_index("function_name")
    inv = snap.metrics.query("metric == 'Invocations'").groupby("function_name")["value"].sum()
    assert (r["path"] == "insights").all()
    np.testing.assert_allclose(r["sampled_fraction"], np.minimum(1.0, r["invocations"] / inv[r.index]))
    first = stats[0]["logGroupNames"][0].rsplit("/", 1)[-1]
    assert r.loc[first, "invocations"] == 1000 and r.loc[first, "timeouts"] == 3
    assert r.loc[first, "duration_p99_ms"] == 120.75 and r.loc[first, "billed_ms_sum"] == 54321
    third = stats[0]["logGroupNames"][2].rsplit("/", 1)[-1]
    assert pd.isna(r.loc[third, "init_p50_ms"]) and r.loc[third, "init_p99_ms"] == 390.25
    timeouts = snap.metrics.query("metric == 'Timeouts'")      # the first group of each batch timed out
    firsts = sorted(q["logGroupNames"][0].rsplit("/", 1)[-1] for q in stats)
    assert timeouts[["function_name", "stat", "period_s", "value"]].values.tolist() == [
        [name, "Sum", 86400, 3.0] for name in firsts]
    cost = snap.manifest["scan_cost"]
    assert cost["insights_gb_scanned"] == pytest.approx(5.0)          # 2 + 2 GB of stats, 1 of timeouts
    gb = next(i for i in cost["items"] if i["item"] == "logs.insights_gb_scanned")
    assert gb["usd"] == pytest.approx(5.0 * 0.005)
    assert not snap.evidence["item"].str.startswith("reports").any()


def test_insights_pushdown_and_the_sampled_fallback_agree_on_complete_logs(faults_account, proxy):
    """Where the fallback reads every line, both paths must give the same statistics."""
    import moto_account

    sampled = _scan(faults_account, proxy.endpoint, percentiles=False)
    moto_account.InsightsEmulator(proxy, faults_account["endpoint"], ACCOUNT)
    pushed = _scan(faults_account, proxy.endpoint, percentiles=False)
    a = sampled.reports.set_index("function_name").sort_index()
    b = pushed.reports.set_index("function_name").sort_index()
    assert (a["path"] == "filter_log_events").all() and (b["path"] == "insights").all()
    cols = [c for c in a.columns if c not in ("path", "sampled_fraction")]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False)
    pd.testing.assert_series_equal(a["sampled_fraction"], b["sampled_fraction"])   # lines / CloudWatch Invocations
    # the seeded lines are a small share of CloudWatch's invocations: only the pushdown, which sees every line,
    # may turn the timeout it finds into a daily count
    assert (a["sampled_fraction"] < 0.5).all() and sampled.metrics.query("metric == 'Timeouts'").empty
    daily = pushed.metrics.query("metric == 'Timeouts'")
    assert daily[["function_name", "value"]].values.tolist() == [["flt-0000", 1.0]]
    assert proxy.seen["FilterLogEvents"] == len(NAMES)          # only the sampled scan read lines


def test_an_insights_query_that_never_finishes_is_stopped_and_sampled(faults_account, proxy):
    proxy.add("StartQuery", lambda r, f: (200, {"Content-Type": "application/x-amz-json-1.1"}, b'{"queryId": "slow"}'))
    proxy.add("GetQueryResults", lambda r, f: (200, {"Content-Type": "application/x-amz-json-1.1"},
                                               b'{"status": "Running", "results": []}'))
    proxy.add("StopQuery", lambda r, f: (200, {"Content-Type": "application/x-amz-json-1.1"}, b'{"success": true}'))
    snap = _scan(faults_account, proxy.endpoint, insights_timeout_s=1.0)
    assert proxy.answered["StopQuery"] == 1
    assert (snap.reports["path"] == "filter_log_events").all() and len(snap.reports) == len(NAMES)
    assert "after 1 s" in _evidence(snap, "reports")["reason"].iloc[0]


def test_the_insights_budget_and_short_retention_are_named(faults_account, proxy):
    import moto_account

    logs = moto_account.client(faults_account["endpoint"], "logs", ACCOUNT)
    logs.put_retention_policy(logGroupName="/aws/lambda/flt-0002", retentionInDays=1)
    try:
        snap = _scan(faults_account, proxy.endpoint, insights_budget_gb=0.0)
        wider = _scan(faults_account, proxy.endpoint, insights_budget_gb=0.0, days=3)
    finally:
        logs.delete_retention_policy(logGroupName="/aws/lambda/flt-0002")
    assert proxy.seen["StartQuery"] == 0
    reasons = " ".join(_evidence(snap, "reports")["reason"])
    assert "budget of 0 GB" in reasons and (snap.reports["path"] == "filter_log_events").all()
    assert "keeps 1 day(s)" not in reasons                       # a 1-day window fits a 1-day retention
    short = _evidence(wider, "reports").query("status == 'partial'")
    assert short["function_name"].tolist() == ["flt-0002"] and "keeps 1 day(s)" in short["reason"].iloc[0]


# -- botocore event hooks: PartialData + NextToken, a deletion, an interrupt ------------------------------------
def _paging_hooks(with_token: bool):
    def note_token(params, context, **_):
        context["token"] = params.get("NextToken")

    def split(parsed, context, **_):
        results = parsed.get("MetricDataResults")
        if results is None:
            return
        first = context.get("token") is None
        for r in results:
            half = len(r["Values"]) // 2
            sl = slice(0, half) if first else slice(half, None)
            r["Values"], r["Timestamps"] = r["Values"][sl], r["Timestamps"][sl]
            r["StatusCode"] = "PartialData" if first else "Complete"
        if first and with_token:
            parsed["NextToken"] = "page-2"

    return [("before-parameter-build.cloudwatch.GetMetricData", note_token),
            ("after-call.cloudwatch.GetMetricData", split)]


def test_partial_data_pages_are_followed_and_joined(faults_account, proxy):
    plain = _scan(faults_account, proxy.endpoint, percentiles=False)
    paged = _scan(faults_account, proxy.endpoint, percentiles=False, hooks=_paging_hooks(with_token=True))
    key = ["function_name", "metric", "stat", "period_s", "timestamp"]
    pd.testing.assert_frame_equal(paged.metrics.sort_values(key, ignore_index=True),
                                  plain.metrics.sort_values(key, ignore_index=True))
    calls = paged.manifest["scan_cost"]["api_calls"]["cloudwatch.GetMetricData"]
    assert calls == 2 * plain.manifest["scan_cost"]["api_calls"]["cloudwatch.GetMetricData"]
    assert not (paged.evidence["status"] == "partial").any()
    # PartialData without a NextToken: the half that came is kept, the rest is named as partial
    cut = _scan(faults_account, proxy.endpoint, percentiles=False, hooks=_paging_hooks(with_token=False))
    assert len(cut.metrics) < len(plain.metrics)
    partial = cut.evidence[cut.evidence["status"] == "partial"]
    assert len(partial) > 0 and partial["item"].str.startswith("metrics:").all()
    assert (partial["status"] == "partial").all() and "PartialData" in partial["reason"].iloc[0]


def test_a_function_deleted_mid_scan_is_skipped_with_a_note(faults_account, proxy):
    import moto_account

    lam = moto_account.client(faults_account["endpoint"], "lambda", ACCOUNT)
    lam.create_function(FunctionName="flt-doomed", Runtime="python3.12", Handler="app.handler",
                        Role=f"arn:aws:iam::{ACCOUNT}:role/flt-role", Code={"ZipFile": moto_account.ZIP})

    def delete_first(params, **_):
        if "flt-doomed" in params.get("url_path", ""):
            lam.delete_function(FunctionName="flt-doomed")

    snap = _scan(faults_account, proxy.endpoint,
                 hooks=[("before-call.lambda.GetFunctionConcurrency", delete_first)])
    assert "flt-doomed" not in set(snap.functions["function_name"])
    note = snap.evidence[snap.evidence["function_name"] == "flt-doomed"]
    assert note[["item", "status"]].values.tolist() == [["function", "skipped"]]
    assert "deleted during the scan" in note["reason"].iloc[0]
    for table in ("metrics", "reports", "triggers", "concurrency"):
        assert "flt-doomed" not in set(snap.tables[table]["function_name"])
    assert sorted(snap.functions["function_name"]) == NAMES


def test_an_interrupted_scan_leaves_no_snapshot_behind(faults_account, proxy, tmp_path, monkeypatch):
    import moto_account

    moto_account.use_env(monkeypatch, {**faults_account["env"], "AWS_ENDPOINT_URL": proxy.endpoint})

    def stop(**_):
        raise KeyboardInterrupt

    interrupting = [("before-call.cloudwatch.GetMetricData", stop)]
    out = tmp_path / "snaps" / "faults"
    args = ["scan", "--profile", "faults", "--regions", "us-east-1", "--days", "1", "--out", str(out), "--quiet"]
    with monkeypatch.context() as mp:
        moto_account.hook_sessions(mp, interrupting)
        with pytest.raises(KeyboardInterrupt):
            cli.main(args)
    assert not out.exists() and (not out.parent.exists() or list(out.parent.iterdir()) == [])
    # a previous snapshot survives an interrupted re-scan untouched
    assert cli.main(args) == 0
    before = (out / "manifest.json").read_bytes()
    with monkeypatch.context() as mp:
        moto_account.hook_sessions(mp, interrupting)
        with pytest.raises(KeyboardInterrupt):
            cli.main([*args, "--force"])
    assert (out / "manifest.json").read_bytes() == before
    # ... and so does one whose write is interrupted half-way
    snap = sources.load_snapshot(out)
    calls = {"n": 0}
    real_write = snapshot_io._write_table

    def write_then_stop(df, file):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real_write(df, file)

    monkeypatch.setattr(snapshot_io, "_write_table", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        sources.save(snap, out)
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["faults"]
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name.startswith("lw-")]
