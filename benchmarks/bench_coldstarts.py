"""Cold starts: the closed form against an event-level pool simulation, and against the REPORT-line counts of
the sample account. Prints figures side by side; ``make bench`` runs it.

1. Poisson traffic (14 days per case): expected cold starts from ``coldstarts.expected_cold_starts`` against
   ``coldstarts.simulate`` (mean of 3 seeds) with most-recently-used routing, and the ``peak`` model against a
   least-recently-used (spreading) simulation; time per call of each.
2. The sample account: cold starts counted in each function's REPORT lines against both routing models, and the
   calibration ``coldstarts.analyse`` makes.
3. Speed of the whole-account analysis and findings.
4. The idle window fitted to the 2025 keep-alive counts (Lin, Ma, Shahrad, "Demystifying Serverless Costs on
   Public Platforms", EuroSys '26, https://github.com/ubc-cirrus-lab/demystifying-serverless-costs): the fit
   per family with its goodness, and the counts against the new and the old default.
5. The pool against the same paper's 1-30 requests/s REPORT lines: what the measured pool did, the measured
   arrivals replayed through the model pool (MRU and LRU), a paced generator through it, and the per-minute
   models; cold starts per rate, model vs measured.
6. Pool sweeps: closed form vs simulation on on/off bursts, and the old default (2021 window, independent
   eviction) against the new (2025 window, sweeps) side by side, also on the sample account.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from lambda_workbook import coldstarts, keepalive, poolfit, sources
from lambda_workbook.validation import environments

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


def keep_alive_fit() -> None:
    counts = environments.keep_alive_counts()
    args = (counts["idle_s"], counts["cold"], counts["n_trials"])
    print(f"{len(counts)} idle gaps x {int(counts['n_trials'].iloc[0])} trials ({counts.attrs['dropped']} rows dropped); "
          "P(cold | gap g) = 1 - (1 - F(g)) (1 - g / 120 min)")
    for family in keepalive.FAMILIES:
        fit = keepalive.fit_idle_window(*args, family=family)
        lo, hi = fit.window
        print(f"  {family:8s}: {', '.join(f'{k} {v:.3f}' for k, v in fit.params.items())} (window {lo * 60:.0f}-"
              f"{hi * 60:.0f} s); log-lik {fit.loglik:.1f}, deviance {fit.deviance:.1f} on {fit.df} df, p = {fit.p_value:.2f}")
    est, low, high = keepalive.recycle_interval(*args)
    print(f"  the cold starts at short gaps read as forced recycling: mean lifetime {est:.0f} min "
          f"(95% profile interval {low:.0f}-{high:.0f} min); the default keeps Xebia's ~120 min")
    new, old = coldstarts.keep_alive("measured-2025"), coldstarts.keep_alive("measured-2021")
    table = counts.assign(**{"cold %": counts["cold"] / counts["n_trials"] * 100,
                             "2025 fit %": new.p_cold(counts["idle_s"] / 60) * 100,
                             "2021 default %": old.p_cold(counts["idle_s"] / 60) * 100})
    print(table[["idle_s", "n_trials", "cold", "cold %", "2025 fit %", "2021 default %"]].round(1).to_string(index=False))
    print(f"  log-likelihood of the counts: 2025 default {keepalive.counts_loglik(new, *args):.1f}, "
          f"2021 default {keepalive.counts_loglik(old, *args):.1f}")


def _per_minute(arr: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    minute = ((arr["start_ms"] - arr["start_ms"].min()) // 60000).astype(int)
    series = arr.groupby(minute).size().astype(float)
    series = series.reindex(range(int(series.index.max()) + 1), fill_value=0.0)
    owner = arr.groupby(minute)["target_rps"].agg(lambda x: x.value_counts().idxmax())
    return series, owner


def pool_vs_reports() -> None:
    lines = environments.concurrency_reports()
    win = poolfit.windows(lines).set_index("rate_per_s")
    mru = poolfit.replay(lines, routing="mru", reuse_ms=4.0).set_index("rate_per_s")
    lru = poolfit.replay(lines, routing="lru", reuse_ms=4.0).set_index("rate_per_s")
    arr = poolfit.arrivals(lines)
    durations = {float(r): g.loc[~g["cold_start"], "duration_ms"].to_numpy() for r, g in arr.groupby("target_rps")}
    init = float(arr.loc[arr["cold_start"], "init_ms"].median())
    paced, t_paced = _timed(lambda: poolfit.paced(list(win.index), durations, jitter_ms=2.0, reuse_ms=4.0,
                                                  create_ms=100.0, init_ms=init, draws=200))
    paced = paced.set_index("rate_per_s")
    measured_envs = win["environments"]
    out = pd.DataFrame({
        "measured cold": win["cold_starts"], "envs": measured_envs, "peak conc.": win["peak_concurrency"],
        "load": win["load"].round(2), "imbalance": win["imbalance"].round(1),
        "replay MRU cold": mru["cold_starts"], "MRU imbal.": mru["imbalance"].round(1),
        "LRU imbal.": lru["imbalance"].round(1), "paced model cold": paced["cold_starts"].round(2),
        "P(>=1)": paced["p_any"].round(2), "paced envs": paced["environments"].round(2)})
    out["paced/measured"] = np.where(out["measured cold"] > 0, paced["cold_starts"] / out["measured cold"].clip(lower=1),
                                     np.nan).round(2)
    out["envs model/measured"] = (paced["environments"] / measured_envs).round(2)
    print(f"{len(lines)} REPORT lines ({lines.attrs['dropped']} dropped); one environment warm before the first "
          "window; the pool carries over the ~16-s gaps")
    print(out.reset_index().to_string(index=False))
    per_rate = out["measured cold"]
    zero = per_rate == 0
    ok = np.where(zero, paced["cold_starts"] < 0.25, (paced["cold_starts"] / per_rate.clip(lower=1)).between(0.75, 1.25))
    print(f"paced model within +-25% of the measured cold starts (0 measured: < 0.25 expected): {int(ok.sum())} of "
          f"{len(ok)} rates; environments within +-25% at {int(out['envs model/measured'].between(0.75, 1.25).sum())} "
          f"of {len(out)} ({t_paced:.0f} s for 200 draws)")
    lik = poolfit.count_loglik(paced.attrs["draws"], win["cold_starts"])
    print(f"  product over the windows of P(model count = measured count): {math.exp(lik):.2f}")
    fit = poolfit.fit_start_up(lines, grid=(0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0))
    print("  start-up before INIT (not in REPORT lines), maximum likelihood over a grid: "
          + "; ".join(f"{r.create_ms:g} ms: log-lik {r.loglik:.2f}, {r.environments:.2f} environments at the end"
                      for r in fit.sort_values("create_ms").itertuples()))
    series, owner = _per_minute(arr)
    d = float(arr["duration_ms"].mean())
    init += 100.0
    models = {
        "closed poisson (2025)": lambda: coldstarts.cold_start_profile(series, d)["cold_starts"].to_numpy(),
        "closed peak (2025)": lambda: coldstarts.cold_start_profile(series, d, model="peak")["cold_starts"].to_numpy(),
        "sim poisson MRU": lambda: np.mean([coldstarts.simulate(series, d, init_ms=init, seed=s).cold_starts
                                            for s in range(20)], axis=0),
        "sim paced MRU": lambda: np.mean([coldstarts.simulate(series, d + 4.0, init_ms=init, seed=s, arrivals="paced",
                                                              jitter_ms=2.0).cold_starts for s in range(20)], axis=0)}
    per = pd.DataFrame({name: pd.Series(fn(), index=series.index).groupby(owner).sum() for name, fn in models.items()})
    per["measured envs"] = win["cold_starts"] + (win.index == win.index.min())
    print("per-minute counts of the same run through the workbook's models (environments started per rate window; "
          "the measured column counts the environment warm before the run as the first):")
    print(per.round(2).reset_index().to_string(index=False))
    print("  totals: " + ", ".join(f"{k} {v:.1f}" for k, v in per.sum().items()))


BURSTS = [(300.0, 5, 8, 2000.0), (600.0, 5, 8, 1000.0), (1200.0, 2, 10, 2000.0), (300.0, 10, 15, 3000.0),
          (3000.0, 1, 7, 200.0)]


def sweeps_and_defaults() -> pd.DataFrame:
    rows = []
    alone = coldstarts.keep_alive("measured-2025", sweep=None)
    for i, (peak, on, off, d) in enumerate(BURSTS):
        t = np.arange(3 * 1440)
        counts = pd.Series(np.random.default_rng(200 + i).poisson(np.where(t % (on + off) < on, peak, 0.0)).astype(float))
        row = {"bursts": f"{peak:g}/min {on} on {off} off, {d:g} ms", "invocations": int(counts.sum())}
        for label, ka in (("2021", "measured-2021"), ("2025 indep.", alone), ("2025 sweeps", None)):
            closed = coldstarts.expected_cold_starts(counts, d, keep_alive_min=ka)
            sim = np.mean([coldstarts.simulate(counts, d, keep_alive_min=ka, seed=s).total for s in range(2)])
            row.update({f"{label} closed": round(closed, 1), f"{label} sim": round(sim, 1),
                        f"{label} c/s": round(closed / sim, 3)})
        rows.append(row)
    return pd.DataFrame(rows)


def sample_old_vs_new() -> pd.DataFrame:
    snap = sources.sample()
    tables = {name: coldstarts.analyse(snap, keep_alive_min=name) for name in ("measured-2021", "measured-2025")}
    rows = []
    for name, table in tables.items():
        ok = table[table["observed_cold_starts"] >= 50]
        for model in coldstarts.MODELS:
            ratio = ok[f"modelled_{model}"] / ok["observed_cold_starts"]
            rows.append({"keep-alive": name, "model": model, "median |log|": round(float(np.median(np.abs(np.log(ratio)))), 3),
                         "within 25%": f"{ratio.between(0.8, 1.25).mean():.0%}",
                         "range": f"{ratio.min():.2f}-{ratio.max():.2f}", "picked": table.attrs["model"],
                         "findings": ", ".join(f"{r.id}:{r.function_name}" for r in coldstarts.findings(snap, table=table)
                                               .itertuples()) if model == "poisson" else ""})
    return pd.DataFrame(rows)


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
          + ", ".join(f"{r.id}:{r.function_name}" for r in found.itertuples()))
    print()
    print("== 4. the idle window fitted to the 2025 keep-alive counts")
    keep_alive_fit()
    print()
    print("== 5. the pool against the 2025 concurrency REPORT lines (1,769 MB, ~155 ms, 1-30 requests/s, ~2 min each)")
    pool_vs_reports()
    print()
    print("== 6. pool sweeps, and the old default (2021 window, independent) vs the new (2025 window, sweeps)")
    print("on/off bursts, 3 days each; closed form vs simulation (mean of 2 seeds):")
    print(sweeps_and_defaults().to_string(index=False))
    print("the sample account (functions with >= 50 observed cold starts):")
    print(sample_old_vs_new().to_string(index=False))


if __name__ == "__main__":
    main()
