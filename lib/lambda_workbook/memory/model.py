"""The fitted duration model: observations in, a posterior over curves out (pure).

:func:`fit` weighs every curve of :mod:`.curve` by its prior (:mod:`.priors`, fitted to real measurements) and
by how well it explains the measured mean durations, optionally also by Lambda Insights' CPU time and X-Ray's
traced waits. :class:`DurationModel` then predicts the mean warm duration at any size with a band: the band
holds the curve's uncertainty and how far a size's own mean strays from any smooth curve (``tau``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from . import curve
from . import memo as _memo
from . import priors as _priors

MIN_MB, MAX_MB, VCPU_MB, MAX_VCPU = curve.MIN_MB, curve.MAX_MB, curve.VCPU_MB, curve.MAX_VCPU
DEFAULT_CV = 0.25                     # spread of single invocations when no raw data is given
DEFAULT_HEADROOM = 0.20               # memory floor: Max Memory Used p99 + 20%
MAX_DURATION_MS = billing.TIMEOUT_MAX_MS  # longer "durations" than Lambda's timeout limit are glitches
CPU_FRACTION_LOG_SD = 0.15            # Insights CPU time vs the model's CPU work (an assumption)
WAIT_LOG_SD = 0.15
PRESSURE_SD = 0.15                    # extra upward spread near the memory used (assumption)
_PRUNE = 1e-6
_SAMPLES = 2000
_BLOCK_ELEMENTS = 32768               # draws x sizes worked on at a time where a block stays in the CPU cache


class ObservationError(ValueError):
    """Observations the model cannot use; the message names the bad value and what is allowed."""


def runtime_family(runtime: str | None) -> str:
    """'python', 'nodejs', 'java', 'dotnet', 'go', 'ruby', 'rust', 'provided' or 'unknown'."""
    if not runtime:
        return "unknown"
    r = str(runtime).lower()
    for fam in ("python", "nodejs", "java", "dotnet", "ruby", "go", "rust", "provided"):
        if r.startswith(fam):
            return fam
    return "unknown"


def _array(name: str, values, n: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ObservationError(f"{name} must be numbers (an array-like), got {values!r:.80}") from None
    if n is not None and arr.size != n:
        raise ObservationError(f"{name} has {arr.size} values but memory_mb has {n}; pass equal-length array-likes")
    return arr


def observations(memory_mb, duration_ms, *, counts=None, init_ms=None, ok=None, max_memory_used_mb=None,
                 cv=None) -> pd.DataFrame:
    """Per-size warm-duration statistics from per-invocation values or per-size aggregates.

    Cold starts (rows with an INIT duration) and failures (``ok == False``) are left out. Glitch rows — a
    duration that is not a positive number of ms below Lambda's 15-minute limit, a size outside 128-10,240 MB —
    are dropped and counted in ``attrs['dropped']``; they never make the function unusable. ``counts`` says
    how many invocations a row stands for (an aggregate); it weights the mean. ``cv`` is the relative spread of
    the invocations behind each aggregate row, when known.
    """
    return _observations(memory_mb, duration_ms, counts=counts, init_ms=init_ms, ok=ok,
                         max_memory_used_mb=max_memory_used_mb, cv=cv)[0]


def _observations(memory_mb, duration_ms, *, counts=None, init_ms=None, ok=None, max_memory_used_mb=None,
                  cv=None) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """:func:`observations` and its columns as the arrays the table was made from (a fit reads them there)."""
    mem = _array("memory_mb", memory_mb)
    n = mem.size
    if n == 0:
        raise ObservationError("memory_mb is empty: pass at least one observation")
    dur = _array("duration_ms", duration_ms, n)
    cnt = np.ones(n) if counts is None else _array("counts", counts, n)
    spread_in = None if cv is None else _array("cv", cv, n)
    dropped: dict[str, int] = {}
    keep = np.ones(n, dtype=bool)

    def drop(mask: np.ndarray, why: str) -> None:
        nonlocal keep
        hit = int((mask & keep).sum())
        if hit:
            dropped[why] = dropped.get(why, 0) + hit
        keep &= ~mask

    drop(~np.isfinite(mem) | (mem < MIN_MB) | (mem > MAX_MB), f"memory size outside {MIN_MB}-{MAX_MB} MB")
    drop(~np.isfinite(dur) | (dur <= 0) | (dur > MAX_DURATION_MS), "duration not a positive number of ms under 15 min")
    drop(~np.isfinite(cnt) | (cnt <= 0), "count not positive")
    if init_ms is not None:
        init = np.nan_to_num(_array("init_ms", init_ms, n), nan=0.0)
        keep &= init <= 0
    if ok is not None:
        okv = np.asarray(ok, dtype=bool).ravel()
        if okv.size != n:
            raise ObservationError(f"ok has {okv.size} values but memory_mb has {n}")
        keep &= okv
    used = None
    if max_memory_used_mb is not None:
        used = np.atleast_1d(_array("max_memory_used_mb", max_memory_used_mb))
        if used.size not in (1, n):
            raise ObservationError(f"max_memory_used_mb must be one value or one per observation ({n}); got {used.size}")
    if not keep.any():
        why = "; ".join(f"{v} {k}" for k, v in dropped.items())
        raise ObservationError("no warm, successful observation left (every row is a cold start, an error or a "
                               f"glitch{': ' + why if why else ''})")
    raw = bool(np.all(cnt[keep] == 1)) and np.unique(mem[keep]).size < int(keep.sum())
    rows = []
    for size in np.unique(mem[keep]):
        sel = keep & (mem == size)
        d, c = dur[sel], cnt[sel]
        mean = float(np.average(d, weights=c))
        own = float(np.std(d, ddof=1) / mean) if raw and d.size >= 3 else np.nan
        if spread_in is not None and not raw:
            given = spread_in[sel]
            given = given[np.isfinite(given) & (given > 0)]
            own = float(given.mean()) if given.size else np.nan
        row = {"memory_mb": float(size), "mean_ms": mean, "invocations": float(c.sum()), "cv": own}
        if raw:
            row["p50_ms"] = float(np.percentile(d, 50))
            row["p99_ms"] = float(np.percentile(d, 99))
        if used is not None:
            u = used if used.size == 1 else used[sel]
            u = u[np.isfinite(u)]
            row["max_memory_used_p99_mb"] = float(np.percentile(u, 99)) if u.size else np.nan
        rows.append(row)
    # the table is put together once from numpy columns (a DataFrame built row by row, then changed, costs more)
    cols = {k: np.array([row[k] for row in rows], dtype=float) for k in rows[0]}
    # sampling error of each size's mean: its own spread with >= 3 invocations, else the spread pooled over
    # the other sizes (the relative spread varies little with memory), else a generic 25%
    own_cv = cols["cv"]
    pooled = float(pd.Series(own_cv).median()) if (~np.isnan(own_cv)).any() else DEFAULT_CV
    spread = np.where(np.isnan(own_cv), pooled, own_cv)
    cols["rel_se"] = spread / np.sqrt(cols["invocations"]) if (raw or counts is not None) else np.zeros(own_cv.size)
    first = ["memory_mb", "mean_ms", "invocations", "rel_se", "cv"]
    out = pd.DataFrame({c: cols[c] for c in first + [c for c in cols if c not in first]})
    out.attrs["dropped"] = dropped
    return out, cols


@dataclass
class DurationModel:
    """A posterior over duration curves. ``predict``, ``interval`` and ``samples`` are the public contract."""

    arch: str
    runtime: str | None
    observations: pd.DataFrame
    weights: np.ndarray            # posterior weight per retained (component, tau)
    component: np.ndarray          # grid component index
    tau: np.ndarray                # repeatability (log-sd) of each
    log_scale: np.ndarray          # posterior mean of log A
    scale_var: np.ndarray          # its posterior variance
    cpu_fraction: float | None = None
    max_memory_used_mb: float | None = None
    cv: float = DEFAULT_CV
    cpu_scale: float = 1.0         # multiplies the CPU work (another architecture's speed)
    cpu_scale_sd: float = 0.0
    derived_from: str | None = None
    prior: _priors.Priors | None = field(default=None, repr=False)
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # -- draws -----------------------------------------------------------------------------------------
    @staticmethod
    def memory_sizes(memory_mb) -> np.ndarray:
        m = np.atleast_1d(np.asarray(memory_mb, dtype=float)).ravel()
        bad = ~np.isfinite(m) | (m < MIN_MB) | (m > MAX_MB)
        if bad.any():
            raise ValueError(f"memory_mb must be between {MIN_MB} and {MAX_MB} MB; got {m[bad][0]!r}")
        return m

    def _draw(self, n: int, rng: np.random.Generator):
        # the same seed gives the same picks and scales for this model and for it moved to another
        # architecture, so savings between the two keep their shared uncertainty out
        pick = rng.choice(self.weights.size, size=n, p=self.weights / self.weights.sum())
        comp = self.component[pick]
        log_a = self.log_scale[pick] + rng.normal(size=n) * np.sqrt(self.scale_var[pick])
        scale = self.cpu_scale * np.exp(rng.normal(size=n) * self.cpu_scale_sd)
        if self.derived_from:  # the other architecture bends where its own measurements bend
            idx = list(np.unravel_index(comp, curve.SHAPE))
            pr = self.prior or _priors.load()
            for axis in ("p", "knee"):
                w = pr.weights(axis, self.arch)
                idx[curve.AXES.index(axis)] = rng.choice(w.size, size=n, p=w)
            comp = np.ravel_multi_index(idx, curve.SHAPE)
        return pick, comp, log_a, scale

    def samples(self, memory_mb, n: int = _SAMPLES, seed: int = 0, *, noise: bool = True) -> np.ndarray:
        """``(n, sizes)`` draws of the mean warm duration (ms). With ``noise`` each unmeasured size also strays
        from the smooth curve by its own ``tau`` (as a measured mean would); measured sizes stay near their mean."""
        m = self.memory_sizes(memory_mb)
        rng, pick, smooth = self._smooth(m, n, seed)
        tau = self.tau[pick][:, None]
        cols, logy, se = self._measured(m)
        logt = smooth   # the memo's (read-only) array: every change below works on a new one
        if noise:
            # smooth + normal * tau, in place and in blocks of draws that stay in the CPU cache: standard_normal
            # draws what normal(0, 1) draws, number for number, and blocks of rows take them in the same order
            logt = np.empty(smooth.shape)
            step = max(1, _BLOCK_ELEMENTS // max(smooth.shape[1], 1))
            for start in range(0, n, step):
                block = logt[start:start + step]
                rng.standard_normal(out=block)
                block *= tau[start:start + step]
                block += smooth[start:start + step]
            pressure = self._pressure(m, cols)
            under = np.flatnonzero(pressure)
            if under.size:  # close to the memory it uses, a function may slow down (only ever up)
                # only the columns from the first to the last size under pressure: the others would add 0.0
                on = slice(under[0], under[-1] + 1)
                logt[:, on] += np.abs(rng.normal(size=(n, 1))) * PRESSURE_SD * pressure[None, on]
        if cols.size:  # a measured size: its mean, the curve pulling only as much as the mean is uncertain
            kappa = tau ** 2 / (tau ** 2 + se[None, :] ** 2)
            mixed = (1 - kappa) * logt[:, cols] + kappa * logy[None, :]
            mixed = mixed + rng.normal(size=mixed.shape) * np.sqrt(kappa) * se[None, :]
            if logt is smooth:   # the smooth curve's exp, the measured columns' own (elementwise: the same numbers)
                out = np.exp(smooth)
                out[:, cols] = np.exp(mixed)
                return out
            logt[:, cols] = mixed
        return np.exp(logt) if logt is smooth else np.exp(logt, out=logt)

    def _smooth(self, m: np.ndarray, n: int, seed: int):
        """``(rng, pick, log t)``: the seed's draws and the smooth curve's log duration at sizes ``m``, with the
        generator where those draws leave it. Memoised (:class:`.memo.Draws`): :meth:`predict` and :meth:`samples`
        at the same sizes, and every size list of one seed, share one draw; a new generator is put back in the
        memoised state, so each call sees exactly the random numbers a fresh ``default_rng(seed)`` would give."""
        if seed is None:   # fresh entropy each call: nothing to share
            rng = np.random.default_rng()
            pick, comp, log_a, scale = self._draw(n, rng)
            return rng, pick, curve.log_duration_at(log_a, curve.Sizes(m), comp, cpu_scale=scale)
        memo = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__["_memo"] = _memo.Draws()
        state = (self.weights, self.component, self.log_scale, self.scale_var, self.prior, self.cpu_scale,
                 self.cpu_scale_sd, self.derived_from, self.arch)

        def draw():
            rng = np.random.default_rng(seed)
            drawn = self._draw(n, rng)
            return rng.bit_generator.state, drawn

        def smooth(drawn):
            _, comp, log_a, scale = drawn[1]
            return curve.log_duration_at(log_a, curve.Sizes(m), comp, cpu_scale=scale)

        after, drawn, logt = memo.get(state, n, seed, m, draw, smooth)
        rng = np.random.default_rng(seed)
        rng.bit_generator.state = after
        return rng, drawn[0], logt

    def _measured(self, m: np.ndarray):
        if self.derived_from:
            return np.empty(0, int), np.empty(0), np.empty(0)
        sizes, mean, rel_se = self._observed()
        pos = np.searchsorted(sizes, m)
        hit = (pos < sizes.size) & (sizes[np.minimum(pos, sizes.size - 1)] == m)
        cols = np.flatnonzero(hit)
        rows = pos[cols]
        return cols, np.log(mean[rows]), rel_se[rows]

    def _observed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The observations' sizes, means and relative errors as arrays, read once per observations table (a model
        reads them at every draw; the table is not changed in place once fitted)."""
        obs = self.observations
        hit = self.__dict__.get("_observed_arrays")
        if hit is None or hit[0] is not obs:
            hit = self.__dict__["_observed_arrays"] = (obs, obs["memory_mb"].to_numpy(float),
                                                       obs["mean_ms"].to_numpy(float), obs["rel_se"].to_numpy(float))
        return hit[1:]

    def _pressure(self, m: np.ndarray, measured: np.ndarray | None = None) -> np.ndarray:
        """0-1: how far inside 1.5x of the Max Memory Used p99 an unmeasured size is (garbage collection);
        ``measured``: the columns of ``m`` that were measured, when the caller has them."""
        used = self.max_memory_used_mb
        if not used or not np.isfinite(used):
            return np.zeros(m.size)
        out = np.clip((1.5 * used - m) / (0.5 * used), 0.0, 1.0)
        out[self._measured(m)[0] if measured is None else measured] = 0.0
        return out

    # -- summaries -------------------------------------------------------------------------------------
    def predict(self, memory_mb) -> np.ndarray:
        """Expected (mean) warm duration in ms at each size: the posterior median of the smooth curve."""
        return _median_of_draws(self.samples(memory_mb, noise=False))   # draws made for it

    def interval(self, memory_mb, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` interval of the mean warm duration (ms) at each size: ``(low, high)``."""
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1 (e.g. 0.9), got {level!r}")
        draws = self.samples(memory_mb)
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        mid = self.predict(memory_mb)
        return np.minimum(lo, mid), np.maximum(hi, mid)

    def _quantile(self, values: np.ndarray, q: float) -> float:
        order = np.argsort(values)
        cum = np.cumsum(self.weights[order])
        return float(values[order][min(np.searchsorted(cum, q * cum[-1]), values.size - 1)])

    @property
    def params(self) -> dict[str, Any]:
        """Posterior medians (and 90% ranges) of the model's parameters."""
        a = np.exp(self.log_scale)
        phi = curve.G_PHI[self.component]
        values = {"fixed_ms": a * (1 - phi), "cpu_ms_at_1_vcpu": a * phi * self.cpu_scale,
                  "parallelism_vcpu": curve.G_P[self.component], "alpha": curve.G_ALPHA[self.component],
                  "overlap": curve.G_OVERLAP[self.component], "tau": self.tau}
        out: dict[str, Any] = {}
        for name, v in values.items():
            out[name] = self._quantile(v, 0.5)
            out[name + "_range"] = (self._quantile(v, 0.05), self._quantile(v, 0.95))
        out["cpu_share_at_1_vcpu"] = self._quantile(phi, 0.5)
        return out

    @property
    def sizes_measured(self) -> list[int]:
        return [int(v) for v in self.observations["memory_mb"]]

    def memory_floor(self, headroom: float = DEFAULT_HEADROOM) -> float:
        """Smallest safe size: Max Memory Used p99 plus ``headroom`` (a fraction), or 128 MB when unknown."""
        if headroom < 0:
            raise ValueError(f"headroom must be >= 0 (a fraction such as 0.2), got {headroom!r}")
        if self.max_memory_used_mb is None or not np.isfinite(self.max_memory_used_mb):
            return float(MIN_MB)
        return float(max(MIN_MB, self.max_memory_used_mb * (1 + headroom)))

    def for_arch(self, arch: str) -> DurationModel:
        """This model moved to another architecture with the measured speed prior (price is billing's job)."""
        billing.check_arch(arch)
        if arch == self.arch:
            return self
        pr = self.prior or _priors.load()
        ratio = pr.arm_ratio if arch == "arm64" else 1.0 / pr.arm_ratio
        note = (f"{arch} not measured: its CPU work is assumed {ratio:.2f}x {self.arch}'s (log-sd {pr.arm_log_sd:.2f}; "
                "median ratio of mean durations where the measurement sets ran both architectures), its waiting time "
                f"equal, and its speed-up past one vCPU as {arch}'s own measurements bend")
        return replace(self, arch=arch, cpu_scale=self.cpu_scale * ratio,
                       cpu_scale_sd=math.hypot(self.cpu_scale_sd, pr.arm_log_sd), derived_from=self.arch,
                       assumptions=[*self.assumptions, note])

    def __repr__(self) -> str:
        p = self.params
        return (f"DurationModel({self.arch}, sizes={self.sizes_measured}, waiting≈{p['fixed_ms']:.1f} ms, "
                f"cpu≈{p['cpu_ms_at_1_vcpu']:.1f} ms@1vCPU, p≈{p['parallelism_vcpu']:.2f})")


def _median_of_draws(draws: np.ndarray) -> np.ndarray:
    """``np.median(draws, axis=0)`` of draws made for it (draws x sizes, an even number of draws; reordered in
    place): the lower middle draw of each size put in place, the upper one the smallest above it, their mean as
    the median's: the same two order statistics and the same mean, for less work. A size with a NaN draw gets NaN,
    as there."""
    n, w = draws.shape if draws.ndim == 2 else (0, 0)
    if n < 2 or n % 2 or w < 8:
        return np.median(draws, axis=0, overwrite_input=True)
    draws.partition(n // 2 - 1, axis=0)
    pair = np.empty((2, w))
    pair[0] = draws[n // 2 - 1]
    np.min(draws[n // 2:], axis=0, out=pair[1])    # NaNs go to the end and the minimum keeps them
    out = np.mean(pair, axis=0)
    out[np.isnan(pair[1])] = np.nan
    return out


def _cpu_fraction_at(cpu_fraction, memory_mb, cols: dict[str, np.ndarray]) -> tuple[float, float] | None:
    """``(size, CPU share)``; ``cols``: the observations' columns (:func:`_observations`)."""
    if cpu_fraction is None:
        return None
    cf = np.atleast_1d(np.asarray(cpu_fraction, dtype=float)).ravel()
    if cf.size == 1:
        value = float(cf[0])
        if np.isnan(value):
            return None
        size = float(cols["memory_mb"][np.argmax(cols["invocations"])])   # the first most-invoked size
    else:
        mem = np.asarray(memory_mb, dtype=float).ravel()
        if cf.size != mem.size:
            raise ObservationError(f"cpu_fraction must be one value or one per observation ({mem.size}); got {cf.size}")
        known = np.isfinite(cf) & np.isin(mem, cols["memory_mb"])
        if not known.any():
            return None
        sizes, counts = np.unique(mem[known], return_counts=True)
        size = float(sizes[np.argmax(counts)])
        value = float(np.mean(cf[known & (mem == size)]))
    if not 0 < value <= MAX_VCPU:
        raise ObservationError(f"cpu_fraction must be CPU time / wall time, above 0 and at most {MAX_VCPU:.2f}; got {value!r}")
    return size, value


#: (id of the priors, arch) -> (the priors, their weights as bytes, log prior): the same table for every function
_LOG_PRIOR: dict[tuple[int, str], tuple[_priors.Priors, bytes, np.ndarray]] = {}


def _log_prior(pr: _priors.Priors, arch: str) -> np.ndarray:
    """``pr.log_prior(arch)``, remembered while the priors object and its weights on ``arch`` stay as they are."""
    weights = b"".join(np.ascontiguousarray(pr.weights(axis, arch), dtype=float).tobytes()
                       for axis in (*curve.AXES, "tau"))
    hit = _LOG_PRIOR.get((id(pr), arch))
    if hit is not None and hit[0] is pr and hit[1] == weights:
        return hit[2]
    if len(_LOG_PRIOR) >= 64:
        _LOG_PRIOR.clear()
    table = pr.log_prior(arch)
    table.setflags(write=False)
    _LOG_PRIOR[(id(pr), arch)] = (pr, weights, table)
    return table


def fit(memory_mb, duration_ms, *, arch: str = "x86_64", runtime: str | None = None, cpu_fraction=None,
        counts=None, init_ms=None, ok=None, max_memory_used_mb=None, wait_ms: float | None = None, cv=None,
        prior: _priors.Priors | None = None) -> DurationModel:
    """Fit the duration model to warm observations at one or more memory sizes.

    ``memory_mb`` and ``duration_ms`` are equal-length array-likes: one row per invocation, or one per size
    (an aggregate mean; then ``counts`` may say how many invocations it covers and ``cv`` their relative
    spread). Optional, aligned with them:
    ``init_ms`` (rows with an INIT duration are cold starts and are left out), ``ok`` (False = an error or a
    timeout, left out) and ``max_memory_used_mb`` (or one p99 value) for the memory floor. ``cpu_fraction``
    is CPU time / wall time from Lambda Insights at the most-observed size (a scalar), or one value per row
    (NaN unknown). ``wait_ms`` is time per invocation spent waiting on other services (X-Ray subsegments): the
    waiting part of the curve is at least that. ``prior`` replaces the shipped priors (for validation).
    """
    billing.check_arch(arch)
    if runtime is not None and not isinstance(runtime, str):
        raise ObservationError(f"runtime must be a runtime name such as 'python3.12' or None, got {runtime!r}")
    obs, cols = _observations(memory_mb, duration_ms, counts=counts, init_ms=init_ms, ok=ok,
                              max_memory_used_mb=max_memory_used_mb, cv=cv)
    pr = prior or _priors.load()
    m = cols["memory_mb"]      # the table's columns as the arrays it was made from (the same numbers)
    logy = np.log(cols["mean_ms"])
    se = cols["rel_se"]
    ll, log_scale, scale_var = curve.loglik(logy, se, m)
    logpost = _log_prior(pr, arch) + ll
    cf_obs = _cpu_fraction_at(cpu_fraction, memory_mb, cols)
    assumptions = ["CPU share proportional to memory, one vCPU at 1,769 MB (AWS Lambda documentation, "
                   "'Configure Lambda function memory')",
                   "prior weights of the curve family fitted to real measurements of " + ", ".join(pr.fitted_on or ["-"]),
                   "warm invocations only; cold starts and errors left out"]
    notes = []
    if obs.attrs.get("dropped"):
        notes.append("dropped glitch rows: " + "; ".join(f"{v} {k}" for k, v in obs.attrs["dropped"].items()))
    if cf_obs is not None:
        size, cf = cf_obs
        mean_there = float(cols["mean_ms"][cols["memory_mb"] == size][0])
        cpu_ms = np.exp(log_scale) * curve.G_PHI[:, None]
        logpost = logpost - 0.5 * (np.log(cpu_ms / mean_there / cf) / CPU_FRACTION_LOG_SD) ** 2
        assumptions.append(f"CPU time / wall time {cf:.2f} at {size:g} MB (Lambda Insights)")
    if wait_ms is not None:
        if not (np.isfinite(wait_ms) and wait_ms >= 0):
            raise ObservationError(f"wait_ms must be >= 0 ms of waiting per invocation, got {wait_ms!r}")
        if wait_ms > 0:  # one-sided: waiting below the traced waits is unlikely, above them says nothing
            waiting = np.exp(log_scale) * (1 - curve.G_PHI)[:, None]
            short = np.minimum(np.log(waiting / wait_ms), 0.0)
            logpost = logpost - 0.5 * (short / WAIT_LOG_SD) ** 2
            assumptions.append(f"at least {wait_ms:.0f} ms per invocation waits on other services (traced calls)")
    if obs.shape[0] == 1 and cf_obs is None:
        assumptions.append("one size measured and no CPU time known: how much of the time is computing comes from "
                           "the priors, so the band away from the measured size is wide")
    post = np.exp(logpost - logpost.max())
    post /= post.sum()
    keep = np.flatnonzero(post.ravel() > _PRUNE * post.max())
    comp, tau_i = np.unravel_index(keep, post.shape)
    used = cols.get("max_memory_used_p99_mb")
    used_p99 = float(np.nanmax(used)) if used is not None and np.isfinite(used).any() else None
    if used_p99:
        assumptions.append(f"Max Memory Used p99 {used_p99:.0f} MB: below {1.5 * used_p99:.0f} MB the band allows "
                           "up to ~15% slowdown from memory pressure (an assumption)")
    cvs = obs["cv"].dropna() if (~np.isnan(cols["cv"])).any() else ()
    model = DurationModel(arch=arch, runtime=runtime, observations=obs, weights=post.ravel()[keep], component=comp,
                          tau=curve.TAU[tau_i], log_scale=log_scale[comp, tau_i], scale_var=scale_var[tau_i],
                          cpu_fraction=None if cf_obs is None else cf_obs[1], max_memory_used_mb=used_p99,
                          cv=float(cvs.median()) if len(cvs) else DEFAULT_CV, prior=pr, assumptions=assumptions,
                          notes=notes)
    model.__dict__["_observed_arrays"] = (obs, m, cols["mean_ms"], se)   # what _observed would read from the table
    return model
