"""The family of duration-vs-memory curves the model averages over (pure numpy, no data).

Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB, about 5.8 at 10,240 MB
("Configure Lambda function memory", https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
A warm invocation's mean duration at ``m`` MB is modelled as

    t(m) = ( W**k + C(m)**k ) ** (1/k)

* ``W = A (1 - phi)``: time that does not depend on CPU (waiting on other services, the network);
* ``C(m)``: time computing. ``c = A phi`` ms of work at one full vCPU take ``c / s(m)**alpha`` ms at a share of
  ``s(m)`` vCPUs, less the *burst credit* of the CPU scheduler: a share below one vCPU is enforced as a quota per
  scheduling period, so work shorter than one period's quota runs at full speed and longer work gets back about
  one period per invocation (``credit = PERIOD_MS (1 - s) min(1, c / (s PERIOD_MS))``). This is why a 1-ms
  handler is as fast at 128 MB as at 3,008 MB while a 200-ms one slows down almost in proportion;
* ``s(m)``: ``m / 1769`` vCPUs up to ``p``, the parallelism the code can use (1 for one busy thread, more for
  code that keeps several threads busy), with a bend of sharpness ``knee`` (sharp on x86_64; arm64 bends
  gradually in the measurements);
* ``k`` (*overlap*): 1 when computing and waiting take turns (their times add up); large when the computing
  happens in short bursts between waits, so that only the larger of the two shows (a function making hundreds of
  sequential S3 calls slows down only once its CPU demand exceeds its share);
* ``alpha`` about 1: CPU time scales with the share; above 1 when throttled code also loses efficiency.

The scale ``A`` is fitted per function; the other parameters take values on the grids below, with prior
weights fitted to real measurements (:mod:`.priors`). ``TAU`` is how far a size's measured mean may sit from
the smooth curve (run-to-run and host-to-host differences), also with fitted weights.
"""

from __future__ import annotations

import math

import numpy as np

from .. import billing

VCPU_MB = billing.VCPU_MB
MIN_MB, MAX_MB = billing.MEMORY_RANGE_MB
MAX_VCPU = MAX_MB / VCPU_MB

#: CPU scheduling period (ms) of the burst credit: the value that predicted unseen sizes best when the
#: measurement sets were each held out in turn (0, 10 and 20 ms compared; ``benchmarks/bench_memory.py``).
PERIOD_MS = 20.0

PHI = 1.0 / (1.0 + np.exp(-np.linspace(-7.0, 7.0, 36)))     # CPU share of A
P = np.array([1.0, 1.15, 1.35, 1.7, 2.3, 3.5, MAX_VCPU])    # parallelism (vCPUs)
ALPHA = np.array([0.85, 1.0, 1.2, 1.5, 2.0])
OVERLAP = np.array([1.0, 2.0, 4.0, 12.0])
KNEE = np.array([40.0, 5.0])                                 # bend exponent: sharp, gradual
TAU = np.array([0.015, 0.04, 0.09, 0.2])                     # log-sd of a size's mean around the curve
AXES = ("phi", "p", "alpha", "overlap", "knee")
SHAPE = (PHI.size, P.size, ALPHA.size, OVERLAP.size, KNEE.size)
N_COMPONENTS = int(np.prod(SHAPE))

_G = [a.ravel() for a in np.meshgrid(PHI, P, ALPHA, OVERLAP, KNEE, indexing="ij")]
G_PHI, G_P, G_ALPHA, G_OVERLAP, G_KNEE = _G


def shares(memory_mb, idx=None) -> np.ndarray:
    """vCPUs each component's code can use at each size: ``(components, sizes)``."""
    x = np.asarray(memory_mb, dtype=float)[None, :] / VCPU_MB
    sel = slice(None) if idx is None else idx
    kn = G_KNEE[sel][:, None]
    return (x ** -kn + G_P[sel][:, None] ** -kn) ** (-1.0 / kn)


#: the (parallelism, knee) pair of every component, and one component of each pair: a component's CPU share
#: depends on nothing else, so :func:`shares_by_pair` computes each pair's row once and hands it to its components
_P_I, _KNEE_I = np.unravel_index(np.arange(N_COMPONENTS), SHAPE)[1::3]
PAIR = _P_I * KNEE.size + _KNEE_I
PAIR_FIRST = np.unique(PAIR, return_index=True)[1]


def shares_by_pair(memory_mb, idx) -> np.ndarray:
    """:func:`shares` for components ``idx`` (many, with repeats: a model's draws), from one row per (parallelism,
    knee) pair: the same figures, elementwise, for a fraction of the work."""
    return shares(memory_mb, PAIR_FIRST)[PAIR[idx]]


def log_duration(log_scale: np.ndarray, share: np.ndarray, idx=None, *, cpu_scale=1.0,
                 period: float = PERIOD_MS) -> np.ndarray:
    """log t for rows of components (``idx``, default all) with their log scales, at ``share`` (rows x sizes).

    ``cpu_scale`` multiplies the CPU work (another architecture's speed); one value or one per row.
    """
    sel = slice(None) if idx is None else idx
    a = np.exp(np.asarray(log_scale, dtype=float))[:, None]
    phi = G_PHI[sel][:, None]
    c = a * phi * np.reshape(np.asarray(cpu_scale, dtype=float), (-1, 1))
    cpu = c / share ** G_ALPHA[sel][:, None]
    if period:
        s1 = np.minimum(share, 1.0)
        credit = period * (1.0 - s1) * np.minimum(1.0, c / (s1 * period))
        cpu = np.maximum(cpu - credit, np.minimum(c, cpu))
    return _overlap(np.log(a * (1.0 - phi)), np.log(cpu), G_OVERLAP[sel][:, None])


def _overlap(lw: np.ndarray, lc: np.ndarray, k: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """``log((W**k + C**k) ** (1/k))`` from ``log W`` and ``log C``, shifted by the larger for range.

    One of the two shifted terms is ``exp(0) = 1`` exactly, so only the other is computed (the same numbers as
    computing both); with an infinite or NaN log, both are computed as written. ``in_place``: ``lc`` (rows x sizes,
    the caller's own) may be overwritten."""
    top = np.maximum(lw, lc)
    if not (_finite(lw) and _finite(lc)):
        return top + np.log(np.exp(k * (lw - top)) + np.exp(k * (lc - top))) / k
    d = np.subtract(lw, lc, out=lc if in_place and lc.shape == top.shape else None)
    np.abs(d, out=d)
    np.negative(d, out=d)
    np.multiply(k, d, out=d)
    np.exp(d, out=d)
    np.add(1.0, d, out=d)
    np.log(d, out=d)
    np.divide(d, k, out=d)
    return np.add(top, d, out=d)


def _finite(x: np.ndarray) -> bool:
    """No NaN and no infinity in ``x`` (its smallest and largest are finite; NaN propagates to both)."""
    return x.size == 0 or bool(np.isfinite(x.min()) and np.isfinite(x.max()))


#: each component's (parallelism, knee, alpha) triple: its CPU share raised to alpha depends on nothing else
TRIPLE = PAIR * ALPHA.size + np.unravel_index(np.arange(N_COMPONENTS), SHAPE)[2]
_TRIPLE_PAIR = np.repeat(np.arange(P.size * KNEE.size), ALPHA.size)
_TRIPLE_ALPHA = np.tile(ALPHA, P.size * KNEE.size)[:, None]


class Sizes:
    """What :func:`log_duration_at` needs at sizes ``memory_mb`` that does not depend on the scale: one row per
    (parallelism, knee) pair or (pair, alpha) triple instead of one per component (the same figures, elementwise)."""

    def __init__(self, memory_mb, period: float = PERIOD_MS) -> None:
        share = shares(memory_mb, PAIR_FIRST)                    # (pairs, sizes)
        self.period = period
        self.powered = share[_TRIPLE_PAIR] ** _TRIPLE_ALPHA       # share ** alpha, (triples, sizes)
        s1 = np.minimum(share, 1.0)
        self.credit = period * (1.0 - s1)
        self.quota = s1 * period
        self._full: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def full(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(powered, quota, credit)`` with one row per component, made once (a fit evaluates every component at
        the same sizes several times): rows of these tables, the same figures."""
        if self._full is None:
            self._full = (self.powered[TRIPLE], self.quota[PAIR], self.credit[PAIR])
            for t in self._full:
                t.setflags(write=False)
        return self._full


_ONE_MINUS_PHI = 1.0 - G_PHI


_BLOCK_ELEMENTS = 32768   # rows x sizes worked on at a time by log_duration_at (a block's arrays stay in the CPU cache)


def log_duration_at(log_scale: np.ndarray, sizes: Sizes, idx=None, *, cpu_scale=1.0) -> np.ndarray:
    """:func:`log_duration` at the sizes of ``sizes`` (with its period), the share's powers taken from its tables:
    the same numbers for less work. Rows are worked on in blocks (each element is computed on its own)."""
    every = idx is None   # every component in order: rows of the tables as slices (views), not gathers
    rows = None if every else np.asarray(idx)
    count = N_COMPONENTS if every else rows.size
    log_scale = np.asarray(log_scale, dtype=float)
    cpu_scale = np.reshape(np.asarray(cpu_scale, dtype=float), (-1, 1))
    width = sizes.powered.shape[1]
    step = max(1, _BLOCK_ELEMENTS // max(width, 1))
    if count <= step:
        return _log_duration_rows(log_scale, sizes, slice(0, count) if every else rows, cpu_scale)
    out = np.empty((count, width))
    for start in range(0, count, step):
        part = slice(start, start + step)
        out[part] = _log_duration_rows(log_scale[part], sizes, part if every else rows[part],
                                       cpu_scale if cpu_scale.shape[0] == 1 else cpu_scale[part])
    return out


def _log_duration_rows(log_scale: np.ndarray, sizes: Sizes, sel, cpu_scale: np.ndarray) -> np.ndarray:
    """Rows ``sel`` (component indices, or a slice of all components in order) of the curve at ``sizes``."""
    if isinstance(sel, slice):
        powered, quota, credit_rate = (t[sel] for t in sizes.full())
    else:
        pair = PAIR[sel]
        powered, quota, credit_rate = sizes.powered[TRIPLE[sel]], sizes.quota[pair], sizes.credit[pair]
    a = np.exp(log_scale)[:, None]
    c = a * G_PHI[sel][:, None] * cpu_scale
    cpu = np.divide(c, powered)            # a new array: every step below works in it or in another new one
    if sizes.period:
        credit = np.divide(c, quota)
        np.minimum(1.0, credit, out=credit)
        np.multiply(credit_rate, credit, out=credit)
        np.subtract(cpu, credit, out=credit)              # cpu - credit
        np.maximum(credit, np.minimum(c, cpu, out=cpu), out=cpu)
    return _overlap(np.log(a * _ONE_MINUS_PHI[sel][:, None]), np.log(cpu, out=cpu), G_OVERLAP[sel][:, None],
                    in_place=True)


def _sum_last(x: np.ndarray) -> np.ndarray:
    """``x.sum(-1)``; over one size, that size's column itself (the very numbers a sum of one gives, without a
    reduction per row)."""
    return x[..., 0] if x.shape[-1] == 1 else x.sum(-1)


def profile(logy: np.ndarray, se: np.ndarray, memory_mb: np.ndarray, *, period: float = PERIOD_MS,
            iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Each component's log scale fitted to log mean durations ``logy``: ``(log_scale, log_t at the sizes)``."""
    w = 1.0 / (0.04 ** 2 + se ** 2)
    w = w / w.sum()
    lt, at = _at_sizes(memory_mb, period)
    log_scale = _sum_last((logy[None, :] - lt) * w)
    for _ in range(iterations if period else 1):
        lt = log_duration_at(log_scale, at)
        log_scale = log_scale + _sum_last((logy[None, :] - lt) * w)
    return log_scale, log_duration_at(log_scale, at)


#: size list (bytes), period -> (log t of every component at scale 1 without the burst credit, Sizes at period):
#: neither depends on the function, and many functions share a size list (128 MB, 1,024 MB, ...)
_AT_SIZES: dict[tuple[bytes, float], tuple[np.ndarray, Sizes]] = {}


def _at_sizes(memory_mb, period: float) -> tuple[np.ndarray, Sizes]:
    m = np.ascontiguousarray(memory_mb, dtype=float)
    key = (m.tobytes(), float(period))
    hit = _AT_SIZES.get(key)
    if hit is None:
        if len(_AT_SIZES) >= 256:
            _AT_SIZES.clear()
        lt = log_duration_at(np.zeros(N_COMPONENTS), Sizes(m, 0.0))
        lt.setflags(write=False)
        hit = _AT_SIZES[key] = (lt, Sizes(m, period))
    return hit


def loglik(logy: np.ndarray, se: np.ndarray, memory_mb: np.ndarray, *, period: float = PERIOD_MS):
    """Marginal log likelihood of every (component, tau) with a flat prior on the log scale.

    Returns ``(ll, log_scale, scale_var)``: ``ll`` and ``log_scale`` are ``(components, len(TAU))``; the log
    scale's posterior variance ``scale_var`` is ``(len(TAU),)``.
    """
    logy = np.asarray(logy, dtype=float)
    se = np.asarray(se, dtype=float)
    log_scale, lt = profile(logy, se, np.asarray(memory_mb, dtype=float), period=period)
    w = 1.0 / (TAU[:, None] ** 2 + se[None, :] ** 2)             # (T, S)
    r = logy[None, None, :] - lt[:, None, :]                     # (C, 1, S)
    sw = w.sum(-1)                                               # (T,)
    shift = _sum_last(w[None] * r) / sw                          # (C, T)
    q = _sum_last(w[None] * (r - shift[..., None]) ** 2)
    ll = (-0.5 * q + 0.5 * np.log(w).sum(-1)[None, :] - 0.5 * np.log(sw)[None, :]
          - 0.5 * (logy.size - 1) * math.log(2 * math.pi))
    return ll, log_scale[:, None] + shift, 1.0 / sw
