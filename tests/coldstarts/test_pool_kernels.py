"""The pool model's inner sums, as now computed (skipping minutes that cannot contribute, views instead of
gathers, the recycle recursion by doubling), against the plain minute-by-minute loops they replace."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lambda_workbook.coldstarts import pool, poolevict, poolterms, poolwindows
from lambda_workbook.keepalive import keep_alive


def plain_windowed_cold(up, busy, ka, steps=None):
    evict, span = poolevict._evict_table(ka, steps, 0.0)
    m = len(up)
    bp = np.concatenate([np.zeros(span), busy])
    row = np.concatenate([np.zeros(span, dtype=np.int64), steps]) if steps is not None else np.zeros(span + m, np.int64)
    cum = np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(bp, 1.0 - 1e-12)))])
    t = np.arange(span, span + m)
    total = np.exp(cum[t] - cum[t - span])
    for j in range(span):
        total += bp[t - 1 - j] * np.exp(cum[t] - cum[t - j]) * evict[row[t - 1 - j], j]
    return up * np.clip(total, 0.0, 1.0)


def plain_soon(busy, ka, shift, steps=None):
    evict, span = poolevict._evict_table(ka, steps, shift)
    m = len(busy)
    row = steps if steps is not None else np.zeros(m, dtype=np.int64)
    bp = np.concatenate([busy, np.zeros(span + 1)])
    cum = np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(bp, 1.0 - 1e-12)))])
    t = np.arange(m)
    out = np.zeros(m)
    for j in range(span):
        out += np.exp(cum[t + j] - cum[t]) * bp[t + j] * (1.0 - evict[row, j])
    return np.clip(out, 0.0, 1.0)


def plain_recycles(used, hazard, ka):
    m = len(used)
    out = np.zeros(m)
    lives, weights = ka.life_nodes()
    h = np.clip(hazard, 0.0, 1.0)
    cum = np.concatenate([[0.0], np.cumsum(-np.log1p(-np.minimum(h, 1.0 - 1e-12)))])
    for life, weight in zip(lives, weights, strict=True):
        lag = int(round(life)) + 1
        a, rec = np.zeros(m), np.zeros(m)
        for t in range(m):       # one minute at a time
            if t >= lag:
                rec[t] = used[t] * np.exp(-(cum[t + 1] - cum[t + 1 - lag])) * a[t - lag]
            a[t] = h[t] + rec[t]
        out += weight * rec
    return out


def traffic(density: float, m: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    on = rng.random(m) < density
    busy = np.where(on, rng.random(m), 0.0)
    up = np.where(on, busy * rng.random(m), 0.0)
    steps = np.where(on, rng.integers(0, 3, m), 0).astype(np.int64)
    return up, busy, steps


@pytest.mark.parametrize("density", [1.0, 0.3, 0.01])
@pytest.mark.parametrize("scenario", [None, "seed", 10.0])
def test_eviction_and_reuse_sums_match_the_plain_loops(density, scenario):
    ka = keep_alive(scenario)
    up, busy, steps = traffic(density)
    for st in (None, steps if ka.sweep is not None else None):
        np.testing.assert_array_equal(pool._windowed_cold(up, busy, ka, st), plain_windowed_cold(up, busy, ka, st))
        for shift in (0.0, 0.4):
            np.testing.assert_array_equal(pool._soon(busy, ka, shift, st), plain_soon(busy, ka, shift, st))


@pytest.mark.parametrize("density", [1.0, 0.97, 0.3, 0.01])
@pytest.mark.parametrize("scenario", [None, "seed", 10.0])
def test_one_pass_over_the_windows_gives_both_sums_exactly(density, scenario):
    ka = keep_alive(scenario)
    up, busy, steps = traffic(density, seed=7)
    up[:40] = np.where(busy[:40] > 0, 0.3, 0.0)     # uses in the first minutes: windows that start before the series
    for st in (None, steps if ka.sweep is not None else None):
        surv = poolterms.log_survival(busy)
        cold, soon = poolwindows.cold_and_soon(up, busy, pool._columns(ka, st, 0.0), st, surv)
        np.testing.assert_array_equal(cold, pool._windowed_cold(up, busy, ka, st))
        np.testing.assert_array_equal(soon, pool._soon(busy, ka, 0.0, st))
        if density == 1.0:
            assert cold.sum() > 0 and soon.sum() > 0


@pytest.mark.parametrize("density", [1.0, 0.2, 0.005])
def test_recycles_by_doubling_match_the_minute_by_minute_recursion(density):
    ka = keep_alive(None)
    _, busy, _ = traffic(density, m=2000, seed=3)
    hazard = np.random.default_rng(4).random(2000) * 0.02
    got, want = pool._recycles(busy, hazard, ka), plain_recycles(busy, hazard, ka)
    assert want.sum() > 0
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_poisson_shortcuts_are_scipys_numbers():
    rng = np.random.default_rng(5)
    mu = np.concatenate([[0.0, 1e-300, 1e-9], rng.exponential(2.0, 5000) * (rng.random(5000) < 0.5)])
    for k in (0, 1, 3, 12, 80):
        np.testing.assert_array_equal(pool._poisson_pmf(k, mu), stats.poisson.pmf(k, mu))
        np.testing.assert_array_equal(pool._poisson_cdf(k, mu), stats.poisson.cdf(k, mu))


def test_eviction_tables_are_shared_and_read_only():
    ka = keep_alive(None)
    steps = np.array([0, 2, 1])
    a, span = poolevict._evict_table(ka, steps, 0.0)
    b, _ = poolevict._evict_table(ka, np.array([2, 0]), 0.0)
    assert a is b and a.shape == (3, span) and not a.flags.writeable


def plain_latency_p(warm_p50, warm_p99, init_p50, init_p99, share, q):
    """The latency quantile of the warm/cold mix with the cold CDF evaluated on every grid point."""
    from lambda_workbook.coldstarts import init

    mu, sigma = init._lognormal(warm_p50, warm_p99, "warm")
    imu, isigma = init._lognormal(init_p50, init_p99, "INIT")
    inits = np.exp(imu + isigma * init._INIT_NODES)
    lo = math.exp(mu - 6 * sigma) if sigma else math.exp(mu) * 0.5
    x = np.geomspace(lo, math.exp(mu + 6 * sigma) + inits.max() * 1.5, 3000)
    mix = (1 - share) * init._lognormal_cdf(x, mu, sigma) + share * init._cold_cdf(x, inits, mu, sigma)
    return float(np.interp(q, np.maximum.accumulate(mix), x))


def test_latency_quantiles_equal_the_whole_grid_computation():
    from lambda_workbook.coldstarts import init

    rng = np.random.default_rng(7)
    for _ in range(200):
        p50, i50 = float(np.exp(rng.uniform(0, 9))), float(np.exp(rng.uniform(2, 9)))
        p99 = p50 * float(rng.choice([1.0, np.exp(rng.uniform(0, 3))]))
        i99 = i50 * float(rng.choice([1.0, np.exp(rng.uniform(0, 2))]))
        share = float(rng.choice([1.0, 1e-6, rng.uniform(0, 1), rng.uniform(0, 0.02)]))
        got = init.latency_quantiles(p50, p99, i50, i99, share, quantiles=(0.5, 0.9, 0.99))
        for q, key in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            assert got[key] == plain_latency_p(p50, p99, i50, i99, share, q)


def test_distinct_rows_are_numpys_unique_rows():
    rng = np.random.default_rng(9)
    cols = [rng.integers(0, 4, 500).astype(float) * step for step in (1.0, 0.5, 3.0, 0.1)]
    distinct, inverse = poolevict._distinct_rows(*cols)
    want, want_inverse = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
    np.testing.assert_array_equal(distinct.T, want)
    np.testing.assert_array_equal(inverse, want_inverse.reshape(-1))
    assert len(want) < 500


def test_binary_log_survival_is_the_logarithm_sum():
    rng = np.random.default_rng(11)
    for n in (1, 7, 64, 1001):
        busy = (rng.random(n) < 0.6).astype(float)
        np.testing.assert_array_equal(poolterms.log_survival_binary(busy), poolterms.log_survival(busy))


@pytest.mark.parametrize("pc", [0.0, 1.0])
def test_both_models_at_once_give_each_models_count(pc):
    rng = np.random.default_rng(12)
    series = pd.Series(np.where(rng.random(3000) < 0.7, rng.poisson(6.0, 3000), 0).astype(float))
    both = pool.expected_cold_starts_by_model(series, 9000.0, provisioned=pc)
    for model in pool.MODELS:
        assert both[model] == pool.expected_cold_starts(series, 9000.0, model=model, provisioned=pc)
    assert both["poisson"] != both["peak"]
