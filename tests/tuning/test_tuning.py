"""The adaptive tuner against simulated and replayed functions (no AWS): it stops early when the answer is
clear, keeps measuring when it is close, is not fooled by stragglers, treats failures at small sizes as
infeasible sizes, respects its budget and works without the memory model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import billing, interop, memory, tuning
from lambda_workbook.tuning import stopping

PT_SIZES = [128, 256, 512, 1024, 1536, 3008]


def mean_ms(fixed, cpu, p=1.0):
    return lambda m: fixed + cpu / min(p, m / 1769.0)


def cost_per_invocation(fn, sizes, arch="x86_64"):
    d = np.array([fn(m) for m in sizes])
    return billing.cost_from_totals(np.ones(len(sizes)), d + 0.5, np.array(sizes, float), arch)


def regret(fn, sizes, pick):
    c = cost_per_invocation(fn, sizes)
    return c[list(sizes).index(pick)] / c.min() - 1


def test_stops_early_when_the_answer_is_clear():
    fn = mean_ms(2000.0, 30.0)   # waits on I/O: every doubling of memory nearly doubles the cost
    res = tuning.tune(tuning.simulated_function(fn, cv=0.05, seed=7), PT_SIZES)
    assert res.memory_mb == 128 and res.converged and res.confidence >= 0.95
    assert res.invocations <= 12, res.steps
    # sizes far above the pick are ruled out without being invoked
    assert set(res.ruled_out) & {1024.0, 1536.0}
    assert not res.samples["memory_mb"].isin(list(res.ruled_out)).any()
    assert res.invocations == len(res.samples)
    assert (res.samples["kind"] == "cold").sum() == res.samples["memory_mb"].nunique(), "one cold start per size"
    assert isinstance(res.model, memory.DurationModel)


def test_keeps_measuring_the_contenders_when_the_answer_is_close():
    # 1,024 MB is 2.7% cheaper than 512 MB, each invocation varies by 10%: only repeated measurements tell
    means = {512.0: 200.0, 1024.0: 97.0, 2048.0: 60.0}
    sizes = list(means)
    res = tuning.tune(tuning.simulated_function(means, cv=0.10, seed=3), sizes)
    clear = tuning.tune(tuning.simulated_function({512.0: 200.0, 1024.0: 140.0, 2048.0: 60.0}, cv=0.10, seed=3), sizes)
    st = res.stats().set_index("memory_mb")
    assert st.loc[512, "warm"] >= 5 and st.loc[1024, "warm"] >= 5
    assert st.loc[2048, "warm"] < min(st.loc[512, "warm"], st.loc[1024, "warm"])
    assert res.invocations > clear.invocations + 5
    assert res.memory_mb == 1024 or not res.converged
    assert clear.memory_mb == 512 and clear.converged


def test_a_straggler_does_not_flip_the_pick():
    # every size has 1 invocation in 20 at 4x; and the first warm invocation at the cheapest size is one
    rng = np.random.default_rng(0)
    rows = []
    for m, mu in ((512.0, 400.0), (1024.0, 170.0), (2048.0, 100.0)):
        d = mu * rng.normal(1.0, 0.03, 40)
        d[::20] *= 4.0
        rows.append(pd.DataFrame({"memory_mb": m, "duration_ms": d}))
    table = pd.concat(rows, ignore_index=True)
    replay = tuning.replayed_function(table, seed=1)
    calls = {"n": 0}

    def invoke(m):
        out = replay(m)
        if m == 1024.0:
            calls["n"] += 1
            if calls["n"] == 2:   # the first warm one
                out = {**out, "duration_ms": 4 * 170.0, "billed_duration_ms": 680.0}
        return out

    res = tuning.tune(invoke, [512, 1024, 2048])
    assert res.memory_mb == 1024
    assert res.stats().set_index("memory_mb").loc[1024, "warm"] >= 2


def test_robust_mean_pulls_in_stragglers_but_keeps_two_modes():
    assert stopping.robust_mean([100.0] * 9 + [400.0]) == pytest.approx(100.0, abs=2.0)
    bimodal = [80.0] * 5 + [100.0] * 5
    assert stopping.robust_mean(bimodal) == pytest.approx(90.0)


def test_claimed_confidence_follows_the_evidence():
    rng = np.random.default_rng(1)
    far = [rng.normal(100, 5, 8), rng.normal(130, 5, 8)]
    near = [rng.normal(100, 10, 3), rng.normal(101, 10, 3)]
    for samples, lo, hi in ((far, 0.99, 1.0), (near, 0.0, 0.9)):
        loc, draws, _, _ = stopping.location_draws(samples)
        ok = np.ones(draws.shape, bool)
        conf, risk = stopping.confidence("cost", int(np.argmin(loc)), draws, draws, ok, regret_tolerance=0.02)
        assert lo <= conf <= hi
        assert risk[int(np.argmin(loc))] == 0.0


@pytest.mark.parametrize("fixed, cpu", [(180.0, 15.0), (2000.0, 30.0)])
def test_finds_a_size_within_two_percent_with_fewer_invocations_than_power_tuning(fixed, cpu):
    fn = mean_ms(fixed, cpu)
    res = tuning.tune(tuning.simulated_function(fn, cv=0.05, seed=7), PT_SIZES)
    assert regret(fn, PT_SIZES, res.memory_mb) <= 0.02
    assert res.invocations < 10 * len(PT_SIZES) / 2, "fewer than half of Power Tuning's num=10"


def test_a_tie_is_measured_hard_but_the_clearly_worse_size_is_not():
    # CPU-bound below one vCPU: 128-1,536 MB cost within 2% of each other, 3,008 MB 73% more
    fn = mean_ms(20.0, 900.0)
    res = tuning.tune(tuning.simulated_function(fn, cv=0.05, seed=7), PT_SIZES)
    assert regret(fn, PT_SIZES, res.memory_mb) <= 0.02
    warm = res.stats().set_index("memory_mb")["warm"]
    assert res.invocations > 25, "a tie takes many invocations to call"
    assert warm[3008] <= 3 < warm.drop(3008).max()
    assert res.converged or any("budget" in n for n in res.notes)


def test_speed_strategy_and_slo():
    fn = mean_ms(20.0, 600.0, p=2.0)
    res = tuning.tune(tuning.simulated_function(fn, cv=0.05, seed=1), PT_SIZES, strategy="speed")
    assert res.memory_mb == 3008
    # 1,536 MB (711 ms) is the cheapest size within an 800 ms SLO; 1,024 MB takes 1,056 ms
    slo = tuning.tune(tuning.simulated_function(fn, cv=0.05, seed=1), PT_SIZES, strategy="cost", latency_slo_ms=800)
    assert slo.memory_mb == 1536


def test_out_of_memory_and_timeouts_make_sizes_infeasible():
    fn = mean_ms(10.0, 200.0)
    res = tuning.tune(tuning.simulated_function(fn, cv=0.05, oom_below_mb=400, seed=2), PT_SIZES)
    assert set(res.infeasible) == {128.0, 256.0}
    assert all("out of memory" in why for why in res.infeasible.values())
    assert res.memory_mb >= 512
    slow = mean_ms(10.0, 400.0)  # 5.5 s at 128 MB, 2.8 s at 256 MB: a 3 s timeout kills the smallest
    res = tuning.tune(tuning.simulated_function(slow, cv=0.05, timeout_ms=3000, seed=3), PT_SIZES)
    assert 128.0 in res.infeasible and "timed out" in res.infeasible[128.0]
    assert res.memory_mb >= 256


def test_a_function_that_always_fails_is_not_a_memory_problem():
    with pytest.raises(tuning.TuningError, match="not a memory-size problem|fails at the largest size"):
        tuning.tune(tuning.simulated_function(mean_ms(10, 10), error_rate=1.0, seed=4), [128, 512, 1024])


def test_flaky_errors_do_not_stop_the_run():
    res = tuning.tune(tuning.simulated_function(mean_ms(30.0, 100.0), cv=0.05, error_rate=0.1, seed=5), PT_SIZES)
    assert len(res.infeasible) < len(PT_SIZES)
    assert res.memory_mb in PT_SIZES and res.memory_mb not in res.infeasible


def test_budget_is_respected_and_reported():
    res = tuning.tune(tuning.simulated_function(mean_ms(5.0, 900.0), cv=0.3, seed=6), PT_SIZES, max_invocations=7)
    assert res.invocations <= 7 and not res.converged
    assert any("budget" in n for n in res.notes)


def test_works_from_measurements_alone_when_the_model_fails(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("model under construction")

    monkeypatch.setattr(memory, "fit", broken)
    fn = mean_ms(2000.0, 30.0)
    res = tuning.tune(tuning.simulated_function(fn, cv=0.05, seed=7), PT_SIZES)
    assert res.model is None and res.recommendation is None
    assert res.memory_mb == 128 and res.converged
    assert any("measurements alone" in n for n in res.notes)


def test_deterministic_and_charted():
    a = tuning.tune(tuning.simulated_function(mean_ms(40, 300), seed=9), PT_SIZES)
    b = tuning.tune(tuning.simulated_function(mean_ms(40, 300), seed=9), PT_SIZES)
    assert a.memory_mb == b.memory_mb and a.invocations == b.invocations
    url = a.visualization_url()
    back = interop.parse_power_tuning_url(url)
    st = a.stats().dropna(subset=["mean_ms"])
    assert back["memory_mb"].tolist() == st["memory_mb"].tolist()
    assert back["duration_ms"].to_numpy() == pytest.approx(st["mean_ms"].to_numpy(), rel=1e-6)
    assert a.tuning_cost_usd > 0 and a.summary()["memory_mb"] == a.memory_mb


def test_replayed_function_draws_measured_invocations():
    table = pd.DataFrame({"memory_mb": [128.0, 128.0, 256.0], "duration_ms": [10.2, 11.7, 6.1],
                          "billed_duration_ms": [11.0, np.nan, 7.0]})
    invoke = tuning.replayed_function(table, seed=0)
    first = invoke(128)
    assert first["init_duration_ms"] > 0, "the first call at a size is a cold start"
    later = [invoke(128) for _ in range(30)]
    assert all("init_duration_ms" not in r for r in later)
    assert {r["duration_ms"] for r in later} == {10.2, 11.7}
    assert {r["billed_duration_ms"] for r in later} == {11.0, 12.0}, "missing billed: duration rounded up"
    with pytest.raises(KeyError, match="no measured invocation at 512 MB"):
        invoke(512)


@pytest.mark.parametrize("raw, kind", [
    ({"duration_ms": 12.0}, "ok"),
    ({"duration_ms": 12.0, "init_duration_ms": 150.0}, "cold"),
    ({"duration_ms": 3000.0, "status": "timeout"}, "timeout"),
    ({"duration_ms": 3000.0, "error": "Task timed out after 3.00 seconds"}, "timeout"),
    ({"duration_ms": 90.0, "error": "Runtime.OutOfMemory"}, "oom"),
    ({"duration_ms": 90.0, "error": "Runtime.ExitError", "max_memory_used_mb": 128}, "oom"),
    ({"duration_ms": 90.0, "error": "Unhandled: KeyError"}, "error"),
    ({"billed_duration_ms": 3}, "error"),
])
def test_classify(raw, kind):
    assert tuning._classify(raw, 128)["kind"] == kind


def test_bad_options_are_named():
    sim = tuning.simulated_function(mean_ms(1, 1))
    with pytest.raises(ValueError, match="between 128 and 10240 MB; got 64"):
        tuning.tune(sim, [64, 128])
    with pytest.raises(ValueError, match="memory_options is empty"):
        tuning.tune(sim, [])
    with pytest.raises(ValueError, match="strategy must be one of"):
        tuning.tune(sim, [128], strategy="fast")
    with pytest.raises(TypeError, match="must return a mapping"):
        tuning.tune(lambda m: 12.0, [128, 256])


def test_anchors_are_spread():
    assert tuning.anchors([128, 256, 512, 1024, 1536, 3008]) == [128, 3008, 512]
    assert tuning.anchors([128, 10240]) == [128, 10240]
