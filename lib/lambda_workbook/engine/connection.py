"""A DuckDB connection for the engine: memory limit, spill directory, threads and UTC, from arguments or the
environment (``LAMBDA_WORKBOOK_DUCKDB_MEMORY``, ``..._TEMP``, ``..._THREADS``); one per snapshot (:func:`session`)."""

from __future__ import annotations

import os
import tempfile
import weakref
from pathlib import Path
from typing import Any

import duckdb

DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_THREADS = 2

#: id(snapshot) -> its connection (dropped with the snapshot)
_SESSIONS: dict[int, duckdb.DuckDBPyConnection] = {}


def settings(*, memory_limit: str | None = None, temp_directory: str | Path | None = None,
             threads: int | None = None) -> dict[str, Any]:
    """The connection's settings: the arguments given, else the environment, else the defaults."""
    env = os.environ.get
    mem = memory_limit or env("LAMBDA_WORKBOOK_DUCKDB_MEMORY") or DEFAULT_MEMORY_LIMIT
    temp = temp_directory or env("LAMBDA_WORKBOOK_DUCKDB_TEMP") or Path(tempfile.gettempdir()) / "lambda-workbook-duckdb"
    raw = threads if threads is not None else env("LAMBDA_WORKBOOK_DUCKDB_THREADS") or DEFAULT_THREADS
    try:
        n = int(raw)
    except (TypeError, ValueError):
        n = 0
    if n < 1:
        raise ValueError(f"DuckDB threads must be a whole number >= 1, got {raw!r}")
    return {"memory_limit": str(mem), "temp_directory": str(temp), "threads": n}


def connect(*, memory_limit: str | None = None, temp_directory: str | Path | None = None,
            threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database that spills to ``temp_directory`` beyond ``memory_limit``; times in UTC."""
    s = settings(memory_limit=memory_limit, temp_directory=temp_directory, threads=threads)
    con = duckdb.connect(":memory:", config={"threads": s["threads"], "memory_limit": s["memory_limit"],
                                             "temp_directory": s["temp_directory"]})
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    return con


def session(snapshot) -> duckdb.DuckDBPyConnection:
    """The snapshot's connection (made on first use, closed when the snapshot is garbage-collected)."""
    key = id(snapshot)
    con = _SESSIONS.get(key)
    if con is None:
        con = _SESSIONS[key] = connect()
        weakref.finalize(snapshot, _close, key)
    return con


def _close(key: int) -> None:
    con = _SESSIONS.pop(key, None)
    if con is not None:
        con.close()
