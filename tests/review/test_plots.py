"""``lambda_workbook.plots``: every figure has a title and axis titles with units, no empty trace on real input,
draws the numbers of the table it is handed (nothing recomputed), and an empty table gives an empty figure that
still has its title and axes rather than an exception."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lambda_workbook import coldstarts, costs, memory, plots, reads, review, triggers


@pytest.fixture(scope="module")
def inputs(sample_snapshot) -> dict:
    snap = sample_snapshot
    cs = coldstarts.analyse(snap)
    busiest = cs.nlargest(5, "cold_starts")["function_name"].tolist()
    focus = memory.recommend_for_function(snap, "media-thumbnail-io")
    s3 = reads.rank(reads.s3_options(40.0, 0.02, 30_000), need="cost")
    w = triggers.Workload()
    table = costs.function_costs(snap)
    return {
        "costs": table, "by_memory": costs.by_memory_and_arch(table), "cold": cs,
        "scenarios": coldstarts.scenarios(snap, cs, functions=busiest),
        "cold_focus": coldstarts.for_function(snap, busiest[0], table=cs),
        "triggers": triggers.compare(w), "batching": triggers.batching(w, "sqs"),
        "s3": s3, "dynamodb": reads.rank(reads.dynamodb_options(12_240, 20, 1.5, 30_000), need="cost"),
        "sweep": reads.sweep(reads.s3_options, "fraction_needed", [0.001, 0.01, 0.1, 1.0], object_mb=40.0,
                             requests_per_month=30_000),
        "memory_table": memory.recommend_all(snap), "memory_focus": focus,
        "arches": memory.compare_architectures(focus.model, current_memory_mb=focus.observations["memory_mb"],
                                               **focus.settings),
        "found": review.findings(snap),
    }


def _tradeoff(i, empty=False):
    rec = i["memory_focus"].recommendation
    if empty:
        return plots.memory_tradeoff(rec.curve.iloc[:0])
    return plots.memory_tradeoff(rec.curve, i["memory_focus"].model.observations, **rec.points(), arch=rec.arch)


#: name -> (draw(inputs, empty), {axis letter: words its titles must contain (units)})
FIGURES = {
    "cost_by_function": (lambda i, e: plots.cost_by_function(i["costs"].iloc[:0] if e else i["costs"], top=8),
                         {"x": ["USD"]}),
    "cost_by_memory_arch": (lambda i, e: plots.cost_by_memory_arch(i["by_memory"].iloc[:0] if e else i["by_memory"]),
                            {"x": ["MB"], "y": ["USD"]}),
    "duration_vs_memory": (lambda i, e: plots.duration_vs_memory(i["costs"].iloc[:0] if e else i["costs"]),
                           {"x": ["MB"], "y": ["ms"]}),
    "trigger_costs": (lambda i, e: plots.trigger_costs(i["triggers"].iloc[:0] if e else i["triggers"]), {"x": ["USD"]}),
    "batching_curves": (lambda i, e: plots.batching_curves(i["batching"].iloc[:0] if e else i["batching"]),
                        {"x": ["events"], "y": ["USD", "(s)"]}),
    "read_options_cost_s3": (lambda i, e: plots.read_options_cost(i["s3"].iloc[:0] if e else i["s3"]), {"x": ["USD"]}),
    "read_options_cost_dynamodb": (lambda i, e: plots.read_options_cost(i["dynamodb"].iloc[:0] if e else i["dynamodb"]),
                                   {"x": ["USD"]}),
    "read_options_time": (lambda i, e: plots.read_options_time(i["s3"].iloc[:0] if e else i["s3"]),
                          {"y": ["milliseconds"]}),
    "read_sweep": (lambda i, e: plots.read_sweep(i["sweep"].iloc[:0] if e else i["sweep"], "fraction_needed"),
                   {"x": ["fraction_needed"], "y": ["USD"]}),
    "cold_starts_observed_vs_modelled": (lambda i, e: plots.cold_starts_observed_vs_modelled(
        i["cold"].iloc[:0] if e else i["cold"]), {"x": ["cold starts"], "y": ["cold starts"]}),
    "p99_with_cold_starts": (lambda i, e: plots.p99_with_cold_starts(i["cold"].iloc[:0] if e else i["cold"]),
                             {"x": ["ms"]}),
    "keep_alive_curves": (lambda i, e: plots.keep_alive_curves({} if e else coldstarts.SCENARIOS),
                          {"x": ["minutes"], "y": ["probability"]}),
    "keep_alive_scenarios": (lambda i, e: plots.keep_alive_scenarios(i["scenarios"].iloc[:0] if e else i["scenarios"]),
                             {"y": ["cold starts"]}),
    "cold_start_timeline": (lambda i, e: plots.cold_start_timeline(
        i["cold_focus"].hourly.iloc[:0] if e else i["cold_focus"].hourly, "hourly"), {"x": ["UTC"], "y": ["per hour"]}),
    "pc_options_cost": (lambda i, e: plots.pc_options_cost(
        i["cold_focus"].options.iloc[:0] if e else i["cold_focus"].options, "options"), {"y": ["USD", "per month"]}),
    "memory_tradeoff": (lambda i, e: _tradeoff(i, e), {"x": ["MB"], "y": ["ms", "USD"]}),
    "memory_savings": (lambda i, e: plots.memory_savings(i["memory_table"].iloc[:0] if e else i["memory_table"]),
                       {"x": ["USD"]}),
    "architecture_comparison": (lambda i, e: plots.architecture_comparison(i["arches"].iloc[:0] if e else i["arches"]),
                                {"y": ["USD"]}),
    "findings_impact": (lambda i, e: plots.findings_impact(i["found"].iloc[:0] if e else i["found"]), {"x": ["USD"]}),
}


def _axis_titles(fig: go.Figure, letter: str) -> list[str]:
    layout = fig.layout.to_plotly_json()
    out = []
    for key, axis in layout.items():
        if key.startswith(f"{letter}axis") and isinstance(axis, dict):
            title = axis.get("title")
            text = title.get("text") if isinstance(title, dict) else title
            if text:
                out.append(str(text))
    return out


def _points(trace) -> int:
    return max(len(trace.x) if trace.x is not None else 0, len(trace.y) if trace.y is not None else 0)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_has_a_title_axis_titles_with_units_and_no_empty_trace(inputs, name):
    draw, units = FIGURES[name]
    fig = draw(inputs, False)
    assert isinstance(fig, go.Figure)
    assert (fig.layout.title.text or "").strip(), name
    assert _axis_titles(fig, "x") and _axis_titles(fig, "y"), (name, _axis_titles(fig, "x"), _axis_titles(fig, "y"))
    for letter, words in units.items():
        text = " | ".join(_axis_titles(fig, letter))
        for word in words:
            assert word in text, f"{name}: {letter} axis titles {text!r} lack {word!r}"
    assert len(fig.data) > 0
    for trace in fig.data:
        assert _points(trace) > 0, f"{name}: trace {trace.name!r} is empty"
        assert trace.name, f"{name}: a trace without a legend name"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_an_empty_table_gives_an_empty_figure_with_its_title(inputs, name):
    draw, _ = FIGURES[name]
    fig = draw(inputs, True)
    assert isinstance(fig, go.Figure)
    assert (fig.layout.title.text or "").strip()
    assert _axis_titles(fig, "y") or _axis_titles(fig, "x")
    data_traces = [t for t in fig.data if t.hoverinfo != "skip"]   # a reference diagonal may remain
    assert all(_points(t) == 0 for t in data_traces), name


def test_cost_bars_are_the_table_parts_of_the_top_functions(inputs):
    table = inputs["costs"]
    fig = plots.cost_by_function(table, top=5)
    top = table.nlargest(5, "monthly_usd")
    assert [t.name for t in fig.data] == list(plots.PART_NAMES.values())
    stacked = np.sum([np.asarray(t.x, float) for t in fig.data], axis=0)
    np.testing.assert_allclose(sorted(stacked), sorted(top["monthly_usd"]), rtol=1e-9)
    assert "top 5" in fig.layout.title.text
    assert all(label.endswith(f"({acct[-4:]})") for label, acct in
               zip(fig.data[0].y, top.iloc[::-1]["account_id"], strict=True))


def test_memory_arch_bars_add_up_to_the_account_total(inputs):
    fig = plots.cost_by_memory_arch(inputs["by_memory"])
    total = sum(float(np.sum(t.y)) for t in fig.data)
    assert total == pytest.approx(inputs["costs"]["monthly_usd"].sum())
    assert {t.name for t in fig.data} == set(inputs["by_memory"]["arch"])


def test_trigger_bars_are_source_plus_lambda_cost_and_infeasible_ones_are_marked(inputs):
    table = inputs["triggers"]
    fig = plots.trigger_costs(table)
    assert len(fig.data) == 2
    total = np.asarray(fig.data[0].x, float) + np.asarray(fig.data[1].x, float)
    np.testing.assert_allclose(sorted(total), sorted(table["source_cost"] + table["lambda_cost"]), rtol=1e-9)
    marked = [label for label in fig.data[0].y if label.endswith("✗")]
    assert len(marked) == int((~table["feasible"].astype(bool)).sum())
    greyed = [c for c in fig.data[0].marker.color if c == plots.UNAVAILABLE_COLOR]
    assert len(greyed) == len(marked)


def test_keep_alive_curves_are_probabilities_that_never_fall_with_idle_time(inputs):
    fig = plots.keep_alive_curves(coldstarts.SCENARIOS)
    assert {t.name for t in fig.data} == set(coldstarts.SCENARIOS)
    for t in fig.data:
        y = np.asarray(t.y, float)
        assert np.all((y >= 0) & (y <= 1)), t.name
        assert np.all(np.diff(y) >= -1e-12), t.name


def test_timeline_bars_are_the_hourly_invocations(inputs):
    hourly = inputs["cold_focus"].hourly
    fig = plots.cold_start_timeline(hourly, "my title")
    assert fig.layout.title.text == "my title"
    assert float(np.sum(fig.data[0].y)) == pytest.approx(hourly["invocations"].sum())
    assert float(np.nansum(np.asarray(fig.data[1].y, float))) == pytest.approx(hourly["cold_starts"].sum())


def test_memory_tradeoff_draws_the_curve_in_a_fixed_trace_order(inputs):
    rec = inputs["memory_focus"].recommendation
    fig = _tradeoff(inputs)
    assert len(fig.data) == len(plots.MEMORY_TRACES)
    cost = next(t for t in fig.data if t.name == "monthly cost")
    np.testing.assert_allclose(np.asarray(cost.y, float), rec.curve["monthly_cost"].to_numpy(float))
    # without points or observations the same traces exist, empty, so a live figure can be updated in place
    bare = plots.memory_tradeoff(rec.curve)
    assert len(bare.data) == len(fig.data)


def test_findings_chart_leaves_measure_first_findings_out_and_says_so(inputs):
    from lambda_workbook.findings import NOT_SAVINGS

    found = inputs["found"]
    fig = plots.findings_impact(found, top=100)
    shown = sum(len(t.x) for t in fig.data)
    priced = found[~found["id"].isin(NOT_SAVINGS)].dropna(subset=["monthly_impact_usd"])
    assert shown == len(priced)
    if found["id"].isin(NOT_SAVINGS).any():
        assert "measure-first" in fig.layout.title.text
    assert {t.name for t in fig.data} <= set(plots.SEVERITY_COLORS)


def test_read_time_error_bars_span_the_network_band(inputs):
    s3 = inputs["s3"]
    fig = plots.read_options_time(s3)
    data = s3.sort_values("lambda_ms")
    bar = fig.data[0]
    np.testing.assert_allclose(np.asarray(bar.y, float), data["lambda_ms"].to_numpy(float))
    np.testing.assert_allclose(np.asarray(bar.y, float) + np.asarray(bar.error_y.array, float),
                               data["lambda_ms_high"].to_numpy(float))
    np.testing.assert_allclose(np.asarray(bar.y, float) - np.asarray(bar.error_y.arrayminus, float),
                               data["lambda_ms_low"].to_numpy(float))

