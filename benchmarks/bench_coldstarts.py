"""Cold starts: the closed form against an event-level pool simulation, and against the REPORT-line counts of
the sample account. Prints figures side by side; ``make bench`` runs it.

1. Poisson traffic (14 days per case): expected cold starts from ``coldstarts.expected_cold_starts`` against
   ``coldstarts.simulate`` (mean of 3 seeds) with most-recently-used routing, and the ``peak`` model against a
   least-recently-used (spreading) simulation; time per call of each.
2. The sample account: cold starts counted in each function's REPORT lines against both routing models, and the
   calibration ``coldstarts.analyse`` makes.
3. Speed of the whole-account analysis and findings.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from lambda_workbook import coldstarts, sources

CASES = [  # (invocations per minute, duration ms, keep-alive)
    (0.1, 100.0, 10), (0.1, 100.0, None), (1.0, 100.0, None), (0.5, 1000.0, None), (5.0, 500.0, 10),
    (5.0, 500.0, None), (20.0, 100.0, None), (30.0, 2000.0, 10), (100.0, 300.0, None), (2.0, 20_000.0, None),
    (3.0, 60_000.0, None),
]
MINUTES = 14 * 1440


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def closed_form_vs_simulation() -> pd.DataFrame:
    rows = []
    for i, (rate, duration, keep) in enumerate(CASES):
        counts = pd.Series(np.random.default_rng(100 + i).poisson(rate, MINUTES).astype(float))
        mru, t_closed = _timed(lambda c=counts, d=duration, k=keep: coldstarts.expected_cold_starts(c, d, keep_alive_min=k))
        peak = coldstarts.expected_cold_starts(counts, duration, keep_alive_min=keep, model="peak")
        sims, t_sim = _timed(lambda c=counts, d=duration, k=keep: [
            coldstarts.simulate(c, d, keep_alive_min=k, seed=s).total for s in range(3)])
        lru = np.mean([coldstarts.simulate(counts, duration, keep_alive_min=keep, seed=s, routing="lru").total
                       for s in range(3)])
        rows.append({"calls/min": rate, "duration ms": duration, "keep-alive": keep or "default",
                     "invocations": int(counts.sum()), "closed (mru)": round(mru, 1), "sim mru": round(np.mean(sims), 1),
                     "sim sd": round(float(np.std(sims)), 1), "closed/sim": round(mru / np.mean(sims), 3),
                     "peak": round(peak, 1), "sim lru": round(lru, 1), "peak/lru": round(peak / lru, 3),
                     "cold share": f"{mru / counts.sum():.3%}", "closed s": round(t_closed, 3),
                     "sim s (1 run)": round(t_sim / 3, 3)})
    return pd.DataFrame(rows)


def sample_account() -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
    snap = sources.sample()
    table, t_analyse = _timed(lambda: coldstarts.analyse(snap))
    found, t_findings = _timed(lambda: coldstarts.findings(snap, table=table))
    view = table[["function_name", "invocations", "observed_cold_starts", "modelled_poisson", "modelled_peak"]].copy()
    view = view[view["observed_cold_starts"] > 0]
    for model in coldstarts.MODELS:
        view[f"{model}/observed"] = view[f"modelled_{model}"] / view["observed_cold_starts"]
    view = view.sort_values("observed_cold_starts", ascending=False)
    return view, found, t_analyse, t_findings, table.attrs


def main() -> None:
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 30)
    print("== 1. closed form vs event-level simulation, Poisson traffic, 14 days per case")
    grid = closed_form_vs_simulation()
    print(grid.to_string(index=False))
    short = grid[grid["duration ms"] <= 2000]
    print(f"closed/sim (MRU), durations <= 2 s: median {short['closed/sim'].median():.3f}, "
          f"range {short['closed/sim'].min():.3f}-{short['closed/sim'].max():.3f}; all cases: "
          f"{grid['closed/sim'].min():.3f}-{grid['closed/sim'].max():.3f}")
    print(f"fixed 10-min window at 0.1/min: closed {grid.iloc[0]['cold share']}, e^-1 = {math.exp(-1):.3%}")
    print(f"speed: closed form {grid['closed s'].median():.3f} s median per series, simulation "
          f"{grid['sim s (1 run)'].median():.3f} s median ({grid['sim s (1 run)'].max():.1f} s max)")
    print()
    print("== 2. the sample account: REPORT-line cold starts vs the model (default keep-alive)")
    view, found, t_analyse, t_findings, attrs = sample_account()
    print(view.round({"invocations": 0, "observed_cold_starts": 0, "modelled_poisson": 1, "modelled_peak": 1,
                      "poisson/observed": 2, "peak/observed": 2}).to_string(index=False))
    enough = view[view["observed_cold_starts"] >= 50]
    for model in coldstarts.MODELS:
        ratio = enough[f"{model}/observed"]
        err = np.median(np.abs(np.log(ratio)))
        print(f"{model:8s}: median |log(model/observed)| {err:.3f}; within +-25%: {(ratio.between(0.8, 1.25)).mean():.0%}"
              f" of {len(enough)} functions with >= 50 observed cold starts; range {ratio.min():.2f}-{ratio.max():.2f}")
    print(f"calibration picks: {attrs['model']} ({attrs['calibration']['note']})")
    print()
    print("== 3. speed on the sample account (29 functions, 14 days of per-minute metrics)")
    print(f"analyse {t_analyse:.1f} s, findings {t_findings:.1f} s; findings: "
          + ", ".join(f"{r.id}:{r.function}" for r in found.itertuples()))


if __name__ == "__main__":
    main()
