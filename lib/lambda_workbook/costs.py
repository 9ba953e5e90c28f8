"""What each function costs a month, from a snapshot, through the billing rules.

Numbers come from REPORT-line aggregates when they cover the window (billed milliseconds already include
billed INIT), otherwise from CloudWatch ``Invocations`` and ``Duration`` averages. Every row says which path
produced it. A month is 730 hours, the convention AWS prices use (e.g. idle provisioned concurrency at
$10.95 per GB-month = $0.0000041667 x 3,600 x 730).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import billing
from . import prices as _prices
from .analysis import per_snapshot
from .schema import KEY, Snapshot


def month_factor(snapshot: Snapshot) -> float:
    """Multiply a window total by this to get a monthly figure."""
    days = snapshot.window_days
    if days <= 0:
        raise ValueError(f"snapshot window must be positive, got start={snapshot.manifest['start']} "
                         f"end={snapshot.manifest['end']}")
    return billing.MONTH_HOURS / (days * 24.0)


def metric_totals(snapshot: Snapshot, metric: str, stat: str = "Sum") -> pd.Series:
    """A metric summed over the window per function (indexed by the function key)."""
    from . import engine

    return engine.metric_totals(snapshot, metric, stat)


@per_snapshot
def function_costs(snapshot: Snapshot, *, book: _prices.PriceBook | None = None,
                   pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """One row per function: traffic, durations and monthly USD (requests, compute incl. INIT, storage, PC).

    Each region is priced by ``pricing``'s book (default: :func:`lambda_workbook.prices.for_snapshot`; ``book``
    replaces the book of its own region)."""
    pricing = _prices.for_snapshot(snapshot, book=book, pricing=pricing)
    f = snapshot.functions.set_index(KEY)
    factor = month_factor(snapshot)
    reports = snapshot.reports.set_index(KEY)
    from . import engine

    inv_metric = metric_totals(snapshot, "Invocations").reindex(f.index).fillna(0.0)
    # hourly Duration averages weighted by the hour's invocations: one group-by over every function
    dur_mean = engine.weighted_duration_mean(snapshot).reindex(f.index)

    out = pd.DataFrame(index=f.index)
    for col in ("memory_mb", "arch", "runtime", "timeout_s", "ephemeral_storage_mb", "package_type",
                "provisioned_concurrency"):
        out[col] = f[col]
    full = reports["sampled_fraction"].reindex(f.index) >= 0.999
    rep_inv = reports["invocations"].reindex(f.index)
    use_reports = full & rep_inv.notna()
    out["invocations"] = np.where(use_reports, rep_inv, inv_metric)
    billed_from_metrics = inv_metric * np.ceil(dur_mean.fillna(0.0))
    out["billed_ms"] = np.where(use_reports, reports["billed_ms_sum"].reindex(f.index), billed_from_metrics)
    out["cold_starts"] = reports["cold_starts"].reindex(f.index)
    out["duration_mean_ms"] = reports["duration_mean_ms"].reindex(f.index).fillna(dur_mean)
    out["duration_p99_ms"] = reports["duration_p99_ms"].reindex(f.index)
    out["max_memory_used_p99_mb"] = reports["max_memory_used_p99_mb"].reindex(f.index)
    out["path"] = np.where(use_reports, "reports:" + reports["path"].reindex(f.index).fillna(""), "metrics")
    out["invocations_per_month"] = out["invocations"] * factor

    regions = out.index.get_level_values("region")
    parts = []
    for region in pd.unique(regions):
        rbook = pricing.book(region)
        sel = out[regions == region]
        on_demand = billing.cost_from_totals(
            sel["invocations"] * factor, sel["billed_ms"] * factor, sel["memory_mb"], sel["arch"].to_numpy(),
            ephemeral_mb=sel["ephemeral_storage_mb"], book=rbook)
        part = pd.DataFrame(index=sel.index)
        # the request fees alone: the same billing rule with no billed time
        part["request_usd"] = billing.cost_from_totals(sel["invocations"] * factor, 0.0, sel["memory_mb"],
                                                       sel["arch"].to_numpy(), book=rbook)
        part["compute_usd"] = on_demand - part["request_usd"]
        part["pc_usd"] = 0.0
        for key, row in sel[sel["provisioned_concurrency"] > 0].iterrows():
            per_inv_ms = row["billed_ms"] / max(row["invocations"], 1.0)
            p = billing.provisioned_cost(row["provisioned_concurrency"], row["memory_mb"], billing.MONTH_HOURS,
                                         arch=row["arch"], invocations=row["invocations"] * factor,
                                         duration_ms=per_inv_ms, book=rbook)
            part.loc[key, "compute_usd"] = p["served_usd"] - part.loc[key, "request_usd"]
            part.loc[key, "pc_usd"] = p["allocation_usd"]
        parts.append(part)
    money = pd.concat(parts).reindex(out.index)
    out = out.join(money)
    out["monthly_usd"] = out["request_usd"] + out["compute_usd"] + out["pc_usd"]
    out["cold_start_share"] = out["cold_starts"] / out["invocations"].where(out["invocations"] > 0)
    return out.reset_index().sort_values("monthly_usd", ascending=False, ignore_index=True)


def by_memory_and_arch(costs: pd.DataFrame) -> pd.DataFrame:
    """Monthly cost and function count per configured memory size and architecture."""
    g = costs.groupby(["memory_mb", "arch"], as_index=False).agg(
        functions=("function_name", "count"), monthly_usd=("monthly_usd", "sum"),
        invocations_per_month=("invocations_per_month", "sum"))
    return g.sort_values(["memory_mb", "arch"], ignore_index=True)


def summary(snapshot: Snapshot, costs: pd.DataFrame) -> pd.DataFrame:
    """A few headline figures for the account(s) in the snapshot."""
    rows = [
        ("Source", snapshot.manifest.get("source", "")),
        ("Window", f"{pd.Timestamp(snapshot.manifest['start']):%Y-%m-%d} to {pd.Timestamp(snapshot.manifest['end']):%Y-%m-%d}"
                   f" ({snapshot.window_days:g} days)"),
        ("Accounts", ", ".join(snapshot.accounts)),
        ("Regions", ", ".join(snapshot.regions)),
        ("Functions", f"{len(costs)}"),
        ("Invocations per month", f"{costs['invocations_per_month'].sum():,.0f}"),
        ("Lambda cost per month (USD, list prices, no free tier)", f"{costs['monthly_usd'].sum():,.2f}"),
        ("of which provisioned concurrency (USD)", f"{costs['pc_usd'].sum():,.2f}"),
    ]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


INVENTORY_COLUMNS = ["account_id", "region", "function_name", "runtime", "arch", "memory_mb", "timeout_s",
                     "package_type", "code_size_bytes", "layer_count", "vpc_id", "log_format", "state"]


def inventory(snapshot: Snapshot) -> pd.DataFrame:
    """The configuration columns a reviewer scans first (environment variables by name count only)."""
    f = snapshot.functions
    out = f[INVENTORY_COLUMNS].copy()
    out["code_size_mb"] = (out.pop("code_size_bytes") / 2**20).round(1)
    out["env_vars"] = f["env_var_names"].map(lambda s: len([x for x in str(s).split(";") if x]))
    kinds = snapshot.triggers.groupby(KEY)["source_type"].agg(lambda s: ", ".join(sorted(s)))
    out["triggers"] = out.join(kinds, on=KEY)["source_type"].fillna("")
    return out.sort_values(KEY, ignore_index=True)


VIEW_COLUMNS = {"function_name": "function", "account_id": "account", "arch": "arch", "memory_mb": "memory (MB)",
                "invocations_per_month": "invocations/month", "duration_mean_ms": "mean duration (ms)",
                "duration_p99_ms": "p99 duration (ms)", "cold_start_share": "cold starts (%)",
                "request_usd": "requests ($/mo)", "compute_usd": "compute ($/mo)", "pc_usd": "PC ($/mo)",
                "monthly_usd": "total ($/mo)", "path": "evidence"}


def view(costs: pd.DataFrame) -> pd.DataFrame:
    """The cost table with readable headers and rounding, for display."""
    out = costs[list(VIEW_COLUMNS)].rename(columns=VIEW_COLUMNS)
    out["cold starts (%)"] = (out["cold starts (%)"] * 100).round(2)
    out["invocations/month"] = out["invocations/month"].round(0).astype("int64")
    for col in ("mean duration (ms)", "p99 duration (ms)"):
        out[col] = out[col].round(1)
    for col in ("requests ($/mo)", "compute ($/mo)", "PC ($/mo)", "total ($/mo)"):
        out[col] = out[col].round(2)
    return out


def results(snapshot: Snapshot, costs: pd.DataFrame, top: int = 10) -> dict:
    """The account review's results as plain JSON-able data (for batch runs)."""
    return {
        "notebook": "account_review",
        "source": snapshot.manifest.get("source"),
        "window": {"start": str(snapshot.manifest["start"]), "end": str(snapshot.manifest["end"])},
        "accounts": snapshot.accounts,
        "regions": snapshot.regions,
        "functions": int(len(costs)),
        "monthly_usd": round(float(costs["monthly_usd"].sum()), 4),
        "top_functions": [
            {"account_id": r.account_id, "region": r.region, "function_name": r.function_name,
             "monthly_usd": round(float(r.monthly_usd), 4)}
            for r in costs.nlargest(top, "monthly_usd").itertuples()
        ],
    }
