"""The vectorised findings engine: per-function aggregates of a snapshot's tables, computed on DuckDB.

The models ask questions of every function at once (a metric's total, the daily counts, the slowest hour, the
peak minute). Here each question is one group-by over all functions, run by DuckDB on the snapshot's tables
(out of core when they exceed ``memory_limit``: spilled to a temporary directory), and answered as a small pandas
DataFrame with one row per function (or per function and day). No per-function Python loop touches raw rows.

* :func:`relation` — a snapshot table as a DuckDB relation: the snapshot's own ``relation(name, con)`` when it
  has one (lazy, file-backed tables), else the in-memory table scanned in place;
* :func:`connect`, :func:`session` — a connection with a memory limit, a spill directory and a thread count
  (:mod:`.connection`); one per snapshot, shared by every aggregate;
* :mod:`.aggregates` — sums, maxima and counts per function, metric and statistic; daily counts; the
  invocation-weighted mean duration; the peak datapoint of a metric; one metric's rows;
* :mod:`.split` — a table's rows split by function once, for the models that still need one function's rows.

Pure: the snapshot's tables in, DataFrames out; the only files are DuckDB's own spill files.
"""

from __future__ import annotations

from .aggregates import (
    daily_counts,
    metric_rows,
    metric_stats,
    metric_totals,
    peak_rows,
    weighted_duration_mean,
)
from .connection import connect, session, settings
from .relations import relation
from .split import ByFunction

__all__ = ["ByFunction", "connect", "daily_counts", "metric_rows", "metric_stats", "metric_totals", "peak_rows",
           "relation", "session", "settings", "weighted_duration_mean"]
