"""Traffic and durations of a sample function: per-minute invocations, warm durations, cold starts and
failures, all drawn from the archetype's model."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .archetypes import INIT_MEDIAN_MS, KEEP_ALIVE_MIN, MINUTES, RECYCLE_MIN, SEED, START, VCPU_MB, Archetype


def rng_for(arch: Archetype, purpose: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(f"{arch.name}/{purpose}".encode())])


def _minute_index() -> pd.DatetimeIndex:
    return pd.date_range(START, periods=MINUTES, freq="min")


def traffic_rate(arch: Archetype) -> np.ndarray:
    """Expected invocations per minute over the window, by traffic pattern (peak = ``rate_per_min``)."""
    idx = _minute_index()
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60.0
    weekday = idx.day_of_week.to_numpy() < 5
    r = arch.rate_per_min
    if arch.pattern == "steady":
        return np.full(MINUTES, r)
    if arch.pattern == "diurnal":  # trough at 04:00 UTC, peak at 16:00 UTC
        return r * (0.55 + 0.45 * np.sin((hour - 10.0) / 24.0 * 2 * np.pi))
    if arch.pattern == "business":
        return np.where(weekday & (hour >= 13) & (hour < 22), r, r * 0.03)
    if arch.pattern == "sparse":
        return np.where((hour >= 13) & (hour < 23), r, 0.0)
    if arch.pattern == "nightly":  # a burst of work around 02:00 UTC, nothing else
        return np.where((hour >= 2.0) & (hour < 2.25), r, 0.0)
    if arch.pattern == "bursty":  # a quiet baseline and a 20-minute sale at 18:00 on some days
        base = r * 0.15 * (0.55 + 0.45 * np.sin((hour - 10.0) / 24.0 * 2 * np.pi))
        day = ((idx - START).days).to_numpy()
        sale = np.isin(day, (1, 3, 6, 8, 10, 13)) & (hour >= 18.0) & (hour < 18.34)
        return np.where(sale, r * 60.0, base)
    raise ValueError(f"unknown traffic pattern {arch.pattern!r}")


def mean_warm_ms(arch: Archetype, memory_mb: float | None = None) -> float:
    """The model's expected warm duration at a memory size (the archetype's own size by default)."""
    m = arch.memory_mb if memory_mb is None else memory_mb
    return arch.fixed_ms + arch.cpu_ms / min(arch.parallelism, m / VCPU_MB)


def draw_durations(arch: Archetype, n: int, rng: np.random.Generator) -> np.ndarray:
    """Warm durations (ms): the model's mean with log-normal noise (mean-preserving) and rare slow outliers."""
    sigma = arch.noise
    d = mean_warm_ms(arch) * rng.lognormal(-sigma**2 / 2, sigma, n)
    slow = rng.random(n) < 0.004
    return np.where(slow, d * rng.uniform(2.0, 4.0, n), d)


def init_median(arch: Archetype) -> float:
    if arch.init_ms is not None:
        return arch.init_ms
    family = "java" if arch.runtime.startswith("java") else "nodejs" if arch.runtime.startswith("nodejs") else "python"
    return INIT_MEDIAN_MS[family] * (1.0 + arch.code_mb / 40.0 + 0.15 * arch.layers)


def simulate_cold_starts(counts: np.ndarray, mean_ms: float, rng: np.random.Generator,
                         provisioned: float = 0.0) -> np.ndarray:
    """Cold starts per minute from an environment pool: idle eviction after 5-7 min, recycling every ~2 h."""
    conc = counts * mean_ms / 60000.0
    demand = np.where(counts > 0, np.minimum(counts, np.ceil(conc + 2.0 * np.sqrt(conc))), 0).astype(int)
    demand = np.maximum(demand - int(provisioned or 0), 0)
    last_used = np.empty(0)
    born = np.empty(0)
    keep = np.empty(0)
    life = np.empty(0)
    cold = np.zeros(len(counts), dtype=int)
    for t in np.flatnonzero(demand):
        alive = ((t - last_used) <= keep) & ((t - born) <= life)
        last_used, born, keep, life = last_used[alive], born[alive], keep[alive], life[alive]
        need = demand[t]
        order = np.argsort(-last_used)
        reuse = order[:need]
        last_used[reuse] = t
        new = max(0, need - len(last_used))
        if new:
            cold[t] = new
            last_used = np.concatenate([last_used, np.full(new, float(t))])
            born = np.concatenate([born, np.full(new, float(t))])
            keep = np.concatenate([keep, rng.uniform(*KEEP_ALIVE_MIN, new)])
            life = np.concatenate([life, rng.uniform(*RECYCLE_MIN, new)])
    return np.minimum(cold, counts)


@dataclass
class Traffic:
    counts: np.ndarray        # invocations per minute (throttled ones excluded)
    throttles: np.ndarray
    errors: np.ndarray
    timeouts: np.ndarray
    cold: np.ndarray


def simulate_traffic(arch: Archetype) -> Traffic:
    rng = rng_for(arch, "traffic")
    offered = rng.poisson(traffic_rate(arch))
    throttles = np.zeros(MINUTES, dtype=int)
    counts = offered
    if not np.isnan(arch.reserved):
        per_minute_cap = int(arch.reserved * 60000.0 / mean_warm_ms(arch))
        counts = np.minimum(offered, per_minute_cap)
        throttles = offered - counts
    day = np.arange(MINUTES) // 1440
    bad = np.isin(day, arch.bad_days)
    timeout_p = np.where(bad, arch.bad_day_timeout_rate, 0.0)
    timeouts = rng.binomial(counts, timeout_p)
    error_p = np.where(bad, max(arch.error_rate, arch.bad_day_error_rate), arch.error_rate)
    errors = rng.binomial(counts - timeouts, error_p) + timeouts
    cold = simulate_cold_starts(counts, mean_warm_ms(arch), rng_for(arch, "pool"),
                                provisioned=0 if np.isnan(arch.provisioned) else arch.provisioned)
    return Traffic(counts, throttles, errors, timeouts, cold)
