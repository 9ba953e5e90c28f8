"""Traffic as invocations per minute: checked input series, named synthetic patterns, and a snapshot function's
observed series (its ``Invocations`` metric) and concurrency. Pure: data in, Series out."""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import pandas as pd

from .. import billing
from ..engine import ByFunction  # noqa: F401  (public here: coldstarts.ByFunction)
from ..renamed import renamed


def per_minute(invocations_per_minute, *, name: str = "invocations_per_minute") -> pd.Series:
    """Validate a per-minute series and fill its gaps: every minute from first to last, missing = 0.

    The index may hold timestamps on whole minutes (a DatetimeIndex) or minute numbers (integers). Values
    must be finite and >= 0; NaN counts as a missing minute.
    """
    s = invocations_per_minute
    if isinstance(s, (np.ndarray, list, tuple)):
        s = pd.Series(np.asarray(s, dtype=float))
    fast = _already_per_minute(s)
    if fast is not None:
        return fast
    if not isinstance(s, pd.Series):
        raise ValueError(f"{name} must be a pandas Series indexed by minute, got {type(s).__name__}")
    try:
        values = pd.to_numeric(s, errors="raise").astype(float)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must hold numbers (invocations per minute)") from None
    values = values.fillna(0.0)
    bad = values[(values < 0) | ~np.isfinite(values)]
    if len(bad):
        raise ValueError(f"{name} must be finite and >= 0; minute {bad.index[0]} holds {float(bad.iloc[0])!r}")
    if values.empty:
        return values
    idx = values.index
    if isinstance(idx, pd.PeriodIndex):
        idx = idx.to_timestamp()
    if isinstance(idx, pd.TimedeltaIndex):
        idx = pd.Index((idx / pd.Timedelta(minutes=1)).to_numpy())
    values.index = idx
    if idx.has_duplicates:
        raise ValueError(f"{name} has duplicate minutes, e.g. {idx[idx.duplicated()][0]!r}")
    values = values.sort_index()
    idx = values.index
    if isinstance(idx, pd.DatetimeIndex):
        off = idx[idx != idx.floor("min")]
        if len(off):
            raise ValueError(f"{name} timestamps must fall on whole minutes, got {off[0]} "
                             "(resample to 1-minute sums first)")
        full = pd.date_range(idx[0], idx[-1], freq="min")
        return values.reindex(full, fill_value=0.0)
    if pd.api.types.is_numeric_dtype(idx):
        minutes = idx.to_numpy(dtype=float)
        if not np.all(np.isfinite(minutes)) or not np.all(minutes == np.round(minutes)):
            raise ValueError(f"{name} index must be whole minute numbers or timestamps, got {idx[0]!r}...")
        full = pd.RangeIndex(int(minutes[0]), int(minutes[-1]) + 1)
        values.index = minutes.astype(np.int64)
        return values.reindex(full, fill_value=0.0)
    raise ValueError(f"{name} index must be timestamps (DatetimeIndex) or minute numbers, got {type(idx).__name__}")


def _already_per_minute(s) -> pd.Series | None:
    """:func:`per_minute` of a float Series that already has every minute (a DatetimeIndex of frequency one
    minute, on whole minutes, or consecutive minute numbers) and valid values: the values with NaN as 0 on the
    same minutes, without regrouping. None for anything else (the general path checks and fills it)."""
    if not (isinstance(s, pd.Series) and s.dtype == np.float64 and len(s)):
        return None
    idx = s.index
    if isinstance(idx, pd.DatetimeIndex):
        if idx.freq is None or idx.freq != pd.tseries.frequencies.to_offset("min") or idx[0] != idx[0].floor("min"):
            return None
    elif not isinstance(idx, pd.RangeIndex) or idx.step != 1:
        return None
    values = s.to_numpy(dtype=float, copy=True)
    values[np.isnan(values)] = 0.0
    if not np.isfinite(values).all() or (values < 0).any():
        return None
    return pd.Series(values, index=idx, name=s.name)


def is_counts(values: np.ndarray, kind: str) -> bool:
    if kind == "counts":
        return True
    if kind == "rate":
        return False
    if kind != "auto":
        raise ValueError(f"kind must be 'auto', 'counts' or 'rate', got {kind!r}")
    return bool(np.all(values == np.round(values)))


def durations(duration_ms, index: pd.Index) -> np.ndarray:
    if isinstance(duration_ms, pd.Series):
        d = pd.to_numeric(duration_ms, errors="coerce").astype(float)
        if isinstance(d.index, pd.DatetimeIndex) and isinstance(index, pd.DatetimeIndex):
            d = d.sort_index().reindex(index, method="ffill")
        else:
            d = d.reindex(index)
        mean = float(np.nanmean(d.to_numpy())) if d.notna().any() else float("nan")
        if not math.isfinite(mean):
            raise ValueError("duration_ms holds no usable duration for the minutes of the series")
        out = d.fillna(mean).to_numpy()
    else:
        if isinstance(duration_ms, bool):
            raise ValueError(f"duration_ms must be milliseconds, got {duration_ms!r}")
        try:
            out = np.full(len(index), float(duration_ms))
        except (TypeError, ValueError):
            raise ValueError(f"duration_ms must be milliseconds (a number or a per-minute Series), got {duration_ms!r}") from None
    if len(out) and (not np.all(np.isfinite(out)) or (out < 0).any() or (out > billing.TIMEOUT_MAX_MS).any()):
        raise ValueError(f"duration_ms must be between 0 and 900,000 ms (the 15-minute timeout), got {duration_ms!r}")
    return out


PATTERNS = ("steady", "diurnal", "business", "sparse", "nightly", "bursty")


def synthetic_traffic(pattern: str, peak_per_min: float, *, days: int = 7,
                      start: str = "2026-01-05T00:00:00Z") -> pd.Series:
    """Expected invocations per minute (Poisson rates) of a named traffic pattern, peak = ``peak_per_min``.

    steady: flat; diurnal: a daily sine, low at 04:00 and high at 16:00 UTC; business: weekdays 08-18 UTC;
    sparse: 08-18 UTC every day at the rate given (meant for rates well below 1 a minute); nightly: a
    15-minute batch at 02:00 UTC; bursty: a tenth of the peak with a 20-minute burst at 18:00 UTC.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    if isinstance(peak_per_min, bool) or not (isinstance(peak_per_min, numbers.Real) and 0 <= peak_per_min < 1e7):
        raise ValueError(f"peak_per_min must be a rate between 0 and 1e7 invocations a minute, got {peak_per_min!r}")
    if isinstance(days, bool) or not (isinstance(days, numbers.Integral) and 1 <= days <= 62):
        raise ValueError(f"days must be a whole number between 1 and 62, got {days!r}")
    idx = pd.date_range(pd.Timestamp(start), periods=int(days) * 1440, freq="min")
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60.0
    weekday = idx.day_of_week.to_numpy() < 5
    r = float(peak_per_min)
    rate = {
        "steady": np.full(len(idx), r),
        "diurnal": r * (0.55 + 0.45 * np.sin((hour - 10.0) / 24.0 * 2 * np.pi)),
        "business": np.where(weekday & (hour >= 8) & (hour < 18), r, 0.02 * r),
        "sparse": np.where((hour >= 8) & (hour < 18), r, 0.0),
        "nightly": np.where((hour >= 2.0) & (hour < 2.25), r, 0.0),
        "bursty": np.where((hour >= 18.0) & (hour < 18.34), r, 0.1 * r),
    }[pattern]
    return pd.Series(rate, index=idx, name="invocations")


def lookup(snapshot, function_name: str, account_id, region, index: ByFunction | None):
    fn = snapshot.function(function_name, account_id=account_id, region=region)
    return fn, (index or ByFunction(snapshot))


@renamed(function_name="name")
def invocation_series(snapshot, function_name: str, *, account_id: str | None = None, region: str | None = None,
                      _index: ByFunction | None = None) -> pd.Series:
    """A function's invocations per minute over the snapshot window (missing minutes = 0).

    From the ``Invocations`` Sum metric at 60 s; when only coarser periods exist (windows beyond 15 days),
    each period's count is spread evenly over its minutes (whole invocations, evenly spaced), which keeps
    the gaps of sparse traffic about right. ``attrs["path"]`` says which.
    """
    fn, index = lookup(snapshot, function_name, account_id, region, _index)
    return series_from_rows(snapshot, index.rows("metrics", fn))


@functools.lru_cache(maxsize=16)
def _window_minutes(start, end) -> pd.DatetimeIndex:
    """The minutes of a snapshot window (made once per window: every function of a snapshot shares it)."""
    return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="min", inclusive="left")


def _minute_sums(rows: pd.DataFrame, idx: pd.DatetimeIndex) -> np.ndarray | None:
    """Invocations per minute of ``idx`` from a function's ``metrics`` rows, straight from the arrays, when the
    ``Invocations`` Sum rows are at 60 s with at most one row a minute and timestamps in ``idx``'s time zone;
    None otherwise (the grouped path handles the rest). Timestamps are floored to the minute, minutes outside
    ``idx`` dropped and NaN counted as nothing: the numbers the grouped sum gives."""
    ts, values = rows["timestamp"], rows["value"]
    if not (len(idx) and isinstance(ts.dtype, pd.DatetimeTZDtype | np.dtype) and ts.dtype.kind == "M"
            and values.dtype == np.float64 and getattr(ts.dtype, "tz", None) == idx.tz
            and idx[0] == idx[0].floor("min")):
        return None
    sel = (rows["metric"].to_numpy() == "Invocations") & (rows["stat"].to_numpy() == "Sum")
    if not sel.any():
        return None
    period = rows["period_s"].to_numpy()[sel]
    if period.min() > 60:
        return None
    sel[sel] = period == period.min()
    unit = np.datetime_data(ts.dtype.base if hasattr(ts.dtype, "base") else ts.dtype)[0]
    stamps = ts.array.asi8[sel]                                 # epoch (UTC) in the column's unit
    ok = stamps != np.iinfo(np.int64).min                       # NaT
    ns = int(np.timedelta64(1, unit) // np.timedelta64(1, "ns"))
    off = (stamps[ok] * ns - idx[0].value) // 60_000_000_000    # Timestamp.value: epoch nanoseconds
    vals = values.to_numpy()[sel][ok]
    inside = (off >= 0) & (off < len(idx))
    off, vals = off[inside], vals[inside]
    if len(off) > 1 and not (np.diff(off) > 0).all() and len(np.unique(off)) < len(off):
        return None
    out = np.zeros(len(idx))
    out[off] = np.where(np.isnan(vals), 0.0, vals)
    return out


def series_from_rows(snapshot, rows: pd.DataFrame) -> pd.Series:
    """:func:`invocation_series` from one function's ``metrics`` rows (already looked up)."""
    idx = _window_minutes(snapshot.manifest["start"], snapshot.manifest["end"])
    sums = _minute_sums(rows, idx) if len(rows) else None
    if sums is not None:
        out = pd.Series(sums, index=idx, name="invocations")
        out.attrs["path"] = "metrics:Invocations (Sum, 60 s)"
        return out
    inv = rows[(rows["metric"] == "Invocations") & (rows["stat"] == "Sum")]
    if inv.empty:
        out = pd.Series(0.0, index=idx, name="invocations")
        out.attrs["path"] = "metrics:Invocations (no datapoints: no traffic in the window)"
        return out
    period = int(inv["period_s"].min())
    sel = inv[inv["period_s"] == period]
    ts = sel["timestamp"].dt.floor("min")
    if period <= 60:
        out = sel.groupby(ts)["value"].sum().reindex(idx, fill_value=0.0)
        out.attrs["path"] = "metrics:Invocations (Sum, 60 s)"
    else:   # each period's count spread evenly over its minutes, as whole invocations
        width = period // 60
        totals = sel.assign(timestamp=ts).groupby("timestamp")["value"].sum()
        k = np.arange(width)
        n = np.round(totals.to_numpy())[:, None]
        per = np.floor(n * (k + 1) / width) - np.floor(n * k / width)
        stamps = totals.index.repeat(width) + pd.to_timedelta(np.tile(k, len(totals)), unit="min")
        out = pd.Series(per.ravel(), index=stamps).groupby(level=0).sum().reindex(idx, fill_value=0.0)
        out.attrs["path"] = f"metrics:Invocations (Sum, {period} s, each period's count spread evenly over its minutes)"
    out.name = "invocations"
    return out


def metric_series(rows: pd.DataFrame, metric: str, stat: str) -> pd.Series:
    """One metric statistic of a function's ``metrics`` rows: values by timestamp, in time order."""
    sel = (rows["metric"].to_numpy() == metric) & (rows["stat"].to_numpy() == stat)
    index = pd.Index(rows["timestamp"].array[sel], name="timestamp")
    return pd.Series(rows["value"].to_numpy()[sel], index=index, name="value").sort_index()


@renamed(function_name="name")
def observed_concurrency(snapshot, function_name: str, *, account_id: str | None = None, region: str | None = None,
                         _index: ByFunction | None = None) -> pd.Series:
    """The function's hourly ``ConcurrentExecutions`` Maximum (empty when the snapshot has none)."""
    fn, index = lookup(snapshot, function_name, account_id, region, _index)
    return metric_series(index.rows("metrics", fn), "ConcurrentExecutions", "Maximum").rename("concurrency_max_observed")
