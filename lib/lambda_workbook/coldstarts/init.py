"""INIT: how long a function's INIT takes (its REPORT statistics or raw REPORT lines, else a published prior from
:mod:`lambda_workbook.initpriors`), and the invocation latency quantiles with and without cold starts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ..initpriors import init_prior
from ..renamed import renamed
from .series import ByFunction, lookup


@renamed(function_name="name")
def init_estimate(snapshot, function_name: str, *, account_id: str | None = None, region: str | None = None,
                  _index: ByFunction | None = None) -> dict[str, Any]:
    """INIT duration of a function: from its REPORT statistics, else its raw REPORT lines, else the prior."""
    fn, index = lookup(snapshot, function_name, account_id, region, _index)
    return init_from_rows(fn, index.rows("reports", fn), lambda: index.rows("report_samples", fn))


def init_from_rows(config, rep: pd.DataFrame, samples_of) -> dict[str, Any]:
    """:func:`init_estimate` from a function's configuration row (``config``), its ``reports`` rows and a
    callable giving its ``report_samples`` rows (asked only when the REPORT statistics have no INIT)."""
    fn = config
    if len(rep) and rep["cold_starts"].iloc[0] > 0 and pd.notna(rep["init_p50_ms"].iloc[0]):
        r = rep.iloc[0]
        mean = r["init_mean_ms"] if pd.notna(r["init_mean_ms"]) else r["init_p50_ms"]
        p99 = r["init_p99_ms"] if pd.notna(r["init_p99_ms"]) else r["init_p50_ms"]
        return {"p50_ms": float(r["init_p50_ms"]), "p99_ms": float(p99), "mean_ms": float(mean),
                "n": int(r["cold_starts"]), "source": f"reports:{r['path']}"}
    samples = samples_of()
    if len(samples):
        from .. import logs  # the REPORT parser (only needed for raw lines)

        inits = logs.parse_reports(samples["message"])["init_duration_ms"].dropna()
        if len(inits):
            return {"p50_ms": float(inits.median()), "p99_ms": float(inits.quantile(0.99)),
                    "mean_ms": float(inits.mean()), "n": int(len(inits)), "source": "report_samples (raw REPORT lines)"}
    prior = init_prior(fn["runtime"], fn["package_type"], fn["code_size_bytes"], vpc=bool(fn["vpc_id"]), arch=fn["arch"])
    return {"p50_ms": prior["median_ms"], "p99_ms": prior["high_ms"], "mean_ms": prior["median_ms"], "n": 0,
            "source": "prior: " + "; ".join(prior["sources"]), "low_ms": prior["low_ms"], "high_ms": prior["high_ms"]}


_Z99 = float(stats.norm.ppf(0.99))
_INIT_NODES = special.ndtri((np.arange(200) + 0.5) / 200)   # stats.norm.ppf's numbers: INIT's 200 quantiles
_INIT_NODES.flags.writeable = False


def _lognormal(p50: float, p99: float, what: str) -> tuple[float, float]:
    if not (p50 > 0 and math.isfinite(p50)):
        raise ValueError(f"{what} p50 must be > 0 ms, got {p50!r}")
    sigma = math.log(p99 / p50) / _Z99 if (math.isfinite(p99) and p99 > p50) else 0.0
    return math.log(p50), sigma


def _lognormal_cdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        logx = np.log(np.where(x > 0, x, np.nan))
    # special.ndtr is what stats.norm.cdf evaluates, without its generic argument handling (same numbers)
    out = (logx >= mu).astype(float) if sigma == 0 else special.ndtr((logx - mu) / sigma)
    return np.nan_to_num(out, nan=0.0)


def _cold_cdf(x: np.ndarray, inits: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """P(duration + INIT <= x) on the grid ``x``: the warm log-normal CDF at ``x - init``, averaged over the
    INIT quantiles ``inits``. In blocks of 200 grid points (arrays small enough to stay in cache); a point
    below an INIT adds 0 without a log or a normal CDF, the rest are evaluated as :func:`_lognormal_cdf` does."""
    out = []
    for i in range(0, len(x), 200):
        d = x[i:i + 200, None] - inits[None, :]
        if sigma == 0:
            out.append(_lognormal_cdf(d, mu, sigma).mean(axis=1))
            continue
        block = np.zeros(d.shape)
        pos = d > 0
        z = np.log(d[pos])           # finite: no NaN to zero here
        z -= mu
        z /= sigma
        block[pos] = special.ndtr(z)
        out.append(block.mean(axis=1))
    return np.concatenate(out)


def latency_quantiles(warm_p50_ms: float, warm_p99_ms: float, init_p50_ms: float, init_p99_ms: float,
                      cold_share: float, quantiles=(0.5, 0.9, 0.99)) -> dict[str, float]:
    """Invocation latency quantiles (ms) with and without cold starts.

    Warm duration and INIT are log-normal fits through their p50/p99; a cold invocation takes duration +
    INIT (the REPORT fields; the platform's own start-up before INIT is not in them, so end-to-end cold
    latency is somewhat higher). Keys: ``p50_warm``... and ``p50``... for the mix with ``cold_share``.
    """
    if not 0.0 <= cold_share <= 1.0:
        raise ValueError(f"cold_share must be between 0 and 1, got {cold_share!r}")
    mu, sigma = _lognormal(warm_p50_ms, warm_p99_ms, "warm duration")
    out = {f"p{round(q * 100):g}_warm": float(math.exp(mu + sigma * special.ndtri(q))) for q in quantiles}
    if cold_share == 0 or not (init_p50_ms > 0):
        out.update({f"p{round(q * 100):g}": out[f"p{round(q * 100):g}_warm"] for q in quantiles})
        return out
    imu, isigma = _lognormal(init_p50_ms, init_p99_ms, "INIT")
    inits = np.exp(imu + isigma * _INIT_NODES)
    lo = math.exp(mu - 6 * sigma) if sigma else math.exp(mu) * 0.5
    x = np.geomspace(lo, math.exp(mu + 6 * sigma) + inits.max() * 1.5, 3000)
    warm = _lognormal_cdf(x, mu, sigma)
    for q, value in zip(quantiles, _mix_quantiles(x, warm, inits, mu, sigma, cold_share, quantiles), strict=True):
        out[f"p{round(q * 100):g}"] = value
    return out


_COARSE = 16   # grid points per step of the first, coarse pass over the cold CDF


def _mix_quantiles(x: np.ndarray, warm: np.ndarray, inits: np.ndarray, mu: float, sigma: float, share: float,
                   quantiles) -> list[float]:
    """``np.interp(q, maximum.accumulate((1 - share) * warm + share * cold), x)`` for each ``q``, where ``cold`` is
    :func:`_cold_cdf` on the grid ``x``. The mix is a CDF (non-decreasing), so each quantile lies between two
    points of every :data:`_COARSE`-th grid point: the cold CDF is evaluated there first, then on every grid
    point between the two around each quantile only (each grid point's value is computed on its own, so the
    numbers are those of the whole grid)."""
    n = len(x)
    coarse = np.unique(np.append(np.arange(0, n, _COARSE), n - 1))
    run = np.maximum.accumulate((1 - share) * warm[coarse] + share * _cold_cdf(x[coarse], inits, mu, sigma))
    out = []
    for q in quantiles:
        j = int(np.searchsorted(run, q, side="right"))   # the first coarse point above q
        if j == 0 or j == len(coarse):                  # below the grid's first value, or at its top
            out.append(float(x[0] if j == 0 else x[-1]))
            continue
        fine = slice(int(coarse[j - 1]), int(coarse[j]) + 1)
        mix = (1 - share) * warm[fine] + share * _cold_cdf(x[fine], inits, mu, sigma)
        mix = np.maximum.accumulate(np.maximum(mix, run[j - 1]))
        out.append(float(np.interp(q, mix, x[fine])))
    return out
