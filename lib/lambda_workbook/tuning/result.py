"""What a tuning run measured and chose (:class:`TuningResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import billing, memory
from .. import prices as _prices
from .samples import FAILED
from .stopping import robust_mean


@dataclass
class TuningResult:
    """What the tuner measured and chose. ``memory_mb``, ``invocations``, ``samples``, ``model`` are the contract.

    ``confidence`` is the tuner's claim, from the measurements, that ``memory_mb`` is within the regret
    tolerance of the best size; ``converged`` says it reached the confidence asked for (and measured or ruled
    out every size) before the budget ran out. ``model`` is the memory model fitted to the warm invocations
    (``None`` if it could not be fitted); ``recommendation`` is that model's own pick among the feasible
    sizes, for comparison — the tuner's choice is ``memory_mb``. ``book`` is the price book the run was priced
    with (None: the bundled book of ``region``).
    """

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
    ruled_out: dict[float, str] = field(default_factory=dict)
    book: _prices.PriceBook | None = field(default=None, repr=False)

    def price_book(self) -> _prices.PriceBook:
        """The book this run is priced with (:func:`lambda_workbook.prices.resolve`)."""
        return _prices.resolve(self.region, book=self.book)

    def stats(self) -> pd.DataFrame:
        """Per size: invocations by kind, mean warm duration, and measured USD per invocation (request fee in).

        ``cost_usd`` prices the mean billed duration (what Power Tuning charts); ``robust_cost_usd`` the
        winsorised mean the tuner compares.
        """
        s = self.samples
        book = self.price_book()
        rows = []
        for m in self.options:
            part = s[s["memory_mb"] == m]
            ok = part[part["kind"] == "ok"]
            row = {"memory_mb": m, "invocations": len(part), "warm": len(ok), "cold": int((part["kind"] == "cold").sum()),
                   "failed": int(part["kind"].isin(FAILED).sum()),
                   "infeasible": self.infeasible.get(m, ""), "ruled_out": self.ruled_out.get(m, ""),
                   "mean_ms": ok["duration_ms"].mean() if len(ok) else np.nan,
                   "billed_mean_ms": ok["billed_duration_ms"].mean() if len(ok) else np.nan}
            row["cost_usd"] = (float(billing.cost_from_totals(1.0, row["billed_mean_ms"], m, self.arch, book=book))
                               if len(ok) else np.nan)
            row["robust_cost_usd"] = (float(billing.cost_from_totals(
                1.0, robust_mean(ok["billed_duration_ms"]), m, self.arch, book=book)) if len(ok) else np.nan)
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
        book = self.price_book()
        return float(billing.cost_from_totals(np.ones(len(s)), s["billed_duration_ms"], s["memory_mb"], self.arch,
                                              book=book).sum())

    def visualization_url(self) -> str:
        """Power Tuning's chart of the measured sizes (mean warm duration, USD per invocation incl. request fee)."""
        from .. import interop

        st = self.stats().dropna(subset=["mean_ms"])
        if st.empty:
            raise ValueError("no size has a warm, successful invocation to chart")
        return interop.power_tuning_url(st["memory_mb"], st["mean_ms"], st["cost_usd"], region=self.region)

    def summary(self) -> dict[str, Any]:
        return {"memory_mb": self.memory_mb, "invocations": self.invocations, "strategy": self.strategy,
                "arch": self.arch, "converged": self.converged, "confidence": round(self.confidence, 4),
                "infeasible": {str(int(k)): v for k, v in self.infeasible.items()},
                "ruled_out": {str(int(k)): v for k, v in self.ruled_out.items()},
                "sizes_measured": sorted(int(m) for m in self.samples.loc[self.samples["kind"] == "ok", "memory_mb"].unique()),
                "tuning_cost_usd": self.tuning_cost_usd, "notes": list(self.notes)}
