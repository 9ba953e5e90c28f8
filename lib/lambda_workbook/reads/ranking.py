"""Options ordered for a need, with their trade-offs; one argument swept over values."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .limits import NEEDS, OBJECT_LAMBDA_CLOSED_SINCE, SELECT_CLOSED_SINCE, check_choice

TRADE_OFFS = {
    "get": "simplest and always possible, but moves and parses the whole object and must hold it in memory",
    "range-get": "moves only what you need for one cheap request per range, but needs a known layout: byte "
                 "offsets from an index or fixed-size records, written when the data is written",
    "select": "filters inside S3 for $/GB scanned + returned, but is closed to new customers since "
              f"{SELECT_CLOSED_SINCE} (and S3 Object Lambda since {OBJECT_LAMBDA_CLOSED_SINCE})",
    "athena": "cheap per GB ($/TB scanned) and needs no code change to the data, but every query pays at least "
              "10 MB and takes seconds (queueing + execution, not published) that a waiting function is billed for",
    "scan": "no design work, but pays for every item in the table on every read; filters only shrink the reply",
    "query": "pays only for the items the key selects, but needs a key design that matches the access pattern "
             "(or a migration)",
    "query-gsi": "pays only for the indexed items without touching the table's key, but every table write that "
                 "touches the index costs write units, the index costs storage, and its reads are eventual only",
    "batch-get": "the cheapest reads when you know the keys (per-item rounding), but something must keep the keys",
}


def rank(options: pd.DataFrame, *, need: str = "cost") -> pd.DataFrame:
    """Options ordered for a need — ``"cost"`` (monthly cost), ``"latency"`` (Lambda ms; unknown waits last)
    or ``"bytes"`` (bytes moved) — usable options first, with the trade-off and, for the others, why not."""
    key = NEEDS[check_choice("need", need, tuple(NEEDS))]
    out = options.copy()
    out["_unknown"] = (~out["latency_known"]) if need == "latency" else False
    out = out.sort_values(["usable", "_unknown", key], ascending=[False, True, True], kind="stable")
    out = out.drop(columns="_unknown")
    out["rank"] = np.where(out["usable"], np.cumsum(out["usable"].to_numpy()), np.nan)
    out["trade_off"] = [TRADE_OFFS.get(o, "") for o in out.index]
    why = []
    for _, r in out.iterrows():
        reasons = []
        if not r["available"]:
            reasons.append(r["status"] if r["status"] != "available" else "not available")
        if not r["fits"]:
            reasons.append(f"needs {r['memory_needed_mb']:,.0f} MB of memory")
        if not r["feasible"]:
            reasons.append("beyond Lambda's limits")
        why.append("; ".join(reasons))
    out["why_not"] = why
    out["recommended"] = False
    if out["usable"].any():
        out.iloc[0, out.columns.get_loc("recommended")] = True
    out.attrs.update(options.attrs, need=need)
    return out


def sweep(options_fn, name: str, values: Iterable, **pattern) -> pd.DataFrame:
    """Run ``options_fn`` (``s3_options`` or ``dynamodb_options``) over values of one argument: long form."""
    frames = []
    for v in values:
        df = options_fn(**{**pattern, name: v}).reset_index()
        df.insert(0, name, v)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
