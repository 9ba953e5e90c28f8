"""One pass over the quiet windows of an environment level for both sides of the pool model (:mod:`.pool`): the
idle cold starts (looking back from each use) and the chance of a reuse before eviction (looking forward from each
minute). Both read the same survival terms, ``exp(S[s + j - 1] - S[s - 1])`` for a window of ``j`` quiet minutes
starting at ``s`` (``S`` the level's running log-survival), so each term is evaluated once and both sums read it:
the same subtractions and products in the same order as the two separate sums, so the same numbers."""

from __future__ import annotations

import numpy as np

from .poolterms import cum_after, cum_before


def cold_and_soon(up: np.ndarray, busy: np.ndarray, cols, steps: np.ndarray | None, surv: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(_windowed_cold(up, busy, ...), _soon(busy, ..., shift=0))`` of :mod:`.pool` for one level, whose eviction
    columns ``cols`` (the table of shift 0) both read; ``surv``: :func:`.poolterms.log_survival` of ``busy``.

    Every minute is looked at on the forward side (a minute without a use in reach sums terms that are all
    exactly 0, as it is left at 0 otherwise); the backward side takes the terms of its use minutes, skipping
    windows that start before the series (their busy factor is 0, so they add exactly 0)."""
    span = cols.span
    m = len(up)
    rows = cols.rows > 1
    # backward side: the total for `span` quiet minutes, from the padded running sum as the separate sum has it
    uses = np.flatnonzero(up)
    dense = len(uses) == m
    cb = cum_before(surv, span)
    total = np.exp(cb[span:span + m] - cb[0:m]) if dense else np.exp(cb[uses + span] - cb[uses])
    # forward side over every minute
    ca = cum_after(surv, span + 1)
    bpa = np.concatenate([busy, np.zeros(span + 1)])
    now = ca[0:m]
    acc = np.zeros(m)
    term = np.empty(m)
    e_win = np.empty(m)
    for j in range(span):
        soon, cold = not cols.keep_zero[j], not cols.evict_zero[j]
        if not (soon or cold):
            continue
        np.subtract(ca[j:j + m], now, out=e_win)        # the window of j quiet minutes starting at each minute
        np.exp(e_win, out=e_win)
        if soon:
            np.multiply(e_win, bpa[j:j + m], out=term)
            kj = cols.factor("keep", j, steps if rows else None)
            if kj is not None:
                np.multiply(term, kj, out=term)
            acc += term
        if cold and j + 1 < m:
            # uses at u > j: busy at u - 1 - j, then j quiet minutes from u - j
            if dense:
                w = busy[0:m - 1 - j] * e_win[1:m - j]
                e = cols.factor("evict", j, steps[0:m - 1 - j] if rows else None)
                if e is not None:
                    np.multiply(w, e, out=w)
                total[j + 1:] += w
            else:
                first = int(np.searchsorted(uses, j, side="right"))
                u = uses[first:]
                if not len(u):
                    continue
                last = u - (1 + j)
                w = busy[last] * e_win[u - j]
                e = cols.factor("evict", j, steps[last] if rows else None)
                if e is not None:
                    np.multiply(w, e, out=w)
                total[first:] += w
    cold_out = np.zeros(m)
    if dense:
        cold_out[:] = up * np.clip(total, 0.0, 1.0)
    else:
        cold_out[uses] = up[uses] * np.clip(total, 0.0, 1.0)
    return cold_out, np.clip(acc, 0.0, 1.0)
