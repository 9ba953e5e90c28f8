"""The per-function part of :func:`lambda_workbook.coldstarts.analyse` as a task over a chunk of functions
(:func:`lambda_workbook.engine.fanout.map_chunks`): each function's series, INIT, latency inputs and modelled
cold starts under both routing models, from its own rows only."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..engine import ByFunction
from ..keepalive import KeepAlive


def analyse_chunk(snapshot, functions: list[dict[str, Any]], scope: dict[str, Any], *,
                  ka: KeepAlive) -> list[dict[str, Any]]:
    """One row per function of ``functions`` (``functions``-table records), in their order. ``scope`` keeps the
    tables split by function for the next chunk of the same map; a table still on disk is read once per chunk."""
    from .snapshot import _analyse_one

    index = scope.get("coldstarts.index")
    if index is None:
        index = scope["coldstarts.index"] = ByFunction(snapshot)
    index.plan(functions)
    return [_analyse_one(snapshot, index, pd.Series(fn), ka) for fn in functions]
