"""The batching grid priced as arrays (triggers.grid) gives, setting by setting, the numbers and texts of pricing
one setting at a time (triggers.pricing.evaluate), bit for bit, and batch fill without scipy.stats' checks gives
scipy's numbers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lambda_workbook import prices, triggers
from lambda_workbook.triggers import Workload, fill, grid, pricing

BOOK = prices.load("us-east-1")
COLUMNS = ["feasible", "reason", "batch_fill", "invocations", "batch_ms", "source_cost", "lambda_cost", "monthly_cost",
           "batch_wait_max_s", "batch_wait_mean_s", "concurrency", "notes", "unpriced", "lower_bound"]


def one_at_a_time(w: Workload, source: str, sizes, windows, producer: bool = True) -> pd.DataFrame:
    """The grid as batching() priced it before: pricing.evaluate once per setting."""
    cat = triggers.load_catalog()
    rows = []
    for n in sizes:
        for win in windows:
            r = pricing.evaluate(replace(w, sync=False, batch_size=n, batch_window_s=win), source, cat, BOOK, producer)
            rows.append({"batch_size": n, "window_s": win, **{k: r[k] for k in COLUMNS}})
    return pd.DataFrame(rows)


def workloads(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield Workload(
            events_per_month=float(rng.choice([0.0, 1.0, 10 ** rng.uniform(2, 11)])),
            payload_kb=float(rng.choice([0.5, 1.0, 2.0, 64.0, 200.0, 700.0, 10 ** rng.uniform(-2, 3)])),
            duration_ms=float(10 ** rng.uniform(-1, 4)), memory_mb=int(rng.choice([128, 512, 1769, 3008, 10240])),
            arch=str(rng.choice(["x86_64", "arm64"])), invocation_overhead_ms=float(rng.choice([0.0, 25.0])),
            failure_rate=float(rng.choice([0.0, 0.05])), peak_to_mean=float(rng.choice([1.0, 3.0])),
            partitions=None if rng.uniform() < 0.7 else int(rng.integers(1, 50)), free_tier=bool(rng.uniform() < 0.3))


@pytest.mark.parametrize("source", triggers.load_catalog().batching_ids())
def test_the_grid_prices_every_setting_as_one_evaluation_does(source):
    cat = triggers.load_catalog()
    b = cat.source(source)["batching"]
    sizes = [n for n in triggers.DEFAULT_BATCH_SIZES if n <= b["max_size"]]
    windows = [float(x) for x in triggers.DEFAULT_WINDOWS_S if x <= b["window_max_s"]]
    checked = 0
    for i, w in enumerate(workloads(len(source), 12)):
        producer = i % 3 != 0
        got = triggers.batching(w, source, producer=producer, book=BOOK)
        want = one_at_a_time(w, source, sizes, windows, producer)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_exact=True)
        checked += len(got)
    assert checked >= 12 * len(sizes) * len(windows)


def test_refused_settings_keep_their_reasons_and_notes():
    """Settings the API refuses (a size above the maximum, a window where none is allowed, a large batch without
    a window) carry the same reasons as one evaluation; so do payload caps and unknown prices."""
    cat = triggers.load_catalog()
    w = Workload(events_per_month=5e9, payload_kb=700.0, duration_ms=3000.0, sync=False, free_tier=True)
    reasons, notes = [], []
    for source in cat.batching_ids():
        sizes, windows = [1, 9, 10, 11, 500, 10_000], [0.0, 0.5, 1.0, 300.0]
        got = grid.evaluate_grid(w, source, np.repeat(sizes, len(windows)), np.tile(windows, len(sizes)), cat, BOOK)
        want = one_at_a_time(w, source, sizes, windows)
        for col in COLUMNS:
            assert list(got[col]) == list(want[col]), (source, col)
        reasons += list(want["reason"])
        notes += list(want["notes"])
    assert any("needs a batching window" in r for r in reasons)
    assert any("not supported for SQS FIFO" in r for r in reasons)
    assert any("payload cap" in n for n in notes) and any("not priced" in n for n in notes)


def test_batch_fill_sums_are_scipys():
    rng = np.random.default_rng(7)
    for mu in np.concatenate([rng.uniform(0.0, 5.0, 50), 10 ** rng.uniform(-6, 5, 150)]):
        lo, hi = fill._poisson_range(mu)
        k = np.arange(lo, hi + 40)
        np.testing.assert_array_equal(fill.poisson_sf(k, mu), stats.poisson.sf(k, mu))


def test_fill_grid_is_batch_fill_setting_by_setting():
    sizes = np.repeat([1, 2, 10, 100, 10_000], 6)
    windows = np.tile([0.0, 0.25, 1.0, 5.0, 60.0, 300.0], 5)
    for lam in (0.0, 1e-7, 0.3, 4.0, 250.0, 9e4):
        for poll in (0.0, 0.25, 1.0):
            for cap in (3, 10_000):
                got = grid.fill_grid(lam, sizes, windows, poll, cap)
                want = np.array([fill.batch_fill(lam, n, x, poll, cap) for n, x in zip(sizes, windows, strict=True)]).T
                for g, x in zip(got, want, strict=True):
                    np.testing.assert_array_equal(g, x)


def pick_with_pandas(grid: pd.DataFrame, bound: float, max_batch_ms: float | None) -> pd.Series | None:
    """best_batch's choice as filters and a sort on the table."""
    ok = grid[grid["feasible"] & (grid["batch_wait_max_s"] <= bound + 1e-9)]
    if max_batch_ms is not None:
        ok = ok[ok["batch_ms"] <= max_batch_ms]
    if ok.empty:
        return None
    cheapest = float(ok["monthly_cost"].min())
    near = ok[ok["monthly_cost"] <= cheapest + max(triggers.TIE_USD, triggers.TIE_SHARE * cheapest)]
    return near.sort_values(["batch_wait_max_s", "batch_size", "window_s", "monthly_cost"]).iloc[0]


@pytest.mark.parametrize("source", ["sqs", "kinesis", "dynamodb-streams"])
def test_best_batch_picks_what_the_table_sort_picks(source):
    picked = 0
    for w in workloads(100 + len(source), 10):
        grid_table = triggers.batching(w, source, book=BOOK)
        for bound, max_ms in ((0.0, None), (1.0, None), (1.0, 2000.0), (5.0, 30_000.0), (300.0, None)):
            want = pick_with_pandas(grid_table, bound, max_ms)
            got = triggers.best_batch(w, source, max_wait_s=bound, max_batch_ms=max_ms, book=BOOK, required=False)
            if want is None:
                assert got is None
                continue
            picked += 1
            assert got.name == source
            pd.testing.assert_series_equal(got, want.rename(source), check_exact=True)
    assert picked > 10
