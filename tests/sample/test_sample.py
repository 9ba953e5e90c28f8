"""The embedded sample account: deterministic, consistent across tables, small, and free of secrets."""

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import costs, datafiles, sample

ARCHETYPE_FINDINGS = {
    "memory-overprovisioned", "memory-underprovisioned", "arm64-candidate", "cold-starts", "batch-size",
    "stream-iterator-age", "apigw-rest-to-http", "sync-for-async", "dynamodb-scan", "s3-whole-object",
    "timeout-rate", "vpc-review", "secret-env-names", "orchestration-in-code", "deprecated-runtime",
    "error-rate", "throttles", "provisioned-concurrency", "timeout-headroom", "iam-wildcard", "init-heavy",
    "transport-only",
}


def test_committed_sample_matches_the_generator(sample_snapshot):
    fresh = sample.generate()
    for name, df in fresh.tables.items():
        committed = sample_snapshot.tables[name]
        assert len(committed) == len(df), name
        num = df.select_dtypes("number").columns
        np.testing.assert_allclose(committed[num].to_numpy(float), df[num].to_numpy(float), rtol=1e-9, err_msg=name)
        other = [c for c in df.columns if c not in num]
        assert (committed[other].astype(str).to_numpy() == df[other].astype(str).to_numpy()).all(), name


def test_every_archetype_and_controls_present(sample_snapshot):
    expected = {f for a in sample.ARCHETYPES for f in a.expect}
    assert expected >= ARCHETYPE_FINDINGS
    assert sum("control" in a.expect for a in sample.ARCHETYPES) >= 5
    assert 25 <= len(sample_snapshot.functions) <= 40
    assert sample_snapshot.manifest["archetypes"]["pdf-render"] == ["memory-underprovisioned"]


def test_small_enough_to_commit():
    size = sum(p.stat().st_size for p in datafiles.sample_account_dir().iterdir())
    assert size < 5 * 2**20


def test_invocations_agree_between_metrics_and_reports(sample_snapshot):
    inv = costs.metric_totals(sample_snapshot, "Invocations")
    rep = sample_snapshot.reports.set_index(["account_id", "region", "function_name"])["invocations"]
    pd.testing.assert_series_equal(inv.sort_index(), rep.sort_index().astype(float), check_names=False)


def test_archetype_signals(sample_snapshot):
    s = sample_snapshot
    f = s.functions.set_index("function_name")
    r = s.reports.set_index("function_name")
    t = s.triggers.set_index("function_name")
    # I/O-bound at 3,008 MB using a small fraction of it; CPU-bound starved at 128 MB
    assert f.loc["media-thumbnail-io", "memory_mb"] == 3008
    assert r.loc["media-thumbnail-io", "max_memory_used_p99_mb"] < 0.1 * 3008
    assert f.loc["pdf-render", "memory_mb"] == 128 and r.loc["pdf-render", "duration_p50_ms"] > 3000
    assert t.loc["sqs-worker-batch1", "batch_size"] == 1
    assert t.loc["catalog-rest-api", "source_type"] == "apigw-rest"
    assert r.loc["admin-audit-export", "cold_starts"] / r.loc["admin-audit-export", "invocations"] > 0.3
    assert r.loc["users-api", "cold_starts"] / r.loc["users-api", "invocations"] < 0.01
    assert f.loc["customer-db-sync", "vpc_id"].startswith("vpc-")
    assert f.loc["legacy-thumbnailer", "runtime"] == "nodejs12.x"
    age = s.metrics[(s.metrics.function_name == "clickstream-consumer") & (s.metrics.metric == "IteratorAge")]
    assert age.sort_values("timestamp")["value"].iloc[-24:].mean() > 10 * age.sort_values("timestamp")["value"].iloc[:24].mean()
    # the timeout archetype breaches 10% on some days, the controls never do
    daily_inv = s.metrics[(s.metrics.metric == "Invocations")].assign(day=lambda d: d.timestamp.dt.floor("D"))
    daily_inv = daily_inv.groupby(["function_name", "day"])["value"].sum()
    to = s.metrics[s.metrics.metric == "Timeouts"].set_index(["function_name", "timestamp"])["value"]
    rate = (to / daily_inv.rename_axis(["function_name", "timestamp"])).dropna()
    assert rate.loc["payment-webhook"].max() > 0.10
    assert set(rate.index.get_level_values(0)) == {"payment-webhook"}
    # throttles only where reserved concurrency caps a burst
    thr = s.metrics[(s.metrics.metric == "Throttles")].groupby("function_name")["value"].sum()
    assert set(thr[thr > 0].index) == {"flash-sale-api"}


@pytest.mark.parametrize("name", ["STRIPE_SECRET_KEY", "DB_PASSWORD"])
def test_secret_names_are_names_only(sample_snapshot, name):
    f = sample_snapshot.functions.set_index("function_name")
    assert name in f.loc["notifications-sender", "env_var_names"].split(";")
    assert "=" not in "".join(sample_snapshot.functions["env_var_names"])


def test_nightly_function_gets_a_cold_start_each_night(sample_snapshot):
    arch = sample.archetype("nightly-ledger-close")
    traffic = sample.simulate_traffic(arch)
    per_night = traffic.cold.reshape(-1, 1440).sum(axis=1)
    assert (per_night >= 1).all()


def test_report_samples_are_parseable_and_agree_with_aggregates(sample_snapshot):
    logs = pytest.importorskip("lambda_workbook.logs")
    s = sample_snapshot.report_samples
    df = logs.parse_reports(s["message"])
    assert len(df) == len(s) and df.attrs["malformed"] == 0
    df["function_name"] = s["function_name"].to_numpy()
    f = sample_snapshot.functions.set_index("function_name")["memory_mb"]
    other = df[df["memory_size_mb"] != df["function_name"].map(f)]
    tried = {a.name: a.tried_mb for a in sample.ARCHETYPES if a.tried_mb}
    assert set(other["function_name"]) == set(tried), "only a memory change leaves lines at another size"
    assert (other["memory_size_mb"] == other["function_name"].map(tried)).all()
    df = df.drop(other.index)
    med = df[df.init_duration_ms.isna()].groupby("function_name")["duration_ms"].median()
    agg = sample_snapshot.reports.set_index("function_name")["duration_p50_ms"].reindex(med.index)
    ratio = med / agg
    assert ratio.between(0.6, 1.6).all(), ratio[~ratio.between(0.6, 1.6)]
