"""The adaptive tuner's sampling logic against simulated functions (no AWS): it finds the size the truth says,
with few invocations, treats failures at small sizes as infeasible sizes, and respects its budget."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_workbook import interop, memory, tuning

PT_SIZES = [128, 256, 512, 1024, 1536, 3008]


def mean_ms(fixed, cpu, p=1.0):
    return lambda m: fixed + cpu / min(p, m / 1769.0)


def true_best(fn, sizes, strategy="cost", arch="x86_64"):
    d = np.array([fn(m) for m in sizes])
    if strategy == "speed":
        return sizes[int(np.argmin(d))]
    cost = memory.monthly_cost(d, np.array(sizes, float), arch=arch, cv=0.05)
    return sizes[int(np.argmin(cost))]


@pytest.mark.parametrize("fixed, cpu", [(180.0, 15.0), (5.0, 900.0), (60.0, 120.0)])
def test_finds_the_cheapest_size_with_few_invocations(fixed, cpu):
    fn = mean_ms(fixed, cpu)
    sim = tuning.simulated_function(fn, cv=0.05, seed=7)
    res = tuning.tune(sim, PT_SIZES, strategy="cost")
    best = true_best(fn, PT_SIZES)
    costs = memory.monthly_cost(np.array([fn(m) for m in PT_SIZES]), np.array(PT_SIZES, float), cv=0.05)
    regret = costs[PT_SIZES.index(res.memory_mb)] / costs.min() - 1
    assert res.memory_mb == best or regret <= 0.02
    assert res.converged and res.invocations <= 25, res.steps
    assert res.invocations < 10 * len(PT_SIZES) / 2, "far fewer than Power Tuning's num=10"
    assert res.invocations == len(res.samples)
    assert (res.samples["kind"] == "cold").sum() == res.samples["memory_mb"].nunique(), "one cold start per size"
    assert isinstance(res.model, memory.DurationModel)


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
    assert res.memory_mb >= 512 and res.converged
    slow = mean_ms(10.0, 400.0)  # 5.5 s at 128 MB, 2.8 s at 256 MB: a 3 s timeout kills the smallest
    res = tuning.tune(tuning.simulated_function(slow, cv=0.05, timeout_ms=3000, seed=3), PT_SIZES)
    assert 128.0 in res.infeasible and "timed out" in res.infeasible[128.0]
    assert res.memory_mb >= 256


def test_a_function_that_always_fails_is_not_a_memory_problem():
    with pytest.raises(tuning.TuningError, match="not a memory-size problem|fails at the largest size"):
        tuning.tune(tuning.simulated_function(mean_ms(10, 10), error_rate=1.0, seed=4), [128, 512, 1024])


def test_flaky_errors_do_not_stop_the_run():
    res = tuning.tune(tuning.simulated_function(mean_ms(30.0, 100.0), cv=0.05, error_rate=0.1, seed=5), PT_SIZES)
    assert not res.infeasible or len(res.infeasible) < len(PT_SIZES)
    assert res.memory_mb in PT_SIZES


def test_budget_is_respected_and_reported():
    res = tuning.tune(tuning.simulated_function(mean_ms(5.0, 900.0), cv=0.3, seed=6), PT_SIZES, max_invocations=7)
    assert res.invocations <= 7 and not res.converged
    assert any("budget" in n for n in res.notes)


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
