"""Invocation sources: how good the batch-fill model is, and how fast the comparisons run.

1. Accuracy. ``triggers.batch_fill`` is a closed-form mean-field model of an event source mapping's batches. Here
   it is compared, side by side, with a discrete-event simulation of the same rules on Poisson arrivals: a batch
   opens with its first event and closes when it holds ``batch_size`` events or when the window has passed; a
   polled stream (Kinesis) hands over what arrived since the last poll. Printed: events per invocation and the
   mean added wait, model vs simulation, and the relative error of the monthly invocation count.
2. Speed. ``compare`` of one workload, a batching grid, ``findings`` over the sample account.

Run: ``.venv/bin/python benchmarks/bench_triggers.py``
"""

from __future__ import annotations

import time

import numpy as np

from lambda_workbook import sources, triggers


def simulate_window(lam: float, n: int, window: float, seconds: float, rng) -> tuple[float, float]:
    """Mean batch size and mean wait of a first-arrival-opens-the-window batcher (SQS-like, no polling gap)."""
    arrivals = np.cumsum(rng.exponential(1.0 / lam, int(lam * seconds * 1.1) + 10))
    arrivals = arrivals[arrivals < seconds]
    sizes, waits, i = [], [], 0
    while i < len(arrivals):
        t0 = arrivals[i]
        j = min(int(np.searchsorted(arrivals, t0 + window, side="right")), i + n)
        close = arrivals[j - 1] if j - i == n else t0 + window
        sizes.append(j - i)
        waits.append(float(np.sum(close - arrivals[i:j])))
        i = j
    return float(np.mean(sizes)), float(np.sum(waits) / len(arrivals))


def simulate_polled(lam: float, n: int, poll: float, seconds: float, rng) -> tuple[float, float]:
    """Mean batch size and mean wait of a stream polled every ``poll`` s with no window (Kinesis-like)."""
    arrivals = np.cumsum(rng.exponential(1.0 / lam, int(lam * seconds * 1.1) + 10))
    arrivals = arrivals[arrivals < seconds]
    polls = np.ceil(arrivals / poll) * poll
    counts = np.bincount((polls / poll).astype(int))
    counts = counts[counts > 0]
    batches = np.ceil(counts / n)
    return float(counts.sum() / batches.sum()), float(np.mean(polls - arrivals))


def accuracy() -> None:
    rng = np.random.default_rng(20261127)
    print("Batch fill: model (triggers.batch_fill) vs simulation of Poisson arrivals")
    print(f"{'case':<34}{'fill model':>11}{'fill sim':>10}{'wait model':>12}{'wait sim':>10}{'invocations err':>17}")
    cases = [("window", lam, n, w) for lam, n, w in [
        (0.2, 10, 1), (1, 10, 1), (5, 10, 1), (9, 10, 1), (25, 10, 1), (2, 100, 5), (15, 100, 5), (50, 100, 5),
        (0.75, 10, 2), (5, 25, 1)]] + [("poll", lam, n, 1.0) for lam, n in [(0.5, 100), (1, 100), (4, 100), (50, 100),
                                                                              (150, 100)]]
    errors = []
    for kind, lam, n, w in cases:
        seconds = max(20_000 / lam, 2_000)
        if kind == "window":
            fill_m, wait_max, wait_m = triggers.batch_fill(lam, n, w)
            fill_s, wait_s = simulate_window(lam, n, w, seconds, rng)
            label = f"window {w:g} s, batch {n}, {lam:g}/s"
        else:
            fill_m, wait_max, wait_m = triggers.batch_fill(lam, n, 0.0, poll_interval_s=w)
            fill_s, wait_s = simulate_polled(lam, n, w, seconds, rng)
            label = f"poll {w:g} s, batch {n}, {lam:g}/s"
        err = fill_s / fill_m - 1.0  # invocations = events / fill
        errors.append(abs(err))
        print(f"{label:<34}{fill_m:>11.3f}{fill_s:>10.3f}{wait_m:>12.3f}{wait_s:>10.3f}{err:>+16.1%}")
    print(f"invocation count error: median {np.median(errors):.1%}, max {np.max(errors):.1%} "
          "(positive = the model overstates invocations, i.e. understates batching savings)")


def speed() -> None:
    w = triggers.Workload(sync=False, batch_size=10, batch_window_s=2)
    triggers.compare(w)
    t0 = time.perf_counter()
    for _ in range(200):
        triggers.compare(w)
    per_compare = (time.perf_counter() - t0) / 200
    t0 = time.perf_counter()
    grid = triggers.batching(w, "kinesis")
    per_grid = time.perf_counter() - t0
    snap = sources.sample()
    t0 = time.perf_counter()
    found = triggers.findings(snap)
    per_findings = time.perf_counter() - t0
    print(f"\ncompare(): {per_compare * 1000:.2f} ms for {len(triggers.load_catalog().ids)} sources; "
          f"batching grid: {per_grid * 1000:.0f} ms for {len(grid)} settings; "
          f"findings() on the sample account ({len(snap.functions)} functions): {per_findings:.2f} s, "
          f"{len(found)} findings ({', '.join(found['function_name'])})")


if __name__ == "__main__":
    accuracy()
    speed()
