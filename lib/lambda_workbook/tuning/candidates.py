"""Which unmeasured sizes still need measuring: rule out the ones that cannot compete, try the most promising.

A size is ruled out without being invoked only when it clearly cannot compete with the pick:

* without any model: a size below a measured one runs at least as long as that one did (durations do not
  shrink with less memory; ``MONOTONE_SLACK`` allows for noise), which bounds its cost from below;
* with the memory model (:func:`lambda_workbook.memory.fit` on the warm invocations so far): it gives the size
  less than ``RULE_OUT_P`` probability of coming within ``RULE_OUT_MARGIN`` (plus the regret tolerance) of
  the pick. The margin is wide on purpose: on the demystifying-costs 2025 replays the model, fitted to three
  or more sizes, put an unmeasured size's cost up to 16% too high, below its own 2% quantile in 19% of cases
  (a step in the CPU allocation no smooth curve has; ``benchmarks/README.md``).

The pick's neighbouring options are never ruled out, so the choice is a measured local optimum. The model only
proposes and rules out; it never decides the pick. If it cannot be fitted, nothing is ruled out by it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import memory
from .stopping import Judgement

RULE_OUT_MARGIN = 0.25  # an unmeasured size is ruled out only if this much worse than the pick ...
RULE_OUT_P = 0.02       # ... with at least 1 - this probability under the memory model
MONOTONE_SLACK = 0.05   # a larger measured size bounds a smaller one's duration from below, less this


def fit(rows: list[dict], arch: str, runtime: str | None, notes: list[str]) -> memory.DurationModel | None:
    """The memory model on the warm invocations, or None (with a note) if it cannot be fitted."""
    ok = pd.DataFrame([r for r in rows if r["kind"] == "ok"])
    try:
        return memory.fit(ok["memory_mb"], ok["duration_ms"], arch=arch, runtime=runtime,
                          max_memory_used_mb=ok["max_memory_used_mb"].fillna(0.0))
    except Exception as exc:  # noqa: BLE001 - any failure of the model leaves the measurements to decide
        msg = (f"the memory model could not be fitted ({type(exc).__name__}: {exc}); sizes are compared on "
               "measurements alone")
        if msg not in notes:
            notes.append(msg)
        return None


def model_draws(model, sizes: np.ndarray, offset_ms: float, price: tuple[np.ndarray, np.ndarray],
                notes: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """The model's draws of (USD per invocation, duration) at every size, or None.

    ``offset_ms`` is what billing adds to a wall duration (the median over the warm invocations: rounding up,
    INIT where the runtime bills it in the duration)."""
    if model is None:
        return None
    try:
        dur = np.asarray(model.samples(sizes), dtype=float)
        if dur.ndim != 2 or dur.shape[1] != sizes.size or not np.isfinite(dur).all():
            raise ValueError(f"samples() returned an array of shape {dur.shape} with non-finite values")
    except Exception as exc:  # noqa: BLE001
        msg = f"the memory model's draws failed ({type(exc).__name__}: {exc}); no size is ruled out by it"
        if msg not in notes:
            notes.append(msg)
        return None
    return price[0] + price[1] * (dur + offset_ms), dur


def rule_out(j: Judgement, strategy: str, price: tuple[np.ndarray, np.ndarray], modelled,
             latency_slo_ms: float | None, regret_tolerance: float) -> dict[int, str]:
    """Unmeasured sizes that cannot plausibly compete with the pick, with the reason."""
    out: dict[int, str] = {}
    sizes, pick, measured = j.sizes, j.pick, j.measured
    bar = 1 + regret_tolerance + RULE_OUT_MARGIN
    for i in np.flatnonzero(~measured):
        if abs(i - pick) == 1:
            continue
        above = [k for k in np.flatnonzero(measured) if sizes[k] > sizes[i]]
        if above and strategy != "balanced":
            k = min(above, key=lambda k: sizes[k])
            if strategy == "cost":
                floor = price[0][i] + price[1][i] * j.billed[k] * (1 - MONOTONE_SLACK)
                if floor > bar * j.cost[pick]:
                    out[i] = (f"at least {floor / j.cost[pick] - 1:.0%} dearer than {sizes[pick]:g} MB: it cannot "
                              f"run faster than {sizes[k]:g} MB did")
                    continue
            elif j.duration[k] * (1 - MONOTONE_SLACK) > bar * j.duration[pick]:
                out[i] = f"slower than {sizes[k]:g} MB, which is already slower than {sizes[pick]:g} MB"
                continue
        if modelled is None:
            continue
        mcost, mdur = modelled
        if latency_slo_ms is not None and np.mean(mdur[:, i] <= latency_slo_ms) < RULE_OUT_P:
            out[i] = f"the memory model gives it under {RULE_OUT_P:.0%} chance of meeting the {latency_slo_ms:g} ms SLO"
            continue
        worse_cost = np.mean(mcost[:, i] <= bar * j.cost[pick]) < RULE_OUT_P
        worse_speed = np.mean(mdur[:, i] <= bar * j.duration[pick]) < RULE_OUT_P
        if {"cost": worse_cost, "speed": worse_speed, "balanced": worse_cost and worse_speed}[strategy]:
            what = {"cost": "dearer", "speed": "slower", "balanced": "dearer and slower"}[strategy]
            out[i] = (f"the memory model puts it over {bar - 1:.0%} {what} than {sizes[pick]:g} MB "
                      f"with {1 - RULE_OUT_P:.0%} probability")
    return out


def most_promising(open_: list[int], j: Judgement, strategy: str, modelled) -> int:
    """The unmeasured size most likely to beat the pick under the model; without one, the nearest to it."""
    if modelled is not None and strategy != "balanced":
        mcost, mdur = modelled
        obj, ref = (mcost, j.cost[j.pick]) if strategy == "cost" else (mdur, j.duration[j.pick])
        return open_[int(np.argmax([np.mean(obj[:, i] <= ref) for i in open_]))]
    return min(open_, key=lambda i: abs(math.log(j.sizes[i] / j.sizes[j.pick])))
