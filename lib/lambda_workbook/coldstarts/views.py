"""What the cold-starts notebook shows: readable tables, its ``pc_schedule`` parameter, the function to look at
first, the headline summary and the results as plain JSON-able data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from .provisioned import Schedule, pc_breakeven_utilization

VIEW = {"function_name": "function", "account_id": "account", "runtime": "runtime", "invocations": "invocations",
        "observed_cold_starts": "observed cold", "modelled_cold_starts": "modelled cold", "cold_share": "cold %",
        "init_p50_ms": "INIT p50 (ms)", "init_source": "INIT from", "p99_warm_ms": "p99 warm (ms)",
        "p99_ms": "p99 with cold (ms)", "init_share_of_time": "INIT % of time", "init_usd_month": "INIT $/mo",
        "provisioned": "PC", "concurrency_peak": "peak conc."}


def view(table: pd.DataFrame) -> pd.DataFrame:
    """The analysis table with readable headers and rounding, for display."""
    out = table[list(VIEW)].rename(columns=VIEW).copy()
    out["cold %"] = (out["cold %"] * 100).round(3)
    out["INIT % of time"] = (out["INIT % of time"] * 100).round(2)
    out["INIT from"] = out["INIT from"].str.split(" ").str[0]
    for col in ("observed cold", "modelled cold", "INIT p50 (ms)", "p99 warm (ms)", "p99 with cold (ms)"):
        out[col] = out[col].round(0)
    out["INIT $/mo"] = out["INIT $/mo"].round(2)
    return out.sort_values("cold %", ascending=False, ignore_index=True)


OPTION_VIEW = {"option": "option", "cold_starts_month": "cold starts/mo", "cold_share": "cold %",
               "served_by_pc": "served by PC %", "pc_utilisation": "PC utilisation %", "pc_allocation_usd": "PC alloc $",
               "pc_served_usd": "PC duration $", "on_demand_usd": "on-demand $", "init_usd": "of which INIT $",
               "snapstart_usd": "SnapStart $", "total_usd": "total $/mo", "p99_ms": "p99 (ms)"}


def options_view(options: pd.DataFrame) -> pd.DataFrame:
    """The options table with readable headers and rounding, for display."""
    cols = [c for c in OPTION_VIEW if c in options]
    out = options[cols].rename(columns=OPTION_VIEW).copy()
    for col in ("cold %", "served by PC %", "PC utilisation %"):
        if col in out:
            out[col] = (out[col] * 100).round(2)
    for col in ("PC alloc $", "PC duration $", "on-demand $", "of which INIT $", "SnapStart $", "total $/mo"):
        out[col] = out[col].round(2)
    out["cold starts/mo"] = out["cold starts/mo"].round(0)
    if "p99 (ms)" in out:
        out["p99 (ms)"] = out["p99 (ms)"].round(0)
    return out.set_index("option")


def schedule_parameter(spec: str) -> Schedule | str | None:
    """The notebook's ``pc_schedule``: ``"auto"`` (busy hours of the traffic), ``""`` (none) or a spec."""
    text = str(spec).strip()
    if text.lower() in ("", "none"):
        return None
    if text.lower() == "auto":
        return "auto"
    try:
        return Schedule.parse(text)
    except ValueError as exc:
        raise ValueError(f"cold_starts parameter 'pc_schedule' must be 'auto', '' or like 'mon-fri 08-18 UTC': {exc}") \
            from None


def focus_function(table: pd.DataFrame, found: pd.DataFrame) -> str:
    """The function a reader should look at first: the top cold-start finding's, else the most cold starts."""
    if len(found):
        return str(found["function_name"].iloc[0])
    if table.empty:
        raise ValueError("the snapshot has no functions")
    return str(table.sort_values("cold_starts", ascending=False)["function_name"].iloc[0])


def summary(snapshot, table: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Headline figures of the analysis."""
    cal = table.attrs.get("calibration", {})
    err = cal.get("median_abs_log_error", {})
    observed = table["observed_cold_starts"].sum()
    inv = table["invocations"].sum()
    pc = table[table["provisioned"] > 0]
    rows = [
        ("Window", f"{pd.Timestamp(snapshot.manifest['start']):%Y-%m-%d} to {pd.Timestamp(snapshot.manifest['end']):%Y-%m-%d}"
                   f" ({snapshot.window_days:g} days)"),
        ("Functions", f"{len(table)}"),
        ("Keep-alive model", table.attrs.get("keep_alive", "")),
        ("Routing model", f"{table.attrs.get('model', '')} ({cal.get('note', '')}; median |log(modelled/observed)|: "
                          + ", ".join(f"{k} {v:.2f}" for k, v in err.items() if v == v) + ")"),
        ("Cold starts in REPORT lines", f"{observed:,.0f} of {inv:,.0f} invocations ({observed / inv:.3%})" if inv else "0"),
        ("Cold starts, modelled", f"{table['modelled_cold_starts'].sum():,.0f}"),
        ("Billed INIT per month (USD)", f"{table['init_usd_month'].sum():,.2f} (INIT billed on {table.attrs.get('billing_date')}: "
                                        f"{'yes' if table['init_billed'].all() else 'not for every function'})"),
        ("Provisioned concurrency", f"{len(pc)} function(s), {pc['provisioned'].sum():g} environments"),
        ("PC break-even utilisation", ", ".join(f"{a} {pc_breakeven_utilization(arch=a):.0%}" for a in billing.ARCHITECTURES)),
        ("Findings", ", ".join(f"{k} x{v}" for k, v in found["id"].value_counts().items()) or "none"),
    ]
    return pd.DataFrame(rows, columns=["", "value"]).set_index("")


def results(snapshot, table: pd.DataFrame, found: pd.DataFrame) -> dict[str, Any]:
    """The cold-starts notebook's results as plain JSON-able data (for batch runs)."""
    def num(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)

    return {
        "notebook": "cold_starts",
        "source": snapshot.manifest.get("source"),
        "window": {"start": str(snapshot.manifest["start"]), "end": str(snapshot.manifest["end"])},
        "model": table.attrs.get("model"), "keep_alive": table.attrs.get("keep_alive"),
        "calibration": {k: (num(v) if isinstance(v, float) else v)
                        for k, v in table.attrs.get("calibration", {}).items() if k != "median_abs_log_error"}
        | {"median_abs_log_error": {k: num(v) for k, v in
                                    table.attrs.get("calibration", {}).get("median_abs_log_error", {}).items()}},
        "functions": [
            {"account_id": r.account_id, "region": r.region, "function_name": r.function_name,
             "invocations": num(r.invocations), "observed_cold_starts": num(r.observed_cold_starts),
             "modelled_cold_starts": num(r.modelled_cold_starts), "cold_share": num(r.cold_share),
             "init_p50_ms": num(r.init_p50_ms), "init_source": r.init_source.split(" ")[0],
             "p99_warm_ms": num(r.p99_warm_ms), "p99_ms": num(r.p99_ms), "init_usd_month": num(r.init_usd_month)}
            for r in table.itertuples()],
        "findings": [{k: (num(v) if isinstance(v, float) else (bool(v) if isinstance(v, (bool, np.bool_)) else v))
                      for k, v in f.items()} for f in found.to_dict("records")],
        "pc_breakeven_utilisation": {a: num(pc_breakeven_utilization(arch=a)) for a in billing.ARCHITECTURES},
    }
