"""Snapshot tables that stay on disk until something asks for their rows.

A columnar snapshot's big tables (``metrics``, ``report_samples``) are not read into pandas when the snapshot
is loaded. The I/O edge (:mod:`lambda_workbook.sources.columnar`) checks their schema and row counts from the
files' metadata and hands the :class:`~lambda_workbook.schema.Snapshot` a :class:`LazyTable`: a *reader* (a
callable that returns a DuckDB relation over the files on a connection it is given) plus the filters the
snapshot has applied since (functions kept, exact copies dropped). Nothing here knows a path.

* :meth:`LazyTable.relation` is the table as a ``duckdb.DuckDBPyRelation``: what the findings engine groups by;
* :meth:`LazyTable.to_frame` reads it into pandas, typed by the schema, in the order it was written;
* :class:`TableMap` is the snapshot's ``tables`` mapping: ``tables[name]`` gives a DataFrame, reading a lazy
  table on first access and keeping it; :meth:`TableMap.is_lazy` and :meth:`TableMap.raw` look without reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

KEY = ["account_id", "region", "function_name"]
#: an optional column of a columnar table: each row's position in the table it was written from (materialising
#: sorts by it, so a table read back equals the one written); never part of a relation handed out
ROW = "_row"
#: columns a reader adds when asked for positions: the file a row is in and its 0-based row in that file
POSITION = ("filename", "file_row_number")
#: the schema's column types as DuckDB types
SQL_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "datetime": "TIMESTAMPTZ"}

#: ``reader(con, positions)``: a relation over every row as written, with the schema's columns (plus ``_row`` when
#: the files hold it, plus :data:`POSITION` when ``positions`` is true)
Reader = Callable[[duckdb.DuckDBPyConnection, bool], duckdb.DuckDBPyRelation]


def connect(*, threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection as the workbook uses one: times in UTC, no progress bar, optional thread and memory
    limits."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [str(memory_limit)])
    return con


def quote(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


@dataclass(frozen=True, eq=False)
class LazyTable:
    """One table still on disk: its reader and the filters applied since loading."""

    name: str
    read: Reader
    #: what errors about the table name (its folder), given by the I/O edge
    label: str
    #: rows as written (from the files' metadata); None once a filter may have removed some
    rows: int | None = None
    #: the function keys kept (a DataFrame of :data:`KEY`), None for every function
    keys: pd.DataFrame | None = None
    #: exact copies of a row are dropped (the checks found some)
    distinct: bool = False
    #: the natural key the rows were found unique on when the workbook wrote these very files (the I/O edge
    #: compared their content with the record it wrote then): the duplicate check need not scan them again
    unique_key: tuple[str, ...] | None = None

    def restrict(self, keys: pd.DataFrame) -> LazyTable:
        """The table limited to the functions in ``keys`` (rows of a table with :data:`KEY` columns)."""
        keys = keys[KEY].drop_duplicates().reset_index(drop=True)
        if self.keys is not None:
            keys = keys.merge(self.keys, on=KEY)
        return replace(self, keys=keys, rows=None)

    def without_copies(self) -> LazyTable:
        return replace(self, distinct=True, rows=None)

    def relation(self, con: duckdb.DuckDBPyConnection, *, positions: bool = False,
                 keep_row: bool = False) -> duckdb.DuckDBPyRelation:
        """The table on ``con``. ``positions`` keeps :data:`POSITION`; ``keep_row`` keeps ``_row`` when present."""
        rel = self.read(con, positions)
        if self.keys is not None:
            rel = _semi_join(con, rel, self.keys)
        columns = [c for c in rel.columns if c != ROW and c not in POSITION]
        if self.distinct:
            extra = [c for c in rel.columns if c == ROW or c in POSITION]
            order = ROW if ROW in rel.columns else ", ".join(columns)
            rel = rel.query("t", f"SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY {_cols(columns)} "
                                 f"ORDER BY {order}) = 1") if extra else rel.distinct()
        keep = columns + [c for c in rel.columns if (c == ROW and keep_row) or (c in POSITION and positions)]
        return rel.select(_cols(keep)) if keep != rel.columns else rel

    def count(self, con: duckdb.DuckDBPyConnection) -> int:
        if self.rows is not None:
            return self.rows
        return int(self.relation(con).aggregate("count(*)").limit(1).fetchall()[0][0])

    def to_frame(self) -> pd.DataFrame:
        """The rows in pandas, in the order they were written, typed by the schema."""
        from . import schema

        con = connect()
        try:
            rel = self.relation(con, keep_row=True)
            if ROW in rel.columns:
                rel = rel.order(ROW).select(_cols([c for c in rel.columns if c != ROW]))
            df = rel.df()
        finally:
            con.close()
        return schema.typed(df, self.name, self.label)


def function_keys(df: pd.DataFrame) -> set[tuple]:
    """The ``(account_id, region, function_name)`` keys of a table's rows."""
    return set(map(tuple, df[KEY].to_numpy())) if len(df) else set()


def rows_of(df: pd.DataFrame, keys: set[tuple]) -> pd.DataFrame:
    """The rows of a per-function table whose key is one of ``keys``."""
    if df.empty:
        return df
    return df[[tuple(k) in keys for k in df[KEY].to_numpy()]]


def _cols(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _semi_join(con, rel, keys: pd.DataFrame):
    if keys.empty:
        return rel.filter("false")
    for col in KEY[:2]:   # the partition columns first: a hive-partitioned scan skips the other folders' files
        rel = rel.filter(f'"{col}" IN ({", ".join(quote(v) for v in sorted(set(keys[col])))})')
    k = con.from_df(keys[KEY].astype(str).rename(columns=lambda c: f"k_{c}"))
    return rel.join(k, " AND ".join(f'"{c}" = k_{c}' for c in KEY), how="semi")


def frame_relation(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, name: str) -> duckdb.DuckDBPyRelation:
    """An in-memory table as a relation with the schema's column types (an empty table keeps its columns)."""
    from . import schema

    table = schema.TABLES[name]
    rel = con.from_df(df)
    casts = [f'CAST("{c.name}" AS {SQL_TYPES[c.dtype]}) AS "{c.name}"' for c in table.columns]
    extra = [f'"{c}"' for c in df.columns if c not in table.column_names]
    return rel.select(", ".join(casts + extra))


class TableMap(MutableMapping):
    """A snapshot's tables by name: DataFrames, and :class:`LazyTable` values read into pandas on first access."""

    def __init__(self, tables: dict[str, Any] | None = None):
        self._tables: dict[str, Any] = dict(tables or {})

    def __getitem__(self, name: str) -> pd.DataFrame:
        value = self._tables[name]
        if isinstance(value, LazyTable):
            value = self._tables[name] = value.to_frame()
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        self._tables[name] = value

    def __delitem__(self, name: str) -> None:
        del self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __repr__(self) -> str:
        return "TableMap({" + ", ".join(f"{k!r}: {'<lazy>' if self.is_lazy(k) else f'<{len(v)} rows>'}"
                                        for k, v in self._tables.items()) + "})"

    def is_lazy(self, name: str) -> bool:
        """Whether table ``name`` is still on disk (not yet read into pandas)."""
        return isinstance(self._tables.get(name), LazyTable)

    def raw(self, name: str) -> Any:
        """The stored value: a DataFrame or a :class:`LazyTable`, without reading anything."""
        return self._tables[name]

    def raw_items(self):
        return self._tables.items()

    def copy(self) -> TableMap:
        """A shallow copy; tables still on disk stay there."""
        return TableMap(self._tables)
