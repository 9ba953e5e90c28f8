"""Memory and architecture trade-off: a duration model that predicts unseen memory sizes, and recommendations
in dollars with their uncertainty.

The model (pure: arrays in, arrays and tables out) knows how Lambda allocates CPU (facts §1.3): the CPU share
is proportional to memory, one vCPU at 1,769 MB, about 5.8 at 10,240 MB. Part of a warm invocation does not
speed up with CPU (waits on other services, fixed runtime overhead), so the mean warm duration at ``m`` MB is

    t(m) = F + W / s(m)**alpha,        s(m) = min(p, m / 1769)

* ``F``   ms that do not scale with memory (I/O, waits);
* ``W``   ms of CPU work at one full vCPU;
* ``p``   the share (in vCPUs) beyond which the code stops speeding up: 1 for one busy thread, more for code
          that keeps several threads busy;
* ``alpha`` about 1: CPU time scales with the share. Throttled CPU-heavy code pays a little more per unit of
          work at small shares; in the cebert 2025 set a unit of CPU-heavy work costs a median 2.7% more at
          128 MB than at 1,024 MB, i.e. ``alpha = 1.013``. Short bursts near the scheduler's quantum at the
          smallest sizes can scale much faster, so 1.3, 1.7 and 2.2 are allowed with small prior weights.

It is fitted by Bayesian model averaging over a grid of ``(p, F/W split, alpha)`` with the scale profiled
out under a heavy-tailed (Student-t) likelihood on log durations, so an outlying size cannot drag the fit.
Predictions are the posterior median of the mean warm duration; intervals are posterior quantiles that
include the spread of the grid, the uncertainty of the scale and a model-discrepancy term that grows with
the distance from the nearest measured size. From a single size, the priors below decide the split between
``F`` and ``W``; Lambda Insights / X-Ray ``cpu_fraction`` sharpens it, and the band is wide without it.

Priors and their sources (every one is listed in ``model.assumptions``):

* ``p``: a log-normal around the share where single-threaded runtimes stopped speeding up in the cebert 2025
  measurements (``../shared/data/cebert-2025``; its memory-intensive set reaches 10,240 MB): 1.06 vCPU on
  x86_64, 1.30 on arm64 (log-sd 0.1), mixed with a flat component over 1-5.79 vCPU for multi-threaded code
  (weight 0.15 for Python/Node.js/Ruby, 0.5 for Java/.NET/Go, 0.3 otherwise). On x86_64 the bend at ``p`` is
  sharp (1,024 -> 1,769 MB speeds CPU-heavy code up 1.73-1.8x, as the share says); on arm64 it is gradual
  (1.55-1.66x in every cebert configuration), so arm64 uses a soft minimum ``(x**-8 + p**-8)**(-1/8)``.
* ``F``: log-normal, median 20 ms, log-sd 1.5 (one or two in-region SDK calls; 90% between 2 ms and 240 ms).
* ``W``: log-normal, median 30 ms at one vCPU, log-sd 2.5 (90% between 0.5 ms and 1.8 s).
* repeatability of a size's mean: Student-t (4 d.o.f.) with scale 4% on the log scale: the November and
  December 2025 cebert runs of the same configuration differ by a median 2.6% per run, with heavy tails.
* memory pressure: below 1.5x the Max Memory Used p99 the band widens upwards (half-normal, up to 15% log-sd
  at the p99 itself), because garbage collection runs more often near the limit. An assumption, not fitted.
* arm64 vs x86_64 speed of the CPU part, when only one architecture was measured: 0.87 (log-sd 0.12), the
  median arm64/x86_64 ratio of mean warm durations at <= 1,024 MB over every runtime and CPU-heavy workload of
  the cebert 2025 set. The non-scaling part is assumed equal on both.

Costs go through :mod:`lambda_workbook.billing` (request fee included, each invocation rounded up to 1 ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from . import billing
from . import prices as _prices

VCPU_MB = billing.VCPU_MB                           # one vCPU (facts §1.3)
MIN_MB, MAX_MB = billing.MEMORY_RANGE_MB           # 128-10,240 MB
MAX_VCPU = MAX_MB / VCPU_MB                        # about 5.79

P_GRID = np.array([1.0, 1.04, 1.08, 1.12, 1.16, 1.2, 1.25, 1.3, 1.35, 1.4, 1.5, 1.6, 1.75, 2.0, 2.5, 3.0, 4.0,
                   5.0, MAX_VCPU])
U_GRID = np.linspace(-9.0, 9.0, 73)                # logit of the CPU share of t at one vCPU
ALPHA_GRID = np.array([1.013, 1.3, 1.7, 2.2])
ALPHA_PRIOR = np.array([0.85, 0.08, 0.05, 0.02])

P_CENTER = {"x86_64": 1.06, "arm64": 1.30}
KNEE = {"x86_64": None, "arm64": 8.0}              # soft-min exponent of the bend (None = a sharp min)
P_LOG_SD = 0.10
F_PRIOR = (math.log(20.0), 1.5)                    # non-scaling ms: log-normal (log median, log sd)
W_PRIOR = (math.log(30.0), 2.5)                    # CPU ms at one vCPU
REPEAT_SD = 0.04                                   # log-scale repeatability of a size's mean
STUDENT_NU = 4.0
DISCREPANCY_SD = 0.07                              # model error two-fold from any measured size (90% bands cover ~90% of held-out cebert sizes)
CPU_FRACTION_SD = 0.08                             # absolute noise of a CPU-bound share from Insights / X-Ray
ARM_SPEED_RATIO = 0.87                             # arm64 / x86_64 CPU time, cebert 2025 (see module doc)
ARM_SPEED_LOG_SD = 0.12
DEFAULT_CV = 0.25                                  # spread of single invocations when no raw data is given
DEFAULT_HEADROOM = 0.20                            # memory floor: Max Memory Used p99 + 20%
PRESSURE_SD = 0.15                                 # extra upward spread near the memory used (assumption)
STRATEGIES = ("cost", "speed", "balanced")
_SAMPLES = 2000
_PRUNE = 1e-7

_MULTI_THREADED = ("java", "dotnet", "go")
_SINGLE_THREADED = ("python", "nodejs", "ruby")


class ObservationError(ValueError):
    """Observations the model cannot use; the message names the bad value and what is allowed."""


# --------------------------------------------------------------------------------------------------------
# observations


def _array(name: str, values, n: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ObservationError(f"{name} must be numbers (an array-like), got {values!r:.80}") from None
    if n is not None and arr.size != n:
        raise ObservationError(f"{name} has {arr.size} values but memory_mb has {n}; pass equal-length array-likes")
    return arr


def _first_bad(mask: np.ndarray, arr: np.ndarray) -> str:
    i = int(np.flatnonzero(mask)[0])
    return f"{float(arr[i])!r} at index {i}"


def runtime_family(runtime: str | None) -> str:
    """'python', 'nodejs', 'java', 'dotnet', 'go', 'ruby', 'rust', 'provided' or 'unknown'."""
    if not runtime:
        return "unknown"
    r = str(runtime).lower()
    for fam in ("python", "nodejs", "java", "dotnet", "ruby", "go", "rust", "provided"):
        if r.startswith(fam):
            return fam
    return "unknown"


def observations(memory_mb, duration_ms, *, counts=None, init_ms=None, ok=None,
                 max_memory_used_mb=None) -> pd.DataFrame:
    """Per-size warm-duration statistics from per-invocation values or per-size aggregates.

    Rows with an INIT duration (cold starts) or ``ok == False`` are left out. Where several invocations share
    a size, rare values more than 2x (and 4 robust standard deviations) from the size's median are dropped
    as outliers before the mean is taken. ``counts`` says how many invocations a row stands for (aggregates); it weights the mean.
    """
    mem = _array("memory_mb", memory_mb)
    n = mem.size
    if n == 0:
        raise ObservationError("memory_mb is empty: pass at least one observation")
    dur = _array("duration_ms", duration_ms, n)
    bad = ~np.isfinite(mem) | (mem < MIN_MB) | (mem > MAX_MB)
    if bad.any():
        raise ObservationError(f"memory_mb must be between {MIN_MB} and {MAX_MB} MB; got {_first_bad(bad, mem)}")
    bad = ~np.isfinite(dur) | (dur <= 0)
    if bad.any():
        raise ObservationError(f"duration_ms must be positive finite milliseconds; got {_first_bad(bad, dur)}")
    keep = np.ones(n, dtype=bool)
    if init_ms is not None:
        init = np.nan_to_num(_array("init_ms", init_ms, n), nan=0.0)
        keep &= init <= 0
    if ok is not None:
        okv = np.asarray(ok, dtype=bool).ravel()
        if okv.size != n:
            raise ObservationError(f"ok has {okv.size} values but memory_mb has {n}")
        keep &= okv
    if counts is None:
        cnt = np.ones(n)
        # one row per size reads as per-size means; repeated sizes as single invocations
        raw = np.unique(mem[keep]).size < int(keep.sum())
    else:
        cnt = _array("counts", counts, n)
        if (~np.isfinite(cnt) | (cnt <= 0)).any():
            raise ObservationError(f"counts must be positive; got {_first_bad(~np.isfinite(cnt) | (cnt <= 0), cnt)}")
        raw = bool(np.all(cnt == 1))
    used = None
    if max_memory_used_mb is not None:
        used = np.atleast_1d(_array("max_memory_used_mb", max_memory_used_mb))
        if used.size not in (1, n):
            raise ObservationError(f"max_memory_used_mb must be one value or one per observation ({n}); got {used.size}")
    if not keep.any():
        raise ObservationError("no warm, successful observation left (every row is a cold start or an error)")
    rows = []
    for size in np.unique(mem[keep]):
        sel = keep & (mem == size)
        d, c = dur[sel], cnt[sel]
        n_raw = int(sel.sum())
        dropped = 0
        if raw and n_raw >= 5:
            # an outlier is more than 2x (and 4 robust sds) from the median, and rare (<= 5% of the size's
            # invocations, at least one); a heavier tail than that is the distribution and is kept
            logd = np.log(d)
            med = np.median(logd)
            fence = max(4 * 1.4826 * np.median(np.abs(logd - med)), math.log(2.0))
            outside = np.abs(logd - med) > fence
            if 0 < outside.sum() <= max(1, int(0.05 * n_raw)):
                dropped = int(outside.sum())
                d, c = d[~outside], c[~outside]
        mean = float(np.average(d, weights=c))
        total = float(c.sum())
        cv = float(np.std(d, ddof=1) / mean) if raw and d.size >= 3 else np.nan
        row = {"memory_mb": float(size), "mean_ms": mean, "invocations": total, "cv": cv, "outliers": dropped}
        if raw and d.size:
            row["p50_ms"] = float(np.percentile(d, 50))
            row["p99_ms"] = float(np.percentile(d, 99))
        if used is not None:
            u = used if used.size == 1 else used[sel]
            u = u[np.isfinite(u)]
            row["max_memory_used_p99_mb"] = float(np.percentile(u, 99)) if u.size else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    # sampling error of each size's mean: its own spread with >= 3 invocations, else the spread pooled over
    # the other sizes (the relative spread varies little with memory), else a generic 25%
    pooled = float(out["cv"].median()) if out["cv"].notna().any() else DEFAULT_CV
    spread = out["cv"].fillna(pooled)
    if raw or counts is not None:
        out["rel_se"] = spread / np.sqrt(out["invocations"])
    else:
        out["rel_se"] = 0.0  # one row per size, no counts: means of many invocations
    return out[["memory_mb", "mean_ms", "invocations", "rel_se", "cv", "outliers"]
               + [c for c in out.columns if c not in ("memory_mb", "mean_ms", "invocations", "rel_se", "cv", "outliers")]]


# --------------------------------------------------------------------------------------------------------
# the model


def _share(p, memory_mb, arch: str = "x86_64"):
    """vCPUs a size's code can use: ``m / 1769`` up to ``p``; on arm64 the bend is gradual (see KNEE)."""
    x = np.asarray(memory_mb, dtype=float) / VCPU_MB
    k = KNEE[arch]
    if k is None:
        return np.minimum(p, x)
    return (x ** -k + np.asarray(p, dtype=float) ** -k) ** (-1.0 / k)


def _p_prior(arch: str, runtime: str | None) -> tuple[np.ndarray, float]:
    fam = runtime_family(runtime)
    broad = 0.5 if fam in _MULTI_THREADED else 0.15 if fam in _SINGLE_THREADED else 0.3
    log_pdf = -0.5 * ((np.log(P_GRID) - math.log(P_CENTER[arch])) / P_LOG_SD) ** 2
    narrow = np.exp(log_pdf)
    narrow /= narrow.sum()
    return (1 - broad) * narrow + broad / P_GRID.size, broad


def _cpu_bound_share(cpu_fraction: float, share: np.ndarray) -> np.ndarray:
    """The share of wall time that is CPU-bound, from CPU time / wall time (Lambda Insights, X-Ray).

    CPU time per wall second cannot exceed the CPU share the size gets; a value above it cannot be a literal
    CPU-time ratio and is read as the CPU-bound share itself (some tools report it that way).
    """
    literal = cpu_fraction / share
    return np.where(cpu_fraction <= share, np.minimum(literal, 1.0), min(cpu_fraction, 1.0))


@dataclass
class DurationModel:
    """A fitted duration-vs-memory model. ``predict`` and ``interval`` are the public contract."""

    arch: str
    runtime: str | None
    observations: pd.DataFrame
    weights: np.ndarray            # posterior weight per retained grid component
    fixed_ms: np.ndarray           # F per component
    cpu_ms: np.ndarray             # W per component (at one vCPU)
    parallelism: np.ndarray        # p per component
    alpha: np.ndarray              # alpha per component
    scale_sd: np.ndarray           # log-sd of the fitted scale per component
    cpu_fraction: float | None = None
    max_memory_used_mb: float | None = None
    cv: float = DEFAULT_CV
    cpu_scale: float = 1.0         # multiplies W (another architecture's speed)
    cpu_scale_sd: float = 0.0
    derived_from: str | None = None
    assumptions: list[str] = field(default_factory=list)
    _resid2: np.ndarray | None = field(default=None, repr=False)

    # -- curves ---------------------------------------------------------------------------------------
    def _curves(self, memory_mb: np.ndarray, idx: np.ndarray | None = None, measured: bool = True) -> np.ndarray:
        sel = slice(None) if idx is None else idx
        share = _share(self.parallelism[sel][:, None], memory_mb[None, :], self.arch)
        curves = self.fixed_ms[sel][:, None] + self.cpu_scale * self.cpu_ms[sel][:, None] / share ** self.alpha[sel][:, None]
        cols, mean, kappa, _ = self._measured(memory_mb) if measured else (np.empty(0, int), None, None, None)
        if cols.size:  # a measured size keeps its own mean, shrunk toward the curve by its noise
            curves[:, cols] = curves[:, cols] ** (1 - kappa) * mean ** kappa
        return curves

    @staticmethod
    def _weighted_median(curves: np.ndarray, weights: np.ndarray) -> np.ndarray:
        order = np.argsort(curves, axis=0)
        cum = np.cumsum(weights[order], axis=0)
        pick = np.argmax(cum >= 0.5 * cum[-1], axis=0)
        return np.take_along_axis(curves, order, axis=0)[pick, np.arange(curves.shape[1])]

    def _measured(self, memory_mb: np.ndarray):
        """Columns of ``memory_mb`` that were measured (on this architecture), their means, the weight of
        the measurement against the curve (repeatability vs sampling noise) and the remaining log-sd."""
        if self.derived_from:
            return np.empty(0, int), np.empty(0), np.empty(0), np.empty(0)
        obs = self.observations
        sizes = obs["memory_mb"].to_numpy()
        pos = np.searchsorted(sizes, memory_mb)
        hit = (pos < sizes.size) & (sizes[np.minimum(pos, sizes.size - 1)] == memory_mb)
        cols = np.flatnonzero(hit)
        rows = pos[cols]
        se2 = obs["rel_se"].to_numpy()[rows] ** 2
        mean = obs["mean_ms"].to_numpy()[rows]
        # how far a size may sit from the curve: the repeatability, or (positive-part, method of moments)
        # what its residual beyond sampling noise says when the curve plainly misses a measured size
        if self._resid2 is None:
            curve = self._weighted_median(self._curves(sizes, measured=False), self.weights)
            self._resid2 = (np.log(obs["mean_ms"].to_numpy()) - np.log(curve)) ** 2
        tau2 = np.maximum(REPEAT_SD ** 2, self._resid2[rows] - se2)
        return cols, mean, tau2 / (tau2 + se2), np.sqrt(tau2 * se2 / (tau2 + se2))

    @staticmethod
    def _memory(memory_mb) -> tuple[np.ndarray, bool]:
        m = np.asarray(memory_mb, dtype=float)
        scalar = m.ndim == 0
        m = np.atleast_1d(m).ravel()
        bad = ~np.isfinite(m) | (m < MIN_MB) | (m > MAX_MB)
        if bad.any():
            raise ValueError(f"memory_mb must be between {MIN_MB} and {MAX_MB} MB; got {_first_bad(bad, m)}")
        return m, scalar

    def predict(self, memory_mb) -> np.ndarray:
        """Expected (mean) warm duration in ms at each size: the posterior median of the mean."""
        m, _ = self._memory(memory_mb)
        return self._weighted_median(self._curves(m), self.weights)

    def _discrepancy(self, m: np.ndarray) -> np.ndarray:
        measured = self.observations["memory_mb"].to_numpy()
        dist = np.min(np.abs(np.log2(m[:, None] / measured[None, :])), axis=1)
        extra = 1.0 if self.derived_from else 0.0
        return DISCREPANCY_SD * np.minimum(1.0, dist + extra)

    def samples(self, memory_mb, n: int = _SAMPLES, seed: int = 0) -> np.ndarray:
        """``(n, len(memory_mb))`` draws of the mean warm duration curve from the posterior (deterministic)."""
        m, _ = self._memory(memory_mb)
        rng = np.random.default_rng(seed)
        idx = rng.choice(self.weights.size, size=n, p=self.weights / self.weights.sum())
        base = self._curves(m, idx)
        if self.cpu_scale_sd:
            cpu = self.cpu_scale * self.cpu_ms[idx][:, None] / _share(self.parallelism[idx][:, None], m[None, :], self.arch) ** \
                self.alpha[idx][:, None]
            base = base + cpu * (np.exp(rng.normal(0.0, self.cpu_scale_sd, (n, 1))) - 1.0)
        noise = rng.normal(0.0, 1.0, (n, 1)) * self.scale_sd[idx][:, None] \
            + rng.normal(0.0, 1.0, (n, 1)) * self._discrepancy(m)[None, :]
        cols, _, kappa, sd = self._measured(m)
        if cols.size:
            noise[:, cols] = noise[:, cols] * (1 - kappa) + rng.normal(0.0, 1.0, (n, cols.size)) * sd
        pressure = self._pressure(m)
        if pressure.any():  # close to the memory it uses, a function may slow down (only ever up)
            noise = noise + np.abs(rng.normal(0.0, 1.0, (n, 1))) * PRESSURE_SD * pressure[None, :]
        return base * np.exp(noise)

    def _pressure(self, m: np.ndarray) -> np.ndarray:
        """0-1: how far inside 1.5x of the Max Memory Used p99 an unmeasured size is (garbage collection)."""
        used = self.max_memory_used_mb
        if not used or not np.isfinite(used):
            return np.zeros(m.size)
        out = np.clip((1.5 * used - m) / (0.5 * used), 0.0, 1.0)
        out[self._measured(m)[0]] = 0.0
        return out

    def interval(self, memory_mb, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` interval of the mean warm duration (ms) at each size: ``(low, high)``."""
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1 (e.g. 0.9), got {level!r}")
        draws = self.samples(memory_mb)
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        mid = self.predict(memory_mb)
        return np.minimum(lo, mid), np.maximum(hi, mid)

    # -- summaries -------------------------------------------------------------------------------------
    def _quantile(self, values: np.ndarray, q: float) -> float:
        order = np.argsort(values)
        cum = np.cumsum(self.weights[order])
        return float(values[order][np.searchsorted(cum, q * cum[-1])])

    @property
    def params(self) -> dict[str, Any]:
        """Posterior medians (and 90% ranges) of the model's parameters."""
        out = {}
        for name, values in (("fixed_ms", self.fixed_ms), ("cpu_ms_at_1_vcpu", self.cpu_ms * self.cpu_scale),
                             ("parallelism_vcpu", self.parallelism), ("alpha", self.alpha)):
            out[name] = self._quantile(values, 0.5)
            out[name + "_range"] = (self._quantile(values, 0.05), self._quantile(values, 0.95))
        share = self.cpu_ms / (self.fixed_ms + self.cpu_ms)
        out["cpu_share_at_1_vcpu"] = self._quantile(share, 0.5)
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
        """This model moved to another architecture with the documented speed prior (price is billing's job)."""
        billing.check_arch(arch)
        if arch == self.arch:
            return self
        ratio = ARM_SPEED_RATIO if arch == "arm64" else 1.0 / ARM_SPEED_RATIO
        p = np.clip(self.parallelism * P_CENTER[arch] / P_CENTER[self.arch], 1.0, MAX_VCPU)
        note = (f"{arch} speed not measured: its CPU time is assumed {ratio:.2f}x {self.arch}'s (±{ARM_SPEED_LOG_SD:.0%}; "
                "median arm64/x86_64 ratio of the cebert 2025 measurements at <= 1,024 MB), its non-scaling time equal, "
                f"and single-threaded speed-up continuing to {P_CENTER[arch]:.2f} vCPU")
        return replace(self, arch=arch, parallelism=p, cpu_scale=self.cpu_scale * ratio,
                       cpu_scale_sd=math.hypot(self.cpu_scale_sd, ARM_SPEED_LOG_SD), derived_from=self.arch,
                       assumptions=[*self.assumptions, note])

    def __repr__(self) -> str:
        p = self.params
        return (f"DurationModel({self.arch}, sizes={self.sizes_measured}, fixed≈{p['fixed_ms']:.1f} ms, "
                f"cpu≈{p['cpu_ms_at_1_vcpu']:.1f} ms@1vCPU, p≈{p['parallelism_vcpu']:.2f})")


def fit(memory_mb, duration_ms, *, arch: str = "x86_64", runtime: str | None = None, cpu_fraction=None,
        counts=None, init_ms=None, ok=None, max_memory_used_mb=None, wait_ms: float | None = None) -> DurationModel:
    """Fit the duration model to warm observations at one or more memory sizes.

    ``memory_mb`` and ``duration_ms`` are equal-length array-likes: one row per invocation, or one per size
    (an aggregate mean; then ``counts`` may say how many invocations it covers). Optional, aligned with them:
    ``init_ms`` (rows with an INIT duration are cold starts and are left out), ``ok`` (False = an error or a
    timeout, left out) and ``max_memory_used_mb`` (or one p99 value) for the memory floor. ``cpu_fraction``
    is CPU time / wall time from Lambda Insights or X-Ray at the most-observed size (a scalar), or one value
    per row (NaN unknown). ``wait_ms`` is time per invocation spent waiting on other services (X-Ray
    subsegments): the non-scaling time is at least that. ``runtime`` (e.g. ``"python3.12"``) sets the prior
    on multi-threading.
    """
    billing.check_arch(arch)
    if runtime is not None and not isinstance(runtime, str):
        raise ObservationError(f"runtime must be a runtime name such as 'python3.12' or None, got {runtime!r}")
    obs = observations(memory_mb, duration_ms, counts=counts, init_ms=init_ms, ok=ok,
                       max_memory_used_mb=max_memory_used_mb)
    cf_obs = _cpu_fraction_by_size(cpu_fraction, memory_mb, obs)

    m = obs["memory_mb"].to_numpy()
    logy = np.log(obs["mean_ms"].to_numpy())
    sd = np.sqrt(REPEAT_SD ** 2 + obs["rel_se"].to_numpy() ** 2)
    P = P_GRID[:, None, None, None]
    phi = (1.0 / (1.0 + np.exp(-U_GRID)))[None, :, None, None]
    alpha = ALPHA_GRID[None, None, :, None]
    share = _share(P, m[None, None, None, :], arch)
    h = (1 - phi) + phi / share ** alpha
    resid = logy - np.log(h)
    w = np.broadcast_to(1.0 / sd ** 2, resid.shape)
    for _ in range(8):  # iteratively re-weighted: the Student-t scale estimate of log A
        log_a = (w * resid).sum(-1, keepdims=True) / w.sum(-1, keepdims=True)
        z = (resid - log_a) / sd
        w = (STUDENT_NU + 1) / (STUDENT_NU + z ** 2) / sd ** 2
    loglik = (-(STUDENT_NU + 1) / 2 * np.log1p(z ** 2 / STUDENT_NU)).sum(-1)
    scale_sd = np.sqrt(1.0 / w.sum(-1))
    a = np.exp(log_a[..., 0])
    phi3 = phi[..., 0]
    fixed, cpu = a * (1 - phi3), a * phi3
    p_prior, broad = _p_prior(arch, runtime)
    logpost = (loglik
               - 0.5 * ((np.log(fixed) - F_PRIOR[0]) / F_PRIOR[1]) ** 2
               - 0.5 * ((np.log(cpu) - W_PRIOR[0]) / W_PRIOR[1]) ** 2
               + np.log(p_prior)[:, None, None] + np.log(ALPHA_PRIOR)[None, None, :])
    if cf_obs is not None:
        size, cf = cf_obs
        sh = _share(P[..., 0], size, arch)
        cpu_wall = phi3 / sh ** ALPHA_GRID[None, None, :]
        model_share = cpu_wall / ((1 - phi3) + cpu_wall)
        target = _cpu_bound_share(cf, sh)
        logpost = logpost - 0.5 * ((model_share - target) / CPU_FRACTION_SD) ** 2
    if wait_ms is not None:
        if not (np.isfinite(wait_ms) and wait_ms >= 0):
            raise ObservationError(f"wait_ms must be >= 0 ms of waiting per invocation, got {wait_ms!r}")
        if wait_ms > 0:  # one-sided: F below the traced waits is unlikely, above it says nothing
            short = np.minimum(np.log(fixed) - math.log(wait_ms), 0.0)
            logpost = logpost - 0.5 * (short / 0.15) ** 2
    post = np.exp(logpost - logpost.max())
    post /= post.sum()
    keep = post > _PRUNE * post.max()
    pgrid = np.broadcast_to(P[..., 0], post.shape)
    agrid = np.broadcast_to(ALPHA_GRID[None, None, :], post.shape)
    cvs = obs["cv"].dropna()
    used = obs.get("max_memory_used_p99_mb")
    used_p99 = float(np.nanmax(used)) if used is not None and np.isfinite(used).any() else None
    assumptions = [
        "CPU share proportional to memory, one vCPU at 1,769 MB (facts §1.3)",
        f"single-threaded speed-up stops near {P_CENTER[arch]:.2f} vCPU on {arch} (cebert 2025 fits); "
        f"{broad:.0%} prior weight on multi-threaded code ({runtime_family(runtime)} runtime)",
        "warm invocations only; cold starts, errors and rare outliers (> 2x from the median) left out",
    ]
    if obs.shape[0] == 1 and cf_obs is None:
        assumptions.append("one size measured and no CPU share known: the split between waiting and computing "
                           "comes from priors (median 20 ms waiting, 30 ms CPU at one vCPU); the band is wide")
    if cf_obs is not None:
        assumptions.append(f"CPU time / wall time {cf_obs[1]:.2f} at {cf_obs[0]:g} MB (Lambda Insights / X-Ray)")
    if wait_ms:
        assumptions.append(f"at least {wait_ms:.0f} ms per invocation waits on other services (traced calls)")
    if used_p99:
        assumptions.append(f"Max Memory Used p99 {used_p99:.0f} MB: below {1.5 * used_p99:.0f} MB the band allows "
                           "up to ~15% slowdown from memory pressure")
    return DurationModel(arch=arch, runtime=runtime, observations=obs, weights=post[keep], fixed_ms=fixed[keep],
                         cpu_ms=cpu[keep], parallelism=pgrid[keep], alpha=agrid[keep], scale_sd=scale_sd[keep],
                         cpu_fraction=None if cf_obs is None else cf_obs[1], max_memory_used_mb=used_p99,
                         cv=float(cvs.median()) if len(cvs) else DEFAULT_CV, assumptions=assumptions)


def _cpu_fraction_by_size(cpu_fraction, memory_mb, obs: pd.DataFrame) -> tuple[float, float] | None:
    if cpu_fraction is None:
        return None
    cf = np.atleast_1d(np.asarray(cpu_fraction, dtype=float)).ravel()
    if cf.size == 1:
        value = float(cf[0])
        if np.isnan(value):
            return None
        size = float(obs.loc[obs["invocations"].idxmax(), "memory_mb"])
    else:
        mem = np.asarray(memory_mb, dtype=float).ravel()
        if cf.size != mem.size:
            raise ObservationError(f"cpu_fraction must be one value or one per observation ({mem.size}); got {cf.size}")
        known = np.isfinite(cf)
        if not known.any():
            return None
        sizes, counts = np.unique(mem[known], return_counts=True)
        size = float(sizes[np.argmax(counts)])
        value = float(np.mean(cf[known & (mem == size)]))
    if not 0 < value <= MAX_VCPU:
        raise ObservationError(f"cpu_fraction must be CPU time / wall time, above 0 and at most {MAX_VCPU:.2f}; got {value!r}")
    return size, value


# --------------------------------------------------------------------------------------------------------
# cost and recommendations


def candidate_sizes(min_memory_mb: float = MIN_MB, max_memory_mb: float = MAX_MB, step_mb: float = 64,
                    extra=()) -> np.ndarray:
    """Sizes to consider: ``min, min+step, ... <= max``, plus ``max`` and any ``extra`` sizes within range."""
    for name, v in (("min_memory_mb", min_memory_mb), ("max_memory_mb", max_memory_mb)):
        if not (MIN_MB <= v <= MAX_MB):
            raise ValueError(f"{name} must be between {MIN_MB} and {MAX_MB} MB, got {v!r}")
    if min_memory_mb > max_memory_mb:
        raise ValueError(f"min_memory_mb ({min_memory_mb}) is above max_memory_mb ({max_memory_mb})")
    if not step_mb >= 1:
        raise ValueError(f"step_mb must be at least 1 MB, got {step_mb!r}")
    grid = np.arange(float(min_memory_mb), float(max_memory_mb) + 0.5, float(step_mb))
    extra = [float(e) for e in np.atleast_1d(np.asarray(extra, dtype=float)) if min_memory_mb <= e <= max_memory_mb]
    return np.unique(np.concatenate([grid, [float(max_memory_mb)], extra]))


_Z_NODES = np.array([NormalDist().inv_cdf(q) for q in np.linspace(0.5 / 16, 1 - 0.5 / 16, 16)])


def expected_billed_ms(mean_ms, cv: float = DEFAULT_CV) -> np.ndarray:
    """Mean billed ms per invocation when durations spread log-normally around ``mean_ms`` (1-ms rounding)."""
    mu = np.asarray(mean_ms, dtype=float)
    sigma = math.sqrt(math.log1p(max(cv, 0.0) ** 2))
    q = np.exp(_Z_NODES * sigma - sigma ** 2 / 2)
    q = q / q.mean()
    # rounding up adds half a millisecond on average once invocations spread over several ms
    out = mu + 0.5
    small = mu * max(cv, 0.0) < 8.0
    if np.any(small):
        out = np.where(small, 0.0, out)
        out[small] = billing.billed_ms(mu[small][:, None] * q).mean(-1)
    return out


def monthly_cost(duration_ms, memory_mb, *, invocations_per_month: float = 1e6, arch: str = "x86_64",
                 region: str = "us-east-1", cv: float = DEFAULT_CV, init_ms: float = 0.0,
                 cold_start_share: float = 0.0, provisioned_concurrency: float = 0.0,
                 book: _prices.PriceBook | None = None) -> np.ndarray:
    """USD a month at each (duration, memory) pair: request fee + billed GB-s, first-tier prices, no free tier.

    Each invocation is rounded up to the next ms; ``cold_start_share`` of them also bill ``init_ms`` of INIT
    (billed since 2025-08-01, facts §1.2; INIT time is assumed not to depend on memory). With
    ``provisioned_concurrency`` environments kept all month, their allocation (which grows with memory) is
    added and invocations are priced at the provisioned duration rate (spill-over is not modelled).
    """
    billing.check_arch(arch)
    if invocations_per_month < 0 or not np.isfinite(invocations_per_month):
        raise ValueError(f"invocations_per_month must be >= 0, got {invocations_per_month!r}")
    if not 0 <= cold_start_share <= 1:
        raise ValueError(f"cold_start_share must be between 0 and 1, got {cold_start_share!r}")
    if not provisioned_concurrency >= 0:
        raise ValueError(f"provisioned_concurrency must be >= 0, got {provisioned_concurrency!r}")
    book = book or _prices.load(region)
    per_inv = expected_billed_ms(duration_ms, cv) + cold_start_share * float(init_ms)
    n = float(invocations_per_month)
    mem = np.asarray(memory_mb, dtype=float)
    sizes, where = np.unique(mem, return_inverse=True)
    # billing is linear in invocations and billed ms: price one of each per size, then scale
    if provisioned_concurrency:

        def pc(m, inv, ms):
            return billing.provisioned_cost(0, m, 0, arch=arch, invocations=inv, duration_ms=ms, book=book)["served_usd"]

        request = np.array([pc(m, 1.0, 0.0) for m in sizes])
        per_ms = np.array([pc(m, 1.0, 1.0) for m in sizes]) - request
        fixed = np.array([billing.provisioned_cost(provisioned_concurrency, m, billing.MONTH_HOURS, arch=arch,
                                                   book=book)["allocation_usd"] for m in sizes])
    else:
        request = billing.cost_from_totals(np.ones(sizes.size), np.zeros(sizes.size), sizes, arch, book=book)
        per_ms = billing.cost_from_totals(np.zeros(sizes.size), np.ones(sizes.size), sizes, arch, book=book)
        fixed = np.zeros(sizes.size)
    request, per_ms, fixed = (a[where].reshape(mem.shape) for a in (request, per_ms, fixed))
    return fixed + n * request + n * per_inv * per_ms


@dataclass
class Recommendation:
    """A recommended memory size with its predicted duration, monthly cost and their bands."""

    memory_mb: float
    duration_ms: float
    monthly_cost: float
    strategy: str
    arch: str
    region: str
    invocations_per_month: float
    duration_interval: tuple[float, float]
    monthly_cost_interval: tuple[float, float]
    level: float
    floor_mb: float
    meets_slo: bool
    curve: pd.DataFrame
    current_memory_mb: float | None = None
    current_duration_ms: float | None = None
    current_monthly_cost: float | None = None
    monthly_savings: float | None = None
    savings_interval: tuple[float, float] | None = None
    latency_slo_ms: float | None = None
    cost_tolerance: float | None = None
    prices_as_of: str = ""
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def change(self) -> str:
        if self.current_memory_mb is None or self.memory_mb == self.current_memory_mb:
            return "keep"
        return "increase" if self.memory_mb > self.current_memory_mb else "decrease"

    def points(self) -> dict[str, dict[str, float] | None]:
        """Today's size and the recommended one as ``{memory_mb, duration_ms, monthly_cost}`` (for plots)."""
        cur = None if self.current_memory_mb is None else {
            "memory_mb": self.current_memory_mb, "duration_ms": self.current_duration_ms,
            "monthly_cost": self.current_monthly_cost}
        return {"current": cur, "recommended": {"memory_mb": self.memory_mb, "duration_ms": self.duration_ms,
                                                "monthly_cost": self.monthly_cost}}

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able figures."""
        out = {k: getattr(self, k) for k in ("memory_mb", "duration_ms", "monthly_cost", "strategy", "arch", "region",
                                             "invocations_per_month", "floor_mb", "meets_slo", "current_memory_mb",
                                             "current_duration_ms", "current_monthly_cost", "monthly_savings",
                                             "latency_slo_ms", "cost_tolerance", "prices_as_of")}
        out.update(duration_interval=list(self.duration_interval), monthly_cost_interval=list(self.monthly_cost_interval),
                   savings_interval=list(self.savings_interval) if self.savings_interval else None, change=self.change,
                   assumptions=list(self.assumptions), notes=list(self.notes))
        return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in out.items()}


def _choose(strategy: str, cost: np.ndarray, dur: np.ndarray, allowed: np.ndarray, *, cost_tolerance,
            balanced_weight: float) -> int:
    idx = np.flatnonzero(allowed)
    c, d = cost[idx], dur[idx]
    if strategy == "cost":
        limit = c.min() * (1 + (cost_tolerance or 0.0) + 1e-3)  # within 0.1% counts as a tie: faster wins
        near = np.flatnonzero(c <= limit)
        return int(idx[near[np.argmin(d[near])]])
    if strategy == "speed":
        near = np.flatnonzero(d <= d.min() * 1.01)  # durations within 1% count as equal: cheaper wins
        return int(idx[near[np.argmin(c[near])]])
    score = balanced_weight * c / c.min() + (1 - balanced_weight) * d / d.min()
    return int(idx[np.argmin(score)])


def recommend(model: DurationModel, *, strategy: str = "cost", invocations_per_month: float = 1e6,
              arch: str = "x86_64", region: str = "us-east-1", latency_slo_ms: float | None = None,
              cost_tolerance: float | None = None, min_memory_mb: float = MIN_MB, max_memory_mb: float = MAX_MB,
              step_mb: float = 64, balanced_weight: float = 0.5, headroom: float = DEFAULT_HEADROOM,
              current_memory_mb: float | None = None, slo_confidence: float = 0.5, level: float = 0.9,
              sizes=None, init_ms: float = 0.0, cold_start_share: float = 0.0, provisioned_concurrency: float = 0.0,
              book: _prices.PriceBook | None = None) -> Recommendation:
    """The memory size that best meets ``strategy`` for ``model`` on ``arch``, priced through billing.

    * ``"cost"``: the lowest expected monthly cost (request fee and per-invocation ms rounding included); with
      ``cost_tolerance`` (e.g. 0.05) the fastest size costing at most that much more than the cheapest.
    * ``"speed"``: the fastest size; sizes within 1% of the fastest count as equal and the cheapest wins.
    * ``"balanced"``: minimises ``w * cost / min_cost + (1 - w) * duration / min_duration`` with
      ``w = balanced_weight`` (1 = cost only, 0 = speed only, as in Power Tuning, but normalised by the minima
      so the answer does not depend on the largest size considered).

    ``latency_slo_ms`` keeps only sizes whose mean warm duration meets it with probability ``slo_confidence``
    under the model (0.5 = the prediction itself; 0.9 = the band's upper side). Sizes below the memory floor
    (Max Memory Used p99 + ``headroom``) are never chosen. ``sizes`` replaces the 64-MB grid (e.g. the sizes a
    tuner may pick). ``current_memory_mb`` (default: the only measured size, if one) gives savings and their
    band from the same posterior draws, so shared uncertainty cancels.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    billing.check_arch(arch)
    if not 0 <= balanced_weight <= 1:
        raise ValueError(f"balanced_weight must be between 0 (speed) and 1 (cost), got {balanced_weight!r}")
    if cost_tolerance is not None and not (0 <= cost_tolerance < 10):
        raise ValueError(f"cost_tolerance must be a fraction >= 0 (0.05 = within 5% of the cheapest), got {cost_tolerance!r}")
    if latency_slo_ms is not None and not latency_slo_ms > 0:
        raise ValueError(f"latency_slo_ms must be a positive number of ms, got {latency_slo_ms!r}")
    if not 0 < slo_confidence < 1:
        raise ValueError(f"slo_confidence must be between 0 and 1, got {slo_confidence!r}")
    book = book or _prices.load(region)
    mdl = model.for_arch(arch)
    if current_memory_mb is None and model.arch == arch and len(model.observations) == 1:
        current_memory_mb = float(model.observations["memory_mb"].iloc[0])
    extra = [] if current_memory_mb is None else [current_memory_mb]
    if sizes is None:
        grid = candidate_sizes(min_memory_mb, max_memory_mb, step_mb, extra=extra)
    else:
        grid = np.unique(np.concatenate([DurationModel._memory(sizes)[0], extra]))
    dur = mdl.predict(grid)
    draws = mdl.samples(grid)
    cost_kw = dict(invocations_per_month=invocations_per_month, arch=arch, cv=mdl.cv, init_ms=init_ms,
                   cold_start_share=cold_start_share, provisioned_concurrency=provisioned_concurrency, book=book)
    cost = monthly_cost(dur, grid, **cost_kw)
    cost_draws = monthly_cost(draws, grid[None, :], **cost_kw)
    q = [(1 - level) / 2, (1 + level) / 2]
    dlo, dhi = np.quantile(draws, q, axis=0)
    clo, chi = np.quantile(cost_draws, q, axis=0)
    floor = mdl.memory_floor(headroom)
    feasible = grid >= floor - 1e-9
    notes = []
    if not feasible.any():
        feasible = grid >= grid.max()
        notes.append(f"every size considered is below the memory floor ({floor:.0f} MB); the largest is used")
    slo_ok = np.ones(grid.size, dtype=bool)
    if latency_slo_ms is not None:
        slo_ok = (draws <= latency_slo_ms).mean(axis=0) >= slo_confidence
    allowed = feasible & slo_ok
    meets = bool(allowed.any())
    if not meets:
        allowed = feasible & (dur <= dur[feasible].min() * 1.01)
        notes.append(f"no size meets the {latency_slo_ms:g} ms SLO with {slo_confidence:.0%} confidence; "
                     "the fastest feasible size is recommended")
    i = _choose(strategy, cost, dur, allowed, cost_tolerance=cost_tolerance, balanced_weight=balanced_weight)
    table = pd.DataFrame({"memory_mb": grid, "duration_ms": dur, "duration_low_ms": np.minimum(dlo, dur),
                          "duration_high_ms": np.maximum(dhi, dur), "monthly_cost": cost,
                          "monthly_cost_low": np.minimum(clo, cost), "monthly_cost_high": np.maximum(chi, cost),
                          "feasible": feasible, "meets_slo": slo_ok, "recommended": np.arange(grid.size) == i})
    rec = Recommendation(
        memory_mb=float(grid[i]), duration_ms=float(dur[i]), monthly_cost=float(cost[i]), strategy=strategy,
        arch=arch, region=region, invocations_per_month=float(invocations_per_month),
        duration_interval=(float(table["duration_low_ms"].iloc[i]), float(table["duration_high_ms"].iloc[i])),
        monthly_cost_interval=(float(table["monthly_cost_low"].iloc[i]), float(table["monthly_cost_high"].iloc[i])),
        level=level, floor_mb=floor, meets_slo=meets, curve=table, latency_slo_ms=latency_slo_ms,
        cost_tolerance=cost_tolerance, prices_as_of=book.as_of, assumptions=list(mdl.assumptions), notes=notes)
    if current_memory_mb is not None:
        # today's configuration runs on the model's own architecture
        cur = np.array([float(current_memory_mb)])
        cur_kw = {**cost_kw, "arch": model.arch, "cv": model.cv}
        cur_cost = float(monthly_cost(model.predict(cur), cur, **cur_kw)[0])
        saving_draws = monthly_cost(model.samples(cur), cur[None, :], **cur_kw)[:, 0] - cost_draws[:, i]
        rec.current_memory_mb = float(cur[0])
        rec.current_duration_ms = float(model.predict(cur)[0])
        rec.current_monthly_cost = cur_cost
        rec.monthly_savings = cur_cost - rec.monthly_cost
        lo, hi = np.quantile(saving_draws, q)
        rec.savings_interval = (float(min(lo, rec.monthly_savings)), float(max(hi, rec.monthly_savings)))
        rec.draws.update(current_duration_ms=model.samples(cur)[:, 0], savings=saving_draws)
    rec.draws.update(duration_ms=draws[:, i], monthly_cost=cost_draws[:, i])
    rec.assumptions.append(f"prices {region} as of {book.as_of}, first volume tier, no free tier; "
                           f"{invocations_per_month:,.0f} invocations a month")
    return rec


def compare_architectures(model: DurationModel, *, current_memory_mb: float | None = None,
                          other: DurationModel | None = None, **recommend_kwargs) -> pd.DataFrame:
    """x86_64 and arm64 side by side: the recommendation on each, with the speed ratio's source.

    ``other`` is a model fitted to measurements on the other architecture, when there are some; otherwise the
    other architecture is derived from ``model`` with the documented speed prior (``for_arch``). The price
    difference always comes from the price book.
    """
    models = {model.arch: model}
    if other is not None:
        if other.arch == model.arch:
            raise ValueError(f"other must be fitted on the other architecture, both are {model.arch!r}")
        models[other.arch] = other
    rows = []
    probe = np.array([512.0, 1024.0, VCPU_MB])
    base = models.get("x86_64", model).for_arch("x86_64")
    for arch in billing.ARCHITECTURES:
        mdl = models.get(arch, model)
        rec = recommend(mdl, arch=arch, current_memory_mb=current_memory_mb if arch == model.arch else None,
                        **recommend_kwargs)
        ratio = float(np.median(mdl.for_arch(arch).predict(probe) / base.predict(probe)))
        measured = arch in models
        rows.append({"arch": arch, "memory_mb": rec.memory_mb, "duration_ms": rec.duration_ms,
                     "duration_low_ms": rec.duration_interval[0], "duration_high_ms": rec.duration_interval[1],
                     "monthly_cost": rec.monthly_cost, "monthly_cost_low": rec.monthly_cost_interval[0],
                     "monthly_cost_high": rec.monthly_cost_interval[1],
                     "speed_vs_x86_64": ratio, "speed_source": "measured" if measured else
                     f"prior: cebert 2025 median arm64/x86_64 ratio {ARM_SPEED_RATIO}" if arch == "arm64" else
                     f"prior: inverse of the cebert 2025 arm64/x86_64 ratio {ARM_SPEED_RATIO}",
                     "current": arch == model.arch})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------
# snapshot integration


def function_observations(snapshot, name: str, *, account_id: str | None = None,
                          region: str | None = None) -> dict[str, Any]:
    """What a snapshot says about one function's duration and memory: the inputs of :func:`fit`.

    REPORT aggregates at the configured size (mean warm duration with timed-out invocations taken out,
    p50/p99, Max Memory Used p99, cold-start share and mean INIT), the invocation rate, the CPU share from
    Lambda Insights / X-Ray when present, and raw REPORT lines at any *other* size the function ran at in the
    window (a memory change), which become extra observations.
    """
    from . import costs as _costs

    fn = snapshot.function(name, account_id=account_id, region=region)
    key = dict(account_id=fn["account_id"], region=fn["region"])
    rep = snapshot.for_function("reports", name, **key)
    factor = _costs.month_factor(snapshot)
    out: dict[str, Any] = {"function_name": name, **key, "runtime": fn["runtime"] or None,
                           "arch": fn["arch"], "memory_mb": float(fn["memory_mb"]),
                           "timeout_s": float(fn["timeout_s"]), "cpu_fraction": None, "evidence": [],
                           "provisioned_concurrency": float(np.nan_to_num(fn.get("provisioned_concurrency", 0.0)))}
    if len(rep) and rep["invocations"].iloc[0] > 0:
        r = rep.iloc[0]
        n = float(r["invocations"])
        timeouts = float(r.get("timeouts", 0.0) or 0.0)
        mean = float(r["duration_mean_ms"]) if pd.notna(r.get("duration_mean_ms")) else float(r["duration_p50_ms"])
        if 0 < timeouts < n:
            mean = (mean * n - timeouts * out["timeout_s"] * 1000.0) / (n - timeouts)
            out["evidence"].append(f"{timeouts:.0f} timed-out invocations left out of the mean")
        mean = max(mean, 1e-3)
        out.update(invocations=n, invocations_per_month=n * factor / max(float(r.get("sampled_fraction", 1.0) or 1.0), 1e-9),
                   duration_mean_ms=mean, duration_p50_ms=float(r["duration_p50_ms"]),
                   duration_p99_ms=float(r["duration_p99_ms"]),
                   max_memory_used_p99_mb=float(r["max_memory_used_p99_mb"]),
                   cold_start_share=float(r["cold_starts"]) / n if n else 0.0,
                   init_mean_ms=float(r["init_mean_ms"]) if pd.notna(r.get("init_mean_ms")) else
                   float(r["init_p50_ms"]) if pd.notna(r.get("init_p50_ms")) else 0.0,
                   source=f"REPORT lines ({r['path']})")
        p50, p99 = out["duration_p50_ms"], out["duration_p99_ms"]
        sigma = math.log(p99 / p50) / 2.326 if p50 > 0 and p99 > p50 else 0.0
        out["cv"] = float(math.sqrt(math.expm1(sigma ** 2))) if sigma else DEFAULT_CV
    else:
        c = _costs.function_costs(snapshot.subset(snapshot.functions[
            (snapshot.functions["function_name"] == name) & (snapshot.functions["account_id"] == key["account_id"])
            & (snapshot.functions["region"] == key["region"])]))
        row = c.iloc[0]
        if not (row["invocations"] > 0 and pd.notna(row["duration_mean_ms"])):
            raise ValueError(f"function {name!r} has no invocations with a duration in this snapshot: nothing to model")
        out.update(invocations=float(row["invocations"]), invocations_per_month=float(row["invocations_per_month"]),
                   duration_mean_ms=float(row["duration_mean_ms"]), duration_p50_ms=np.nan, duration_p99_ms=np.nan,
                   max_memory_used_p99_mb=np.nan, cold_start_share=0.0, init_mean_ms=0.0, cv=DEFAULT_CV,
                   source="CloudWatch Duration average")
    ins = snapshot.for_function("insights", name, **key)
    if len(ins) and pd.notna(ins["cpu_fraction"].iloc[0]) and ins["cpu_fraction"].iloc[0] > 0:
        out["cpu_fraction"] = float(ins["cpu_fraction"].iloc[0])
        out["evidence"].append(f"CPU share {out['cpu_fraction']:.2f} from {ins['evidence'].iloc[0]}")
    calls = snapshot.for_function("calls", name, **key)
    out["wait_ms"] = None
    if len(calls):
        per_call = calls["mean_ms"].fillna(0.0)
        n_calls = calls["calls_per_invocation"].fillna(0.0) + calls["retries_per_invocation"].fillna(0.0)
        wait = float((per_call * n_calls).sum())
        if wait > 0:
            out["wait_ms"] = min(wait, 0.98 * out["duration_mean_ms"])
            out["evidence"].append(f"{wait:.0f} ms of downstream calls per invocation "
                                   f"({', '.join(sorted(set(calls['evidence'])))})")
    extra = _other_size_samples(snapshot, name, key, out["memory_mb"])
    out["other_sizes"] = extra
    if len(extra):
        out["evidence"].append(f"REPORT lines at other sizes: {sorted(set(extra['memory_mb'].astype(int)))} MB")
    return out


def _other_size_samples(snapshot, name: str, key: dict, configured: float) -> pd.DataFrame:
    cols = ["memory_mb", "duration_ms", "max_memory_used_mb"]
    lines = snapshot.for_function("report_samples", name, **key)
    if lines.empty:
        return pd.DataFrame(columns=cols)
    from . import logs

    parsed = logs.parse_reports(lines["message"].tolist())
    if parsed.empty:
        return pd.DataFrame(columns=cols)
    warm = parsed["init_duration_ms"].isna() & ~parsed["status"].fillna("").isin(["timeout", "error"])
    other = parsed[warm & (parsed["memory_size_mb"] != configured)]
    return other.rename(columns={"memory_size_mb": "memory_mb"})[cols].reset_index(drop=True)


def fit_function(obs: dict[str, Any]) -> DurationModel:
    """:func:`fit` on a function's observations (see :func:`function_observations`)."""
    extra = obs.get("other_sizes")
    mem = [obs["memory_mb"]]
    dur = [obs["duration_mean_ms"]]
    counts = [max(obs["invocations"], 1.0)]
    used = [obs["max_memory_used_p99_mb"]]
    if extra is not None and len(extra):
        mem += extra["memory_mb"].tolist()
        dur += extra["duration_ms"].tolist()
        counts += [1.0] * len(extra)
        used += extra["max_memory_used_mb"].tolist()
    model = fit(mem, dur, arch=obs["arch"], runtime=obs["runtime"], cpu_fraction=obs["cpu_fraction"],
                counts=counts, max_memory_used_mb=used, wait_ms=obs.get("wait_ms"))
    model.cv = float(obs.get("cv", DEFAULT_CV))
    if np.isfinite(obs["max_memory_used_p99_mb"]):
        model.max_memory_used_mb = float(np.nanmax([obs["max_memory_used_p99_mb"], model.max_memory_used_mb or 0.0]))
    return model


@dataclass
class FunctionRecommendation:
    """A function's memory recommendation on its architecture and on the other one, from a snapshot."""

    observations: dict[str, Any]
    model: DurationModel
    recommendation: Recommendation
    other_arch: Recommendation
    finding: str | None
    arm64_candidate: bool
    notes: list[str]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """'decrease', 'increase' or 'keep': a change is recommended only when it is a finding."""
        return self.recommendation.change if self.finding else "keep"

    def row(self) -> dict[str, Any]:
        o, r, a = self.observations, self.recommendation, self.other_arch
        act = self.action != "keep"
        return {
            "account_id": o["account_id"], "region": o["region"], "function_name": o["function_name"],
            "runtime": o["runtime"], "arch": o["arch"], "memory_mb": o["memory_mb"],
            "invocations_per_month": o["invocations_per_month"], "duration_mean_ms": o["duration_mean_ms"],
            "max_memory_used_p99_mb": o["max_memory_used_p99_mb"], "cpu_fraction": o["cpu_fraction"],
            "sizes_measured": len(self.model.observations), "floor_mb": r.floor_mb,
            "action": self.action, "finding": self.finding,
            "recommended_memory_mb": r.memory_mb if act else o["memory_mb"],
            "recommended_duration_ms": r.duration_ms if act else r.current_duration_ms,
            "current_monthly_usd": r.current_monthly_cost,
            "recommended_monthly_usd": r.monthly_cost if act else r.current_monthly_cost,
            "monthly_savings_usd": r.monthly_savings if act else 0.0,
            "monthly_savings_low_usd": r.savings_interval[0] if act else 0.0,
            "monthly_savings_high_usd": r.savings_interval[1] if act else 0.0,
            "policy_memory_mb": r.memory_mb, "policy_duration_ms": r.duration_ms,
            "policy_duration_low_ms": r.duration_interval[0], "policy_duration_high_ms": r.duration_interval[1],
            "policy_monthly_savings_usd": r.monthly_savings,
            "other_arch": a.arch, "other_arch_memory_mb": a.memory_mb, "other_arch_duration_ms": a.duration_ms,
            "other_arch_monthly_usd": a.monthly_cost, "other_arch_savings_usd": a.monthly_savings,
            "other_arch_savings_low_usd": a.savings_interval[0], "other_arch_savings_high_usd": a.savings_interval[1],
            "arm64_candidate": self.arm64_candidate, "evidence": "; ".join([o["source"], *o["evidence"]]),
            "notes": "; ".join(self.notes),
        }


def recommend_for_function(snapshot, name: str, *, strategy: str = "cost", cost_tolerance: float | None = 0.10,
                           max_slowdown: float | None = 0.10, latency_slo_ms: float | None = None,
                           headroom: float = DEFAULT_HEADROOM, min_savings_share: float = 0.10,
                           min_speedup: float = 0.25, confidence: float = 0.9, account_id: str | None = None,
                           region: str | None = None, **recommend_kwargs) -> FunctionRecommendation:
    """Fit a snapshot function and recommend its memory (and the other architecture), priced at its traffic.

    The default policy suits a review: the cheapest size, buying speed for at most ``cost_tolerance`` more,
    never more than ``max_slowdown`` slower than today's mean (unless ``latency_slo_ms`` is given), with the
    latency limit met with probability ``confidence`` under the model. A change becomes a finding only when
    it is material *and* likely (probability >= ``confidence``): ``memory-overprovisioned`` when a smaller
    size saves at least ``min_savings_share`` of today's cost, ``memory-underprovisioned`` when a larger size
    makes the function at least ``min_speedup`` faster for at most ``cost_tolerance`` more.
    ``arm64-candidate`` marks x86_64 functions whose arm64 price and predicted speed save at least
    ``min_savings_share`` without being ``max_slowdown`` slower, with the same confidence.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.9), got {confidence!r}")
    obs = function_observations(snapshot, name, account_id=account_id, region=region)
    model = fit_function(obs)
    slo = latency_slo_ms
    if slo is None and max_slowdown is not None:
        slo = obs["duration_mean_ms"] * (1 + max_slowdown)
    kw = dict(strategy=strategy, cost_tolerance=cost_tolerance, latency_slo_ms=slo, headroom=headroom,
              invocations_per_month=obs["invocations_per_month"], region=obs["region"], slo_confidence=confidence,
              init_ms=obs["init_mean_ms"], cold_start_share=obs["cold_start_share"],
              provisioned_concurrency=obs["provisioned_concurrency"], **recommend_kwargs)
    current = obs["memory_mb"]
    rec = recommend(model, arch=obs["arch"], current_memory_mb=current, **kw)
    other = "arm64" if obs["arch"] == "x86_64" else "x86_64"
    alt = recommend(model, arch=other, current_memory_mb=current, **kw)
    notes = list(rec.notes)
    base = rec.current_monthly_cost or 0.0
    finding = None
    likely = (lambda event: float(np.mean(event)) >= confidence)  # noqa: E731
    if rec.change == "decrease" and likely(rec.draws["savings"] >= min_savings_share * base):
        finding = "memory-overprovisioned"
    # an increase was chosen within the cost tolerance; the finding needs the speed-up to be likely
    elif rec.change == "increase" and likely(
            rec.draws["duration_ms"] <= (1 - min_speedup) * rec.draws["current_duration_ms"]):
        finding = "memory-underprovisioned"
    if rec.change != "keep" and finding is None:
        notes.append(f"a {rec.change} to {rec.memory_mb:.0f} MB is not material or not likely enough "
                     f"({confidence:.0%}) to act on; keep {current:.0f} MB")
    arm64 = False
    if obs["arch"] == "x86_64":
        # the switch alone, at today's size: price and (prior or measured) speed, with their uncertainty
        same = recommend(model, arch="arm64", current_memory_mb=current, sizes=[current],
                         **{**kw, "latency_slo_ms": None})
        ok_speed = True if max_slowdown is None else likely(
            same.draws["duration_ms"] <= obs["duration_mean_ms"] * (1 + max_slowdown))
        arm64 = ok_speed and likely(same.draws["savings"] >= min_savings_share * base)
    if arm64:
        notes.append("arm64: check that native dependencies and container images are built for arm64")
    if len(model.observations) == 1 and obs["cpu_fraction"] is None:
        notes.append("one size measured and no CPU share: measure with `lambda-workbook tune` before acting")
    if obs["provisioned_concurrency"]:
        notes.append(f"{obs['provisioned_concurrency']:g} provisioned environments priced all month at each size "
                     "(see the cold-starts notebook for how many are needed)")
    return FunctionRecommendation(obs, model, rec, alt, finding, bool(arm64), notes, settings=kw)


def recommend_all(snapshot, *, progress: bool = False, **kwargs) -> pd.DataFrame:
    """:func:`recommend_for_function` for every function with invocations: one row each (see ``row``)."""
    from tqdm.auto import tqdm

    rows, skipped = [], []
    funcs = snapshot.functions
    for _, fn in tqdm(list(funcs.iterrows()), desc="memory", disable=not progress):
        try:
            fr = recommend_for_function(snapshot, fn["function_name"], account_id=fn["account_id"],
                                        region=fn["region"], **kwargs)
        except (ValueError, ObservationError) as exc:
            skipped.append((fn["function_name"], str(exc)))
            continue
        rows.append(fr.row())
    out = pd.DataFrame(rows)
    out.attrs["skipped"] = skipped
    if len(out):
        out = out.sort_values("monthly_savings_usd", ascending=False, ignore_index=True)
    return out


VIEW_COLUMNS = {
    "function_name": "function", "account_id": "account", "arch": "arch", "memory_mb": "memory (MB)",
    "invocations_per_month": "invocations/month", "duration_mean_ms": "mean duration (ms)",
    "max_memory_used_p99_mb": "max memory used p99 (MB)", "finding": "finding", "action": "action",
    "recommended_memory_mb": "recommended (MB)", "recommended_duration_ms": "duration there (ms)",
    "current_monthly_usd": "today ($/mo)", "monthly_savings_usd": "saves ($/mo)",
    "monthly_savings_low_usd": "saves low", "monthly_savings_high_usd": "saves high",
    "other_arch": "other arch", "other_arch_savings_usd": "other arch saves ($/mo)",
    "arm64_candidate": "arm64 candidate", "evidence": "evidence",
}


def view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`recommend_all`'s table with readable headers and rounding, findings first."""
    if table.empty:
        return pd.DataFrame(columns=list(VIEW_COLUMNS.values()))
    t = table.copy()
    t["_order"] = t["finding"].notna() | t["arm64_candidate"]
    t = t.sort_values(["_order", "monthly_savings_usd", "other_arch_savings_usd"], ascending=False)
    out = t[list(VIEW_COLUMNS)].rename(columns=VIEW_COLUMNS).reset_index(drop=True)
    out["finding"] = out["finding"].fillna("")
    for col in ("invocations/month",):
        out[col] = out[col].round(0)
    for col in ("mean duration (ms)", "duration there (ms)", "max memory used p99 (MB)"):
        out[col] = out[col].round(1)
    for col in ("today ($/mo)", "saves ($/mo)", "saves low", "saves high", "other arch saves ($/mo)"):
        out[col] = out[col].round(2)
    return out


def results(table: pd.DataFrame, focus: FunctionRecommendation | None = None) -> dict[str, Any]:
    """The memory notebook's results as plain JSON-able data (for batch runs and the findings engine)."""
    def clean(v):
        if isinstance(v, (np.floating, float)):
            return None if not np.isfinite(v) else round(float(v), 6)
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, np.bool_):
            return bool(v)
        return v

    keep = ["account_id", "region", "function_name", "arch", "memory_mb", "action", "finding",
            "recommended_memory_mb", "recommended_duration_ms", "current_monthly_usd", "monthly_savings_usd",
            "monthly_savings_low_usd", "monthly_savings_high_usd", "other_arch", "other_arch_savings_usd",
            "arm64_candidate", "sizes_measured"]
    rows = [{k: clean(v) for k, v in r.items()} for r in table[keep].to_dict("records")] if len(table) else []
    out: dict[str, Any] = {
        "notebook": "memory", "functions": len(rows),
        "findings": [r for r in rows if r["finding"]],
        "arm64_candidates": [r["function_name"] for r in rows if r["arm64_candidate"]],
        "monthly_savings_usd": round(float(sum(r["monthly_savings_usd"] or 0.0 for r in rows if r["finding"])), 4),
        "functions_table": rows, "skipped": [list(x) for x in table.attrs.get("skipped", [])],
    }
    if focus is not None:
        rec = focus.recommendation
        out["focus"] = {"function_name": focus.observations["function_name"], "finding": focus.finding,
                        "action": focus.action, "model": {k: clean(v) if not isinstance(v, tuple) else [clean(x) for x in v]
                                                          for k, v in focus.model.params.items()},
                        "recommendation": {k: clean(v) if not isinstance(v, list) else v for k, v in rec.summary().items()},
                        "other_arch": {k: clean(v) if not isinstance(v, list) else v
                                       for k, v in focus.other_arch.summary().items()}}
    return out


def policy(p) -> dict[str, Any]:
    """:func:`recommend_for_function` keyword arguments from the memory notebook's checked parameters."""
    return {"strategy": p.strategy, "latency_slo_ms": p.latency_slo_ms or None, "max_slowdown": p.max_slowdown,
            "cost_tolerance": p.cost_tolerance, "balanced_weight": p.balanced_weight, "headroom": p.headroom,
            "confidence": p.confidence}


def pick_function(table: pd.DataFrame, name: str = "") -> str:
    """``name`` if given (checked against the table), else the function with the largest finding savings."""
    if name:
        if name not in set(table["function_name"]):
            raise KeyError(f"function {name!r} has no memory recommendation (known: "
                           f"{', '.join(sorted(table['function_name'])[:10])}, ...)")
        return name
    if table.empty:
        raise ValueError("no function with invocations to look at")
    ranked = table.assign(_f=table["finding"].notna()).sort_values(["_f", "monthly_savings_usd"], ascending=False)
    return str(ranked["function_name"].iloc[0])


def describe(fr: FunctionRecommendation) -> pd.DataFrame:
    """One function's current and recommended configuration side by side, with bands and evidence."""
    r, o, a = fr.recommendation, fr.observations, fr.other_arch
    p = fr.model.params
    rows = [
        ("architecture, memory today", f"{o['arch']}, {o['memory_mb']:,.0f} MB"),
        ("evidence", "; ".join([o["source"], *o["evidence"]])),
        ("invocations a month", f"{o['invocations_per_month']:,.0f}"),
        ("mean warm duration today", f"{o['duration_mean_ms']:,.1f} ms"),
        ("Max Memory Used p99 -> memory floor", f"{o['max_memory_used_p99_mb']:,.0f} MB -> {r.floor_mb:,.0f} MB"),
        ("model: waiting / CPU at 1 vCPU / parallelism",
         f"{p['fixed_ms']:,.1f} ms / {p['cpu_ms_at_1_vcpu']:,.1f} ms / {p['parallelism_vcpu']:.2f} vCPU"),
        (f"{r.strategy} choice on {r.arch}", f"{r.memory_mb:,.0f} MB, {r.duration_ms:,.1f} ms "
         f"({r.duration_interval[0]:,.1f}-{r.duration_interval[1]:,.1f}), ${r.monthly_cost:,.2f}/month"),
        ("saving against today", f"${r.monthly_savings:,.2f}/month (90% band {r.savings_interval[0]:,.2f} to "
         f"{r.savings_interval[1]:,.2f})"),
        ("finding", fr.finding or "none: keep today's memory"),
        (f"on {a.arch}", f"{a.memory_mb:,.0f} MB, {a.duration_ms:,.1f} ms, ${a.monthly_cost:,.2f}/month, saves "
         f"${a.monthly_savings:,.2f} ({a.savings_interval[0]:,.2f} to {a.savings_interval[1]:,.2f})"),
        ("arm64 candidate", "yes" if fr.arm64_candidate else "no"),
        ("notes", "; ".join(fr.notes) or "-"),
    ]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def compare_power_tuning(model: DurationModel, doc) -> pd.DataFrame:
    """A Power Tuning run's average durations (its ``stats`` or visualization URL) against the model's
    prediction and band at the same sizes; ``attrs['power']`` is Power Tuning's own pick."""
    from . import interop

    pt = interop.from_power_tuning(doc)
    m = pt["memory_mb"].to_numpy(float)
    lo, hi = model.interval(m)
    pred = model.predict(m)
    out = pt.rename(columns={"duration_ms": "power_tuning_ms", "cost_usd": "power_tuning_usd"}).assign(
        model_ms=pred, model_low_ms=lo, model_high_ms=hi,
        error_pct=(pred - pt["duration_ms"].to_numpy()) / pt["duration_ms"].to_numpy() * 100)
    out.attrs.update(pt.attrs)
    return out
