"""Hold-out checks of the memory model on real curves: which sizes to fit, which to predict, and the scores.

Used by ``benchmarks/bench_memory.py``. A *fit set* is 1, 2 or 3 of a curve's sizes picked from a ladder of
common sizes (128, 256, 512, 1,024, 1,536, 2,048, 3,008, 4,096, 10,240 MB, each matched to the nearest measured
size within 15%); pairs and triples must span at least a factor of two with the smallest below one vCPU (as when a
function ran at two sizes, or a tuner measured three). Every other measured size of the curve is predicted (at
most ``max_targets`` of them, evenly spread). Scores weigh every curve of a data set the same.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from ..memory import curve, priors
from ..memory.model import fit

LADDER_MB = (128, 256, 512, 1024, 1536, 2048, 3008, 4096, 10240)


def ladder(memory_mb: np.ndarray) -> list[int]:
    """Indexes of the sizes nearest the ladder (within 15%)."""
    out: list[int] = []
    for s in LADDER_MB:
        i = int(np.argmin(np.abs(np.log(memory_mb / s))))
        if abs(math.log(memory_mb[i] / s)) < 0.15 and i not in out:
            out.append(i)
    return sorted(out)


def fit_sets(memory_mb: np.ndarray, k: int) -> Iterator[list[int]]:
    for idx in itertools.combinations(ladder(memory_mb), k):
        s = memory_mb[list(idx)]
        if k >= 2 and not (s.min() < curve.VCPU_MB and s.max() >= 2 * s.min()):
            continue
        yield list(idx)


def targets(n: int, fitted: list[int], max_targets: int) -> list[int]:
    rest = [i for i in range(n) if i not in fitted]
    if len(rest) > max_targets:
        pick = sorted(set(np.linspace(0, len(rest) - 1, max_targets).round().astype(int).tolist()))
        rest = [rest[j] for j in pick]
    return rest


def curve_arrays(g: pd.DataFrame) -> dict:
    g = g.sort_values("memory_mb")
    return {"m": g["memory_mb"].to_numpy(float), "y": g["mean_ms"].to_numpy(float),
            "n": g["n"].to_numpy(float), "cv": g["cv"].to_numpy(float), "arch": str(g["arch"].iloc[0]),
            "runtime": str(g["runtime"].iloc[0]) or None}


def _cv(cv: np.ndarray) -> np.ndarray:
    """The spread behind a size's mean; 10% where a set does not publish it (as :func:`priors.standard_error`)."""
    return np.where(np.isfinite(cv) & (cv > 0), cv, 0.1)


def oracle_cpu_ms(c: dict, prior: priors.Priors) -> float:
    """CPU ms at one vCPU implied by *all* of a curve's sizes: what Lambda Insights' CPU time would show."""
    model = fit(c["m"], c["y"], counts=c["n"], cv=_cv(c["cv"]), arch=c["arch"], prior=prior)
    a = np.exp(model.log_scale) * curve.G_PHI[model.component]
    return float(np.average(a, weights=model.weights))


def predict_curve(c: dict, prior: priors.Priors, ks=(1, 2, 3), *, cpu: float | None = None,
                  max_targets: int = 30, seed: int = 0) -> list[dict]:
    """Fit every fit set of one curve and score the predictions at its other sizes."""
    rows = []
    rng = np.random.default_rng(seed)
    for k in ks:
        for fidx in fit_sets(c["m"], k):
            rest = targets(c["m"].size, fidx, max_targets)
            if not rest:
                continue
            cf = None
            if cpu is not None:  # Insights' CPU time / wall time at the fit size, with 10% noise
                cf = min(cpu / c["y"][fidx[0]] * math.exp(rng.normal(0, 0.1)), curve.MAX_VCPU)
            model = fit(c["m"][fidx], c["y"][fidx], counts=c["n"][fidx], cv=_cv(c["cv"][fidx]), arch=c["arch"],
                        prior=prior, cpu_fraction=cf)
            m = c["m"][rest]
            pred = model.predict(m)
            # a measured mean strays from the function's true mean by its own sampling error too
            se_t = priors.standard_error(c["n"][rest], c["cv"][rest])
            draws = model.samples(m) * np.exp(np.random.default_rng(seed + k)
                                              .normal(size=(2000, m.size)) * se_t[None, :])
            lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
            for j, i in enumerate(rest):
                y = c["y"][i]
                rows.append({"k": k, "fit": tuple(int(x) for x in c["m"][fidx]), "target": float(c["m"][i]),
                             "ape": abs(pred[j] - y) / y, "covered": bool(lo[j] <= y <= hi[j]),
                             "log_error": math.log(pred[j] / y)})
    return rows


def scores(rows: pd.DataFrame, by=("dataset", "k")) -> pd.DataFrame:
    """MAPE and band coverage, every curve of a data set weighing the same."""
    d = rows.copy()
    d["w"] = 1.0 / d.groupby(["dataset", "curve", "k"])["ape"].transform("size")
    d["w"] = d["w"] / d.groupby(["dataset", "k"])["curve"].transform("nunique")

    def agg(g: pd.DataFrame) -> pd.Series:
        w = g["w"] / g["w"].sum()
        return pd.Series({"mape_pct": float((g["ape"] * w).sum() * 100), "median_ape_pct": float(g["ape"].median() * 100),
                          "coverage_pct": float((g["covered"] * w).sum() * 100), "predictions": len(g),
                          "curves": g["curve"].nunique()})

    return d.groupby(list(by)).apply(agg, include_groups=False)


def run(curves: pd.DataFrame, prior_for: Callable[[str, str], priors.Priors], *, ks=(1, 2, 3),
        with_cpu: bool = False, progress: bool = False) -> pd.DataFrame:
    """Predictions of every curve with the prior ``prior_for(dataset, curve)`` returns (e.g. fitted without it)."""
    from tqdm.auto import tqdm

    rows = []
    groups = list(curves.groupby(["dataset", "curve"], sort=True))
    for (dset, name), g in tqdm(groups, desc="curves", disable=not progress):
        c = curve_arrays(g)
        pr = prior_for(dset, name)
        cpu = oracle_cpu_ms(c, pr) if with_cpu else None
        for r in predict_curve(c, pr, ks=(1,) if with_cpu else ks, cpu=cpu):
            rows.append({"dataset": dset, "curve": name, **r})
    return pd.DataFrame(rows)
