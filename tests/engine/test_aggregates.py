"""The engine's group-bys give what pandas gives on the raw rows, and every table reaches DuckDB through
``engine.relation``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import engine, sources
from lambda_workbook.schema import KEY


@pytest.fixture(scope="module")
def snap():
    return sources.load("sample")


def test_metric_stats_match_pandas(snap):
    m = snap.metrics
    want = m.groupby(KEY + ["metric", "stat"])["value"].agg(["sum", "max", "size"])
    got = engine.metric_stats(snap).set_index(KEY + ["metric", "stat"]).sort_index()
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got["total"], want["sum"], rtol=1e-12)
    np.testing.assert_array_equal(got["peak"], want["max"])
    np.testing.assert_array_equal(got["rows"], want["size"])


def test_daily_counts_match_pandas(snap):
    m = snap.metrics
    sel = m[m["metric"].isin(["Invocations", "Errors"]) & (m["stat"] == "Sum")]
    want = sel.groupby(KEY + [sel["timestamp"].dt.floor("D").rename("day"), "metric"])["value"].sum()
    got = engine.daily_counts(snap, ("Invocations", "Errors")).set_index(KEY + ["day", "metric"])["value"]
    assert got.index.get_level_values("day").tz is not None
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False, rtol=1e-12)


def test_weighted_duration_mean_matches_the_hourly_join(snap):
    m = snap.metrics
    inv = m[(m["metric"] == "Invocations") & (m["stat"] == "Sum")]
    n = inv.groupby(KEY + [inv["timestamp"].dt.floor("h").rename("hour")])["value"].sum().rename("n")
    dur = m[(m["metric"] == "Duration") & (m["stat"] == "Average")]
    dur = dur.assign(hour=dur["timestamp"].dt.floor("h")).join(n, on=KEY + ["hour"]).fillna({"n": 0.0})
    want = (dur["value"] * dur["n"]).groupby([dur[k] for k in KEY]).sum() / dur.groupby(KEY)["n"].sum()
    got = engine.weighted_duration_mean(snap).reindex(want.index)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_peak_rows_are_the_first_largest_datapoint(snap):
    m = snap.metrics
    sel = m[(m["metric"] == "Throttles") & (m["stat"] == "Sum")].sort_values("timestamp", kind="stable")
    got = engine.peak_rows(snap, "Throttles", "Sum").set_index(KEY)
    assert len(got) == sel.groupby(KEY).ngroups > 0
    for key, g in sel.groupby(KEY):
        row = g.loc[g["value"].idxmax()]
        assert got.loc[key, "timestamp"] == row["timestamp"] and got.loc[key, "value"] == row["value"]


def test_by_function_gives_each_functions_rows(snap):
    split = engine.ByFunction(snap)
    for fn in snap.functions.head(5).to_dict("records"):
        want = snap.for_function("metrics", fn["function_name"], account_id=fn["account_id"], region=fn["region"])
        pd.testing.assert_frame_equal(split.rows("metrics", fn), want)
    assert split.rows("calls", ("000000000000", "nowhere-1", "none")).empty


def test_relation_prefers_the_snapshots_own(snap):
    con = engine.connect()
    asked = []

    class Lazy:
        tables = snap.tables

        def relation(self, name, c):
            asked.append(name)
            return c.from_df(snap.tables[name].head(3))

    assert len(engine.relation(Lazy(), "metrics", con).df()) == 3 and asked == ["metrics"]
    assert len(engine.relation(snap, "functions", con).df()) == len(snap.functions)


def test_a_lazy_snapshot_is_split_by_filtering(snap):
    class Lazy:
        tables = snap.tables

        def relation(self, name, c):
            return c.from_df(snap.tables[name])

    fn = snap.functions.iloc[0]
    got = engine.ByFunction(Lazy()).rows("reports", fn)
    assert len(got) == 1 and got["function_name"].iloc[0] == fn["function_name"]


def test_connection_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("LAMBDA_WORKBOOK_DUCKDB_MEMORY", "512MB")
    s = engine.settings(temp_directory=tmp_path, threads=1)
    assert s == {"memory_limit": "512MB", "temp_directory": str(tmp_path), "threads": 1}
    con = engine.connect(temp_directory=tmp_path, threads=1)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    with pytest.raises(ValueError, match="threads"):
        engine.settings(threads=0)
