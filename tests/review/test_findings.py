"""The findings contract: severity policy, ranking, savings counted once and capped by spend."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lambda_workbook import findings as fx
from lambda_workbook import review, sources

KEY = ("111122223333", "us-east-1", "fn")


def _f(fid, usd=math.nan, low=math.nan, high=math.nan, *, fn="fn", sev="low", saves=()):
    band = fx.Band(usd, low, high) if usd == usd else None
    return fx.Finding(fid, (KEY[0], KEY[1], fn), sev, f"title {fid}", f"evidence {fid}", "do it",
                      review.CHECKS[fid].section, ("metrics:Invocations",), band=band, saves_from=saves)


def _spend(rows):
    return pd.DataFrame([(KEY[0], KEY[1], fn, s, usd, "test") for fn, s, usd in rows], columns=fx.SPEND_COLUMNS)


@pytest.fixture(scope="module")
def sample_review():
    return review.run(sources.load("sample"))


def test_severity_policy_is_one_clear_rule():
    sev = fx.Severity(10, 100)
    assert [sev(x) for x in (0.5, 10, 99.9, 100, math.nan)] == ["low", "medium", "medium", "high", "low"]
    with pytest.raises(ValueError, match="medium_usd .* must not exceed high_usd"):
        fx.Severity(200, 100)
    with pytest.raises(ValueError, match="high_usd must be a number >= 0"):
        fx.Severity(1, -5)


def test_finding_renders_note_band_meaning_and_bills_from_one_object():
    f = fx.Finding("memory-overprovisioned", KEY, "medium", "Lower memory", "Saves money", "Set 512 MB",
                   "execution environment", ("reports:sample", "memory model", "reports:sample"), note="keep an eye",
                   band=fx.Band(12.0, 8.0, 15.0, probability=0.93))
    row = f.row()
    assert row["evidence"] == "Saves money. Note: keep an eye."
    assert row["evidence_path"] == "reports:sample; memory model"
    assert row["saves_from"] == "lambda" and "at least the low end" in row["band_meaning"] and row["probability"] == 0.93
    risk = fx.Finding("throttles", KEY, "high", "Throttled", "many", "raise it", "execution environment").row()
    assert risk["saves_from"] == "" and risk["band_meaning"] == "" and math.isnan(risk["monthly_impact_usd"])
    with pytest.raises(ValueError, match="severity must be one of high, medium, low, got 'urgent'"):
        fx.Finding("throttles", KEY, "urgent", "t", "e", "r", "execution environment")


def test_overlapping_findings_of_one_function_count_once_and_never_above_spend():
    found = fx.frame([_f("cold-starts", 8.0, 6.0, 8.0), _f("init-heavy", 5.0, 2.0, 9.0),
                      _f("apigw-rest-to-http", 20.0, saves=("api-gateway",)),
                      _f("memory-measure", 50.0, 0.0, 90.0), _f("memory-underprovisioned", -3.0),
                      _f("memory-overprovisioned", 4.0, fn="other")])
    counted = fx.savings(found)
    fn = counted[counted["function_name"] == "fn"].set_index("services")
    assert fn.loc["lambda", "monthly_usd"] == 8.0 and fn.loc["lambda", "ids"] == "cold-starts, init-heavy"
    assert fn.loc["lambda", "high_usd"] == 9.0 and fn.loc["lambda", "sum_usd"] == 13.0
    assert fn.loc["api-gateway", "monthly_usd"] == 20.0
    assert counted["monthly_usd"].sum() == 32.0   # measure-first and a cost increase are not savings
    # capped by what the function spends on those bills
    capped = fx.savings(found, _spend([("fn", "lambda", 6.5), ("fn", "api-gateway", 30.0)]))
    lam = capped.set_index(["function_name", "services"]).loc[("fn", "lambda")]
    assert lam["monthly_usd"] == 6.5 and lam["high_usd"] == 6.5 and bool(lam["capped"])
    summ = fx.summary(found, _spend([("fn", "lambda", 6.5), ("fn", "api-gateway", 30.0), ("other", "lambda", 40)]))
    assert summ["savings_usd"] == pytest.approx(6.5 + 20 + 4) and summ["sum_of_findings_usd"] == pytest.approx(37)
    assert summ["by_service"]["lambda"]["savings_usd"] == pytest.approx(10.5)


def test_bills_shared_across_findings_join_one_group():
    found = fx.frame([_f("batch-size", 10.0, saves=("lambda", "sqs")), _f("memory-overprovisioned", 7.0),
                      _f("apigw-rest-to-http", 3.0, saves=("api-gateway",))])
    counted = fx.savings(found, _spend([("fn", "lambda", 5.0), ("fn", "sqs", 2.0)]))
    assert sorted(counted["services"]) == ["api-gateway", "lambda+sqs"]
    joined = counted.set_index("services").loc["lambda+sqs"]
    assert joined["monthly_usd"] == 7.0 and bool(joined["capped"])          # 10 and 7 overlap; spend 5 + 2
    assert math.isnan(counted.set_index("services").loc["api-gateway", "spend_usd"])


def test_review_order_puts_no_high_finding_below_a_cheap_one():
    found = fx.frame([_f("s3-whole-object", 0.4, sev="low", fn="a"), _f("throttles", sev="high", fn="b"),
                      _f("dynamodb-scan", 250.0, sev="high", fn="c"), _f("timeout-headroom", sev="medium", fn="d"),
                      _f("deprecated-runtime", sev="high", fn="e"), _f("batch-size", 3.0, sev="low", fn="f")])
    order = list(fx.rank(found)["function_name"])
    assert order == ["c", "f", "b", "e", "d", "a"]
    assert list(fx.rank(found, "money")["function_name"]) == ["c", "f", "a", "b", "e", "d"]
    assert list(fx.rank(found, "risk")["function_name"][:3]) == ["b", "e", "c"]
    assert list(fx.risks(found)["id"]) == ["throttles", "deprecated-runtime", "timeout-headroom"]
    with pytest.raises(ValueError, match="rank by must be 'review', 'money' or 'risk', got 'size'"):
        fx.rank(found, "size")


def test_sample_totals_add_up(sample_review):
    r = sample_review
    summ = r.summary()
    spend = r.spend
    assert {"lambda", "api-gateway", "sqs"} <= set(spend["service"])
    lam = spend[spend["service"] == "lambda"]["monthly_usd"].sum()
    from lambda_workbook import costs
    assert lam == pytest.approx(costs.function_costs(sources.load("sample"))["monthly_usd"].sum())
    # savings never above the spend they come from, overall and per service that was measured
    assert summ["savings_usd"] <= summ["spend_usd"]
    for service, v in summ["by_service"].items():
        if v["spend_usd"] == v["spend_usd"]:
            assert v["savings_usd"] <= v["spend_usd"] + 1e-9, service
    # per function and bill as well
    counted = fx.savings(r.findings, spend)
    capped = counted[counted["spend_usd"].notna()]
    assert (capped["monthly_usd"] <= capped["spend_usd"] + 1e-9).all()
    assert (counted["ids"].str.contains(",")).any()                     # the sample has overlapping findings
    assert summ["savings_usd"] < summ["sum_of_findings_usd"]
    t = review.totals(r.findings, spend)
    assert t.loc["all", "monthly_usd"] == pytest.approx(summ["savings_usd"])


def test_review_thresholds_reach_every_module(sample_review):
    snap = sources.load("sample")
    quiet = review.run(snap, thresholds={"medium_usd": 1e6, "high_usd": 2e6}).findings.set_index(["function_name", "id"])
    loud = sample_review.findings.set_index(["function_name", "id"])
    for key in [("catalog-rest-api", "apigw-rest-to-http"), ("inventory-report", "dynamodb-scan"),
                ("sqs-worker-batch1", "batch-size"), ("media-thumbnail-io", "memory-overprovisioned")]:
        assert loud.loc[key, "severity"] in ("high", "medium") and quiet.loc[key, "severity"] == "low", key
    # a risk keeps its rule's severity whatever the dollars
    assert quiet.loc[("flash-sale-api", "throttles"), "severity"] == "high"


def test_markdown_and_results_state_what_was_counted(sample_review, tmp_path):
    md = review.to_markdown(sample_review.findings, spend=sample_review.spend)
    assert "counted once" in md and "spend $" in md and "Lambda $" in md and "band:" in md
    res = review.results(sample_review)
    assert res["summary"]["savings_usd"] <= res["summary"]["spend_usd"]
    assert res["monthly_usd"] == pytest.approx(res["summary"]["savings_usd"], abs=1e-3)
    # a findings file written before the newer columns still loads
    path = tmp_path / "old.csv"
    old = review.rank(sample_review.findings).drop(columns=list(fx.OPTIONAL))
    old.to_csv(path, index=False)
    back = review.load(path)
    assert list(back.columns) == [*review.COLUMNS, "function"] and (back["saves_from"] == "").all()


def test_spend_view_rows_add_up(sample_review):
    view = review.spend_view(sample_review.findings, sample_review.spend)
    total = view[view["service"] == "all"].iloc[0]
    services = view[view["service"] != "all"]
    assert total["spend_usd"] == pytest.approx(services["spend_usd"].sum(skipna=True))
    assert total["savings_usd"] == pytest.approx(services["savings_usd"].sum())
    assert "Lambda" in set(services["service"]) and (total["savings_usd"] <= total["spend_usd"])
    risk = review.view(review.risks(sample_review.findings), by="risk")
    assert list(risk["id"][:2]) == ["throttles", "stream-iterator-age"]
