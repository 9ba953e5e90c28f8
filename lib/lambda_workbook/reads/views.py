"""Options, findings and read calls for display, and the read notebook's results as JSON-able data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .network import DEFAULT_NETWORK, Network

VIEW_COLUMNS = {"rank": "rank", "usable": "usable", "monthly_cost": "$/month", "monthly_cost_low": "$/month low",
                "monthly_cost_high": "$/month high", "cost_per_read_usd": "$/read", "lambda_ms": "Lambda ms/read",
                "bytes_transferred_mb": "MB moved/read", "bytes_scanned_mb": "MB scanned/read",
                "memory_needed_mb": "memory needed (MB)", "why_not": "why not", "trade_off": "trade-off",
                "note": "note"}


UNKNOWN_WAIT = "unknown: the query or evaluation wait is not published and is left out, so $/month is a lower bound"


def view(ranked: pd.DataFrame) -> pd.DataFrame:
    """A ranked options table with readable headers and rounding, for display. An option whose waiting time is
    unknown (and so left out of its Lambda cost) says so in ``unknown (not included)``: its dollars are a lower
    bound."""
    out = ranked[[c for c in VIEW_COLUMNS if c in ranked.columns]].rename(columns=VIEW_COLUMNS)
    for col in ("$/month", "$/month low", "$/month high"):
        out[col] = out[col].round(4)
    if "latency_known" in ranked:
        out.insert(out.columns.get_loc("$/month high") + 1, "unknown (not included)",
                   np.where(ranked["latency_known"].astype(bool), "", UNKNOWN_WAIT))
    out["$/read"] = out["$/read"].map(lambda v: float(f"{v:.3g}"))
    for col in ("Lambda ms/read", "MB moved/read", "MB scanned/read", "memory needed (MB)"):
        out[col] = out[col].map(lambda v: float(f"{v:.4g}"))
    return out


FINDINGS_VIEW = {"severity": "severity", "function_name": "function", "title": "finding",
                 "monthly_impact_usd": "$/month saved", "monthly_impact_low_usd": "low", "monthly_impact_high_usd": "high",
                 "evidence": "evidence", "recommendation": "recommendation", "evidence_path": "source"}


def findings_view(found: pd.DataFrame) -> pd.DataFrame:
    """Findings with readable headers and rounded dollars, for display."""
    out = found[list(FINDINGS_VIEW)].rename(columns=FINDINGS_VIEW)
    for col in ("$/month saved", "low", "high"):
        out[col] = out[col].round(2)
    return out


CALLS_VIEW = {"function_name": "function", "service": "service", "operation": "operation", "resource": "resource",
              "calls_per_month": "calls/month", "response_kb": "KB/call", "used_fraction": "share used",
              "items_evaluated": "items evaluated/call", "items_returned": "items returned/call",
              "read_units_per_call": "read units/call", "monthly_read_usd": "$/month (requests, units)",
              "mb_per_month": "MB moved/month", "used_mb_per_month": "MB used/month", "evidence": "evidence"}


def calls_view(calls: pd.DataFrame) -> pd.DataFrame:
    """The account's read calls (:func:`read_calls`) with readable headers, biggest bill first."""
    if calls.empty:
        return pd.DataFrame(columns=list(CALLS_VIEW.values()))
    out = calls.sort_values("monthly_read_usd", ascending=False)[list(CALLS_VIEW)].rename(columns=CALLS_VIEW)
    out["calls/month"] = out["calls/month"].round(0)
    for col in ("$/month (requests, units)", "MB moved/month", "MB used/month"):
        out[col] = out[col].round(2)
    return out.reset_index(drop=True)


def _cell(v) -> str:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        return str(v)
    if pd.isna(v):
        return ""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def styled(df: pd.DataFrame):
    """A table for notebooks and reports: numbers to 4 significant digits (thousands separated), text wrapped
    in full instead of cut at 50 characters."""
    return (df.style.format(_cell).format_index(_cell)
            .set_properties(**{"white-space": "normal", "text-align": "left", "vertical-align": "top"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left"), ("vertical-align", "top")]}]))


# ---- results for batch runs -----------------------------------------------------------------------------------
def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    clean = df.reset_index().replace({np.nan: None})
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in clean.to_dict("records")]


def results(findings_df: pd.DataFrame, options: Mapping[str, pd.DataFrame], *, network: Network | None = None,
            **extra) -> dict[str, Any]:
    """The read notebook's results as JSON-able data: findings, ranked options per store, the network used."""
    net = network or DEFAULT_NETWORK
    return {
        "notebook": "read_what_you_need",
        **extra,
        "findings": _records(findings_df),
        "options": {name: _records(df) for name, df in options.items()},
        "recommended": {name: (df.index[df["recommended"]][0] if "recommended" in df and df["recommended"].any()
                               else None) for name, df in options.items()},
        "network": {k: v for k, v in net.describe().items() if k != "band"} | {"band": list(net.band)},
    }
