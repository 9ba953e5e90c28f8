"""The eviction side of the pool model (:mod:`.pool`): the chance an environment is gone after a quiet gap, for
uses a given number of minutes apart (:func:`_evict_after_gaps`: the first and last arrival of a minute are the
first and last of its Poisson arrivals, the window a :class:`lambda_workbook.keepalive.KeepAlive` distribution),
and those chances tabulated by quiet minutes and survived sweep steps, shared by every function with the same
keep-alive (read-only)."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..keepalive import KeepAlive

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


def _distinct_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of equal-length float columns (in sorted order) and, per row, which one it is
    (``np.unique(..., axis=0, return_inverse=True)`` by one lexicographic sort of the columns)."""
    keys = np.stack(columns)
    order = np.lexsort(keys[::-1])
    ordered = keys[:, order]
    first = np.ones(keys.shape[1], dtype=bool)
    first[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    inverse = np.empty(keys.shape[1], dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ordered[:, first], inverse


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
        inverse = None
        if len(gm) > 32:             # counts repeat: each distinct (uses, uses before, gap, shift) once
            (a, b, gm, sm), inverse = _distinct_rows(a, b, gm, sm)
        # every node at once (each entry is its own number), then summed node by node as before
        p = _p_sum_exceeds(a[:, None], b[:, None], k[None, :] + sm[:, None] - gm[:, None])
        acc = np.zeros(len(gm))
        for j, wj in enumerate(w):
            acc += wj * p[:, j]
        out[maybe] = acc if inverse is None else acc[inverse]
    return np.clip(out, 0.0, 1.0)


def _evict_table(ka: KeepAlive, steps: np.ndarray | None, shift: float) -> tuple[np.ndarray, int]:
    """Eviction probability after ``j`` quiet minutes for each number of survived sweep steps (rows), and
    the span beyond which eviction is certain (the same for every function with the same keep-alive, most
    survived steps and shift: computed once each, read-only)."""
    top = int(steps.max()) if steps is not None and len(steps) else 0
    return _evict_table_for(ka, top, float(shift))


@functools.lru_cache(maxsize=4096)
def _evict_table_for(ka: KeepAlive, top: int, shift: float) -> tuple[np.ndarray, int]:
    step = ka.sweep.step_min if ka.sweep is not None else 0.0
    span = int(math.ceil(ka.idle_min[1] + shift + top * step))
    # every row at once (the same numbers as row by row: each entry is its own gap and shift)
    gaps = np.tile(np.arange(span, dtype=float), top + 1)
    shifts = np.repeat(np.array([shift + n * step for n in range(top + 1)]), span)
    table = _evict_after_gaps(gaps, 1.0, 1.0, ka, shifts).reshape(top + 1, span)
    table.flags.writeable = False
    return table, span


class _Columns:
    """An eviction table read column by column (one column per number of quiet minutes): the eviction and
    keep probabilities transposed, and which columns are 0 or 1 for every row (a term that adds nothing, a
    factor that changes nothing)."""

    def __init__(self, table: np.ndarray, span: int) -> None:
        keep = 1.0 - table
        self.span, self.rows = span, table.shape[0]
        self.evict, self.keep = table, keep
        self.evict_t, self.keep_t = np.ascontiguousarray(table.T), np.ascontiguousarray(keep.T)
        self.evict_zero, self.evict_one = ~table.any(axis=0), (table == 1.0).all(axis=0)
        self.keep_zero, self.keep_one = ~keep.any(axis=0), (keep == 1.0).all(axis=0)

    def factor(self, which: str, j: int, rows: np.ndarray | None):
        """Column ``j`` of the ``which`` table (``"evict"`` or ``"keep"``) at ``rows``; None where it is 1."""
        if getattr(self, f"{which}_one")[j]:
            return None
        if self.rows == 1:
            return getattr(self, which)[0, j]
        return getattr(self, f"{which}_t")[j].take(rows)


def _columns(ka: KeepAlive, steps: np.ndarray | None, shift: float) -> _Columns:
    top = int(steps.max()) if steps is not None and len(steps) else 0
    return _columns_for(ka, top, float(shift))


@functools.lru_cache(maxsize=4096)
def _columns_for(ka: KeepAlive, top: int, shift: float) -> _Columns:
    return _Columns(*_evict_table_for(ka, top, shift))
