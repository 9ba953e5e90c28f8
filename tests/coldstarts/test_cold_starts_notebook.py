"""The cold-starts notebook run headless by papermill on the sample account, and its explorer driven from Python."""

import json
import re

import nbformat
import pytest

from lambda_workbook import coldstarts, params, report
from lambda_workbook.explorers import ColdStartsExplorer

PARAMS = dict(source="sample", snapshot_path="", profile="", region="all", lookback_days=14, top_n=12, function="",
              keep_alive="measured-2021", routing="auto", pc_schedule="auto", billing_date="")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cold_starts")
    ipynb = report.execute("cold_starts", out / "cold_starts.ipynb",
                           {**PARAMS, "results_path": str(out / "cold_starts.results.json")})
    html = report.to_html(ipynb, out / "cold_starts.html", title="Cold starts")
    return out, ipynb, html


@pytest.fixture(scope="module")
def analysed(sample_snapshot):
    table = coldstarts.analyse(sample_snapshot)
    return table, coldstarts.findings(sample_snapshot, table=table)


def test_notebook_results_match_the_library(run, analysed):
    out, _, _ = run
    table, found = analysed
    res = json.loads((out / "cold_starts.results.json").read_text())
    assert res["notebook"] == "cold_starts" and res["model"] == table.attrs["model"]
    assert len(res["functions"]) == len(table)
    assert [(f["id"], f["function_name"]) for f in res["findings"]] == list(zip(found["id"], found["function_name"], strict=True))
    assert res["focus"] == coldstarts.focus_function(table, found)
    billing = next(f for f in res["functions"] if f["function_name"] == "billing-java")
    row = table.set_index("function_name").loc["billing-java"]
    assert billing["observed_cold_starts"] == pytest.approx(row["observed_cold_starts"])
    assert billing["p99_ms"] == pytest.approx(row["p99_ms"], rel=1e-6)


def test_notebook_ran_cleanly_and_renders_offline(run):
    _, ipynb, html = run
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", o
            assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), o.get("text")
    text = html.read_text()
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", text)
    assert "params.check(" not in text
    for title in ("Cold starts in the window: REPORT lines vs the model", "p99 latency with and without cold starts",
                  "Keep-alive scenarios", "monthly cost by option", "hourly invocations and cold starts"):
        assert title in text, title
    assert text.count('class="plotly-graph-div"') >= 6


@pytest.mark.parametrize("name, value, message", [
    ("keep_alive", "forever", "'keep_alive' must be one of"),
    ("pc_schedule", "weekdays 9 to 5", "'pc_schedule' must be 'auto', '' or like 'mon-fri 08-18 UTC'"),
])
def test_bad_parameters_fail_fast_and_name_the_parameter(tmp_path, name, value, message):
    with pytest.raises(report.NotebookFailed) as err:
        report.execute("cold_starts", tmp_path / "nb.ipynb", {**PARAMS, name: value, "results_path": ""})
    assert message in str(err.value)
    nb = nbformat.read(tmp_path / "nb.ipynb", as_version=4)
    executed = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    assert len(executed) <= 3, "work continued after the parameter check failed"


def test_parameter_spec_is_registered():
    assert "cold_starts" in report.NOTEBOOKS
    assert set(params.SPECS["cold_starts"]) >= {"function", "keep_alive", "routing", "pc_schedule", "billing_date"}
    p = params.check("cold_starts", **PARAMS, results_path="")
    assert p.keep_alive == "measured-2021"
    with pytest.raises(params.ParameterError, match="'routing' must be one of 'auto', 'poisson', 'peak'"):
        params.check("cold_starts", **{**PARAMS, "routing": "lru"}, results_path="")


def test_explorer_moves_with_its_controls(sample_snapshot, analysed):
    table, _ = analysed
    ex = ColdStartsExplorer(sample_snapshot, "billing-java", table=table)
    base = ex.result["cold_starts"]
    assert base == pytest.approx(table.set_index("function_name").loc["billing-java", "modelled_cold_starts"], rel=1e-6)
    assert len(ex.figure.data) == 4 and sum(ex.figure.data[0].y) == pytest.approx(ex.result["invocations"])
    assert max(ex.figure.data[3].y) == 0                                # no provisioned environments yet
    ex.set(keep_alive="2017")
    assert ex.result["cold_starts"] < base
    assert sum(ex.figure.data[1].y) == pytest.approx(ex.result["cold_starts"])
    ex.set(keep_alive="measured-2021", provisioned=1)
    assert ex.result["cold_starts"] < 0.05 * base                     # one warm environment covers its load
    assert max(ex.figure.data[3].y) == 1
    assert "PC 1, always on" in ex.table.index and ex.table.loc["PC 1, always on", "PC alloc $"] > 0
    ex.set(schedule="busy hours of the traffic")
    assert any("13:00-22:00" in o for o in ex.table.index)
    assert 0 < ex.result["cold_starts"] < base
    ex.set(traffic="steady", peak_per_min=120.0, provisioned=0, schedule="always on")
    assert ex.result["invocations"] == pytest.approx(120.0 * 7 * 1440)
    assert ex.error is None
    synthetic = ColdStartsExplorer()
    assert synthetic.values["traffic"] == "steady" and synthetic.result["cold_starts"] > 0
    assert "on-demand" in synthetic.table.index


def test_cli_coldstarts_commands():
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "lambda_workbook.cli", "coldstarts", *args], capture_output=True,
                              text=True, timeout=300)

    out = cli("breakeven")
    assert out.returncode == 0 and "x86_64: provisioned concurrency pays above 60.0% utilisation" in out.stdout
    out = cli("findings")
    assert out.returncode == 0
    assert "provisioned-concurrency" in out.stdout and "checkout-api" in out.stdout and "billing-java" in out.stdout
    out = cli("options", "nope")
    assert out.returncode == 2 and "function 'nope' is not in this snapshot" in out.stderr
