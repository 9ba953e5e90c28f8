"""The invocation-sources notebook (headless, papermill), its explorer driven from Python, figures and CLI."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from lambda_workbook import cli, explorers, params, plots, report, triggers
from lambda_workbook.triggers import Workload

BASE = {"source": "sample", "snapshot_path": "", "profile": "", "region": "all", "lookback_days": 14}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("invocation_sources")
    results = out / "results.json"
    nb = report.execute("invocation_sources", out / "invocation_sources.ipynb",
                        {**BASE, "function": "sqs-worker-batch1", "results_path": str(results)})
    return nb, json.loads(results.read_text())


def test_notebook_is_registered():
    assert "invocation_sources" in report.NOTEBOOKS
    spec = params.SPECS["invocation_sources"]
    assert {"function", "events_per_month", "payload_kb", "batch_size", "batch_window_s", "sync"} <= set(spec)
    assert spec["batch_source"].choices == ("sqs", "sqs-fifo", "kinesis", "kinesis-on-demand", "dynamodb-streams")
    nb = nbformat.read(report.notebook_path("invocation_sources"), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "=" not in "".join(line.split("#", 1)[1] for line in tagged[0].source.splitlines()
                                                    if "#" in line)


def test_notebook_prices_a_function_of_the_sample_account(run, sample_snapshot):
    nb, results = run
    for cell in nb_cells(nb):
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error"
            assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), o.get("text")
    w = triggers.workload_for(sample_snapshot, "sqs-worker-batch1")
    table = triggers.compare(w)
    assert results["notebook"] == "invocation_sources"
    assert results["workload"]["events_per_month"] == pytest.approx(w.events_per_month)
    assert set(results["sources"]) == set(table.index)
    for sid, r in results["sources"].items():
        assert r["monthly_cost"] == pytest.approx(table.loc[sid, "monthly_cost"], rel=1e-5, abs=1e-5)
        assert r["feasible"] == bool(table.loc[sid, "feasible"])
    # parts nobody priced are listed, the totals marked as lower bounds, and never called the cheapest
    for sid in ("apigw-websocket", "kinesis-on-demand"):
        assert results["sources"][sid]["lower_bound"] and results["sources"][sid]["unpriced"], sid
    assert not results["sources"][results["cheapest_feasible"]]["lower_bound"]
    assert results["cheapest_feasible_text"].startswith(table.loc[results["cheapest_feasible"], "name"])
    assert results["best_batch"]["source"] == "sqs" and results["best_batch"]["batch_size"] > 1
    assert results["best_batch"]["batch_wait_max_s"] <= 1.0
    assert {(f["id"], f["function_name"]) for f in results["findings"]} == {
        ("apigw-rest-to-http", "catalog-rest-api"), ("batch-size", "sqs-worker-batch1"),
        ("sync-for-async", "signup-handler")}
    text = json.dumps([c.get("outputs") for c in nb_cells(nb)])
    for title in ("Monthly cost by invocation source (sqs-worker-batch1)", "Batching sqs: monthly cost and added wait"):
        assert title in text


def nb_cells(path):
    return nbformat.read(path, as_version=4).cells


def test_bad_parameter_fails_fast_and_names_it(tmp_path):
    with pytest.raises(report.NotebookFailed) as err:
        report.execute("invocation_sources", tmp_path / "bad.ipynb", {**BASE, "batch_source": "sns"})
    assert "'batch_source' must be one of 'sqs'" in str(err.value)
    executed = [c for c in nb_cells(tmp_path / "bad.ipynb") if c.cell_type == "code" and c.get("execution_count")]
    assert len(executed) <= 3


def test_workload_from_parameters():
    values = {**BASE, "results_path": "", "function": "", "events_per_month": 1e6, "payload_kb": 3.0,
              "duration_ms": 50.0, "memory_mb": 1024, "sync": False, "arch": "arm64", "workload_region": "us-east-1",
              "batch_size": 10, "batch_window_s": 2.0, "invocation_overhead_ms": 1.0, "batch_source": "kinesis",
              "max_batch_wait_s": 2.0}
    p = params.check("invocation_sources", **values)
    w = triggers.from_parameters(p)
    assert w == Workload(events_per_month=1e6, payload_kb=3.0, duration_ms=50.0, memory_mb=1024, sync=False,
                         arch="arm64", batch_size=10, batch_window_s=2.0, invocation_overhead_ms=1.0)
    with pytest.raises(params.ParameterError, match="'memory_mb' must be <= 10240"):
        params.check("invocation_sources", **{**values, "memory_mb": 20000})
    with pytest.raises(ValueError, match="Workload.region must look like"):
        triggers.from_parameters(params.check("invocation_sources", **{**values, "workload_region": "Ohio"}))
    with pytest.raises(ValueError, match="no snapshot was given"):
        triggers.from_parameters(params.check("invocation_sources", **{**values, "function": "users-api"}))


def test_explorer_reprices_every_source_from_python():
    ex = explorers.TriggersExplorer(Workload(events_per_month=1e6, sync=True))
    assert ex.error is None and not ex.result.loc["sqs", "feasible"]
    before = list(ex.figure.data[1].x)
    ex.set(sync=False, batch_size=100, batch_window_s=5, events_per_month=1e8)
    assert ex.error is None
    r = ex.result.loc["sqs"]
    assert r["feasible"] and r["batch_fill"] > 10
    assert r["monthly_cost"] == pytest.approx(triggers.compare(
        Workload(events_per_month=1e8, sync=False, batch_size=100, batch_window_s=5), sources=["sqs"]).loc[
        "sqs", "monthly_cost"])
    assert list(ex.figure.data[1].x) != before
    # the figure shows the table's numbers, per source
    shown = dict(zip([y.removesuffix(" ✗") for y in ex.figure.data[0].y], ex.figure.data[0].x, strict=True))
    np.testing.assert_allclose([shown[s] for s in ex.result.index], ex.result["source_cost"])
    assert "SQS standard queue" in ex._table_html.value
    ex.set(batch_size=100, batch_window_s=0)
    assert ex.result.loc["sqs", "reason"] == "batch size above 10 needs a batching window of at least 1 s"
    with pytest.raises(KeyError, match="no control"):
        ex.set(colour="red")


def test_figures_have_titles_axes_and_units():
    t = triggers.compare(Workload(payload_kb=2048, sync=False))
    fig = plots.trigger_costs(t)
    assert len(fig.data) == 2 and fig.layout.barmode == "stack"
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "USD per month"
    assert "✗" in fig.layout.yaxis.title.text
    assert sum(y.endswith("✗") for y in fig.data[0].y) == (~t["feasible"]).sum()
    grid = triggers.batching(Workload(sync=False), "kinesis")
    fig = plots.batching_curves(grid)
    assert "kinesis" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "USD per month" and fig.layout.yaxis2.title.text == "added wait (s)"
    assert "batch size" in fig.layout.xaxis2.title.text
    assert len(fig.data) == 2 * grid.loc[grid["feasible"], "window_s"].nunique()


def test_cli_compare_findings_and_catalog(capsys):
    assert cli.main(["triggers", "compare", "--events", "1000000", "--payload-kb", "2048"]) == 0
    out = capsys.readouterr().out
    assert "API Gateway HTTP API" in out and "sync caller cannot wait on SQS" in out
    assert cli.main(["triggers", "findings"]) == 0
    out = capsys.readouterr().out
    assert "catalog-rest-api" in out and "sqs-worker-batch1" in out and "signup-handler" in out
    assert cli.main(["triggers", "catalog"]) == 0
    assert "in order within a message group" in capsys.readouterr().out
    assert cli.main(["triggers", "compare", "--batch-size", "0"]) == 2
    assert "argument --batch-size: got '0'; allowed: a whole number from 1 to 10000" in capsys.readouterr().err
