"""notebooks/memory.ipynb run headless by papermill on the sample account, in its own kernel."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from lambda_workbook import memory, params, report

PARAMS = dict(source="sample", snapshot_path="", profile="", region="all", lookback_days=14, function="",
              strategy="cost", latency_slo_ms=0.0, max_slowdown=0.1, cost_tolerance=0.1, balanced_weight=0.5,
              headroom=0.2, confidence=0.9, power_tuning_json="", top_n=10)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("memory")
    pt = out / "pt.json"
    pt.write_text(json.dumps({"power": 512, "stats": [
        {"value": 128, "averagePrice": 1e-6, "averageDuration": 6100.0},
        {"value": 512, "averagePrice": 1e-6, "averageDuration": 1550.0}]}))
    ipynb = report.execute("memory", out / "memory.ipynb",
                           {**PARAMS, "function": "pdf-render", "power_tuning_json": str(pt),
                            "results_path": str(out / "memory.json")})
    html = report.to_html(ipynb, out / "memory.html", title="Memory")
    return out, ipynb, html


def test_results_json_has_the_memory_findings(run, sample_snapshot):
    out, _, _ = run
    doc = json.loads((out / "memory.json").read_text())
    found = {f["function_name"]: f["finding"] for f in doc["findings"]}
    assert found["media-thumbnail-io"] == "memory-overprovisioned"
    assert found["pdf-render"] == "memory-underprovisioned"
    assert doc["arm64_candidates"] == ["orders-api"]
    assert doc["focus"]["function_name"] == "pdf-render"
    direct = memory.recommend_for_function(sample_snapshot, "pdf-render")
    assert doc["focus"]["recommendation"]["memory_mb"] == direct.recommendation.memory_mb


def test_notebook_ran_clean_and_the_report_is_offline(run):
    _, ipynb, html = run
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error"
            assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), o.get("text")
    text = html.read_text()
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", text)
    for title in ("Monthly savings of memory findings and arm64 moves", "pdf-render: duration and monthly cost against memory",
                  "x86_64 and arm64 at their recommended memory", "USD per month", "memory (MB, log scale)"):
        assert title in text, title
    assert "lambda-power-tuning.show/#" in text
    assert "error (%)" in text, "the Power Tuning run is compared with the model"
    assert "params.check(" not in text


def test_bad_parameter_fails_fast(tmp_path):
    with pytest.raises(report.NotebookFailed) as err:
        report.execute("memory", tmp_path / "m.ipynb", {**PARAMS, "strategy": "cheapest"})
    assert "'strategy' must be one of 'cost', 'speed', 'balanced'; got 'cheapest'" in str(err.value)


def test_registered():
    assert "memory" in report.NOTEBOOKS and "memory" in params.SPECS
    nb = nbformat.read(report.notebook_path("memory"), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "=" not in "".join(line.split("#", 1)[1] for line in tagged[0].source.splitlines()
                                                  if "#" in line)
    assert set(params.SPECS["memory"]) == set(PARAMS) | {"results_path"}
