"""The snapshot checks of :mod:`lambda_workbook.snapshot_checks` for a table still on disk, as DuckDB SQL.

The same problems with the same messages, found without reading the table into pandas: empty or non-finite
cells the schema's typing would refuse, values outside :data:`~lambda_workbook.snapshot_checks.LIMITS`, exact
copies (dropped and flagged: the table is read with ``DISTINCT`` from then on), rows sharing a natural key with
other values, and rows of a function ``functions.csv`` does not list. A problem is located by the Parquet file
it is in and the row in that file (1-based: a Parquet file has no header row).

Only the rows at fault come back to Python; the scans are grouped: one pass for every cell check, one
aggregate of key hashes for duplicates, one ``DISTINCT`` of function keys for strays.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .lazytables import KEY, POSITION, LazyTable, quote
from .schema import _ALLOWED, TABLES, Problem

_SELECT_POSITION = 'filename, file_row_number, account_id, region, function_name'


def check_table(con: duckdb.DuckDBPyConnection, lazy: LazyTable, limits: dict, natural_keys: dict,
                value_text) -> tuple[LazyTable, list[Problem], list[Problem]]:
    """``(table, flags, rejects)`` for one lazy table: cell checks, then exact copies and key conflicts."""
    rejects = cells(con, lazy, limits, value_text)
    lazy, flags, conflicts = duplicates(con, lazy, natural_keys.get(lazy.name), value_text)
    return lazy, flags, rejects + conflicts


def _where(filename: str, label: str) -> str:
    """A file as problems name it: its path under the table's folder's parent (the snapshot directory)."""
    try:
        return os.path.relpath(filename, Path(label).parent)
    except ValueError:
        return filename


def _located(level: str, lazy: LazyTable, row: tuple, column: str, message: str, more: int = 0, *,
             bare: bool = False) -> Problem:
    filename, pos, account, region, function = row[:5]
    file = _where(filename, lazy.label) if bare else filename
    key = (str(account), str(region), str(function))
    return Problem(level, file, message, int(pos) + 1, column, f"{function!r} ({account}, {region})", key, more)


def cells(con, lazy: LazyTable, limits: dict, value_text) -> list[Problem]:
    """Cells the typing or the limits refuse, each check's first row (by file and row) and how many more."""
    table = TABLES[lazy.name]
    checks: list[tuple[str, str, str]] = []   # (column, SQL condition, message; {v} = the value's text)
    for col in table.columns:
        c = f'"{col.name}"'
        if col.dtype == "int":
            checks.append((col.name, f"{c} IS NULL", f"empty (a whole number is required); column {col.name!r} "
                           f"holds {_ALLOWED['int']}"))
        elif col.dtype == "datetime":
            checks.append((col.name, f"{c} IS NULL", f"empty (a timestamp is required); column {col.name!r} "
                           f"holds {_ALLOWED['datetime']}"))
        elif col.dtype == "bool":
            checks.append((col.name, f"{c} IS NULL", f"'' is not a boolean; column {col.name!r} holds "
                           f"{_ALLOWED['bool']}"))
        elif col.dtype == "float":
            checks.append((col.name, f"isinf({c})", f"{{v}} is not a finite number; column {col.name!r} holds "
                           f"{_ALLOWED['float']}"))
    for (name, col), (lo, hi, nan_ok, allowed) in limits.items():
        if name != lazy.name:
            continue
        v = f'CAST("{col}" AS DOUBLE)'
        empty = "" if nan_ok else f" OR {v} IS NULL OR isnan({v})"
        bounds = " OR ".join(f"{v} {op} {bound!r}" for op, bound in (("<", lo), (">", hi)) if np.isfinite(bound))
        checks.append((col, f"(NOT isinf({v}) AND ({bounds or 'false'})){empty}", f"{{v}}; allowed: {allowed}"))
    if not checks:
        return []
    rel = lazy.relation(con, positions=True)
    counts = rel.aggregate(", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond, _ in checks)).limit(1).fetchall()[0]
    out = []
    for (col, cond, message), n in zip(checks, counts, strict=True):
        if not n:
            continue
        row = rel.filter(cond).order("filename, file_row_number").select(f'{_SELECT_POSITION}, "{col}"').limit(1).fetchall()[0]
        value = row[5]
        if "{v}; allowed" in message:
            what = "is empty" if value is None or (isinstance(value, float) and np.isnan(value)) else \
                f"{value_text(value)} is out of range"
        else:
            what = repr(str(value))
        out.append(_located("reject", lazy, row, col, message.replace("{v}", what), int(n) - 1))
        if "is not a finite" in message or "empty (" in message:
            break       # as the typing stops at its first column at fault
    return out


def duplicates(con, lazy: LazyTable, key: list[str] | None,
               value_text) -> tuple[LazyTable, list[Problem], list[Problem]]:
    """Exact copies (the table is read without them from now on; flagged) and rows that share a natural key
    with other values (rejected). Key hashes are counted in SQL; only the rows under a repeated hash come back."""
    if key and lazy.unique_key == tuple(key):    # written by the workbook after this check, not changed since
        return lazy, [], []
    rel = lazy.relation(con)
    columns = list(rel.columns)
    hashed = f"hash({', '.join(f'{chr(34)}{c}{chr(34)}' for c in (key or columns))})"
    repeated = _repeated_hashes(rel, hashed)
    if not repeated:
        return lazy, [], []
    hashes = con.from_df(pd.DataFrame({"repeated_hash": pd.Series(repeated, dtype="uint64")}))
    candidates = lazy.relation(con, positions=True).select(f"*, {hashed} AS row_hash").join(
        hashes, "row_hash = repeated_hash", how="semi").order("filename, file_row_number").df()
    copies = candidates.duplicated(subset=columns).to_numpy()
    flags, rejects = [], []
    if copies.any():
        first = candidates[copies].iloc[0]
        flags.append(_located("flag", lazy, tuple(first[list(POSITION) + KEY]), "", "an exact copy of an earlier "
                              "row; the copy is dropped, so the review counts the row once", int(copies.sum()) - 1,
                              bare=True))
        lazy = lazy.without_copies()
        candidates = candidates[~copies]
    if key:
        clash = candidates[candidates.duplicated(key, keep=False)]
        if len(clash):
            b = clash[clash.duplicated(key)].iloc[0]
            a = clash[(clash[key] == b[key]).all(axis=1)].iloc[0]
            differ = [c for c in columns if c not in key and not (a[c] == b[c] or (pd.isna(a[c]) and pd.isna(b[c])))]
            col = differ[0] if differ else ""
            shown = ", ".join(f"{k}={b[k]}" for k in key if k not in KEY) or "the same function"
            values = (f" ({value_text(a[col])} in row {int(a['file_row_number']) + 1}, {value_text(b[col])} here)"
                      if col else "")
            rejects.append(_located("reject", lazy, tuple(b[list(POSITION) + KEY]), col, f"duplicate key ({shown}) "
                                    f"with row {int(a['file_row_number']) + 1} but other values{values}: one of them "
                                    f"is wrong, and both would count twice; the key is {', '.join(key)}",
                                    len(clash) - 2))
    return lazy, flags, rejects


#: rows one hash aggregate holds at most (about 1 GB in DuckDB); a bigger partition is split by hash buckets
BUCKET_ROWS = 20_000_000


def _repeated_hashes(rel, hashed: str) -> list[int]:
    """Key hashes held by more than one row, one account and region at a time (a key never spans two), in
    buckets of at most :data:`BUCKET_ROWS` rows, so memory stays bounded however big the table is."""
    out = []
    for account, region, n in rel.aggregate("account_id, region, count(*)", "account_id, region").fetchall():
        part = rel.filter(f"account_id = {quote(account)} AND region = {quote(region)}")
        passes = max(1, -(-int(n) // BUCKET_ROWS))
        for j in range(passes):
            sub = part if passes == 1 else part.filter(f"{hashed} % {passes} = {j}")
            out += [h for (h,) in sub.aggregate(f"{hashed} AS h, count(*) AS n", hashed).filter("n > 1")
                    .select("h").fetchall()]
    return out


def orphans(con, lazy: LazyTable, functions: pd.DataFrame) -> list[Problem]:
    """Rows of functions ``functions`` does not list: the first (by file and row) and how many more."""
    held = lazy.relation(con).aggregate(", ".join(KEY), ", ".join(KEY)).df()
    if held.empty:
        return []
    merged = held.merge(functions[KEY].drop_duplicates(), on=KEY, how="left", indicator=True)
    missing = merged[merged["_merge"] == "left_only"][KEY]
    if missing.empty:
        return []
    rel = lazy.restrict(missing).relation(con, positions=True)
    n_rows = int(rel.aggregate("count(*)").limit(1).fetchall()[0][0])
    row = rel.order("filename, file_row_number").select(_SELECT_POSITION).limit(1).fetchall()[0]
    n = len(missing)
    return [_located("reject", lazy, row, "function_name", f"no such function in functions.csv ({n} "
                     f"function{'s' * (n > 1)} with rows here {'are' if n > 1 else 'is'} missing from it: is "
                     "functions.csv truncated?); every row must belong to a function functions.csv lists",
                     n_rows - 1)]


__all__ = ["BUCKET_ROWS", "cells", "check_table", "duplicates", "orphans"]
