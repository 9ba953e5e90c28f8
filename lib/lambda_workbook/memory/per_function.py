"""The per-function part of :func:`lambda_workbook.memory.recommend_all` as a task over a chunk of functions
(:func:`lambda_workbook.engine.fanout.map_chunks`): each function's observations, fit, decision and row."""

from __future__ import annotations

from typing import Any

import pandas as pd


def recommend_chunk(snapshot, functions: list[pd.Series], scope: dict[str, Any], *, pricing,
                    kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
    """``("row", row)`` or ``("skipped", (function_name, reason))`` per function of ``functions``, in their
    order. ``scope`` keeps the tables split by function (:class:`.lookup.FunctionRows`) for the next chunk."""
    from .lookup import FunctionRows
    from .model import ObservationError
    from .snapshot import recommend_for_function

    index = scope.get("memory.index")
    if index is None:
        index = scope["memory.index"] = FunctionRows(snapshot, whole=False)
    index.plan(functions)    # a table still on disk: this chunk's REPORT lines only
    out: list[tuple[str, Any]] = []
    for fn in functions:   # rows of the functions table (``iterrows``)
        try:
            fr = recommend_for_function(snapshot, fn["function_name"], account_id=fn["account_id"],
                                        region=fn["region"], pricing=pricing, _index=index, _fn=fn,
                                        _row_only=True, **kwargs)
        except (ValueError, ObservationError) as exc:
            out.append(("skipped", (fn["function_name"], str(exc))))
            continue
        out.append(("row", fr.row()))
    return out
