"""Event-level replay of a pool of execution environments: the check on the closed form in
:mod:`lambda_workbook.coldstarts`, and the pool the 2025 concurrency logs are compared with.

The pool (what the measured logs show, ``benchmarks/bench_coldstarts.py``): an arrival takes a warm idle
environment when one is free — the most recently freed one (``routing="mru"``) or the longest idle
(``"lru"``) — and otherwise starts a new one (a cold start, busy ``init_ms`` longer). Idle environments are
evicted after their keep-alive window, one by one or in pool sweeps (:class:`lambda_workbook.keepalive.Sweeps`),
and recycled at their next use once older than their lifetime. Pure: series in, counts out.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .keepalive import _UNSET, KeepAlive, keep_alive

ROUTINGS = ("mru", "lru")
ARRIVALS = ("poisson", "paced")


@dataclass
class Simulation:
    """What :func:`simulate` saw: cold starts and invocations per minute, and the pool's peak size."""

    cold_starts: pd.Series
    invocations: pd.Series
    max_environments: int
    max_concurrency: int

    @property
    def total(self) -> int:
        return int(self.cold_starts.sum())

    @property
    def share(self) -> float:
        n = float(self.invocations.sum())
        return self.total / n if n else float("nan")


def _arrival_times(counts: np.ndarray, arrivals: str, jitter_ms: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Arrival moments (minutes) and their minute: uniform within the minute (Poisson given the count) or
    evenly spaced from a random phase with normal jitter (a paced load generator)."""
    total = int(counts.sum())
    minute = np.repeat(np.arange(len(counts)), counts)
    if arrivals == "poisson":
        when = minute + rng.random(total)
    else:
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(total) - np.repeat(first, counts)
        phase = np.repeat(rng.random(len(counts)), counts)
        per = np.repeat(np.maximum(counts, 1), counts)
        when = minute + (slot + phase) / per + rng.normal(0.0, jitter_ms / 60000.0, total) if jitter_ms else \
            minute + (slot + phase) / per
    order = np.argsort(when, kind="stable")
    return when[order], minute[order]


class _Pool:
    """The environments of one simulated function: busy heap, idle deque (oldest first), sweeps."""

    def __init__(self, ka: KeepAlive, rng, routing: str, per_environment: bool) -> None:
        self.ka, self.rng, self.per_env = ka, rng, per_environment
        self.lo, self.hi = ka.idle_min
        self.life_lo, self.life_hi = ka.recycle_min if ka.recycle_min is not None else (math.inf, math.inf)
        self.busy: list[tuple[float, int]] = []
        self.idle: deque[int] = deque()
        self.take = self.idle.pop if routing == "mru" else self.idle.popleft
        self.freed: list[float] = []
        self.born: list[float] = []
        self.keep: list[float] = []
        self.life: list[float] = []
        self.dead: list[bool] = []
        self.spared: list[float] = []
        self.token: list[int] = []
        self.events: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.last = -1                   # the environment the latest arrival took
        self.buffer: list[float] = []
        self.drawn = 0

    def _uniform(self) -> float:
        if self.drawn >= len(self.buffer):       # numpy draws in blocks: one call per value is slow
            self.buffer, self.drawn = self.rng.random(4096).tolist(), 0
        self.drawn += 1
        return self.buffer[self.drawn - 1]

    def draw_keep(self) -> float:
        return self.lo if self.hi == self.lo else self.lo + (self.hi - self.lo) * self._uniform()

    def draw_life(self) -> float:
        return self.life_lo if self.life_hi == self.life_lo else float(self.rng.uniform(self.life_lo, self.life_hi))

    def _push(self, when: float, e: int) -> None:
        self.token[e] += 1
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, e, self.token[e]))

    def release(self, tau: float) -> None:
        """Free the environments whose invocation ended by ``tau``; with sweeps, run those due by then."""
        while self.busy and self.busy[0][0] <= tau:
            end, e = heapq.heappop(self.busy)
            self.freed[e] = end
            if not self.per_env:
                self.keep[e] = self.draw_keep()
            self.spared[e] = -math.inf
            self.idle.append(e)
            if self.ka.sweep is not None:
                self._push(end + self.keep[e], e)
        if self.ka.sweep is None:
            return
        while self.events and self.events[0][0] <= tau:
            when, _, e, tok = heapq.heappop(self.events)
            if tok == self.token[e] and not self.dead[e]:
                self._sweep(when)

    def _sweep(self, when: float) -> None:
        while self.idle and self.dead[self.idle[0]]:
            self.idle.popleft()
        candidates = []
        for e in self.idle:                       # oldest first; stop at those idle less than the lower bound
            if when - self.freed[e] < self.lo - 1e-12:
                break
            if not self.dead[e] and self.spared[e] <= when:
                candidates.append(e)
        kept = self.ka.sweep.kept(len(candidates))
        cut = len(candidates) - kept
        for e in candidates[:cut]:
            self.dead[e] = True
            self.token[e] += 1
        for e in candidates[cut:]:
            self.spared[e] = when + self.ka.sweep.step_min
            self._push(self.spared[e], e)

    def acquire(self, tau: float, d: float, init: float) -> bool:
        """Serve an arrival at ``tau`` lasting ``d``; True when it started a new environment (cold)."""
        env = -1
        independent = self.ka.sweep is None
        while self.idle:
            e = self.take()
            if self.dead[e]:
                continue
            if (not independent or tau - self.freed[e] <= self.keep[e]) and tau - self.born[e] <= self.life[e]:
                env = e
                break
            self.dead[e] = True
            self.token[e] += 1
        cold = env < 0
        if cold:
            env = len(self.born)
            self.born.append(tau)
            self.freed.append(tau)
            self.keep.append(self.draw_keep())
            self.life.append(self.draw_life())
            self.dead.append(False)
            self.spared.append(-math.inf)
            self.token.append(0)
            d = d + init
        else:
            self.token[env] += 1
        heapq.heappush(self.busy, (tau + d, env))
        self.last = env
        return cold


def simulate(invocations_per_minute, duration_ms, *, keep_alive_min=None, recycle_min=_UNSET, provisioned: int = 0,
             init_ms: float = 0.0, duration_sigma: float = 0.0, per_environment: bool = False, seed: int = 0,
             routing: str = "mru", kind: str = "auto", arrivals: str = "poisson", jitter_ms: float = 0.0,
             max_invocations: int = 5_000_000) -> Simulation:
    """Replay a per-minute series invocation by invocation through a pool of execution environments.

    Arrivals are spread uniformly within their minute (``arrivals="poisson"``: Poisson given the count; a
    non-integer series is read as rates and drawn as Poisson counts first) or evenly spaced from a random
    phase with normal ``jitter_ms`` (``"paced"``: a load generator). Each takes the most recently freed warm
    environment (``routing="mru"``; ``"lru"`` takes the longest-idle one, spreading requests over the warm
    pool), else a new one (a cold start, busy for ``init_ms`` more). An idle environment is evicted once idle
    longer than its keep-alive window (drawn per idle period, or once per environment with
    ``per_environment``), or by the keep-alive model's pool sweeps when it has them; one older than its
    lifetime is recycled at its next use. ``provisioned`` environments are always warm and are used first.
    Durations are ``duration_ms`` with log-normal noise ``duration_sigma``.
    """
    from .coldstarts import _durations, _is_counts, per_minute

    ka = keep_alive(keep_alive_min, recycle_min=recycle_min)
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {ROUTINGS}, got {routing!r}")
    if arrivals not in ARRIVALS:
        raise ValueError(f"arrivals must be one of {ARRIVALS}, got {arrivals!r}")
    if isinstance(jitter_ms, bool) or not (isinstance(jitter_ms, numbers.Real) and 0 <= jitter_ms <= 60_000):
        raise ValueError(f"jitter_ms must be milliseconds between 0 and 60,000, got {jitter_ms!r}")
    s = per_minute(invocations_per_minute)
    lam = s.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    counts = lam.astype(np.int64) if _is_counts(lam, kind) else rng.poisson(lam)
    total = int(counts.sum())
    if total > max_invocations:
        raise ValueError(f"simulate replays every invocation; {total:,} exceed max_invocations={max_invocations:,} "
                         "(use expected_cold_starts, or pass a larger limit)")
    if isinstance(provisioned, bool) or not (isinstance(provisioned, numbers.Integral) and provisioned >= 0):
        raise ValueError(f"provisioned must be a whole number >= 0, got {provisioned!r}")
    d_ms = _durations(duration_ms, s.index)
    when, minute = _arrival_times(counts, arrivals, float(jitter_ms), rng)
    dur = d_ms[minute] / 60000.0
    if duration_sigma:
        dur = dur * rng.lognormal(-duration_sigma**2 / 2, duration_sigma, total)
    init = float(init_ms) / 60000.0
    pool = _Pool(ka, rng, routing, per_environment)
    cold = np.zeros(len(counts), dtype=np.int64)
    pc_busy: list[float] = []            # end times of busy provisioned environments
    peak_envs = peak_conc = 0
    for tau, d, m in zip(when, dur, minute, strict=True):
        while pc_busy and pc_busy[0] <= tau:
            heapq.heappop(pc_busy)
        pool.release(tau)
        if len(pc_busy) < provisioned:
            heapq.heappush(pc_busy, tau + d)
            peak_conc = max(peak_conc, len(pc_busy) + len(pool.busy))
            continue
        cold[m] += pool.acquire(tau, d, init)
        peak_envs = max(peak_envs, len(pool.busy) + len(pool.idle))
        peak_conc = max(peak_conc, len(pc_busy) + len(pool.busy))
    return Simulation(pd.Series(cold, index=s.index, name="cold_starts"),
                      pd.Series(counts, index=s.index, name="invocations"), peak_envs, peak_conc)


def idle_pool_decay(size: int, minutes, *, keep_alive_min=None, seed: int = 0) -> np.ndarray:
    """Environments left of ``size`` that went idle together, at each of ``minutes`` of idleness (one draw of
    the pool: ``size`` simultaneous calls, then nothing)."""
    if isinstance(size, bool) or not (isinstance(size, numbers.Integral) and 1 <= size <= 100_000):
        raise ValueError(f"size must be a whole number of environments between 1 and 100,000, got {size!r}")
    ka = keep_alive(keep_alive_min, recycle_min=None)
    pool = _Pool(ka, np.random.default_rng(seed), "mru", False)
    for _ in range(size):
        pool.acquire(0.0, 0.0, 0.0)
    out = []
    for t in np.asarray(minutes, dtype=float):
        pool.release(float(t))
        if ka.sweep is None:
            alive = sum(1 for e in pool.idle if not pool.dead[e] and t - pool.freed[e] <= pool.keep[e])
        else:
            alive = sum(1 for e in pool.idle if not pool.dead[e])
        out.append(alive)
    return np.array(out)
