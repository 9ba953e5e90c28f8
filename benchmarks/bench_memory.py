"""Benchmark the memory model on every real measurement set it was not fitted on.

Usage: ``.venv/bin/python benchmarks/bench_memory.py [--quick] [--no-lofo] [--write-priors]``

Data: the memory-curve sets in ``data/measurements`` (``lambda_workbook.validation.datasets.curves``): one
CPU-bound handler at 195 sizes, CPU/light/memory-heavy handlers on six runtimes, 500 sequential S3 PUTs, Power
Tuning runs of image and ML steps, Node.js micro-benchmarks on both architectures, integer factorisation on four
runtimes, and the first boto3 client creation.

1. **Leave one data set out**: the prior weights are fitted on every *other* set, then each curve of the held-out
   set is fitted on 1, 2 or 3 of its sizes (``lambda_workbook.validation.holdout``) and every other measured size
   is predicted. Per set: MAPE, median APE, how often the 90% band holds the measured mean; 1 size also with the
   CPU time Lambda Insights would report (simulated from all of the curve's sizes, 10% noise).
2. **Leave one function out**: the same with priors fitted on every other curve, the same set included.
3. **Baselines in the same run**: a naive least-squares curve (1 size: duration proportional to 1/memory up to
   one vCPU; 2 sizes: ``a + b / min(m, 1769)`` through both points; 3 sizes: ``a + b / min(m, 1769)**c`` by
   relative least squares — Parrotfish's ``a0 + a1 exp(-m/a2)`` was tried and explodes below its fitted sizes),
   and the *noise floor*: each size predicted from all the curve's other sizes (what no curve model beats).
4. **Cost regret** of the cheapest size the fits pick among the curve's measured sizes, priced at the measured
   means (request fee and 1-ms rounding included).

``--write-priors`` fits the priors on every set and writes ``data/memory/duration-priors.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

from lambda_workbook import billing, prices
from lambda_workbook.memory import curve, priors
from lambda_workbook.memory.model import fit
from lambda_workbook.validation import datasets, holdout

GOALS = {1: None, 2: 8.0, 3: 5.0, "cpu": 20.0, "coverage": (85.0, 95.0)}
FLOORS = {"phi": 0.3, "tau": 0.1, "p": 0.1}   # the prior keeps this much of its weight uniform (see priors.fit)
SOURCES = {
    "cebert-2025": "cebert, aws-lambda-performance-benchmarks, https://github.com/cebert/aws-lambda-performance-benchmarks",
    "demystifying-costs-2025": "Lin, Ma, Shahrad, Demystifying Serverless Costs on Public Platforms (EuroSys '26), "
                               "https://github.com/ubc-cirrus-lab/demystifying-serverless-costs",
    "s3-put-io-2023": "Wilding, lambda-benchmark, https://github.com/mbwilding/lambda-benchmark",
    "powertuning-unfaasener-2022": "UBC CIRRUS lab, UnFaaSener Power Tuning runs, https://github.com/ubc-cirrus-lab/unfaasener",
    "arm-vs-x86-node-2023": "tfso, x86-arm64-lambda-perfomance, https://github.com/tfso/x86-arm64-lambda-perfomance",
    "faasdom-2020": "Maissen et al., FaaSdom (DEBS 2020), https://github.com/faas-benchmarking/faasdom",
    "boto3-init-2021": "Borgmeier, How boto3 impacts the cold start times of your Lambda functions, "
                       "https://github.com/MauriceBrg/aws-blog.de-projects",
}


def fit_priors(ev: list[priors.CurveEvidence], **kw) -> priors.Priors:
    return priors.fit(ev, floors=FLOORS, **kw)


# --------------------------------------------------------------------------------------------------------
# baselines


def naive_predict(m_fit: np.ndarray, y_fit: np.ndarray, m: np.ndarray) -> np.ndarray:
    from scipy.optimize import curve_fit

    x = 1.0 / np.minimum(m_fit, curve.VCPU_MB)
    xs = 1.0 / np.minimum(m, curve.VCPU_MB)
    if m_fit.size == 1:
        return y_fit[0] * xs / x[0]
    if m_fit.size == 2:
        b = (y_fit[0] - y_fit[1]) / (x[0] - x[1])
        a = y_fit[0] - b * x[0]
        return np.maximum(a + b * xs, 1e-3)

    def power(mm, a, b, c):
        return a + b * np.minimum(mm, curve.VCPU_MB) ** -c

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, _ = curve_fit(power, m_fit, y_fit, p0=(y_fit.min() * 0.5, y_fit.max() * m_fit.min(), 1.0), maxfev=5000,
                             bounds=([0.0, 0.0, 0.2], [np.inf, np.inf, 3.0]), sigma=y_fit)
        return np.maximum(power(m, *p), 1e-3)
    except (RuntimeError, ValueError):
        return naive_predict(m_fit[[0, -1]], y_fit[[0, -1]], m)


def naive_rows(c: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dset, name), g in c.groupby(["dataset", "curve"]):
        a = holdout.curve_arrays(g)
        for k in (1, 2, 3):
            for fidx in holdout.fit_sets(a["m"], k):
                rest = holdout.targets(a["m"].size, fidx, 30)
                if rest:
                    pred = naive_predict(a["m"][fidx], a["y"][fidx], a["m"][rest])
                    for j, i in enumerate(rest):
                        rows.append({"dataset": dset, "curve": name, "k": k, "ape": abs(pred[j] - a["y"][i]) / a["y"][i],
                                     "covered": False})
    return pd.DataFrame(rows)


def noise_floor(c: pd.DataFrame, prior_for) -> pd.DataFrame:
    rows = []
    for (dset, name), g in c.groupby(["dataset", "curve"]):
        a = holdout.curve_arrays(g)
        if a["m"].size < 3:
            continue
        pick = np.unique(np.linspace(0, a["m"].size - 1, min(12, a["m"].size)).round().astype(int))
        for i in pick:
            f = [j for j in range(a["m"].size) if j != i]
            model = fit(a["m"][f], a["y"][f], counts=a["n"][f], cv=holdout._cv(a["cv"][f]), arch=a["arch"],
                        prior=prior_for(dset, name))
            p = float(model.predict(a["m"][[i]])[0])
            rows.append({"dataset": dset, "curve": name, "k": "all others", "ape": abs(p - a["y"][i]) / a["y"][i],
                         "covered": False})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------
# regret


def regret_rows(c: pd.DataFrame, prior_for) -> pd.DataFrame:
    book = prices.load("us-east-1")
    rows = []
    for (dset, name), g in c.groupby(["dataset", "curve"]):
        a = holdout.curve_arrays(g)
        if a["m"].size < 3:
            continue

        def cost(ms, mm, arch=a["arch"]):
            return billing.cost_from_totals(np.ones(mm.size), np.asarray(ms) + 0.5, mm, arch, book=book)

        true = cost(a["y"], a["m"])
        for k in (1, 2, 3):
            for fidx in holdout.fit_sets(a["m"], k):
                model = fit(a["m"][fidx], a["y"][fidx], counts=a["n"][fidx], cv=holdout._cv(a["cv"][fidx]),
                            arch=a["arch"], prior=prior_for(dset, name))
                pick = int(np.argmin(cost(model.predict(a["m"]), a["m"])))
                rows.append({"dataset": dset, "curve": name, "k": k, "regret": true[pick] / true.min() - 1})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------


def table(res: pd.DataFrame, label: str) -> pd.DataFrame:
    s = holdout.scores(res)
    out = s[["mape_pct", "coverage_pct"]].unstack("k")
    out.columns = [f"{label} {a.split('_')[0]} k={k}" for a, k in out.columns]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="every fourth curve per set, no LOFO (a smoke run)")
    ap.add_argument("--no-lofo", action="store_true", help="skip leave-one-function-out")
    ap.add_argument("--write-priors", action="store_true", help="write data/memory/duration-priors.json")
    ap.add_argument("--priors-only", action="store_true", help="with --write-priors: write them and stop")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 40)
    t0 = time.perf_counter()
    c = datasets.curves()
    if args.quick:
        keep = c.groupby("dataset")["curve"].unique().map(lambda v: set(v[::4]))
        c = c[[cv in keep[d] for d, cv in zip(c["dataset"], c["curve"], strict=True)]]
    print(f"{c['curve'].nunique()} curves in {c['dataset'].nunique()} sets; dropped: {c.attrs.get('dropped') or 'none'}")
    ev = priors.evidence(c)
    sets = sorted(c["dataset"].unique())

    if args.write_priors:
        pr = fit_priors(ev)
        pr.arm_ratio, pr.arm_log_sd, pairs = priors.arm_ratio(c)
        pr.sources = {d: SOURCES.get(d, "") for d in pr.fitted_on}
        pr.notes = [f"fitted {dt.date.today().isoformat()} by benchmarks/bench_memory.py --write-priors on "
                    f"{c['curve'].nunique()} curves, every set weighing the same; {FLOORS} of each axis kept uniform",
                    f"arm64/x86_64 duration ratio from {pairs} size pairs measured on both architectures at <= 1,024 MB"]
        out = priors.path()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(pr.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
        if args.priors_only:
            return 0

    lodo = {d: fit_priors([e for e in ev if e.dataset != d]) for d in sets}
    print(f"priors fitted without each set ({time.perf_counter() - t0:.0f} s)")
    res = holdout.run(c, lambda d, n: lodo[d])
    cpu = holdout.run(c, lambda d, n: lodo[d], with_cpu=True)
    base = naive_rows(c)
    floor = noise_floor(c, lambda d, n: lodo[d])
    print(f"\n1. Leave one data set out: unseen sizes ({time.perf_counter() - t0:.0f} s)")
    t = table(res, "model").join(table(cpu.assign(k="1+cpu"), "model")).join(table(base, "naive")[
        [f"naive mape k={k}" for k in (1, 2, 3)]])
    fl = holdout.scores(floor, by=("dataset",))["mape_pct"].rename("floor mape")
    t = t.join(fl)
    print(t.round(1).to_string())
    worst = {k: t[f"model mape k={k}"].max() for k in (1, 2, 3, "1+cpu")}
    cov = t[[col for col in t.columns if col.startswith("model coverage")]]
    print("worst set: " + ", ".join(f"k={k} MAPE {v:.1f}%" for k, v in worst.items())
          + f"; band coverage {cov.min().min():.0f}-{cov.max().max():.0f}%")

    if not (args.quick or args.no_lofo):
        allp = fit_priors(ev)
        by_fn = {}
        for e in ev:
            fn = c.loc[(c["dataset"] == e.dataset) & (c["curve"] == e.curve), "function"].iloc[0]
            by_fn.setdefault((e.dataset, fn), []).append(e.curve)
        lofo = {}
        for (dset, _fn), names in by_fn.items():
            rest = [e for e in ev if not (e.dataset == dset and e.curve in names)]
            pr = priors.fit(rest, floors=FLOORS, start=allp, iterations=8)
            for n in names:
                lofo[(dset, n)] = pr
        res2 = holdout.run(c, lambda d, n: lofo[(d, n)])
        print(f"\n2. Leave one function out ({time.perf_counter() - t0:.0f} s)")
        print(table(res2, "model").round(1).to_string())

    reg = regret_rows(c, lambda d, n: lodo[d])
    print(f"\n3. Cost regret of the cheapest measured size picked from 1-3 sizes (leave one set out, "
          f"{time.perf_counter() - t0:.0f} s)")
    r = reg.groupby(["dataset", "k"])["regret"].agg(mean=lambda x: x.mean() * 100, median=lambda x: x.median() * 100,
                                                   within_2pct=lambda x: (x <= 0.02).mean() * 100)
    print(r.unstack("k").round(1).to_string())

    print("\nGoals (worst data set, leave one set out)")
    for k in (2, 3):
        print(f"  {k} sizes: MAPE {worst[k]:.1f}% (goal <= {GOALS[k]:g}%) {'met' if worst[k] <= GOALS[k] else 'NOT met'}")
    print(f"  1 size with CPU time: MAPE {worst['1+cpu']:.1f}% (goal <= {GOALS['cpu']:g}%) "
          f"{'met' if worst['1+cpu'] <= GOALS['cpu'] else 'NOT met'}")
    lo, hi = GOALS["coverage"]
    inside = ((cov >= lo) & (cov <= hi)).to_numpy().mean() * 100
    print(f"  90% bands covering {lo:g}-{hi:g}%: {inside:.0f}% of (set, sizes) cells; range "
          f"{cov.min().min():.0f}-{cov.max().max():.0f}%")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
