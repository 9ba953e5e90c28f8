"""One memory decision, one story: a finding's title, evidence, note, band and recommendation agree with each other,
with the probability they state, and with what the memory explorer shows at the same settings.

The band rule (``memory.decision``): a band's low end is the saving the change beats with the decision's probability
and its high end the saving it stays under with that probability, counted in the draws that decided; a decrease or
an arm64 switch is only made when its test (which includes a saving) holds with that probability, so its band never
starts below zero."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lambda_workbook import memory, prices, review
from lambda_workbook.memory.decision import bounds, percent

MEMORY_IDS = ("memory-overprovisioned", "memory-underprovisioned", "memory-measure", "arm64-candidate")


def usd(x: float) -> str:
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def sizes(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in re.findall(r"([0-9][0-9,]*) MB", text)]


@pytest.fixture(scope="module")
def sample_findings(sample_snapshot):
    f = review.run(sample_snapshot).findings
    return f[f["id"].isin(MEMORY_IDS)].reset_index(drop=True)


@pytest.fixture(scope="module")
def sample_table(sample_snapshot):
    return memory.recommend_all(sample_snapshot).set_index("function_name")


# --------------------------------------------------------------------------------------------------------
# the band rule, on constructed draws


@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("n", [1, 7, 100, 2000, 2001])
def test_bounds_hold_in_the_draws_they_come_from(level, n):
    x = np.random.default_rng(n).normal(1.0, 2.0, n)
    lo, hi = bounds(x, level)
    assert (x >= lo).mean() >= level and (x <= hi).mean() >= level
    assert lo <= hi or level <= 0.5   # above one half the two one-sided bounds cannot cross
    # exactly at the threshold: 2000 draws of which 200 are below zero still beat zero with probability 90%
    y = np.r_[-np.ones(200), np.ones(1800)]
    assert bounds(y, 0.9)[0] == 1.0 and bounds(y, 0.95)[0] == -1.0


def test_a_skewed_saving_keeps_its_mean_inside_a_band_that_stays_true():
    from lambda_workbook.memory.decision import _around

    x = np.r_[np.zeros(940), np.full(60, 100.0)]      # a rare large saving: the mean (6) is above the 90% high end
    lo, hi = _around(x, 0.9)
    assert lo <= x.mean() <= hi and (x >= lo).mean() >= 0.9 and (x <= hi).mean() >= 0.9


def test_a_probability_below_the_threshold_never_reads_as_reaching_it():
    assert percent(0.8996, 0.9) == "89.9%" and percent(0.9, 0.9) == "90%" and percent(0.83, 0.9) == "83%"
    assert percent(0.7996, 0.8) == "79.9%" and percent(0.9004, 0.9) == "90%"
    for p in np.linspace(0.85, 0.95, 201):
        shown = float(percent(p, 0.9).rstrip("%")) / 100
        assert (shown < 0.9) == (p < 0.9), p


def _function(name: str, memory_mb: float, arch: str, mean_ms: float, per_month: float) -> dict:
    return {"function_name": name, "memory_mb": memory_mb, "arch": arch, "duration_mean_ms": mean_ms,
            "invocations_per_month": per_month, "max_memory_used_p99_mb": 90.0, "cpu_fraction": None,
            "region": "us-east-1"}


CASES = [  # (today's MB, arch, fixed ms, CPU ms at 1 vCPU, invocations a month): waiting, CPU-bound, in between
    (2048, "x86_64", 180.0, 15.0, 3e7), (512, "x86_64", 60.0, 40.0, 2e7), (128, "arm64", 40.0, 900.0, 2e6),
    (1024, "x86_64", 20.0, 400.0, 5e6), (3008, "arm64", 200.0, 10.0, 8e6),
]


def _decide(case, confidence: float = 0.9):
    mem, arch, fixed, cpu, per_month = case
    sizes_mb = np.array([mem, mem / 2]) if mem >= 256 else np.array([mem, mem * 2])
    means = fixed + cpu / np.minimum(1.0, sizes_mb / 1769.0)
    model = memory.fit(sizes_mb, means, arch=arch, counts=[5000, 50])
    fn = _function("f", mem, arch, float(means[0]), per_month)
    pol = memory.Policy(confidence=confidence)
    return memory.decide(model, fn, pol, {"invocations_per_month": per_month, "book": prices.load("us-east-1")}, n=1500)


@pytest.mark.parametrize("confidence", [0.8, 0.9])
@pytest.mark.parametrize("case", CASES)
def test_constructed_decisions_state_their_band_at_their_probability(case, confidence):
    d = _decide(case, confidence)
    c = f"{confidence:.0%}"
    if d.action in ("decrease", "increase"):
        o = d.option
        assert o.probability >= confidence
        assert o.saving_band[0] <= o.saving_usd <= o.saving_band[1]
        if d.action == "decrease":
            assert o.saving_band[0] > 0, "a decrease that is likely to save cannot have a band below zero"
            assert f"at least {usd(o.saving_band[0])} with {c} probability" in d.evidence()
        assert sizes(d.title())[-1] == o.memory_mb == sizes(d.recommendation())[0]
        assert f"with probability {o.probability:.0%} (threshold {c})" in d.note()
    if d.arm64 is not None:
        a = d.arm64
        assert d.function["arch"] == "x86_64" and a.probability >= confidence and a.saving_band[0] > 0
        mb = d.function["memory_mb"]
        assert a.memory_mb == mb and sizes(d.arm64_title()) == [mb] and sizes(d.arm64_recommendation())[0] == mb
        assert f"at least {usd(a.saving_band[0])} with {c} probability" in d.arm64_evidence()
        assert usd(a.saving_usd) in d.arm64_title() and usd(a.saving_usd) in d.arm64_evidence()
        if d.action in ("decrease", "increase"):
            assert f"{d.option.memory_mb:,.0f} MB" in d.arm64_recommendation(), "the memory change's size is named"
    if d.action == "measure":
        m = d.measurement
        assert m.p_single < confidence and f"{percent(m.p_single, confidence)} of them" in d.evidence()
        assert usd(m.expected_value_usd) in d.title() and usd(m.saving_range[1]) in d.title()


def test_constructed_cases_cover_each_kind_of_claim():
    """The cases above reach a decrease, an increase and an arm64 switch (else the test above proves little)."""
    made = [_decide(c) for c in CASES]
    assert {"decrease", "increase"} <= {d.action for d in made}
    assert any(d.arm64 is not None for d in made)


# --------------------------------------------------------------------------------------------------------
# the sample account's review


def test_sample_bands_agree_with_the_claims(sample_findings):
    assert set(sample_findings["id"]) >= {"memory-overprovisioned", "memory-underprovisioned", "arm64-candidate"}
    for r in sample_findings.to_dict("records"):
        lo, mid, hi = r["monthly_impact_low_usd"], r["monthly_impact_usd"], r["monthly_impact_high_usd"]
        assert lo <= mid <= hi, r["title"]
        if r["id"] in ("memory-overprovisioned", "arm64-candidate"):
            assert lo > 0, f"{r['function']}: a likely saving with a band below zero: {r['evidence']}"
            assert f"at least {usd(lo)} with 90% probability, at most {usd(hi)} with 90%" in r["evidence"]
            assert r["title"].endswith(f"saves {usd(mid)}/month")
        if r["id"] == "memory-underprovisioned":
            more = f"{usd(-mid)}/month more" if mid < 0 else f"saves {usd(mid)}/month"
            assert more in r["title"] and "with 90% probability" in r["evidence"]
        if r["id"] == "memory-measure":
            assert f"{usd(mid)}/month on average (at most {usd(hi)})" in r["title"]
            assert f"at least {usd(lo)} with 90% probability, at most {usd(hi)} with 90%" in r["evidence"]
        for p in re.findall(r"probability (\d+)% \(threshold (\d+)%\)", r["evidence"] + r["title"]):
            assert int(p[0]) >= int(p[1]) or r["id"] == "memory-measure"
        for shown, needed in re.findall(r"in ([\d.]+)% of them, below the (\d+)%", r["evidence"]):
            assert float(shown) < float(needed), r["evidence"]


def test_band_meaning_is_the_decisions(sample_table):
    """The table carries what its bands mean (for the review's band_meaning column), in the decision's own words."""
    for name, r in sample_table.iterrows():
        if r["action"] == "keep":
            assert r["band_meaning"] == "", name
        else:
            assert "at least the low end with 90% probability and at most the high end with 90%" in r["band_meaning"]
        assert bool(r["arm64_band_meaning"]) == bool(r["arm64_candidate"])


def test_sample_sizes_agree_within_each_finding(sample_findings, sample_snapshot):
    today = sample_snapshot.functions.set_index("function_name")["memory_mb"]
    for r in sample_findings.to_dict("records"):
        mb = float(today[r["function_name"]])
        if r["id"] == "arm64-candidate":
            # judged at today's size: the title, the evidence and the recommendation all name it, and only it
            assert f"at today's {mb:,.0f} MB" in r["title"] and f"at the same {mb:,.0f} MB" in r["evidence"]
            assert f"keep MemorySize at {mb:,.0f} MB" in r["recommendation"]
        elif r["id"] in ("memory-overprovisioned", "memory-underprovisioned"):
            old, new = sizes(r["title"])[:2]
            assert old == mb and f"Set MemorySize to {new:,.0f} MB" in r["recommendation"]
            assert f"At {new:,.0f} MB the model expects" in r["evidence"]
        elif r["id"] == "memory-measure":
            assert sizes(r["title"])[0] == mb and f"{mb:.0f}" in r["recommendation"].split("--memory ")[1]


def test_orders_api_arm64_and_its_memory_finding_agree(sample_findings, sample_table):
    """orders-api: measure-first on memory, arm64 at today's 512 MB. The memory note points at the arm64 finding
    at the same size; the arm64 recommendation says its saving is judged at 512 MB."""
    f = sample_findings[sample_findings["function_name"] == "orders-api"].set_index("id")
    arm = f.loc["arm64-candidate"]
    assert "512 MB" in arm["title"] and "640" not in " ".join(f["title"] + f["evidence"] + f["recommendation"])
    assert "judged at today's 512 MB" in arm["recommendation"]
    assert "arm64 at today's 512 MB meets the policy" in f.loc["memory-measure", "evidence"]
    row = sample_table.loc["orders-api"]
    assert arm["monthly_impact_low_usd"] == pytest.approx(row["other_arch_savings_low_usd"])
    assert arm["monthly_impact_low_usd"] > 0


def test_pc_priced_memory_decision_says_what_it_would_be_without_the_environments(sample_findings):
    f = sample_findings
    m = f[(f["function_name"] == "checkout-api") & (f["id"] == "memory-measure")].iloc[0]
    assert "40 provisioned environments" in m["evidence"]
    assert "without them the memory decision would be '" in m["evidence"]


# --------------------------------------------------------------------------------------------------------
# the explorer and the review


EXPLORED = ("media-thumbnail-io", "pdf-render", "orders-api", "checkout-api", "billing-java")


def test_explorer_picks_what_the_review_decides(sample_snapshot, sample_findings, sample_table):
    from lambda_workbook import explorers

    ex = explorers.MemoryExplorer(sample_snapshot, EXPLORED[0])
    for name in EXPLORED:
        ex.set(function_name=name, arch=sample_table.loc[name, "arch"])
        assert ex.error is None and ex.result.mode == "decision"
        row = sample_table.loc[name]
        assert ex.result.memory_mb == row["recommended_memory_mb"], name
        assert ex.table.loc["review decision", "value"] == row["title"]
        f = sample_findings[(sample_findings["function_name"] == name) & (sample_findings["id"] != "arm64-candidate")]
        if len(f):
            assert f["title"].iloc[0] == row["title"]
        if row["action"] in ("decrease", "increase"):
            assert ex.result.monthly_savings == pytest.approx(row["monthly_savings_usd"])
            assert ex.result.savings_band == pytest.approx((row["monthly_savings_low_usd"],
                                                            row["monthly_savings_high_usd"]))
            assert "with probability ≥ 90%" in ex.table.loc["rule", "value"]
            assert ex.table.loc["probability", "value"] == f"{row['probability']:.0%}"
    # media-thumbnail-io: the explorer's cheapest strategy point is a view; the pick stays the review's 1,024 MB
    ex.set(function_name="media-thumbnail-io", arch="arm64", strategy="decision")
    assert ex.result.memory_mb == 1024 and "saves at least 10% and is at most 10% slower" in ex.result.rule
    assert ex.figure.layout.title.text.startswith("media-thumbnail-io: the review's decision")


def test_explorer_and_notebook_agree_at_other_settings(sample_snapshot):
    """At the memory notebook's settings (here not the defaults) the explorer shows the notebook's decision and,
    asked for the strategy, the notebook chart's point."""
    from types import SimpleNamespace

    from lambda_workbook import explorers

    p = SimpleNamespace(strategy="cost", latency_slo_ms=0.0, max_slowdown=0.2, cost_tolerance=0.1,
                        balanced_weight=0.5, headroom=0.2, confidence=0.8)
    fr = memory.recommend_for_function(sample_snapshot, "orders-api", **memory.policy(p))
    ex = explorers.MemoryExplorer(sample_snapshot, "orders-api", **memory.policy(p))
    assert ex.result.decision.title() == fr.decision.title() and ex.result.decision.note() == fr.decision.note()
    assert "80%" in ex.table.loc["rule", "value"] and ex.result.memory_mb == fr.row()["recommended_memory_mb"]
    ex.set(arch="arm64")
    assert ex.result.memory_mb == 512 and ex.result.probability == pytest.approx(fr.decision.other_arch.probability)
    ex = explorers.MemoryExplorer(sample_snapshot, "media-thumbnail-io", pick="strategy", **memory.policy(p))
    fr = memory.recommend_for_function(sample_snapshot, "media-thumbnail-io", **memory.policy(p))
    assert ex.result.mode == "cost" and ex.result.memory_mb == fr.recommendation.memory_mb
    with pytest.raises(KeyError, match="no setting"):
        explorers.MemoryExplorer(sample_snapshot, "orders-api", confidance=0.8)


# --------------------------------------------------------------------------------------------------------
# the measured validation account (a small version)


def test_validation_account_bands_agree_with_the_claims():
    from lambda_workbook.validation import account

    acc = account.build(["arm-vs-x86-node-2023", "faasdom-2020", "cebert-2025"], small=True, max_functions=12)
    t = memory.recommend_all(acc.snapshot)
    assert (t["action"] != "keep").any(), "the small account should reach at least one claim to check"
    for r in t.to_dict("records"):
        if r["action"] == "measure":
            lo, hi = r["measure_saving_low_usd"], r["measure_saving_high_usd"]
            assert 0 <= lo <= r["measure_value_usd"] <= hi, r["function_name"]
            assert f"at least {usd(lo)} with 90% probability, at most {usd(hi)} with 90%" in r["evidence_text"]
            for shown, needed in re.findall(r"in ([\d.]+)% of them, below the (\d+)%", r["evidence_text"]):
                assert float(shown) < float(needed), r["evidence_text"]
        if r["action"] == "decrease":
            assert r["probability"] >= 0.9 and r["monthly_savings_low_usd"] > 0, r["function_name"]
        if r["action"] in ("decrease", "increase"):
            lo, hi = r["monthly_savings_low_usd"], r["monthly_savings_high_usd"]
            assert f"at least {usd(lo)}" in r["evidence_text"] or f"at most {usd(-lo)} more" in r["evidence_text"]
            assert lo <= r["monthly_savings_usd"] <= hi
        if r["arm64_candidate"]:
            assert r["arch"] == "x86_64" and r["other_arch_probability"] >= 0.9
            assert r["other_arch_savings_low_usd"] > 0 and r["other_arch_memory_mb"] == r["memory_mb"]
            assert f"at today's {r['memory_mb']:,.0f} MB" in r["arm64_title"]
        else:
            assert not r["arm64_title"]
