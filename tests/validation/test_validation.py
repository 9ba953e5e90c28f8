"""The measured account (validation.account) and the scorer of the review's memory findings (validation.score)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import billing, logs, schema, sources
from lambda_workbook.validation import account, datasets, score

SETS = ["arm-vs-x86-node-2023", "faasdom-2020"]
KEY = {"account_id": "111111111111", "region": "us-east-1"}


@pytest.fixture(scope="module")
def small():
    return account.build(SETS, small=True, max_functions=6)


# --------------------------------------------------------------------------------------------------------
# the builder


def test_small_account_validates_saves_and_loads(small, tmp_path):
    snap = small.snapshot
    assert set(snap.functions["function_name"]) == set(small.deployments["function_name"])
    assert set(small.deployments["dataset"]) == set(SETS)
    schema.validate_tables(snap.tables)
    paths = account.save(small, tmp_path)
    loaded = sources.load_snapshot(paths["snapshot"])
    assert sorted(loaded.functions["function_name"]) == sorted(snap.functions["function_name"])
    assert len(loaded.reports) == len(snap.reports) == 6
    truth = pd.read_csv(paths["truth"])
    assert len(truth) == len(small.truth)
    assert not (paths["snapshot"] / "truth.csv").exists()  # the truth is beside the snapshot, not in it


def test_lines_come_only_from_the_measurements_at_the_functions_size(small):
    inv = datasets.invocations()
    lines = small.snapshot.report_samples
    for dep in small.deployments.itertuples():
        mine = lines[lines["function_name"] == dep.function_name]
        parsed = logs.parse_reports(mine["message"].tolist())
        assert len(parsed) == len(mine) > 0
        assert (parsed["memory_size_mb"] == dep.memory_mb).all()
        measured = inv[(inv["dataset"] == dep.dataset) & (inv["curve"] == dep.curve) & (inv["memory_mb"] == dep.memory_mb)]
        allowed = np.sort(measured["duration_ms"].to_numpy(float))
        d = parsed["duration_ms"].to_numpy(float)
        pos = np.clip(np.searchsorted(allowed, d), 1, allowed.size - 1)
        nearest = np.minimum(abs(allowed[pos] - d), abs(allowed[pos - 1] - d))
        assert (nearest <= 0.0051).all()   # every line is a measured invocation (printed to 0.01 ms)
        rep = small.snapshot.reports.set_index("function_name").loc[dep.function_name]
        assert rep["memory_size_mb"] == dep.memory_mb
        assert measured["duration_ms"].min() <= rep["duration_mean_ms"] <= measured["duration_ms"].max()
        fn = small.snapshot.functions.set_index("function_name").loc[dep.function_name]
        assert fn["timeout_s"] * 1000 > measured["duration_ms"].max()
        assert fn["runtime"] == measured["runtime"].iloc[0]


def test_truth_has_every_measured_size_and_the_other_architecture(small):
    curves = datasets.curves(SETS)
    for dep in small.deployments.itertuples():
        t = small.truth[small.truth["function_name"] == dep.function_name]
        own = set(curves.loc[curves["curve"] == dep.curve, "memory_mb"])
        assert set(t.loc[t["curve"] == dep.curve, "memory_mb"]) == own
        cur = t[t["current"]]
        assert len(cur) == 1 and cur["memory_mb"].iloc[0] == dep.memory_mb and cur["arch"].iloc[0] == dep.arch
        if dep.dataset == "arm-vs-x86-node-2023":   # measured on both architectures at the same sizes
            assert set(t["arch"]) == {"arm64", "x86_64"}
            assert set(t.loc[t["curve"] == dep.twin_curve, "memory_mb"]) == own
        n = t["invocations_per_month"].to_numpy()
        again = billing.cost_from_totals(n, n * t["true_mean_billed_ms"].to_numpy(), t["memory_mb"].to_numpy(),
                                         t["arch"].to_numpy())
        assert np.allclose(again, t["true_monthly_usd"])
        means = curves.set_index(["curve", "memory_mb"])["mean_ms"]
        warm = np.array([means[(c, m)] for c, m in zip(t["curve"], t["memory_mb"], strict=True)])
        # the truth is the warm mean plus the cold-start share's extra: only INIT differs for these sets
        assert np.allclose(t["true_mean_ms"], warm)
        assert (t["true_mean_billed_ms"] > warm).all()


def test_build_is_deterministic_and_checks_its_input():
    a = account.build(["faasdom-2020"], small=True, max_functions=2)
    b = account.build(["faasdom-2020"], small=True, max_functions=2)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    pd.testing.assert_frame_equal(a.snapshot.reports, b.snapshot.reports)
    assert a.snapshot.report_samples["message"].tolist() == b.snapshot.report_samples["message"].tolist()
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        account.build(["nope"], small=True)
    with pytest.raises(ValueError, match="max_functions"):
        account.build(["faasdom-2020"], small=True, max_functions=0)


def test_deployed_at_smallest_middle_and_largest():
    assert account.deployment_sizes([128, 256, 512, 1024, 2048]) == [("smallest", 128.0), ("middle", 512.0),
                                                                     ("largest", 2048.0)]
    assert account.deployment_sizes([512, 2048]) == [("smallest", 512.0), ("largest", 2048.0)]
    name = account.function_name("cebert-2025", "november-2025/memory-intensive/python3.14/x86_64" * 2, 10240)
    assert len(name) <= 64 and name.endswith("-10240")


# --------------------------------------------------------------------------------------------------------
# the scorer's arithmetic on hand-made tables

N = 1e6


def _truth(name, sizes, means, *, current, arch="x86_64", dataset="hand"):
    sizes, means = np.asarray(sizes, float), np.asarray(means, float)
    billed = means + 0.5
    return pd.DataFrame({**KEY, "function_name": name, "dataset": dataset, "curve": f"{name}/{arch}", "arch": arch,
                         "memory_mb": sizes, "current": sizes == current, "invocations_per_month": N,
                         "cold_share": 0.0, "true_mean_ms": means, "true_mean_billed_ms": billed, "true_init_ms": 0.0,
                         "true_monthly_usd": billing.cost_from_totals(N, N * billed, sizes, arch), "source": "hand"})


def _cost(mean, mb, arch="x86_64"):
    return float(billing.cost_from_totals(N, N * (mean + 0.5), mb, arch))


def _finding(fid, name, usd, low, high):
    return {"id": fid, **KEY, "function_name": name, "monthly_impact_usd": usd, "monthly_impact_low_usd": low,
            "monthly_impact_high_usd": high}


@pytest.fixture(scope="module")
def hand():
    truth = pd.concat([
        # io: waits, so 512 MB is as fast as 2,048 MB (over); arm64 measured too, 25% cheaper and as fast
        _truth("io", [128, 512, 2048], [1000, 260, 250], current=2048),
        _truth("io", [128, 512, 2048], [1000, 262, 252], current=None, arch="arm64"),
        # cpu: starved at 128 MB (under); a finding recommends 724 MB, between two measured sizes
        _truth("cpu", [128, 512, 2048], [4000, 1000, 300], current=128),
        # cpu2: the same curve, but its finding points the wrong way
        _truth("cpu2", [128, 512, 2048], [4000, 1000, 300], current=128),
        # io2: over, and no finding at all (a miss); a measure-first finding instead
        _truth("io2", [128, 512, 2048], [1000, 260, 250], current=2048),
        # flat: nothing to gain anywhere
        _truth("flat", [128, 512, 2048], [1000, 250, 240], current=512),
    ], ignore_index=True)
    s_io = _cost(250, 2048) - _cost(260, 512)
    s_arm = _cost(250, 2048) - _cost(252, 2048, "arm64")
    s_io2_best = _cost(250, 2048) - _cost(260, 512)
    findings = pd.DataFrame([
        _finding(score.OVER, "io", s_io * 0.9, s_io * 0.5, s_io * 1.2),
        _finding(score.ARM, "io", s_arm * 1.5, 0.0, s_arm * 2.0),
        _finding(score.UNDER, "cpu", -1.0, -5.0, -2.0),               # true saving is > -2: outside its band
        _finding(score.OVER, "cpu2", 5.0, -1.0, 1e6),                # 512 MB costs the same as 128 MB
        _finding(score.MEASURE, "io2", np.nan, s_io2_best * 0.5, s_io2_best * 1.5),
        _finding("timeout-rate", "flat", np.nan, np.nan, np.nan),     # not a memory finding: ignored
    ])
    recs = pd.DataFrame([{**KEY, "function_name": n, "recommended_memory_mb": r, "other_arch_memory_mb": o}
                         for n, r, o in (("io", 512, 2048), ("cpu", 724, 724), ("cpu2", 512, 512),
                                         ("io2", 2048, 2048), ("flat", 512, 512))])
    pol = score.Policy(min_savings_share=0.10, max_slowdown=0.10, min_speedup=0.25, cost_tolerance=0.10,
                       confidence=0.9)
    return score.score(truth, findings, recs, pol), {"io": s_io, "arm": s_arm, "io2": s_io2_best}


def test_labels_follow_the_policy_on_measured_sizes(hand):
    s, _ = hand
    lab = s.labels.set_index("function_name")
    assert lab.loc["io", "over"] and not lab.loc["io", "under"] and lab.loc["io", "over_best_mb"] == 512
    assert lab.loc["cpu", "under"] and not lab.loc["cpu", "over"]
    assert lab.loc["io", "arm_scorable"] and lab.loc["io", "arm"]
    assert not lab.loc["cpu", "arm_scorable"]
    assert not lab.loc["flat", "labelled"]
    assert lab.loc["io2", "best_mb"] == 512


def test_finding_verdicts(hand):
    s, saved = hand
    f = s.findings.set_index(["function_name", "id"])
    io = f.loc[("io", score.OVER)]
    assert io["correct"] and io["how"] == "measured" and io["in_band"]
    assert io["true_saving_usd"] == pytest.approx(saved["io"])
    assert io["abs_error_usd"] == pytest.approx(0.1 * saved["io"])
    assert io["rel_error"] == pytest.approx(0.1)
    cpu = f.loc[("cpu", score.UNDER)]
    assert cpu["how"] == "interpolated" and cpu["correct"] and not cpu["in_band"]
    # log-log between 512 MB (1,000 ms) and 2,048 MB (300 ms)
    t = np.log(724 / 512) / np.log(4)
    mean = float(np.exp(np.log(1000) + t * np.log(0.3)))
    assert cpu["true_slowdown"] == pytest.approx(mean / 4000 - 1)
    wrong = f.loc[("cpu2", score.OVER)]
    assert not wrong["correct"] and not wrong["direction_ok"] and "no such true label" in wrong["verdict"]
    arm = f.loc[("io", score.ARM)]
    assert arm["correct"] and arm["true_saving_usd"] == pytest.approx(saved["arm"])
    assert arm["abs_error_usd"] == pytest.approx(0.5 * saved["arm"])
    assert ("flat", "timeout-rate") not in f.index


def test_precision_recall_coverage_arithmetic(hand):
    s, _ = hand
    mem = s.memory.set_index("dataset").loc["overall"]
    assert mem["findings"] == 3 and mem["correct"] == 2
    assert mem["precision"] == pytest.approx(2 / 3)
    assert mem["labelled"] == 4                       # io, cpu, cpu2, io2
    assert mem["recall"] == pytest.approx(2 / 4)
    assert mem["band_checked"] == 3 and mem["in_band"] == 2   # io and cpu2 in their bands, cpu outside
    assert mem["band_coverage"] == pytest.approx(2 / 3)
    assert mem["interpolated"] == 1 and mem["at_measured_size"] == 2
    arm = s.arm64.set_index("dataset").loc["overall"]
    assert arm["scorable_functions"] == 1 and arm["findings"] == 1 and arm["precision"] == 1.0 and arm["recall"] == 1.0
    meas = s.measure.set_index("dataset").loc["overall"]
    assert meas["findings"] == 1 and meas["labelled_with_measure"] == 1 and meas["in_range"] == 1
    assert set(s.missed()["function_name"]) == {"cpu2", "io2"}
    assert s.wrong()["function_name"].tolist() == ["cpu2"]


def test_beyond_the_measured_sizes_the_truth_is_bracketed():
    truth = _truth("cpu", [128, 512, 1024], [4000, 1000, 500], current=128)
    findings = pd.DataFrame([_finding(score.UNDER, "cpu", 0.0, -1.0, 1.0)])
    recs = pd.DataFrame([{**KEY, "function_name": "cpu", "recommended_memory_mb": 1088.0}])
    pol = score.Policy(0.10, 0.10, 0.25, 0.10, 0.9)
    f = score.score(truth, findings, recs, pol).findings.iloc[0]
    # between 500 ms (as at 1,024 MB) and 500 * 1024 / 1088 ms: 87% faster for +0% to +6% cost at both ends
    assert f["how"] == "bracketed" and f["correct"] and np.isnan(f["true_saving_usd"])
    recs.loc[0, "recommended_memory_mb"] = 10240.0   # +0% if it kept scaling, +900% if not: undecided
    f = score.score(truth, findings, recs, pol).findings.iloc[0]
    assert f["how"] == "outside" and not f["correct"] and "not verifiable" in f["verdict"]


def test_no_measure_findings_is_handled(hand):
    s, _ = hand
    per_set = s.measure.set_index("dataset")
    assert set(per_set.index) == {"hand", "overall"}
    empty = score.score(_truth("flat", [128, 512], [1000, 250], current=512),
                        pd.DataFrame(columns=["id", "account_id", "region", "function_name", "monthly_impact_usd",
                                              "monthly_impact_low_usd", "monthly_impact_high_usd"]),
                        None, score.Policy(0.1, 0.1, 0.25, 0.1, 0.9))
    row = empty.measure.set_index("dataset").loc["overall"]
    assert row["findings"] == 0 and np.isnan(row["range_coverage"])
    assert empty.memory.set_index("dataset").loc["overall", "findings"] == 0


def test_policy_is_read_from_the_memory_module():
    import inspect

    from lambda_workbook import memory

    pol = score.policy()
    params = inspect.signature(memory.recommend_for_function).parameters
    assert pol.min_savings_share == params["min_savings_share"].default
    assert pol.min_speedup == params["min_speedup"].default


# --------------------------------------------------------------------------------------------------------
# the whole small pipeline


def test_small_pipeline_end_to_end(small):
    s = score.evaluate(small)
    assert not s.meta["review_errors"]
    assert len(s.labels) == len(small.deployments)
    assert set(s.memory["dataset"]) == set(SETS) | {"overall"}
    overall = s.memory.set_index("dataset").loc["overall"]
    assert overall["findings"] == (s.findings["id"].isin([score.OVER, score.UNDER])).sum()
    assert s.findings["verdict"].str.len().gt(0).all()
    assert s.findings["function_name"].isin(small.deployments["function_name"]).all()
