"""A snapshot's per-function tables split by function, for the models that still need one function's rows
(a per-minute pool simulation, a function's REPORT lines)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import KEY
from .connection import session
from .relations import relation

_K = ", ".join(KEY)


class ByFunction:
    """Rows of a per-function table by function key.

    An in-memory table is grouped once by DuckDB (each function's row positions, one group-by over the table),
    then each lookup takes its rows; a lazy table (a snapshot with ``relation``) is asked per function with a
    filter, so only that function's rows are ever in memory (``Snapshot.is_lazy`` tells which). After
    :meth:`plan`, a lazy table is asked once per block of :data:`BLOCK` planned functions instead (the first
    lookup of a function reads its block, the next ones take their rows from it; one block per table is kept).
    """

    #: planned functions read by one query (a function's 14 days of per-minute metrics take several MB in pandas)
    BLOCK = 25

    def __init__(self, snapshot) -> None:
        self.snapshot = snapshot
        self._positions: dict[str, dict[tuple, np.ndarray]] = {}
        self._planned: dict[tuple, int] = {}
        self._keys: list[pd.DataFrame] = []
        self._blocks: dict[str, tuple[int, pd.DataFrame, dict[tuple, np.ndarray]]] = {}

    def plan(self, functions) -> None:
        """The functions (rows or mappings with the key columns, or key tuples) looked up next; the blocks
        read for the previous plan are dropped."""
        keys = list(dict.fromkeys(tuple(f) if isinstance(f, tuple) else (f["account_id"], f["region"],
                                                                       f["function_name"]) for f in functions))
        self._planned = {k: i // self.BLOCK for i, k in enumerate(keys)}
        self._keys = [pd.DataFrame(keys[i:i + self.BLOCK], columns=KEY) for i in range(0, len(keys), self.BLOCK)]
        self._blocks = {}

    def rows(self, table: str, fn) -> pd.DataFrame:
        """The rows of ``table`` whose key is ``fn``'s (a mapping or Series with the key columns, or a key tuple)."""
        key = tuple(fn) if isinstance(fn, tuple) else (fn["account_id"], fn["region"], fn["function_name"])
        is_lazy = getattr(self.snapshot, "is_lazy", None)
        if callable(is_lazy) and is_lazy(table):    # still on disk: that function's (or the block's) rows only
            if key in self._planned:
                return self._from_block(table, key)
            return self._fetch(table, key)
        df = self.snapshot.tables[table]
        if table not in self._positions:
            self._positions[table] = self._group(df) if len(df) else {}
        pos = self._positions[table].get(key)
        return df.iloc[pos] if pos is not None else df.iloc[:0]

    def _group(self, df: pd.DataFrame) -> dict[tuple, np.ndarray]:
        con = session(self.snapshot)
        rel = con.from_df(df[KEY].assign(_row=np.arange(len(df), dtype=np.int64)))
        g = rel.query("t", f"SELECT {_K}, list(_row ORDER BY _row) AS pos FROM t GROUP BY ALL").df()
        return {k: np.asarray(p, dtype=np.int64)
                for k, p in zip(zip(g["account_id"], g["region"], g["function_name"], strict=True), g["pos"],
                                strict=True)}

    def _from_block(self, table: str, key: tuple) -> pd.DataFrame:
        block = self._planned[key]
        held = self._blocks.get(table)
        if held is None or held[0] != block:
            self._blocks.pop(table, None)    # the previous block's rows go before the next are read
            held = self._blocks[table] = (block, *self._read_block(table, self._keys[block]))
        _, df, where, columns = held
        pos = where.get(key)
        rows = df.iloc[pos] if pos is not None else df.iloc[:0]
        # the key columns are the same on every row of a function: not read, put back here
        string = _string_dtype(session(self.snapshot))
        return rows.assign(**{c: pd.array([v] * len(rows), dtype=string) for c, v in zip(KEY, key, strict=True)})[columns]

    def _read_block(self, table: str, keys: pd.DataFrame) -> tuple[pd.DataFrame, dict, list[str]]:
        """A block's rows without their key columns (a number per function instead: strings cost the most to
        bring into pandas), the rows of each key, and the table's columns in order."""
        con = session(self.snapshot)
        rel = self.snapshot.tables.raw(table).restrict(keys).relation(con)
        columns = list(rel.columns)
        numbered = con.from_df(keys.rename(columns=lambda c: f"k_{c}").assign(_k=np.arange(len(keys), dtype=np.int64)))
        rest = ", ".join(f'"{c}"' for c in columns if c not in KEY)
        df = rel.join(numbered, " AND ".join(f'"{c}" = k_{c}' for c in KEY)).select(f"_k, {rest}").df()
        at = df.groupby("_k", sort=False).indices if len(df) else {}
        where = {tuple(k): at[i] for i, k in enumerate(keys[KEY].itertuples(index=False, name=None)) if i in at}
        return df.drop(columns="_k"), where, columns

    def _fetch(self, table: str, key: tuple) -> pd.DataFrame:
        rel = relation(self.snapshot, table, session(self.snapshot))
        a, r, f = (_literal(x) for x in key)
        return rel.filter(f"account_id = {a} AND region = {r} AND function_name = {f}").df()


_STRING_DTYPE: list = []


def _string_dtype(con):
    """The pandas dtype DuckDB gives a text column (the key columns put back into a block's rows get it too)."""
    if not _STRING_DTYPE:
        _STRING_DTYPE.append(con.sql("SELECT CAST('x' AS VARCHAR) AS t").df()["t"].dtype)
    return _STRING_DTYPE[0]


def _literal(text: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"
