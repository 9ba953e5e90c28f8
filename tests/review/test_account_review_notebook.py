"""The account review notebook, run headless by papermill in its own kernel, rendered to offline HTML."""

import json
import re

import nbformat
import pytest

from lambda_workbook import costs, report


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    html = report.account_review(out, source="sample", snapshot_path="", profile="", region="all",
                                 lookback_days=14, top_n=10)
    return out, html


def test_review_writes_index_html_with_offline_charts(review):
    out, html = review
    assert html == out / "index.html"
    text = html.read_text()
    # plotly.js is embedded and no script comes from the network
    assert "plotly.js v" in text or "Plotly" in text
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", text)
    assert text.count('class="plotly-graph-div"') >= 3
    # inputs are hidden: no code from the notebook appears
    assert "params.check(" not in text
    for title in ("Monthly Lambda cost by function", "Monthly Lambda cost by memory size and architecture"):
        assert title in text


def test_results_json_matches_the_library(review, sample_snapshot):
    out, _ = review
    results = json.loads((out / "account_review.results.json").read_text())
    table = costs.function_costs(sample_snapshot)
    assert results["functions"] == len(table)
    assert results["monthly_usd"] == pytest.approx(table["monthly_usd"].sum(), rel=1e-6)
    assert results["top_functions"][0]["function_name"] == table.iloc[0]["function_name"]


def test_executed_notebook_has_no_errors(review):
    out, _ = review
    nb = nbformat.read(out / "account_review.ipynb", as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error"
            assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), o.get("text")


def test_bad_parameter_fails_fast_and_names_it(tmp_path):
    with pytest.raises(report.NotebookFailed) as err:
        report.account_review(tmp_path, source="bogus", snapshot_path="", profile="", region="all",
                              lookback_days=14, top_n=10)
    assert "'source' must be one of 'sample', 'snapshot', 'aws'; got 'bogus'" in str(err.value)
    nb = nbformat.read(tmp_path / "account_review.ipynb", as_version=4)
    executed = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    assert len(executed) <= 3, "work continued after the parameter check failed"
    assert not (tmp_path / "index.html").exists()


def test_snapshot_source_runs_on_a_saved_snapshot(tmp_path, sample_snapshot):
    from lambda_workbook import sources

    snap = sources.save(sample_snapshot.subset(sample_snapshot.functions.head(5)), tmp_path / "snap")
    html = report.account_review(tmp_path / "out", source="snapshot", snapshot_path=str(snap), profile="",
                                 region="us-east-1", lookback_days=14, top_n=5)
    results = json.loads((tmp_path / "out" / "account_review.results.json").read_text())
    assert results["functions"] == 5 and html.exists()
