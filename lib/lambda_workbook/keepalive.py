"""How long execution environments live: the idle keep-alive window, forced recycling, eviction sweeps over
a pool, the published scenarios, and the maximum-likelihood fit of the window to keep-alive counts.

What is measured and what is assumed:

* **measured** — the idle window of a *single* environment. Lin, Ma and Shahrad, *Demystifying Serverless
  Costs on Public Platforms* (EuroSys '26; data https://github.com/ubc-cirrus-lab/demystifying-serverless-costs,
  ``data/measurements/demystifying-costs-2025``) invoked a function after idle gaps of 60-720 s, 100 trials per
  gap, in 2025. :func:`fit_idle_window` fits a uniform window to those counts: about 4.95-5.80 minutes
  (297-348 s), the default scenario ``measured-2025``. A few cold starts at short gaps (6 in 500 trials at
  60-270 s) read as forced recycling match a mean lifetime of ~4 h (95% interval about 2-10 h);
* **assumed** — forced recycling of busy environments about every 2 hours (Xebia's blog, 2019-2021; not
  re-measured, the 2025 counts only bound it as above) and the *pool* behaviour, :class:`Sweeps`: an idle pool
  is thinned in steps about 6 minutes apart, each keeping the more recently used half of the candidates. No
  public data set in ``data/measurements`` covers how a pool of idle environments shrinks; the step and the
  fraction are parameters. The rounding (``floor``) makes a lone environment go at its first sweep, which is
  what the single-environment counts show.

Pure: numbers in, numbers out.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

# --------------------------------------------------------------------------------------------------------
# pool sweeps


@dataclass(frozen=True)
class Sweeps:
    """Eviction sweeps over a pool's idle environments (an assumption: see the module docstring).

    A sweep runs when an idle environment outlives its keep-alive window. Its candidates are the idle
    environments idle at least the window's lower bound and not spared by an earlier sweep; it keeps the
    ``floor(keep * candidates)`` most recently used ones, spared for ``step_min`` minutes, and evicts the
    rest. A lone idle environment therefore goes at its window; ``N`` environments that went idle together
    shrink to ``floor(N/2)``, ``floor(N/4)``, ... at the window and every ``step_min`` after it.
    """

    step_min: float = 6.0
    keep: float = 0.5

    def __post_init__(self) -> None:
        step, keep = self.step_min, self.keep
        if isinstance(step, bool) or not isinstance(step, numbers.Real) or not (1.0 <= step <= 120.0):
            raise ValueError(f"sweep step_min must be minutes between 1 and 120, got {step!r}")
        if isinstance(keep, bool) or not isinstance(keep, numbers.Real) or not (0.0 <= keep < 1.0):
            raise ValueError(f"sweep keep must be a fraction in [0, 1), got {keep!r}")
        object.__setattr__(self, "step_min", float(step))
        object.__setattr__(self, "keep", float(keep))

    @property
    def label(self) -> str:
        return f"sweeps every {self.step_min:g} min keep {self.keep:.0%} of the idle pool"

    def kept(self, candidates: int) -> int:
        """Environments a sweep spares out of ``candidates`` (rounded down: one alone is evicted)."""
        return int(math.floor(self.keep * candidates + 1e-9))

    def survivors(self, size: int, steps: int) -> int:
        """Environments left of ``size`` idle together after ``steps`` sweeps."""
        for _ in range(steps):
            size = self.kept(size)
        return size

    def steps_survived(self, rank, size) -> np.ndarray:
        """Sweeps survived by the environment of ``rank`` (1 = most recently used) in a cohort of ``size``
        idle together (vectorised over integer arrays)."""
        r, n = np.broadcast_arrays(np.asarray(rank, dtype=np.int64), np.asarray(size, dtype=np.int64))
        if r.size > 64 and r.min() >= 0 and n.min() >= 0 and n.max() <= 1024:
            # many environments, small cohorts: look each (rank, size) up in the table of the same loop
            top = int(n.max())
            at = np.minimum(r, top + 1)
            at *= top + 1
            at += n
            return _steps_table(self.keep, top).ravel().take(at)
        return _steps_survived(self.keep, r, n)


def _steps_survived(keep: float, r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:meth:`Sweeps.steps_survived` computed sweep by sweep (each sweep keeps ``floor(keep * left)``)."""
    out = np.zeros(r.shape, dtype=np.int64)
    left = n.copy()
    for _ in range(64):
        left = np.floor(keep * left + 1e-9).astype(np.int64)
        alive = r <= left
        if not alive.any():
            break
        out += alive
    return out


@functools.lru_cache(maxsize=64)
def _steps_table(keep: float, top: int) -> np.ndarray:
    """:func:`_steps_survived` for every rank ``0..top + 1`` (rows; a rank above the cohort survives none) and
    size ``0..top`` (columns), read-only."""
    rank, size = np.meshgrid(np.arange(top + 2, dtype=np.int64), np.arange(top + 1, dtype=np.int64), indexing="ij")
    table = _steps_survived(keep, rank, size)
    table.flags.writeable = False
    return table


# --------------------------------------------------------------------------------------------------------
# keep-alive


@dataclass(frozen=True)
class KeepAlive:
    """Idle eviction window and forced recycling of environments, both in minutes, and optional pool sweeps.

    ``idle_min`` is ``(low, high)``: a single idle environment's window is uniform between them (``low ==
    high``: a fixed window). ``recycle_min`` is the lifetime of an environment that never idles long enough to
    be evicted, uniform in ``(low, high)``; ``None`` switches recycling off. ``sweep``: how a pool's idle
    environments are evicted together (:class:`Sweeps`); ``None``: each independently at its own window.
    """

    idle_min: tuple[float, float]
    recycle_min: tuple[float, float] | None = (110.0, 130.0)
    name: str = ""
    source: str = ""
    sweep: Sweeps | None = None

    def __post_init__(self) -> None:
        lo, hi = _check_window("keep_alive_min", self.idle_min, minimum=1.0)
        object.__setattr__(self, "idle_min", (lo, hi))
        if self.recycle_min is not None:
            object.__setattr__(self, "recycle_min", _check_window("recycle_min", self.recycle_min, minimum=1.0))
        if self.sweep is not None and not isinstance(self.sweep, Sweeps):
            raise ValueError(f"sweep must be a Sweeps or None, got {self.sweep!r}")

    @property
    def label(self) -> str:
        lo, hi = self.idle_min
        idle = f"{lo:g} min" if lo == hi else f"{lo:g}-{hi:g} min"
        recycle = "no recycling" if self.recycle_min is None else f"recycled every ~{np.mean(self.recycle_min):g} min"
        pool = f", {self.sweep.label}" if self.sweep is not None else ""
        return f"{self.name + ': ' if self.name else ''}idle {idle}, {recycle}{pool}"

    def nodes(self, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature nodes and weights of the idle window's distribution."""
        return _uniform_nodes(*self.idle_min, n)

    def life_nodes(self, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
        if self.recycle_min is None:
            return np.empty(0), np.empty(0)
        return _uniform_nodes(*self.recycle_min, n)

    def p_evicted(self, idle_minutes) -> np.ndarray:
        """P(window < idle): the chance a lone environment idle that long is gone (fixed window: idle > window)."""
        x = np.asarray(idle_minutes, dtype=float)
        lo, hi = self.idle_min
        if hi == lo:
            return (x > lo).astype(float)
        return np.clip((x - lo) / (hi - lo), 0.0, 1.0)

    def p_cold(self, idle_minutes) -> np.ndarray:
        """P(cold) for a lone environment after that idle time, idle eviction *or* a forced recycle falling in
        the gap (renewal approximation: ``gap / mean lifetime``) — what a keep-alive experiment counts."""
        x = np.asarray(idle_minutes, dtype=float)
        life = float(np.mean(self.recycle_min)) if self.recycle_min is not None else math.inf
        return 1.0 - (1.0 - self.p_evicted(x)) * (1.0 - np.clip(x / life, 0.0, 1.0))


def _check_window(name: str, value, *, minimum: float) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of minutes or a (low, high) pair, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi or lo < minimum:
        raise ValueError(f"{name} must be finite minutes with {minimum:g} <= low <= high (the model works on "
                         f"per-minute data), got {value!r}")
    return lo, hi


@functools.lru_cache(maxsize=64)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights (computed once per ``n``: the pool model asks thousands of times)."""
    x, w = np.polynomial.legendre.leggauss(n)
    x.flags.writeable = w.flags.writeable = False
    return x, w


def _uniform_nodes(lo: float, hi: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    if hi == lo:
        return np.array([lo]), np.array([1.0])
    x, w = _legendre(int(n))
    return lo + (hi - lo) * (x + 1) / 2, w / 2


RECYCLE_MIN = (110.0, 130.0)   # ~2 h (Xebia); the +-10 min spread is a modelling choice, not a measurement
IDLE_2025 = (4.95, 5.80)       # fit_idle_window on keep_alive_aws.csv with recycling at RECYCLE_MIN (benchmark)
POOL_SWEEPS = Sweeps(6.0, 0.5)  # assumption: no public pool measurement in data/measurements
DEMYSTIFYING = ("Lin, Ma, Shahrad, 'Demystifying Serverless Costs on Public Platforms' (EuroSys '26), "
                "https://github.com/ubc-cirrus-lab/demystifying-serverless-costs")
SCENARIOS: dict[str, KeepAlive] = {
    "measured-2025": KeepAlive(IDLE_2025, RECYCLE_MIN, "measured-2025",
                               f"idle window 4.95-5.80 min: maximum-likelihood fit to 2025 keep-alive counts, "
                               f"{DEMYSTIFYING}; busy environments recycled ~every 2 h: Xebia [XEBIA] "
                               f"(assumption); pools thinned by half every 6 min (assumption)", POOL_SWEEPS),
    "measured-2021": KeepAlive((5.0, 7.0), RECYCLE_MIN, "measured-2021",
                               "idle 5-7 min: Shilkov, Jan 2021; busy environments "
                               "recycled ~every 2 h: Xebia [SHILKOV] [XEBIA]"),
    "seed": KeepAlive((5.0, 15.0), RECYCLE_MIN, "seed",
                      "the article's claim: containers live 5-15 min"),
    "fixed-10": KeepAlive((10.0, 10.0), RECYCLE_MIN, "fixed-10",
                          "exactly 10 min: Shilkov, Aug 2019; Xebia 'a bit longer than 10 min' [SHILKOV-BLOG] [XEBIA]"),
    "2017": KeepAlive((45.0, 60.0), RECYCLE_MIN, "2017",
                      "45-60 min: theburningmonk, 2017 (outdated; an upper scenario) [BURNINGMONK]"),
}
DEFAULT_SCENARIO = "measured-2025"
_UNSET: Any = object()


def keep_alive(keep_alive_min=None, *, recycle_min=_UNSET, sweep=_UNSET) -> KeepAlive:
    """Resolve a keep-alive spec: None (the default model), minutes (fixed window), ``(low, high)`` minutes
    (uniform), a scenario name from :data:`SCENARIOS`, or a :class:`KeepAlive`. ``recycle_min`` overrides the
    forced-recycling lifetime (None or 0: off); ``sweep`` the pool sweeps (a :class:`Sweeps`, or None:
    independent eviction). Numbers and pairs describe single environments: no sweeps unless given."""
    if isinstance(keep_alive_min, KeepAlive):
        ka = keep_alive_min
    elif keep_alive_min is None:
        ka = SCENARIOS[DEFAULT_SCENARIO]
    elif isinstance(keep_alive_min, str):
        if keep_alive_min not in SCENARIOS:
            raise ValueError(f"keep_alive_min scenario must be one of {sorted(SCENARIOS)}, got {keep_alive_min!r}")
        ka = SCENARIOS[keep_alive_min]
    elif isinstance(keep_alive_min, bool):
        raise ValueError(f"keep_alive_min must be minutes, a (low, high) pair or a scenario name, got {keep_alive_min!r}")
    elif isinstance(keep_alive_min, numbers.Real):
        ka = KeepAlive((keep_alive_min, keep_alive_min), RECYCLE_MIN, f"fixed {float(keep_alive_min):g} min")
    elif isinstance(keep_alive_min, (tuple, list)) and len(keep_alive_min) == 2:
        ka = KeepAlive(tuple(keep_alive_min), RECYCLE_MIN, f"{keep_alive_min[0]:g}-{keep_alive_min[1]:g} min")
    else:
        raise ValueError(f"keep_alive_min must be None, minutes, a (low, high) pair, a scenario name "
                         f"({', '.join(SCENARIOS)}) or a KeepAlive, got {keep_alive_min!r}")
    if recycle_min is not _UNSET:
        if recycle_min is None or (isinstance(recycle_min, numbers.Real) and not isinstance(recycle_min, bool)
                                   and recycle_min == 0):
            life = None
        elif isinstance(recycle_min, numbers.Real) and not isinstance(recycle_min, bool):
            life = (recycle_min, recycle_min)
        else:
            life = recycle_min
        ka = replace(ka, recycle_min=life)
    if sweep is not _UNSET:
        ka = replace(ka, sweep=sweep)
    return ka


def p_cold_after_idle(idle_minutes, *, keep_alive_min=None) -> np.ndarray:
    """Probability that an invocation after ``idle_minutes`` of idleness finds its (lone) environment evicted.

    Idle eviction only (forced recycling of busy environments is separate). ``keep_alive_min`` as in
    :func:`keep_alive`; with the default model the probability climbs from 0 at 4.95 minutes to 1 at 5.80.
    """
    x = np.asarray(idle_minutes, dtype=float)
    if x.size and (np.isnan(x).any() or (x < 0).any()):
        raise ValueError(f"idle_minutes must be >= 0 and not NaN, got {idle_minutes!r}")
    return np.asarray(keep_alive(keep_alive_min).p_evicted(x), dtype=float)


# --------------------------------------------------------------------------------------------------------
# the fit to keep-alive counts

FAMILIES = ("uniform", "normal", "logistic")


@dataclass(frozen=True)
class IdleFit:
    """A maximum-likelihood fit of the idle window to warm/cold counts per idle gap (see :func:`fit_idle_window`)."""

    family: str
    params: dict[str, float]
    recycle_mean_min: float
    loglik: float
    deviance: float
    df: int
    p_value: float
    table: pd.DataFrame

    @property
    def window(self) -> tuple[float, float]:
        """(low, high) minutes of a uniform fit (the central 98% for the other families)."""
        if self.family == "uniform":
            return self.params["low_min"], self.params["high_min"]
        dist = _dist(self.family, self.params["loc_min"], self.params["scale_min"])
        return float(dist.ppf(0.01)), float(dist.ppf(0.99))


def _dist(family: str, loc: float, scale: float):
    return (stats.norm if family == "normal" else stats.logistic)(loc, abs(scale))


def _window_cdf(family: str, p: np.ndarray, x: np.ndarray) -> np.ndarray:
    if family == "uniform":
        lo, hi = p[0], p[0] + abs(p[1])
        return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    return _dist(family, p[0], p[1]).cdf(x)


def _loglik(prob: np.ndarray, cold: np.ndarray, trials: np.ndarray) -> float:
    p = np.clip(prob, 1e-12, 1.0 - 1e-12)
    return float((cold * np.log(p) + (trials - cold) * np.log1p(-p)).sum())


def fit_idle_window(idle_s, cold, trials, *, family: str = "uniform", recycle_min=RECYCLE_MIN) -> IdleFit:
    """Fit the idle window of a single environment to keep-alive counts by maximum likelihood.

    ``idle_s``: the idle gaps tried (seconds); ``cold``/``trials``: cold starts and trials at each. The chance of
    a cold start after a gap ``g`` is ``1 - (1 - F(g)) (1 - g / L)``: the window ``F`` (``family``: a uniform
    ``(low, high)``, a normal or a logistic) or a forced recycle in the gap, ``L`` the mean lifetime
    (``recycle_min``: a ``(low, high)`` pair, minutes, ``None`` for none, or ``"fit"`` to estimate it too).
    Goodness: the deviance against the saturated binomial model, its degrees of freedom and chi-square p-value.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    g = np.asarray(idle_s, dtype=float) / 60.0
    c = np.asarray(cold, dtype=float)
    n = np.asarray(trials, dtype=float)
    if not (g.shape == c.shape == n.shape) or g.size < 3:
        raise ValueError("idle_s, cold and trials must be equal-length sequences with at least 3 gaps")
    if (n <= 0).any() or (c < 0).any() or (c > n).any() or not np.isfinite(g).all() or (g <= 0).any():
        raise ValueError("every gap needs idle_s > 0 and 0 <= cold <= trials with trials > 0")
    fit_life = isinstance(recycle_min, str)
    if fit_life and recycle_min != "fit":
        raise ValueError(f"recycle_min must be minutes, a (low, high) pair, None or 'fit', got {recycle_min!r}")
    life = math.inf if recycle_min is None else (None if fit_life else float(np.mean(np.atleast_1d(recycle_min))))

    def prob(p: np.ndarray) -> np.ndarray:
        hazard = abs(p[2]) if fit_life else (0.0 if math.isinf(life) else 1.0 / life)
        return 1.0 - (1.0 - _window_cdf(family, p, g)) * (1.0 - np.clip(g * hazard, 0.0, 1.0))

    share = c / n
    mid = float(np.interp(0.5, np.maximum.accumulate(share[np.argsort(g)]), np.sort(g)))
    starts = [[mid - 0.5, 1.0], [mid - 0.3, 0.6], [mid - 0.8, 1.6]] if family == "uniform" else \
        [[mid, 0.3], [mid, 0.15], [mid, 0.6]]
    best = None
    for s in starts:
        x0 = np.array(s + ([1.0 / 240.0] if fit_life else []))
        res = optimize.minimize(lambda p: -_loglik(prob(p), c, n), x0, method="Nelder-Mead",
                                options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 40_000})
        if best is None or res.fun < best.fun:
            best = res
    p = best.x
    saturated = _loglik(np.where(c == 0, 1e-12, np.where(c == n, 1 - 1e-12, share)), c, n)
    loglik = -float(best.fun)
    deviance = max(0.0, 2.0 * (saturated - loglik))
    df = int(g.size - len(p))
    if family == "uniform":
        params = {"low_min": float(p[0]), "high_min": float(p[0] + abs(p[1]))}
    else:
        params = {"loc_min": float(p[0]), "scale_min": float(abs(p[1]))}
    mean_life = 1.0 / abs(p[2]) if fit_life else life
    expected = prob(p)
    table = pd.DataFrame({"idle_s": g * 60.0, "trials": n, "cold": c, "observed": share, "fitted": expected,
                          "fitted_cold": expected * n})
    return IdleFit(family, params, float(mean_life), loglik, deviance, df,
                   float(stats.chi2.sf(deviance, df)) if df > 0 else float("nan"), table)


def counts_loglik(ka: KeepAlive, idle_s, cold, trials) -> float:
    """Binomial log-likelihood of keep-alive counts under a keep-alive model (a lone environment)."""
    p = ka.p_cold(np.asarray(idle_s, dtype=float) / 60.0)
    return _loglik(p, np.asarray(cold, dtype=float), np.asarray(trials, dtype=float))


def recycle_interval(idle_s, cold, trials, *, level: float = 0.95) -> tuple[float, float, float]:
    """The mean forced-recycle lifetime (minutes) the counts imply, with a profile-likelihood interval: the
    estimate and the (low, high) lifetimes whose likelihood-ratio statistic stays under the chi-square cut."""
    best = fit_idle_window(idle_s, cold, trials, recycle_min="fit")
    cut = float(stats.chi2.ppf(level, 1))

    def excess(life: float) -> float:
        fit = fit_idle_window(idle_s, cold, trials, recycle_min=(life, life))
        return 2.0 * (best.loglik - fit.loglik) - cut

    est = best.recycle_mean_min
    low = optimize.brentq(excess, 5.0, est) if excess(5.0) > 0 else float("nan")
    high = optimize.brentq(excess, est, 1e6) if excess(1e6) > 0 else math.inf
    return est, low, high


# --------------------------------------------------------------------------------------------------------
# sweeps in the closed form


class PoolCohorts:
    """The closed form's view of pool sweeps, level by level of a most-recently-used pool.

    When level ``k`` goes idle after minute ``t``, the levels above it that were in use in ``t`` go idle with
    it (``busy_m / busy_k``: being used at level ``m > k`` means ``k`` was too), and so do the levels below it
    that stay quiet for the next window (``Q_m / Q_k``, ``Q`` the chance of a quiet window). Those form the
    cohort a sweep thins; ``k``'s rank in it is one plus the members below it. It survives
    :meth:`Sweeps.steps_survived` sweeps, so its window is that many steps longer. Levels are added once
    (:meth:`add_level`, any order), then visited from the top (:meth:`steps`).
    """

    def __init__(self, sweep: Sweeps, window_min: float, minutes: int) -> None:
        self.sweep = sweep
        self.span = max(1, int(math.floor(window_min + 0.5)))
        self.quiet_total = np.zeros(minutes)
        self.quiet_above = np.zeros(minutes)
        self.busy_above = np.zeros(minutes)
        self.levels_above = 0

    def quiet(self, busy: np.ndarray, surv: np.ndarray | None = None) -> np.ndarray:
        """The chance a level with ``busy`` stays unused for the window after each minute. ``surv``: the running
        sum of ``log(1 - busy)`` (busy capped just below 1), when the caller has it already."""
        m = len(busy)
        if surv is None:
            surv = np.cumsum(np.log1p(-np.minimum(busy, 1.0 - 1e-12)))
        # the running sum over busy and then `span + 1` unused minutes (which add 0), with a leading 0
        cum = np.concatenate([[0.0], surv, np.full(self.span + 1, surv[-1] if m else 0.0)])
        return np.exp(cum[1 + self.span:1 + self.span + m] - cum[1:1 + m])

    _quiet = quiet

    def add_level(self, busy: np.ndarray, member, *, quiet: np.ndarray | None = None) -> None:
        """``member``: minutes the level is an on-demand environment (provisioned ones never idle in the pool).
        ``quiet``: :meth:`quiet` of ``busy``, when already computed."""
        q = self.quiet(busy) if quiet is None else quiet
        self.quiet_total += q if member is True else q * member    # (times True is the same number)

    def steps(self, k: int, busy: np.ndarray, member, *, quiet: np.ndarray | None = None) -> np.ndarray:
        """Sweeps level ``k`` survives when it goes idle after each minute (call from the top level down)."""
        q = self.quiet(busy) if quiet is None else quiet
        qk = q if member is True else q * member
        rank = self.quiet_total - self.quiet_above         # 1 + the cohort members below, capped at k - 1
        rank -= qk
        np.maximum(rank, 0.0, out=rank)
        rank /= np.maximum(qk, 1e-12)
        np.minimum(rank, k - 1, out=rank)
        np.add(1.0, rank, out=rank)
        at = np.floor(rank + 0.5)
        if self.levels_above:
            size = self.busy_above / np.maximum(busy, 1e-12)   # the levels above in use with it, capped
            np.minimum(size, self.levels_above, out=size)
            np.add(rank, size, out=size)
            size += 0.5
            np.floor(size, out=size)
        else:                                              # the top level: none above (rank + 0 is rank)
            size = at
        out = self.sweep.steps_survived(at, size)
        self.quiet_above += qk
        self.busy_above += busy
        self.levels_above += 1
        return out
