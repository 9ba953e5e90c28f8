"""The tuning loop: which size to invoke next, and when to stop (pure: ``invoke`` is injected).

1. Anchors: the smallest, the largest and the log-middle option get one warm invocation each (the first
   invocation of a freshly published version is a cold start and is never compared).
2. Every step judges the *measured* sizes (:func:`.stopping.judge`): the pick has the best winsorised mean,
   and the claimed confidence is the share of draws in which it is within ``regret_tolerance`` of the best.
3. A size never measured is measured unless it is ruled out as unable to compete (:mod:`.candidates`: a bound
   from the larger sizes measured, or the memory model with a wide margin; never a neighbour of the pick).
4. The pick and every measured rival up to ``CONTENDER_MARGIN`` worse need ``min_warm`` warm invocations —
   more for a noisy function (``NOISY_CV``): two or three invocations of a heavy-tailed function often agree by
   chance, and a single straggler can make the best size look up to four times as dear.
5. The tuner stops when every size is measured or ruled out, the contenders have their invocations, and the
   claimed confidence reaches ``confidence`` (default 95%). Otherwise it measures, in this order: a contender
   short of invocations (the pick first), the most promising unmeasured size, or the size where one more
   invocation removes the most risk (a rival's chance of beating the pick, times how much one more invocation
   narrows its band).

The constants were calibrated on replays of real per-invocation measurements (``benchmarks/bench_tuning.py``,
figures in ``benchmarks/README.md``). Errors, timeouts and out-of-memory at small sizes mark sizes
*infeasible* (all sizes up to one that ran out of memory or timed out; a size that failed twice and never
succeeded) instead of failing the run. A function that fails at every size, or at the largest one too, is not
a memory problem: :class:`TuningError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import billing, memory
from .. import prices as _prices
from . import candidates, stopping
from .result import TuningResult
from .samples import FAILED, SAMPLE_COLUMNS, TuningError, anchors, check_options, classify_sample

CONFIDENCE = 0.95       # claimed probability of <= regret_tolerance regret needed to stop
MIN_WARM = 2            # warm invocations at the pick and at each contender before the pick may be declared
MAX_WARM = 25           # warm invocations at one size at most
CONTENDER_MARGIN = 3.0  # measured rivals up to this much dearer (slower) than the pick are contenders: a 4x
                        # straggler as a size's only warm invocation cannot rule it out
NOISY_CV = 0.10         # a function whose invocations vary more needs min_warm × (spread / NOISY_CV)² of them,
NOISY_MAX = 8           # ... up to this many


class _Run:
    """The invocations so far and the sizes found infeasible."""

    def __init__(self, invoke, opts: list[float], budget: int, bar):
        self.invoke, self.opts, self.budget, self.bar = invoke, opts, budget, bar
        self.rows: list[dict[str, Any]] = []
        self.infeasible: dict[float, str] = {}

    def warm(self, m: float) -> int:
        return sum(1 for r in self.rows if r["memory_mb"] == m and r["kind"] == "ok")

    def values(self, m: float, col: str) -> np.ndarray:
        return np.array([r[col] for r in self.rows if r["memory_mb"] == m and r["kind"] == "ok"], dtype=float)

    def failures(self, m: float) -> int:
        return sum(1 for r in self.rows if r["memory_mb"] == m and r["kind"] in FAILED)

    def feasible(self) -> list[float]:
        return [o for o in self.opts if o not in self.infeasible]

    def spent(self) -> bool:
        return len(self.rows) >= self.budget

    def _mark(self, m: float, kind: str, text: str | None) -> None:
        if kind in ("oom", "timeout"):
            why = "out of memory" if kind == "oom" else "timed out"
            for o in self.opts:
                if o <= m and o not in self.infeasible:
                    self.infeasible[o] = f"{why} at {m:g} MB" + (f" ({text})" if text else "")
        elif kind == "error" and self.failures(m) >= 2 and self.warm(m) == 0:
            self.infeasible[m] = f"failed twice at {m:g} MB: {text}"

    def measure(self, m: float, want: int, step: int) -> None:
        """Invoke at ``m`` until it has ``want`` warm invocations (a few failures or cold starts allowed)."""
        tries = 0
        need = want - self.warm(m)
        while self.warm(m) < want and not self.spent() and m not in self.infeasible and tries < need + 2:
            tries += 1
            sample = classify_sample(self.invoke(m), m)
            sample["step"] = step
            self.rows.append(sample)
            self.bar.update(1)
            if sample["kind"] in FAILED:
                self._mark(m, sample["kind"], sample["error"])


def tune(invoke: Callable[[float], Mapping[str, Any]], memory_options, *, strategy: str = "cost",
         arch: str = "x86_64", max_invocations: int | None = None, runtime: str | None = None,
         region: str | None = None, invocations_per_month: float = 1e6, latency_slo_ms: float | None = None,
         cost_tolerance: float | None = None, balanced_weight: float = 0.5, regret_tolerance: float = 0.02,
         confidence: float | None = None, batch: int = 1, min_warm: int | None = None,
         max_warm_per_size: int | None = None, progress: bool = False, seed: int = 0,
         book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None) -> TuningResult:
    """Find the memory size that best meets ``strategy`` among ``memory_options`` with few invocations.

    ``invoke(memory_mb)`` runs the function once at that size and returns a mapping with ``duration_ms`` and
    ``billed_duration_ms``, optionally ``init_duration_ms`` (a cold start), ``max_memory_used_mb`` and
    ``error`` (a message; ``status="timeout"`` or text mentioning a timeout / out of memory classify it).
    ``max_invocations`` caps the run (default: 10 per option, what Power Tuning's ``num=10`` would spend).
    The run stops once the pick is within ``regret_tolerance`` of the best size with probability
    ``confidence`` judged from the measurements (see the module doc); ``seed`` fixes that judgement's draws.
    ``confidence``, ``min_warm`` and ``max_warm_per_size`` default to ``CONFIDENCE``, ``MIN_WARM`` and ``MAX_WARM``.
    Prices: ``book``, else ``pricing``'s book for ``region``, else the bundled book of ``region`` (us-east-1 when
    None; :func:`lambda_workbook.prices.resolve`); the result keeps the book it was priced with.
    """
    confidence = CONFIDENCE if confidence is None else confidence
    min_warm = MIN_WARM if min_warm is None else min_warm
    max_warm_per_size = MAX_WARM if max_warm_per_size is None else max_warm_per_size
    if strategy not in memory.STRATEGIES:
        raise ValueError(f"strategy must be one of {memory.STRATEGIES}, got {strategy!r}")
    billing.check_arch(arch)
    opts = check_options(memory_options)
    budget = 10 * len(opts) if max_invocations is None else int(max_invocations)
    if budget < 1:
        raise ValueError(f"max_invocations must be at least 1, got {max_invocations!r}")
    if not 0 < confidence < 1 or not regret_tolerance >= 0:
        raise ValueError(f"confidence must be in (0, 1) and regret_tolerance >= 0; got {confidence!r}, {regret_tolerance!r}")
    if batch < 1 or min_warm < 1 or max_warm_per_size < min_warm:
        raise ValueError("batch and min_warm must be >= 1 and max_warm_per_size >= min_warm")
    if not 0 <= balanced_weight <= 1:
        raise ValueError(f"balanced_weight must be between 0 (speed) and 1 (cost), got {balanced_weight!r}")
    book = _prices.resolve(region, book=book, pricing=pricing)
    region = book.region
    from tqdm.auto import tqdm

    bar = tqdm(total=budget, desc="tuning", unit="inv", disable=not progress)
    run = _Run(invoke, opts, budget, bar)
    steps: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        for m in anchors(opts):
            if run.spent():
                break
            while m in run.infeasible and run.feasible():  # the smallest failed: try the next size up
                m = next((o for o in run.feasible() if o > m), run.feasible()[-1])
            if not run.feasible():
                break
            run.measure(m, 1, 0)
        if not run.feasible():
            reasons = "; ".join(sorted(set(run.infeasible.values())))
            raise TuningError(f"every memory option failed ({reasons}): this is not a memory-size problem")
        if opts[-1] in run.infeasible and not any(r["kind"] == "ok" for r in run.rows):
            raise TuningError(f"the function fails at the largest size ({run.infeasible[opts[-1]]}): fix the function "
                              "before tuning its memory")
        model, j, converged, step = None, None, False, 0
        ruled: dict[int, str] = {}
        while True:
            step += 1
            if not any(r["kind"] == "ok" for r in run.rows):  # the anchors all failed or came back cold
                if run.spent() or not run.feasible():
                    raise TuningError("no warm, successful invocation at any size: " +
                                      "; ".join(sorted({str(r['error']) for r in run.rows if r['error']})))
                run.measure(run.feasible()[-1], 1, step)
                continue
            cand = np.array(run.feasible())
            price = (billing.cost_from_totals(np.ones(cand.size), np.zeros(cand.size), cand, arch, book=book),
                     billing.cost_from_totals(np.zeros(cand.size), np.ones(cand.size), cand, arch, book=book))
            billed = [run.values(m, "billed_duration_ms") for m in cand]
            durs = [run.values(m, "duration_ms") for m in cand]
            j = stopping.judge(cand, billed, durs, price=price, strategy=strategy, regret_tolerance=regret_tolerance,
                               latency_slo_ms=latency_slo_ms, cost_tolerance=cost_tolerance,
                               balanced_weight=balanced_weight, seed=seed + step)
            model = candidates.fit(run.rows, arch, runtime, notes)
            offset = max(float(np.nanmedian(np.concatenate(billed) - np.concatenate(durs))), 0.0)
            modelled = candidates.model_draws(model, cand, offset, price, notes)
            ruled = candidates.rule_out(j, strategy, price, modelled, latency_slo_ms, regret_tolerance)
            open_ = [i for i in np.flatnonzero(~j.measured) if i not in ruled]
            thin = _thin(j, strategy, min_warm, max_warm_per_size)
            steps.append({"step": step, "invocations": len(run.rows), "pick_mb": float(cand[j.pick]),
                          "confidence": j.confidence, "sizes_measured": [float(m) for m in cand[j.measured]],
                          "ruled_out": [float(cand[i]) for i in ruled]})
            if not open_ and not thin and j.confidence >= confidence:
                converged = True
                break
            if run.spent():
                notes.append(f"stopped at the invocation budget ({budget}) with {j.confidence:.0%} confidence "
                             "in the pick")
                break
            if thin:
                nxt = j.pick if j.pick in thin else min(thin, key=lambda i: j.worse(i, strategy))
            elif open_:
                nxt = candidates.most_promising(open_, j, strategy, modelled)
            else:
                nxt = _sharpen(j, max_warm_per_size)
                if nxt is None:
                    notes.append(f"every contending size has its maximum of {max_warm_per_size} warm invocations")
                    break
            m = float(cand[nxt])
            run.measure(m, run.warm(m) + (1 if run.warm(m) == 0 else batch), step)
        samples = pd.DataFrame(run.rows).reindex(columns=SAMPLE_COLUMNS)
        rec = None
        if model is not None:
            try:
                rec = memory.recommend(model, strategy=strategy, arch=arch, region=region, sizes=j.sizes,
                                       invocations_per_month=invocations_per_month, latency_slo_ms=latency_slo_ms,
                                       cost_tolerance=cost_tolerance, balanced_weight=balanced_weight, book=book,
                                       headroom=0.0)
            except Exception as exc:  # noqa: BLE001 - the model's view is optional
                notes.append(f"the memory model's recommendation failed ({type(exc).__name__}: {exc})")
        return TuningResult(memory_mb=float(j.sizes[j.pick]), invocations=len(run.rows), samples=samples,
                            model=model, recommendation=rec, strategy=strategy, arch=arch, region=region, book=book,
                            options=opts, converged=converged, confidence=j.confidence,
                            infeasible=dict(sorted(run.infeasible.items())),
                            steps=steps, notes=notes,
                            ruled_out={float(j.sizes[i]): why for i, why in sorted(ruled.items())})
    finally:
        bar.close()


def _thin(j: stopping.Judgement, strategy: str, min_warm: int, cap: int) -> list[int]:
    """Contenders (the pick and measured rivals up to ``CONTENDER_MARGIN`` worse) short of warm invocations.

    A noisy function needs more of them: ``min_warm × (spread / NOISY_CV)²``, and its contenders reach as far
    as twice its spread."""
    need = min(max(min_warm, min(math.ceil(min_warm * (j.spread / NOISY_CV) ** 2), NOISY_MAX)), cap)
    margin = max(CONTENDER_MARGIN, 2 * j.spread)
    return [int(i) for i in np.flatnonzero(j.measured & (j.warm < need))
            if i == j.pick or j.worse(i, strategy) <= 1 + margin]


def _sharpen(j: stopping.Judgement, cap: int) -> int | None:
    """The size where one more invocation removes the most risk: each rival's risk times how much one more
    invocation shrinks its variance; the pick's, summed over the rivals it is at risk from. A rival that
    looked bad after a straggler keeps a wide band, so it gets measured again instead of being forgotten."""
    gain = j.se ** 2 / (j.warm + 1.0)
    score = j.risk * gain
    score[j.pick] = j.risk.sum() * gain[j.pick]
    score[~j.measured | (j.warm >= cap) | ~np.isfinite(score)] = -1.0
    best = int(np.argmax(score))
    return best if score[best] > 0 else None
