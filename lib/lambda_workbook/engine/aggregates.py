"""Per-function aggregates of the long-form metrics, one group-by over every function each.

Every function returns a small pandas DataFrame (one row per function, or per function and day, metric or
statistic) and is memoised per snapshot (:func:`lambda_workbook.analysis.per_snapshot`), so the rules, the cost
table and the models share one pass over the metrics. Days and hours are UTC (the connection's time zone), as
pandas' ``floor("D")`` / ``floor("h")`` on the UTC timestamps.
"""

from __future__ import annotations

import pandas as pd

from ..analysis import per_snapshot
from ..schema import KEY
from .connection import session
from .relations import relation

_K = ", ".join(KEY)


def _query(snapshot, table: str, sql: str) -> pd.DataFrame:
    """``sql`` over ``table`` (named ``t`` in the query) on the snapshot's connection, as pandas."""
    con = session(snapshot)
    return relation(snapshot, table, con).query("t", sql).df()


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@per_snapshot
def metric_stats(snapshot) -> pd.DataFrame:
    """Per function, metric and statistic: ``total`` (sum of the datapoints), ``peak`` (largest) and ``rows``."""
    out = _query(snapshot, "metrics", f"SELECT {_K}, metric, stat, sum(value) AS total, max(value) AS peak, "
                 f"count(*) AS rows FROM t GROUP BY ALL ORDER BY {_K}, metric, stat")
    return out.astype({"total": "float64", "peak": "float64", "rows": "int64"})


def metric_totals(snapshot, metric: str, stat: str = "Sum", column: str = "total") -> pd.Series:
    """A metric's ``total`` (or ``peak``) per function over the window, indexed by the function key (functions
    without a datapoint are absent)."""
    s = metric_stats(snapshot)
    sel = s[(s["metric"] == metric) & (s["stat"] == stat)]
    return sel.set_index(KEY)[column].rename("value")


@per_snapshot
def daily_counts(snapshot, metrics: tuple = ("Invocations", "Errors", "Throttles", "Timeouts"),
                 stat: str = "Sum") -> pd.DataFrame:
    """Per function, UTC day and metric: the sum of the datapoints (long form: ``KEY, day, metric, value``);
    only days with a datapoint of one of ``metrics`` have rows."""
    names = ", ".join(_quote(m) for m in metrics)
    out = _query(snapshot, "metrics", f"SELECT {_K}, date_trunc('day', timestamp) AS day, metric, sum(value) AS value "
                 f"FROM t WHERE metric IN ({names}) AND stat = {_quote(stat)} GROUP BY ALL ORDER BY {_K}, day, metric")
    out["day"] = _utc(out["day"])
    return out.astype({"value": "float64"})


@per_snapshot
def weighted_duration_mean(snapshot) -> pd.Series:
    """Per function: the hourly ``Duration`` averages weighted by each hour's ``Invocations`` (NaN when no hour
    with a Duration average had invocations), indexed by the function key."""
    out = _query(snapshot, "metrics", f"""
        WITH inv AS (SELECT {_K}, date_trunc('hour', timestamp) AS hour, sum(value) AS n FROM t
                     WHERE metric = 'Invocations' AND stat = 'Sum' GROUP BY ALL),
             dur AS (SELECT {_K}, date_trunc('hour', timestamp) AS hour, value FROM t
                     WHERE metric = 'Duration' AND stat = 'Average')
        SELECT {_K}, sum(dur.value * coalesce(inv.n, 0)) AS num, sum(coalesce(inv.n, 0)) AS den
        FROM dur LEFT JOIN inv USING ({_K}, hour) GROUP BY ALL""")
    num, den = out["num"].astype("float64"), out["den"].astype("float64")
    mean = (num / den.where(den != 0)).where(den != 0)
    return pd.Series(mean.to_numpy(), index=pd.MultiIndex.from_frame(out[KEY]), name="duration_mean_ms")


@per_snapshot
def peak_rows(snapshot, metric: str, stat: str) -> pd.DataFrame:
    """Per function: the datapoint of ``metric``/``stat`` with the largest value (the earliest on ties):
    ``KEY, timestamp, value``."""
    out = _query(snapshot, "metrics", f"SELECT {_K}, timestamp, value FROM t WHERE metric = {_quote(metric)} "
                 f"AND stat = {_quote(stat)} QUALIFY row_number() OVER (PARTITION BY {_K} ORDER BY value DESC, "
                 f"timestamp) = 1 ORDER BY {_K}")
    out["timestamp"] = _utc(out["timestamp"])
    return out.astype({"value": "float64"})


@per_snapshot
def metric_rows(snapshot, metric: str, stat: str) -> pd.DataFrame:
    """Every datapoint of one metric and statistic (all columns), ordered by function and time: for the few
    metrics only some functions have (IteratorAge, provisioned concurrency)."""
    out = _query(snapshot, "metrics", f"SELECT * FROM t WHERE metric = {_quote(metric)} AND stat = {_quote(stat)} "
                 f"ORDER BY {_K}, timestamp")
    out["timestamp"] = _utc(out["timestamp"])
    return out.astype({"value": "float64", "period_s": "int64"})


def _utc(col: pd.Series) -> pd.Series:
    """Timestamps as the snapshot holds them: UTC-aware, in microseconds."""
    col = pd.to_datetime(col, utc=True)
    return col.astype("datetime64[us, UTC]")
