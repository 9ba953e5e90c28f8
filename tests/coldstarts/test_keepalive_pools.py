"""The keep-alive window fitted to the 2025 counts, pool sweeps (closed form and simulation), and the pool model
against the 2025 concurrency REPORT lines."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lambda_workbook import coldstarts as cs
from lambda_workbook import keepalive, poolfit, poolsim
from lambda_workbook.validation import environments


@pytest.fixture(scope="module")
def counts():
    return environments.keep_alive_counts()


@pytest.fixture(scope="module")
def reports():
    return environments.concurrency_reports()


# ---------------------------------------------------------------------------------------------------------
# the idle window


def test_the_default_window_is_the_maximum_likelihood_fit_to_the_2025_counts(counts):
    assert counts.attrs["dropped"] == 0 and len(counts) >= 15
    fit = keepalive.fit_idle_window(counts["idle_s"], counts["cold"], counts["n_trials"])
    default = cs.keep_alive()
    assert default.name == "measured-2025" and default.sweep is not None
    assert fit.window == pytest.approx(default.idle_min, abs=0.01)
    assert fit.p_value > 0.05                      # a uniform window (plus recycling) explains the counts
    # the fitted shape: no evictions below the window, all gone above it, a steep climb in between
    p = default.p_cold(counts["idle_s"] / 60.0)
    assert np.all(np.diff(p) >= 0)
    band = stats.binom.interval(0.999, counts["n_trials"], np.clip(p, 1e-9, 1 - 1e-9))
    assert ((counts["cold"] >= band[0]) & (counts["cold"] <= band[1])).all()
    # the 2021 window (5-7 min) fits these counts far worse
    old = keepalive.counts_loglik(cs.SCENARIOS["measured-2021"], counts["idle_s"], counts["cold"], counts["n_trials"])
    new = keepalive.counts_loglik(default, counts["idle_s"], counts["cold"], counts["n_trials"])
    assert new - old > 100
    for family in ("normal", "logistic"):          # the smooth families fit no better than the uniform one
        other = keepalive.fit_idle_window(counts["idle_s"], counts["cold"], counts["n_trials"], family=family)
        assert other.loglik <= fit.loglik + 1.0


def test_the_short_gap_cold_starts_bound_the_recycling_lifetime(counts):
    est, low, high = keepalive.recycle_interval(counts["idle_s"], counts["cold"], counts["n_trials"])
    assert low < est < high
    assert low > 60 and high < 24 * 60             # hours, not minutes or days
    assert low < 1.25 * np.mean(keepalive.RECYCLE_MIN) < high   # the ~2 h default sits at the interval's edge


def test_fit_recovers_a_known_window():
    gaps = np.arange(60, 721, 15)
    truth = keepalive.KeepAlive((5.2, 6.1), None)
    trials = np.full(gaps.size, 400)
    cold = stats.binom.rvs(trials, truth.p_cold(gaps / 60.0), random_state=np.random.default_rng(3))
    fit = keepalive.fit_idle_window(gaps, cold, trials, recycle_min=None)
    assert fit.window == pytest.approx((5.2, 6.1), abs=0.05)
    with pytest.raises(ValueError, match="family must be one of"):
        keepalive.fit_idle_window(gaps, cold, trials, family="gamma")
    with pytest.raises(ValueError, match="0 <= cold <= trials"):
        keepalive.fit_idle_window(gaps, trials + 1, trials)


# ---------------------------------------------------------------------------------------------------------
# pool sweeps


def test_a_lone_idle_environment_is_gone_after_one_sweep():
    lo, hi = cs.keep_alive().idle_min
    left = poolsim.idle_pool_decay(1, [lo - 0.05, hi + 0.05])
    assert left.tolist() == [1, 0]
    # the same in a replay: calls 1 + gap minutes apart
    for gap, cold in ((int(lo) - 1, 1), (int(hi) + 1, 2)):
        series = pd.Series([1.0] + [0.0] * gap + [1.0])
        assert cs.simulate(series, 100.0).total == cold
        assert cs.expected_cold_starts(series, 100.0, recycle_min=None) == pytest.approx(cold, abs=0.02)


def test_a_pool_of_idle_environments_loses_about_half_per_step():
    ka = cs.keep_alive()
    lo, hi = ka.idle_min
    step = ka.sweep.step_min
    times = [lo - 0.1] + [hi + 0.1 + j * step for j in range(6)]
    left = poolsim.idle_pool_decay(40, times)
    assert left.tolist() == [40, 20, 10, 5, 2, 1, 0]
    independent = poolsim.idle_pool_decay(40, times, keep_alive_min=cs.keep_alive(sweep=None))
    assert independent.tolist() == [40] + [0] * 6
    assert keepalive.Sweeps(6.0, 0.5).survivors(40, 3) == 5
    assert keepalive.Sweeps().steps_survived([1, 2, 3, 20, 21], 40).tolist() == [5, 4, 3, 1, 0]


def test_closed_form_sweeps_after_a_burst():
    # 30 environments busy in one minute, then quiet: the 2nd-30th minute later calls find some warm
    series = pd.Series([2000.0] + [0.0] * 20 + [1.0])
    d = 900.0       # ~30 busy at once
    swept = cs.expected_cold_starts(series, d, recycle_min=None)
    alone = cs.expected_cold_starts(series, d, recycle_min=None, keep_alive_min=cs.keep_alive(sweep=None))
    assert alone - swept == pytest.approx(1.0, abs=0.05)       # the call at minute 21 finds one still warm
    sims = [cs.simulate(series, d, recycle_min=None, seed=s, keep_alive_min=ka).cold_starts.iloc[-1]
            for s in range(3) for ka in (None, cs.keep_alive(sweep=None))]
    assert sims == [0, 1] * 3


@pytest.mark.parametrize("kw, message", [({"step_min": 0.5}, "step_min must be minutes"),
                                         ({"keep": 1.0}, r"keep must be a fraction in \[0, 1\)"),
                                         ({"keep": True}, "keep must be a fraction")])
def test_bad_sweeps(kw, message):
    with pytest.raises(ValueError, match=message):
        keepalive.Sweeps(**kw)


def test_keep_alive_specs_and_overrides():
    assert cs.keep_alive(5.0).sweep is None and cs.keep_alive((5, 7)).sweep is None
    assert cs.keep_alive(sweep=None).idle_min == cs.keep_alive().idle_min
    assert cs.keep_alive(recycle_min=None).sweep == cs.keep_alive().sweep       # overrides keep the rest
    assert "sweeps every 6 min" in cs.keep_alive().label
    with pytest.raises(ValueError, match="sweep must be a Sweeps or None"):
        keepalive.KeepAlive((5, 6), sweep=6)


# ---------------------------------------------------------------------------------------------------------
# the pool against the 2025 concurrency REPORT lines


def test_the_measured_pool_grows_only_when_every_environment_is_busy(reports):
    win = poolfit.windows(reports)
    assert win.attrs["dropped"] == 0
    assert (win["environments"] == win["peak_concurrency"]).all()
    assert win["environments"].is_monotonic_increasing          # nothing evicted between windows seconds apart
    assert win.loc[win["rate_per_s"] == 1, "cold_starts"].item() == 0    # warm before the first window


def test_replaying_the_measured_arrivals_gives_the_measured_cold_starts(reports):
    win = poolfit.windows(reports).set_index("rate_per_s")
    mru = poolfit.replay(reports, routing="mru").set_index("rate_per_s")
    lru = poolfit.replay(reports, routing="lru").set_index("rate_per_s")
    assert (mru["cold_starts"] == win["cold_starts"]).all()
    # routing: the measured pool concentrates work like most-recently-used routing, not a spread
    busy = win["environments"] > 4
    assert (win.loc[busy, "imbalance"] > 10).all() and (mru.loc[busy, "imbalance"] > 10).all()
    assert (lru.loc[busy, "imbalance"] < 1.5).all()


def test_paced_arrivals_need_an_environment_more_only_near_full_load():
    durations = {2.0: np.full(50, 150.0), 7.0: np.full(50, 150.0)}
    out = poolfit.paced([2.0, 7.0], durations, window_s=30, jitter_ms=3.0, reuse_ms=5.0, create_ms=0.0, init_ms=0.0,
                        draws=20)
    assert out["cold_starts"].tolist() == pytest.approx([0.0, 1.0])   # 0.31, then 1.09 environments' work
    # a new environment's first call is longer (start-up + INIT): while it starts, one more is needed
    slow = poolfit.paced([2.0, 7.0], durations, window_s=30, jitter_ms=3.0, create_ms=100.0, init_ms=95.0, draws=5)
    assert slow["cold_starts"].tolist() == pytest.approx([0.0, 2.0])
    with pytest.raises(ValueError, match="durations_ms needs measured durations"):
        poolfit.paced([3.0], durations)
    with pytest.raises(ValueError, match="routing must be one of"):
        poolfit.replay(pd.DataFrame(columns=list(poolfit.REPORT_COLUMNS)), routing="random")


def test_paced_simulation_needs_fewer_environments_than_poisson_arrivals():
    series = pd.Series([1800.0] * 30)                       # 30 calls a second, 155 ms each
    poisson = cs.simulate(series, 155.0, seed=1)
    paced = cs.simulate(series, 155.0, seed=1, arrivals="paced", jitter_ms=2.0)
    assert paced.max_environments < poisson.max_environments
    assert paced.max_environments <= 7
    with pytest.raises(ValueError, match="arrivals must be one of"):
        cs.simulate(series, 155.0, arrivals="bursty")
    with pytest.raises(ValueError, match="jitter_ms must be milliseconds"):
        cs.simulate(series, 155.0, arrivals="paced", jitter_ms=-1)
