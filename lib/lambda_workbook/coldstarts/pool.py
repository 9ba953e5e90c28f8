"""The closed form: expected cold starts per minute of a per-minute invocation series.

The environment-reuse model. Measured: the single-environment idle window and how the pool grows and
routes; assumed: forced recycling and how a pool of idle environments shrinks (:mod:`lambda_workbook.keepalive`):

* an idle environment is evicted after a keep-alive window, a :class:`KeepAlive` distribution. The default,
  ``measured-2025``, is the maximum-likelihood fit to 2025 keep-alive counts (Lin, Ma, Shahrad,
  *Demystifying Serverless Costs on Public Platforms*, EuroSys '26,
  https://github.com/ubc-cirrus-lab/demystifying-serverless-costs): a lone idle environment survives
  4.95-5.80 minutes. Busy environments are force-recycled about every 2 hours (Xebia, "TIL that AWS Lambda
  terminates instances preemptively", https://xebia.com/blog/til-that-aws-lambda-terminates-instances-preemptively/;
  a blog figure, not re-measured). Earlier published windows (Shilkov's 5-7 minutes of 2021, the article's
  "5-15 minutes", 10 minutes, 45-60 minutes) are :data:`lambda_workbook.keepalive.SCENARIOS`; AWS publishes
  no idle timeout;
* a *pool's* idle environments are not evicted one by one but in sweeps (:class:`lambda_workbook.keepalive.Sweeps`,
  an assumption: no public data set measures it): when one outlives its window, the idle environments past the
  window's lower bound are thinned to the more recently used half (rounded down, so a lone one goes), the rest
  spared for another ~6-minute step. The closed form follows each level's cohort (the levels that go idle with it,
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

:func:`expected_cold_starts` is that closed form; :func:`lambda_workbook.poolsim.simulate` replays the same
assumptions invocation by invocation (an event-level MRU pool), so the two can be compared
(``benchmarks/bench_coldstarts.py``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from ..keepalive import _UNSET, KeepAlive, PoolCohorts, keep_alive
from .poolevict import _columns, _evict_after_gaps
from .poolterms import (
    PoissonTerms,
    cdf,
    cum_after,
    cum_before,
    log_survival,
    log_survival_binary,
    pmf,
    scan_rows,
)
from .poolwindows import cold_and_soon
from .series import durations, is_counts, per_minute

MODELS = ("poisson", "peak")


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


def _taker(t: np.ndarray, m: int):
    """``at(x, i)``: ``x[t + i]`` for the sorted distinct minutes ``t`` of ``0..m-1``; a view, not a copy, when
    ``t`` is every minute (traffic in most minutes: the usual case)."""
    if len(t) == m:
        return lambda x, i: x[i:i + m]
    return lambda x, i: x[t + i]


def _windowed_cold(up: np.ndarray, busy: np.ndarray, ka: KeepAlive, steps: np.ndarray | None = None, *,
                   surv: np.ndarray | None = None) -> np.ndarray:
    """Expected cold starts per minute of one environment level.

    ``up``: P(an arrival raises concurrency to this level in the minute), a use that may find the level's
    environment gone; ``busy``: P(the level is in use at some moment of the minute), which keeps it warm.
    Minutes are treated as independent; the environment is freed at a uniform moment of its last busy minute
    and reused at a uniform moment of the next, so ``j`` quiet minutes in between mean ``j + U1 + U2`` idle.
    ``steps``: pool sweeps the level survives when it goes idle in each minute (its window grows by that
    many sweep steps; None: independent eviction). ``surv``: :func:`.poolterms.log_survival` of ``busy``, when
    already computed.
    """
    cols = _columns(ka, steps, 0.0)
    span = cols.span
    m = len(up)
    bp = np.concatenate([np.zeros(span), busy])
    row = np.concatenate([np.zeros(span, dtype=np.int64), steps]) if cols.rows > 1 else None
    cum = cum_before(log_survival(busy) if surv is None else surv, span)
    uses = np.flatnonzero(up)                       # only minutes with a use can start cold
    at = _taker(uses, m)                            # at(x, span + i) is x[t + i] for the minutes t of a use
    now = at(cum, span)
    total = np.exp(now - at(cum, 0))                # quiet for `span` minutes (or never used): surely cold
    term = np.empty(len(uses))
    for j in range(span):
        if cols.evict_zero[j]:                      # no eviction after j quiet minutes: adds nothing
            continue
        np.subtract(now, at(cum, span - j), out=term)
        np.exp(term, out=term)
        np.multiply(at(bp, span - 1 - j), term, out=term)
        e = cols.factor("evict", j, at(row, span - 1 - j) if row is not None else None)
        if e is not None:
            np.multiply(term, e, out=term)
        total += term
    out = np.zeros(m)
    out[uses] = up[uses] * np.clip(total, 0.0, 1.0)
    return out


def _soon(busy: np.ndarray, ka: KeepAlive, shift: float, steps: np.ndarray | None = None, *,
          surv: np.ndarray | None = None) -> np.ndarray:
    """P(the level's environment is used again before it is evicted), looking forward from each minute: a
    recycle that falls due happens at that next use; otherwise the next use is an idle cold start (counted
    by the eviction side with the same eviction probabilities, so the two never both count). ``surv``:
    :func:`.poolterms.log_survival` of ``busy``, when already computed."""
    cols = _columns(ka, steps, shift)
    span = cols.span
    m = len(busy)
    bp = np.concatenate([busy, np.zeros(span + 1)])
    cum = cum_after(log_survival(busy) if surv is None else surv, span + 1)
    # only minutes with a use within the next `span` minutes can see one (elsewhere every term is 0)
    if m and busy.min() > 0:         # a use in every minute: every minute
        t = np.arange(m)
    else:
        near = np.concatenate([[0], np.cumsum(bp > 0)])
        t = np.flatnonzero(near[np.minimum(np.arange(m) + span, m + span + 1)] > near[:m])
        if 4 * len(t) >= 3 * m:      # most minutes: every minute, read as views (the others sum exact 0s)
            t = np.arange(m)
    at = _taker(t, m)                # at(x, j) is x[t + j]
    acc = np.zeros(len(t))
    now = at(cum, 0)
    row = at(steps, 0) if cols.rows > 1 else None
    term = np.empty(len(t))
    for j in range(span):            # j quiet minutes, then a use
        if cols.keep_zero[j]:        # surely evicted after j quiet minutes: adds nothing
            continue
        np.subtract(at(cum, j), now, out=term)
        np.exp(term, out=term)
        np.multiply(term, at(bp, j), out=term)
        kj = cols.factor("keep", j, row)
        if kj is not None:
            np.multiply(term, kj, out=term)
        acc += term
    out = np.zeros(m)
    out[t] = np.clip(acc, 0.0, 1.0)
    return out


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
    ``a = hazard + rec``. Solved for rows one lifetime long, averaged over lifetimes.
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
        # rows of one lifetime: a[row] = h[row] + coef[row] * a[row - 1] (a[0] = h[0]), coef = used * survival
        # over the lag, rec[row] = coef[row] * a[row - 1]. The recursion runs down the rows of every minute of
        # the lifetime at once, solved pairwise (:func:`.poolterms.scan_rows`)
        rows = -(-m // lag)
        coef = np.zeros(rows * lag)
        c = coef[lag:m]
        np.subtract(cum[1:m + 1 - lag], cum[lag + 1:m + 1], out=c)     # -(x - y) is y - x, the same number
        np.exp(c, out=c)
        np.multiply(used[lag:], c, out=c)
        a = np.zeros(rows * lag)
        a[:m] = h
        scan_rows(a.reshape(rows, lag), coef.reshape(rows, lag))
        # rec[t] = coef[t] * a[t - lag] (0 in the first row)
        out[lag:] += weight * (c * a[:m - lag])
    return out


def occupancy(n: np.ndarray, d_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


_pmf, _cdf = pmf, cdf


def _where_positive(f, k: int, mu: np.ndarray) -> np.ndarray:
    """``f(k, mu)`` evaluated on the positive means only; the minutes with mean 0 (most of a sparse series)
    share the value at 0."""
    mu = np.asarray(mu, dtype=float)
    pos = mu > 0
    out = np.full(mu.shape, float(f(k, np.zeros(1))[0]))
    out[pos] = f(k, mu[pos])
    return out


def _poisson_pmf(k: int, mu: np.ndarray) -> np.ndarray:
    """``scipy.stats.poisson.pmf(k, mu)`` for a whole ``k >= 0`` and means ``mu >= 0``, without the generic
    argument handling (the same special functions, so the same numbers)."""
    return _where_positive(_pmf, k, mu)


def _poisson_cdf(k: int, mu: np.ndarray) -> np.ndarray:
    """``scipy.stats.poisson.cdf(k, mu)`` for a whole ``k >= 0`` and means ``mu >= 0`` (see :func:`_poisson_pmf`)."""
    return _where_positive(_cdf, k, mu)


def _level_usage(k: int, lam: np.ndarray, conc: np.ndarray, seen: np.ndarray, counts: bool, model: str,
                 z: float, reach: np.ndarray, terms: tuple[PoissonTerms, PoissonTerms] | None = None,
                 need: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For the k-th environment of the pool, per minute: P(an arrival raises concurrency to k) and
    P(concurrency is >= k at some moment of the minute). With observed counts, concurrency cannot exceed
    ``reach``: the invocations of the minute plus those still running from earlier minutes. ``terms``: the
    :class:`.poolterms.PoissonTerms` of ``conc`` and ``seen``, shared by the levels of one series; ``need``:
    :func:`_peak_need` of ``conc``, likewise."""
    if model == "peak":
        need = _peak_need(conc, z) if need is None else need
        if counts:
            need = np.minimum(need, lam)
        used = ((lam > 0) & (need >= k)).astype(float)
        return used, used
    if terms is None:
        below, rate = _poisson_cdf(k - 1, conc), lam * _poisson_pmf(k - 1, seen)
    else:
        below, rate = terms[0].cdf(k - 1), lam * terms[1].pmf(k - 1)
    up = -np.expm1(-rate)
    if counts:
        up[reach < k] = 0.0
    busy = 1.0 - below * np.exp(-rate / np.maximum(below, 1e-300))
    return up, np.maximum(busy, up)


def _levels(lam: np.ndarray, conc: np.ndarray, counts: bool, model: str, z: float, cap: float,
            terms: PoissonTerms | None = None, need: np.ndarray | None = None) -> int:
    if not lam.any():
        return 0
    top = int(min(cap, lam.max() if counts else np.inf, 1e5))
    if model == "peak":
        return max(1, min(top, int((_peak_need(conc, z) if need is None else need).max())))
    k = 1
    cmax = float(conc.max())
    while k < top:
        if k > cmax + 1 and float((lam * (_poisson_pmf(k, conc) if terms is None else terms.pmf(k))).sum()) < 1e-4:
            break
        k += 1
    return k


def _series_setup(invocations_per_minute, duration_ms, provisioned, kind: str) -> tuple:
    """A series' minutes, counts or rates, durations, provisioning, occupancy, reach and window shift."""
    s = per_minute(invocations_per_minute)
    lam = s.to_numpy(dtype=float)
    counts = is_counts(lam, kind)
    d_ms = durations(duration_ms, s.index)
    pc = _per_minute_param(provisioned, s.index, "provisioned")
    conc, own = occupancy(lam, d_ms)
    seen = np.maximum(conc - own, 0.0) if counts else conc   # given a count, an arrival sees the others
    reach = _reach(lam, d_ms)
    shift = float(np.average(d_ms, weights=lam) if lam.sum() > 0 else (d_ms.mean() if len(d_ms) else 0.0)) / 60000.0
    return s, lam, counts, d_ms, pc, conc, own, seen, reach, shift


def cold_start_profile(invocations_per_minute, duration_ms, *, keep_alive_min=None, recycle_min=_UNSET,
                       model: str = "poisson", burst_z: float = 2.0, provisioned=0, max_concurrency=None,
                       kind: str = "auto", _shared: dict | None = None) -> pd.DataFrame:
    """Expected cold starts per minute of a per-minute invocation series (the closed form).

    ``invocations_per_minute``: counts per minute (or Poisson rates when values are not whole numbers, or
    ``kind="rate"``), indexed by minute timestamps or minute numbers; missing minutes are 0. ``duration_ms``:
    mean duration, a number or a per-minute Series. ``keep_alive_min``/``recycle_min``: see :func:`keep_alive`.
    ``provisioned``: provisioned environments (a number, or per minute for a schedule) that take the first
    concurrent requests warm. ``max_concurrency``: reserved concurrency (levels above it throttle).
    Columns: invocations, concurrency, cold_starts, cold_idle, cold_recycle, provisioned.

    ``_shared``: a dict kept between calls for the SAME series, duration, provisioning, ``kind``, ``burst_z`` and
    keep-alive that differ only in ``model`` (:func:`expected_cold_starts_by_model`): the series set-up, its
    Poisson terms, the peak need and the first level of observed counts are made once and read by each.
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
    shared = {} if _shared is None else _shared
    if "series" not in shared:
        shared["series"] = _series_setup(invocations_per_minute, duration_ms, provisioned, kind)
        shared["terms"] = []
    s, lam, counts, d_ms, pc, conc, own, seen, reach, shift = shared["series"]
    idle = np.zeros(len(lam))
    recycled = np.zeros(len(lam))
    landing = np.zeros(len(lam))   # fresh environments from higher levels rotating down to this one
    terms: list[PoissonTerms] = shared["terms"]    # the Poisson terms of conc and seen, made when first needed

    def poisson_terms() -> tuple[PoissonTerms, PoissonTerms]:
        if not terms:
            terms.append(PoissonTerms(conc))
            terms.append(terms[0] if seen is conc else PoissonTerms(seen))
        return terms[0], terms[1]

    need = None
    if model == "peak":
        need = shared.get("need")
        if need is None:
            need = shared["need"] = _peak_need(conc, burst_z)
    top = _levels(lam, conc, counts, model, burst_z, cap, poisson_terms()[0] if model == "poisson" else None, need)

    none_provisioned = not pc.any()

    def member(k: int):
        """Minutes level ``k`` is an on-demand environment (every minute, as a plain True, without PC)."""
        return True if none_provisioned else pc < k

    def usage(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """The level's q and busy, busy's log-survival and (with sweeps) its quiet-window chances."""
        on_demand = pc < k
        if k == 1 and counts:      # the same in every model: made once per series
            if "first" not in shared:
                q = ((lam > 0) & on_demand).astype(float)
                surv = log_survival_binary(q)
                shared["first"] = (q, q, surv, cohorts.quiet(q, surv) if cohorts is not None else None)
            return shared["first"]
        else:
            # a Poisson rate never makes a minute's first environment certain, whatever the model
            level_model = "poisson" if k == 1 else model
            q, busy = _level_usage(k, lam, conc, seen, counts, level_model, burst_z, reach,
                                   poisson_terms() if level_model == "poisson" else None, need)
            if not none_provisioned:     # (times 1 changes nothing where no environment is provisioned)
                q, busy = q * on_demand, busy * on_demand
        # a peak level is used or not in each minute: its log-survival from the two values
        surv = log_survival_binary(busy) if level_model == "peak" else log_survival(busy)
        return q, busy, surv, cohorts.quiet(busy, surv) if cohorts is not None else None

    cohorts = PoolCohorts(ka.sweep, float(np.mean(ka.idle_min)), len(lam)) if ka.sweep is not None else None
    cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = {}
    if cohorts is not None:          # first pass: how likely each level is to idle with the others
        keep = top * len(lam) <= 4_000_000
        for k in range(1, top + 1):
            cache[k] = usage(k)
            cohorts.add_level(cache[k][1], member(k), quiet=cache[k][3])
            if not keep:
                cache.pop(k)
    for k in range(top, 0, -1):
        q, busy, surv, quiet = cache.pop(k) if k in cache else usage(k)
        steps = cohorts.steps(k, busy, member(k), quiet=quiet) if cohorts is not None else None
        if not q.any():
            continue
        soon = None
        if k == 1 and counts:
            times = np.flatnonzero(q)
            cold = np.zeros(len(lam))
            uses = np.maximum(lam[times], 1.0)
            if model == "peak":
                per = np.maximum(np.minimum(need, lam), 1.0)
                uses = np.maximum(uses / per[times], 1.0)
            p = np.ones(times.size)
            extra = 0.0 if steps is None else steps[times[:-1]] * ka.sweep.step_min
            p[1:] = _evict_after_gaps(np.diff(times) - 1, uses[1:], uses[:-1], ka, shift + extra)
            cold[times] = p
        elif k > 1 and 2 * np.count_nonzero(busy) >= len(busy):   # busy most minutes: both sides in one pass
            cold, soon = cold_and_soon(q, busy, _columns(ka, steps, 0.0), steps, surv)
        else:
            cold = _windowed_cold(q, busy, ka, steps, surv=surv)
        hazard = 1.0 - (1.0 - cold) * (1.0 - np.minimum(landing, 1.0))
        if soon is None:
            soon = _soon(busy, ka, shift if k == 1 else 0.0, steps, surv=surv)
        rec = _recycles(soon, hazard, ka)
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


def expected_cold_starts_by_model(invocations_per_minute, duration_ms, *, keep_alive_min=None,
                                  models=MODELS, **options) -> dict[str, float]:
    """:func:`expected_cold_starts` of one series under each routing model of ``models`` (the same numbers),
    the series set-up and what the models have in common made once."""
    shared: dict = {}
    return {model: float(cold_start_profile(invocations_per_minute, duration_ms, keep_alive_min=keep_alive_min,
                                            model=model, _shared=shared, **options)["cold_starts"].sum())
            for model in models}
