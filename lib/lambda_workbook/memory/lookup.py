"""A snapshot's per-function rows for the memory pass over every function, each table read or indexed once.

:class:`lambda_workbook.engine.ByFunction` groups an in-memory table once, but asks DuckDB again for each
function of a table still on disk (``report_samples`` of a columnar snapshot): a query per function. The memory
pass reads every function's REPORT lines, so here that table is read once (it holds a sample of raw lines, small
next to the metrics) and split by function; after :meth:`FunctionRows.plan`, only the planned functions' lines
are read (one query per chunk of the pass: at 10,000 functions the whole sample is over a million lines). The
cost table's row of a function is found through an index instead of a comparison over the whole table per
function.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import KEY

_WHOLE = ("report_samples",)
_OTHER_COLUMNS = ["memory_mb", "duration_ms", "max_memory_used_mb"]   # lazy tables read whole for the pass (small: a sample of raw lines)


class FunctionRows:
    """``rows(table, function_row)`` as :class:`~lambda_workbook.engine.ByFunction`'s, ``other_sizes`` and ``cost_row``."""

    def __init__(self, snapshot, *, whole: bool = True) -> None:
        from ..engine import ByFunction, relation, session

        self.snapshot = snapshot
        self._by = ByFunction(snapshot)
        self._whole: dict[str, tuple[pd.DataFrame, dict]] = {}
        self._cost_index: tuple[pd.DataFrame, dict] | None = None
        self._parsed: tuple | None = None
        self._columns: dict[str, tuple[dict[str, np.ndarray], dict]] = {}
        self._month_factor: float | None = None
        is_lazy = getattr(snapshot, "is_lazy", None)
        for name in _WHOLE:   # ``whole=False``: a table on disk is read per :meth:`plan` instead
            lazy = callable(is_lazy) and is_lazy(name)
            if (lazy and whole) or (not lazy and name in snapshot.tables):
                df = relation(snapshot, name, session(snapshot)).df() if lazy else snapshot.tables[name]
                self._whole[name] = (df, df.groupby(KEY, sort=False).indices if len(df) else {})

    def plan(self, functions) -> None:
        """Read the REPORT lines of these functions (rows or mappings with the key columns) only, in the files'
        order, in place of the whole table's, when the table is still on disk; an in-memory table stays whole."""
        from ..engine import session
        from ..lazytables import POSITION

        name = _WHOLE[0]
        is_lazy = getattr(self.snapshot, "is_lazy", None)
        if not (callable(is_lazy) and is_lazy(name)):
            return
        keys = pd.DataFrame([_key(f) for f in functions], columns=KEY)
        rel = self.snapshot.tables.raw(name).restrict(keys).relation(session(self.snapshot), positions=True)
        order = ", ".join(POSITION)
        df = rel.order(order).select(", ".join(f'"{c}"' for c in rel.columns if c not in POSITION)).df()
        self._whole[name] = (df, df.groupby(KEY, sort=False).indices if len(df) else {})
        self._parsed = None

    def rows(self, table: str, function_row) -> pd.DataFrame:
        """The rows of ``table`` of the function ``function_row`` (a functions-table row, a mapping with the key
        columns, or a key tuple)."""
        whole = self._whole.get(table)
        if whole is None:
            return self._by.rows(table, function_row)
        df, where = whole
        key = _key(function_row)
        pos = where.get(key)
        return df.iloc[pos] if pos is not None else df.iloc[:0]

    def first(self, table: str, function_row):
        """The first of the function's rows of ``table`` (as ``rows(...).iloc[0]``: a mapping of column to value,
        ``get`` and ``[]``), or None when it has none. An in-memory table is taken apart into its columns once,
        so each function's row is a few array lookups instead of a DataFrame."""
        is_lazy = getattr(self.snapshot, "is_lazy", None)
        if table in self._whole or (callable(is_lazy) and is_lazy(table)) or table not in self.snapshot.tables:
            rows = self.rows(table, function_row)
            return rows.iloc[0] if len(rows) else None
        cols = self._columns.get(table)
        if cols is None:
            df = self.snapshot.tables[table]
            cols = self._columns[table] = ({c: df[c].to_numpy() for c in df.columns},
                                           df.groupby(KEY, sort=False).indices if len(df) else {})
        values, where = cols
        pos = where.get(_key(function_row))
        if pos is None or not len(pos):
            return None
        i = pos[0]
        return {c: v[i] for c, v in values.items()}

    def month_factor(self) -> float:
        """:func:`lambda_workbook.costs.month_factor` of the snapshot, computed once for the pass."""
        if self._month_factor is None:
            from .. import costs

            self._month_factor = costs.month_factor(self.snapshot)
        return self._month_factor

    def other_sizes(self, function_row, configured: float) -> pd.DataFrame:
        """The function's warm REPORT lines at sizes other than ``configured`` (as ``snapshot._other_size_samples``),
        from every line of the table parsed once (a line's parse does not depend on the others)."""
        from .. import logs
        from .snapshot import _other_sizes_of

        df, where = self._whole.get("report_samples", (None, {}))
        key = _key(function_row)
        pos = where.get(key)
        if pos is None or not len(pos):
            return pd.DataFrame(columns=["memory_mb", "duration_ms", "max_memory_used_mb"])
        if self._parsed is None:
            parsed = logs.parse_reports(df["message"].tolist())
            warm = (parsed["init_duration_ms"].isna() & ~parsed["status"].fillna("").isin(["timeout", "error"])).to_numpy()
            sizes = parsed.rename(columns={"memory_size_mb": "memory_mb"})[_OTHER_COLUMNS]
            self._parsed = (sizes, parsed["line"].to_numpy(), warm, sizes["memory_mb"].to_numpy())
        sizes, line, warm, size = self._parsed
        at = np.minimum(np.searchsorted(line, pos), max(line.size - 1, 0))
        hit = at[line[at] == pos] if line.size else at[:0]
        if not hit.size:
            return _other_sizes_of(pd.DataFrame(), configured)
        # as _other_sizes_of on the function's lines: its warm lines at another size, in their order
        return sizes.iloc[hit[warm[hit] & (size[hit] != configured)]].reset_index(drop=True)

    def cost_row(self, costs: pd.DataFrame, key: tuple) -> pd.Series:
        """The row of ``costs`` (one per function) whose key is ``key`` (account, region, function)."""
        if self._cost_index is None or self._cost_index[0] is not costs:
            first: dict[tuple, int] = {}
            for i, k in enumerate(zip(costs["account_id"], costs["region"], costs["function_name"], strict=True)):
                first.setdefault(k, i)    # the first row of a key, as a boolean mask's .iloc[0]
            self._cost_index = (costs, first)
        return costs.iloc[self._cost_index[1][key]]


def _key(function_row) -> tuple:
    if isinstance(function_row, tuple):
        return function_row
    return (function_row["account_id"], function_row["region"], function_row["function_name"])
