"""One function in depth: its per-minute traffic and modelled cold starts, the hourly profile against observed
concurrency, and its provisioned-concurrency / SnapStart options priced for a month."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import prices as _prices
from ..keepalive import DEFAULT_SCENARIO, SCENARIOS, KeepAlive, keep_alive
from ..renamed import renamed
from .pool import cold_start_profile
from .provisioned import Schedule, busy_schedule, pc_options
from .series import ByFunction, invocation_series, observed_concurrency
from .snapshot import analyse, modelled_count


@dataclass
class FunctionColdStarts:
    """Everything the notebook shows about one function's cold starts (see :func:`for_function`)."""

    row: pd.Series
    series: pd.Series
    profile: pd.DataFrame
    hourly: pd.DataFrame
    options: pd.DataFrame
    scenarios: pd.Series
    schedule: Schedule | None
    model: str
    keep_alive: KeepAlive = field(default_factory=lambda: SCENARIOS[DEFAULT_SCENARIO])


@renamed(function_name="name")
def for_function(snapshot, function_name: str, *, table: pd.DataFrame | None = None, account_id: str | None = None,
                 region: str | None = None, keep_alive_min=None, schedule: Schedule | str | None = "auto",
                 book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None,
                 _index: ByFunction | None = None) -> FunctionColdStarts:
    """One function: its per-minute traffic and modelled cold starts, the hourly profile against observed
    concurrency, and the provisioned-concurrency / SnapStart options priced for a month.

    ``table``: a previous :func:`analyse` result (its row and routing model are reused; otherwise the whole
    snapshot is analysed to calibrate the model). ``schedule``: ``"auto"`` (the busy hours of the traffic),
    a :class:`Schedule` or spec string, or None. Prices: ``pricing``'s book of the function's region (default:
    :func:`lambda_workbook.prices.for_snapshot`; ``book`` replaces the book of its region).
    """
    fn = snapshot.function(function_name, account_id=account_id, region=region)
    pricing = _prices.for_snapshot(snapshot, book=book, pricing=pricing)
    table = analyse(snapshot, keep_alive_min=keep_alive_min, pricing=pricing) if table is None else table
    match = table[(table["function_name"] == function_name) & (table["account_id"] == fn["account_id"])
                  & (table["region"] == fn["region"])]
    if match.empty:
        raise KeyError(f"function {function_name!r} is not in the analysis table")
    row = match.iloc[0]
    model = str(row.get("model", table.attrs.get("model", "poisson")))
    ka = keep_alive(keep_alive_min)
    index = _index or ByFunction(snapshot)
    series = invocation_series(snapshot, function_name, account_id=fn["account_id"], region=fn["region"], _index=index)
    reserved = None if pd.isna(row["reserved"]) else row["reserved"]
    d = row["duration_mean_ms"]
    active = series.sum() > 0 and d == d
    profile = cold_start_profile(series, d if active else 1.0, keep_alive_min=ka, model=model,
                                 provisioned=row["provisioned"], max_concurrency=reserved)
    hourly = profile[["invocations", "cold_starts"]].resample("h").sum()
    hourly["concurrency_mean"] = profile["concurrency"].resample("h").mean()
    hourly["provisioned"] = profile["provisioned"].resample("h").mean()
    observed = observed_concurrency(snapshot, function_name, account_id=fn["account_id"], region=fn["region"], _index=index)
    hourly["concurrency_max_observed"] = observed.reindex(hourly.index).fillna(0.0) if len(observed) else np.nan
    sched = None
    if schedule == "auto" and active:
        sched = busy_schedule(series)
    elif isinstance(schedule, (Schedule, str)) and schedule != "auto":
        sched = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    options = pd.DataFrame()
    if active:
        peak = int(np.nanmax([row["concurrency_peak"], 1.0])) if row["concurrency_peak"] == row["concurrency_peak"] \
            else int(max(1, math.ceil(hourly["concurrency_mean"].max())))
        counts = {0, peak, int(row["provisioned"])}
        options = pc_options(series, d, row["memory_mb"], arch=row["arch"], init_ms=row["init_mean_ms"],
                             counts=sorted(counts), schedule=sched, keep_alive_min=ka, model=model,
                             max_concurrency=reserved, runtime=row["runtime"], package_type=row["package_type"],
                             ephemeral_mb=row["ephemeral_storage_mb"], billing_date=table.attrs.get("billing_date"),
                             latency=(row["duration_p50_ms"], row["duration_p99_ms"], row["init_p50_ms"],
                                      row["init_p99_ms"]), region=row["region"], pricing=pricing)
        options["current"] = options["provisioned"].eq(int(row["provisioned"])) & options["schedule"].eq("") & \
            ~options["option"].eq("SnapStart")
    scen = pd.Series({n: modelled_count(series, d, n, model, row["provisioned"], reserved) for n in SCENARIOS},
                     name="cold_starts")
    return FunctionColdStarts(row, series, profile, hourly, options, scen, sched, model, ka)
