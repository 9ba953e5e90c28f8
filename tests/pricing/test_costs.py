"""``lambda_workbook.costs``: monthly cost per function = requests + compute (+ provisioned concurrency) at the
price book's rates, scaled from the snapshot window to a 730-hour month; REPORT totals when they cover the
window, CloudWatch metrics otherwise. Expectations are recomputed here from the price book and the tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import costs, prices
from lambda_workbook.schema import Snapshot


@pytest.fixture(scope="module")
def sample():
    from lambda_workbook import sources

    return sources.load("sample")


@pytest.fixture(scope="module")
def book():
    return prices.load("us-east-1")


def _copy(snap: Snapshot, **manifest) -> Snapshot:
    """A fresh snapshot object (so memoised results are not reused) with the same tables."""
    return Snapshot(manifest={**snap.manifest, **manifest}, tables={k: v.copy() for k, v in snap.tables.items()},
                    flags=[])


def _row(table: pd.DataFrame, name: str) -> pd.Series:
    sel = table[table["function_name"] == name]
    assert len(sel) == 1, name
    return sel.iloc[0]


def test_month_factor_is_730_hours_over_the_window(sample):
    hours = (pd.Timestamp(sample.manifest["end"]) - pd.Timestamp(sample.manifest["start"])).total_seconds() / 3600
    assert costs.month_factor(sample) == pytest.approx(730.0 / hours)
    one_day = _copy(sample, start="2026-10-31T00:00:00+00:00")
    assert costs.month_factor(one_day) == pytest.approx(730.0 / 24.0)


def test_an_empty_or_reversed_window_is_one_clear_error(sample):
    bad = _copy(sample, start=sample.manifest["end"])
    with pytest.raises(ValueError, match="window must be positive") as err:
        costs.month_factor(bad)
    assert "\n" not in str(err.value)


def test_on_demand_rows_are_requests_plus_compute_at_book_rates(sample, book):
    table = costs.function_costs(sample, book=book)
    factor = costs.month_factor(sample)
    reports = sample.reports.set_index("function_name")
    checked = 0
    for _, r in table[~(table["provisioned_concurrency"] > 0)].iterrows():
        rep = reports.loc[r["function_name"]]
        arch = r["arch"]
        n_month = rep["invocations"] * factor
        gb_s = rep["billed_ms_sum"] * factor / 1000.0 * r["memory_mb"] / 1024.0
        assert r["path"].startswith("reports:")
        assert r["invocations"] == rep["invocations"]
        assert r["invocations_per_month"] == pytest.approx(n_month)
        assert r["request_usd"] == pytest.approx(n_month * book.price(f"lambda.request.{arch}"))
        extra_gb = max(r["ephemeral_storage_mb"] - 512, 0) / 1024.0
        storage = rep["billed_ms_sum"] * factor / 1000.0 * extra_gb * book.price(f"lambda.ephemeral_storage.{arch}")
        assert r["compute_usd"] == pytest.approx(gb_s * book.price(f"lambda.duration.{arch}") + storage)
        assert r["pc_usd"] == 0
        assert r["monthly_usd"] == pytest.approx(r["request_usd"] + r["compute_usd"])
        checked += 1
    assert checked >= 10
    # sorted by monthly cost, most expensive first
    assert list(table["monthly_usd"]) == sorted(table["monthly_usd"], reverse=True)
    assert len(table) == len(sample.functions)


def test_provisioned_concurrency_pays_allocation_for_the_whole_month(sample, book):
    table = costs.function_costs(sample, book=book)
    pc = table[table["provisioned_concurrency"] > 0]
    assert len(pc) >= 1
    for _, r in pc.iterrows():
        arch = r["arch"]
        alloc = r["provisioned_concurrency"] * r["memory_mb"] / 1024.0 * 730 * 3600 * book.price(f"lambda.pc_allocation.{arch}")
        assert r["pc_usd"] == pytest.approx(alloc)
        # served invocations are billed at the PC duration rate, cheaper than on demand
        on_demand = r["billed_ms"] * costs.month_factor(sample) / 1000 * r["memory_mb"] / 1024 * book.price(f"lambda.duration.{arch}")
        assert 0 < r["compute_usd"] < on_demand
        assert r["monthly_usd"] == pytest.approx(r["request_usd"] + r["compute_usd"] + r["pc_usd"])


def test_halving_the_window_doubles_the_monthly_figures(sample, book):
    full = costs.function_costs(sample, book=book).set_index("function_name")
    start, end = pd.Timestamp(sample.manifest["start"]), pd.Timestamp(sample.manifest["end"])
    half = _copy(sample, start=(start + (end - start) / 2).isoformat())
    halved = costs.function_costs(half, book=book).set_index("function_name")
    on_demand = full.index[~(full["provisioned_concurrency"] > 0)]
    for col in ("invocations_per_month", "request_usd", "compute_usd", "monthly_usd"):
        np.testing.assert_allclose(halved.loc[on_demand, col], 2 * full.loc[on_demand, col], rtol=1e-9)


def test_partial_reports_fall_back_to_metrics(sample, book):
    snap = _copy(sample)
    name = "orders-api"
    reports = snap.tables["reports"]
    reports.loc[reports["function_name"] == name, "sampled_fraction"] = 0.5
    table = costs.function_costs(snap, book=book)
    r = _row(table, name)
    assert r["path"] == "metrics"
    m = snap.metrics[snap.metrics["function_name"] == name]
    inv = m[(m["metric"] == "Invocations") & (m["stat"] == "Sum")]
    dur = m[(m["metric"] == "Duration") & (m["stat"] == "Average")]
    assert r["invocations"] == pytest.approx(inv["value"].sum())
    # the mean duration weights each hour's average by that hour's invocations
    n_hour = inv.groupby(inv["timestamp"].dt.floor("h"))["value"].sum()
    d_hour = dur.assign(hour=dur["timestamp"].dt.floor("h"))
    w = d_hour["hour"].map(n_hour).fillna(0.0)
    mean = float((d_hour["value"] * w).sum() / w.sum())
    assert r["billed_ms"] == pytest.approx(inv["value"].sum() * math.ceil(mean))
    factor = costs.month_factor(snap)
    mem_gb = r["memory_mb"] / 1024
    assert r["compute_usd"] == pytest.approx(r["billed_ms"] * factor / 1000 * mem_gb * book.price(f"lambda.duration.{r['arch']}"))
    # the other functions keep the REPORT path
    others = table[table["function_name"] != name]
    assert others["path"].str.startswith("reports:").all()


def test_price_book_rates_drive_the_cost(sample, book):
    base = costs.function_costs(sample, book=book)
    items = {k: dict(v) for k, v in book.items.items()}
    for arch in ("x86_64", "arm64"):
        items[f"lambda.request.{arch}"]["price"] = 2 * book.price(f"lambda.request.{arch}")
    doubled = prices.PriceBook(region=book.region, as_of=book.as_of, items=items, source=book.source)
    dear = costs.function_costs(_copy(sample), book=doubled).set_index("function_name")
    base = base.set_index("function_name")
    np.testing.assert_allclose(dear.loc[base.index, "request_usd"], 2 * base["request_usd"], rtol=1e-9)
    on_demand = base.index[~(base["provisioned_concurrency"] > 0)]
    np.testing.assert_allclose(dear.loc[on_demand, "compute_usd"], base.loc[on_demand, "compute_usd"], rtol=1e-9)


def test_by_memory_and_arch_sums_the_functions(sample):
    table = costs.function_costs(sample)
    g = costs.by_memory_and_arch(table)
    assert g["functions"].sum() == len(table)
    assert g["monthly_usd"].sum() == pytest.approx(table["monthly_usd"].sum())
    for _, r in g.iterrows():
        sel = table[(table["memory_mb"] == r["memory_mb"]) & (table["arch"] == r["arch"])]
        assert r["functions"] == len(sel)
        assert r["monthly_usd"] == pytest.approx(sel["monthly_usd"].sum())


def test_summary_results_and_view_agree_with_the_table(sample):
    table = costs.function_costs(sample)
    s = costs.summary(sample, table)["value"]
    assert s["Functions"] == str(len(table))
    assert s["Lambda cost per month (USD, list prices, no free tier)"] == f"{table['monthly_usd'].sum():,.2f}"
    res = costs.results(sample, table, top=3)
    assert res["functions"] == len(table)
    assert res["monthly_usd"] == pytest.approx(table["monthly_usd"].sum(), abs=1e-3)
    assert [f["function_name"] for f in res["top_functions"]] == list(table.nlargest(3, "monthly_usd")["function_name"])
    v = costs.view(table)
    assert list(v.columns) == list(costs.VIEW_COLUMNS.values())
    np.testing.assert_allclose(v["total ($/mo)"], table["monthly_usd"].round(2))
    np.testing.assert_allclose(v["cold starts (%)"], (table["cold_start_share"] * 100).round(2))


def test_inventory_counts_env_vars_and_lists_triggers(sample):
    inv = costs.inventory(sample)
    assert len(inv) == len(sample.functions)
    f = sample.functions.set_index("function_name")
    for _, r in inv.iterrows():
        names = [x for x in str(f.loc[r["function_name"], "env_var_names"]).split(";") if x]
        assert r["env_vars"] == len(names)
        kinds = sample.triggers[sample.triggers["function_name"] == r["function_name"]]["source_type"]
        assert r["triggers"] == ", ".join(sorted(kinds))
    assert "env_var_names" not in inv.columns   # names never shown, only their count
