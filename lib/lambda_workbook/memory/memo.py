"""A duration model's posterior draws, memoised per model state, seed and sizes (pure, in memory only).

A function's review asks its model for draws several times with the same seed: the median curve and the noisy
draws over the candidate sizes, today's size alone, the decision's grid. The draw itself (which curves, their
scales) does not depend on the sizes, and the smooth curve at given sizes does not depend on the noise drawn
after it, so both are kept here and reused. An entry is valid only while the model's arrays are the very same
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
            logt = self._curves[ckey] = smooth(drawn)
            logt.setflags(write=False)
            while len(self._curves) > _KEEP:
                self._curves.popitem(last=False)
        else:
            self._curves.move_to_end(ckey)
        return drawn[0], drawn[1], logt
