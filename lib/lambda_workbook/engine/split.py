"""A snapshot's per-function tables split by function, for the models that still need one function's rows
(a per-minute pool simulation, a function's REPORT lines)."""

from __future__ import annotations

import duckdb
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
        _, df, where = held
        at = where.get(key)
        if at is None:
            return df.iloc[:0].set_axis(pd.RangeIndex(0))
        start, end, index = at
        rows = df.iloc[start:end].set_axis(index)    # a view of the block: pandas copies it on the first write
        return rows if _COPY_ON_WRITE else rows.copy()

    def _read_block(self, table: str, keys: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        """A block's rows with each function's rows together, and where each key's rows are: (start, end, the
        index its rows get: their positions in the read, as a lookup by positions labels them).

        DuckDB is asked for a number per function instead of the key columns, and for a text column with few
        distinct values (a metric's name, its statistic) for an ENUM (codes into the values seen so far,
        :data:`_SEEN`): strings cost the most to bring into pandas, and here each column is made from its few
        distinct strings (the same values and dtype as a text read, without a Python string per row)."""
        con = session(self.snapshot)
        rel = self.snapshot.tables.raw(table).restrict(keys).relation(con)
        columns = list(rel.columns)
        numbered = con.from_df(keys.rename(columns=lambda c: f"k_{c}").assign(_k=np.arange(len(keys), dtype=np.int32)))
        joined = rel.join(numbered, " AND ".join(f'"{c}" = k_{c}' for c in KEY))
        text = [c for c, t in zip(rel.columns, rel.types, strict=True)
                if c not in KEY and str(t) == "VARCHAR" and _SEEN.get((table, c), ()) is not None]
        if any((table, c) not in _SEEN for c in text):
            _learn(joined, table, text)
        df, coded = None, {}
        for attempt in range(2):
            coded = {c: _SEEN[table, c] for c in text if _SEEN.get((table, c))}
            if not coded:
                break
            try:
                df = joined.select(", ".join(["_k"] + [f'CAST("{c}" AS ENUM({", ".join(map(_literal, coded[c]))})) '
                                                       f'AS "{c}"' if c in coded else f'"{c}"'
                                                       for c in columns if c not in KEY])).df()
                break
            except duckdb.ConversionException:    # a value not seen yet (or a bad value: the text read says which)
                if attempt == 0:
                    _learn(joined, table, text)
        if df is None or not len(df):    # an empty read keeps the types a text read gives it
            df, coded = joined.select(", ".join(["_k"] + [f'"{c}"' for c in columns if c not in KEY])).df(), {}
        k = df["_k"].to_numpy()
        order = np.argsort(k, kind="stable")    # each function's rows together, in the order read
        counts = np.bincount(k, minlength=len(keys))
        ends = np.cumsum(counts)
        string = _string_dtype(con)
        data = {}
        for c in columns:
            if c in KEY:
                data[c] = pd.array(keys[c].to_numpy(dtype=object), dtype=string).take(np.repeat(np.arange(len(keys)),
                                                                                               counts))
            elif c in coded:
                cat = df[c].array
                values = np.array([*cat.categories, np.nan], dtype=object)    # code -1 (a NULL) takes the nan
                data[c] = pd.array(values[cat.codes[order]], dtype=string)
            else:
                data[c] = df[c].array.take(order)
        out = pd.DataFrame(data, index=pd.Index(order), copy=False)
        read = pd.RangeIndex(len(df))
        where = {key: (e - n, e, read.take(order[e - n:e]))
                 for key, n, e in zip(keys[KEY].itertuples(index=False, name=None), counts.tolist(), ends.tolist(),
                                      strict=True) if n}
        return out, where

    def _fetch(self, table: str, key: tuple) -> pd.DataFrame:
        rel = relation(self.snapshot, table, session(self.snapshot))
        a, r, f = (_literal(x) for x in key)
        return rel.filter(f"account_id = {a} AND region = {r} AND function_name = {f}").df()


#: (table, text column) -> the distinct values read so far (the codes of its ENUM), None when there are too many
#: for codes (the column is read as text); kept for the process: blocks after the first rarely add one
_SEEN: dict[tuple[str, str], list[str] | None] = {}
#: a text column with more distinct values than this (in a block, or seen in all) is read as text
CODED_MAX = 200


def _learn(joined, table: str, text: list[str]) -> None:
    """Add the block's distinct values of the ``text`` columns to :data:`_SEEN` (None for a column with too many)."""
    for c in text:
        seen = _SEEN.get((table, c), [])
        if seen is None:
            continue
        new = [v for (v,) in joined.filter(f'"{c}" IS NOT NULL').select(f'"{c}"').distinct()
               .limit(CODED_MAX + 1).fetchall()]
        known = set(seen)
        merged = seen + sorted(v for v in new if v not in known)
        _SEEN[table, c] = merged if len(new) <= CODED_MAX and len(merged) <= CODED_MAX else None


#: pandas 3 copies a frame's shared data on the first write to it (pandas 2 without the option would not)
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or bool(pd.get_option("mode.copy_on_write"))

_STRING_DTYPE: list = []


def _string_dtype(con):
    """The pandas dtype DuckDB gives a text column (the key columns put back into a block's rows get it too)."""
    if not _STRING_DTYPE:
        _STRING_DTYPE.append(con.sql("SELECT CAST('x' AS VARCHAR) AS t").df()["t"].dtype)
    return _STRING_DTYPE[0]


def _literal(text: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"
