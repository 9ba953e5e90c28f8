"""The per-snapshot memo and the analysis bundle the review pack hands its notebooks."""

from __future__ import annotations

import pandas as pd
import pytest

from lambda_workbook import analysis, coldstarts, costs, memory, params


@pytest.fixture()
def fresh(sample_snapshot):
    snap = sample_snapshot.subset(sample_snapshot.functions.head(6))   # a new object: an empty memo
    yield snap
    analysis.clear(snap)


def _calls(name: str) -> list[int]:
    return list(analysis.STATS.get(name, [0, 0]))


def test_a_second_call_is_a_hit_with_the_same_result_and_a_copy(fresh):
    name = "lambda_workbook.costs.function_costs"
    first = costs.function_costs(fresh)
    before = _calls(name)
    second = costs.function_costs(fresh)
    assert _calls(name) == [before[0], before[1] + 1]
    pd.testing.assert_frame_equal(first, second)
    second["monthly_usd"] = -1.0          # what a caller does with its copy stays with it
    pd.testing.assert_frame_equal(costs.function_costs(fresh), first)
    pd.testing.assert_frame_equal(costs.function_costs.uncached(fresh), first)


def test_other_snapshots_other_arguments_and_the_switch_compute_again(fresh, monkeypatch):
    name = "lambda_workbook.costs.function_costs"
    costs.function_costs(fresh)
    other = fresh.subset(fresh.functions.head(3))
    ran = _calls(name)[0]
    assert len(costs.function_costs(other)) == 3 and _calls(name)[0] == ran + 1
    monkeypatch.setenv("LAMBDA_WORKBOOK_CACHE", "0")
    costs.function_costs(fresh)
    assert _calls(name)[0] == ran + 1      # off: not even counted, the plain function ran
    monkeypatch.setenv("LAMBDA_WORKBOOK_CACHE", "1")
    from lambda_workbook import prices

    book = prices.load("us-east-1")        # not a plain value: no memo
    costs.function_costs(fresh, book=book)
    assert _calls(name)[0] == ran + 1
    analysis.clear(other)


def test_spellings_of_one_call_share_an_entry(fresh):
    """The review calls with the defaults left out, the notebooks spell them out: one computation."""
    table = coldstarts.analyse(fresh)
    hits = _calls("lambda_workbook.coldstarts.analyse")[1]
    spelled = coldstarts.analyse(fresh, keep_alive_min="measured-2025", model="auto", billing_date=None)
    assert _calls("lambda_workbook.coldstarts.analyse")[1] == hits + 1
    pd.testing.assert_frame_equal(table, spelled)
    assert table.attrs == spelled.attrs
    p = params.check("memory", source="sample", snapshot_path="", profile="", region="all", lookback_days=14,
                     function="", strategy="cost", latency_slo_ms=0.0, max_slowdown=0.1, cost_tolerance=0.1,
                     balanced_weight=0.5, headroom=0.2, confidence=0.9, power_tuning_json="", top_n=10,
                     results_path="")
    recs = memory.recommend_all(fresh)
    hits = _calls("lambda_workbook.memory.snapshot.recommend_all")[1]
    pd.testing.assert_frame_equal(memory.recommend_all(fresh, **memory.policy(p)), recs)
    assert _calls("lambda_workbook.memory.snapshot.recommend_all")[1] == hits + 1
    # a different value is a different computation
    ran = _calls("lambda_workbook.coldstarts.analyse")[0]
    coldstarts.analyse(fresh, keep_alive_min="fixed-10")
    assert _calls("lambda_workbook.coldstarts.analyse")[0] == ran + 1


def test_a_bundle_carries_the_snapshot_and_its_analysis(fresh, tmp_path):
    table = costs.function_costs(fresh)
    path = analysis.save(tmp_path / analysis.BUNDLE_FILE, fresh, findings=pd.DataFrame({"id": ["x"]}))
    doc = analysis.load(path)
    snap = doc["snapshot"]
    assert snap is not fresh and snap.path is None and list(doc["findings"]["id"]) == ["x"]
    pd.testing.assert_frame_equal(snap.functions, fresh.functions)
    ran = _calls("lambda_workbook.costs.function_costs")[0]
    pd.testing.assert_frame_equal(costs.function_costs(snap), table)
    assert _calls("lambda_workbook.costs.function_costs")[0] == ran     # primed: nothing computed
    p = params.check("account_review", source="sample", snapshot_path="", profile="", region="all", lookback_days=14,
                     top_n=5, results_path="", account="all", findings_path="", table_rows=200, analysis_path=str(path))
    again = analysis.snapshot(p)
    assert again.functions.equals(fresh.functions)
    analysis.clear(snap)
    analysis.clear(again)


def test_a_missing_or_foreign_bundle_is_one_clear_line(tmp_path):
    with pytest.raises(analysis.BundleError, match="does not exist; set analysis_path = \"\""):
        analysis.load(tmp_path / "nope.pickle")
    (tmp_path / "junk.pickle").write_bytes(b"not a pickle")
    with pytest.raises(analysis.BundleError, match="is not readable"):
        analysis.load(tmp_path / "junk.pickle")
    assert issubclass(analysis.BundleError, params.ParameterError)


def test_restricting_to_everything_keeps_the_snapshot_itself(sample_snapshot):
    assert analysis.restrict(sample_snapshot, regions=list(sample_snapshot.regions)) is sample_snapshot
    one = analysis.restrict(sample_snapshot, accounts=sample_snapshot.accounts[:1])
    assert one is not sample_snapshot and one.accounts == sample_snapshot.accounts[:1]


def test_prefetch_computes_in_a_second_process_and_leaves_hits(fresh):
    name = "lambda_workbook.memory.snapshot.recommend_all"
    ran, hits = _calls(name)
    analysis.prefetch(fresh, local=[("lambda_workbook.costs", "function_costs", {})],
                      remote=[("lambda_workbook.memory", "recommend_all", {})])
    assert _calls(name) == [ran, hits]               # computed over there, not here
    pd.testing.assert_frame_equal(memory.recommend_all(fresh), memory.recommend_all.uncached(fresh))
    assert _calls(name) == [ran, hits + 1]
    # a call that fails is left to its caller
    analysis.prefetch(fresh, local=[("lambda_workbook.coldstarts", "analyse", {"model": "nope"})])
    with pytest.raises(ValueError, match="model must be"):
        coldstarts.analyse(fresh, model="nope")


def test_notebooks_of_one_run_share_what_they_compute(fresh, tmp_path):
    """Two kernels load the same bundle: what the first computes (tables as arguments included), the second
    reads from the run's shared folder; a claimed entry is waited for, never computed twice."""
    path = analysis.save(tmp_path / analysis.BUNDLE_FILE, fresh)
    (tmp_path / analysis.SHARED_DIR).mkdir()
    first, second = analysis.load(path)["snapshot"], analysis.load(path)["snapshot"]
    name = "lambda_workbook.coldstarts.scenarios"
    table = coldstarts.analyse(first)
    ran = _calls(name)[0]
    one = coldstarts.scenarios(first, table, functions=list(table["function_name"][:2]))
    assert _calls(name)[0] == ran + 1
    other_table = coldstarts.analyse(second)                  # the same content, another object
    two = coldstarts.scenarios(second, other_table, functions=list(table["function_name"][:2]))
    assert _calls(name)[0] == ran + 1                         # read, not computed
    pd.testing.assert_frame_equal(one, two)
    changed = other_table.assign(cold_starts=other_table["cold_starts"] * 2)
    coldstarts.scenarios(second, changed, functions=list(table["function_name"][:2]))
    assert _calls(name)[0] == ran + 2                         # other content, other entry
    assert not list((tmp_path / analysis.SHARED_DIR).glob("*.lock"))
    analysis.clear(first)
    analysis.clear(second)
