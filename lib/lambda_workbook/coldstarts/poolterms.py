"""Work the pool model (:mod:`.pool`) shares between the environment levels of one series: the Poisson terms of
a per-minute mean (evaluated once per distinct mean), a level's log-survival sums, and the row recurrence of the
forced-recycle renewal. Pure numpy; each gives the numbers the plain per-level computation gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special


def pmf(k, mu):
    """Poisson pmf from the special functions ``scipy.stats.poisson.pmf`` evaluates."""
    return np.clip(np.exp(special.xlogy(k, mu) - special.gammaln(k + 1) - mu), 0.0, 1.0)


def cdf(k, mu):
    """Poisson cdf (``scipy.special.pdtr``, what ``scipy.stats.poisson.cdf`` evaluates)."""
    return np.clip(special.pdtr(k, mu), 0.0, 1.0)


class PoissonTerms:
    """``pmf(k, mu)`` and ``cdf(k, mu)`` of one array of per-minute means, asked for many ``k``.

    A series of whole invocation counts with one duration has few distinct means (one per distinct count), so
    the special functions run once per distinct positive mean and the minutes take their value; the minutes
    with mean 0 share the value at 0. Elementwise functions, so the numbers are those of the whole array.
    """

    def __init__(self, mu: np.ndarray) -> None:
        mu = np.asarray(mu, dtype=float)
        codes, uniq = pd.factorize(mu)
        if 2 * len(uniq) <= len(mu):
            self.codes, self.values = codes, np.asarray(uniq, dtype=float)
        else:                      # mostly distinct means: no gain in grouping them
            self.codes, self.values = None, mu
        self.pos = self.values > 0
        self._zero: dict[tuple, float] = {}

    def _eval(self, f, k: int) -> np.ndarray:
        key = (f, k)
        if key not in self._zero:
            self._zero[key] = float(f(k, np.zeros(1))[0])
        out = np.full(self.values.shape, self._zero[key])
        out[self.pos] = f(k, self.values[self.pos])
        return out if self.codes is None else out.take(self.codes)

    def pmf(self, k: int) -> np.ndarray:
        return self._eval(pmf, k)

    def cdf(self, k: int) -> np.ndarray:
        return self._eval(cdf, k)


def log_survival(busy: np.ndarray) -> np.ndarray:
    """``cumsum(log(1 - busy))`` (busy capped just below 1): the log-chance a level stays unused through each
    minute, from the first. The eviction, reuse and quiet-window sums read their windows off it."""
    return np.cumsum(np.log1p(-np.minimum(busy, 1.0 - 1e-12)))


_LOG_BUSY = np.log1p(-np.minimum(np.ones(64), 1.0 - 1e-12))    # what log_survival adds for a minute with busy 1


def log_survival_binary(busy: np.ndarray) -> np.ndarray:
    """:func:`log_survival` of a ``busy`` of 0s and 1s (a level used or not in each minute): each minute adds
    the value a busy 1 adds (``log1p(-(1 - 1e-12))``) or ``-0.0`` (``log1p(-0.0)``), without the logarithms."""
    return np.cumsum(np.where(busy > 0, _LOG_BUSY[0], -0.0))


def cum_after(surv: np.ndarray, pad: int) -> np.ndarray:
    """The running log-survival of ``busy`` followed by ``pad`` unused minutes, with a leading 0 (what
    ``cumsum`` over the padded series gives: an unused minute adds 0)."""
    if not len(surv):
        return np.zeros(pad + 1)
    return np.concatenate([[0.0], surv, np.full(pad, surv[-1])])


def cum_before(surv: np.ndarray, pad: int) -> np.ndarray:
    """The running log-survival of ``pad`` unused minutes followed by ``busy``, with a leading 0."""
    return np.concatenate([np.zeros(pad + 1), surv])


def scan_rows(a: np.ndarray, c: np.ndarray) -> None:
    """In place down axis 0 of ``a``: ``a[r] = a[r] + c[r] * a[r - 1]`` for every row in turn (a first-order
    linear recurrence per column), solved pairwise: each pass folds the odd rows onto the row before, the odd
    rows recurse with the pairs' combined coefficients, then the even rows take their predecessor (about 5
    array operations per element in all). ``c`` is left as it is."""
    n = a.shape[0]
    if n < 2:
        return
    half = n // 2
    odd = a[1::2]
    odd += c[1::2] * a[0:2 * half:2]
    scan_rows(odd, c[1::2] * c[0:2 * half:2])
    if n > 2:
        a[2::2] += c[2::2] * a[1:n - 1:2]
