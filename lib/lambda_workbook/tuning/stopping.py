"""When to stop: compare what was *measured* at the pick and at each rival, robustly, and say how sure it is.

Each measured size's typical billed (and wall) duration is a winsorised mean: once a size has ``WINSOR_MIN_N``
invocations, those beyond three robust standard deviations (1.4826 × the median absolute deviation) from the
median are pulled in to that limit, so a 2–4× straggler counts as a slow invocation, not as a new mean, while a
genuinely bimodal size (two CPU models) keeps both modes. Its uncertainty is a Student-t on the log scale. The
variance pools three things: the size's own spread, the function's spread over all its measured sizes (one
function's invocations vary by a similar share at every size; worth ``SIZE_WEIGHT`` invocations at each size),
and a prior spread (``PRIOR_CV``, worth ``PRIOR_WEIGHT`` invocations) — so a size is not trusted because two
of its invocations happened to agree. Draws of every size's location give draws of its cost per invocation
(request fee included, through :mod:`lambda_workbook.billing`); the *claimed confidence* is the share of draws
in which the pick is within the regret tolerance of the best measured size. The constants were calibrated on
replays of real per-invocation measurements (``benchmarks/bench_tuning.py``; figures in
``benchmarks/README.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PRIOR_CV = 0.05       # prior relative spread of one invocation around its size's mean
PRIOR_WEIGHT = 3.0    # ... worth this many invocations against the function's pooled spread
SIZE_WEIGHT = 2.0     # the function's pooled spread counts as this many invocations at each size
WINSOR_Z = 3.0        # winsorise beyond this many robust standard deviations from the median ...
WINSOR_MIN_N = 8      # ... once a size has this many invocations (the median absolute deviation of fewer is noise)
DRAWS = 4000


def _winsorised(x: np.ndarray) -> np.ndarray:
    if x.size < WINSOR_MIN_N:
        return x
    med = float(np.median(x))
    mad = 1.4826 * float(np.median(np.abs(x - med)))
    half = WINSOR_Z * max(mad, 0.01 * abs(med), 0.5)   # a floor: integer-ms durations often have MAD 0
    return np.clip(x, med - half, med + half)


def robust_mean(values) -> float:
    """The winsorised mean (see the module doc); NaN for no values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    return float(_winsorised(x).mean()) if x.size else float("nan")


def location_draws(samples: Sequence[np.ndarray], *, n_draws: int | None = None, seed: int = 0,
                   prior_cv: float | None = None, prior_weight: float | None = None,
                   z: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per size: the winsorised mean, draws of it (``n_draws`` × sizes) and the relative standard error; and
    the function's relative spread of one invocation, pooled over its sizes.

    Sizes with no sample get NaN. ``z`` (standard-t draws, ``n_draws`` × sizes) reuses the same noise for a
    second quantity of the same invocations (wall duration next to billed duration).
    """
    n_draws = DRAWS if n_draws is None else n_draws
    prior_cv = PRIOR_CV if prior_cv is None else prior_cv
    prior_weight = PRIOR_WEIGHT if prior_weight is None else prior_weight
    k = len(samples)
    loc, n, rel_var = np.full(k, np.nan), np.zeros(k), np.zeros(k)
    for i, s in enumerate(samples):
        x = np.asarray(s, dtype=float)
        x = x[np.isfinite(x) & (x > 0)]
        if not x.size:
            continue
        w = _winsorised(x)
        loc[i], n[i] = w.mean(), x.size
        rel_var[i] = float(np.var(w, ddof=1)) / loc[i] ** 2 if x.size >= 2 else 0.0
    # the function's spread, pooled over its sizes (relative spreads are alike across sizes of one function),
    # shrunk towards the prior; each size then pools its own spread with it
    dof = np.maximum(n - 1, 0)
    df_f = prior_weight + dof.sum()
    var_f = (prior_weight * prior_cv ** 2 + (dof * rel_var).sum()) / df_f
    w_f = min(SIZE_WEIGHT, df_f)
    pooled = (w_f * var_f + dof * rel_var) / (w_f + dof)
    se = np.where(n > 0, np.sqrt(pooled / np.maximum(n, 1)), np.nan)
    df = w_f + dof
    if z is None:
        rng = np.random.default_rng(seed)
        z = rng.standard_t(df[None, :].repeat(n_draws, 0))
    s = np.nan_to_num(se)[None, :]
    draws = loc[None, :] * np.exp(np.clip(s * z, -3.0, 3.0) - 0.5 * s ** 2)   # t tails, capped at e^±3
    return loc, draws, se, float(np.sqrt(var_f))


def objective(strategy: str, cost: np.ndarray, dur: np.ndarray, allowed: np.ndarray,
              balanced_weight: float) -> np.ndarray:
    """What the strategy minimises, per size (last axis); +inf where not allowed."""
    c = np.where(allowed, cost, np.inf)
    d = np.where(allowed, dur, np.inf)
    if strategy == "cost":
        return c
    if strategy == "speed":
        return d
    cmin = np.min(c, axis=-1, keepdims=True)
    dmin = np.min(d, axis=-1, keepdims=True)
    return balanced_weight * c / cmin + (1 - balanced_weight) * d / dmin


def choose(strategy: str, cost: np.ndarray, dur: np.ndarray, allowed: np.ndarray, *,
           cost_tolerance: float | None = None, balanced_weight: float = 0.5) -> int:
    """The best allowed size from point estimates (cost ties within 0.1%: the faster; speed ties within 1%:
    the cheaper; with ``cost_tolerance``, the fastest size within that much of the cheapest)."""
    idx = np.flatnonzero(allowed & np.isfinite(cost) & np.isfinite(dur))
    c, d = cost[idx], dur[idx]
    if strategy == "cost":
        near = np.flatnonzero(c <= c.min() * (1 + (cost_tolerance or 0.0) + 1e-3))
        return int(idx[near[np.argmin(d[near])]])
    if strategy == "speed":
        near = np.flatnonzero(d <= d.min() * 1.01)
        return int(idx[near[np.argmin(c[near])]])
    score = balanced_weight * c / c.min() + (1 - balanced_weight) * d / d.min()
    return int(idx[np.argmin(score)])


def confidence(strategy: str, pick: int, cost_draws: np.ndarray, dur_draws: np.ndarray, allowed: np.ndarray, *,
               regret_tolerance: float, cost_tolerance: float | None = None,
               balanced_weight: float = 0.5) -> tuple[float, np.ndarray]:
    """The share of draws in which ``pick`` is within tolerance of the best allowed size, and per size the
    share of draws in which that size alone beats the pick by more than the tolerance (its *risk*).

    ``allowed`` is per draw (a latency SLO can hold in some draws and not in others); a draw in which the pick
    itself breaks the SLO counts as a miss. Sizes whose columns are NaN (not measured) are left out.
    """
    measured = np.isfinite(cost_draws[0])
    ok = allowed & measured[None, :]
    tol = regret_tolerance + ((cost_tolerance or 0.0) if strategy == "cost" else 0.0)
    if strategy == "balanced":
        obj = objective(strategy, cost_draws, dur_draws, ok, balanced_weight)
    else:
        obj = np.where(ok, cost_draws if strategy == "cost" else dur_draws, np.inf)
    mine = np.where(ok[:, pick], obj[:, pick], np.inf)
    best = obj.min(axis=1)
    conf = float(np.mean(mine <= (1 + tol) * best))
    risk = np.mean(mine[:, None] > (1 + tol) * obj, axis=0)
    risk[pick] = 0.0
    return conf, risk


@dataclass
class Judgement:
    """One step's reading of the measurements, per candidate size (arrays in the order of ``sizes``)."""

    sizes: np.ndarray
    warm: np.ndarray       # warm invocations
    cost: np.ndarray       # USD per invocation at the winsorised mean billed duration (NaN: not measured)
    duration: np.ndarray   # winsorised mean wall duration, ms
    billed: np.ndarray     # winsorised mean billed duration, ms
    se: np.ndarray         # relative standard error of the billed mean
    spread: float          # the function's relative spread of one invocation
    pick: int
    confidence: float      # claimed probability that the pick is within the tolerance of the best size
    risk: np.ndarray       # per size: probability that it alone beats the pick by more than the tolerance

    @property
    def measured(self) -> np.ndarray:
        return self.warm > 0

    def worse(self, i: int, strategy: str) -> float:
        """How much worse size ``i`` looks than the pick (duration for speed, cost otherwise), as a ratio."""
        if strategy == "speed":
            return float(self.duration[i] / self.duration[self.pick])
        return float(self.cost[i] / self.cost[self.pick])


def judge(sizes: np.ndarray, billed: Sequence[np.ndarray], durations: Sequence[np.ndarray], *,
          price: tuple[np.ndarray, np.ndarray], strategy: str, regret_tolerance: float,
          latency_slo_ms: float | None = None, cost_tolerance: float | None = None, balanced_weight: float = 0.5,
          seed: int = 0) -> Judgement:
    """The pick among the measured sizes and how sure it is. ``billed``/``durations``: warm invocations per
    size (empty where not measured); ``price``: USD per request and per billed ms at each size."""
    warm = np.array([np.isfinite(np.asarray(b, dtype=float)).sum() for b in billed])
    if not warm.any():
        raise ValueError("judge needs at least one size with a warm invocation")
    loc_b, draws_b, se, spread = location_draws(billed, seed=seed)
    loc_d, draws_d, _, _ = location_draws(durations, seed=seed)   # the same seed: the same noise per size
    cost, cost_draws = price[0] + price[1] * loc_b, price[0] + price[1] * draws_b
    measured = warm > 0
    if latency_slo_ms is None:
        allowed, allowed_draws = measured, np.ones(draws_d.shape, bool)
    else:
        allowed, allowed_draws = measured & (loc_d <= latency_slo_ms), draws_d <= latency_slo_ms
        if not allowed.any():  # nothing measured meets the SLO: the fastest measured size
            allowed = measured & (loc_d <= np.nanmin(loc_d) * 1.01)
            allowed_draws = np.broadcast_to(allowed, draws_d.shape)
    pick = choose(strategy, cost, loc_d, allowed, cost_tolerance=cost_tolerance, balanced_weight=balanced_weight)
    conf, risk = confidence(strategy, pick, cost_draws, draws_d, allowed_draws, regret_tolerance=regret_tolerance,
                            cost_tolerance=cost_tolerance, balanced_weight=balanced_weight)
    return Judgement(sizes=np.asarray(sizes, dtype=float), warm=warm, cost=cost, duration=loc_d, billed=loc_b,
                     se=se, spread=spread, pick=pick, confidence=conf, risk=risk)
