"""What the rules share: the review date, the runtime table, per-function tables computed once, and the helpers
that write a finding row through the findings contract."""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import lru_cache
from typing import Any

import pandas as pd

from .. import billing, costs, datafiles, engine
from .. import findings as contract
from .. import prices as _prices
from ..checklist import CHECKS
from ..schema import KEY, Snapshot


@lru_cache(maxsize=1)
def runtime_table() -> dict[str, Any]:
    """``data/runtimes/lambda-runtimes.json``: deprecation dates of Lambda runtimes, with their sources."""
    path = datafiles.data_dir() / "runtimes" / "lambda-runtimes.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["path"] = str(path)
    return doc


def resolve_as_of(snapshot: Snapshot, as_of: Any = "auto") -> tuple[dt.date, str]:
    """The date runtime support is judged against: ``"auto"`` is today for a live scan (a snapshot not read
    from disk) and the snapshot's end otherwise; ``"end"``, ``"today"`` or a date force it."""
    end = pd.Timestamp(snapshot.manifest["end"]).date()
    if as_of in (None, "auto"):
        live = snapshot.manifest.get("source") == "aws" and snapshot.path is None
        as_of = "today" if live else "end"
    if as_of == "end":
        return end, "the snapshot's end"
    if as_of == "today":
        return dt.datetime.now(dt.UTC).date(), "today (live scan)"
    try:
        return pd.Timestamp(as_of).date(), "given"
    except (ValueError, TypeError):
        raise ValueError(f"as_of must be 'auto', 'end', 'today' or a date, got {as_of!r}") from None


class Context:
    """Tables the rules share, computed once: per-function costs, daily counts, calls, triggers, CPU share, and
    the pricing context (:meth:`book`; default :func:`lambda_workbook.prices.for_snapshot`)."""

    def __init__(self, snapshot: Snapshot, as_of: tuple[dt.date, str], *, pricing: _prices.Pricing | None = None):
        self.snap = snapshot
        self.as_of, self.as_of_basis = as_of
        self.pricing = _prices.for_snapshot(snapshot, pricing=pricing)
        self.factor = costs.month_factor(snapshot)
        self.end = pd.Timestamp(snapshot.manifest["end"])
        self.costs = costs.function_costs(snapshot, pricing=self.pricing).set_index(KEY)
        self.functions = snapshot.functions.set_index(KEY)
        # per function and day, per function and statistic: group-bys over every function (engine), not masks
        counts = engine.daily_counts(snapshot)
        self.daily = counts.pivot_table(index=KEY + ["day"], columns="metric", values="value", aggfunc="sum",
                                        fill_value=0.0)
        for col in ("Invocations", "Errors", "Throttles", "Timeouts"):
            if col not in self.daily.columns:
                self.daily[col] = 0.0
        self.stats = engine.metric_stats(snapshot)
        self.has_timeouts = set(map(tuple, self.stats.loc[self.stats["metric"] == "Timeouts", KEY]
                                    .drop_duplicates().to_numpy()))
        self._calls = {k: g for k, g in snapshot.calls.groupby(KEY)}
        self._triggers = {k: g for k, g in snapshot.triggers[snapshot.triggers["enabled"]].groupby(KEY)}
        ins = snapshot.insights.dropna(subset=["cpu_fraction"])
        self._cpu = {tuple(r[k] for k in KEY): (float(r["cpu_fraction"]), str(r["evidence"])) for _, r in ins.iterrows()}
        rep = snapshot.reports
        self._reports = dict(zip(map(tuple, rep[KEY].to_numpy()), rep["timeouts"], strict=True))

    def book(self, key: tuple) -> _prices.PriceBook:
        """The price book of a function's region (``key``: account, region, function)."""
        return self.pricing.book(key[1])

    def function_keys(self) -> list[tuple]:
        """Every function of the snapshot (each has a row in :attr:`costs` too)."""
        return list(self.functions.index)

    def calls(self, key: tuple) -> pd.DataFrame:
        return self._calls.get(key, self.snap.calls.iloc[0:0])

    def triggers(self, key: tuple) -> pd.DataFrame:
        return self._triggers.get(key, self.snap.triggers.iloc[0:0])

    def cpu(self, key: tuple) -> tuple[float, str]:
        return self._cpu.get(key, (math.nan, ""))

    def timeouts(self, key: tuple) -> float:
        """Timed-out invocations in the window: the daily Timeouts metric, else the REPORT-line count."""
        if key in self.has_timeouts:
            return float(self.daily.loc[key, "Timeouts"].sum())
        rep = self._reports.get(key)
        return float(rep) if rep is not None and rep == rep else 0.0

    def sync(self, key: tuple) -> bool:
        t = self.triggers(key)
        return bool(len(t)) and bool(t["sync"].any())

    def invocation_usd(self, key: tuple, duration_ms: float, n: float = 1.0) -> float:
        """USD of ``n`` invocations of ``duration_ms`` at the function's memory and architecture."""
        f = self.functions.loc[key]
        mem = min(max(float(f["memory_mb"]), billing.MEMORY_RANGE_MB[0]), billing.MEMORY_RANGE_MB[1])
        return billing.lambda_cost(n, max(duration_ms, 0.0), mem, arch=f["arch"], book=self.book(key))

    @property
    def metrics(self) -> pd.DataFrame:
        """The snapshot's raw metrics (the rules use the engine's aggregates instead)."""
        return self.snap.metrics

    def metric(self, key: tuple, metric: str, stat: str) -> pd.DataFrame:
        """One function's datapoints of a metric (a filter per call: for a few functions, not for all)."""
        rows = engine.metric_rows(self.snap, metric, stat)
        mask = (rows["account_id"] == key[0]) & (rows["region"] == key[1]) & (rows["function_name"] == key[2])
        return rows[mask]

    def peak(self, metric: str, stat: str) -> pd.DataFrame:
        """Per function (indexed by key): the datapoint with the largest value, earliest on ties."""
        return engine.peak_rows(self.snap, metric, stat).set_index(KEY)

    def largest(self, metric: str, stat: str) -> pd.Series:
        """Per function (indexed by key): the largest datapoint of a metric and statistic."""
        return engine.metric_totals(self.snap, metric, stat, column="peak")


def finding_row(fid: str, key: tuple, severity: str, title: str, evidence: str, path: str, recommendation: str,
         impact: float = math.nan, low: float = math.nan, high: float = math.nan, meaning: str = "") -> dict[str, Any]:
    band = contract.Band(impact, low, high, meaning) if impact == impact else None
    return contract.Finding(fid, key, severity, title, evidence, recommendation, CHECKS[fid].section,
                            tuple(path.split("; ")), band=band).row()


def dollars(x: float) -> str:
    return f"${x:,.2f}"


def calls_text(calls: pd.DataFrame, n: int = 3) -> str:
    c = calls.assign(total=calls["calls_per_invocation"].fillna(0) * calls["mean_ms"].fillna(0))
    c = c.sort_values("total", ascending=False).head(n)
    return "; ".join(f"{r.service} {r.operation} {r.resource} ({r.calls_per_invocation:g}× {r.mean_ms:,.0f} ms)"
                     for r in c.itertuples())


def calls_path(calls: pd.DataFrame) -> str:
    return "calls:" + "+".join(sorted(set(calls["evidence"].astype(str)))) if len(calls) else ""
