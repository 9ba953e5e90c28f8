"""The live AWS scan against moto in server mode, seeded from the sample account: the round trip, the
least-privilege policy, the CLI and the account review notebook on a scanned snapshot and live."""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import MOTO_SAMPLE_ACCOUNTS, MOTO_SAMPLE_FUNCTIONS
from lambda_workbook import cli, iam, logs, report, sample, schema, sources
from lambda_workbook.sources import aws, aws_logs


@pytest.fixture(scope="module")
def scanned(moto_sample):
    """One scan of both profiles and two regions, every AWS operation recorded with botocore event hooks."""
    import moto_account

    ops: Counter = Counter()

    def record(model, **_):
        ops[(model.service_model.service_name, model.name)] += 1

    with pytest.MonkeyPatch.context() as mp:
        moto_account.use_env(mp, moto_sample.env)
        moto_account.hook_sessions(mp, [("before-call.*.*", record)])
        snap = aws.scan(profiles="prod,staging", regions="us-east-1,eu-west-1", lookback_days=1, progress=False,
                        end=moto_sample.end.to_pydatetime())
    return snap, ops


def _sample_part(sample_snapshot, table: str) -> pd.DataFrame:
    df = sample_snapshot.tables[table]
    return df[df["function_name"].isin(MOTO_SAMPLE_FUNCTIONS)]


def test_scan_reads_every_function_of_both_accounts_and_regions(scanned, moto_sample):
    snap, _ = scanned
    assert isinstance(snap, schema.Snapshot)
    assert snap.accounts == sorted(MOTO_SAMPLE_ACCOUNTS.values())
    assert snap.regions == ["eu-west-1", "us-east-1"]
    names = set(snap.functions["function_name"])
    assert names == set(MOTO_SAMPLE_FUNCTIONS) | set(moto_sample.eu_functions)
    eu = snap.functions[snap.functions["region"] == "eu-west-1"]
    assert list(eu["account_id"]) == [MOTO_SAMPLE_ACCOUNTS["prod"]]
    assert snap.window_days == 1 and pd.Timestamp(snap.manifest["end"]) == moto_sample.end


def test_round_trip_function_configuration(scanned, sample_snapshot):
    snap, _ = scanned
    ours = snap.functions.set_index("function_name")
    theirs = _sample_part(sample_snapshot, "functions").set_index("function_name")
    cols = ["account_id", "region", "function_arn", "runtime", "handler", "memory_mb", "arch", "timeout_s",
            "ephemeral_storage_mb", "package_type", "tracing_mode", "role_arn", "env_var_names", "description",
            "log_group", "vpc_id", "layer_count"]
    pd.testing.assert_frame_equal(ours.loc[theirs.index, cols], theirs[cols], check_dtype=False)
    # reserved concurrency: flash-sale-api holds 5, the others none
    assert ours.loc["flash-sale-api", "reserved_concurrency"] == 5
    assert ours.drop(index="flash-sale-api")["reserved_concurrency"].isna().all()
    conc = snap.concurrency
    assert conc[["function_name", "kind", "requested"]].values.tolist() == [["flash-sale-api", "reserved", 5.0]]
    assert (ours["state"] == "Active").all()


def test_round_trip_triggers(scanned, sample_snapshot):
    snap, _ = scanned
    ours = snap.triggers[snap.triggers["region"] == "us-east-1"].set_index("function_name")
    theirs = _sample_part(sample_snapshot, "triggers").set_index("function_name")
    assert set(ours.index) == set(theirs.index)
    assert list(snap.triggers.query("region == 'eu-west-1'")["source_type"]) == ["sqs"]
    pd.testing.assert_series_equal(ours.loc[theirs.index, "source_type"], theirs["source_type"])
    for name, t in theirs.iterrows():
        o = ours.loc[name]
        assert o["sync"] == t["sync"], name
        assert o["enabled"]
        if t["source_type"] in ("sqs", "kinesis", "sns", "s3", "eventbridge"):
            assert o["source_arn"] == t["source_arn"], name
        if t["source_type"].startswith("apigw"):
            assert o["source_arn"].startswith(f"arn:aws:execute-api:us-east-1:{t['account_id']}:")
        for col in ("batch_size", "batch_window_s", "parallelization"):
            assert o[col] == t[col] or (np.isnan(o[col]) and np.isnan(t[col])), (name, col)
    assert ours.loc["partner-sync", "detail"] == "schedule rate(1 minute)"
    assert ours.loc["media-thumbnail-io", "detail"] == "s3:ObjectCreated:* on media-uploads"
    assert ours.loc["auth-authorizer", "evidence"] == "get_policy"      # found through the resource policy


def test_round_trip_metrics_equal_the_seeded_datapoints(scanned, moto_sample):
    snap, _ = scanned
    seeded = moto_sample.seeded.metrics
    seeded = seeded[~seeded["stat"].str.startswith("p")]
    key = ["function_name", "metric", "stat", "period_s", "timestamp"]
    ours = snap.metrics[snap.metrics["function_name"].isin(MOTO_SAMPLE_FUNCTIONS) & (snap.metrics["metric"] != "Timeouts")]
    merged = seeded.merge(ours, on=key, how="outer", suffixes=("_seeded", "_scanned"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    np.testing.assert_allclose(merged["value_scanned"], merged["value_seeded"], rtol=1e-9)
    # the window is within 15 days: counts at 60 s, the rest hourly, all in ONE time range
    periods = ours.groupby("metric")["period_s"].unique().map(list).to_dict()
    assert periods["Invocations"] == [60] and periods["Duration"] == [3600]
    assert {"IteratorAge", "AsyncEventAge", "Throttles", "Errors", "ConcurrentExecutions"} <= set(periods)
    # one call for the series read, one failed percentile call (moto answers pNN with HTTP 500, not retried)
    segs = [s for s in snap.manifest["metric_periods"] if s["region"] == "us-east-1"]
    assert all(s["calls"] == -(-s["series_read"] // 500) + 1 for s in segs)
    n = snap.functions[snap.functions["region"] == "us-east-1"].groupby("account_id").size()
    assert all(s["series"] - s["series_read"] == 3 * n[s["account_id"]] for s in segs)   # p50, p90, p99 each


def test_round_trip_reports_come_from_the_sampled_lines(scanned, moto_sample, sample_snapshot):
    snap, _ = scanned
    reports = snap.reports.set_index("function_name")
    lines = moto_sample.seeded.lines
    inv = moto_sample.seeded.metrics.query("metric == 'Invocations'").groupby("function_name")["value"].sum()
    theirs = _sample_part(sample_snapshot, "reports").set_index("function_name")
    for name in MOTO_SAMPLE_FUNCTIONS:
        row = reports.loc[name]
        assert row["path"] == "filter_log_events"      # moto's Insights runs no stats: the fallback path
        expected = aws_logs.report_stats(logs.parse_reports(lines.loc[lines["function_name"] == name, "message"]))
        for col, value in expected.items():
            assert row[col] == pytest.approx(value, nan_ok=True), (name, col)
        assert row["sampled_fraction"] == pytest.approx(min(1.0, expected["invocations"] / inv[name]))
        tried = {a.name: a.tried_mb for a in sample.ARCHETYPES if a.tried_mb}   # a memory change in the window
        assert row["memory_size_mb"] == max(theirs.loc[name, "memory_size_mb"], tried.get(name, 0))
        assert row["duration_p50_ms"] == pytest.approx(theirs.loc[name, "duration_p50_ms"], rel=0.2)
    samples = snap.report_samples
    assert samples.groupby("function_name").size().max() <= 120
    # JSON-format functions were read too (their REPORT lines are platform.report objects)
    json_fns = sample_snapshot.functions.query("log_format == 'JSON'")["function_name"]
    assert set(json_fns) & set(MOTO_SAMPLE_FUNCTIONS) <= set(reports.index)


def test_evidence_names_what_moto_cannot_serve(scanned):
    snap, _ = scanned
    ev = snap.evidence
    prod = ev[(ev["account_id"] == MOTO_SAMPLE_ACCOUNTS["prod"]) & (ev["region"] == "us-east-1")]
    items = dict(zip(prod["item"], prod["reason"], strict=False))
    assert "p50/p90/p99" in items["metrics:percentiles"] and "HTTP 500" in items["metrics:percentiles"]
    assert "ListProvisionedConcurrencyConfigs" in items["provisioned_concurrency"]
    assert "ListFunctionUrlConfigs" in items["function_urls"]
    sampled = prod[prod["item"] == "reports"]
    assert (sampled["status"] == "sampled").all() and "without statistics" in sampled["reason"].iloc[0]
    # no duplicated evidence rows, and no function is reported missing a trigger
    assert not ev.duplicated().any()
    assert not ((ev["item"] == "triggers") & ev["function_name"].isin(MOTO_SAMPLE_FUNCTIONS)).any()


def test_roles_hold_the_sample_policies(scanned, sample_snapshot):
    snap, _ = scanned
    cols = ["account_id", "role_arn", "policy_name", "effect", "action", "resource"]
    theirs = _sample_part(sample_snapshot, "functions")["role_arn"]
    want = sample_snapshot.roles[sample_snapshot.roles["role_arn"].isin(theirs)][cols]
    got = snap.roles[snap.roles["role_arn"].isin(theirs)][cols]
    assert set(map(tuple, got.to_numpy())) == set(map(tuple, want.to_numpy()))


def test_manifest_carries_the_scan_bill_and_provenance(scanned):
    snap, ops = scanned
    m = snap.manifest
    assert m["source"] == "aws" and m["lookback_days"] == 1 and m["endpoint"].startswith("http://127.0.0.1:")
    cost = m["scan_cost"]
    gmd = sum(n for (s, o), n in ops.items() if o == "GetMetricData")
    assert cost["api_calls"]["cloudwatch.GetMetricData"] == gmd
    assert cost["api_calls_total"] == sum(ops.values())
    assert gmd == sum(s["calls"] for s in m["metric_periods"])
    sent = sum(s["series_read"] + min(500, s["series"] - s["series_read"]) for s in m["metric_periods"])
    assert cost["metrics_requested"] == sent
    priced = {(i["region"], i["item"]): i for i in cost["items"]}
    gmd_item = priced[("us-east-1", "cloudwatch.get_metric_data_metric")]
    assert gmd_item["usd"] == pytest.approx(gmd_item["quantity"] * 0.00001)
    assert cost["unpriced_regions"] == ["eu-west-1"]       # no eu-west-1 price snapshot: quantities only
    assert cost["usd"] == pytest.approx(sum(i["usd"] for i in cost["items"] if i["region"] == "us-east-1"), abs=1e-9)
    assert {"functions", "metrics", "reports", "triggers", "roles"} <= set(m["provenance"])
    text = aws.format_cost(cost)
    assert "scan cost: USD" in text and "eu-west-1: no price snapshot" in text


def test_every_operation_is_read_only_and_allowed_by_the_shipped_policy(scanned):
    _, ops = scanned
    policy = json.loads(aws.policy_path().read_text())
    assert len(ops) >= 25, sorted(ops)      # the scan exercised the inventory, triggers, metrics and logs
    for service, op in ops:
        action = aws.iam_action(service, op)
        assert aws.is_read_only(action), f"{service}.{op} -> {action} is not a read"
        assert iam.allows(policy, action), f"{action} (used by {service}.{op}) is not in the policy"
    # the policy grants nothing that writes
    for st in iam.statements(policy):
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert st["Effect"] == "Allow" and all(aws.is_read_only(a) and "*" not in a for a in actions)


def test_policy_check_can_fail():
    policy = json.loads(aws.policy_path().read_text())
    assert not iam.allows(policy, "lambda:UpdateFunctionConfiguration")
    assert not iam.allows(policy, "lambda:InvokeFunction")
    assert not aws.is_read_only("lambda:PutFunctionConcurrency")
    assert aws.iam_action("s3", "ListBuckets") == "s3:ListAllMyBuckets"


@pytest.fixture(scope="module")
def reviewed(moto_sample, tmp_path_factory):
    """The user's path, once: ``lambda-workbook scan`` (botocore debug logging on), the account review on the
    snapshot it wrote, and the account review scanning live with ``source="aws"`` in its own kernel."""
    import contextlib
    import io

    import moto_account

    root = tmp_path_factory.mktemp("reviewed")
    out = root / "snapshots" / "prod"
    console = io.StringIO()
    handler = logging.FileHandler(root / "debug.log")
    handler.setLevel(logging.DEBUG)
    botocore_log = logging.getLogger("botocore")
    old_level = botocore_log.level
    with pytest.MonkeyPatch.context() as mp:
        moto_account.use_env(mp, moto_sample.env)
        botocore_log.addHandler(handler)
        botocore_log.setLevel(logging.DEBUG)
        try:
            with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
                code = cli.main(["scan", "--profile", "prod", "--regions", "us-east-1", "--days", "1",
                                 "--out", str(out)])
                again = cli.main(["scan", "--profile", "prod", "--out", str(out)])      # exists, no --force
        finally:
            botocore_log.removeHandler(handler)
            botocore_log.setLevel(old_level)
            handler.close()
        html = report.account_review(root / "review", source="snapshot", snapshot_path=str(out), profile="",
                                     region="all", lookback_days=14, top_n=5)
        report.account_review(root / "live", source="aws", snapshot_path="", profile="prod,staging",
                              region="us-east-1", lookback_days=1, top_n=5)
    return SimpleNamespace(root=root, out=out, code=code, again=again, console=console.getvalue(), html=html)


def test_cli_scan_writes_a_snapshot_the_review_notebook_reads(reviewed):
    assert reviewed.code == 0, reviewed.console
    assert "snapshot written to" in reviewed.console and "scan cost: USD" in reviewed.console
    snap = sources.load("snapshot", snapshot_path=reviewed.out)
    assert snap.manifest["source"] == "aws" and len(snap.functions) == 9
    assert reviewed.again == 2 and "--force" in reviewed.console
    results = json.loads((reviewed.root / "review" / "account_review.results.json").read_text())
    assert reviewed.html.exists() and results["functions"] == 9 and results["source"] == "aws"
    assert results["monthly_usd"] > 0


def test_review_notebook_scans_live_with_source_aws(reviewed):
    results = json.loads((reviewed.root / "live" / "account_review.results.json").read_text())
    assert results["source"] == "aws"
    assert results["functions"] == len(MOTO_SAMPLE_FUNCTIONS)
    assert results["accounts"] == sorted(MOTO_SAMPLE_ACCOUNTS.values())


def _texts(folder):
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            yield path, (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", errors="replace")


def test_canary_secrets_appear_in_no_file_log_or_console(reviewed, moto_sample, moto_server):
    """Environment variable values seeded as canaries reach no snapshot, report, notebook, log or console."""
    import moto_account

    canaries = moto_sample.seeded.canaries
    assert len(canaries) >= 10
    # the canaries really are in the account: moto hands them to anyone who asks
    lam = moto_account.client(moto_server.endpoint, "lambda", MOTO_SAMPLE_ACCOUNTS["prod"])
    env = lam.get_function_configuration(FunctionName="notifications-sender")["Environment"]["Variables"]
    assert set(env.values()) & set(canaries)
    written = dict(_texts(reviewed.root))
    names = {str(p.relative_to(reviewed.root)) for p in written}
    assert {"snapshots/prod/functions.csv", "review/index.html", "live/account_review.ipynb", "debug.log"} <= names
    assert "Response body: <redacted by lambda-workbook>" in written[reviewed.root / "debug.log"]
    for canary in canaries:
        for path, text in written.items():
            assert canary not in text, f"{canary} leaked into {path}"
        assert canary not in reviewed.console
    # the names are kept: the scan did read the environment
    assert "STRIPE_SECRET_KEY" in written[reviewed.out / "functions.csv"]


def test_indexed_metric_query_matches_motos_own(moto_server):
    """The tests' faster get_metric_data returns what moto's own implementation returns."""
    from datetime import UTC, datetime, timedelta

    from moto.cloudwatch.models import CloudWatchBackend

    import moto_account

    original = moto_account.speed_up_moto_metrics()
    account, region = "135792468024", "us-west-2"
    cw = moto_account.client(moto_server.endpoint, "cloudwatch", account, region)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    datums = [{"MetricName": m, "Dimensions": [{"Name": "FunctionName", "Value": f}], "Timestamp": t0 + timedelta(
        minutes=7 * i), "Value": float(i % 11)} for i in range(200) for m in ("Invocations", "Errors") for f in "ab"]
    datums += [{"MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": "a"}],
                "Timestamp": t0 + timedelta(minutes=13 * i),
                "StatisticValues": {"SampleCount": 3.0, "Sum": 30.0 + i, "Minimum": 1.0, "Maximum": 20.0 + i}}
               for i in range(100)]
    moto_account.put_metrics(cw, datums)
    queries = [{"Id": f"q{i}", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": m, "Dimensions": [
        {"Name": "FunctionName", "Value": f}]}, "Period": p, "Stat": s}}
        for i, (m, f, p, s) in enumerate([("Invocations", "a", 60, "Sum"), ("Errors", "b", 3600, "Sum"),
                                          ("Duration", "a", 3600, "Average"), ("Duration", "a", 300, "Maximum"),
                                          ("Invocations", "b", 86400, "SampleCount")])]
    start, end = t0 + timedelta(minutes=5), t0 + timedelta(hours=20)
    for scan_by in ("TimestampAscending", "TimestampDescending"):
        fast = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy=scan_by)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(CloudWatchBackend, "get_metric_data", original)
            slow = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy=scan_by)
        assert fast["MetricDataResults"] == slow["MetricDataResults"]
        assert sum(len(r["Values"]) for r in fast["MetricDataResults"]) > 100
