"""Prior weights of the curve family, fitted to real measurements (empirical Bayes), and the data file they
live in (``data/memory/duration-priors.json``).

Each measured curve (one piece of code at several sizes) has a marginal likelihood under every grid component
of :mod:`.curve`. The prior is a product of one weight vector per axis (the CPU share ``phi``; the parallelism
``p`` and the bend ``knee`` per architecture; ``alpha``; ``overlap``; the noise ``tau``), fitted by
expectation-maximisation over all curves, each *data set* weighing the same whatever its number of curves. The
``phi`` weights are smoothed on the logit scale and every weight keeps a floor, so that code unlike anything
measured keeps some prior mass. ``benchmarks/bench_memory.py`` fits the same prior without each set in turn and
scores the set it left out.

The arm64/x86_64 speed ratio comes from curves measured on both architectures at the same sizes (at most
1,024 MB): the weighted median and spread of the log ratio of their mean durations, each data set weighing the
same.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .. import datafiles
from . import curve

ARCHES = ("x86_64", "arm64")
SCHEMA = "lambda-workbook/duration-priors/1"
_PER_ARCH = ("p", "knee")
_AXIS_SIZES = {"phi": curve.PHI.size, "p": curve.P.size, "alpha": curve.ALPHA.size, "overlap": curve.OVERLAP.size,
               "knee": curve.KNEE.size, "tau": curve.TAU.size}


def _uniform(axis: str) -> np.ndarray:
    return np.full(_AXIS_SIZES[axis], 1.0 / _AXIS_SIZES[axis])


@dataclass
class Priors:
    """Weights per grid axis (``p`` and ``knee`` per architecture) and the arm64/x86_64 speed prior."""

    phi: np.ndarray = field(default_factory=lambda: _uniform("phi"))
    p: dict[str, np.ndarray] = field(default_factory=lambda: {a: _uniform("p") for a in ARCHES})
    alpha: np.ndarray = field(default_factory=lambda: _uniform("alpha"))
    overlap: np.ndarray = field(default_factory=lambda: _uniform("overlap"))
    knee: dict[str, np.ndarray] = field(default_factory=lambda: {a: _uniform("knee") for a in ARCHES})
    tau: np.ndarray = field(default_factory=lambda: _uniform("tau"))
    arm_ratio: float = 0.87
    arm_log_sd: float = 0.12
    fitted_on: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def weights(self, axis: str, arch: str = "x86_64") -> np.ndarray:
        v = getattr(self, axis)
        return v[arch] if axis in _PER_ARCH else v

    def log_prior(self, arch: str) -> np.ndarray:
        """``(components, len(TAU))`` log prior weights on ``arch``."""
        w = [np.log(self.weights(a, arch)) for a in curve.AXES]
        shape = np.zeros(curve.SHAPE)
        for i, lw in enumerate(w):
            idx = [None] * len(curve.SHAPE)
            idx[i] = slice(None)
            shape = shape + lw[tuple(idx)]
        return shape.ravel()[:, None] + np.log(self.tau)[None, :]

    def mean(self, axis: str, arch: str = "x86_64") -> float:
        grid = {"phi": curve.PHI, "p": curve.P, "alpha": curve.ALPHA, "overlap": curve.OVERLAP, "knee": curve.KNEE,
                "tau": curve.TAU}[axis]
        return float(np.dot(self.weights(axis, arch), grid))

    def to_dict(self) -> dict[str, Any]:
        def r(v):
            return [float(f"{float(x):.8g}") for x in v]

        return {"schema": SCHEMA,
                "grid": {"phi": r(curve.PHI), "p": r(curve.P), "alpha": r(curve.ALPHA), "overlap": r(curve.OVERLAP),
                         "knee": r(curve.KNEE), "tau": r(curve.TAU), "period_ms": curve.PERIOD_MS},
                "weights": {"phi": r(self.phi), "p": {a: r(v) for a, v in self.p.items()}, "alpha": r(self.alpha),
                            "overlap": r(self.overlap), "knee": {a: r(v) for a, v in self.knee.items()},
                            "tau": r(self.tau)},
                "arm64_vs_x86_64": {"duration_ratio": round(self.arm_ratio, 4), "log_sd": round(self.arm_log_sd, 4)},
                "fitted_on": list(self.fitted_on), "sources": dict(self.sources), "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str = "priors") -> Priors:
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"{where}: schema {doc.get('schema')!r} is not {SCHEMA}")
        grid = doc["grid"]
        for axis in ("phi", "p", "alpha", "overlap", "knee", "tau"):
            ours = getattr(curve, axis.upper())
            if len(grid[axis]) != ours.size or not np.allclose(grid[axis], ours, rtol=1e-4):
                raise ValueError(f"{where}: its {axis} grid differs from the model's; refit the priors "
                                 "(benchmarks/bench_memory.py --write-priors)")
        w = doc["weights"]
        arm = doc["arm64_vs_x86_64"]
        return cls(phi=np.asarray(w["phi"], float), p={a: np.asarray(v, float) for a, v in w["p"].items()},
                   alpha=np.asarray(w["alpha"], float), overlap=np.asarray(w["overlap"], float),
                   knee={a: np.asarray(v, float) for a, v in w["knee"].items()}, tau=np.asarray(w["tau"], float),
                   arm_ratio=float(arm["duration_ratio"]), arm_log_sd=float(arm["log_sd"]),
                   fitted_on=list(doc.get("fitted_on", [])), sources=dict(doc.get("sources", {})),
                   notes=list(doc.get("notes", [])))


def path():
    return datafiles.data_dir() / "memory" / "duration-priors.json"


@lru_cache(maxsize=1)
def load() -> Priors:
    """The shipped priors (fitted on every measurement set)."""
    p = path()
    return Priors.from_dict(json.loads(p.read_text(encoding="utf-8")), where=str(p))


# --------------------------------------------------------------------------------------------------------
# fitting


@dataclass
class CurveEvidence:
    """One measured curve's marginal likelihood under every (component, tau)."""

    dataset: str
    curve: str
    arch: str
    loglik: np.ndarray
    weight: float = 1.0


def standard_error(n, cv, default_cv: float = 0.1) -> np.ndarray:
    """Relative standard error of a size's mean from its invocation count and spread (``default_cv`` if unknown)."""
    cv = np.asarray(cv, dtype=float)
    cv = np.where(np.isfinite(cv) & (cv > 0), cv, default_cv)
    return cv / np.sqrt(np.maximum(np.asarray(n, dtype=float), 1.0))


def evidence(curves: pd.DataFrame) -> list[CurveEvidence]:
    """Per-curve likelihoods from a :func:`lambda_workbook.validation.datasets.curves`-shaped table."""
    out = []
    for (dset, name), g in curves.groupby(["dataset", "curve"], sort=False):
        g = g.sort_values("memory_mb")
        ll, _, _ = curve.loglik(np.log(g["mean_ms"].to_numpy(float)), standard_error(g["n"], g["cv"]),
                                g["memory_mb"].to_numpy(float))
        out.append(CurveEvidence(dset, name, str(g["arch"].iloc[0]), ll))
    counts = pd.Series([e.dataset for e in out]).value_counts()
    for e in out:
        e.weight = 1.0 / counts[e.dataset]
    return out


def _smooth_logit(v: np.ndarray, bandwidth: float) -> np.ndarray:
    logit = np.log(curve.PHI / (1.0 - curve.PHI))
    ker = np.exp(-0.5 * ((logit[:, None] - logit[None, :]) / bandwidth) ** 2)
    out = ker @ v
    return out / out.sum()


def fit(items: list[CurveEvidence], *, iterations: int = 60, floor: float = 0.03, bandwidth: float = 0.8,
        floors: dict[str, float] | None = None, start: Priors | None = None) -> Priors:
    """Empirical-Bayes prior weights from curve likelihoods (factorised expectation-maximisation).

    ``floor`` (or ``floors[axis]``) is the share of every axis' weight kept uniform; ``start`` warm-starts.
    """
    if not items:
        raise ValueError("no measured curves to fit priors on")
    pr = start or Priors()
    floors = {**{a: floor for a in _AXIS_SIZES}, **(floors or {})}
    for _ in range(iterations):
        acc = {a: ({x: np.zeros(_AXIS_SIZES[a]) for x in ARCHES} if a in _PER_ARCH else np.zeros(_AXIS_SIZES[a]))
               for a in _AXIS_SIZES}
        for it in items:
            lp = pr.log_prior(it.arch) + it.loglik
            post = np.exp(lp - lp.max())
            post *= it.weight / post.sum()
            comp = post.sum(1).reshape(curve.SHAPE)
            for i, axis in enumerate(curve.AXES):
                marg = comp.sum(tuple(j for j in range(len(curve.SHAPE)) if j != i))
                if axis in _PER_ARCH:
                    acc[axis][it.arch] += marg
                else:
                    acc[axis] += marg
            acc["tau"] += post.sum(0)

        def finish(v: np.ndarray, axis: str) -> np.ndarray:
            t = v / v.sum() if v.sum() > 0 else _uniform(axis)
            if axis == "phi":
                t = _smooth_logit(t, bandwidth)
            return (1 - floors[axis]) * t + floors[axis] / t.size

        pr = Priors(**{a: ({x: finish(v[x], a) for x in ARCHES} if a in _PER_ARCH else finish(v, a))
                       for a, v in acc.items()})
    pr.fitted_on = sorted({it.dataset for it in items})
    return pr


def arm_ratio(curves: pd.DataFrame, max_mb: float = 1024.0) -> tuple[float, float, int]:
    """Median and spread of log(arm64 / x86_64) mean duration at shared sizes ``<= max_mb``: ``(ratio, log_sd, pairs)``."""
    c = curves.assign(pair=[str(name).replace(str(a), "{arch}") for name, a in zip(curves["curve"], curves["arch"],
                                                                                     strict=True)])
    x = c[c["arch"] == "x86_64"].set_index(["dataset", "pair", "memory_mb"])["mean_ms"]
    a = c[c["arch"] == "arm64"].set_index(["dataset", "pair", "memory_mb"])["mean_ms"]
    both = pd.concat({"x": x, "a": a}, axis=1).dropna()
    both = both[both.index.get_level_values("memory_mb") <= max_mb]
    if both.empty:
        return 0.87, 0.12, 0
    lr = np.log(both["a"] / both["x"]).to_numpy()
    ds = both.index.get_level_values("dataset")
    w = 1.0 / pd.Series(ds).map(pd.Series(ds).value_counts()).to_numpy()
    order = np.argsort(lr)
    cum = np.cumsum(w[order]) / w.sum()
    med = float(lr[order][np.searchsorted(cum, 0.5)])
    q25, q75 = (float(lr[order][np.searchsorted(cum, q)]) for q in (0.25, 0.75))
    return math.exp(med), (q75 - q25) / 1.349, int(both.shape[0])
