"""Pages stay readable with 10,000 functions: long per-function tables show the top rows by dollars with a note
naming the true total and the CSV beside the page, per-function plots draw the costliest only and say so, and the
explorers' function picker lists at most 50 functions yet finds any of them by a piece of its name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets

from lambda_workbook import function_picker, long_tables, plots, report, tables

N_FUNCTIONS = 10_000


@pytest.fixture(scope="module")
def wide_costs():
    rng = np.random.default_rng(7)
    n = N_FUNCTIONS
    return pd.DataFrame({
        "account_id": "111122223333", "region": "us-east-1",
        "function_name": [f"svc-{i:05d}-{'api' if i % 3 else 'worker'}" for i in range(n)],
        "arch": np.where(np.arange(n) % 2, "arm64", "x86_64"),
        "memory_mb": rng.choice([128, 256, 512, 1024, 2048], n),
        "duration_mean_ms": rng.uniform(5, 3000, n),
        "monthly_usd": rng.lognormal(0, 2, n),
    })


def test_cap_keeps_the_costliest_rows_in_order(wide_costs):
    shown = long_tables.cap(wide_costs, 200, by="monthly_usd")
    assert len(shown) == 200
    assert shown["monthly_usd"].is_monotonic_decreasing
    assert shown["monthly_usd"].min() >= wide_costs["monthly_usd"].nlargest(200).min()
    ranked = pd.DataFrame({"x": range(5)}, index=pd.RangeIndex(1, 6, name="rank"))
    assert list(long_tables.cap(ranked, 3)["x"]) == [0, 1, 2]      # no ``by``: the table's own order
    with pytest.raises(KeyError, match="no column 'dollars'"):
        long_tables.cap(wide_costs, 5, by="dollars")
    with pytest.raises(ValueError, match="at least 1"):
        long_tables.cap(wide_costs, 0)


def test_note_names_the_true_total_and_the_file_only_when_rows_are_left_out(tmp_path):
    csv = tmp_path / "deep" / "account_review.costs.csv"
    line = long_tables.note(200, N_FUNCTIONS, file=csv)
    assert line == "200 of 10,000 functions shown, by monthly cost; the full table is in account_review.costs.csv"
    assert str(tmp_path) not in line                               # no local path on a page
    assert long_tables.note(29, 29, file=csv) is None
    html = long_tables.note_html(line, csv)
    assert "<a href=\"account_review.costs.csv\">account_review.costs.csv</a>" in html and str(tmp_path) not in html
    assert "results_path" in long_tables.note(5, 9)                # nothing saved: says how to get the CSV


def test_save_table_writes_every_row_beside_the_results(tmp_path, wide_costs):
    results = tmp_path / "acct" / "account_review.results.json"
    results.parent.mkdir()
    path = report.save_table(str(results), "costs", wide_costs)
    assert path == results.with_name("account_review.costs.csv")
    back = pd.read_csv(path)
    assert len(back) == N_FUNCTIONS and list(back.columns) == list(wide_costs.columns)
    ranked = pd.DataFrame({"x": [3, 4]}, index=pd.RangeIndex(1, 3, name="rank"))
    assert list(pd.read_csv(report.save_table(str(results), "ranked", ranked)).columns) == ["rank", "x"]
    assert report.save_table("", "costs", wide_costs) is None              # interactive run: nothing written
    assert report.save_table(str(results), "msg", "No findings: every check passed.") is None


def test_show_embeds_at_most_n_rows_with_the_note(wide_costs, tmp_path):
    csv = tmp_path / "account_review.costs.csv"
    page = long_tables.html(wide_costs, 150, by="monthly_usd", file=csv,
                            columns=["function_name", "memory_mb", "monthly_usd"])
    shown = wide_costs.nlargest(150, "monthly_usd")
    assert "150 of 10,000 functions shown, by monthly cost" in page and 'href="account_review.costs.csv"' in page
    names = set(wide_costs["function_name"])
    on_page = {n for n in names if n in page}
    assert on_page == set(shown["function_name"])                   # exactly the top rows, no others
    # a short table: no note, every row, as before
    page = long_tables.html(wide_costs.head(29), 150, by="monthly_usd", file=csv)
    assert "shown, by monthly cost" not in page
    assert all(n in page for n in wide_costs.head(29)["function_name"])
    assert page.count("<tr") - page.count("<tr class=\"gt_col_headings") >= 29
    assert long_tables.html("No findings: every check passed.", 5) == tables.message_html("No findings: every check passed.")


def test_by_cost_orders_an_inventory_costliest_first(wide_costs):
    inventory = wide_costs[["account_id", "region", "function_name"]].sample(frac=1, random_state=3)
    ordered = long_tables.by_cost(inventory, wide_costs)
    usd = ordered.merge(wide_costs, on=["account_id", "region", "function_name"])["monthly_usd"]
    assert usd.is_monotonic_decreasing and len(ordered) == N_FUNCTIONS
    assert isinstance(ordered.index, pd.RangeIndex)          # no index column on the page


def test_duration_scatter_draws_the_costliest_and_says_so(wide_costs):
    fig = plots.duration_vs_memory(wide_costs, top=200)
    points = sum(len(t.x) for t in fig.data)
    assert points == 200
    drawn = {n for t in fig.data for n in t.text}
    assert drawn == set(wide_costs.nlargest(200, "monthly_usd")["function_name"])
    assert "costliest 200 of 10,000 functions" in fig.layout.title.text
    small = plots.duration_vs_memory(wide_costs.head(29), top=200)
    assert sum(len(t.x) for t in small.data) == 29 and "costliest" not in small.layout.title.text


def test_picker_lists_at_most_50_and_finds_any_function_by_a_piece_of_its_name(wide_costs):
    names = function_picker.priority(wide_costs["function_name"], costs=wide_costs)
    assert names[0] == wide_costs.nlargest(1, "monthly_usd")["function_name"].item()
    picker = function_picker.FunctionPicker(names)
    assert picker.value == names[0] and len(picker.options) <= 50 and picker.options[0] == names[0]
    assert "50 of 10,000 functions listed" in picker.count.value
    picker.search.value = "07320"                                   # typing filters, the pick stays
    assert picker.options == ("svc-07320-worker",) and picker.value == names[0]
    picker.list.value = "svc-07320-worker"                           # picking an entry picks the function
    assert picker.value == "svc-07320-worker"
    picker.search.value = "WORKER"                                  # any case; the current pick stays listed
    assert len(picker.options) == 50 and picker.value in picker.options
    assert all("worker" in o for o in picker.options)
    assert f"of {sum('worker' in n for n in names):,} matches" in picker.count.value
    picker.value = "svc-00002-api"                                  # set from Python, as Explorer.set does
    assert picker.list.value == "svc-00002-api" and picker.search.value == ""   # a search it fails is cleared
    with pytest.raises(traitlets.TraitError, match="no function 'nope'"):
        picker.value = "nope"
    picker.search.value = "zzz"
    assert picker.options == () and "no function matches" in picker.count.value
    assert picker.value == "svc-00002-api"


def test_picker_order_puts_the_largest_finding_first():
    found = pd.DataFrame({"function_name": ["b", "c", "c"], "monthly_impact_usd": [5.0, 9.0, np.nan]})
    costs = pd.DataFrame({"function_name": ["a", "b", "c", "d"], "monthly_usd": [100.0, 1.0, 1.0, 50.0]})
    assert function_picker.priority(["a", "b", "c", "d"], found, costs) == ["c", "b", "a", "d"]
    with pytest.raises(ValueError, match="at least one"):
        function_picker.FunctionPicker([])


def test_the_memory_explorer_opens_on_the_largest_finding_and_searches(sample_snapshot):
    from lambda_workbook import explorers, review

    found = review.findings(sample_snapshot)
    names = set(sample_snapshot.reports.loc[sample_snapshot.reports["invocations"] > 0, "function_name"])
    mine = found[found["function_name"].isin(names)]
    largest = mine.loc[mine["monthly_impact_usd"].idxmax(), "function_name"]
    ex = explorers.MemoryExplorer(sample_snapshot, findings=found)
    assert ex.result.function_name == largest and ex.error is None
    picker = ex.controls["function_name"]
    assert isinstance(picker, function_picker.FunctionPicker) and len(picker.options) <= 50
    assert picker.options[0] == largest and "largest finding first" in picker.count.value
    picker.search.value = "media-thumb"
    assert picker.options == ("media-thumbnail-io",)
    picker.list.value = "media-thumbnail-io"                 # picking in the list recomputes the explorer
    assert ex.result.function_name == "media-thumbnail-io" and "media-thumbnail-io" in ex.figure.layout.title.text
