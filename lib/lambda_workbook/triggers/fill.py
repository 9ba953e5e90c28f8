"""Retries and batch fill: the expected attempts per event, and how full a partition's batches get under
Poisson arrivals (with the inverse, the event rate behind an observed invocation rate)."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize as _optimize
from scipy import special as _special


def expected_attempts(failure_rate: float, max_attempts: float | None) -> float:
    """Mean delivery attempts per event when each attempt fails with ``failure_rate`` (None = retry forever)."""
    p = float(failure_rate)
    if p <= 0:
        return 1.0
    if max_attempts is None:
        return 1.0 / (1.0 - p)
    return (1.0 - p ** float(max_attempts)) / (1.0 - p)


def poisson_sf(k, mu):
    """``P(X > k)`` for ``X ~ Poisson(mu)``, whole ``k >= 0`` and ``mu > 0``: the numbers of
    ``scipy.stats.poisson.sf(k, mu)`` (which computes ``pdtrc(floor(k), mu)`` clipped to [0, 1]) without its
    argument checks, which cost more than the sum itself here."""
    return np.clip(_special.pdtrc(np.floor(np.asarray(k, dtype=float)), mu), 0, 1)


def _poisson_range(mu: float) -> tuple[int, int]:
    """Counts outside ``[lo, hi]`` have negligible probability under Poisson(mu) (12 standard deviations)."""
    spread = 12.0 * math.sqrt(mu) + 12.0
    return int(max(0.0, math.floor(mu - spread))), int(math.ceil(mu + spread))


def poisson_capped_mean(mu: float, m: float) -> float:
    """``E[min(m, X)]`` for ``X ~ Poisson(mu)``: ``sum over k < m of P(X > k)``."""
    if mu <= 0 or m <= 0:
        return 0.0
    if math.isinf(m):
        return float(mu)
    lo, hi = _poisson_range(mu)
    m = int(m)
    if m <= lo:
        return float(m)
    k = np.arange(lo, min(m, hi))
    return lo + float(poisson_sf(k, mu).sum())


def poisson_batches(mu: float, n: float) -> float:
    """``E[ceil(X / n)]`` for ``X ~ Poisson(mu)``: the batches of at most ``n`` that ``X`` events make."""
    if mu <= 0:
        return 0.0
    lo, hi = _poisson_range(mu)
    n = int(n)
    first = -(-lo // n)                      # batches j with j·n < lo are (almost) surely started
    j = np.arange(first, hi // n + 1)
    return first + float(poisson_sf(j * n, mu).sum())


def batch_fill(rate_per_partition: float, batch_size: float, window_s: float, poll_interval_s: float = 0.0,
               cap: float = math.inf) -> tuple[float, float, float]:
    """``(events per invocation, worst-case added wait s, mean added wait s)`` for one partition.

    Poisson arrivals at ``rate_per_partition`` events/s; ``n = min(batch_size, cap)``:

    * with a window ``W > 0`` a batch opens with its first event and closes when it holds ``n`` events or ``W``
      has passed: it holds ``1 + E[min(n - 1, Poisson(λW))]`` events; its first event waits ``(fill - 1) / λ``
      on average, and a batch that never fills waits the whole window (the worst case, plus the polling gap);
    * without a window, a polled stream hands over what arrived since the last poll, split into batches of at
      most ``n``: ``λP / E[ceil(Poisson(λP) / n)]`` events per invocation, waiting ``P / 2`` on average;
    * without a window or polling gap (SQS long polling) no time is spent gathering: one event per invocation.
    """
    lam = max(float(rate_per_partition), 0.0)
    n = max(1.0, min(float(batch_size), float(cap)))
    poll, window = float(poll_interval_s), float(window_s)
    if window > 0 and n > 1:
        fill = min(n, 1.0 + poisson_capped_mean(lam * window, n - 1.0))
        first_waits = (fill - 1.0) / lam if lam > 0 else window
        gather_mean = first_waits * (1.0 + fill) / (2.0 * fill)
        return fill, poll + window, poll / 2.0 + gather_mean
    if poll > 0 and lam > 0 and n > 1:
        mu = lam * poll
        batches = poisson_batches(mu, n)   # ~mu for tiny mu; 0 only when mu underflows
        return max(1.0, min(n, mu / batches if batches > 0 else 1.0)), poll, poll / 2.0
    return 1.0, poll, poll / 2.0


def rate_from_invocations(invocation_rate: float, batch_size: float, window_s: float, poll_interval_s: float = 0.0,
                          cap: float = math.inf) -> float:
    """The per-partition event rate that :func:`batch_fill` turns into ``invocation_rate`` invocations/s.

    ``λ / fill(λ)`` grows strictly with ``λ`` and ``fill`` lies in ``[1, n]``, so the root lies in ``[r, r·n]``.
    """
    r = max(float(invocation_rate), 0.0)
    n = max(1.0, min(float(batch_size), float(cap)))
    if n <= 1 or r == 0 or (window_s <= 0 and poll_interval_s <= 0):
        return r

    def gap(lam: float) -> float:
        return lam / batch_fill(lam, n, window_s, poll_interval_s)[0] - r

    lo, hi = r, r * n
    if gap(lo) >= 0:
        return lo
    if gap(hi) <= 0:
        return hi
    return float(_optimize.brentq(gap, lo, hi, xtol=1e-12 * hi, rtol=1e-12))
