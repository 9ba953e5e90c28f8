"""The scan of an AWS Organization (sources/aws_org.py, sources/aws_fanout.py) against moto server: the
management profile lists the accounts, assumes the role in each, scans those it could and lists the others as
gaps; the same scan as tasks of a Dask LocalCluster gives the same snapshot."""

from __future__ import annotations

import urllib.parse

import pandas as pd
import pytest

from lambda_workbook import cli, executors, sources
from lambda_workbook.sources import aws, aws_org

MANAGEMENT = "777788889999"
ROLE = "WorkbookReadOnly"


@pytest.fixture(scope="module")
def org(moto_server, tmp_path_factory):
    """An Organization whose management account has a profile ``orgmgmt``, and two member accounts with one
    function each."""
    import moto_account

    client = moto_account.client(moto_server.endpoint, "organizations", MANAGEMENT)
    client.create_organization(FeatureSet="ALL")
    members = []
    for name in ("member-a", "member-b"):
        status = client.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        members.append(status["AccountId"])
    end = pd.Timestamp.now(tz="UTC").floor("h")
    for account, prefix in zip(members, ("org-a", "org-b"), strict=True):
        moto_account.seed_synthetic(moto_server.endpoint, account, 1, days=1, end=end, prefix=prefix,
                                    points_per_day=24, lines=5)
    env = moto_account.write_profiles(moto_server.endpoint, tmp_path_factory.mktemp("org"), {"orgmgmt": MANAGEMENT})
    return {"env": env, "members": members, "end": end, "endpoint": moto_server.endpoint}


@pytest.fixture
def proxy(org):
    import moto_account

    p = moto_account.FaultProxy(org["endpoint"])
    yield p
    p.stop()


def _deny_assume(proxy, account: str, assumed: list[dict]):
    import moto_account

    def seen(req) -> bool:
        form = dict(urllib.parse.parse_qsl(req.body.decode()))
        assumed.append(form)
        return account in form.get("RoleArn", "")

    proxy.add("AssumeRole", lambda r, f: moto_account.error("query", 403, "AccessDenied", "not authorized to assume"),
              when=seen)


def test_scan_of_an_organization_scans_each_account_and_lists_a_denied_one_as_a_gap(org, proxy, tmp_path, capsys,
                                                                                        monkeypatch):
    import moto_account

    a, b = org["members"]
    assumed: list[dict] = []
    _deny_assume(proxy, b, assumed)
    moto_account.use_env(monkeypatch, {**org["env"], "AWS_ENDPOINT_URL": proxy.endpoint})
    out = tmp_path / "snap"
    code = cli.main(["scan", "--profile", "orgmgmt", "--org-role", ROLE, "--external-id", "review-2026",
                     "--regions", "us-east-1", "--days", "1", "--out", str(out), "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    snap = sources.load_snapshot(out)
    assert snap.accounts == [a] and list(snap.functions["function_name"]) == ["org-a-0000"]
    gaps = [line for line in printed.out.splitlines() if line.startswith("gap:")]
    assert len(gaps) == 1 and b in gaps[0] and "AccessDenied" in gaps[0] and a not in gaps[0]
    row = snap.evidence[snap.evidence["item"] == aws_org.GAP_ITEM]
    assert list(row["account_id"]) == [b] and "AccessDenied" in row["reason"].iloc[0]
    assert proxy.seen["ListAccounts"] >= 1
    # every ACTIVE account was asked for (management, a, b), with the read-only session name and the ExternalId
    asked = {f["RoleArn"] for f in assumed}
    assert asked == {f"arn:aws:iam::{x}:role/{ROLE}" for x in (MANAGEMENT, a, b)}
    assert {f["RoleSessionName"] for f in assumed} == {aws_org.SESSION_NAME}
    assert {f.get("ExternalId") for f in assumed} == {"review-2026"}
    assert any(f"account {b}" in n for n in snap.manifest["notes"].split("; "))


def test_the_gap_is_a_flag_of_the_scanned_snapshot(org, proxy, monkeypatch):
    import moto_account

    a, b = org["members"]
    _deny_assume(proxy, b, [])
    moto_account.use_env(monkeypatch, {**org["env"], "AWS_ENDPOINT_URL": proxy.endpoint})
    snap = aws.scan(profiles="orgmgmt", regions="us-east-1", lookback_days=1, progress=False, org_role=ROLE,
                    end=org["end"].to_pydatetime(), insights=False)
    lines = [f.line() for f in snap.flags if b in f.line()]
    assert len(lines) == 1 and "AccessDenied" in lines[0] and "not scanned" in lines[0]


def test_an_organization_scan_on_a_dask_cluster_equals_the_thread_pool_scan(org, monkeypatch):
    pytest.importorskip("distributed")
    import moto_account

    moto_account.use_env(monkeypatch, org["env"])   # the workers start after this, so they see moto too
    common = {"profiles": "orgmgmt", "regions": "us-east-1", "lookback_days": 1, "progress": False,
              "org_role": ROLE, "end": org["end"].to_pydatetime(), "insights": False}
    here = aws.scan(**common)
    from lambda_workbook.sources import aws_fanout

    fanned: list[int] = []
    original = aws_fanout.run
    monkeypatch.setattr(aws_fanout, "run", lambda units, *a, **k: fanned.append(len(units)) or original(units, *a, **k))
    with executors.open("dask-local:1") as ex:
        there = aws.scan(executor=ex, **common)
    assert fanned == [3]       # management, a and b: one task each (us-east-1)
    assert sorted(there.accounts) == sorted(org["members"])
    for table in ("functions", "metrics", "triggers", "reports", "evidence"):
        key = [c for c in ("account_id", "region", "function_name", "metric", "stat", "timestamp", "item")
               if c in here.tables[table]]
        a = here.tables[table].sort_values(key, ignore_index=True) if key else here.tables[table]
        b = there.tables[table].sort_values(key, ignore_index=True) if key else there.tables[table]
        pd.testing.assert_frame_equal(a, b, obj=table)
    assert there.manifest["scan_cost"]["api_calls"] == here.manifest["scan_cost"]["api_calls"]


def test_every_account_denied_is_one_line(org, proxy, tmp_path, capsys, monkeypatch):
    import moto_account

    proxy.add("AssumeRole", lambda r, f: moto_account.error("query", 403, "AccessDenied"))
    moto_account.use_env(monkeypatch, {**org["env"], "AWS_ENDPOINT_URL": proxy.endpoint})
    code = cli.main(["scan", "--profile", "orgmgmt", "--org-role", ROLE, "--regions", "us-east-1", "--days", "1",
                     "--out", str(tmp_path / "s"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no account of the Organization could be scanned" in err and all(m in err for m in org["members"])
    assert not (tmp_path / "s").exists()


def test_listing_the_accounts_denied_names_the_permission(org, proxy, tmp_path, capsys, monkeypatch):
    import moto_account

    proxy.add("ListAccounts", lambda r, f: moto_account.error("json", 400, "AccessDeniedException", "no"))
    moto_account.use_env(monkeypatch, {**org["env"], "AWS_ENDPOINT_URL": proxy.endpoint})
    code = cli.main(["scan", "--profile", "orgmgmt", "--org-role", ROLE, "--regions", "us-east-1", "--days", "1",
                     "--out", str(tmp_path / "s"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "organizations:ListAccounts" in err


@pytest.mark.parametrize("role", ["", "arn:aws:iam::1:role/x", "a/b", "x" * 65])
def test_a_bad_role_name_is_one_line(role):
    with pytest.raises(ValueError, match="is not an IAM role name"):
        aws_org.check_role_name(role)
