"""Cold starts, INIT and provisioned concurrency: how often a function's traffic finds no warm environment,
what INIT costs and adds to latency, and when provisioned concurrency or SnapStart pays.

The environment-reuse model. Measured: the single-environment idle window and how the pool grows and
routes; assumed: forced recycling and how a pool of idle environments shrinks (:mod:`lambda_workbook.keepalive`):

* an idle environment is evicted after a keep-alive window, a :class:`KeepAlive` distribution. The default,
  ``measured-2025``, is the maximum-likelihood fit to 2025 keep-alive counts (Lin, Ma, Shahrad,
  *Demystifying Serverless Costs on Public Platforms*, EuroSys '26,
  https://github.com/ubc-cirrus-lab/demystifying-serverless-costs): a lone idle environment survives
  4.95-5.80 minutes. Busy environments are force-recycled about every 2 hours (Xebia, "TIL that AWS Lambda
  terminates instances preemptively", https://xebia.com/blog/til-that-aws-lambda-terminates-instances-preemptively/;
  a blog figure, not re-measured). Earlier published windows (Shilkov's 5-7 minutes of 2021, the article's
  "5-15 minutes", 10 minutes, 45-60 minutes) are :data:`SCENARIOS`; AWS publishes no idle timeout;
* a *pool's* idle environments are not evicted one by one but in sweeps (:class:`Sweeps`, an assumption: no
  public data set measures it): when one outlives its window, the idle environments past the window's lower
  bound are thinned to the more recently used half (rounded down, so a lone one goes), the rest spared for
  another ~6-minute step. The closed form follows each level's cohort (the levels that go idle with it,
  :class:`lambda_workbook.keepalive.PoolCohorts`) and lengthens its window by the sweeps it survives;
* environments form a most-recently-used pool (the 2025 concurrency logs route that way and add an
  environment only when every one is busy: :mod:`lambda_workbook.poolfit`). The ``k``-th environment is
  needed in a minute when concurrency reaches ``k``; concurrency comes from per-minute invocations x
  duration. With Poisson arrivals the busy count is Poisson with mean ``c = invocations x duration`` (an
  M/G/inf queue), so level ``k`` is reached when an arrival finds ``k-1`` busy: ``n * P(N = k-1)``
  up-crossings a minute (``model="poisson"``). ``model="peak"`` instead needs ``ceil(c + z sqrt c)``
  environments every minute, a Poisson upper quantile. Evenly paced arrivals need far fewer than Poisson
  ones (the measured 1-30 requests/s reached 7 environments where Poisson arrivals reach ~14);
* within a minute, arrivals are Poisson: given a count, uniformly spread. The first arrival after a gap of
  ``g`` empty minutes therefore follows the previous one by ``g + A + B`` minutes, ``A ~ Beta(1, n_now)``,
  ``B ~ Beta(1, n_before)``; the environment is gone when that idle time (less the previous invocation's
  duration) exceeds the keep-alive window. A series of non-integer values is read as Poisson *rates*;
* each environment level keeps a run of reuse until an idle eviction or a forced recycle; expected recycles
  follow from a renewal recursion over the level's uses (breaks assumed independent).

:func:`expected_cold_starts` is that closed form; :func:`simulate` replays the same assumptions invocation by
invocation (an event-level MRU pool, :mod:`lambda_workbook.poolsim`), so the two can be compared (``benchmarks/bench_coldstarts.py``).
Everything here is pure: data in, numbers and DataFrames out.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import billing, costs
from . import findings as _findings
from . import prices as _prices
from .analysis import per_snapshot
from .initpriors import init_prior, priors  # noqa: F401  (public: coldstarts.init_prior)
from .keepalive import (  # noqa: F401  (public: coldstarts.KeepAlive, SCENARIOS, keep_alive, ...)
    _UNSET,
    DEFAULT_SCENARIO,
    RECYCLE_MIN,
    SCENARIOS,
    KeepAlive,
    PoolCohorts,
    Sweeps,
    keep_alive,
    p_cold_after_idle,
)
from .memory import runtime_family
from .poolsim import ROUTINGS, Simulation, simulate  # noqa: F401  (public: coldstarts.simulate)
from .schema import KEY

# --------------------------------------------------------------------------------------------------------
# keep-alive: how long idle environments survive (lambda_workbook.keepalive; re-exported here)

MODELS = ("poisson", "peak")


# --------------------------------------------------------------------------------------------------------
# input series


def per_minute(invocations_per_minute, *, name: str = "invocations_per_minute") -> pd.Series:
    """Validate a per-minute series and fill its gaps: every minute from first to last, missing = 0.

    The index may hold timestamps on whole minutes (a DatetimeIndex) or minute numbers (integers). Values
    must be finite and >= 0; NaN counts as a missing minute.
    """
    s = invocations_per_minute
    if isinstance(s, (np.ndarray, list, tuple)):
        s = pd.Series(np.asarray(s, dtype=float))
    if not isinstance(s, pd.Series):
        raise ValueError(f"{name} must be a pandas Series indexed by minute, got {type(s).__name__}")
    try:
        values = pd.to_numeric(s, errors="raise").astype(float)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must hold numbers (invocations per minute)") from None
    values = values.fillna(0.0)
    bad = values[(values < 0) | ~np.isfinite(values)]
    if len(bad):
        raise ValueError(f"{name} must be finite and >= 0; minute {bad.index[0]} holds {float(bad.iloc[0])!r}")
    if values.empty:
        return values
    idx = values.index
    if isinstance(idx, pd.PeriodIndex):
        idx = idx.to_timestamp()
    if isinstance(idx, pd.TimedeltaIndex):
        idx = pd.Index((idx / pd.Timedelta(minutes=1)).to_numpy())
    values.index = idx
    if idx.has_duplicates:
        raise ValueError(f"{name} has duplicate minutes, e.g. {idx[idx.duplicated()][0]!r}")
    values = values.sort_index()
    idx = values.index
    if isinstance(idx, pd.DatetimeIndex):
        off = idx[idx != idx.floor("min")]
        if len(off):
            raise ValueError(f"{name} timestamps must fall on whole minutes, got {off[0]} "
                             "(resample to 1-minute sums first)")
        full = pd.date_range(idx[0], idx[-1], freq="min")
        return values.reindex(full, fill_value=0.0)
    if pd.api.types.is_numeric_dtype(idx):
        minutes = idx.to_numpy(dtype=float)
        if not np.all(np.isfinite(minutes)) or not np.all(minutes == np.round(minutes)):
            raise ValueError(f"{name} index must be whole minute numbers or timestamps, got {idx[0]!r}...")
        full = pd.RangeIndex(int(minutes[0]), int(minutes[-1]) + 1)
        values.index = minutes.astype(np.int64)
        return values.reindex(full, fill_value=0.0)
    raise ValueError(f"{name} index must be timestamps (DatetimeIndex) or minute numbers, got {type(idx).__name__}")


def _is_counts(values: np.ndarray, kind: str) -> bool:
    if kind == "counts":
        return True
    if kind == "rate":
        return False
    if kind != "auto":
        raise ValueError(f"kind must be 'auto', 'counts' or 'rate', got {kind!r}")
    return bool(np.all(values == np.round(values)))


def _durations(duration_ms, index: pd.Index) -> np.ndarray:
    if isinstance(duration_ms, pd.Series):
        d = pd.to_numeric(duration_ms, errors="coerce").astype(float)
        if isinstance(d.index, pd.DatetimeIndex) and isinstance(index, pd.DatetimeIndex):
            d = d.sort_index().reindex(index, method="ffill")
        else:
            d = d.reindex(index)
        mean = float(np.nanmean(d.to_numpy())) if d.notna().any() else float("nan")
        if not math.isfinite(mean):
            raise ValueError("duration_ms holds no usable duration for the minutes of the series")
        out = d.fillna(mean).to_numpy()
    else:
        if isinstance(duration_ms, bool):
            raise ValueError(f"duration_ms must be milliseconds, got {duration_ms!r}")
        try:
            out = np.full(len(index), float(duration_ms))
        except (TypeError, ValueError):
            raise ValueError(f"duration_ms must be milliseconds (a number or a per-minute Series), got {duration_ms!r}") from None
    if len(out) and (not np.all(np.isfinite(out)) or (out < 0).any() or (out > billing.TIMEOUT_MAX_MS).any()):
        raise ValueError(f"duration_ms must be between 0 and 900,000 ms (the 15-minute timeout), got {duration_ms!r}")
    return out


def _per_minute_param(value, index: pd.Index, name: str) -> np.ndarray:
    """A scalar or per-minute Series/array (provisioned concurrency, schedules) aligned with ``index``."""
    if isinstance(value, pd.Series):
        arr = value.reindex(index).fillna(0.0).to_numpy(dtype=float)
    else:
        arr = np.broadcast_to(np.asarray(value, dtype=float), (len(index),)).copy() if np.ndim(value) == 0 else \
            np.asarray(value, dtype=float)
    if arr.shape != (len(index),) or not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, a number or one value per minute of the series ({len(index)}), "
                         f"got {value!r}")
    return np.floor(arr + 1e-9)


# --------------------------------------------------------------------------------------------------------
# closed form

_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_USES_CAP = 64.0   # Beta(1, n) for n > 64 is within 0.016 min of 0: capping keeps quadrature accurate


def _p_sum_exceeds(a, b, c) -> np.ndarray:
    """P(A + B > c) for independent A ~ Beta(1, a), B ~ Beta(1, b) (first/last arrival offsets in a minute)."""
    a, b, c = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(a, b, c))
    out = np.where(c <= 0, 1.0, 0.0)
    mid = (c > 0) & (c < 2)
    if not mid.any():
        return out
    aa, bb, cc = (np.clip(v[mid], 1.0, _USES_CAP) if i < 2 else v[mid] for i, v in enumerate((a, b, c)))
    lo, hi = np.maximum(0.0, cc - 1.0), np.minimum(cc, 1.0)
    y = lo[:, None] + (hi - lo)[:, None] * (_GL_X + 1.0) / 2.0
    w = (hi - lo)[:, None] / 2.0 * _GL_W
    dens = bb[:, None] * (1.0 - y) ** (bb[:, None] - 1.0) * np.clip(1.0 - cc[:, None] + y, 0.0, 1.0) ** aa[:, None]
    tail = np.where(cc < 1.0, np.clip(1.0 - cc, 0.0, 1.0) ** bb, 0.0)
    out[mid] = np.clip((dens * w).sum(axis=1) + tail, 0.0, 1.0)
    return out


def _evict_after_gaps(gaps, uses_now, uses_before, ka: KeepAlive, shift) -> np.ndarray:
    """P(evicted) for uses separated by ``gaps`` whole empty minutes (idle = gap + A + B - duration).
    ``shift`` (minutes, a number or one per gap) moves the window: the duration, plus survived sweep steps."""
    g = np.asarray(gaps, dtype=float)
    sh = np.broadcast_to(np.asarray(shift, dtype=float), g.shape)
    out = np.zeros_like(g)
    k, w = ka.nodes()
    lo, hi = ka.idle_min[0] + sh, ka.idle_min[1] + sh
    sure = g >= hi
    out[sure] = 1.0
    maybe = ~sure & (g > lo - 2.0)
    if maybe.any():
        gm, sm = g[maybe], sh[maybe]
        a = np.broadcast_to(uses_now, g.shape)[maybe]
        b = np.broadcast_to(uses_before, g.shape)[maybe]
        for kj, wj in zip(k, w, strict=True):
            out[maybe] += wj * _p_sum_exceeds(a, b, kj + sm - gm)
    return np.clip(out, 0.0, 1.0)


def _evict_table(ka: KeepAlive, steps: np.ndarray | None, shift: float) -> tuple[np.ndarray, int]:
    """Eviction probability after ``j`` quiet minutes for each number of survived sweep steps (rows), and
    the span beyond which eviction is certain."""
    top = int(steps.max()) if steps is not None and len(steps) else 0
    step = ka.sweep.step_min if ka.sweep is not None else 0.0
    span = int(math.ceil(ka.idle_min[1] + shift + top * step))
    gaps = np.arange(span)
    return np.array([_evict_after_gaps(gaps, 1.0, 1.0, ka, shift + n * step) for n in range(top + 1)]), span


def _windowed_cold(up: np.ndarray, busy: np.ndarray, ka: KeepAlive, steps: np.ndarray | None = None) -> np.ndarray:
    """Expected cold starts per minute of one environment level.

    ``up``: P(an arrival raises concurrency to this level in the minute), a use that may find the level's
    environment gone; ``busy``: P(the level is in use at some moment of the minute), which keeps it warm.
    Minutes are treated as independent; the environment is freed at a uniform moment of its last busy minute
    and reused at a uniform moment of the next, so ``j`` quiet minutes in between mean ``j + U1 + U2`` idle.
    ``steps``: pool sweeps the level survives when it goes idle in each minute (its window grows by that
    many sweep steps; None: independent eviction).
    """
    evict, span = _evict_table(ka, steps, 0.0)
    m = len(up)
    bp = np.concatenate([np.zeros(span), busy])
    row = np.concatenate([np.zeros(span, dtype=np.int64), steps]) if steps is not None else np.zeros(span + m, np.int64)
    cum = np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(bp, 1.0 - 1e-12)))])
    t = np.arange(span, span + m)
    total = np.exp(cum[t] - cum[t - span])          # quiet for `span` minutes (or never used): surely cold
    for j in range(span):
        e = evict[row[t - 1 - j], j]
        if e.any():
            total += bp[t - 1 - j] * np.exp(cum[t] - cum[t - j]) * e
    return up * np.clip(total, 0.0, 1.0)


def _soon(busy: np.ndarray, ka: KeepAlive, shift: float, steps: np.ndarray | None = None) -> np.ndarray:
    """P(the level's environment is used again before it is evicted), looking forward from each minute: a
    recycle that falls due happens at that next use; otherwise the next use is an idle cold start (counted
    by the eviction side with the same eviction probabilities, so the two never both count)."""
    evict, span = _evict_table(ka, steps, shift)
    keep = 1.0 - evict
    m = len(busy)
    row = steps if steps is not None else np.zeros(m, dtype=np.int64)
    bp = np.concatenate([busy, np.zeros(span + 1)])
    cum = np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(bp, 1.0 - 1e-12)))])
    t = np.arange(m)
    out = np.zeros(m)
    for j in range(span):            # j quiet minutes, then a use
        kj = keep[row, j]
        if kj.any():
            out += np.exp(cum[t + j] - cum[t]) * bp[t + j] * kj
    return np.clip(out, 0.0, 1.0)


def _move_to_next_use(values: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Shift amounts in minutes without invocations to the next minute with some (dropped after the last)."""
    out = np.where(used, values, 0.0)
    quiet = np.flatnonzero(~used & (values > 0))
    if quiet.size:
        uses = np.flatnonzero(used)
        nxt = np.searchsorted(uses, quiet)
        ok = nxt < uses.size
        np.add.at(out, uses[nxt[ok]], values[quiet[ok]])
    return out


def _recycles(used: np.ndarray, hazard: np.ndarray, ka: KeepAlive) -> np.ndarray:
    """Expected forced recycles per minute of one environment level.

    Renewal recursion: the level's environment is replaced (``hazard`` per minute: an idle eviction, or a
    fresh environment from a higher level rotating down); one that lasts longer than its lifetime is
    recycled at its next use. With ``used`` marking minutes where the level is in use, a recycle at ``t``
    needs a reset at ``t - life - 1`` and none since: ``rec[t] = a[t-lag] * prod(1 - hazard)`` with
    ``a = hazard + rec``. Solved block by block (a block is one lifetime long), averaged over lifetimes.
    """
    m = len(used)
    out = np.zeros(m)
    lives, weights = ka.life_nodes()
    if m == 0 or lives.size == 0 or not used.max() > 1e-6:
        return out
    h = np.clip(hazard, 0.0, 1.0)
    cum = np.concatenate([[0.0], np.cumsum(-np.log1p(-np.minimum(h, 1.0 - 1e-12)))])
    for life, weight in zip(lives, weights, strict=True):
        lag = int(round(life)) + 1
        if lag >= m:
            continue
        # rows of one lifetime: a[row] = h[row] + coef[row] * a[row - 1], coef = used * survival over the lag
        rows = -(-m // lag)
        coef = np.zeros(rows * lag)
        t = np.arange(lag, m)
        coef[lag:m] = used[t] * np.exp(-(cum[t + 1] - cum[t + 1 - lag]))
        hh = np.zeros(rows * lag)
        hh[:m] = h
        coef, hh = coef.reshape(rows, lag), hh.reshape(rows, lag)
        a = hh.copy()
        rec = np.zeros_like(hh)
        for row in range(1, rows):
            rec[row] = coef[row] * a[row - 1]
            a[row] += rec[row]
        out += weight * rec.ravel()[:m]
    return out


def _occupancy(n: np.ndarray, d_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean busy environments per minute (arrivals x duration, spread over the minutes a long one spans),
    and the share of that an arrival adds to its own minute (what it does not see when it arrives)."""
    d = d_ms / 60000.0
    if np.all(d <= 1.0):
        return n * d, d
    dm = float(np.average(d, weights=n)) if n.sum() > 0 else float(d.mean())
    # expected overlap with minute t+j of a run of length dm starting uniformly in minute t
    span = int(math.ceil(dm)) + 1
    grid = np.linspace(0.0, 1.0, 201)
    kernel = np.array([np.trapezoid(np.clip(np.minimum(grid + dm, j + 1) - np.maximum(grid, j), 0, None), grid)
                       for j in range(span)])
    return np.convolve(n, kernel)[: len(n)], np.full(len(n), kernel[0])


def _reach(n: np.ndarray, d_ms: np.ndarray) -> np.ndarray:
    """Invocations that can be running during each minute: its own (when it has any) plus earlier ones
    whose duration carries them into it (0 for a minute without arrivals: nothing can be started then)."""
    back = int(math.ceil(float(d_ms.max()) / 60000.0)) if len(d_ms) else 0
    total = n.copy()
    for j in range(1, back + 1):
        total[j:] += n[:-j]
    return np.where(n > 0, total, 0.0)


def _peak_need(conc: np.ndarray, z: float) -> np.ndarray:
    """Environments the ``peak`` model needs in a minute: ``ceil(c + z sqrt c)``, a Poisson upper quantile."""
    return np.ceil(np.round(conc + z * np.sqrt(conc), 9))


def _level_usage(k: int, lam: np.ndarray, conc: np.ndarray, seen: np.ndarray, counts: bool, model: str,
                 z: float, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the k-th environment of the pool, per minute: P(an arrival raises concurrency to k) and
    P(concurrency is >= k at some moment of the minute). With observed counts, concurrency cannot exceed
    ``reach``: the invocations of the minute plus those still running from earlier minutes."""
    if model == "peak":
        need = _peak_need(conc, z)
        if counts:
            need = np.minimum(need, lam)
        used = ((lam > 0) & (need >= k)).astype(float)
        return used, used
    below = stats.poisson.cdf(k - 1, conc)
    rate = lam * stats.poisson.pmf(k - 1, seen)
    up = -np.expm1(-rate)
    if counts:
        up[reach < k] = 0.0
    busy = 1.0 - below * np.exp(-rate / np.maximum(below, 1e-300))
    return up, np.maximum(busy, up)


def _levels(lam: np.ndarray, conc: np.ndarray, counts: bool, model: str, z: float, cap: float) -> int:
    if not lam.any():
        return 0
    top = int(min(cap, lam.max() if counts else np.inf, 1e5))
    if model == "peak":
        return max(1, min(top, int(_peak_need(conc, z).max())))
    k = 1
    cmax = float(conc.max())
    while k < top:
        if k > cmax + 1 and float((lam * stats.poisson.pmf(k, conc)).sum()) < 1e-4:
            break
        k += 1
    return k


def cold_start_profile(invocations_per_minute, duration_ms, *, keep_alive_min=None, recycle_min=_UNSET,
                       model: str = "poisson", burst_z: float = 2.0, provisioned=0, max_concurrency=None,
                       kind: str = "auto") -> pd.DataFrame:
    """Expected cold starts per minute of a per-minute invocation series (the closed form).

    ``invocations_per_minute``: counts per minute (or Poisson rates when values are not whole numbers, or
    ``kind="rate"``), indexed by minute timestamps or minute numbers; missing minutes are 0. ``duration_ms``:
    mean duration, a number or a per-minute Series. ``keep_alive_min``/``recycle_min``: see :func:`keep_alive`.
    ``provisioned``: provisioned environments (a number, or per minute for a schedule) that take the first
    concurrent requests warm. ``max_concurrency``: reserved concurrency (levels above it throttle).
    Columns: invocations, concurrency, cold_starts, cold_idle, cold_recycle, provisioned.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if isinstance(burst_z, bool) or not (isinstance(burst_z, numbers.Real) and 0 <= burst_z <= 10):
        raise ValueError(f"burst_z must be a number of standard deviations between 0 and 10, got {burst_z!r}")
    cap = np.inf if max_concurrency is None or (isinstance(max_concurrency, float) and math.isnan(max_concurrency)) \
        else float(max_concurrency)
    if not cap >= 0:
        raise ValueError(f"max_concurrency must be >= 0 or None, got {max_concurrency!r}")
    ka = keep_alive(keep_alive_min, recycle_min=recycle_min)
    s = per_minute(invocations_per_minute)
    lam = s.to_numpy(dtype=float)
    counts = _is_counts(lam, kind)
    d_ms = _durations(duration_ms, s.index)
    pc = _per_minute_param(provisioned, s.index, "provisioned")
    conc, own = _occupancy(lam, d_ms)
    seen = np.maximum(conc - own, 0.0) if counts else conc   # given a count, an arrival sees the others
    reach = _reach(lam, d_ms)
    shift = float(np.average(d_ms, weights=lam) if lam.sum() > 0 else (d_ms.mean() if len(d_ms) else 0.0)) / 60000.0
    idle = np.zeros(len(lam))
    recycled = np.zeros(len(lam))
    landing = np.zeros(len(lam))   # fresh environments from higher levels rotating down to this one
    top = _levels(lam, conc, counts, model, burst_z, cap)

    def usage(k: int) -> tuple[np.ndarray, np.ndarray]:
        on_demand = pc < k
        if k == 1 and counts:
            q = ((lam > 0) & on_demand).astype(float)
            return q, q
        # a Poisson rate never makes a minute's first environment certain, whatever the model
        q, busy = _level_usage(k, lam, conc, seen, counts, "poisson" if k == 1 else model, burst_z, reach)
        return q * on_demand, busy * on_demand

    cohorts = PoolCohorts(ka.sweep, float(np.mean(ka.idle_min)), len(lam)) if ka.sweep is not None else None
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if cohorts is not None:          # first pass: how likely each level is to idle with the others
        keep = top * len(lam) <= 4_000_000
        for k in range(1, top + 1):
            cache[k] = usage(k)
            cohorts.add_level(cache[k][1], pc < k)
            if not keep:
                cache.pop(k)
    for k in range(top, 0, -1):
        q, busy = cache.pop(k) if k in cache else usage(k)
        steps = cohorts.steps(k, busy, pc < k) if cohorts is not None else None
        if not q.any():
            continue
        if k == 1 and counts:
            times = np.flatnonzero(q)
            cold = np.zeros(len(lam))
            uses = np.maximum(lam[times], 1.0)
            if model == "peak":
                need = np.maximum(np.minimum(_peak_need(conc, burst_z), lam), 1.0)
                uses = np.maximum(uses / need[times], 1.0)
            p = np.ones(times.size)
            extra = 0.0 if steps is None else steps[times[:-1]] * ka.sweep.step_min
            p[1:] = _evict_after_gaps(np.diff(times) - 1, uses[1:], uses[:-1], ka, shift + extra)
            cold[times] = p
        else:
            cold = _windowed_cold(q, busy, ka, steps)
        hazard = 1.0 - (1.0 - cold) * (1.0 - np.minimum(landing, 1.0))
        rec = _recycles(_soon(busy, ka, shift if k == 1 else 0.0, steps), hazard, ka)
        idle += cold
        recycled += rec
        landing += (cold + rec) / k
    if counts:   # a recycle falls due in a quiet minute but happens at the next invocation
        recycled = _move_to_next_use(recycled, lam > 0)
    total = np.minimum(idle + recycled, lam) if counts else idle + recycled
    return pd.DataFrame({"invocations": lam, "concurrency": conc, "cold_starts": total, "cold_idle": idle,
                         "cold_recycle": recycled, "provisioned": pc}, index=s.index)


def expected_cold_starts(invocations_per_minute, duration_ms, *, keep_alive_min=None, **options) -> float:
    """Expected number of cold starts over a per-minute invocation series.

    ``invocations_per_minute``: a pandas Series indexed by minute (timestamps or minute numbers; missing
    minutes count as 0); whole numbers are observed counts, other values Poisson rates. ``duration_ms``: mean
    invocation duration. ``keep_alive_min``: None = the default model (idle 4.95-5.80 min, pool sweeps,
    recycling ~2 h), a number = a fixed idle window in minutes for each environment on its own (recycling
    stays on; ``recycle_min=None`` turns it off), a ``(low, high)`` pair, a scenario name or a
    :class:`KeepAlive`. Other options: see :func:`cold_start_profile`.

    >>> import pandas as pd
    >>> s = pd.Series([1.0] + [0.0] * 30 + [1.0])    # two calls 31 minutes apart: both cold
    >>> round(expected_cold_starts(s, 100.0), 6)
    2.0
    """
    prof = cold_start_profile(invocations_per_minute, duration_ms, keep_alive_min=keep_alive_min, **options)
    return float(prof["cold_starts"].sum())


# --------------------------------------------------------------------------------------------------------
# event-level simulation (the check on the closed form): lambda_workbook.poolsim, re-exported here


# --------------------------------------------------------------------------------------------------------
# synthetic traffic (for what-if exploration)

PATTERNS = ("steady", "diurnal", "business", "sparse", "nightly", "bursty")


def synthetic_traffic(pattern: str, peak_per_min: float, *, days: int = 7,
                      start: str = "2026-01-05T00:00:00Z") -> pd.Series:
    """Expected invocations per minute (Poisson rates) of a named traffic pattern, peak = ``peak_per_min``.

    steady: flat; diurnal: a daily sine, low at 04:00 and high at 16:00 UTC; business: weekdays 08-18 UTC;
    sparse: 08-18 UTC every day at the rate given (meant for rates well below 1 a minute); nightly: a
    15-minute batch at 02:00 UTC; bursty: a tenth of the peak with a 20-minute burst at 18:00 UTC.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    if isinstance(peak_per_min, bool) or not (isinstance(peak_per_min, numbers.Real) and 0 <= peak_per_min < 1e7):
        raise ValueError(f"peak_per_min must be a rate between 0 and 1e7 invocations a minute, got {peak_per_min!r}")
    if isinstance(days, bool) or not (isinstance(days, numbers.Integral) and 1 <= days <= 62):
        raise ValueError(f"days must be a whole number between 1 and 62, got {days!r}")
    idx = pd.date_range(pd.Timestamp(start), periods=int(days) * 1440, freq="min")
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60.0
    weekday = idx.day_of_week.to_numpy() < 5
    r = float(peak_per_min)
    rate = {
        "steady": np.full(len(idx), r),
        "diurnal": r * (0.55 + 0.45 * np.sin((hour - 10.0) / 24.0 * 2 * np.pi)),
        "business": np.where(weekday & (hour >= 8) & (hour < 18), r, 0.02 * r),
        "sparse": np.where((hour >= 8) & (hour < 18), r, 0.0),
        "nightly": np.where((hour >= 2.0) & (hour < 2.25), r, 0.0),
        "bursty": np.where((hour >= 18.0) & (hour < 18.34), r, 0.1 * r),
    }[pattern]
    return pd.Series(rate, index=idx, name="invocations")


# --------------------------------------------------------------------------------------------------------
# INIT duration: observed, else a published prior (lambda_workbook.initpriors)


# --------------------------------------------------------------------------------------------------------
# latency with and without cold starts

_Z99 = float(stats.norm.ppf(0.99))


def _lognormal(p50: float, p99: float, what: str) -> tuple[float, float]:
    if not (p50 > 0 and math.isfinite(p50)):
        raise ValueError(f"{what} p50 must be > 0 ms, got {p50!r}")
    sigma = math.log(p99 / p50) / _Z99 if (math.isfinite(p99) and p99 > p50) else 0.0
    return math.log(p50), sigma


def _lognormal_cdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        logx = np.log(np.where(x > 0, x, np.nan))
    out = (logx >= mu).astype(float) if sigma == 0 else stats.norm.cdf((logx - mu) / sigma)
    return np.nan_to_num(out, nan=0.0)


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
    out = {f"p{round(q * 100):g}_warm": float(math.exp(mu + sigma * stats.norm.ppf(q))) for q in quantiles}
    if cold_share == 0 or not (init_p50_ms > 0):
        out.update({f"p{round(q * 100):g}": out[f"p{round(q * 100):g}_warm"] for q in quantiles})
        return out
    imu, isigma = _lognormal(init_p50_ms, init_p99_ms, "INIT")
    inits = np.exp(imu + isigma * stats.norm.ppf((np.arange(200) + 0.5) / 200))
    lo = math.exp(mu - 6 * sigma) if sigma else math.exp(mu) * 0.5
    x = np.geomspace(lo, math.exp(mu + 6 * sigma) + inits.max() * 1.5, 3000)
    warm = _lognormal_cdf(x, mu, sigma)
    cold = _lognormal_cdf(x[:, None] - inits[None, :], mu, sigma).mean(axis=1)
    mix = (1 - cold_share) * warm + cold_share * cold
    mix = np.maximum.accumulate(mix)
    for q in quantiles:
        out[f"p{round(q * 100):g}"] = float(np.interp(q, mix, x))
    return out


# --------------------------------------------------------------------------------------------------------
# provisioned concurrency and SnapStart


def pc_breakeven_utilization(*, arch: str = "x86_64", region: str = "us-east-1",
                             book: _prices.PriceBook | None = None) -> float:
    """Utilisation above which a provisioned environment costs less than on-demand for the same work.

    An environment busy a share ``u`` of the time costs ``allocation + u * pc_duration`` per GB-s
    provisioned, against ``u * on_demand_duration`` without it: break-even ``u* = allocation /
    (on_demand - pc_duration)``, at first-tier list prices (about 0.60 for both architectures in us-east-1).
    Requests cost the same either way; saved INIT is not counted.
    """
    billing.check_arch(arch)
    book = book or _prices.load(region)
    alloc = book.price(f"lambda.pc_allocation.{arch}")
    on_demand = book.price(f"lambda.duration.{arch}")
    served = book.price(f"lambda.pc_duration.{arch}")
    if not on_demand > served:
        raise ValueError(f"{region} prices: on-demand duration ({on_demand}) is not above the PC duration rate "
                         f"({served}) for {arch}; provisioned concurrency never breaks even")
    return float(alloc / (on_demand - served))


_SCHEDULE_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class Schedule:
    """Provisioned concurrency switched on at ``start_hour`` and off at ``end_hour`` on ``days`` (0 = Monday),
    in ``tz`` (an IANA zone name)."""

    start_hour: float = 8.0
    end_hour: float = 18.0
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour < self.end_hour <= 24):
            raise ValueError(f"schedule hours must satisfy 0 <= start < end <= 24, got {self.start_hour}-{self.end_hour}")
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError(f"schedule days must be weekday numbers 0-6 (0 = Monday), got {self.days!r}")
        try:
            pd.Timestamp("2026-01-01", tz=self.tz)
        except Exception:  # noqa: BLE001 - pandas raises several types for unknown zones
            raise ValueError(f"schedule time zone {self.tz!r} is not a known IANA zone (e.g. 'Europe/Berlin')") from None

    @property
    def label(self) -> str:
        names = list(_SCHEDULE_DAYS)
        days = ",".join(names[d] for d in self.days)
        return f"{days} {self.start_hour:02g}:00-{self.end_hour:02g}:00 {self.tz}"

    @classmethod
    def parse(cls, spec: str) -> Schedule:
        """``"mon-fri 08-18 Europe/Berlin"`` (days and time zone optional; ``"sat,sun 10-16"`` works too)."""
        parts = str(spec).split()
        days, hours, tz = (0, 1, 2, 3, 4), None, "UTC"
        for part in parts:
            p = part.lower()
            if p[:3] in _SCHEDULE_DAYS:
                days = _parse_days(p)
            elif p[:1].isdigit():
                hours = p
            else:
                tz = part
        if hours is None or "-" not in hours:
            raise ValueError(f"schedule must look like 'mon-fri 08-18 UTC', got {spec!r}")
        try:
            start, end = (float(h.split(":")[0]) for h in hours.split("-"))
        except ValueError:
            raise ValueError(f"schedule hours must look like 08-18, got {hours!r} in {spec!r}") from None
        return cls(start, end, days, tz)

    def mask(self, index: pd.Index) -> np.ndarray:
        """True for the minutes of ``index`` (timestamps; naive ones are UTC) inside the schedule."""
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError("a schedule needs a series indexed by timestamps, not minute numbers")
        ts = index.tz_localize("UTC") if index.tz is None else index
        local = ts.tz_convert(self.tz)
        hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
        return np.isin(local.day_of_week.to_numpy(), self.days) & (hour >= self.start_hour) & (hour < self.end_hour)


def _parse_days(text: str) -> tuple[int, ...]:
    out: list[int] = []
    for chunk in text.split(","):
        ends = chunk.split("-")
        try:
            a, b = _SCHEDULE_DAYS[ends[0][:3]], _SCHEDULE_DAYS[ends[-1][:3]]
        except KeyError:
            raise ValueError(f"schedule days must be like mon-fri or sat,sun, got {text!r}") from None
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return tuple(sorted(set(out)))


SNAPSTART_MINIMUM = {"java": (11,), "python": (3, 12), "dotnet": (8,)}
SNAPSTART_SOURCE = ("Java 11+ free; Python 3.12+ and .NET 8+ pay cache + restore (price book lambda.snapstart_*); not "
                    "with provisioned concurrency, /tmp > 512 MB, container images or OS-only runtimes: 'Improving "
                    "startup performance with Lambda SnapStart', https://docs.aws.amazon.com/lambda/latest/dg/"
                    "snapstart.html; 'AWS Lambda pricing', https://aws.amazon.com/lambda/pricing/")


def snapstart(runtime: str | None, *, package_type: str = "Zip", ephemeral_mb: float = 512,
              provisioned: float = 0.0) -> dict[str, Any]:
    """Whether SnapStart can be switched on, and whether it is charged (cache + restore)."""
    r = str(runtime or "").lower()
    family = runtime_family(r)
    version = _runtime_version(r)
    reason = ""
    minimum = SNAPSTART_MINIMUM.get(family)
    if str(package_type).lower() == "image":
        reason = "container images are not supported"
    elif minimum is None or version is None or version < minimum:
        reason = f"runtime {runtime or '(none)'} is not supported (Java 11+, Python 3.12+, .NET 8+)"
    if not reason and float(ephemeral_mb or 512) > 512:
        reason = f"ephemeral storage of {ephemeral_mb:g} MB (SnapStart allows up to 512 MB)"
    if not reason and float(provisioned or 0) > 0:
        reason = "provisioned concurrency is configured (the two exclude each other; it can replace it)"
    return {"eligible": not reason or reason.startswith("provisioned"), "blocked_by_pc": reason.startswith("provisioned"),
            "charged": family in ("python", "dotnet"), "reason": reason, "source": SNAPSTART_SOURCE}


def snapstart_words(option, runtime: str | None) -> str:
    """A priced option (a :func:`pc_options` row) in words; for SnapStart, its total and what of it SnapStart itself
    charges (:func:`snapstart_cost`: nothing for Java, cache and restore for Python and .NET, from the price book)."""
    total = f"${float(option['total_usd']):,.2f}/month"
    if option["option"] != "SnapStart":
        return f"{option['option']} would cost {total}"
    own = float(option.get("snapstart_usd", 0.0))
    if own != own:
        return (f"on demand with SnapStart and no PC the function would cost ${float(option['on_demand_usd']):,.2f}"
                "/month plus SnapStart's cache and restore charges, unknown (not in the price book for this "
                "architecture)")
    if own == 0 and runtime_family(runtime) == "java":
        charge = "SnapStart itself $0.00: no cache or restore charge for Java"
    else:
        charge = f"SnapStart's cache and restore ${own:,.2f}"
    return (f"on demand with SnapStart and no PC the function would cost {total} in all (invocations "
            f"${float(option['on_demand_usd']):,.2f}; {charge})")


def _runtime_version(runtime: str) -> tuple[int, ...] | None:
    digits = "".join(ch if ch.isdigit() or ch == "." else " " for ch in runtime).split()
    if not digits:
        return None
    try:
        return tuple(int(x) for x in digits[0].split(".") if x)
    except ValueError:
        return None


def snapstart_cost(memory_mb: float, restores: float, *, runtime: str | None, arch: str = "x86_64",
                   versions: int = 1, hours: float = billing.MONTH_HOURS, region: str = "us-east-1",
                   book: _prices.PriceBook | None = None) -> dict[str, Any]:
    """Monthly SnapStart charges: cache (GB-s per published version, minimum 3 h) and restores (per GB).

    Free for Java. The arm64 prices are not in the price book (unknown: NaN, and the note says so).
    """
    billing.check_arch(arch)
    if restores < 0 or versions < 0 or hours < 0:
        raise ValueError(f"restores, versions and hours must be >= 0, got {restores!r}, {versions!r}, {hours!r}")
    gb = float(memory_mb) / 1024.0
    if runtime_family(runtime) == "java":
        return {"cache_usd": 0.0, "restore_usd": 0.0, "total_usd": 0.0, "note": "free for Java managed runtimes"}
    book = book or _prices.load(region)
    cache_id, restore_id = f"lambda.snapstart_cache.{arch}", f"lambda.snapstart_restore.{arch}"
    if not (book.has(cache_id) and book.has(restore_id)):
        nan = float("nan")
        return {"cache_usd": nan, "restore_usd": nan, "total_usd": nan,
                "note": f"SnapStart prices for {arch} are not in the {book.region} price book: unknown"}
    cache = versions * gb * max(hours, 3.0) * 3600.0 * book.price(cache_id)
    restore = restores * gb * book.price(restore_id)
    note = "cache per published version + restore per GB restored"
    if math.isnan(cache + restore):
        note = f"SnapStart prices for {arch} are unknown (not published in the sources used)"
    return {"cache_usd": cache, "restore_usd": restore, "total_usd": cache + restore, "note": note}


# --------------------------------------------------------------------------------------------------------
# a snapshot's functions

MONTH_MINUTES = billing.MONTH_HOURS * 60.0


class _ByFunction:
    """A snapshot's per-function tables split by function once (filtering string columns is slow)."""

    def __init__(self, snapshot) -> None:
        self.snapshot = snapshot
        self._groups: dict[str, dict] = {}

    def rows(self, table: str, fn) -> pd.DataFrame:
        df = self.snapshot.tables[table]
        if table not in self._groups:
            self._groups[table] = dict(iter(df.groupby(KEY, sort=False))) if len(df) else {}
        return self._groups[table].get((fn["account_id"], fn["region"], fn["function_name"]), df.iloc[:0])


def _lookup(snapshot, name: str, account_id, region, index: _ByFunction | None):
    fn = snapshot.function(name, account_id=account_id, region=region)
    return fn, (index or _ByFunction(snapshot))


def invocation_series(snapshot, name: str, *, account_id: str | None = None, region: str | None = None,
                      _index: _ByFunction | None = None) -> pd.Series:
    """A function's invocations per minute over the snapshot window (missing minutes = 0).

    From the ``Invocations`` Sum metric at 60 s; when only coarser periods exist (windows beyond 15 days),
    each period's count is spread evenly over its minutes (whole invocations, evenly spaced), which keeps
    the gaps of sparse traffic about right. ``attrs["path"]`` says which.
    """
    fn, index = _lookup(snapshot, name, account_id, region, _index)
    rows = index.rows("metrics", fn)
    inv = rows[(rows["metric"] == "Invocations") & (rows["stat"] == "Sum")]
    idx = pd.date_range(pd.Timestamp(snapshot.manifest["start"]), pd.Timestamp(snapshot.manifest["end"]),
                        freq="min", inclusive="left")
    if inv.empty:
        out = pd.Series(0.0, index=idx, name="invocations")
        out.attrs["path"] = "metrics:Invocations (no datapoints: no traffic in the window)"
        return out
    period = int(inv["period_s"].min())
    sel = inv[inv["period_s"] == period]
    ts = sel["timestamp"].dt.floor("min")
    if period <= 60:
        out = sel.groupby(ts)["value"].sum().reindex(idx, fill_value=0.0)
        out.attrs["path"] = "metrics:Invocations (Sum, 60 s)"
    else:   # each period's count spread evenly over its minutes, as whole invocations
        width = period // 60
        totals = sel.assign(timestamp=ts).groupby("timestamp")["value"].sum()
        k = np.arange(width)
        n = np.round(totals.to_numpy())[:, None]
        per = np.floor(n * (k + 1) / width) - np.floor(n * k / width)
        stamps = totals.index.repeat(width) + pd.to_timedelta(np.tile(k, len(totals)), unit="min")
        out = pd.Series(per.ravel(), index=stamps).groupby(level=0).sum().reindex(idx, fill_value=0.0)
        out.attrs["path"] = f"metrics:Invocations (Sum, {period} s, each period's count spread evenly over its minutes)"
    out.name = "invocations"
    return out


def _metric(rows: pd.DataFrame, metric: str, stat: str) -> pd.Series:
    sel = rows[(rows["metric"] == metric) & (rows["stat"] == stat)]
    return sel.set_index("timestamp")["value"].sort_index()


def observed_concurrency(snapshot, name: str, *, account_id: str | None = None, region: str | None = None,
                         _index: _ByFunction | None = None) -> pd.Series:
    """The function's hourly ``ConcurrentExecutions`` Maximum (empty when the snapshot has none)."""
    fn, index = _lookup(snapshot, name, account_id, region, _index)
    return _metric(index.rows("metrics", fn), "ConcurrentExecutions", "Maximum").rename("concurrency_max_observed")


def init_estimate(snapshot, name: str, *, account_id: str | None = None, region: str | None = None,
                  _index: _ByFunction | None = None) -> dict[str, Any]:
    """INIT duration of a function: from its REPORT statistics, else its raw REPORT lines, else the prior."""
    fn, index = _lookup(snapshot, name, account_id, region, _index)
    rep = index.rows("reports", fn)
    if len(rep) and rep["cold_starts"].iloc[0] > 0 and pd.notna(rep["init_p50_ms"].iloc[0]):
        r = rep.iloc[0]
        mean = r["init_mean_ms"] if pd.notna(r["init_mean_ms"]) else r["init_p50_ms"]
        p99 = r["init_p99_ms"] if pd.notna(r["init_p99_ms"]) else r["init_p50_ms"]
        return {"p50_ms": float(r["init_p50_ms"]), "p99_ms": float(p99), "mean_ms": float(mean),
                "n": int(r["cold_starts"]), "source": f"reports:{r['path']}"}
    samples = index.rows("report_samples", fn)
    if len(samples):
        from . import logs  # the REPORT parser (only needed for raw lines)

        inits = logs.parse_reports(samples["message"])["init_duration_ms"].dropna()
        if len(inits):
            return {"p50_ms": float(inits.median()), "p99_ms": float(inits.quantile(0.99)),
                    "mean_ms": float(inits.mean()), "n": int(len(inits)), "source": "report_samples (raw REPORT lines)"}
    prior = init_prior(fn["runtime"], fn["package_type"], fn["code_size_bytes"], vpc=bool(fn["vpc_id"]), arch=fn["arch"])
    return {"p50_ms": prior["median_ms"], "p99_ms": prior["high_ms"], "mean_ms": prior["median_ms"], "n": 0,
            "source": "prior: " + "; ".join(prior["sources"]), "low_ms": prior["low_ms"], "high_ms": prior["high_ms"]}


def _duration(metrics: pd.DataFrame, rep: pd.DataFrame) -> tuple[float, float, float, str]:
    """Mean, p50, p99 warm duration (ms) and where they came from."""
    if len(rep) and pd.notna(rep["duration_mean_ms"].iloc[0]):
        r = rep.iloc[0]
        return float(r["duration_mean_ms"]), float(r["duration_p50_ms"]), float(r["duration_p99_ms"]), \
            f"reports ({r['path']})"
    avg = _metric(metrics, "Duration", "Average")
    if avg.empty:
        return float("nan"), float("nan"), float("nan"), "none"
    p50, p99 = _metric(metrics, "Duration", "p50"), _metric(metrics, "Duration", "p99")
    mean = float(avg.mean())
    return mean, float(p50.median()) if len(p50) else mean, float(p99.median()) if len(p99) else mean, \
        "metrics: Duration hourly"


def _observed(rep: pd.DataFrame) -> tuple[float, float, str]:
    """Observed cold starts and invocations over the window (REPORT statistics), scaled by sampling."""
    if rep.empty:
        return float("nan"), float("nan"), "no REPORT statistics"
    r = rep.iloc[0]
    frac = float(r["sampled_fraction"]) if pd.notna(r["sampled_fraction"]) and r["sampled_fraction"] > 0 else 1.0
    path = f"reports:{r['path']} (cold starts" + (f", {frac:.0%} sampled)" if frac < 0.999 else ")")
    return float(r["cold_starts"]) / frac, float(r["invocations"]) / frac, path


def _calibrate(modelled: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    """Pick the routing model whose modelled cold starts sit closest (median |log ratio|) to the observed."""
    ok = modelled[(modelled["observed_cold_starts"] >= 10) & (modelled["invocations"] >= 100)
                  & (modelled["provisioned"] == 0)]
    errors = {}
    for model in MODELS:
        ratio = ok[f"modelled_{model}"].clip(lower=0.5) / ok["observed_cold_starts"]
        errors[model] = float(np.median(np.abs(np.log(ratio)))) if len(ok) else float("nan")
    if not len(ok):
        return "poisson", {"functions": 0, "median_abs_log_error": errors,
                           "note": "no observed cold starts to calibrate against: default model"}
    best = min(MODELS, key=lambda m: errors[m])
    return best, {"functions": int(len(ok)), "median_abs_log_error": errors,
                  "note": f"{best} fits the observed REPORT cold starts best"}


@per_snapshot
def analyse(snapshot, *, keep_alive_min=None, model: str = "auto", billing_date=None,
            book: _prices.PriceBook | None = None) -> pd.DataFrame:
    """One row per function: modelled vs observed cold starts, INIT, latency, and what cold starts cost.

    ``model``: a routing model (``"poisson"``: a most-recently-used pool; ``"peak"``: requests spread over a
    pool sized to each minute's peak) or ``"auto"``, which picks the one closer to the observed REPORT cold
    starts (``attrs["model"]``, ``attrs["calibration"]``). Observed counts are the evidence where they exist
    (``cold_starts`` / ``cold_source``); the model fills in where they do not. Money is per 730-hour month at
    list prices, INIT billed per the rules on ``billing_date`` (default: the snapshot's end).
    """
    if model not in ("auto", *MODELS):
        raise ValueError(f"model must be 'auto' or one of {MODELS}, got {model!r}")
    ka = keep_alive(keep_alive_min)
    when = billing_date or str(snapshot.manifest["end"])[:10]
    billing.init_is_billed(billing_date=when)   # a bad date fails here, before the work
    index = _ByFunction(snapshot)
    rows = [_analyse_one(snapshot, index, pd.Series(fn), ka)
            for fn in snapshot.functions.sort_values(KEY).to_dict("records")]
    table = pd.DataFrame(rows)
    chosen, calibration = _calibrate(table) if len(table) else ("poisson", {"functions": 0})
    if model != "auto":
        calibration["note"] = f"{model} chosen by the caller ({calibration.get('note', '')})"
        chosen = model
    if len(table):
        table["model"] = chosen
        table["modelled_cold_starts"] = table[f"modelled_{chosen}"]
        have = table["observed_cold_starts"].notna()
        table["cold_starts"] = table["observed_cold_starts"].where(have, table["modelled_cold_starts"])
        table["cold_source"] = table["observed_path"].where(have, "model: " + chosen + ", " + ka.label)
        _money_and_latency(table, snapshot, when, book)
    table.attrs.update({"model": chosen, "calibration": calibration, "keep_alive": ka.label,
                        "billing_date": when})
    return table


def _analyse_one(snapshot, index: _ByFunction, fn: pd.Series, ka: KeepAlive) -> dict[str, Any]:
    name, where = fn["function_name"], {"account_id": fn["account_id"], "region": fn["region"], "_index": index}
    rep, trig, metrics = index.rows("reports", fn), index.rows("triggers", fn), index.rows("metrics", fn)
    series = invocation_series(snapshot, name, **where)
    mean_ms, p50_ms, p99_ms, dur_path = _duration(metrics, rep)
    observed, observed_inv, observed_path = _observed(rep)
    pc = 0.0 if pd.isna(fn["provisioned_concurrency"]) else float(fn["provisioned_concurrency"])
    reserved = None if pd.isna(fn["reserved_concurrency"]) else float(fn["reserved_concurrency"])
    init = init_estimate(snapshot, name, **where)
    conc_obs = _metric(metrics, "ConcurrentExecutions", "Maximum")
    row = {k: fn[k] for k in ("account_id", "region", "function_name", "runtime", "package_type", "memory_mb",
                              "arch", "layer_count", "ephemeral_storage_mb")}
    row.update({
        "code_size_mb": float(fn["code_size_bytes"]) / 2**20, "vpc": bool(fn["vpc_id"]), "provisioned": pc,
        "reserved": reserved if reserved is not None else np.nan,
        "sync": bool(trig["sync"].any()) if len(trig) else False,
        "triggers": ", ".join(sorted(set(trig["source_type"]))) if len(trig) else "",
        "invocations": float(series.sum()), "series_path": series.attrs.get("path", ""),
        "duration_mean_ms": mean_ms, "duration_p50_ms": p50_ms, "duration_p99_ms": p99_ms, "duration_path": dur_path,
        "observed_cold_starts": observed, "observed_invocations": observed_inv, "observed_path": observed_path,
        "init_p50_ms": init["p50_ms"], "init_p99_ms": init["p99_ms"], "init_mean_ms": init["mean_ms"],
        "init_source": init["source"],
        "concurrency_mean": float(series.sum() * mean_ms / 60000.0 / max(len(series), 1)) if mean_ms == mean_ms else np.nan,
        "concurrency_peak": float(conc_obs.max()) if len(conc_obs) else np.nan,
    })
    for model in MODELS:
        row[f"modelled_{model}"] = _modelled(series, mean_ms, ka, model, pc, reserved)
    ss = snapstart(fn["runtime"], package_type=fn["package_type"], ephemeral_mb=fn["ephemeral_storage_mb"],
                   provisioned=pc)
    row.update({"snapstart_eligible": ss["eligible"], "snapstart_note": ss["reason"] or
                ("free (Java)" if not ss["charged"] else "cache + restore charged")})
    return row


def _modelled(series: pd.Series, duration_ms: float, keep_alive_min, model: str, provisioned: float,
              reserved) -> float:
    """A snapshot function's modelled cold starts (0 without traffic or a known duration); NaN reserved = none."""
    if not (series.sum() > 0 and duration_ms == duration_ms):
        return 0.0
    return expected_cold_starts(series, duration_ms, keep_alive_min=keep_alive_min, model=model,
                                provisioned=provisioned, max_concurrency=None if pd.isna(reserved) else reserved)


def _book_for(book: _prices.PriceBook | None, region: str) -> _prices.PriceBook:
    return book if book is not None and book.region == region else _prices.load(region)


def _money_and_latency(table: pd.DataFrame, snapshot, when: str, book) -> None:
    factor = costs.month_factor(snapshot)
    inv = table["invocations"].where(table["invocations"] > 0)
    table["cold_share"] = (table["cold_starts"] / inv).clip(upper=1.0)
    table["cold_starts_month"] = table["cold_starts"] * factor
    init_usd, billed, share, p99, p99_warm, on_demand = ([] for _ in range(6))
    for r in table.itertuples():
        rbook = _book_for(book, r.region)
        n = r.invocations * factor
        d = r.duration_mean_ms if r.duration_mean_ms == r.duration_mean_ms else 0.0
        cold = min(r.cold_starts_month, n)
        b = billing.breakdown(n, d, r.memory_mb, arch=r.arch, init_ms=r.init_mean_ms, cold_starts=cold,
                              package_type=r.package_type, runtime=r.runtime, billing_date=when,
                              ephemeral_mb=r.ephemeral_storage_mb, book=rbook) if n > 0 else None
        init_usd.append(b["init_usd"] if b else 0.0)
        on_demand.append(b["total_usd"] if b else 0.0)
        billed.append(billing.init_is_billed(billing_date=when, package_type=r.package_type, runtime=r.runtime))
        total_ms = n * d + cold * r.init_mean_ms
        share.append(cold * r.init_mean_ms / total_ms if total_ms > 0 else 0.0)
        if d > 0 and r.duration_p50_ms == r.duration_p50_ms:
            lat = latency_quantiles(r.duration_p50_ms, r.duration_p99_ms, r.init_p50_ms, r.init_p99_ms,
                                    float(r.cold_share) if r.cold_share == r.cold_share else 0.0)
            p99.append(lat["p99"])
            p99_warm.append(lat["p99_warm"])
        else:
            p99.append(np.nan)
            p99_warm.append(np.nan)
    table["init_billed"] = billed
    table["init_usd_month"] = init_usd
    table["on_demand_usd_month"] = on_demand
    table["init_share_of_time"] = share
    table["p99_warm_ms"] = p99_warm
    table["p99_ms"] = p99
    table["p99_inflation"] = table["p99_ms"] / table["p99_warm_ms"]
    util = table["concurrency_mean"] / table["provisioned"].where(table["provisioned"] > 0)
    table["pc_utilisation"] = util
    table["pc_breakeven"] = [pc_breakeven_utilization(arch=a, region=g, book=_book_for(book, g))
                             for a, g in zip(table["arch"], table["region"], strict=True)]


VIEW = {"function_name": "function", "account_id": "account", "runtime": "runtime", "invocations": "invocations",
        "observed_cold_starts": "observed cold", "modelled_cold_starts": "modelled cold", "cold_share": "cold %",
        "init_p50_ms": "INIT p50 (ms)", "init_source": "INIT from", "p99_warm_ms": "p99 warm (ms)",
        "p99_ms": "p99 with cold (ms)", "init_share_of_time": "INIT % of time", "init_usd_month": "INIT $/mo",
        "provisioned": "PC", "concurrency_peak": "peak conc."}


def view(table: pd.DataFrame) -> pd.DataFrame:
    """The analysis table with readable headers and rounding, for display."""
    out = table[list(VIEW)].rename(columns=VIEW).copy()
    out["cold %"] = (out["cold %"] * 100).round(3)
    out["INIT % of time"] = (out["INIT % of time"] * 100).round(2)
    out["INIT from"] = out["INIT from"].str.split(" ").str[0]
    for col in ("observed cold", "modelled cold", "INIT p50 (ms)", "p99 warm (ms)", "p99 with cold (ms)"):
        out[col] = out[col].round(0)
    out["INIT $/mo"] = out["INIT $/mo"].round(2)
    return out.sort_values("cold %", ascending=False, ignore_index=True)


@per_snapshot
def scenarios(snapshot, table: pd.DataFrame | None = None, *, names=tuple(SCENARIOS), model: str | None = None,
              functions=None) -> pd.DataFrame:
    """Modelled cold starts per function under each keep-alive scenario (rows: functions; columns: scenarios)."""
    table = analyse(snapshot) if table is None else table
    model = model or table.attrs.get("model", "poisson")
    rows = table if functions is None else table[table["function_name"].isin(functions)]
    index = _ByFunction(snapshot)
    out = {}
    for r in rows.itertuples():
        series = invocation_series(snapshot, r.function_name, account_id=r.account_id, region=r.region, _index=index)
        out[r.function_name] = {name: _modelled(series, r.duration_mean_ms, name, model, r.provisioned, r.reserved)
                                for name in names}
    df = pd.DataFrame.from_dict(out, orient="index")
    df.index.name = "function_name"
    return df


# --------------------------------------------------------------------------------------------------------
# provisioned concurrency options for one function


def busy_schedule(invocations_per_minute, *, share: float = 0.25) -> Schedule:
    """A schedule covering the hours the traffic uses: hours of the day (UTC) whose mean invocations reach
    ``share`` of the busiest hour's, on weekdays only when weekends are quieter than that share."""
    s = per_minute(invocations_per_minute)
    if not isinstance(s.index, pd.DatetimeIndex) or s.sum() <= 0:
        raise ValueError("busy_schedule needs a timestamped series with some traffic")
    idx = s.index.tz_localize("UTC") if s.index.tz is None else s.index.tz_convert("UTC")
    by_hour = s.groupby(idx.hour).mean()
    busy = by_hour.index[by_hour >= share * by_hour.max()]
    weekday = idx.day_of_week < 5
    wk, we = s[weekday].mean() if weekday.any() else 0.0, s[~weekday].mean() if (~weekday).any() else 0.0
    days = (0, 1, 2, 3, 4) if we < share * wk else tuple(range(7))
    return Schedule(float(busy.min()), float(busy.max()) + 1.0, days, "UTC")


def pc_options(invocations_per_minute, duration_ms: float, memory_mb: float, *, arch: str = "x86_64",
               init_ms: float = 0.0, counts=(0,), schedule: Schedule | str | None = None, keep_alive_min=None,
               model: str = "poisson", max_concurrency=None, runtime: str | None = None, package_type: str = "Zip",
               ephemeral_mb: float = 512, billing_date=None, snapstart_option: bool = True, latency=None,
               region: str = "us-east-1", book: _prices.PriceBook | None = None) -> pd.DataFrame:
    """Monthly cost of serving a per-minute traffic series on demand, with N provisioned environments
    (always on, or on a ``schedule``), or with SnapStart, at list prices.

    Provisioned environments serve an arrival when one of them is free (Erlang-B: the N environments as a
    loss system offered the minute's load); the rest spill over to on-demand environments, whose cold starts
    and billed INIT come from :func:`cold_start_profile`. ``latency``: optional ``(warm_p50, warm_p99, init_p50, init_p99)`` ms for a
    p99 per option. A month is 730 hours; the series is scaled to it.
    """
    billing.check_arch(arch)
    s = per_minute(invocations_per_minute)
    if s.empty or s.sum() <= 0:
        raise ValueError("pc_options needs a series with some invocations")
    book = book or _prices.load(region)
    lam = s.to_numpy(dtype=float)
    d = float(duration_ms)
    if not (d > 0 and math.isfinite(d)):
        raise ValueError(f"duration_ms must be > 0 ms, got {duration_ms!r}")
    conc, _ = _occupancy(lam, np.full(len(lam), d))
    factor = MONTH_MINUTES / len(s)
    sched = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    plans: list[tuple[str, int, Schedule | None]] = []
    for n in sorted({int(c) for c in counts}):
        if n < 0:
            raise ValueError(f"provisioned counts must be >= 0, got {n}")
        plans.append(("on-demand" if n == 0 else f"PC {n}, always on", n, None))
        if sched is not None and n > 0 and not sched.mask(s.index).all():
            plans.append((f"PC {n}, {sched.label}", n, sched))
    rows = []
    for label, n, sc in plans:
        on = sc.mask(s.index) if sc is not None else np.ones(len(s), dtype=bool)
        pc = np.where(on, n, 0)
        served = float((lam * (1.0 - erlang_b(pc, conc))).sum())
        total = float(lam.sum())
        spill = total - served
        cold = float(cold_start_profile(s, d, keep_alive_min=keep_alive_min, model=model, provisioned=pc,
                                        max_concurrency=max_concurrency)["cold_starts"].sum())
        rows.append(_option_row(label, n, sc, on, served, spill, cold, total, factor, d, memory_mb, arch, init_ms,
                                runtime, package_type, ephemeral_mb, billing_date, book, latency))
    ss = snapstart(runtime, package_type=package_type, ephemeral_mb=ephemeral_mb)
    if snapstart_option and ss["eligible"]:
        base = rows[0] if plans and plans[0][1] == 0 else None
        cold = base["cold_starts_month"] / factor if base else float(cold_start_profile(
            s, d, keep_alive_min=keep_alive_min, model=model, max_concurrency=max_concurrency)["cold_starts"].sum())
        row = _option_row("SnapStart", 0, None, np.zeros(len(s), dtype=bool), 0.0, float(lam.sum()), cold,
                          float(lam.sum()), factor, d, memory_mb, arch, 0.0, runtime, package_type, ephemeral_mb,
                          billing_date, book, None)
        extra = snapstart_cost(memory_mb, cold * factor, runtime=runtime, arch=arch, book=book)
        row.update({"snapstart_usd": extra["total_usd"], "total_usd": row["total_usd"] + extra["total_usd"],
                    "note": "INIT runs at publish time; restores replace it. " + extra["note"]
                    + "; restore latency is not published (AWS: 'as low as sub-second')"})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update({"breakeven_utilisation": pc_breakeven_utilization(arch=arch, book=book),
                      "prices_as_of": book.as_of, "month_factor": factor})
    return out


def erlang_b(servers, load) -> np.ndarray:
    """Erlang-B blocking: the share of Poisson arrivals that find all ``servers`` busy when ``load``
    (arrival rate x duration) is offered to them; vectorised. Overflow goes to on-demand environments."""
    n = np.asarray(servers, dtype=float)
    a = np.asarray(load, dtype=float)
    n, a = np.broadcast_arrays(n, a)
    b = np.ones(n.shape)
    for k in range(1, int(n.max()) + 1 if n.size else 1):
        step = a * b / (k + a * b)
        b = np.where(n >= k, step, b)
    return b


def pc_count_for_cost(invocations_per_minute, duration_ms: float, *, arch: str = "x86_64",
                      region: str = "us-east-1", book: _prices.PriceBook | None = None) -> int:
    """The number of always-on provisioned environments that minimises cost (cold starts aside).

    Provisioned environments take work first (overflow goes on demand: an Erlang loss system), so the k-th
    carries ``load * (B(k-1) - B(k))`` with ``B`` the Erlang-B blocking; each one pays for itself while that
    stays above the break-even utilisation.
    """
    s = per_minute(invocations_per_minute)
    lam = s.to_numpy(dtype=float)
    if lam.sum() <= 0:
        return 0
    conc, _ = _occupancy(lam, np.full(len(lam), float(duration_ms)))
    limit = pc_breakeven_utilization(arch=arch, region=region, book=book)
    k, blocked = 0, np.ones(len(conc))
    while True:
        nxt = conc * blocked / (k + 1 + conc * blocked)          # Erlang-B recursion, one server more
        if float((conc * (blocked - nxt)).mean()) < limit:        # load the (k+1)-th environment would carry
            return k
        k, blocked = k + 1, nxt


def _option_row(label, n, sched, on, served, spill, cold, total, factor, d, memory_mb, arch, init_ms, runtime,
                package_type, ephemeral_mb, billing_date, book, latency) -> dict[str, Any]:
    hours = float(on.sum()) / 60.0 * factor if n > 0 else 0.0
    pc = billing.provisioned_cost(n, memory_mb, hours, arch=arch, invocations=served * factor, duration_ms=d,
                                  book=book) if n > 0 else {"allocation_usd": 0.0, "served_usd": 0.0}
    spill_m = spill * factor
    cold_m = min(cold * factor, spill_m)
    od = billing.breakdown(spill_m, d, memory_mb, arch=arch, init_ms=init_ms, cold_starts=cold_m,
                           package_type=package_type, runtime=runtime, billing_date=billing_date,
                           ephemeral_mb=ephemeral_mb, book=book) if spill_m > 0 else {"total_usd": 0.0, "init_usd": 0.0}
    util = served * d / (float(on.sum()) * n * 60000.0) if n > 0 and on.any() else float("nan")
    row = {"option": label, "provisioned": n, "schedule": sched.label if sched is not None else "",
           "pc_hours_month": hours, "invocations_month": total * factor,
           "served_by_pc": served / total if total else 0.0, "cold_starts_month": cold_m,
           "cold_share": cold_m / (total * factor) if total else 0.0, "pc_utilisation": util,
           "pc_allocation_usd": pc["allocation_usd"], "pc_served_usd": pc["served_usd"],
           "on_demand_usd": od["total_usd"], "init_usd": od["init_usd"], "snapstart_usd": 0.0,
           "total_usd": pc["allocation_usd"] + pc["served_usd"] + od["total_usd"], "note": ""}
    if latency is not None:
        warm50, warm99, init50, init99 = latency
        row["p99_ms"] = latency_quantiles(warm50, warm99, init50, init99, row["cold_share"])["p99"]
    return row


OPTION_VIEW = {"option": "option", "cold_starts_month": "cold starts/mo", "cold_share": "cold %",
               "served_by_pc": "served by PC %", "pc_utilisation": "PC utilisation %", "pc_allocation_usd": "PC alloc $",
               "pc_served_usd": "PC duration $", "on_demand_usd": "on-demand $", "init_usd": "of which INIT $",
               "snapstart_usd": "SnapStart $", "total_usd": "total $/mo", "p99_ms": "p99 (ms)"}


def options_view(options: pd.DataFrame) -> pd.DataFrame:
    """The options table with readable headers and rounding, for display."""
    cols = [c for c in OPTION_VIEW if c in options]
    out = options[cols].rename(columns=OPTION_VIEW).copy()
    for col in ("cold %", "served by PC %", "PC utilisation %"):
        if col in out:
            out[col] = (out[col] * 100).round(2)
    for col in ("PC alloc $", "PC duration $", "on-demand $", "of which INIT $", "SnapStart $", "total $/mo"):
        out[col] = out[col].round(2)
    out["cold starts/mo"] = out["cold starts/mo"].round(0)
    if "p99 (ms)" in out:
        out["p99 (ms)"] = out["p99 (ms)"].round(0)
    return out.set_index("option")


# --------------------------------------------------------------------------------------------------------
# one function in depth


@dataclass
class FunctionColdStarts:
    """Everything the notebook shows about one function's cold starts (see :func:`for_function`)."""

    row: pd.Series
    series: pd.Series
    profile: pd.DataFrame
    hourly: pd.DataFrame
    options: pd.DataFrame
    scenarios: pd.Series
    schedule: Schedule | None
    model: str
    keep_alive: KeepAlive = field(default_factory=lambda: SCENARIOS[DEFAULT_SCENARIO])


def for_function(snapshot, name: str, *, table: pd.DataFrame | None = None, account_id: str | None = None,
                 region: str | None = None, keep_alive_min=None, schedule: Schedule | str | None = "auto",
                 book: _prices.PriceBook | None = None, _index: _ByFunction | None = None) -> FunctionColdStarts:
    """One function: its per-minute traffic and modelled cold starts, the hourly profile against observed
    concurrency, and the provisioned-concurrency / SnapStart options priced for a month.

    ``table``: a previous :func:`analyse` result (its row and routing model are reused; otherwise the whole
    snapshot is analysed to calibrate the model). ``schedule``: ``"auto"`` (the busy hours of the traffic),
    a :class:`Schedule` or spec string, or None.
    """
    fn = snapshot.function(name, account_id=account_id, region=region)
    table = analyse(snapshot, keep_alive_min=keep_alive_min, book=book) if table is None else table
    match = table[(table["function_name"] == name) & (table["account_id"] == fn["account_id"])
                  & (table["region"] == fn["region"])]
    if match.empty:
        raise KeyError(f"function {name!r} is not in the analysis table")
    row = match.iloc[0]
    model = str(row.get("model", table.attrs.get("model", "poisson")))
    ka = keep_alive(keep_alive_min)
    index = _index or _ByFunction(snapshot)
    series = invocation_series(snapshot, name, account_id=fn["account_id"], region=fn["region"], _index=index)
    reserved = None if pd.isna(row["reserved"]) else row["reserved"]
    d = row["duration_mean_ms"]
    active = series.sum() > 0 and d == d
    profile = cold_start_profile(series, d if active else 1.0, keep_alive_min=ka, model=model,
                                 provisioned=row["provisioned"], max_concurrency=reserved)
    hourly = profile[["invocations", "cold_starts"]].resample("h").sum()
    hourly["concurrency_mean"] = profile["concurrency"].resample("h").mean()
    hourly["provisioned"] = profile["provisioned"].resample("h").mean()
    observed = observed_concurrency(snapshot, name, account_id=fn["account_id"], region=fn["region"], _index=index)
    hourly["concurrency_max_observed"] = observed.reindex(hourly.index).fillna(0.0) if len(observed) else np.nan
    sched = None
    if schedule == "auto" and active:
        sched = busy_schedule(series)
    elif isinstance(schedule, (Schedule, str)) and schedule != "auto":
        sched = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    options = pd.DataFrame()
    if active:
        peak = int(np.nanmax([row["concurrency_peak"], 1.0])) if row["concurrency_peak"] == row["concurrency_peak"] \
            else int(max(1, math.ceil(hourly["concurrency_mean"].max())))
        counts = {0, peak, int(row["provisioned"])}
        options = pc_options(series, d, row["memory_mb"], arch=row["arch"], init_ms=row["init_mean_ms"],
                             counts=sorted(counts), schedule=sched, keep_alive_min=ka, model=model,
                             max_concurrency=reserved, runtime=row["runtime"], package_type=row["package_type"],
                             ephemeral_mb=row["ephemeral_storage_mb"], billing_date=table.attrs.get("billing_date"),
                             latency=(row["duration_p50_ms"], row["duration_p99_ms"], row["init_p50_ms"],
                                      row["init_p99_ms"]), region=row["region"], book=_book_for(book, row["region"]))
        options["current"] = options["provisioned"].eq(int(row["provisioned"])) & options["schedule"].eq("") & \
            ~options["option"].eq("SnapStart")
    scen = pd.Series({n: _modelled(series, d, n, model, row["provisioned"], reserved) for n in SCENARIOS},
                     name="cold_starts")
    return FunctionColdStarts(row, series, profile, hourly, options, scen, sched, model, ka)


# --------------------------------------------------------------------------------------------------------
# findings: the seed's init checklist, from evidence

THRESHOLDS: dict[str, float | None] = {
    "min_cold_share": 0.01,        # AWS: INITs are typically < 1% of invocations [INIT-NEWS]
    "min_cold_starts": 10.0,       # evidence floor over the window
    "min_p99_inflation": 1.5,      # p99 with cold starts / p99 of warm invocations (synchronous callers)
    "min_init_usd": 5.0,           # billed INIT per month worth a finding on its own
    "init_heavy_ms": 1000.0,       # observed INIT p50
    "init_share": 0.25,            # INIT share of the function's billed time
    "pc_utilisation": None,        # None = the price book's break-even utilisation
    "min_savings_usd": 5.0,        # provisioned-concurrency changes worth proposing
    "spillover_share": 0.01,       # provisioned concurrency too small
    "setup_calls_per_invocation": 0.5,
    "medium_usd": 10.0,            # severity of a priced saving: medium from this USD a month (the review's)
    "high_usd": 100.0,             # ... high from this
}
FINDING_COLUMNS = ["id", "severity", "function", "account_id", "region", "title", "evidence", "evidence_path",
                   "monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "recommendation",
                   "section", "heuristic"]
SETUP_OPERATIONS = {"secretsmanager": ("getsecretvalue",), "ssm": ("getparameter",), "kms": ("decrypt",),
                    "sts": ("assumerole", "getcalleridentity"), "appconfig": ("getconfiguration", "startconfiguration")}
SETUP_WORDS = ("connect", "handshake", "createclient", "login", "newclient", "init")


def _thresholds(overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(THRESHOLDS))
    if unknown:
        raise ValueError(f"unknown threshold(s) {unknown}; coldstarts.findings takes {', '.join(THRESHOLDS)}")
    out = dict(THRESHOLDS)
    for key, value in overrides.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0):
            raise ValueError(f"threshold {key!r} must be a number >= 0 (or None), got {value!r}")
        out[key] = value
    return out


def _finding(r, fid: str, severity: str, title: str, evidence: str, path: str, impact: float, low: float,
             high: float, recommendation: str, section: str, heuristic: bool) -> dict[str, Any]:
    return {"id": fid, "severity": severity, "function": r.function_name, "account_id": r.account_id,
            "region": r.region, "title": title, "evidence": evidence, "evidence_path": path,
            "monthly_impact_usd": impact, "monthly_impact_low_usd": low, "monthly_impact_high_usd": high,
            "recommendation": recommendation, "section": section, "heuristic": heuristic}


@per_snapshot
def findings(snapshot, *, table: pd.DataFrame | None = None, book: _prices.PriceBook | None = None,
             **thresholds) -> pd.DataFrame:
    """Cold-start and INIT findings with evidence, dollars and a recommendation (thresholds: :data:`THRESHOLDS`).

    ids: ``cold-starts`` (frequent cold starts that inflate a synchronous p99 or bill real INIT money),
    ``init-heavy`` (long INIT; package size and layers as heuristic causes), ``provisioned-concurrency``
    (idle or too small provisioned concurrency, or a steady load it would serve for less), ``vpc-init``
    (heuristic: VPC attachment on a function with frequent cold starts) and ``per-invocation-setup``
    (heuristic: traced secret/parameter fetches or connection handshakes on every invocation).
    """
    th = _thresholds(thresholds)
    table = analyse(snapshot, book=book) if table is None else table
    days = snapshot.window_days
    index = _ByFunction(snapshot)
    out: list[dict[str, Any]] = []
    for r in table.itertuples():
        out += _cold_start_findings(r, th, days)
        out += _pc_findings(snapshot, index, table, r, th, book)
        out += _setup_findings(snapshot, index, r, th, book)
    df = pd.DataFrame(out, columns=FINDING_COLUMNS)
    order = {"high": 0, "medium": 1, "low": 2}
    return df.sort_values(["severity", "monthly_impact_usd"], key=lambda c: c.map(order) if c.name == "severity"
                          else -c.fillna(0), ignore_index=True)


def _cold_start_findings(r, th: dict[str, Any], days: float) -> list[dict[str, Any]]:
    out = []
    share = r.cold_share if r.cold_share == r.cold_share else 0.0
    observed_init = not str(r.init_source).startswith("prior")
    n_cold = r.cold_starts
    path = _findings.join_path([r.cold_source, "INIT: " + r.init_source.split(';')[0], r.series_path])
    latency_hit = bool(r.sync) and r.p99_inflation == r.p99_inflation and r.p99_inflation >= th["min_p99_inflation"]
    money_hit = r.init_usd_month >= th["min_init_usd"]
    if share >= th["min_cold_share"] and n_cold >= th["min_cold_starts"] and (latency_hit or money_hit):
        severity = "high" if latency_hit and share >= 5 * th["min_cold_share"] else ("medium" if latency_hit else "low")
        prior = init_prior(r.runtime, r.package_type, 0.0, arch=r.arch)["median_ms"]
        trim = r.init_usd_month * max(0.0, 1.0 - prior / r.init_mean_ms) if r.init_mean_ms > 0 else 0.0
        evidence = (f"{n_cold:,.0f} of {r.invocations:,.0f} invocations started cold ({share:.1%}) in {days:g} days "
                    f"(modelled {r.modelled_cold_starts:,.0f} with {r.model} routing); INIT p50 "
                    f"{r.init_p50_ms:,.0f} ms; p99 {r.p99_warm_ms:,.0f} ms warm vs {r.p99_ms:,.0f} ms with cold starts"
                    f"{' (synchronous caller)' if r.sync else ''}; billed INIT ${r.init_usd_month:,.2f}/month")
        out.append(_finding(
            r, "cold-starts", severity, f"{share:.0%} of invocations are cold starts" + (
                f" and lift p99 {r.p99_inflation:.1f}x" if latency_hit else ""), evidence, path,
            r.init_usd_month, trim, r.init_usd_month, _cold_start_advice(r), "execution environment", False))
    heavy = observed_init and r.init_p50_ms >= th["init_heavy_ms"]
    heavy_share = r.init_share_of_time >= th["init_share"]
    if (heavy or heavy_share) and n_cold >= th["min_cold_starts"]:
        small = init_prior(r.runtime, r.package_type, 0.0, arch=r.arch)
        sized = init_prior(r.runtime, r.package_type, r.code_size_mb * 2**20, vpc=bool(r.vpc), arch=r.arch)
        trim = r.init_usd_month * max(0.0, 1.0 - small["median_ms"] / r.init_mean_ms) if r.init_mean_ms > 0 else 0.0
        evidence = (f"INIT p50 {r.init_p50_ms:,.0f} ms, p99 {r.init_p99_ms:,.0f} ms over {n_cold:,.0f} cold starts; "
                    f"{r.init_share_of_time:.0%} of the function's billed time is INIT; package {r.code_size_mb:.1f} MiB "
                    f"zipped, {int(r.layer_count)} layer(s){', VPC-attached' if r.vpc else ''}. A small "
                    f"{'image' if str(r.package_type).lower() == 'image' else runtime_family(r.runtime)} package typically "
                    f"initialises in ~{small['median_ms']:,.0f} ms; "
                    f"heuristic for this size: ~{sized['median_ms']:,.0f} ms")
        out.append(_finding(
            r, "init-heavy", "high" if heavy and r.sync else "medium",
            f"INIT takes {r.init_p50_ms / 1000:.1f} s ({r.init_share_of_time:.0%} of billed time)", evidence,
            f"{r.init_source.split(';')[0]}; functions.code_size_bytes, layer_count", trim, 0.5 * trim,
            r.init_usd_month, _init_advice(r), "function code", True))
    if r.vpc and bool(r.sync) and share >= th["min_cold_share"] and n_cold >= th["min_cold_starts"]:
        extra = priors()["vpc"]["extra_ms"]
        evidence = (f"VPC-attached, {share:.1%} cold starts on a synchronous path; published 2020 medians: "
                    f"{extra:.0f} ms more per cold start with a VPC (0.50 s vs 0.26 s)")
        out.append(_finding(
            r, "vpc-init", "low", "VPC attachment adds to frequent cold starts (heuristic)", evidence,
            f"functions.vpc_id; {r.cold_source}; init priors (vpc)", float("nan"), float("nan"), float("nan"),
            "Keep the VPC only if the function reaches private resources; otherwise detach it. If it must stay, "
            "cut cold starts (keep traffic warm, SnapStart/PC) rather than INIT code.", "execution environment", True))
    return out


def _cold_start_advice(r) -> str:
    ss = snapstart(r.runtime, package_type=r.package_type, ephemeral_mb=r.ephemeral_storage_mb, provisioned=r.provisioned)
    if ss["eligible"] and not ss["charged"]:
        first = "Enable SnapStart on a published version (free for Java): restores replace the INIT"
    elif ss["eligible"]:
        cost = snapstart_cost(r.memory_mb, r.cold_starts_month, runtime=r.runtime, arch=r.arch, region=r.region)
        price = (f"about ${cost['total_usd']:,.2f}/month here for one published version at today's cold starts"
                 if cost["total_usd"] == cost["total_usd"] else f"the {r.arch} price is not in the price book")
        first = f"Consider SnapStart (Python 3.12+ and .NET 8+ pay its cache and restore: {price})"
    else:
        first = f"SnapStart is not available ({ss['reason']})"
    return (f"{first}; trim INIT (fewer dependencies, lazy imports); where latency matters during known hours, "
            "a scheduled provisioned environment (see the cold-starts notebook's options) keeps one warm.")


def _snapstart_tail(r) -> str:
    ss = snapstart(r.runtime, package_type=r.package_type, ephemeral_mb=r.ephemeral_storage_mb)
    if not ss["eligible"]:
        return "."
    if ss["charged"]:
        return "; SnapStart removes most INIT without PC (this runtime pays its cache and restore charges)."
    return "; SnapStart removes most INIT without PC (free for Java: no cache or restore charge)."


def _init_advice(r) -> str:
    text = (f"Minimise what runs before the handler: {r.code_size_mb:.0f} MiB zipped and {int(r.layer_count)} layer(s) "
            "suggest unused dependencies; import lazily what only some paths need; create SDK clients once, "
            "outside the handler, but only those every path uses.")
    if runtime_family(r.runtime) == "java":
        text += " For Java frameworks, SnapStart (free) or a lighter DI container shortens INIT most."
    return text


def _pc_findings(snapshot, index: _ByFunction, table: pd.DataFrame, r, th: dict[str, Any],
                 book) -> list[dict[str, Any]]:
    if r.invocations <= 0 or r.duration_mean_ms != r.duration_mean_ms:
        return []
    limit = th["pc_utilisation"] if th["pc_utilisation"] is not None else r.pc_breakeven
    if r.provisioned > 0:
        where = {"account_id": r.account_id, "region": r.region}
        detail = for_function(snapshot, r.function_name, table=table, book=book, _index=index, **where)
        opts = detail.options
        current = opts[opts["current"]]
        if current.empty:
            return []
        cur = float(current["total_usd"].iloc[0])
        util = r.pc_utilisation
        out = []
        spill = _metric(index.rows("metrics", snapshot.function(r.function_name, **where)),
                        "ProvisionedConcurrencySpilloverInvocations", "Sum").sum()
        if util < limit and r.concurrency_peak < r.provisioned:
            alternatives = opts[~opts["current"] & opts["total_usd"].notna()]
            best = alternatives.loc[alternatives["total_usd"].idxmin()]
            safe = opts[(opts["provisioned"] > 0) & ~opts["current"] & (opts["schedule"] == "")]
            safe_cost = float(safe["total_usd"].min()) if len(safe) else float(best["total_usd"])
            evidence = (f"{int(r.provisioned)} provisioned environments, observed peak concurrency {r.concurrency_peak:g} "
                        f"(hourly ConcurrentExecutions max), mean {r.concurrency_mean:.3f} busy: utilisation "
                        f"{util:.2%} against a break-even of {r.pc_breakeven:.0%}; PC costs ${cur:,.2f}/month; "
                        + snapstart_words(best, r.runtime))
            out.append(_finding(
                r, "provisioned-concurrency", min(_findings.Severity(th["medium_usd"], th["high_usd"])(
                    cur - float(best["total_usd"])), "medium", key=_findings.SEVERITIES.index),
                f"Provisioned concurrency {int(r.provisioned)} for a peak of {r.concurrency_peak:g}", evidence,
                "functions.provisioned_concurrency; metrics:ConcurrentExecutions (Maximum, 3600 s); price book",
                cur - float(best["total_usd"]), cur - safe_cost, cur - float(best["total_usd"]),
                f"Cheapest option: {'remove PC and enable SnapStart' if best['option'] == 'SnapStart' else best['option']} "
                f"(${best['total_usd']:,.2f}/month in all). To keep cold starts away, size PC to the observed peak "
                f"({r.concurrency_peak:g}) and schedule it for busy hours" + _snapstart_tail(r),
                "execution environment", False))
        if r.invocations and spill / r.invocations >= th["spillover_share"]:
            out.append(_finding(
                r, "provisioned-concurrency", "medium", "Provisioned concurrency too small: requests spill over",
                f"{spill:,.0f} of {r.invocations:,.0f} invocations ({spill / r.invocations:.1%}) spilled to on-demand "
                f"environments despite {int(r.provisioned)} provisioned", "metrics:ProvisionedConcurrencySpilloverInvocations",
                float("nan"), float("nan"), float("nan"),
                f"Raise provisioned concurrency towards the observed peak ({r.concurrency_peak:g}) for the busy hours.",
                "execution environment", False))
        return out
    if r.concurrency_mean < limit:   # even one environment would idle more than break-even allows
        return []
    series = invocation_series(snapshot, r.function_name, account_id=r.account_id, region=r.region, _index=index)
    best_n = pc_count_for_cost(series, r.duration_mean_ms, arch=r.arch, region=r.region, book=book)
    if best_n == 0:
        return []
    opts = pc_options(series, r.duration_mean_ms, r.memory_mb, arch=r.arch, init_ms=r.init_mean_ms,
                      counts=(0, best_n), model=r.model, runtime=r.runtime, package_type=r.package_type,
                      ephemeral_mb=r.ephemeral_storage_mb, snapstart_option=False, region=r.region,
                      book=_book_for(book, r.region))
    base = float(opts["total_usd"].iloc[0])
    best = opts.loc[opts["total_usd"].idxmin()]
    saving = base - float(best["total_usd"])
    if best["provisioned"] > 0 and saving >= th["min_savings_usd"]:
        return [_finding(
            r, "provisioned-concurrency", _findings.Severity(th["medium_usd"], th["high_usd"])(saving),
            f"{int(best['provisioned'])} provisioned environment(s) would cost "
            "less than on-demand for the steady load",
            f"mean concurrency {r.concurrency_mean:.2f}; PC {int(best['provisioned'])} would be {best['pc_utilisation']:.0%} "
            f"utilised (break-even {r.pc_breakeven:.0%}): ${best['total_usd']:,.2f} vs ${base:,.2f}/month on demand",
            f"{r.series_path}; price book", saving, 0.5 * saving, saving,
            f"Provision {int(best['provisioned'])} environment(s) on an alias; watch the utilisation metric.",
            "execution environment", False)]
    return []


def _setup_findings(snapshot, index: _ByFunction, r, th: dict[str, Any], book) -> list[dict[str, Any]]:
    calls = index.rows("calls", {"account_id": r.account_id, "region": r.region, "function_name": r.function_name})
    if calls.empty or r.invocations <= 0:
        return []
    service = calls["service"].str.lower()
    op = calls["operation"].str.lower().str.replace(r"[^a-z]", "", regex=True)
    listed = pd.Series([any(o.startswith(p) for p in SETUP_OPERATIONS.get(sv, ())) for sv, o in zip(service, op, strict=True)],
                       index=calls.index, dtype=bool)
    worded = op.apply(lambda o: any(w in o for w in SETUP_WORDS))
    hits = calls[(listed | worded) & (calls["calls_per_invocation"] >= th["setup_calls_per_invocation"])]
    if hits.empty:
        return []
    per_inv_ms = float((hits["calls_per_invocation"] * hits["mean_ms"]).sum())
    setup_ms = r.invocations * costs.month_factor(snapshot) * per_inv_ms   # a month of it, GB-s priced by billing
    usd = float(billing.cost_from_totals(0.0, setup_ms, r.memory_mb, r.arch, book=_book_for(book, r.region)))
    what = "; ".join(f"{h.service}:{h.operation} {h.calls_per_invocation:.2f}/invocation x {h.mean_ms:.0f} ms"
                     for h in hits.itertuples())
    share = per_inv_ms / r.duration_mean_ms if r.duration_mean_ms else float("nan")
    return [_finding(
        r, "per-invocation-setup", "medium" if share >= 0.1 else "low",
        "Clients or configuration set up on every invocation (heuristic)",
        f"{what} (evidence: {', '.join(sorted(set(hits['evidence'])))}): {per_inv_ms:.0f} ms per invocation, "
        f"{share:.0%} of the mean duration. The API calls' own fees are not in the price book (not counted)",
        "calls (traced downstream calls)", usd, 0.5 * usd, usd,
        "Fetch secrets/parameters and open connections once in INIT (module scope) and cache them with a TTL; "
        "reuse HTTP keep-alive and database connections (or a proxy) instead of connecting per request.",
        "function code", True)]


def schedule_parameter(spec: str) -> Schedule | str | None:
    """The notebook's ``pc_schedule``: ``"auto"`` (busy hours of the traffic), ``""`` (none) or a spec."""
    text = str(spec).strip()
    if text.lower() in ("", "none"):
        return None
    if text.lower() == "auto":
        return "auto"
    try:
        return Schedule.parse(text)
    except ValueError as exc:
        raise ValueError(f"cold_starts parameter 'pc_schedule' must be 'auto', '' or like 'mon-fri 08-18 UTC': {exc}") \
            from None


def focus_function(table: pd.DataFrame, found: pd.DataFrame) -> str:
    """The function a reader should look at first: the top cold-start finding's, else the most cold starts."""
    if len(found):
        return str(found["function"].iloc[0])
    if table.empty:
        raise ValueError("the snapshot has no functions")
    return str(table.sort_values("cold_starts", ascending=False)["function_name"].iloc[0])


def summary(snapshot, table: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Headline figures of the analysis."""
    cal = table.attrs.get("calibration", {})
    err = cal.get("median_abs_log_error", {})
    observed = table["observed_cold_starts"].sum()
    inv = table["invocations"].sum()
    pc = table[table["provisioned"] > 0]
    rows = [
        ("Window", f"{pd.Timestamp(snapshot.manifest['start']):%Y-%m-%d} to {pd.Timestamp(snapshot.manifest['end']):%Y-%m-%d}"
                   f" ({snapshot.window_days:g} days)"),
        ("Functions", f"{len(table)}"),
        ("Keep-alive model", table.attrs.get("keep_alive", "")),
        ("Routing model", f"{table.attrs.get('model', '')} ({cal.get('note', '')}; median |log(modelled/observed)|: "
                          + ", ".join(f"{k} {v:.2f}" for k, v in err.items() if v == v) + ")"),
        ("Cold starts in REPORT lines", f"{observed:,.0f} of {inv:,.0f} invocations ({observed / inv:.3%})" if inv else "0"),
        ("Cold starts, modelled", f"{table['modelled_cold_starts'].sum():,.0f}"),
        ("Billed INIT per month (USD)", f"{table['init_usd_month'].sum():,.2f} (INIT billed on {table.attrs.get('billing_date')}: "
                                        f"{'yes' if table['init_billed'].all() else 'not for every function'})"),
        ("Provisioned concurrency", f"{len(pc)} function(s), {pc['provisioned'].sum():g} environments"),
        ("PC break-even utilisation", ", ".join(f"{a} {pc_breakeven_utilization(arch=a):.0%}" for a in billing.ARCHITECTURES)),
        ("Findings", ", ".join(f"{k} x{v}" for k, v in found["id"].value_counts().items()) or "none"),
    ]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def results(snapshot, table: pd.DataFrame, found: pd.DataFrame) -> dict[str, Any]:
    """The cold-starts notebook's results as plain JSON-able data (for batch runs)."""
    def num(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)

    return {
        "notebook": "cold_starts",
        "source": snapshot.manifest.get("source"),
        "window": {"start": str(snapshot.manifest["start"]), "end": str(snapshot.manifest["end"])},
        "model": table.attrs.get("model"), "keep_alive": table.attrs.get("keep_alive"),
        "calibration": {k: (num(v) if isinstance(v, float) else v)
                        for k, v in table.attrs.get("calibration", {}).items() if k != "median_abs_log_error"}
        | {"median_abs_log_error": {k: num(v) for k, v in
                                    table.attrs.get("calibration", {}).get("median_abs_log_error", {}).items()}},
        "functions": [
            {"account_id": r.account_id, "region": r.region, "function_name": r.function_name,
             "invocations": num(r.invocations), "observed_cold_starts": num(r.observed_cold_starts),
             "modelled_cold_starts": num(r.modelled_cold_starts), "cold_share": num(r.cold_share),
             "init_p50_ms": num(r.init_p50_ms), "init_source": r.init_source.split(" ")[0],
             "p99_warm_ms": num(r.p99_warm_ms), "p99_ms": num(r.p99_ms), "init_usd_month": num(r.init_usd_month)}
            for r in table.itertuples()],
        "findings": [{k: (num(v) if isinstance(v, float) else (bool(v) if isinstance(v, (bool, np.bool_)) else v))
                      for k, v in f.items()} for f in found.to_dict("records")],
        "pc_breakeven_utilisation": {a: num(pc_breakeven_utilization(arch=a)) for a in billing.ARCHITECTURES},
    }
