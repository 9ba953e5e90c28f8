"""Cold starts: the environment-reuse closed form against its simulation, INIT billing, provisioned
concurrency and SnapStart pricing, and the init-checklist findings on the sample account."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_workbook import coldstarts as cs
from lambda_workbook import prices, sample
from lambda_workbook.schema import Snapshot

CONTROLS = {a.name for a in sample.ARCHETYPES if a.expect == ("control",)}


# ---------------------------------------------------------------------------------------------------------
# the closed form and the simulation


def test_fixed_ten_minute_window_at_a_tenth_per_minute_is_37_percent_cold():
    rng = np.random.default_rng(7)
    counts = pd.Series(rng.poisson(0.1, 200_000).astype(float))
    closed = cs.expected_cold_starts(counts, 100.0, keep_alive_min=10) / counts.sum()
    simulated = cs.simulate(counts, 100.0, keep_alive_min=10, seed=1).share
    assert closed == pytest.approx(math.exp(-1), abs=0.01)
    assert simulated == pytest.approx(math.exp(-1), abs=0.01)
    assert closed == pytest.approx(simulated, abs=0.01)
    # the same traffic given as a Poisson rate rather than observed counts
    rate = pd.Series(np.full(200_000, 0.1))
    assert cs.expected_cold_starts(rate, 100.0, keep_alive_min=10) / 20_000 == pytest.approx(math.exp(-1), abs=0.01)


@pytest.mark.parametrize("rate, duration_ms, keep", [(5.0, 500.0, 10), (20.0, 100.0, None), (0.5, 1000.0, None)])
def test_closed_form_tracks_an_mru_pool_simulation_at_higher_concurrency(rate, duration_ms, keep):
    counts = pd.Series(np.random.default_rng(3).poisson(rate, 12_000).astype(float))
    closed = cs.expected_cold_starts(counts, duration_ms, keep_alive_min=keep)
    simulated = np.mean([cs.simulate(counts, duration_ms, keep_alive_min=keep, seed=s).total for s in range(2)])
    assert closed == pytest.approx(simulated, rel=0.15)


def test_a_nightly_gap_gives_one_cold_start_each_morning():
    idx = pd.date_range("2026-03-02", periods=7 * 1440, freq="min", tz="UTC")
    day = (idx.hour >= 6) & (idx.hour < 22)
    series = pd.Series(np.where(day, 3.0, 0.0), index=idx)
    prof = cs.cold_start_profile(series, 80.0, recycle_min=None)
    mornings = prof[(prof.index.hour == 6) & (prof.index.minute == 0)]
    assert len(mornings) == 7
    assert mornings["cold_starts"].between(0.999, 1.02).all()
    # an MRU pool also starts a second environment now and then when two calls overlap (~1% of minutes)
    later = prof[(prof.index.hour > 6) & (prof.index.hour < 22)]
    assert later["cold_starts"].max() < 0.02
    sim = np.mean([cs.simulate(series, 80.0, recycle_min=None, seed=s).total for s in range(4)])
    assert prof["cold_starts"].sum() == pytest.approx(sim, rel=0.2)
    # a pool sized to each minute's peak (one environment here) has exactly one cold start a morning
    assert cs.expected_cold_starts(series, 80.0, recycle_min=None, model="peak") == pytest.approx(7.0, abs=1e-6)
    # with forced recycling on, a 16-hour day adds one recycle per ~2 busy hours
    with_recycling = cs.expected_cold_starts(series, 80.0, model="peak")
    assert 7 * (1 + 7) <= with_recycling <= 7 * (1 + 8.5)
    # the same traffic with the night minutes simply missing from the series
    assert cs.expected_cold_starts(series[day], 80.0, recycle_min=None, model="peak") == pytest.approx(7.0, abs=1e-6)


def _on_off(peak: float, on: int, off: int, minutes: int = 1440, seed: int = 1) -> pd.Series:
    t = np.arange(minutes)
    return pd.Series(np.random.default_rng(seed).poisson(np.where(t % (on + off) < on, peak, 0.0)).astype(float))


@pytest.mark.parametrize("peak, on, off, duration_ms", [(300.0, 5, 8, 2000.0), (600.0, 2, 10, 2000.0)])
def test_pool_sweeps_closed_form_tracks_the_simulation_and_keeps_bursty_pools_warmer(peak, on, off, duration_ms):
    counts = _on_off(peak, on, off)
    one_by_one = cs.keep_alive(sweep=None)
    closed = cs.expected_cold_starts(counts, duration_ms)
    simulated = cs.simulate(counts, duration_ms, seed=1).total
    assert closed == pytest.approx(simulated, rel=0.15)
    # a burst's environments go idle together: sweeps keep half of them a step longer than independent eviction
    alone = cs.simulate(counts, duration_ms, keep_alive_min=one_by_one, seed=1).total
    assert simulated < 0.95 * alone
    assert closed < cs.expected_cold_starts(counts, duration_ms, keep_alive_min=one_by_one)


def test_sweeps_change_little_for_steady_traffic():
    counts = pd.Series(np.random.default_rng(4).poisson(20.0, 3 * 1440).astype(float))
    swept = cs.expected_cold_starts(counts, 100.0)
    alone = cs.expected_cold_starts(counts, 100.0, keep_alive_min=cs.keep_alive(sweep=None))
    assert swept == pytest.approx(alone, rel=0.05)


def test_missing_minutes_count_as_zero_and_the_index_kind_does_not_matter():
    rng = np.random.default_rng(11)
    full = pd.Series(rng.poisson(0.3, 3000).astype(float))
    sparse = full[full > 0]
    stamped = full.set_axis(pd.date_range("2026-01-01", periods=3000, freq="min"))
    a = cs.expected_cold_starts(full, 200.0)
    assert cs.expected_cold_starts(sparse.iloc[::-1], 200.0) == pytest.approx(
        cs.expected_cold_starts(full.loc[sparse.index[0]:sparse.index[-1]], 200.0))
    assert cs.expected_cold_starts(stamped, 200.0) == pytest.approx(a)
    nan_gaps = full.where(full > 0)           # NaN = no datapoint
    assert cs.expected_cold_starts(nan_gaps, 200.0) == pytest.approx(a)


def test_provisioned_environments_absorb_cold_starts_and_reserved_caps_levels():
    counts = pd.Series(np.random.default_rng(2).poisson(30, 3000).astype(float))
    free = cs.expected_cold_starts(counts, 2000.0)
    assert cs.expected_cold_starts(counts, 2000.0, provisioned=2) < free
    assert cs.expected_cold_starts(counts, 2000.0, provisioned=40) == 0.0
    assert cs.expected_cold_starts(counts, 2000.0, max_concurrency=1) < free
    sim_pc = cs.simulate(counts, 2000.0, provisioned=40)
    assert sim_pc.total == 0 and sim_pc.max_concurrency >= 3


def test_p_cold_after_idle():
    lo, hi = cs.SCENARIOS[cs.DEFAULT_SCENARIO].idle_min
    p = cs.p_cold_after_idle([0, lo - 0.01, (lo + hi) / 2, hi, hi + 0.5, 60])
    assert isinstance(p, np.ndarray) and p.shape == (6,)
    assert p.tolist() == pytest.approx([0, 0, 0.5, 1, 1, 1])
    assert 4.5 < lo < hi < 6.5                      # the 2025 counts: cold from ~5 minutes, all cold by 6
    old = cs.p_cold_after_idle([4.9, 6.0, 7.0], keep_alive_min="measured-2021")
    assert old.tolist() == pytest.approx([0, 0.5, 1])
    fixed = cs.p_cold_after_idle(np.array([[9.99, 10.0], [10.01, 30]]), keep_alive_min=10)
    assert fixed.shape == (2, 2) and fixed.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert cs.p_cold_after_idle(12.0, keep_alive_min="seed") == pytest.approx(0.7)
    assert np.all(np.diff(cs.p_cold_after_idle(np.linspace(0, 20, 50), keep_alive_min=(5, 15))) >= 0)
    with pytest.raises(ValueError, match="idle_minutes must be >= 0"):
        cs.p_cold_after_idle([-1.0])


@pytest.mark.parametrize("spec, message", [
    (0, "keep_alive_min must be finite minutes with 1 <= low <= high"),
    (-5, "keep_alive_min must be finite minutes"),
    ((7, 5), "low <= high"),
    ("forever", "scenario must be one of"),
    (True, "keep_alive_min must be minutes"),
    ([1, 2, 3], "keep_alive_min must be None, minutes"),
])
def test_bad_keep_alive_names_the_value(spec, message):
    with pytest.raises(ValueError, match=message):
        cs.expected_cold_starts(pd.Series([1.0, 0.0, 1.0]), 100.0, keep_alive_min=spec)


@pytest.mark.parametrize("series, duration, message", [
    (pd.Series([1.0, -2.0]), 100.0, "must be finite and >= 0; minute 1 holds -2.0"),
    (pd.Series([1.0, np.inf]), 100.0, "must be finite"),
    (pd.Series(["a", "b"]), 100.0, "must hold numbers"),
    (pd.Series([1.0, 1.0], index=[3, 3]), 100.0, "duplicate minutes"),
    (pd.Series([1.0], index=pd.DatetimeIndex(["2026-01-01 00:00:30"])), 100.0, "whole minutes"),
    (pd.Series([1.0], index=[0.5]), 100.0, "whole minute numbers"),
    (pd.Series([1.0], index=["x"]), 100.0, "index must be timestamps"),
    ({"a": 1}, 100.0, "pandas Series"),
    (pd.Series([1.0, 2.0]), -1.0, "duration_ms must be between 0 and 900,000"),
    (pd.Series([1.0, 2.0]), "fast", "duration_ms must be milliseconds"),
])
def test_bad_series_and_durations_get_clear_errors(series, duration, message):
    with pytest.raises(ValueError, match=message):
        cs.expected_cold_starts(series, duration)


def test_other_bad_options():
    s = pd.Series([1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="model must be one of"):
        cs.expected_cold_starts(s, 100.0, model="magic")
    with pytest.raises(ValueError, match="provisioned must be >= 0"):
        cs.expected_cold_starts(s, 100.0, provisioned=-1)
    with pytest.raises(ValueError, match="kind must be"):
        cs.expected_cold_starts(s, 100.0, kind="guess")
    with pytest.raises(ValueError, match="routing must be one of"):
        cs.simulate(s, 100.0, routing="random")
    with pytest.raises(ValueError, match="exceed max_invocations"):
        cs.simulate(pd.Series([1000.0] * 10), 100.0, max_invocations=100)
    assert cs.expected_cold_starts(pd.Series([], dtype=float), 100.0) == 0.0


counts_st = st.lists(st.integers(0, 6) | st.just(0), min_size=20, max_size=400)


@settings(max_examples=40, deadline=None)
@given(counts=counts_st, k1=st.floats(1, 20), k2=st.floats(1, 20), d=st.floats(1, 30_000),
       model=st.sampled_from(cs.MODELS))
def test_a_longer_keep_alive_never_gives_more_cold_starts(counts, k1, k2, d, model):
    s = pd.Series(np.array(counts, dtype=float))
    short, long = sorted((k1, k2))
    assert cs.expected_cold_starts(s, d, keep_alive_min=long, model=model) <= \
        cs.expected_cold_starts(s, d, keep_alive_min=short, model=model) + 1e-9


@settings(max_examples=40, deadline=None)
@given(rates=st.lists(st.floats(0, 3), min_size=20, max_size=300), k1=st.floats(1, 25), k2=st.floats(1, 25),
       d=st.floats(1, 30_000), model=st.sampled_from(cs.MODELS))
def test_a_longer_keep_alive_never_gives_more_cold_starts_for_rates_either(rates, k1, k2, d, model):
    s = pd.Series(np.array(rates) + 1e-3)          # non-integer values: Poisson rates
    short, long = sorted((k1, k2))
    assert cs.expected_cold_starts(s, d, keep_alive_min=long, model=model) <= \
        cs.expected_cold_starts(s, d, keep_alive_min=short, model=model) + 1e-9


@settings(max_examples=40, deadline=None)
@given(counts=counts_st, d=st.floats(1, 60_000), keep=st.floats(1, 30))
def test_cold_starts_are_bounded_by_invocations_and_forced_by_long_gaps(counts, d, keep):
    s = pd.Series(np.array(counts, dtype=float))
    prof = cs.cold_start_profile(s, d, keep_alive_min=keep)
    assert (prof["cold_starts"] <= prof["invocations"] + 1e-9).all()
    assert (prof["cold_starts"] >= -1e-12).all()
    used = np.flatnonzero(s.to_numpy() > 0)
    # a first call, and every call after a quiet stretch longer than the window + 2 minutes + duration, is cold
    sure = (1 + int((np.diff(used) - 1 > keep + 2 + d / 60000).sum())) if used.size else 0
    assert prof["cold_starts"].sum() >= sure - 1e-6


@settings(max_examples=30, deadline=None)
@given(counts=counts_st, extra=st.lists(st.integers(0, 5), min_size=20, max_size=400), d=st.floats(1, 5000))
def test_more_traffic_never_fewer_invocations(counts, extra, d):
    a = pd.Series(np.array(counts, dtype=float))
    b = a + pd.Series(np.array(extra[: len(a)] + [0] * max(0, len(a) - len(extra)), dtype=float))
    pa, pb = cs.cold_start_profile(a, d), cs.cold_start_profile(b, d)
    assert pb["invocations"].sum() >= pa["invocations"].sum()
    assert pb["concurrency"].sum() >= pa["concurrency"].sum() - 1e-9


@settings(max_examples=25, deadline=None)
@given(a=counts_st, b=counts_st, d=st.floats(1, 5000))
def test_traffic_separated_by_a_long_quiet_spell_adds_up(a, b, d):
    left, right = np.array(a, dtype=float), np.array(b, dtype=float)
    joined = pd.Series(np.concatenate([left, np.zeros(30), right]))
    total = cs.expected_cold_starts(joined, d, recycle_min=None)
    parts = cs.expected_cold_starts(pd.Series(left), d, recycle_min=None) + \
        cs.expected_cold_starts(pd.Series(right), d, recycle_min=None)
    assert total == pytest.approx(parts, abs=1e-3)   # levels reached < 1e-4 times are left out


def test_synthetic_traffic_patterns():
    for pattern in cs.PATTERNS:
        s = cs.synthetic_traffic(pattern, 12.0, days=2)
        assert len(s) == 2 * 1440 and s.max() == pytest.approx(12.0) and (s >= 0).all()
    nightly = cs.synthetic_traffic("nightly", 5.0, days=3)
    assert cs.expected_cold_starts(nightly, 100.0, recycle_min=None, model="peak") == pytest.approx(3.0, abs=0.05)
    with pytest.raises(ValueError, match="pattern must be one of"):
        cs.synthetic_traffic("weekly", 1.0)
    with pytest.raises(ValueError, match="days must be"):
        cs.synthetic_traffic("steady", 1.0, days=0)


# ---------------------------------------------------------------------------------------------------------
# INIT, latency, billing


def test_latency_with_and_without_cold_starts():
    none = cs.latency_quantiles(100, 200, 1000, 2000, 0.0)
    assert none["p99"] == pytest.approx(none["p99_warm"]) and none["p99_warm"] == pytest.approx(200, rel=0.01)
    few = cs.latency_quantiles(100, 200, 1000, 2000, 0.005)
    many = cs.latency_quantiles(100, 200, 1000, 2000, 0.05)
    assert none["p99"] <= few["p99"] < many["p99"]
    assert many["p99"] > 1000           # with 5% cold starts the p99 is a cold invocation
    assert many["p50"] == pytest.approx(none["p50"], rel=0.1)
    with pytest.raises(ValueError, match="cold_share must be between 0 and 1"):
        cs.latency_quantiles(100, 200, 1000, 2000, 1.5)


def _one_function(snapshot: Snapshot, name: str, **changes) -> Snapshot:
    sub = snapshot.subset(snapshot.functions[snapshot.functions.function_name == name])
    for col, value in changes.items():
        sub.tables["functions"][col] = value
    return Snapshot(sub.manifest, sub.tables, sub.path)


def test_init_is_billed_only_after_2025_08_01_for_zip_managed_runtimes(sample_snapshot):
    snap = _one_function(sample_snapshot, "billing-java")
    before = cs.analyse(snap, billing_date="2025-07-31", model="peak").iloc[0]
    after = cs.analyse(snap, billing_date="2025-08-01", model="peak").iloc[0]
    assert before["init_usd_month"] == 0.0 and not before["init_billed"]
    assert after["init_usd_month"] > 0 and after["init_billed"]
    # INIT of ~3.4 s on ~10% of invocations: billed INIT is most of the compute bill
    assert after["init_usd_month"] / after["on_demand_usd_month"] > 0.4
    for changes in ({"package_type": "Image", "runtime": ""}, {"runtime": "provided.al2023"}):
        other = cs.analyse(_one_function(sample_snapshot, "billing-java", **changes), billing_date="2025-07-31",
                           model="peak").iloc[0]
        assert other["init_usd_month"] > 0 and other["init_billed"], changes


# ---------------------------------------------------------------------------------------------------------
# provisioned concurrency and SnapStart


def test_pc_breakeven_utilisation_comes_from_the_price_book():
    book = prices.load("us-east-1")
    for arch in ("x86_64", "arm64"):
        expect = book.price(f"lambda.pc_allocation.{arch}") / (
            book.price(f"lambda.duration.{arch}") - book.price(f"lambda.pc_duration.{arch}"))
        assert cs.pc_breakeven_utilization(arch=arch) == pytest.approx(expect)
        assert cs.pc_breakeven_utilization(arch=arch) == pytest.approx(0.60, abs=0.005)
    items = dict(book.items)
    items["lambda.pc_allocation.x86_64"] = dict(items["lambda.pc_allocation.x86_64"], price=2 * 4.1667e-06)
    doubled = prices.PriceBook(book.region, book.as_of, items)
    assert cs.pc_breakeven_utilization(book=doubled) == pytest.approx(1.2, abs=0.01)
    items["lambda.pc_duration.x86_64"] = dict(items["lambda.pc_duration.x86_64"], price=1.0)
    with pytest.raises(ValueError, match="never breaks even"):
        cs.pc_breakeven_utilization(book=prices.PriceBook(book.region, book.as_of, items))
    with pytest.raises(ValueError, match="arch must be one of"):
        cs.pc_breakeven_utilization(arch="sparc")


def test_pc_options_price_allocation_spillover_and_schedules():
    idx = pd.date_range("2026-03-02", periods=7 * 1440, freq="min", tz="UTC")
    busy = (idx.day_of_week < 5) & (idx.hour >= 9) & (idx.hour < 17)
    series = pd.Series(np.where(busy, 600.0, 6.0), index=idx)          # concurrency 3 in office hours
    opts = cs.pc_options(series, 300.0, 1024, arch="x86_64", init_ms=400.0, counts=(0, 1, 3, 10),
                         schedule="mon-fri 09-17 UTC", runtime="python3.12", billing_date="2026-01-01")
    by = opts.set_index("option")
    book = prices.load("us-east-1")
    # always-on allocation = N x GB x 730 h at the allocation price
    assert by.loc["PC 3, always on", "pc_allocation_usd"] == pytest.approx(
        3 * 1.0 * 730 * 3600 * book.price("lambda.pc_allocation.x86_64"))
    sched = by.loc["PC 3, mon,tue,wed,thu,fri 09:00-17:00 UTC"]
    assert sched["pc_hours_month"] == pytest.approx(730 * 40 / 168)
    # 10 environments offered a load of 3 (Erlang B): 0.08% of office-hour arrivals find them all busy
    assert by.loc["PC 10, always on", "served_by_pc"] > 0.999
    cold = by["cold_starts_month"]
    assert cold["PC 10, always on"] < cold["PC 3, always on"] < cold["PC 1, always on"] < cold["on-demand"]
    assert cold["PC 3, mon,tue,wed,thu,fri 09:00-17:00 UTC"] < cold["on-demand"]
    assert by.loc["on-demand", "served_by_pc"] == 0 and by.loc["on-demand", "cold_starts_month"] > 0
    assert by.loc["on-demand", "init_usd"] > 0
    assert by.loc["PC 1, always on", "pc_utilisation"] < 1
    assert by.loc["SnapStart", "snapstart_usd"] > 0 and by.loc["SnapStart", "init_usd"] == 0
    assert "restore latency is not published" in by.loc["SnapStart", "note"]
    assert opts.attrs["breakeven_utilisation"] == pytest.approx(0.6, abs=0.005)
    # the cost-optimal count keeps every provisioned environment above the break-even utilisation
    steady = pd.Series(np.full(3000, 600.0))
    n = cs.pc_count_for_cost(steady, 300.0)
    b = cs.erlang_b(np.arange(0, 12), 3.0)
    marginal = 3.0 * (b[:-1] - b[1:])                 # load carried by the k-th provisioned environment
    assert marginal[n - 1] >= 0.6 > marginal[n]
    assert cs.erlang_b(1, 1.0) == pytest.approx(0.5) and cs.erlang_b(0, 5.0) == 1.0
    assert cs.erlang_b(2, 1.0) == pytest.approx(0.2)            # B(2, 1) = (1/2) / (1 + 1 + 1/2)


def test_schedules():
    s = cs.Schedule.parse("mon-fri 08-18 Europe/Berlin")
    assert s.days == (0, 1, 2, 3, 4) and (s.start_hour, s.end_hour) == (8, 18)
    idx = pd.date_range("2026-01-05 06:00", periods=14 * 60, freq="min", tz="UTC")     # a winter Monday
    on = s.mask(idx)
    assert idx[on][0].hour == 7 and idx[on][-1].hour == 16          # 08-18 Berlin = 07-17 UTC in winter
    assert cs.Schedule.parse("sat,sun 10-16").days == (5, 6)
    assert cs.Schedule.parse("fri-mon 0-24").days == (0, 4, 5, 6)
    for bad, msg in (("mon-fri", "must look like"), ("mon-fri 18-08", "start < end"), ("xyz 8-18 Mars/Base", "IANA"),
                     ("mon-fri 8-18x", "hours must look like")):
        with pytest.raises(ValueError, match=msg):
            cs.Schedule.parse(bad)
    with pytest.raises(ValueError, match="timestamps"):
        s.mask(pd.RangeIndex(10))


def test_busy_schedule_finds_office_hours():
    series = cs.synthetic_traffic("business", 10.0, days=14)
    sched = cs.busy_schedule(series)
    assert (sched.start_hour, sched.end_hour, sched.days) == (8, 18, (0, 1, 2, 3, 4))


def test_snapstart_rules_and_prices():
    assert cs.snapstart("java21")["eligible"] and not cs.snapstart("java21")["charged"]
    assert cs.snapstart("python3.12")["charged"] and cs.snapstart("dotnet8")["eligible"]
    for runtime, kw, reason in (("python3.11", {}, "not supported"), ("java8.al2", {}, "not supported"),
                                ("java21", {"package_type": "Image"}, "container images"),
                                ("java21", {"ephemeral_mb": 1024}, "ephemeral storage"),
                                ("provided.al2023", {}, "not supported")):
        out = cs.snapstart(runtime, **kw)
        assert not out["eligible"] and reason in out["reason"]
    pc = cs.snapstart("java17", provisioned=10)
    assert pc["blocked_by_pc"] and "provisioned concurrency" in pc["reason"]
    book = prices.load("us-east-1")
    cost = cs.snapstart_cost(2048, 1000, runtime="python3.12")
    assert cost["cache_usd"] == pytest.approx(2 * 730 * 3600 * book.price("lambda.snapstart_cache.x86_64"))
    assert cost["restore_usd"] == pytest.approx(1000 * 2 * book.price("lambda.snapstart_restore.x86_64"))
    assert cs.snapstart_cost(2048, 1000, runtime="java21")["total_usd"] == 0.0
    arm = cs.snapstart_cost(2048, 1000, runtime="python3.12", arch="arm64")
    assert math.isnan(arm["total_usd"]) and "unknown" in arm["note"]


# ---------------------------------------------------------------------------------------------------------
# the sample account


@pytest.fixture(scope="module")
def analysed(sample_snapshot):
    table = cs.analyse(sample_snapshot)
    return table, cs.findings(sample_snapshot, table=table)


def test_modelled_cold_starts_agree_with_the_observed_reports(analysed):
    table, _ = analysed
    cal = table.attrs["calibration"]
    assert cal["functions"] >= 20
    assert cal["median_abs_log_error"][table.attrs["model"]] < 0.2
    enough = table[table["observed_cold_starts"] >= 50]
    ratio = enough["modelled_cold_starts"] / enough["observed_cold_starts"]
    assert ratio.between(0.6, 1.6).all(), enough.assign(ratio=ratio)[["function_name", "ratio"]]
    checkout = table.set_index("function_name").loc["checkout-api"]
    assert checkout["observed_cold_starts"] == 0 and checkout["modelled_cold_starts"] == 0   # 40 provisioned
    assert checkout["init_source"].startswith("prior")


def test_required_findings_fire_and_controls_stay_quiet(analysed):
    _, found = analysed
    fired = set(zip(found["id"], found["function_name"], strict=True))
    for fid, fn in (("cold-starts", "admin-audit-export"), ("cold-starts", "billing-java"),
                    ("init-heavy", "billing-java"), ("provisioned-concurrency", "checkout-api")):
        assert (fid, fn) in fired, (fid, fn)
    assert not set(found["function_name"]) & CONTROLS
    assert list(found.columns) == cs.FINDING_COLUMNS
    assert set(found["severity"]) <= {"high", "medium", "low"}
    pc = found[(found["id"] == "provisioned-concurrency") & (found["function_name"] == "checkout-api")].iloc[0]
    # 40 x 2 GB x 730 h idle at the arm64 allocation price is ~$700 a month; right-sizing saves almost all of it
    assert 600 < pc["monthly_impact_usd"] <= pc["monthly_impact_high_usd"] < 720
    assert pc["monthly_impact_low_usd"] > 600
    assert "peak concurrency 1" in pc["evidence"] and "break-even of 60%" in pc["evidence"]
    cold = found[(found["id"] == "cold-starts") & (found["function_name"] == "billing-java")].iloc[0]
    assert "reports:sample (cold starts)" in cold["evidence_path"] and "SnapStart" in cold["recommendation"]
    heavy = found[found["id"] == "init-heavy"].iloc[0]
    assert heavy["heuristic"] and heavy["section"] == "function code"


def _dollars(text: str) -> list[float]:
    import re

    return [float(x.replace(",", "")) for x in re.findall(r"\$([0-9][0-9,]*\.[0-9]+)", text)]


def test_pc_finding_prices_snapstart_as_the_price_book_does(analysed, sample_snapshot):
    """checkout-api (java21, 40 idle environments): the cheapest option is SnapStart without PC. Its evidence and
    recommendation quote the same total, say what SnapStart itself charges (nothing for Java), and agree with
    the options table and the saving."""
    table, found = analysed
    pc = found[(found["id"] == "provisioned-concurrency") & (found["function_name"] == "checkout-api")].iloc[0]
    detail = cs.for_function(sample_snapshot, "checkout-api", table=table)
    ss = detail.options.set_index("option").loc["SnapStart"]
    assert ss["snapstart_usd"] == cs.snapstart_cost(2048, 1e6, runtime="java21", arch="arm64")["total_usd"] == 0.0
    assert f"${ss['total_usd']:,.2f}/month" in pc["evidence"]
    assert f"${ss['total_usd']:,.2f}/month in all" in pc["recommendation"]
    assert "SnapStart would cost" not in pc["evidence"], "a total must not read as SnapStart's own charge"
    assert "SnapStart itself $0.00" in pc["evidence"] and "free for Java" in pc["recommendation"]
    current = detail.options.loc[detail.options["current"], "total_usd"].item()
    assert pc["monthly_impact_usd"] == pytest.approx(current - ss["total_usd"])
    assert _dollars(pc["evidence"])[0] == pytest.approx(round(current, 2))


@pytest.mark.parametrize("runtime,arch", [("java21", "arm64"), ("python3.12", "x86_64"), ("dotnet8", "x86_64"),
                                          ("python3.12", "arm64"), ("nodejs20.x", "x86_64")])
def test_cold_start_advice_prices_snapstart_from_the_price_book(runtime, arch):
    from types import SimpleNamespace

    r = SimpleNamespace(runtime=runtime, arch=arch, memory_mb=512.0, cold_starts_month=600.0, region="us-east-1",
                        package_type="Zip", ephemeral_storage_mb=512, provisioned=0.0)
    text = cs._cold_start_advice(r)
    cost = cs.snapstart_cost(512.0, 600.0, runtime=runtime, arch=arch)["total_usd"]
    if runtime.startswith("java"):
        assert cost == 0 and "free for Java" in text
    elif runtime.startswith("nodejs"):
        assert "SnapStart is not available" in text
    elif math.isnan(cost):
        assert f"the {arch} price is not in the price book" in text and "free" not in text
    else:
        assert cost > 0 and f"about ${cost:,.2f}/month here" in text


def test_sample_python_cold_starts_do_not_call_snapstart_free(analysed):
    _, found = analysed
    cold = found[(found["id"] == "cold-starts") & (found["function_name"] == "admin-audit-export")].iloc[0]
    assert "pay its cache and restore" in cold["recommendation"] and "free" not in cold["recommendation"]
    assert "arm64 price is not in the price book" in cold["recommendation"]


@pytest.mark.parametrize("runtime,arch,charged", [("java21", "x86_64", False), ("python3.12", "x86_64", True),
                                                  ("dotnet8", "x86_64", True), ("python3.12", "arm64", None)])
def test_snapstart_words_follow_the_price_book(runtime, arch, charged):
    """The words about SnapStart's own charge are the price book's: free for Java, cache and restore for Python
    and .NET (the x86_64 prices), unknown where the book has no price (arm64)."""
    s = pd.Series(np.arange(600, dtype=float) % 7, index=pd.date_range("2026-10-01", periods=600, freq="min"))
    opts = cs.pc_options(s, 120.0, 1024, arch=arch, init_ms=900.0, runtime=runtime)
    row = opts[opts["option"] == "SnapStart"].iloc[0]
    words = cs.snapstart_words(row, runtime)
    own = cs.snapstart_cost(1024, row["cold_starts_month"], runtime=runtime, arch=arch)["total_usd"]
    if charged is None:
        assert math.isnan(own) and "unknown" in words and "free" not in words and "nan" not in words
    elif charged:
        assert own > 0 and f"cache and restore ${own:,.2f}" in words and "$0.00" not in words
    else:
        assert own == 0 and "SnapStart itself $0.00" in words and "for Java" in words
    on_demand = opts[opts["option"] == "on-demand"].iloc[0]
    assert cs.snapstart_words(on_demand, runtime) == f"on-demand would cost ${on_demand['total_usd']:,.2f}/month"


def test_results_json_is_plain_data(analysed, sample_snapshot):
    table, found = analysed
    res = cs.results(sample_snapshot, table, found)
    text = json.dumps(res)
    assert "NaN" not in text
    assert res["model"] in cs.MODELS and len(res["functions"]) == len(table)
    assert {f["id"] for f in res["findings"]} >= {"cold-starts", "init-heavy", "provisioned-concurrency"}


def test_for_function_profiles_and_options(analysed, sample_snapshot):
    table, _ = analysed
    detail = cs.for_function(sample_snapshot, "billing-java", table=table)
    assert detail.hourly["invocations"].sum() == pytest.approx(detail.series.sum())
    assert detail.hourly["cold_starts"].sum() == pytest.approx(detail.row["modelled_cold_starts"], rel=1e-6)
    assert detail.schedule is not None and detail.schedule.days == (0, 1, 2, 3, 4)
    names = set(detail.options["option"])
    assert {"on-demand", "PC 1, always on", "SnapStart"} <= names
    assert any("13:00-22:00" in n for n in names)          # the business hours of its traffic
    assert detail.scenarios["2017"] < detail.scenarios["measured-2021"]
    assert detail.options.loc[detail.options["current"], "option"].tolist() == ["on-demand"]


def _with(snapshot: Snapshot, table: str, frame: pd.DataFrame) -> Snapshot:
    tables = dict(snapshot.tables)
    tables[table] = frame
    return Snapshot(snapshot.manifest, tables, snapshot.path)


def _secret_per_invocation(snapshot: Snapshot, **changes) -> Snapshot:
    """admin-audit-export fetching a secret on every invocation (45 ms, traced)."""
    snap = _one_function(snapshot, "admin-audit-export", **changes)
    calls = pd.DataFrame([{"account_id": "111122223333", "region": "us-east-1", "function_name": "admin-audit-export",
                           "service": "secretsmanager", "operation": "GetSecretValue", "resource": "db",
                           "calls_per_invocation": 1.0, "mean_ms": 45.0, "response_kb": 1.0, "used_fraction": 1.0,
                           "items_evaluated": np.nan, "items_returned": np.nan, "evidence": "xray"}])
    return _with(snap, "calls", calls)


def test_heuristic_findings_fire_on_their_evidence(sample_snapshot):
    snap = _one_function(sample_snapshot, "admin-audit-export", vpc_id="vpc-123")
    found = cs.findings(_secret_per_invocation(sample_snapshot, vpc_id="vpc-123"))
    ids = set(found["id"])
    assert {"vpc-init", "per-invocation-setup", "cold-starts"} <= ids
    setup = found[found["id"] == "per-invocation-setup"].iloc[0]
    assert setup["heuristic"] and "secretsmanager:GetSecretValue 1.00/invocation" in setup["evidence"]
    assert setup["monthly_impact_usd"] > 0
    quiet = cs.findings(snap, min_cold_share=0.9)           # thresholds are parameters
    assert "cold-starts" not in set(quiet["id"])
    with pytest.raises(ValueError, match=r"unknown threshold\(s\) \['min_cold'\]"):
        cs.findings(snap, min_cold=0.1)


def test_pc_spillover_and_candidate_findings(sample_snapshot):
    snap = _one_function(sample_snapshot, "checkout-api")
    m = snap.metrics.copy()
    spill = m["metric"] == "ProvisionedConcurrencySpilloverInvocations"
    m.loc[spill, "value"] = 200.0
    found = cs.findings(_with(snap, "metrics", m))
    assert "Provisioned concurrency too small: requests spill over" in set(found["title"])
    # a busy steady function without PC: the cost-optimal count is proposed when it saves enough
    steady = _one_function(sample_snapshot, "sqs-worker-batch1", memory_mb=4096)
    m2 = steady.metrics.copy()
    inv = m2["metric"] == "Invocations"
    m2.loc[inv, "value"] = 3000.0
    r = steady.reports.copy()
    r["duration_mean_ms"] = r["duration_p50_ms"] = 200.0
    r["duration_p99_ms"] = 300.0
    found = cs.findings(_with(_with(steady, "metrics", m2), "reports", r), min_savings_usd=1.0)
    cand = found[found["id"] == "provisioned-concurrency"]
    assert len(cand) == 1 and "would cost less than on-demand" in cand["title"].iloc[0]


def test_coarse_metrics_are_spread_over_minutes_and_inits_fall_back(sample_snapshot):
    snap = _one_function(sample_snapshot, "admin-audit-export")
    m = snap.metrics.copy()
    inv = m[m["metric"] == "Invocations"].copy()
    inv["timestamp"] = inv["timestamp"].dt.floor("5min")
    inv = inv.groupby(list(inv.columns.drop("value")), as_index=False)["value"].sum()
    inv["period_s"] = 300
    coarse = _with(snap, "metrics", pd.concat([m[m["metric"] != "Invocations"], inv]))
    series = cs.invocation_series(coarse, "admin-audit-export")
    assert "300 s, each period's count spread evenly" in series.attrs["path"]
    assert series.sum() == pytest.approx(335)
    fine = cs.expected_cold_starts(cs.invocation_series(snap, "admin-audit-export"), 320.0)
    assert cs.expected_cold_starts(series, 320.0) == pytest.approx(fine, rel=0.1)
    rep = snap.reports.copy()
    rep[["init_p50_ms", "init_p99_ms", "init_mean_ms"]] = np.nan
    rep["cold_starts"] = 0
    from_lines = cs.init_estimate(_with(snap, "reports", rep), "admin-audit-export")
    assert from_lines["source"].startswith("report_samples") and from_lines["p50_ms"] > 800
    bare = _with(_with(snap, "reports", rep), "report_samples", sample_snapshot.report_samples.iloc[:0])
    prior = cs.init_estimate(bare, "admin-audit-export")
    assert prior["source"].startswith("prior") and prior["n"] == 0


def test_per_invocation_setup_is_priced_by_billing_with_the_book_given(sample_snapshot):
    snap = _secret_per_invocation(sample_snapshot)
    fn = snap.functions.iloc[0]
    book = prices.load("us-east-1")

    def setup_usd(**kw):
        found = cs.findings(snap, **kw)
        return float(found.loc[found["id"] == "per-invocation-setup", "monthly_impact_usd"].iloc[0])

    # 45 ms of every invocation, for a month of the window's traffic, at the first-tier GB-s price
    invocations = cs.invocation_series(snap, "admin-audit-export").sum()
    month = 730.0 / (snap.window_days * 24.0)
    gb_s = invocations * month * 45.0 / 1000.0 * fn["memory_mb"] / 1024.0
    assert setup_usd() == pytest.approx(gb_s * book.price(f"lambda.duration.{fn['arch']}"), rel=1e-9)
    items = dict(book.items)
    key = f"lambda.duration.{fn['arch']}"
    items[key] = dict(items[key], tiers=[dict(t, price=2 * t["price"]) for t in items[key]["tiers"]])
    assert setup_usd(book=prices.PriceBook(book.region, book.as_of, items)) == pytest.approx(2 * setup_usd(), rel=1e-9)
