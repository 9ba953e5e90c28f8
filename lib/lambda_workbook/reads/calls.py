"""A snapshot's read calls: what they cost each month, the network measurements they hold, and the read
patterns of one function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import prices as _prices
from ..renamed import renamed
from ..schema import KEY
from .limits import CONSISTENCY, check_operation, consistency_factor
from .units import uniform_read

# ---- evidence from a snapshot ------------------------------------------------------------------------------
DYNAMODB_READ_OPERATIONS = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")
S3_READ_OPERATIONS = ("GetObject", "SelectObjectContent")



def read_calls(snapshot, *, consistency: str = "eventual", pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """The account's read calls (``calls`` table) with what they cost and waste each month.

    DynamoDB consistency is not recorded in a snapshot: ``consistency`` (default eventual, DynamoDB's default)
    prices the units. Invocations per month come from :func:`lambda_workbook.costs.function_costs`; prices from
    ``pricing``'s book of each call's region (default: :func:`lambda_workbook.prices.for_snapshot`).
    """
    from .. import costs

    factor = consistency_factor(consistency)
    calls = snapshot.calls
    is_read = ((calls["service"] == "dynamodb") & calls["operation"].isin(DYNAMODB_READ_OPERATIONS)) | (
        (calls["service"] == "s3") & calls["operation"].isin(S3_READ_OPERATIONS))
    reads = calls[is_read].copy()
    if reads.empty:
        return reads.assign(invocations_per_month=pd.Series(dtype=float))
    pricing = _prices.for_snapshot(snapshot, pricing=pricing)
    fc = costs.function_costs(snapshot, pricing=pricing)
    reads = reads.merge(fc[KEY + ["invocations_per_month", "memory_mb", "arch", "path"]], on=KEY, how="left")
    reads["calls_per_month"] = reads["invocations_per_month"] * reads["calls_per_invocation"]
    reads["selectivity"] = reads["items_returned"] / reads["items_evaluated"]
    units, usd = [], []
    for r in reads.itertuples():
        u = np.nan
        if r.service == "dynamodb" and np.isfinite(r.items_evaluated) and np.isfinite(r.item_kb):
            u = uniform_read(r.items_evaluated, r.item_kb, check_operation(r.operation))[0] * (
                CONSISTENCY["transactional"] if r.operation == "TransactGetItems" else factor)
        units.append(u)
        book = pricing.book(r.region)
        if r.service == "dynamodb":
            usd.append(r.calls_per_month * u * book.price("dynamodb.on_demand.read_unit"))
        else:
            usd.append(r.calls_per_month * book.price("s3.get_request"))
    reads["read_units_per_call"] = units
    reads["monthly_read_usd"] = usd
    reads["mb_per_month"] = reads["calls_per_month"] * reads["response_kb"] / 1024.0
    reads["used_mb_per_month"] = reads["mb_per_month"] * reads["used_fraction"]
    return reads


def network_measurements(snapshot, *, min_kb: float = 256.0) -> pd.DataFrame:
    """Calibration points from the snapshot: S3 GetObject calls of at least ``min_kb`` (memory, MB, ms)."""
    calls, f = snapshot.calls, snapshot.functions
    sel = calls[(calls["service"] == "s3") & (calls["operation"] == "GetObject") & (calls["response_kb"] >= min_kb)
                & (calls["mean_ms"] > 0)]
    out = sel.merge(f[KEY + ["memory_mb"]], on=KEY)
    return pd.DataFrame({"function_name": out["function_name"], "memory_mb": out["memory_mb"].astype(float),
                         "mb": out["response_kb"] / 1024.0, "ms": out["mean_ms"], "evidence": out["evidence"]})



@renamed(function_name="function")
def patterns(snapshot, function_name: str = "", *, s3: Mapping[str, Any], dynamodb: Mapping[str, Any],
             memory_mb=1024, arch: str = "x86_64", calls: pd.DataFrame | None = None
             ) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Keyword arguments for :func:`s3_options` and :func:`dynamodb_options`, and where they came from.

    Without ``function_name`` the patterns are the ``s3`` / ``dynamodb`` values as entered (at ``memory_mb``,
    ``arch``). With it, the function's configuration and its biggest S3 GetObject and DynamoDB read in the
    ``calls`` table replace them (a store the function does not read keeps the entered values). ``calls``:
    :func:`read_calls` of the snapshot when already computed.
    """
    s3_kw = {**s3, "memory_mb": memory_mb, "arch": arch}
    db_kw = {**dynamodb, "memory_mb": memory_mb, "arch": arch}
    if not function_name:
        return s3_kw, db_kw, "entered by hand"
    fn = snapshot.function(function_name)
    s3_kw.update(memory_mb=int(fn["memory_mb"]), arch=fn["arch"], region=fn["region"])
    db_kw.update(memory_mb=int(fn["memory_mb"]), arch=fn["arch"], region=fn["region"])
    calls = read_calls(snapshot) if calls is None else calls
    if not calls.empty:
        calls = calls[(calls["function_name"] == function_name) & (calls["account_id"] == fn["account_id"])
                      & (calls["region"] == fn["region"])]
    found = []
    s3_calls = calls[(calls["service"] == "s3") & (calls["operation"] == "GetObject")] if len(calls) else calls
    if len(s3_calls):
        c = s3_calls.sort_values("mb_per_month").iloc[-1]
        used = c["used_fraction"] if np.isfinite(c["used_fraction"]) else 1.0
        s3_kw.update(object_mb=c["response_kb"] / 1024.0, fraction_needed=used, requests_per_month=c["calls_per_month"])
        found.append(f"S3 GetObject on {c['resource'] or 'a bucket'}")
    db_calls = calls[(calls["service"] == "dynamodb") & calls["items_evaluated"].notna() & calls["item_kb"].notna()
                     ] if len(calls) else calls
    if len(db_calls):
        c = db_calls.sort_values("monthly_read_usd").iloc[-1]
        per = float(c["calls_per_invocation"])
        evaluated, returned = c["items_evaluated"] * per, c["items_returned"] * per
        db_kw.update(item_kb=c["item_kb"], requests_per_month=c["invocations_per_month"], items_needed=returned)
        if c["operation"] == "Scan":
            db_kw.update(table_items=evaluated, scan_calls=per)
        elif c["operation"] == "Query":
            db_kw.update(table_items=max(evaluated, db_kw.get("table_items", 0.0)), query_items_evaluated=evaluated,
                         query_calls=per)
        else:
            db_kw.update(table_items=max(evaluated, db_kw.get("table_items", 0.0)), items_needed=evaluated)
        found.append(f"DynamoDB {c['operation']} on {c['resource'] or 'a table'}")
    where = f" ({', '.join(found)}; the rest as entered)" if found else " (no read calls recorded: patterns as entered)"
    plain = {k: float(v) for kw in (s3_kw, db_kw) for k, v in kw.items() if isinstance(v, np.floating)}
    s3_kw.update({k: v for k, v in plain.items() if k in s3_kw})
    db_kw.update({k: v for k, v in plain.items() if k in db_kw})
    return s3_kw, db_kw, f"{function_name}: {int(fn['memory_mb'])} MB {fn['arch']}" + where
