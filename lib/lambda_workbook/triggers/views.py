"""What notebooks and the CLI show: readable cost and behaviour tables, the workload, and the
notebook's results as plain data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import unpriced as _unpriced
from .catalog import Catalog, load_catalog
from .workload import Workload

VIEW_COLUMNS = {"name": "source", "feasible": "feasible", "reason": "why not", "invocations": "invocations/month",
                "batch_fill": "events/invocation", "source_cost": "source ($/mo)", "lambda_cost": "Lambda ($/mo)",
                "monthly_cost": "total ($/mo)", "unpriced": _unpriced.UNKNOWN_COLUMN,
                "batch_wait_max_s": "batching wait ≤ (s)", "notes": "notes"}
SEMANTIC_COLUMNS = {"name": "source", "invocation": "invocation", "caller_waits": "caller waits",
                    "hop_latency": "added latency per hop", "batch_wait_max_s": "batching wait ≤ (s)",
                    "retries": "retries", "max_attempts": "attempts (modelled)", "on_failure": "on failure",
                    "ordering": "ordering", "payload_limit_kb": "payload limit (KB)", "scaling": "scaling"}


def semantics(catalog: Catalog | None = None) -> pd.DataFrame:
    """The catalog's behaviour of every source side by side (no workload needed)."""
    cat = catalog or load_catalog()
    rows = []
    for sid, s in cat.sources.items():
        b = s.get("batching") or {}
        limit = cat.lambda_limit(sid)
        own = s.get("payload_limit")
        rows.append({
            "source": sid, "name": s["name"], "invocation": s["invocation"], "caller waits": s["caller_waits"],
            "payload limit": own["label"] if own else ("none (the event references the object)"
                                                      if s.get("payload_by_reference") else limit["label"]),
            "batching": (f"batch 1–{b['max_size']:,} (default {b['default_size']}), "
                         + (f"window 0–{b['window_max_s']:g} s" if b["window_max_s"] > 0 else "no batching window")
                         + (f", poll every {b['poll_interval_s']:g} s" if b["poll_interval_s"] else "")) if b else "—",
            "ordering": s["ordering"], "retries": s["retries"], "on failure": s["on_failure"],
            "scaling": s["scaling"], "added latency": cat.doc["unknown_latency"], "sources": s["sources"],
        })
    return pd.DataFrame(rows).set_index("source")



def view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare`'s cost columns with readable headers, feasible sources first and cheapest first. A row with
    a part nobody priced says so in the ``unknown (not priced)`` column: its totals are lower bounds."""
    t = table.sort_values(["feasible", "monthly_cost"], ascending=[False, True])
    out = t[list(VIEW_COLUMNS)].rename(columns=VIEW_COLUMNS)
    out[_unpriced.UNKNOWN_COLUMN] = t["unpriced"].map(_unpriced.lower_bound_text)
    if "saving" in t:
        out.insert(1, "current", t["current"])
        out.insert(len(out.columns) - 1, "saving ($/mo)", t["saving"].round(2))
    out["invocations/month"] = out["invocations/month"].round(0)
    out["events/invocation"] = out["events/invocation"].round(2)
    for col in ("source ($/mo)", "Lambda ($/mo)", "total ($/mo)"):
        out[col] = out[col].round(2)
    out["batching wait ≤ (s)"] = out["batching wait ≤ (s)"].round(2)
    return out


def semantics_view(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare`'s latency, retry, ordering and limit columns side by side."""
    out = table[list(SEMANTIC_COLUMNS)].rename(columns=SEMANTIC_COLUMNS)
    out["batching wait ≤ (s)"] = out["batching wait ≤ (s)"].round(2)
    return out


def describe(w: Workload) -> pd.DataFrame:
    """The workload as a two-column table."""
    return pd.DataFrame({"value": w.as_dict()}).rename_axis("workload")


def results(w: Workload, table: pd.DataFrame, found: pd.DataFrame | None = None,
            best: pd.Series | None = None) -> dict[str, Any]:
    """The invocation-source notebook's results as plain JSON-able data.

    ``cheapest_feasible`` is the cheapest feasible source whose cost is fully priced (None when every feasible
    source has an unknown part); ``cheapest_feasible_text`` says so in words, naming with the word "unknown" any
    source whose priced parts alone cost less. Each source lists its ``unpriced`` items and whether its
    ``monthly_cost`` is a ``lower_bound``.
    """
    cheapest, cheapest_text = _unpriced.cheapest(table)
    out: dict[str, Any] = {
        "notebook": "invocation_sources",
        "workload": {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in w.as_dict().items()},
        "sources": {sid: {"feasible": bool(r.feasible), "reason": r.reason,
                          "invocations": round(float(r.invocations), 3),
                          "source_cost": round(float(r.source_cost), 6), "lambda_cost": round(float(r.lambda_cost), 6),
                          "monthly_cost": round(float(r.monthly_cost), 6),
                          "unpriced": _unpriced.items(r.unpriced), "lower_bound": bool(r.lower_bound)}
                    for sid, r in table.iterrows()},
        "cheapest_feasible": cheapest,
        "cheapest_feasible_text": cheapest_text,
    }
    if best is not None:
        out["best_batch"] = {"source": best.name, "batch_size": int(best["batch_size"]),
                             "window_s": float(best["window_s"]), "monthly_cost": round(float(best["monthly_cost"]), 6),
                             "batch_wait_max_s": round(float(best["batch_wait_max_s"]), 6),
                             "unpriced": _unpriced.items(best.get("unpriced")),
                             "lower_bound": bool(best.get("lower_bound", False))}
    if found is not None:
        out["findings"] = [{"id": r.id, "function_name": r.function_name, "account_id": r.account_id, "title": r.title,
                            "monthly_impact_usd": round(float(r.monthly_impact_usd), 4)} for r in found.itertuples()]
    return out
