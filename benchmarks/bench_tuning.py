"""Benchmark the adaptive memory tuner against AWS Lambda Power Tuning on replays of real invocations.

Usage: ``.venv/bin/python benchmarks/bench_tuning.py [--runs N] [--quick] [--sets A,B] [--csv PATH] [--param NAME=VALUE]``

Data: the per-invocation sets of ``lambda_workbook.validation.datasets.invocations()`` (each set's NOTE.md in
``data/measurements/`` names its public source): s3-put-io-2023 (I/O-bound S3 PUTs, 16 sizes, ~10 invocations
each, 4 runtimes × 2 architectures), arm-vs-x86-node-2023 (3 Node.js handlers × 2 architectures, 3 sizes × 100
warm), faasdom-2020 (integer factorisation on 4 runtimes, 5 sizes × 100, handler-timed, billed = ceil(ms)) and
demystifying-costs-2025 (one CPU-bound handler, a 2% sample: ~100 warm invocations at each of 195 sizes).

A *replay* is one curve (code × runtime × architecture) with one list of memory options. Each simulated
invocation draws one measured invocation of that size at random (``tuning.replayed_function``: the rows are
resampled, no distribution is fitted); the first at each size is a cold start, as on a freshly published
version. Option lists: Power Tuning's default powerValues (128, 256, 512, 1024, 1536, 3008) mapped to the
nearest measured sizes, and, where more than 8 sizes were measured, a dense list of 8 log-spaced measured sizes.

The truth at each size is the cost per invocation (request fee included, ``billing.cost_from_totals``) of the
mean billed duration of *all* measured invocations there; a run is a hit when its pick costs at most 2% more
than the truly cheapest option of its list. In the same run and on the same replays (own random streams):

* the adaptive tuner, ``tuning.tune(strategy="cost")`` with its defaults;
* Power Tuning's method: ``num = 10`` invocations per size, the top and bottom 20% of billed durations
  discarded, the size with the lowest average cost (request fee included) wins.

Printed per data set (the worst one matters) and overall: invocations, hit rate, mean regret; the worst curve;
and a calibration table of the tuner's claimed confidence against the observed hit rate.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from lambda_workbook import billing, tuning
from lambda_workbook.tuning import candidates, sampling, stopping
from lambda_workbook.validation import datasets

SETS = ("s3-put-io-2023", "arm-vs-x86-node-2023", "faasdom-2020", "demystifying-costs-2025")
POWER_VALUES = (128, 256, 512, 1024, 1536, 3008)
GOALS = {"hit_rate": 0.95, "median_invocations": 20, "ratio": 3.0}


def nearest(sizes: np.ndarray, targets, *, unique: bool = False) -> list[float]:
    """Each target mapped to the nearest measured size (``unique``: the nearest one not yet used)."""
    out: list[float] = []
    for t in targets:
        order = sorted(sizes, key=lambda s: (abs(np.log(s / t)), s))
        pick = next((s for s in order if s not in out), None) if unique else order[0]
        if pick is not None and pick not in out:
            out.append(float(pick))
    return sorted(out)


def option_lists(sizes: np.ndarray) -> dict[str, list[float]]:
    lists = {"powertuning": nearest(sizes, POWER_VALUES)}
    if len(sizes) > 8:
        lists["dense8"] = nearest(sizes, np.geomspace(sizes.min(), sizes.max(), 8), unique=True)
    return lists


def replays() -> list[dict]:
    inv = datasets.invocations()
    out = []
    for (ds, curve), g in inv[inv["dataset"].isin(SETS)].groupby(["dataset", "curve"], sort=False):
        g = g.assign(billed=g["billed_duration_ms"].fillna(np.ceil(g["duration_ms"])))
        arch = g["arch"].iloc[0]
        sizes = np.sort(g["memory_mb"].unique())
        for name, opts in option_lists(sizes).items():
            mean = g.groupby("memory_mb")["billed"].mean().reindex(opts).to_numpy()
            true = billing.cost_from_totals(np.ones(len(opts)), mean, np.array(opts), arch)
            out.append({"dataset": ds, "curve": curve, "list": name, "arch": arch, "runtime": g["runtime"].iloc[0],
                        "options": opts, "true_cost": true, "rows": g[g["memory_mb"].isin(opts)]})
    return out


def power_tuning(invoke, options, arch: str, num: int = 10, discard: float = 0.2) -> tuple[float, int]:
    """Power Tuning's method: ``num`` invocations per size, trimmed mean billed duration, lowest average cost."""
    cut = int(num * discard)
    costs = []
    for m in options:
        billed = np.sort([float(invoke(m)["billed_duration_ms"]) for _ in range(num)])
        costs.append(float(billing.cost_from_totals(1.0, billed[cut:num - cut].mean(), m, arch)))
    return float(options[int(np.argmin(costs))]), num * len(options)


def run(rep: list[dict], runs_per_set: int, min_seeds: int) -> pd.DataFrame:
    rows = []
    per_set = pd.Series([r["dataset"] for r in rep]).value_counts()
    for r in rep:
        seeds = max(min_seeds, int(np.ceil(runs_per_set / per_set[r["dataset"]])))
        runtime = r["runtime"] if isinstance(r["runtime"], str) and r["runtime"] else None
        regret = dict(zip(r["options"], r["true_cost"] / r["true_cost"].min() - 1, strict=True))
        for seed in range(seeds):
            res = tuning.tune(tuning.replayed_function(r["rows"], seed=1000 + seed), r["options"], strategy="cost",
                              arch=r["arch"], runtime=runtime, seed=seed)
            pt_pick, pt_n = power_tuning(tuning.replayed_function(r["rows"], seed=5000 + seed), r["options"], r["arch"])
            rows.append({"dataset": r["dataset"], "curve": r["curve"], "list": r["list"], "options": len(r["options"]),
                         "seed": seed, "tuner_invocations": res.invocations, "tuner_regret": regret[res.memory_mb],
                         "claimed": res.confidence, "converged": res.converged,
                         "pt_invocations": pt_n, "pt_regret": regret[pt_pick]})
    t = pd.DataFrame(rows)
    # weights: every replay alike, or every data set alike (whatever the number of runs behind each)
    t["w_replay"] = 1.0 / t.groupby(["curve", "list", "dataset"])["seed"].transform("size")
    t["w_set"] = 1.0 / t.groupby("dataset")["seed"].transform("size")
    return t


def _median(x: pd.Series, w: pd.Series) -> float:
    order = np.argsort(x.to_numpy(), kind="stable")
    cw = np.cumsum(w.to_numpy()[order])
    return float(x.to_numpy()[order][np.searchsorted(cw, cw[-1] / 2)])


def summarise(t: pd.DataFrame, w: pd.Series) -> dict:
    def mean(col):
        return float(np.average(col, weights=w))

    hit, pt_hit = t["tuner_regret"] <= 0.02, t["pt_regret"] <= 0.02
    return {"runs": len(t), "med_inv": _median(t["tuner_invocations"], w), "mean_inv": mean(t["tuner_invocations"]),
            "hit": mean(hit), "regret": mean(t["tuner_regret"]), "pt_med_inv": _median(t["pt_invocations"], w),
            "pt_mean_inv": mean(t["pt_invocations"]), "pt_hit": mean(pt_hit), "pt_regret": mean(t["pt_regret"]),
            "converged": mean(t["converged"])}


def report(t: pd.DataFrame) -> dict:
    print(f"{'':27} {'runs':>5} | {'tuner: median':>13} {'mean inv.':>9} {'<= 2%':>7} {'regret':>7} | "
          f"{'Power Tuning: inv.':>18} {'<= 2%':>7} {'regret':>7} | {'fewer: mean':>11} {'median':>6}  "
          "worst replay: tuner / PT <= 2%")
    per = {}
    rows = [(ds, t[t["dataset"] == ds], "w_replay") for ds in SETS]
    rows += [("overall, replays alike", t, "w_replay"), ("overall, data sets alike", t, "w_set")]
    for name, part, wcol in rows:
        if part.empty:
            continue
        s = per[name] = summarise(part, part[wcol])
        by = part.assign(hit=part["tuner_regret"] <= 0.02, pt_hit=part["pt_regret"] <= 0.02).groupby(
            ["curve", "list"])[["hit", "pt_hit"]].mean()
        worst = by["hit"].idxmin()
        print(f"{name:27} {s['runs']:>5} | {s['med_inv']:>13.0f} {s['mean_inv']:>9.1f} {s['hit']:>7.1%} "
              f"{s['regret']:>7.2%} | {s['pt_mean_inv']:>18.0f} {s['pt_hit']:>7.1%} {s['pt_regret']:>7.2%} | "
              f"{s['pt_mean_inv'] / s['mean_inv']:>10.1f}× {s['pt_med_inv'] / s['med_inv']:>5.1f}×  {'/'.join(worst)} "
              f"{by.loc[worst, 'hit']:.0%} / {by.loc[worst, 'pt_hit']:.0%}")
    return per


def calibration(t: pd.DataFrame) -> None:
    bins = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0001]
    c = t.assign(bin=pd.cut(t["claimed"], bins, right=False), hit=t["tuner_regret"] <= 0.02)
    g = c.groupby("bin", observed=True).agg(runs=("hit", "size"), claimed=("claimed", "mean"), hit=("hit", "mean"))
    print(f"{'claimed confidence':>20} {'runs':>6} {'mean claimed':>13} {'observed <= 2%':>15}")
    for b, row in g.iterrows():
        print(f"{f'[{b.left:.2f}, {min(b.right, 1):.2f})':>20} {row['runs']:>6} {row['claimed']:>13.1%} {row['hit']:>15.1%}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300, help="replayed tuning runs per data set, spread evenly over "
                    "its replays, at least --seeds per replay (default 300)")
    ap.add_argument("--seeds", type=int, default=30, help="at least this many runs per replay (default 30)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 30 runs per data set, 3 per replay")
    ap.add_argument("--csv", help="write every run's figures to this CSV")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated data sets (default: all four)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="override a tuner constant for a sensitivity run, e.g. PRIOR_CV=0.05 or CONFIDENCE=0.9")
    args = ap.parse_args(argv)
    for kv in args.param:
        name, _, value = kv.partition("=")
        mod = next((m for m in (stopping, sampling, candidates) if hasattr(m, name)), None)
        if mod is None or not value:
            ap.error(f"--param {kv!r}: NAME must be a constant of tuning.stopping, tuning.sampling or tuning.candidates")
        setattr(mod, name, type(getattr(mod, name))(value))
        print(f"override: {mod.__name__}.{name} = {getattr(mod, name)}")
    runs, seeds = (30, 3) if args.quick else (args.runs, args.seeds)
    rep = [r for r in replays() if r["dataset"] in args.sets.split(",")]
    print(f"{len(rep)} replays (curve × option list): " + ", ".join(
        f"{ds} {sum(r['dataset'] == ds for r in rep)}" for ds in SETS) + f"; at least {runs} runs per data set "
        f"and {seeds} per replay")
    t0 = time.perf_counter()
    t = run(rep, runs, seeds)
    print(f"({time.perf_counter() - t0:.0f} s)\n")
    per = report(t)
    print()
    calibration(t)
    if args.csv:
        t.to_csv(args.csv, index=False)
    worst = min(per[ds]["hit"] for ds in SETS if ds in per)
    print(f"\ngoals: >= {GOALS['hit_rate']:.0%} of runs within 2% (worst data set {worst:.1%}); median invocations "
          f"<= {GOALS['median_invocations']}; >= {GOALS['ratio']:.0f}x fewer invocations than Power Tuning num=10")
    for name in ("overall, replays alike", "overall, data sets alike"):
        if name in per:
            o = per[name]
            print(f"  {name}: {o['hit']:.1%} within 2% (Power Tuning {o['pt_hit']:.1%}), median {o['med_inv']:.0f} "
                  f"invocations, {o['pt_mean_inv'] / o['mean_inv']:.1f}x fewer (mean), "
                  f"{o['pt_med_inv'] / o['med_inv']:.1f}x (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
