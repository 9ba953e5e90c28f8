"""``lambda_workbook.explorers`` driven from Python, no browser: each explorer's state is what the pure model
functions give for its control values, moving a control recomputes the result, the figure and the table, and the
memory explorer's default pick is the review's memory decision for the function."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import coldstarts, explorers, memory, reads, review, triggers


@pytest.fixture(scope="module")
def snap(sample_snapshot):
    return sample_snapshot


def _decision(snap, name, **policy):
    obs = memory.function_observations(snap, name)
    return memory.decide_function(obs, memory.fit_function(obs), memory.policy_from(**policy))


# -- MemoryExplorer ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mem(snap):
    return explorers.MemoryExplorer(snap, "media-thumbnail-io")


def test_memory_explorer_opens_on_the_review_decision(snap, mem):
    r = mem.result
    assert mem.error is None and r.mode == "decision" and r.function_name == "media-thumbnail-io"
    dec = _decision(snap, "media-thumbnail-io")
    assert r.decision.action == dec.action
    expected = memory.pick(dec)
    assert r.memory_mb == pytest.approx(expected["memory_mb"])
    assert r.monthly_savings == pytest.approx(expected["saving_usd"])
    assert r.current_memory_mb == snap.function("media-thumbnail-io")["memory_mb"]
    # the finding the review raises for this function is the same decision
    found = review.findings(snap)
    mine = found[(found["function_name"] == "media-thumbnail-io") & found["id"].str.startswith("memory-")]
    if dec.finding is None:
        assert mine.empty
    else:
        assert list(mine["id"]) == [dec.finding]
        assert mine.iloc[0]["title"] == r.text == dec.title()
        assert mine.iloc[0]["monthly_impact_usd"] == pytest.approx(r.monthly_savings)
    # what the reviewer sees: the figure's title and the table say the same
    assert "media-thumbnail-io" in mem.figure.layout.title.text
    assert mem.table.loc["review decision", "value"] == dec.title()


def test_memory_explorer_recomputes_when_a_control_moves(snap):
    ex = explorers.MemoryExplorer(snap, "media-thumbnail-io")
    first_title = ex.figure.layout.title.text
    ex.set(function_name="pdf-render")
    r = ex.result
    dec = _decision(snap, "pdf-render")
    assert r.function_name == "pdf-render" and r.decision.action == dec.action
    assert r.memory_mb == pytest.approx(memory.pick(dec)["memory_mb"])
    assert ex.figure.layout.title.text != first_title and "pdf-render" in ex.figure.layout.title.text
    # the policy sliders feed the decision's policy
    ex.set(max_slowdown=0.3, confidence=0.8)
    assert ex.result.decision.policy.max_slowdown == pytest.approx(0.3)
    assert ex.result.decision.policy.confidence == pytest.approx(0.8)
    expected = memory.pick(_decision(snap, "pdf-render", max_slowdown=0.3, confidence=0.8))
    assert ex.result.memory_mb == pytest.approx(expected["memory_mb"])
    # the control's former name still works, with a warning that points at this call
    with pytest.warns(DeprecationWarning, match="'function' is deprecated, use 'function_name'") as record:
        ex.set(function="media-thumbnail-io")
    assert ex.result.function_name == "media-thumbnail-io" and record[0].filename == __file__


def test_memory_explorer_other_architecture_and_strategies(snap):
    ex = explorers.MemoryExplorer(snap, "orders-api")   # an x86_64 function
    dec = ex.result.decision
    ex.set(arch="arm64")
    assert ex.result.arch == "arm64"
    assert ex.result.memory_mb == pytest.approx(memory.pick(dec, "arm64")["memory_mb"])
    ex.set(arch="x86_64", strategy="speed")
    r = ex.result
    assert r.mode == "speed" and "never a finding" in r.rule
    assert r.memory_mb == pytest.approx(r.recommendation.memory_mb)
    assert r.decision.action == dec.action                 # a strategy view leaves the decision alone
    assert ex.controls["balanced_weight"].disabled
    ex.set(strategy="balanced")
    assert not ex.controls["balanced_weight"].disabled


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"function_name": "no-such-function"}, KeyError),
    ({"function_name": "orders-api", "max_slowdwon": 0.2}, KeyError),
    ({"function_name": "orders-api", "pick": "cheapest"}, ValueError),
    ({"function_name": "orders-api", "strategy": "fastest"}, ValueError),
])
def test_memory_explorer_refuses_bad_arguments_clearly(snap, kwargs, error):
    with pytest.raises(error) as err:
        explorers.MemoryExplorer(snap, **kwargs)
    assert "\n" not in str(err.value)


def test_setting_an_unknown_control_is_a_key_error(mem):
    with pytest.raises(KeyError, match="no control"):
        mem.set(colour="red")


# -- TriggersExplorer -----------------------------------------------------------------------------------------

def test_triggers_explorer_is_triggers_compare_at_its_control_values():
    base = triggers.Workload(events_per_month=1e6, sync=False)
    ex = explorers.TriggersExplorer(base)
    expected = triggers.compare(replace(base, **ex.values))
    pd.testing.assert_series_equal(ex.result["monthly_cost"], expected["monthly_cost"])
    before = ex.result.set_index("name")["monthly_cost"]
    ex.set(events_per_month=1e8)
    after = ex.result.set_index("name")["monthly_cost"]
    pd.testing.assert_series_equal(ex.result["monthly_cost"],
                                   triggers.compare(replace(base, **ex.values))["monthly_cost"])
    # a hundred times the events costs more for every source that can carry them
    both = before.index.intersection(after.index)
    assert (after[both] >= before[both]).all() and (after[both] > before[both]).any()
    # the live figure shows the new totals
    total = np.asarray(ex.figure.data[0].x, float) + np.asarray(ex.figure.data[1].x, float)
    np.testing.assert_allclose(sorted(total), sorted(ex.result["source_cost"] + ex.result["lambda_cost"]), rtol=1e-9)
    assert len(ex.table) == len(ex.result)


# -- ReadsExplorer --------------------------------------------------------------------------------------------

def test_reads_explorer_ranks_the_options_of_its_store():
    ex = explorers.ReadsExplorer(object_mb=100.0, fraction_needed=0.01)
    v = ex.values
    expected = reads.rank(reads.s3_options(v["object_mb"], v["fraction_needed"], v["requests_per_month"],
                                           format=v["format"], layout_known=v["layout_known"],
                                           select_customer=v["select_customer"], memory_mb=v["memory_mb"],
                                           arch=v["arch"]), need=v["need"])
    assert list(ex.result.index) == list(expected.index)
    np.testing.assert_allclose(ex.result["monthly_cost"], expected["monthly_cost"])
    ex.set(store="dynamodb")
    v = ex.values
    expected = reads.rank(reads.dynamodb_options(v["table_items"], v["items_needed"], v["item_kb"],
                                                 v["requests_per_month"], consistency=v["consistency"],
                                                 writes_per_month=v["writes_per_month"], memory_mb=v["memory_mb"],
                                                 arch=v["arch"]), need=v["need"])
    assert list(ex.result.index) == list(expected.index)
    np.testing.assert_allclose(ex.result["monthly_cost"], expected["monthly_cost"])
    assert "DynamoDB" in ex.figure.layout.title.text


def test_reads_explorer_refuses_unknown_controls():
    with pytest.raises(KeyError, match="colour"):
        explorers.ReadsExplorer(colour="red")


# -- ColdStartsExplorer ---------------------------------------------------------------------------------------

def test_cold_starts_explorer_on_a_synthetic_pattern_and_provisioned_concurrency():
    ex = explorers.ColdStartsExplorer()
    r = ex.result
    assert ex.error is None
    assert r["cold_starts"] == pytest.approx(r["hourly"]["cold_starts"].sum())
    assert r["invocations"] == pytest.approx(r["hourly"]["invocations"].sum())
    assert float(np.sum(ex.figure.data[0].y)) == pytest.approx(r["invocations"])
    ex.set(provisioned=5)
    p = ex.result
    assert int(p["chosen"]["provisioned"]) == 5
    assert (p["hourly"]["provisioned"] == 5).all()                 # always on by default
    assert p["cold_starts"] <= r["cold_starts"]                    # warm environments only remove cold starts
    assert p["invocations"] == pytest.approx(r["invocations"])     # same traffic


def test_cold_starts_explorer_replays_a_functions_observed_traffic(snap):
    table = coldstarts.analyse(snap)
    name = str(table.sort_values("cold_starts", ascending=False)["function_name"].iloc[0])
    ex = explorers.ColdStartsExplorer(snap, table=table)           # defaults to the function with most cold starts
    assert ex.row["function_name"] == name
    assert ex.values["traffic"] == "observed"
    observed = coldstarts.invocation_series(snap, name, account_id=ex.row["account_id"], region=ex.row["region"])
    assert ex.result["invocations"] == pytest.approx(observed.sum())
    # doubling the peak doubles the replayed traffic
    ex.set(peak_per_min=2 * ex.values["peak_per_min"])
    assert ex.result["invocations"] == pytest.approx(2 * observed.sum(), rel=1e-6)
