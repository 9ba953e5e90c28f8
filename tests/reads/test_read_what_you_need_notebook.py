"""The read-what-you-need notebook, run headless by papermill on the sample account, and its explorer and CLI."""

import json
import re

import nbformat
import pandas as pd
import pytest

from lambda_workbook import cli, explorers, params, plots, reads, report

PARAMS = dict(source="sample", snapshot_path="", profile="", region="all", lookback_days=14, function="",
              need="cost", memory_mb=1024, arch="arm64", object_mb=40.0, fraction_needed=0.02, reads_per_month=30000.0,
              file_format="csv", layout_known=True, select_customer=False, transfer="same-region",
              table_items=12240.0, items_needed=20.0, item_kb=1.5, needed_kb=0.0, consistency="eventual",
              db_reads_per_month=36000.0, writes_per_month=100000.0, network_mb_s=75.0, network_exponent=0.5,
              calibrate=False, parse_ms_per_mb=20.0)


def run(out_dir, **overrides):
    results = out_dir / "results.json"
    ipynb = report.execute("read_what_you_need", out_dir / "read_what_you_need.ipynb",
                           {**PARAMS, **overrides, "results_path": str(results)})
    return ipynb, json.loads(results.read_text())


@pytest.fixture(scope="module")
def by_hand(tmp_path_factory):
    return run(tmp_path_factory.mktemp("reads-hand"))


def test_notebook_is_registered_and_its_parameters_are_checked():
    assert "read_what_you_need" in report.NOTEBOOKS
    assert set(params.SPECS["read_what_you_need"]) == set(PARAMS) | {"results_path"}
    with pytest.raises(params.ParameterError, match="'fraction_needed' must be <= 1"):
        params.check("read_what_you_need", **{**PARAMS, "fraction_needed": 2.0, "results_path": ""})
    with pytest.raises(params.ParameterError, match="'file_format' must be one of 'csv', 'json', 'parquet'"):
        params.check("read_what_you_need", **{**PARAMS, "file_format": "xml", "results_path": ""})


def test_notebook_runs_clean(by_hand):
    ipynb, _ = by_hand
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", o
            assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), o.get("text")


def test_results_hold_findings_and_the_library_s_options(by_hand, sample_snapshot):
    _, res = by_hand
    assert res["notebook"] == "read_what_you_need" and res["patterns"] == "entered by hand"
    assert {f["id"]: f["function_name"] for f in res["findings"]} == {"dynamodb-scan": "inventory-report",
                                                                 "s3-whole-object": "log-extractor"}
    expected = reads.rank(reads.s3_options(40.0, 0.02, 30000.0, memory_mb=1024, arch="arm64"))
    got = pd.DataFrame(res["options"]["s3"]).set_index("option")
    assert list(got.index) == list(expected.index)
    assert got["monthly_cost"].to_numpy() == pytest.approx(expected["monthly_cost"].to_numpy())
    assert res["recommended"] == {"s3": "range-get", "dynamodb": "query"}
    assert got.loc["select", "available"] is False or not got.loc["select", "available"]
    db = pd.DataFrame(res["options"]["dynamodb"]).set_index("option")
    assert db.loc["scan", "read_units"] == 4595 / 2
    assert res["network"]["mb_per_s_1vcpu"] == 75.0 and "assumption" in res["network"]["source"]


def test_report_html_is_offline_with_titled_figures(by_hand, tmp_path):
    ipynb, _ = by_hand
    html = report.to_html(ipynb, tmp_path / "reads.html").read_text()
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", html)
    for title in ("Monthly cost of reading what you need from an S3 object",
                  "Monthly cost of reading what you need from a DynamoDB table",
                  "Monthly cost against the share of the object needed", "Lambda time per read"):
        assert title in html
    assert "closed to new customers since 2024-07-25" in html and "2025-11-07" in html
    # findings are shown in full, not cut at pandas' 50 characters
    assert "(see the memory notebook)" in html
    assert "A FilterExpression or ProjectionExpression does not lower read units." in html


def test_function_mode_reads_its_calls(tmp_path):
    _, res = run(tmp_path, function="log-extractor", select_customer=True)
    assert res["patterns"].startswith("log-extractor: 2048 MB arm64 (S3 GetObject on app-logs")
    assert [f["id"] for f in res["findings"]] == ["s3-whole-object"]
    s3 = pd.DataFrame(res["options"]["s3"]).set_index("option")
    assert s3.loc["get", "bytes_transferred_mb"] == 40 and s3.loc["range-get", "bytes_transferred_mb"] == pytest.approx(0.8)
    assert s3.loc["select", "usable"]                                  # an existing Select customer


# ---- the explorer, driven from Python --------------------------------------------------------------------------


def test_reads_explorer_follows_the_model():
    ex = explorers.ReadsExplorer()
    assert list(ex.table.index) == ["range-get", "get", "athena", "select"]
    ex.set(object_mb=100.0, fraction_needed=0.5, requests_per_month=1e6, memory_mb=2048, arch="x86_64")
    expected = reads.rank(reads.s3_options(100.0, 0.5, 1e6, memory_mb=2048, arch="x86_64"))
    assert ex.result["monthly_cost"].to_numpy() == pytest.approx(expected["monthly_cost"].to_numpy(), rel=1e-3)
    lam = [t for t in ex.figure.data if t.name == plots.READ_PARTS["lambda_usd"][0]][0]
    assert list(lam.x) == pytest.approx(expected["lambda_usd"].to_numpy(), rel=1e-3)
    ex.set(store="dynamodb", table_items=1e6, items_needed=10.0, item_kb=2.0)
    assert set(ex.table.index) == {"scan", "query", "query-gsi", "batch-get"}
    assert "DynamoDB table" in ex.figure.layout.title.text
    ex.set(items_needed=1e5, table_items=10.0)                          # impossible: error shown, view kept
    assert ex.error and "items_needed must be <= 10" in ex.error
    assert set(ex.table.index) == {"scan", "query", "query-gsi", "batch-get"}


def test_reads_explorer_rejects_unknown_controls():
    with pytest.raises(KeyError, match="no control 'colour'"):
        explorers.ReadsExplorer(colour="red")


# ---- the command line --------------------------------------------------------------------------------------------


def test_cli_prices_a_pattern_and_lists_findings(capsys):
    assert cli.main(["reads", "s3", "--object-mb", "40", "--fraction", "0.02", "--requests", "30000"]) == 0
    out = capsys.readouterr().out
    assert "range-get" in out and "athena" in out and "closed to new customers" in out
    assert cli.main(["reads", "dynamodb", "--table-items", "12240", "--items-needed", "20", "--item-kb", "1.5",
                     "--requests", "36000", "--writes", "100000"]) == 0
    assert "query-gsi" in capsys.readouterr().out
    assert cli.main(["reads", "units", "query", "10.2", "10.2", "10.2", "10.2"]) == 0
    assert "11" in capsys.readouterr().out
    assert cli.main(["reads", "findings"]) == 0
    out = capsys.readouterr().out
    assert "dynamodb-scan" in out and "s3-whole-object" in out
    assert cli.main(["reads", "s3", "--object-mb", "40", "--fraction", "2", "--requests", "1"]) == 2
    assert "argument --fraction: got '2'; allowed: a number from 0 to 1" in capsys.readouterr().err
