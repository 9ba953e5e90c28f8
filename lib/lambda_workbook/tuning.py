"""Active memory tuning: measure a function at a few sizes, chosen adaptively, until the choice is stable.

The sampling logic is pure: it calls an injected ``invoke(memory_mb) -> mapping`` and never touches AWS (the
AWS invoker lives in :mod:`lambda_workbook.sources.aws_invoker`; :func:`simulated_function` is an offline
stand-in). Where AWS Lambda Power Tuning invokes every size ``num`` times, the tuner

1. measures three anchors (the smallest and largest options and one in between, log-spaced), a couple of
   warm invocations each (the first invocation of a fresh version is a cold start and is left out);
2. fits :func:`lambda_workbook.memory.fit` to every warm, successful invocation so far;
3. draws curves from the model's posterior, prices every option in every draw, and computes the *regret* of
   its current pick in each draw (how much worse it is than that draw's best option);
4. stops when the pick and its neighbouring options have been measured, the pick is the same as at the
   previous step, and it has at most ``regret_tolerance`` regret with probability ``confidence``; otherwise
   it measures the pick (if it has too few warm invocations), an unmeasured neighbour, or the most likely
   challenger, and goes back to 2.

Errors, timeouts and out-of-memory at small sizes mark sizes *infeasible* (all sizes up to one that ran out of
memory or timed out; a size that failed twice and never succeeded) instead of failing the run. A function
that fails at every size, or at the largest one too, is not a memory problem: :class:`TuningError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import billing, memory
from . import prices as _prices

SAMPLE_COLUMNS = ["step", "memory_mb", "duration_ms", "billed_duration_ms", "init_duration_ms",
                  "max_memory_used_mb", "kind", "error", "source"]


class TuningError(RuntimeError):
    """The tuner cannot choose a size: every size failed, or the function fails regardless of memory."""


def _classify(raw: Mapping[str, Any], memory_mb: float) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"invoke({memory_mb:g}) must return a mapping with duration_ms, got {type(raw).__name__}")

    def num(key):
        v = raw.get(key)
        try:
            return float(v) if v is not None else np.nan
        except (TypeError, ValueError):
            return np.nan

    out = {"memory_mb": float(memory_mb), "duration_ms": num("duration_ms"),
           "billed_duration_ms": num("billed_duration_ms"), "init_duration_ms": num("init_duration_ms"),
           "max_memory_used_mb": num("max_memory_used_mb"), "error": None, "source": raw.get("source", "")}
    error = raw.get("error")
    status = str(raw.get("status") or "").lower()
    text = "" if error in (None, False, "") else str(error)
    low = text.lower()
    if status == "timeout" or "timed out" in low or "timeout" in low:
        kind = "timeout"
    elif "outofmemory" in low.replace(" ", "") or "out of memory" in low or "memoryerror" in low or (
            text and np.isfinite(out["max_memory_used_mb"]) and out["max_memory_used_mb"] >= memory_mb):
        kind = "oom"
    elif text or status == "error":
        kind = "error"
    elif not (np.isfinite(out["duration_ms"]) and out["duration_ms"] > 0):
        kind, text = "error", "no duration reported"
    elif (np.isfinite(out["init_duration_ms"]) and out["init_duration_ms"] > 0) or raw.get("cold"):
        kind = "cold"
    else:
        kind = "ok"
    if np.isnan(out["billed_duration_ms"]) and np.isfinite(out["duration_ms"]):
        init = out["init_duration_ms"] if np.isfinite(out["init_duration_ms"]) else 0.0
        out["billed_duration_ms"] = float(billing.billed_ms(out["duration_ms"], init))
    out["kind"], out["error"] = kind, (text or None)
    return out


@dataclass
class TuningResult:
    """What the tuner measured and chose. ``memory_mb``, ``invocations``, ``samples``, ``model`` are the contract."""

    memory_mb: float
    invocations: int
    samples: pd.DataFrame
    model: memory.DurationModel | None
    recommendation: memory.Recommendation | None
    strategy: str
    arch: str
    region: str
    options: list[float]
    converged: bool
    confidence: float
    infeasible: dict[float, str] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def stats(self) -> pd.DataFrame:
        """Per size: invocations by kind, mean warm duration, and measured USD per invocation (request fee in)."""
        s = self.samples
        book = _prices.load(self.region)
        rows = []
        for m in self.options:
            part = s[s["memory_mb"] == m]
            ok = part[part["kind"] == "ok"]
            row = {"memory_mb": m, "invocations": len(part), "warm": len(ok), "cold": int((part["kind"] == "cold").sum()),
                   "failed": int(part["kind"].isin(["oom", "timeout", "error"]).sum()),
                   "infeasible": self.infeasible.get(m, ""), "mean_ms": ok["duration_ms"].mean() if len(ok) else np.nan,
                   "billed_mean_ms": ok["billed_duration_ms"].mean() if len(ok) else np.nan}
            row["cost_usd"] = (float(billing.cost_from_totals(1.0, row["billed_mean_ms"], m, self.arch, book=book))
                               if len(ok) else np.nan)
            if self.model is not None:
                row["model_ms"] = float(self.model.predict(m)[0])
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def tuning_cost_usd(self) -> float:
        """What the tuning invocations themselves cost (billed duration incl. INIT, plus request fees)."""
        s = self.samples.dropna(subset=["billed_duration_ms"])
        if s.empty:
            return 0.0
        book = _prices.load(self.region)
        return float(billing.cost_from_totals(np.ones(len(s)), s["billed_duration_ms"], s["memory_mb"], self.arch,
                                              book=book).sum())

    def visualization_url(self) -> str:
        """Power Tuning's chart of the measured sizes (mean warm duration, USD per invocation incl. request fee)."""
        from . import interop

        st = self.stats().dropna(subset=["mean_ms"])
        if st.empty:
            raise ValueError("no size has a warm, successful invocation to chart")
        return interop.power_tuning_url(st["memory_mb"], st["mean_ms"], st["cost_usd"], region=self.region)

    def summary(self) -> dict[str, Any]:
        return {"memory_mb": self.memory_mb, "invocations": self.invocations, "strategy": self.strategy,
                "arch": self.arch, "converged": self.converged, "confidence": round(self.confidence, 4),
                "infeasible": {str(int(k)): v for k, v in self.infeasible.items()},
                "sizes_measured": sorted(int(m) for m in self.samples.loc[self.samples["kind"] == "ok", "memory_mb"].unique()),
                "tuning_cost_usd": self.tuning_cost_usd, "notes": list(self.notes)}


def anchors(options: list[float]) -> list[float]:
    """The first sizes to measure: smallest, largest, and the option nearest their geometric mean."""
    if len(options) <= 2:
        return list(options)
    lo, hi = options[0], options[-1]
    mid = min(options[1:-1], key=lambda m: abs(math.log(m) - 0.5 * (math.log(lo) + math.log(hi))))
    return [lo, hi, mid]


def _check_options(memory_options) -> list[float]:
    try:
        opts = sorted({float(m) for m in memory_options})
    except (TypeError, ValueError):
        raise ValueError(f"memory_options must be sizes in MB, got {memory_options!r}") from None
    if not opts:
        raise ValueError("memory_options is empty: give at least one size in MB")
    bad = [m for m in opts if not (memory.MIN_MB <= m <= memory.MAX_MB)]
    if bad:
        raise ValueError(f"memory_options must be between {memory.MIN_MB} and {memory.MAX_MB} MB; got {bad[0]:g}")
    return opts


def _regret(strategy: str, cost: np.ndarray, dur: np.ndarray, pick: int, allowed: np.ndarray,
            balanced_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Per posterior draw: the pick's regret against the draw's best allowed option, and the best's index."""
    c = np.where(allowed[None, :], cost, np.inf)
    d = np.where(allowed[None, :], dur, np.inf)
    if strategy == "cost":
        obj = c
    elif strategy == "speed":
        obj = d
    else:
        obj = balanced_weight * c / c.min(axis=1, keepdims=True) + (1 - balanced_weight) * d / d.min(axis=1, keepdims=True)
    best = obj.min(axis=1)
    return obj[:, pick] / best - 1.0, obj.argmin(axis=1)


def tune(invoke: Callable[[float], Mapping[str, Any]], memory_options, *, strategy: str = "cost",
         arch: str = "x86_64", max_invocations: int | None = None, runtime: str | None = None,
         region: str = "us-east-1", invocations_per_month: float = 1e6, latency_slo_ms: float | None = None,
         cost_tolerance: float | None = None, balanced_weight: float = 0.5, regret_tolerance: float = 0.02,
         confidence: float = 0.9, batch: int = 2, min_warm: int = 2, max_warm_per_size: int = 8,
         progress: bool = False) -> TuningResult:
    """Find the memory size that best meets ``strategy`` among ``memory_options`` with few invocations.

    ``invoke(memory_mb)`` runs the function once at that size and returns a mapping with ``duration_ms`` and
    ``billed_duration_ms``, optionally ``init_duration_ms`` (a cold start), ``max_memory_used_mb`` and
    ``error`` (a message; ``status="timeout"`` or text mentioning a timeout / out of memory classify it).
    ``max_invocations`` caps the run (default: 10 per option, what Power Tuning's ``num=10`` would spend).
    """
    if strategy not in memory.STRATEGIES:
        raise ValueError(f"strategy must be one of {memory.STRATEGIES}, got {strategy!r}")
    billing.check_arch(arch)
    opts = _check_options(memory_options)
    budget = 10 * len(opts) if max_invocations is None else int(max_invocations)
    if budget < 1:
        raise ValueError(f"max_invocations must be at least 1, got {max_invocations!r}")
    if not 0 < confidence < 1 or not regret_tolerance >= 0:
        raise ValueError(f"confidence must be in (0, 1) and regret_tolerance >= 0; got {confidence!r}, {regret_tolerance!r}")
    if batch < 1 or min_warm < 1 or max_warm_per_size < min_warm:
        raise ValueError("batch and min_warm must be >= 1 and max_warm_per_size >= min_warm")
    book = _prices.load(region)
    from tqdm.auto import tqdm

    bar = tqdm(total=budget, desc="tuning", unit="inv", disable=not progress)
    rows: list[dict[str, Any]] = []
    infeasible: dict[float, str] = {}
    steps: list[dict[str, Any]] = []
    notes: list[str] = []
    step = 0

    def warm(m: float) -> int:
        return sum(1 for r in rows if r["memory_mb"] == m and r["kind"] == "ok")

    def failures(m: float) -> int:
        return sum(1 for r in rows if r["memory_mb"] == m and r["kind"] in ("error", "oom", "timeout"))

    def mark(m: float, kind: str, text: str | None) -> None:
        if kind in ("oom", "timeout"):
            why = "out of memory" if kind == "oom" else "timed out"
            for o in opts:
                if o <= m and o not in infeasible:
                    infeasible[o] = f"{why} at {m:g} MB" + (f" ({text})" if text else "")
        elif kind == "error" and failures(m) >= 2 and warm(m) == 0:
            infeasible[m] = f"failed twice at {m:g} MB: {text}"

    def measure(m: float, want: int) -> None:
        nonlocal step
        step += 1
        tries = 0
        while warm(m) < want and len(rows) < budget and m not in infeasible and tries < want + 2:
            tries += 1
            sample = _classify(invoke(m), m)
            sample["step"] = step
            rows.append(sample)
            bar.update(1)
            if sample["kind"] in ("oom", "timeout", "error"):
                mark(m, sample["kind"], sample["error"])

    def feasible() -> list[float]:
        return [o for o in opts if o not in infeasible]

    try:
        for m in anchors(opts):
            if len(rows) >= budget:
                break
            while m in infeasible and feasible():  # the smallest failed: try the next size up
                m = next((o for o in feasible() if o > m), feasible()[-1])
            if not feasible():
                break
            if warm(m) < min_warm:
                measure(m, min_warm)
        if not feasible():
            reasons = "; ".join(sorted(set(infeasible.values())))
            raise TuningError(f"every memory option failed ({reasons}): this is not a memory-size problem")
        if opts[-1] in infeasible and not any(r["kind"] == "ok" for r in rows):
            raise TuningError(f"the function fails at the largest size ({infeasible[opts[-1]]}): fix the function "
                              "before tuning its memory")
        model = rec = None
        conf, pick, last_pick = 0.0, None, None
        converged = False
        while True:
            ok = pd.DataFrame([r for r in rows if r["kind"] == "ok"])
            if ok.empty:
                raise TuningError("no warm, successful invocation at any size: " +
                                  "; ".join(sorted({str(r['error']) for r in rows if r['error']})))
            model = memory.fit(ok["memory_mb"], ok["duration_ms"], arch=arch, runtime=runtime,
                               max_memory_used_mb=ok["max_memory_used_mb"].fillna(0.0))
            cand = np.array(feasible())
            rec = memory.recommend(model, strategy=strategy, arch=arch, region=region, sizes=cand,
                                   invocations_per_month=invocations_per_month, latency_slo_ms=latency_slo_ms,
                                   cost_tolerance=cost_tolerance, balanced_weight=balanced_weight, book=book,
                                   headroom=0.0)
            pick = rec.memory_mb
            j = int(np.flatnonzero(cand == pick)[0])
            draws = model.samples(cand)
            costs = memory.monthly_cost(draws, cand[None, :], invocations_per_month=invocations_per_month,
                                        arch=arch, cv=model.cv, book=book)
            allowed = (rec.curve.set_index("memory_mb").loc[cand, "meets_slo"].to_numpy(bool).copy()
                       if latency_slo_ms is not None else np.ones(cand.size, bool))
            allowed[j] = True
            regret, best = _regret(strategy, costs, draws, j, allowed, balanced_weight)
            conf = float(np.mean(regret <= regret_tolerance + (cost_tolerance or 0.0)))
            steps.append({"step": step, "invocations": len(rows), "pick_mb": pick, "confidence": conf,
                          "sizes_measured": sorted(set(ok["memory_mb"]))})
            # the pick's neighbouring options must have been measured too: a measured local optimum, so a
            # bend the model does not know (throttling at the smallest sizes, say) cannot hide next to it
            unmeasured = [float(o) for o in cand[max(j - 1, 0):j + 2] if warm(float(o)) == 0]
            if conf >= confidence and warm(pick) >= min_warm and pick == last_pick and not unmeasured:
                converged = True
                break
            last_pick = pick
            if len(rows) >= budget:
                notes.append(f"stopped at the invocation budget ({budget}) before the choice was stable")
                break
            if warm(pick) < min_warm:
                nxt = pick
            elif conf >= confidence and unmeasured:
                nxt = unmeasured[0]
            else:
                p_best = np.bincount(best, minlength=cand.size) / best.size
                p_best[j] = -1.0
                room = np.array([warm(o) < max_warm_per_size for o in cand])
                if not room.any():
                    notes.append("every size has its maximum of warm invocations")
                    break
                p_best[~room] = -2.0
                nxt = float(cand[int(np.argmax(p_best))])
                if not room[j] and p_best.max() <= 0:
                    break
            measure(nxt, warm(nxt) + (1 if warm(nxt) == 0 else batch))
        samples = pd.DataFrame(rows).reindex(columns=SAMPLE_COLUMNS)
        return TuningResult(memory_mb=float(pick), invocations=len(rows), samples=samples, model=model,
                            recommendation=rec, strategy=strategy, arch=arch, region=region, options=opts,
                            converged=converged, confidence=conf, infeasible=dict(sorted(infeasible.items())),
                            steps=steps, notes=notes)
    finally:
        bar.close()


# --------------------------------------------------------------------------------------------------------
# an offline stand-in for a Lambda function


def simulated_function(mean_ms, *, cv=0.1, p99_ms=None, init_ms: float = 150.0, oom_below_mb: float | None = None,
                       timeout_ms: float | None = None, error_rate: float = 0.0, seed: int = 0,
                       used_mb: float | None = None) -> Callable[[float], dict[str, Any]]:
    """An ``invoke(memory_mb)`` drawing warm durations from log-normal distributions around ``mean_ms``.

    ``mean_ms`` maps sizes to mean warm durations (a mapping, or a callable of the size). The spread is
    ``cv`` (a number or mapping), or is solved from ``p99_ms`` (a mapping) so that mean and p99 both match.
    The first invocation at each size is a cold start (``init_ms``). Sizes below ``oom_below_mb`` run out of
    memory; durations above ``timeout_ms`` time out; ``error_rate`` fails invocations at random.
    """
    rng = np.random.default_rng(seed)
    seen: set[float] = set()

    def mean_at(m: float) -> float:
        if callable(mean_ms):
            return float(mean_ms(m))
        if m not in mean_ms:
            raise KeyError(f"the simulated function has no measurement at {m:g} MB (it has {sorted(mean_ms)})")
        return float(mean_ms[m])

    def sigma_at(m: float, mu: float) -> float:
        if p99_ms is not None and m in p99_ms and p99_ms[m] > mu:
            r = math.log(p99_ms[m] / mu)
            z = 2.3263478740408408
            return z - math.sqrt(max(z * z - 2 * r, 0.0)) if r < z * z / 2 else z
        c = cv.get(m, 0.1) if isinstance(cv, Mapping) else float(cv)
        return math.sqrt(math.log1p(c * c))

    def invoke(memory_mb: float) -> dict[str, Any]:
        m = float(memory_mb)
        mu = mean_at(m)
        s = sigma_at(m, mu)
        d = float(mu * math.exp(rng.normal(-s * s / 2, s)))
        out: dict[str, Any] = {"duration_ms": d, "source": "simulated"}
        if m not in seen:
            seen.add(m)
            out["init_duration_ms"] = float(init_ms * math.exp(rng.normal(0, 0.1)))
        used = used_mb if used_mb is not None else min(m, 64.0)
        out["max_memory_used_mb"] = float(min(used, m))
        if oom_below_mb is not None and m < oom_below_mb:
            out.update(error="Runtime.OutOfMemory: Runtime exited with error: signal: killed", max_memory_used_mb=m)
        elif timeout_ms is not None and d > timeout_ms:
            out.update(duration_ms=float(timeout_ms), status="timeout", error=f"Task timed out after {timeout_ms / 1000:.2f} seconds")
        elif error_rate and rng.random() < error_rate:
            out["error"] = "Handled: simulated failure"
        init = out.get("init_duration_ms", 0.0)
        out["billed_duration_ms"] = float(billing.billed_ms(out["duration_ms"], init))
        return out

    return invoke
