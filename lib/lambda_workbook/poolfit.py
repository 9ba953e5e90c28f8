"""What a measured pool of execution environments does, read from REPORT lines, and the pool model replayed
against it.

The REPORT lines of one function driven at a series of steady request rates (Lin, Ma, Shahrad,
*Demystifying Serverless Costs on Public Platforms*, EuroSys '26,
https://github.com/ubc-cirrus-lab/demystifying-serverless-costs; ``data/measurements/demystifying-costs-2025``)
give each invocation's end (the line's timestamp), duration, Init Duration and environment (log stream).
An invocation started at ``end - duration - init``; a cold one arrived somewhat earlier still, by the
platform's start-up before INIT (not in the REPORT fields: ``create_ms``, a parameter).

* :func:`windows` — per rate window: invocations, environments, cold starts, peak concurrency (the most
  invocations running at once), and how evenly the environments share the work;
* :func:`replay` — the measured arrivals (and durations) through the model pool: most-recently-used or
  spreading routing, a new environment only when none is free, the pool carried from window to window;
* :func:`paced` — the same pool fed by a paced generator (evenly spaced arrivals with jitter and measured
  durations), the expected cold starts per window over many draws.

Pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .keepalive import keep_alive
from .poolsim import ROUTINGS, _Pool

REPORT_COLUMNS = ("measured_at_utc", "target_rps", "sandbox_index", "duration_ms", "init_duration_ms", "cold_start")


def arrivals(lines: pd.DataFrame, *, create_ms: float = 0.0) -> pd.DataFrame:
    """One row per REPORT line with ``end_ms``/``start_ms`` (from the first line), sorted by start.

    Lines without a timestamp or duration are dropped and counted (``attrs["dropped"]``)."""
    missing = [c for c in REPORT_COLUMNS if c not in lines]
    if missing:
        raise ValueError(f"REPORT lines need columns {list(REPORT_COLUMNS)}; missing {missing}")
    _check_ms("create_ms", create_ms)
    df = lines.copy()
    df["measured_at_utc"] = pd.to_datetime(df["measured_at_utc"], utc=True, errors="coerce")
    df["duration_ms"] = pd.to_numeric(df["duration_ms"], errors="coerce")
    bad = df["measured_at_utc"].isna() | ~np.isfinite(df["duration_ms"]) | (df["duration_ms"] < 0)
    df = df[~bad].copy()
    init = pd.to_numeric(df["init_duration_ms"], errors="coerce").fillna(0.0)
    cold = df["cold_start"].astype(bool)
    df["end_ms"] = (df["measured_at_utc"] - df["measured_at_utc"].min()).dt.total_seconds() * 1000.0
    df["start_ms"] = df["end_ms"] - df["duration_ms"] - init - np.where(cold, float(create_ms), 0.0)
    df["init_ms"] = init
    df["cold_start"] = cold
    out = df.sort_values(["start_ms", "end_ms"], ignore_index=True)
    out.attrs["dropped"] = int(bad.sum())
    return out


def _check_ms(name: str, value) -> None:
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and 0 <= value <= 60_000):
        raise ValueError(f"{name} must be milliseconds between 0 and 60,000, got {value!r}")


def _peak_overlap(start: np.ndarray, end: np.ndarray) -> int:
    ev = np.concatenate([np.column_stack([start, np.ones(len(start))]), np.column_stack([end, -np.ones(len(end))])])
    ev = ev[np.lexsort((ev[:, 1], ev[:, 0]))]          # an end before a start at the same moment
    return int(np.cumsum(ev[:, 1]).max()) if len(ev) else 0


def _imbalance(per_env: np.ndarray) -> float:
    """Busiest over least busy environment of a window (1 = evenly spread)."""
    return float(per_env.max() / max(per_env.min(), 1)) if len(per_env) > 1 else 1.0


def windows(lines: pd.DataFrame) -> pd.DataFrame:
    """Per rate window of measured REPORT lines: what the pool did."""
    df = arrivals(lines)
    rows = []
    for rate, g in df.groupby("target_rps", sort=True):
        per_env = g.groupby("sandbox_index").size().to_numpy()
        rows.append({"rate_per_s": float(rate), "invocations": len(g), "environments": len(per_env),
                     "cold_starts": int(g["cold_start"].sum()),
                     "peak_concurrency": _peak_overlap(g["start_ms"].to_numpy(), g["end_ms"].to_numpy()),
                     "mean_duration_ms": float(g.loc[~g["cold_start"], "duration_ms"].mean()),
                     "load": float(rate) * float(g["duration_ms"].mean()) / 1000.0,
                     "imbalance": _imbalance(per_env), "least_used": int(per_env.min()),
                     "window_s": float(g["end_ms"].max() - g["start_ms"].min()) / 1000.0})
    out = pd.DataFrame(rows)
    out.attrs["dropped"] = df.attrs["dropped"]
    return out


def replay(lines: pd.DataFrame, *, routing: str = "mru", reuse_ms: float = 0.0, create_ms: float = 0.0,
           init_ms: float | None = None, warm_at_start: int = 1) -> pd.DataFrame:
    """Replay the measured arrivals and durations through the model pool, window after window.

    ``routing``: ``"mru"`` (most recently freed environment first) or ``"lru"`` (longest idle first).
    ``reuse_ms``: how long after its REPORT an environment takes the next call; ``create_ms``: start-up of a
    new environment before INIT; ``init_ms``: INIT of a new one (None: the measured median). The pool starts
    with ``warm_at_start`` environments and keeps them from window to window (the gaps are seconds, far
    below the keep-alive window). Per window: the model's cold starts, pool size and work imbalance.
    """
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {ROUTINGS}, got {routing!r}")
    _check_ms("reuse_ms", reuse_ms)
    df = arrivals(lines, create_ms=create_ms)
    if init_ms is None:
        measured = df.loc[df["cold_start"], "init_ms"]
        init_ms = float(measured.median()) if len(measured) else 0.0
    _check_ms("init_ms", init_ms)
    pool = _warm_pool(routing, warm_at_start, float(df["start_ms"].min()) - 1.0 if len(df) else 0.0)
    rows = []
    for rate, g in df.groupby("target_rps", sort=True):
        before = len(pool.born)
        used = _run(pool, g["start_ms"].to_numpy(), g["duration_ms"].to_numpy(), reuse_ms, create_ms + init_ms)
        rows.append({"rate_per_s": float(rate), "cold_starts": len(pool.born) - before, "environments": len(pool.born),
                     "imbalance": _imbalance(np.bincount(used)[np.bincount(used) > 0])})
    return pd.DataFrame(rows)


def _warm_pool(routing: str, warm: int, at_ms: float) -> _Pool:
    if isinstance(warm, bool) or not (isinstance(warm, numbers.Integral) and 0 <= warm <= 10_000):
        raise ValueError(f"warm_at_start must be a whole number of environments >= 0, got {warm!r}")
    pool = _Pool(keep_alive(recycle_min=None, sweep=None), np.random.default_rng(0), routing, True)
    for _ in range(warm):                 # freed just before the first arrival
        pool.acquire(at_ms / 60000.0, 0.0, 0.0)
    return pool


def _run(pool: _Pool, start_ms: np.ndarray, duration_ms: np.ndarray, reuse_ms: float, cold_ms: float) -> np.ndarray:
    """Serve arrivals (ms) in the pool (time in minutes, as the pool keeps it); the environment of each."""
    used = np.empty(len(start_ms), dtype=np.int64)
    for i, (a, d) in enumerate(zip(start_ms / 60000.0, (duration_ms + reuse_ms) / 60000.0, strict=True)):
        pool.release(a)
        pool.acquire(a, d, cold_ms / 60000.0)
        used[i] = pool.last
    return used


def paced(rates_per_s, durations_ms: dict, *, window_s: float = 120.0, gap_s: float = 16.0, jitter_ms: float = 4.0,
          reuse_ms: float = 0.0, create_ms: float = 100.0, init_ms: float = 95.0, routing: str = "mru",
          warm_at_start: int = 1, draws: int = 200, seed: int = 0) -> pd.DataFrame:
    """Expected cold starts per window of a paced load generator through the model pool.

    Each rate runs ``window_s`` seconds of arrivals evenly spaced at ``1/rate`` with normal ``jitter_ms``,
    ``gap_s`` after the previous one, through one pool carried across the windows. ``durations_ms``: per
    rate, warm durations to resample (the measured ones). Per window: mean cold starts over ``draws``, the
    chance of at least one, and the mean pool size at its end.
    """
    _check_ms("jitter_ms", jitter_ms)
    _check_ms("create_ms", create_ms)
    _check_ms("init_ms", init_ms)
    if isinstance(draws, bool) or not (isinstance(draws, numbers.Integral) and 1 <= draws <= 100_000):
        raise ValueError(f"draws must be a whole number between 1 and 100,000, got {draws!r}")
    rates = [float(r) for r in rates_per_s]
    if not rates or any(not (0 < r <= 10_000) for r in rates):
        raise ValueError(f"rates_per_s must be request rates in (0, 10,000] per second, got {rates_per_s!r}")
    missing = [r for r in rates if r not in {float(k) for k in durations_ms}]
    if missing:
        raise ValueError(f"durations_ms needs measured durations for every rate; missing {missing}")
    pools = {float(k): np.asarray(v, dtype=float) for k, v in durations_ms.items()}
    rng = np.random.default_rng(seed)
    cold = np.zeros((draws, len(rates)))
    size = np.zeros((draws, len(rates)))
    for i in range(draws):
        pool = _warm_pool(routing, warm_at_start, -10.0 * jitter_ms - 1.0)
        t0 = 0.0
        for j, r in enumerate(rates):
            n = max(1, int(round(r * window_s)))
            start = np.sort(t0 + np.arange(n) * 1000.0 / r + rng.normal(0.0, jitter_ms, n))
            before = len(pool.born)
            _run(pool, start, rng.choice(pools[r], n), reuse_ms, create_ms + init_ms)
            cold[i, j] = len(pool.born) - before
            size[i, j] = len(pool.born)
            t0 = float(start[-1]) + gap_s * 1000.0
    out = pd.DataFrame({"rate_per_s": rates, "cold_starts": cold.mean(axis=0), "p_any": (cold > 0).mean(axis=0),
                        "environments": size.mean(axis=0)})
    out.attrs["draws"] = cold                  # cold starts per draw (rows) and window (columns)
    return out


def count_loglik(draws: np.ndarray, measured) -> float:
    """Log-likelihood of measured cold starts per window under drawn ones (each window's count frequencies,
    with half a draw added to every count so an unseen one is unlikely, not impossible)."""
    m = np.asarray(measured, dtype=int)
    total = 0.0
    for j, c in enumerate(m):
        col = draws[:, j].astype(int)
        support = max(int(col.max()), int(c)) + 1
        freq = np.bincount(col, minlength=support) + 0.5
        total += float(np.log(freq[c] / freq.sum()))
    return total


def fit_start_up(lines: pd.DataFrame, *, grid=(0.0, 100.0, 200.0, 300.0, 400.0), jitter_ms: float = 2.0,
                 reuse_ms: float = 4.0, draws: int = 200, seed: int = 0) -> pd.DataFrame:
    """Fit the start-up before INIT (``create_ms``, the one pool parameter the REPORT lines do not show) by
    maximum likelihood of the measured cold starts per window under :func:`paced`, over a grid. The INIT of
    new environments is the measured median; durations are the measured warm ones. Rows by log-likelihood."""
    win = windows(lines)
    arr = arrivals(lines)
    durations = {float(r): g.loc[~g["cold_start"], "duration_ms"].to_numpy() for r, g in arr.groupby("target_rps")}
    init = arr.loc[arr["cold_start"], "init_ms"]
    init_ms = float(init.median()) if len(init) else 0.0
    rows = []
    for create in grid:
        out = paced(list(win["rate_per_s"]), durations, jitter_ms=jitter_ms, reuse_ms=reuse_ms, create_ms=float(create),
                    init_ms=init_ms, draws=draws, seed=seed)
        rows.append({"create_ms": float(create), "loglik": count_loglik(out.attrs["draws"], win["cold_starts"]),
                     "cold_starts": float(out["cold_starts"].sum()), "environments": float(out["environments"].iloc[-1])})
    return pd.DataFrame(rows).sort_values("loglik", ascending=False, ignore_index=True)
