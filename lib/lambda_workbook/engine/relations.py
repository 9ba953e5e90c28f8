"""A snapshot table as a DuckDB relation, through one function, so lazy and in-memory snapshots look alike."""

from __future__ import annotations

import duckdb


def relation(snapshot, name: str, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Table ``name`` of ``snapshot`` on ``con``: the snapshot's ``relation(name, con)`` when it has one (a
    file-backed table read lazily by the sources layer), else its in-memory DataFrame, scanned in place."""
    own = getattr(snapshot, "relation", None)
    if callable(own):
        return own(name, con)
    return con.from_df(snapshot.tables[name])
