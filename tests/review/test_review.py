"""The findings engine: every checklist id fires on its sample archetype and never on the healthy controls;
one schema; failures of a module are kept and do not sink the review; thresholds and dates are parameters."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from lambda_workbook import review, sample
from lambda_workbook.schema import Snapshot

CONTROLS = [a.name for a in sample.ARCHETYPES if a.expect == ("control",)]


@pytest.fixture(scope="module")
def reviewed(sample_snapshot):
    return review.run(sample_snapshot)


@pytest.fixture(scope="module")
def fired(reviewed):
    f = reviewed.findings
    return set(zip(f["function_name"], f["id"], strict=True))


def test_the_whole_review_ran(reviewed):
    assert reviewed.errors.empty, reviewed.errors.to_dict("records")
    assert set(reviewed.seconds) >= {"rules", "memory", "triggers", "reads", "coldstarts"}


@pytest.mark.parametrize("fid", review.REQUIRED_IDS)
def test_every_required_id_fires_on_its_archetype(fid, fired):
    owners = [a.name for a in sample.ARCHETYPES if fid in a.expect]
    assert owners, f"no sample archetype exists for {fid}"
    for name in owners:
        assert (name, fid) in fired, f"{fid} did not fire on {name}"


@pytest.mark.parametrize("control", CONTROLS)
def test_healthy_controls_stay_quiet(control, fired):
    assert not [i for f, i in fired if f == control], f"findings on the healthy control {control}"


def test_required_ids_are_all_in_the_checklist():
    required = {"memory-overprovisioned", "memory-underprovisioned", "memory-measure", "arm64-candidate",
                "apigw-rest-to-http",
                "batch-size", "sync-for-async", "stream-iterator-age", "dynamodb-scan", "s3-whole-object",
                "cold-starts", "provisioned-concurrency", "init-heavy", "timeout-headroom", "timeout-rate",
                "error-rate", "throttles", "deprecated-runtime", "vpc-review", "iam-wildcard", "secret-env-names",
                "orchestration-in-code", "transport-only"}
    assert required == set(review.REQUIRED_IDS)
    assert set(review.checklist()["section"]) == set(review.SECTIONS)


def test_one_schema_in_review_order(reviewed):
    f = reviewed.findings
    assert list(f.columns) == [*review.COLUMNS, "function"]   # the deprecated copy, last
    assert set(f["severity"]) <= set(review.SEVERITIES)
    assert set(f["section"]) <= set(review.SECTIONS)
    assert (f["evidence"].str.len() > 20).all() and (f["evidence_path"].str.len() > 0).all()
    assert (f["recommendation"].str.len() > 20).all()
    usd = f["monthly_impact_usd"]
    assert usd.notna().any() and usd.isna().any()
    # findings worth at least $1 a month come first, by dollars; then severity decides
    money = (usd >= 1.0).to_numpy()
    assert money[: money.sum()].all(), "a finding worth >= $1 ranks after one that is not"
    top = usd[money].to_numpy()
    assert (top[:-1] >= top[1:]).all()
    # no high-severity finding below one worth less than a dollar a month
    high = (f["severity"] == "high").to_numpy()
    cheap = ~money
    for i in range(len(f)):
        if high[i]:
            assert not cheap[:i][~high[:i]].any(), f"high finding {f['id'][i]} ranks below a sub-$1 finding"
    rest = f[~money]["severity"].map(review.SEVERITIES.index).to_numpy()
    assert (rest[:-1] <= rest[1:]).all()
    # the priced findings say which bill they save from and what their band means
    priced = f[usd.notna()]
    assert (priced["saves_from"] != "").all() and (priced["band_meaning"] != "").all()
    assert (f.loc[usd.isna(), "saves_from"] == "").all()
    band = f.dropna(subset=["monthly_impact_low_usd", "monthly_impact_high_usd"])
    assert (band["monthly_impact_low_usd"] <= band["monthly_impact_usd"] + 1e-9).all()
    assert (band["monthly_impact_high_usd"] >= band["monthly_impact_usd"] - 1e-9).all()
    # the notation of where numbers come from is uniform across modules
    assert not f["evidence_path"].str.contains(r"reports \(").any()
    assert f["evidence_path"].str.contains(r"reports:sample").any()


def test_reliability_findings_carry_their_numbers(reviewed):
    f = reviewed.findings.set_index(["function_name", "id"])
    to = f.loc[("payment-webhook", "timeout-rate")]
    assert "16.0%" in to["evidence"] and "timeout 6 s" in to["evidence"] and to["severity"] == "high"
    assert "metrics:Timeouts" in to["evidence_path"]
    assert to["monthly_impact_usd"] > 0   # the timed-out invocations' lost compute
    assert "14.0%" in f.loc[("partner-sync", "error-rate"), "evidence"]
    th = f.loc[("flash-sale-api", "throttles")]
    assert "reserved concurrency 5" in th["evidence"] and math.isnan(th["monthly_impact_usd"])
    assert "h behind" in f.loc[("clickstream-consumer", "stream-iterator-age"), "title"]


def test_secrets_are_named_never_valued(reviewed, sample_snapshot):
    row = reviewed.findings.set_index(["function_name", "id"]).loc[("notifications-sender", "secret-env-names")]
    for name in ("STRIPE_SECRET_KEY", "DB_PASSWORD", "TWILIO_AUTH_TOKEN"):
        assert name in row["evidence"]
    assert "SENDER_ID" not in row["evidence"] and "LOG_LEVEL" not in row["evidence"]
    assert review.secret_names("DB_PASSWORD_SECRET_ARN;API_TOKEN_NAME;TOKEN_TABLE;GITHUB_TOKEN;api_key") == [
        "GITHUB_TOKEN", "api_key"]


def test_thresholds_are_parameters(sample_snapshot):
    loose = review.run(sample_snapshot, modules=("rules",)).findings
    strict = review.run(sample_snapshot, modules=("rules",), thresholds={"timeout_rate": 0.2, "error_rate": 0.2,
                                                                         "headroom_min_s": 1000}).findings
    assert {"timeout-rate", "error-rate", "timeout-headroom"} <= set(loose["id"])
    # the incidents were on days 4, 9 (timeouts) and 5, 11 (errors) of 14: the last 2 days hold none
    recent = review.run(sample_snapshot, modules=("rules",), thresholds={"rate_days": 2}).findings
    assert not {"timeout-rate", "error-rate"} & set(recent["id"])
    assert not {"timeout-rate", "error-rate", "timeout-headroom"} & set(strict["id"])
    with pytest.raises(ValueError, match=r"unknown review threshold\(s\) \['timeout_rte'\]"):
        review.run(sample_snapshot, thresholds={"timeout_rte": 0.2})
    with pytest.raises(ValueError, match=r"module_thresholds: unknown module\(s\) \['rules'\]"):
        review.run(sample_snapshot, module_thresholds={"rules": {"x": 1}})   # the rules take `thresholds`
    with pytest.raises(ValueError, match="'error_rate' must be a number"):
        review.Thresholds.from_dict({"error_rate": "high"})
    assert "Trusted Advisor" in review.describe_thresholds().loc["timeout_rate", "meaning"]
    money = review.Thresholds.from_dict({"medium_usd": 5, "high_usd": 50})
    assert [money.severity(x) for x in (4.99, 5, 49.99, 50)] == ["low", "medium", "medium", "high"]


def test_runtime_support_is_judged_at_a_stated_date(sample_snapshot):
    def runtime_rows(as_of):
        r = review.run(sample_snapshot, modules=("rules",), as_of=as_of)
        return r, r.findings[r.findings["id"] == "deprecated-runtime"].set_index("function_name")

    r, rows = runtime_rows("auto")   # a snapshot read from disk: its end date
    assert r.as_of == "2026-11-01" and r.as_of_basis == "the snapshot's end"
    assert list(rows.index) == ["legacy-thumbnailer"] and "nodejs24.x" in rows.iloc[0]["recommendation"]
    _, early = runtime_rows("2023-01-15")   # 75 days before nodejs12.x's end: a warning, not yet past
    assert early.loc["legacy-thumbnailer", "severity"] == "medium"
    _, late = runtime_rows("2027-03-15")    # nodejs22.x (controls included) is then 46 days from its end
    assert {"users-api", "email-queue-worker"} <= set(late.index)
    live = Snapshot({**sample_snapshot.manifest, "source": "aws"}, sample_snapshot.tables)   # scanned, not loaded
    assert review.resolve_as_of(live)[1] == "today (live scan)"


def test_a_failing_module_or_rule_does_not_sink_the_review(sample_snapshot, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("module exploded")

    monkeypatch.setitem(review.ADAPTERS, "reads", broken)
    monkeypatch.setitem(review.RULES, "throttles", broken)
    r = review.run(sample_snapshot, modules=("rules", "reads", "triggers"))
    assert set(r.errors["module"]) == {"reads", "rules:throttles"}
    assert r.errors["error"].str.contains("RuntimeError: module exploded").all()
    ids = set(r.findings["id"])
    assert {"apigw-rest-to-http", "timeout-rate", "iam-wildcard"} <= ids
    assert not ids & {"dynamodb-scan", "throttles"}
    assert r.findings.attrs["errors"][0]["module"] in ("reads", "rules:throttles")
    assert isinstance(review.errors(r.findings), pd.DataFrame)


def test_rules_run_on_a_snapshot_without_optional_tables(sample_snapshot):
    bare = sample_snapshot.subset(sample_snapshot.functions.head(6))
    keep = {k: v for k, v in bare.tables.items() if k in ("functions", "metrics", "reports", "triggers")}
    r = review.run(Snapshot(dict(bare.manifest), keep), modules=("rules",))
    assert r.errors.empty, r.errors.to_dict("records")


def test_files_for_tickets_round_trip(reviewed, tmp_path):
    f = reviewed.findings
    path = review.save(f, tmp_path / "findings.csv")
    back = review.load(path)
    assert list(back.columns) == [*review.COLUMNS, "function"] and len(back) == len(f)
    pd.testing.assert_series_equal(back["monthly_impact_usd"].round(2), f["monthly_impact_usd"].round(2),
                                   check_names=False)
    md = review.to_markdown(f)
    assert md.count("\n## ") == len(f) and "| # | $/month |" in md
    assert "[high] provisioned-concurrency: checkout-api" in md
    js = review.results(reviewed)
    json.dumps(js)   # plain JSON
    assert js["count"] == len(f) and js["as_of"] == "2026-11-01" and js["errors"] == []


def test_findings_for_one_account(reviewed, sample_snapshot):
    staging = sample_snapshot.in_accounts(["444455556666"])
    assert review.for_snapshot(reviewed.findings, staging).empty   # staging holds only controls
    assert list(review.for_snapshot(reviewed.findings.iloc[0:0], staging).columns) == [*review.COLUMNS, "function"]
    prod = review.for_snapshot(reviewed.findings, sample_snapshot.in_accounts(["111122223333"]))
    assert len(prod) == len(reviewed.findings)
    with pytest.raises(ValueError, match="not in this snapshot"):
        sample_snapshot.in_accounts(["999999999999"])


def test_direct_integrations():
    assert "EventBridge Pipe" in review.direct_integration("sqs", "kinesis")
    assert "subscription" in review.direct_integration("sns", "sqs")
    assert review.direct_integration("function-url", "kinesis") is None


def test_shipped_policy_reads_execution_roles_and_writes_nothing():
    from lambda_workbook import iam
    from lambda_workbook.sources import aws

    doc = json.loads(aws.policy_path().read_text())
    for action in ("iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetPolicy",
                   "iam:GetPolicyVersion"):
        assert iam.allows(doc, action), action
    for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:CreatePolicyVersion", "lambda:UpdateFunctionConfiguration"):
        assert not iam.allows(doc, action), action


def test_nat_traffic_of_an_unrecorded_size_is_unknown_not_zero(sample_snapshot):
    """A public call whose response size is not recorded makes the vpc-review NAT figure a lower bound, said so."""
    snap = sample_snapshot.subset(sample_snapshot.functions[sample_snapshot.functions["function_name"]
                                                           == "customer-db-sync"])

    def nat_finding(s):
        f = review.run(s, modules=("rules",)).findings
        return f[f["id"] == "vpc-review"].iloc[0]

    before = nat_finding(snap)
    assert "unknown" not in before["evidence"]
    calls = snap.calls.copy()
    extra = calls[calls["service"] == "http"].iloc[[0]].assign(resource="api.partner.example", response_kb=float("nan"))
    changed = type(snap)(snap.manifest, {**snap.tables, "calls": pd.concat([calls, extra], ignore_index=True)})
    after = nat_finding(changed)
    assert "at least (unknown:" in after["evidence"] and "api.partner.example" in after["evidence"]
    assert after["monthly_impact_usd"] == pytest.approx(before["monthly_impact_usd"])   # priced parts only


def test_dotnet6_ends_on_lambdas_deprecation_date(sample_snapshot):
    """dotnet6's Lambda deprecation is 2024-12-20 (the Lambda runtimes page), not Microsoft's 2024-11-12."""
    entry = review.runtime_table()["runtimes"]["dotnet6"]
    assert "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html" in entry["source"]
    f = sample_snapshot.functions
    one = sample_snapshot.subset(f[f["function_name"] == "legacy-thumbnailer"])
    fns = one.functions.assign(runtime="dotnet6")
    snap = type(one)(one.manifest, {**one.tables, "functions": fns})

    def finding(as_of):
        found = review.run(snap, modules=("rules",), as_of=as_of).findings
        return found[found["id"] == "deprecated-runtime"].iloc[0]

    before = finding("2024-12-01")     # after Microsoft's end of support, before Lambda's
    assert before["severity"] == "medium" and "reaches end of support on 2024-12-20" in before["title"]
    assert "in 19 days" in before["evidence"] and "dotnet10" in before["recommendation"]
    on = finding("2024-12-20")
    assert on["severity"] == "high" and on["title"] == "dotnet6 reached end of support on 2024-12-20"
