"""Parquet tables of a snapshot directory: written by DuckDB, read lazily.

The per-minute and per-sample tables (:data:`COLUMNAR`) of a Parquet snapshot are folders of Parquet files,
hive-partitioned by account and region (``metrics/account_id=…/region=…/part-0.parquet``, zstd), so a review
of one account or region reads only its files. The partition columns live in the folder names, not in the
files. A table written from memory carries ``_row`` (each row's position), so reading it back gives the same
table in the same order.

Opening a table reads no row: the column names and types of every file are checked against
:data:`lambda_workbook.schema.TABLES` and the row counts summed from the files' metadata; the table is then a
:class:`~lambda_workbook.lazytables.LazyTable` whose reader scans the files on a DuckDB connection.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..lazytables import ROW, SQL_TYPES, LazyTable, connect, quote
from ..schema import TABLES, SchemaError

#: tables written as Parquet in a Parquet snapshot (one row per minute or per log line); the rest stay CSV
COLUMNAR = ("metrics", "report_samples")
PARTITIONS = ("account_id", "region")
PARQUET_OPTIONS = "FORMAT PARQUET, COMPRESSION zstd, PARTITION_BY (account_id, region), FILENAME_PATTERN 'part-{i}'"

#: DuckDB types a Parquet column may have for each schema type (read as the first one)
ACCEPTED = {
    "str": ("VARCHAR",),
    "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"),
    "float": ("DOUBLE", "FLOAT", "BIGINT", "INTEGER"),
    "bool": ("BOOLEAN",),
    "datetime": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
}
_PARQUET_NAMES = {"str": "a string (BYTE_ARRAY UTF8)", "int": "an integer (INT64)", "float": "a DOUBLE",
                  "bool": "a BOOLEAN", "datetime": "a TIMESTAMP (UTC)"}


def folder(root: Path, name: str) -> Path:
    return Path(root) / name


def write_frame(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, dest: Path) -> None:
    """Write a typed table (with ``account_id`` and ``region``) as a partitioned Parquet folder."""
    dest.mkdir(parents=True, exist_ok=True)
    if df.empty:
        return
    con.register("table_to_write", df.assign(**{ROW: np.arange(len(df), dtype="int64")}))
    try:
        write_query(con, "SELECT * FROM table_to_write", dest)
    finally:
        con.unregister("table_to_write")


def write_query(con: duckdb.DuckDBPyConnection, sql: str, dest: Path) -> None:
    """Stream the rows of ``sql`` into a partitioned Parquet folder (DuckDB ``COPY``; never in pandas)."""
    dest.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO {quote(str(dest))} ({PARQUET_OPTIONS}, OVERWRITE_OR_IGNORE true)")


def write_relation(con: duckdb.DuckDBPyConnection, rel: duckdb.DuckDBPyRelation, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    rel.to_view("relation_to_write", replace=True)
    write_query(con, "SELECT * FROM relation_to_write", dest)


def files(directory: Path) -> list[Path]:
    return sorted(directory.glob("account_id=*/region=*/*.parquet"))


def fingerprints(directory: Path) -> dict[str, str]:
    """Each Parquet file of a table folder (its path under the folder) and the SHA-256 of its bytes."""
    out = {}
    for file in files(directory):
        digest = hashlib.sha256()
        with open(file, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
        out[file.relative_to(directory).as_posix()] = digest.hexdigest()
    return out


def checked_record(directory: Path, name: str, recorded: int | None = None) -> dict | None:
    """What a writer records in ``manifest.json`` (``checked``) for a table folder it has just written: the
    natural key its rows are unique on and each file's SHA-256, after running the duplicate check on the files
    (:func:`lambda_workbook.lazy_checks.duplicates`); None when the table has no natural key, no file, or
    copies or clashes (the load then finds and reports them). A load whose files still match skips that scan."""
    from .. import lazy_checks
    from ..snapshot_checks import NATURAL_KEYS, _value

    key = NATURAL_KEYS.get(name)
    table = open_table(directory, name, recorded)
    if not key or not isinstance(table, LazyTable):
        return None
    con = connect()
    try:
        _, copies, clashes = lazy_checks.duplicates(con, table, key, _value)
    finally:
        con.close()
    return None if copies or clashes else {"unique_key": list(key), "sha256": fingerprints(directory)}


def checked_records(root: Path, rows: dict[str, int]) -> dict[str, dict]:
    """:func:`checked_record` of every Parquet table folder a writer has just written under ``root`` (``rows``:
    each table's rows as the manifest will record them): the manifest's ``checked`` entry."""
    out = {}
    for name in COLUMNAR:
        if folder(root, name).is_dir():
            record = checked_record(folder(root, name), name, rows.get(name))
            if record:
                out[name] = record
    return out


def open_table(directory: Path, name: str, recorded: int | None, checked: dict | None = None
               ) -> LazyTable | pd.DataFrame:
    """Check a table folder's files from their metadata and return the lazy table (an empty, typed table when
    the folder holds no file). Errors are one line naming the file and the column. ``checked``: the table's
    record from ``manifest.json`` (:func:`checked_record`); when every file is still the one recorded, the
    table carries the key its rows were found unique on (``LazyTable.unique_key``)."""
    from ..schema import empty

    table = TABLES[name]
    found = files(directory)
    stray = sorted(p for p in directory.rglob("*") if p.is_file() and p not in set(found))
    if stray:
        raise SchemaError(f"{stray[0]}: not a table file; {directory} holds only "
                          "account_id=<id>/region=<code>/<part>.parquet files")
    if not found:
        if recorded:
            raise SchemaError(f"{directory}: no Parquet file, but manifest.json records {recorded} rows; the "
                              "table is truncated")
        return empty(name)
    con = connect()
    try:
        columns = [_check_file(con, f, table) for f in found]
        rows = [row_count(con, f) for f in found]
    finally:
        con.close()
    total = sum(rows)
    if recorded is not None and total != recorded:
        raise SchemaError(f"{directory}: {total} data rows in its Parquet files, but manifest.json records "
                          f"{recorded}; a file is missing, truncated or was edited (after a deliberate edit, "
                          "remove 'rows' from manifest.json)")
    with_row = all(ROW in c for c in columns)
    present = set.intersection(*map(set, columns))
    unique = None
    if isinstance(checked, dict) and isinstance(checked.get("unique_key"), list) and \
            checked.get("sha256") == fingerprints(directory):
        unique = tuple(str(k) for k in checked["unique_key"])
    return LazyTable(name, ParquetReader(directory, table, present, with_row), str(directory), total,
                     unique_key=unique)


def _check_file(con: duckdb.DuckDBPyConnection, file: Path, table) -> list[str]:
    if file.stat().st_size == 0:
        raise SchemaError(f"{file}: 0 bytes (truncated?); a Parquet file holds at least its footer")
    try:
        described = con.sql(f"DESCRIBE SELECT * FROM read_parquet({quote(str(file))}, hive_partitioning = false)"
                            ).fetchall()
    except duckdb.Error as exc:
        raise SchemaError(f"{file}: corrupt Parquet file ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())})") from None
    types = {row[0]: row[1] for row in described}
    for part in PARTITIONS:
        if part in types:
            raise SchemaError(f"{file}: column {part!r} is in the file; it belongs in the folder name "
                              f"({part}=<value>) of a partitioned table")
    for col in table.columns:
        if col.name in PARTITIONS:
            continue
        if col.name not in types:
            if col.required:
                raise SchemaError(f"{file}: missing column {col.name!r} (table {table.name!r} requires "
                                  f"{', '.join(c.name for c in table.columns if c.required)})")
            continue
        if types[col.name] not in ACCEPTED[col.dtype]:
            raise SchemaError(f"{file}: column {col.name!r} is {types[col.name]}; table {table.name!r} holds "
                              f"{_PARQUET_NAMES[col.dtype]} there")
    if ROW in types and types[ROW] not in ACCEPTED["int"]:
        raise SchemaError(f"{file}: column {ROW!r} is {types[ROW]}; it holds row positions (an integer)")
    return list(types)


def row_count(con: duckdb.DuckDBPyConnection, file: Path) -> int:
    return int(con.sql(f"SELECT num_rows FROM parquet_file_metadata({quote(str(file))})").fetchall()[0][0])


class ParquetReader:
    """Reads one table's Parquet folder on a DuckDB connection (see :data:`lambda_workbook.lazytables.Reader`):
    the schema's columns with its types, an optional column the files lack as empty."""

    def __init__(self, directory: Path, table, present: set[str], with_row: bool):
        self.directory, self.table, self.with_row = Path(directory), table, with_row
        select = []
        for col in table.columns:
            if col.name in present or col.name in PARTITIONS:
                select.append(f'CAST("{col.name}" AS {SQL_TYPES[col.dtype]}) AS "{col.name}"')
            else:
                select.append(f'CAST({_EMPTY_SQL[col.dtype]} AS {SQL_TYPES[col.dtype]}) AS "{col.name}"')
        extra = sorted(present - set(table.column_names) - {ROW})
        self.select = ", ".join(select + [f'"{c}"' for c in extra] + [f'"{ROW}"'] * with_row)

    def source(self, positions: bool) -> str:
        glob = quote(str(self.directory / "account_id=*" / "region=*" / "*.parquet"))
        more = ", filename = true, file_row_number = true" if positions else ""
        return (f"read_parquet({glob}, hive_partitioning = true, hive_types_autocast = false, "
                f"hive_types = {{'account_id': 'VARCHAR', 'region': 'VARCHAR'}}{more})")

    def __call__(self, con: duckdb.DuckDBPyConnection, positions: bool = False) -> duckdb.DuckDBPyRelation:
        more = ", filename, file_row_number" if positions else ""
        return con.sql(f"SELECT {self.select}{more} FROM {self.source(positions)}")


_EMPTY_SQL = {"str": "''", "int": "0", "float": "NULL", "bool": "false", "datetime": "NULL"}
