"""Steps of one job in two lanes: the steps that hand their work to worker processes (:mod:`.fanout`) on this
thread, the rest on a second thread meanwhile, so the review's own serial work (the rules' group-bys, the
trigger and spend tables) fills the time this process would otherwise spend waiting for its workers.

Each lane runs its steps in their order; what a step returns is kept under its index, so the caller reads the
results in the plan's order whichever lane finished first. Steps of the two lanes must not depend on each
other's results (a memoised table both ask for is computed by whichever asks first, or by both: the same
numbers). A DuckDB connection is per thread (:func:`.connection.session`); the second thread starts with a copy
of this thread's context variables (the fan-out setting among them).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from typing import Any

#: a step's lane: ``"workers"`` (this thread) or ``"alongside"`` (the second thread)
LANES = ("workers", "alongside")


def run(steps: Sequence[tuple[str, Callable[[], Any]]], *, together: bool) -> list[Any]:
    """Each ``(lane, step)``'s ``step()`` result, in the order of ``steps``. ``together``: the ``"alongside"``
    steps run on a second thread while this one runs the others; else every step here, in order. A step that
    raises raises here (after the other lane has finished), as the first failure in the plan's order."""
    bad = sorted({lane for lane, _ in steps} - set(LANES))
    if bad:
        raise ValueError(f"unknown lane(s) {bad}; a step runs in one of {LANES}")
    results: list[Any] = [None] * len(steps)
    failures: dict[int, BaseException] = {}

    def lane(which: str | None) -> None:
        for i, (name, step) in enumerate(steps):
            if which is not None and name != which:
                continue
            try:
                results[i] = step()
            except BaseException as exc:  # kept and raised in the caller's thread
                failures[i] = exc
                return

    side = [s for s in steps if s[0] == "alongside"]
    if not together or not side or len(side) == len(steps):
        lane(None)
    else:
        ctx = contextvars.copy_context()
        other = threading.Thread(target=ctx.run, args=(lane, "alongside"), name="lambda-workbook-alongside",
                                 daemon=True)
        other.start()
        try:
            lane("workers")
        finally:
            other.join()
    if failures:
        raise failures[min(failures)]
    return results
