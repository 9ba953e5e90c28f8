"""The size that best meets a strategy, priced, with bands; x86_64 and arm64 side by side (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from .costing import candidate_sizes, monthly_cost
from .model import DEFAULT_HEADROOM, MAX_MB, MIN_MB, VCPU_MB, DurationModel

STRATEGIES = ("cost", "speed", "balanced")


@dataclass
class Recommendation:
    """A recommended memory size with its predicted duration, monthly cost and their bands."""

    memory_mb: float
    duration_ms: float
    monthly_cost: float
    strategy: str
    arch: str
    region: str
    invocations_per_month: float
    duration_interval: tuple[float, float]
    monthly_cost_interval: tuple[float, float]
    level: float
    floor_mb: float
    meets_slo: bool
    curve: pd.DataFrame
    current_memory_mb: float | None = None
    current_duration_ms: float | None = None
    current_monthly_cost: float | None = None
    monthly_savings: float | None = None
    savings_interval: tuple[float, float] | None = None
    latency_slo_ms: float | None = None
    cost_tolerance: float | None = None
    prices_as_of: str = ""
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def change(self) -> str:
        if self.current_memory_mb is None or self.memory_mb == self.current_memory_mb:
            return "keep"
        return "increase" if self.memory_mb > self.current_memory_mb else "decrease"

    def points(self) -> dict[str, dict[str, float] | None]:
        """Today's size and the recommended one as ``{memory_mb, duration_ms, monthly_cost}`` (for plots)."""
        cur = None if self.current_memory_mb is None else {
            "memory_mb": self.current_memory_mb, "duration_ms": self.current_duration_ms,
            "monthly_cost": self.current_monthly_cost}
        return {"current": cur, "recommended": {"memory_mb": self.memory_mb, "duration_ms": self.duration_ms,
                                                "monthly_cost": self.monthly_cost}}

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able figures."""
        out = {k: getattr(self, k) for k in ("memory_mb", "duration_ms", "monthly_cost", "strategy", "arch", "region",
                                             "invocations_per_month", "floor_mb", "meets_slo", "current_memory_mb",
                                             "current_duration_ms", "current_monthly_cost", "monthly_savings",
                                             "latency_slo_ms", "cost_tolerance", "prices_as_of")}
        out.update(duration_interval=list(self.duration_interval), monthly_cost_interval=list(self.monthly_cost_interval),
                   savings_interval=list(self.savings_interval) if self.savings_interval else None, change=self.change,
                   assumptions=list(self.assumptions), notes=list(self.notes))
        return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in out.items()}


def _choose(strategy: str, cost: np.ndarray, dur: np.ndarray, allowed: np.ndarray, *, cost_tolerance,
            balanced_weight: float) -> int:
    idx = np.flatnonzero(allowed)
    c, d = cost[idx], dur[idx]
    if strategy == "cost":
        limit = c.min() * (1 + (cost_tolerance or 0.0) + 1e-3)  # within 0.1% counts as a tie: faster wins
        near = np.flatnonzero(c <= limit)
        return int(idx[near[np.argmin(d[near])]])
    if strategy == "speed":
        near = np.flatnonzero(d <= d.min() * 1.01)  # durations within 1% count as equal: cheaper wins
        return int(idx[near[np.argmin(c[near])]])
    score = balanced_weight * c / c.min() + (1 - balanced_weight) * d / d.min()
    return int(idx[np.argmin(score)])


def recommend(model: DurationModel, *, strategy: str = "cost", invocations_per_month: float = 1e6,
              arch: str = "x86_64", region: str | None = None, latency_slo_ms: float | None = None,
              cost_tolerance: float | None = None, min_memory_mb: float = MIN_MB, max_memory_mb: float = MAX_MB,
              step_mb: float = 64, balanced_weight: float = 0.5, headroom: float = DEFAULT_HEADROOM,
              current_memory_mb: float | None = None, slo_confidence: float = 0.5, level: float = 0.9,
              sizes=None, init_ms: float = 0.0, cold_start_share: float = 0.0, provisioned_concurrency: float = 0.0,
              book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None,
              _pick_only: bool = False) -> Recommendation:
    """The memory size that best meets ``strategy`` for ``model`` on ``arch``, priced through billing.

    * ``"cost"``: the lowest expected monthly cost (request fee and per-invocation ms rounding included); with
      ``cost_tolerance`` (e.g. 0.05) the fastest size costing at most that much more than the cheapest.
    * ``"speed"``: the fastest size; sizes within 1% of the fastest count as equal and the cheapest wins.
    * ``"balanced"``: minimises ``w * cost / min_cost + (1 - w) * duration / min_duration`` with
      ``w = balanced_weight`` (1 = cost only, 0 = speed only, as in Power Tuning, but normalised by the minima
      so the answer does not depend on the largest size considered).

    ``latency_slo_ms`` keeps only sizes whose mean warm duration meets it with probability ``slo_confidence``
    under the model (0.5 = the prediction itself; 0.9 = the band's upper side). Sizes below the memory floor
    (Max Memory Used p99 + ``headroom``) are never chosen. ``sizes`` replaces the 64-MB grid (e.g. the sizes a
    tuner may pick). ``current_memory_mb`` (default: the only measured size, if one) gives savings and their
    band from the same posterior draws, so shared uncertainty cancels. Prices: ``book``, else ``pricing``'s book
    for ``region``, else the bundled book of ``region`` (us-east-1 when None; :func:`lambda_workbook.prices.resolve`).

    ``_pick_only`` (for :func:`lambda_workbook.memory.recommend_all`, whose rows quote the recommended size only)
    leaves the bands of the other sizes out of ``curve``; every other figure is the same.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    billing.check_arch(arch)
    if not 0 <= balanced_weight <= 1:
        raise ValueError(f"balanced_weight must be between 0 (speed) and 1 (cost), got {balanced_weight!r}")
    if cost_tolerance is not None and not (0 <= cost_tolerance < 10):
        raise ValueError(f"cost_tolerance must be a fraction >= 0 (0.05 = within 5% of the cheapest), got {cost_tolerance!r}")
    if latency_slo_ms is not None and not latency_slo_ms > 0:
        raise ValueError(f"latency_slo_ms must be a positive number of ms, got {latency_slo_ms!r}")
    if not 0 < slo_confidence < 1:
        raise ValueError(f"slo_confidence must be between 0 and 1, got {slo_confidence!r}")
    book = _prices.resolve(region, book=book, pricing=pricing)
    region = book.region
    mdl = model.for_arch(arch)
    if current_memory_mb is None and model.arch == arch and len(model.observations) == 1:
        current_memory_mb = float(model.observations["memory_mb"].iloc[0])
    extra = [] if current_memory_mb is None else [current_memory_mb]
    if sizes is None:
        grid = candidate_sizes(min_memory_mb, max_memory_mb, step_mb, extra=extra)
    else:
        grid = np.unique(np.concatenate([DurationModel.memory_sizes(sizes), extra]))
    dur = mdl.predict(grid)
    draws = mdl.samples(grid)
    cost_kw = dict(invocations_per_month=invocations_per_month, arch=arch, cv=mdl.cv, init_ms=init_ms,
                   cold_start_share=cold_start_share, provisioned_concurrency=provisioned_concurrency, book=book)
    cost = monthly_cost(dur, grid, **cost_kw)
    q = [(1 - level) / 2, (1 + level) / 2]
    floor = mdl.memory_floor(headroom)
    feasible = grid >= floor - 1e-9
    notes = []
    if not feasible.any():
        feasible = grid >= grid.max()
        notes.append(f"every size considered is below the memory floor ({floor:.0f} MB); the largest is used")
    slo_ok = np.ones(grid.size, dtype=bool)
    if latency_slo_ms is not None:
        slo_ok = (draws <= latency_slo_ms).mean(axis=0) >= slo_confidence
    allowed = feasible & slo_ok
    meets = bool(allowed.any())
    if not meets:
        allowed = feasible & (dur <= dur[feasible].min() * 1.01)
        notes.append(f"no size meets the {latency_slo_ms:g} ms SLO with {slo_confidence:.0%} confidence; "
                     "the fastest feasible size is recommended")
    i = _choose(strategy, cost, dur, allowed, cost_tolerance=cost_tolerance, balanced_weight=balanced_weight)
    # the bands: every size's for the curve, or the pick's alone (the same figures: each size is priced and
    # summed up on its own)
    cols = slice(i, i + 1) if _pick_only else slice(None)
    cost_draws = monthly_cost(draws[:, cols], grid[None, cols], **cost_kw)
    dlo, dhi = np.quantile(draws[:, cols], q, axis=0)
    clo, chi = np.quantile(cost_draws, q, axis=0)
    bands = {"duration_low_ms": np.minimum(dlo, dur[cols]), "duration_high_ms": np.maximum(dhi, dur[cols]),
             "monthly_cost_low": np.minimum(clo, cost[cols]), "monthly_cost_high": np.maximum(chi, cost[cols])}
    at = 0 if _pick_only else i
    table = pd.DataFrame({"memory_mb": grid, "duration_ms": dur, "monthly_cost": cost, "feasible": feasible,
                          "meets_slo": slo_ok, "recommended": np.arange(grid.size) == i,
                          **({} if _pick_only else bands)})
    if not _pick_only:
        table = table[["memory_mb", "duration_ms", "duration_low_ms", "duration_high_ms", "monthly_cost",
                       "monthly_cost_low", "monthly_cost_high", "feasible", "meets_slo", "recommended"]]
    rec = Recommendation(
        memory_mb=float(grid[i]), duration_ms=float(dur[i]), monthly_cost=float(cost[i]), strategy=strategy,
        arch=arch, region=region, invocations_per_month=float(invocations_per_month),
        duration_interval=(float(bands["duration_low_ms"][at]), float(bands["duration_high_ms"][at])),
        monthly_cost_interval=(float(bands["monthly_cost_low"][at]), float(bands["monthly_cost_high"][at])),
        level=level, floor_mb=floor, meets_slo=meets, curve=table, latency_slo_ms=latency_slo_ms,
        cost_tolerance=cost_tolerance, prices_as_of=book.as_of, assumptions=list(mdl.assumptions), notes=notes)
    if current_memory_mb is not None:
        # today's configuration runs on the model's own architecture
        cur = np.array([float(current_memory_mb)])
        cur_kw = {**cost_kw, "arch": model.arch, "cv": model.cv}
        cur_ms = model.predict(cur)
        cur_draws = model.samples(cur)
        cur_cost = float(monthly_cost(cur_ms, cur, **cur_kw)[0])
        saving_draws = monthly_cost(cur_draws, cur[None, :], **cur_kw)[:, 0] - cost_draws[:, at]
        rec.current_memory_mb = float(cur[0])
        rec.current_duration_ms = float(cur_ms[0])
        rec.current_monthly_cost = cur_cost
        rec.monthly_savings = cur_cost - rec.monthly_cost
        lo, hi = np.quantile(saving_draws, q)
        rec.savings_interval = (float(min(lo, rec.monthly_savings)), float(max(hi, rec.monthly_savings)))
        rec.draws.update(current_duration_ms=cur_draws[:, 0], savings=saving_draws)
    rec.draws.update(duration_ms=draws[:, i], monthly_cost=cost_draws[:, at])
    rec.assumptions.append(f"prices {region} as of {book.as_of}, first volume tier, no free tier; "
                           f"{invocations_per_month:,.0f} invocations a month")
    return rec


def _arm_ratio(model: DurationModel) -> float:
    from . import priors

    return (model.prior or priors.load()).arm_ratio


def compare_architectures(model: DurationModel, *, current_memory_mb: float | None = None,
                          other: DurationModel | None = None, **recommend_kwargs) -> pd.DataFrame:
    """x86_64 and arm64 side by side: the recommendation on each, with the speed ratio's source.

    ``other`` is a model fitted to measurements on the other architecture, when there are some; otherwise the
    other architecture is derived from ``model`` with the documented speed prior (``for_arch``). The price
    difference always comes from the price book.
    """
    models = {model.arch: model}
    if other is not None:
        if other.arch == model.arch:
            raise ValueError(f"other must be fitted on the other architecture, both are {model.arch!r}")
        models[other.arch] = other
    rows = []
    probe = np.array([512.0, 1024.0, VCPU_MB])
    base = models.get("x86_64", model).for_arch("x86_64")
    for arch in billing.ARCHITECTURES:
        mdl = models.get(arch, model)
        rec = recommend(mdl, arch=arch, current_memory_mb=current_memory_mb if arch == model.arch else None,
                        **recommend_kwargs)
        ratio = float(np.median(mdl.for_arch(arch).predict(probe) / base.predict(probe)))
        measured = arch in models
        rows.append({"arch": arch, "memory_mb": rec.memory_mb, "duration_ms": rec.duration_ms,
                     "duration_low_ms": rec.duration_interval[0], "duration_high_ms": rec.duration_interval[1],
                     "monthly_cost": rec.monthly_cost, "monthly_cost_low": rec.monthly_cost_interval[0],
                     "monthly_cost_high": rec.monthly_cost_interval[1],
                     "speed_vs_x86_64": ratio, "speed_source": "measured" if measured else
                     f"prior: median arm64/x86_64 duration ratio {_arm_ratio(model):.2f} of the measurement sets"
                     if arch == "arm64" else
                     f"prior: inverse of the measurement sets' arm64/x86_64 duration ratio {_arm_ratio(model):.2f}",
                     "current": arch == model.arch})
    return pd.DataFrame(rows)
