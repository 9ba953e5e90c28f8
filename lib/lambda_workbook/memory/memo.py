"""A duration model's posterior draws, memoised per model state, seed and sizes (pure, in memory only).

A function's review asks its model for draws several times with the same seed: the median curve and the noisy
draws over the candidate sizes, today's size alone, the decision's grid. The draw itself (which curves, their
scales) does not depend on the sizes, and the smooth curve at given sizes does not depend on the noise drawn
after it, so both are kept here and reused; sizes already computed as part of a longer list are taken from its
columns (the curve is computed element by element, so they are the same numbers). An entry is valid only while the model's arrays are the very same
objects and its scalars equal (a model given new weights or moved to another architecture draws afresh).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

_KEEP = 6   # size lists kept per model (a review uses three or four)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y or (isinstance(x, (int, float, str)) and type(x) is type(y) and x == y)
                                    for x, y in zip(a, b, strict=True))


class Draws:
    """One model's memo: ``(n, seed)`` → the generator's state after the draw and the draw; plus, per size list,
    the smooth curve's log durations."""

    def __init__(self) -> None:
        self._state: tuple = ()
        self._draws: dict[tuple[int, int], tuple[Any, Any]] = {}
        self._curves: OrderedDict[tuple[int, int, bytes], np.ndarray] = OrderedDict()

    def get(self, state: tuple, n: int, seed: int, m: np.ndarray, draw: Callable[[], tuple[Any, Any]],
            smooth: Callable[[tuple[Any, Any]], np.ndarray]) -> tuple[Any, Any, np.ndarray]:
        """``(generator state after the draw, the draw, log t at m)``; ``draw()`` and ``smooth(drawn)`` make what
        is missing. Callers must not modify what they get."""
        if not _same(state, self._state):
            self._state, self._draws, self._curves = state, {}, OrderedDict()
        key = (int(n), int(seed))
        drawn = self._draws.get(key)
        if drawn is None:
            drawn = self._draws[key] = draw()
        ckey = (*key, np.ascontiguousarray(m, dtype=float).tobytes())
        logt = self._curves.get(ckey)
        if logt is None:
            logt = self._gather(key, np.asarray(m, dtype=float))
            logt = smooth(drawn) if logt is None else logt
            logt.setflags(write=False)
            self._curves[ckey] = logt
            while len(self._curves) > _KEEP:
                self._curves.popitem(last=False)
        else:
            self._curves.move_to_end(ckey)
        return drawn[0], drawn[1], logt

    def _gather(self, key: tuple[int, int], m: np.ndarray) -> np.ndarray | None:
        """The curve at ``m`` from the columns of one already computed at sizes that include them all (each
        element of the curve is computed on its own, so the columns are the same numbers)."""
        for (n, seed, raw), logt in reversed(self._curves.items()):
            if (n, seed) != key:
                continue
            sizes = np.frombuffer(raw, dtype=float)
            if sizes.size < 2 or not np.all(np.diff(sizes) > 0):
                continue
            pos = np.minimum(np.searchsorted(sizes, m), sizes.size - 1)
            if np.array_equal(sizes[pos], m):
                return logt[:, pos]
        return None
