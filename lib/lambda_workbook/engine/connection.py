"""A DuckDB connection for the engine: memory limit, spill directory, threads and UTC, from arguments or the
environment (``LAMBDA_WORKBOOK_DUCKDB_MEMORY``, ``..._TEMP``, ``..._THREADS``); one per snapshot (:func:`session`).

A DuckDB connection object must not run queries from two threads at once; another thread that asks for the
snapshot's session gets a cursor of it: its own connection to the same database (the same memory limit and
worker threads), per https://duckdb.org/docs/stable/guides/python/multiple_threads."""

from __future__ import annotations

import os
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

import duckdb

DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_THREADS = 2

#: id(snapshot) -> its connection and the thread that made it (dropped with the snapshot)
_SESSIONS: dict[int, tuple[duckdb.DuckDBPyConnection, int]] = {}
#: (id(snapshot), thread) -> a cursor of the snapshot's connection for another thread
_CURSORS: dict[tuple[int, int], duckdb.DuckDBPyConnection] = {}
_LOCK = threading.Lock()


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
    """The snapshot's connection (made on first use, closed when the snapshot is garbage-collected); in a
    thread other than the one that made it, a cursor of it kept for that thread."""
    key, me = id(snapshot), threading.get_ident()
    with _LOCK:
        held = _SESSIONS.get(key)
        if held is None:
            held = _SESSIONS[key] = (connect(), me)
            weakref.finalize(snapshot, _close, key)
        con, owner = held
        if owner == me:
            return con
        cur = _CURSORS.get((key, me))
        if cur is None:
            cur = _CURSORS[key, me] = con.cursor()
            cur.execute("SET TimeZone = 'UTC'")
        return cur


def _close(key: int) -> None:
    with _LOCK:
        held = _SESSIONS.pop(key, None)
        cursors = [_CURSORS.pop(k) for k in [k for k in _CURSORS if k[0] == key]]
    for cur in cursors:
        cur.close()
    if held is not None:
        held[0].close()
