"""An account built from real measurements, with the truth about every function kept beside it.

Every measured curve (one piece of code measured at several memory sizes, :mod:`.pools`) is *deployed* three
times — at its smallest, a middle (the measured size nearest the geometric middle) and its largest measured
size — as functions ``<set>-<curve>-<MB>`` of one account in ``us-east-1`` (the only bundled price book; the
measurements' own regions differ and are noted per set). Each deployed function gets:

* plausible traffic: a monthly volume drawn log-uniformly from :data:`MONTHLY_RANGE`, a diurnal shape, Poisson
  arrivals per minute, and cold starts from the sample account's environment pool
  (:func:`lambda_workbook.sample.simulate_cold_starts`: idle environments evicted after 5-7 minutes, busy ones
  recycled about every 2 hours);
* REPORT lines (``report_samples``), REPORT aggregates (``reports``, as if Logs Insights read every line) and
  CloudWatch metrics (per-minute ``Invocations``, hourly ``Duration`` statistics and ``ConcurrentExecutions``)
  drawn **only from what was measured at its size** (:meth:`.pools.Pool.draw`);
* a configuration: the set's runtime (assumed where the set names none, :data:`.pools.ASSUMED_RUNTIMES`), its
  architecture, a timeout three times the slowest line it can draw (at least 3 s, at most 900 s), a small zip.

The truth (:func:`truth`, never in the snapshot) gives, for each deployed function, the expected Duration,
Billed Duration and monthly cost (at that function's traffic and cold-start share, through
:mod:`lambda_workbook.billing`, request fee included) at **every measured size** of its curve, and of its twin
on the other architecture when the set measured both. :func:`build` is pure and deterministic (seeded);
:func:`save` writes the snapshot through the project's snapshot writer and the truth as CSV beside it.
"""

from __future__ import annotations

import math
import re
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import billing, sample
from .. import prices as _prices
from ..schema import SCHEMA_VERSION, Snapshot
from . import pools as _pools

SEED = 20261201
END = pd.Timestamp("2026-11-01T00:00:00Z")     # after 2025-08-01: INIT is billed on every cold start
ACCOUNT = "210987654321"
REGION = "us-east-1"
MONTHLY_RANGE = (1e5, 3e6)                      # invocations a month, drawn log-uniformly (assumption)
DIURNAL_AMPLITUDE = 0.6                         # traffic swings +-60% around its mean over a day (assumption)
HOURLY_DRAWS = 60                               # invocations behind each hourly Duration statistic
SHORT = {"cebert-2025": "cebert", "powertuning-unfaasener-2022": "ptuning", "s3-put-io-2023": "s3put",
         "arm-vs-x86-node-2023": "armx86", "faasdom-2020": "faasdom", "demystifying-costs-2025": "demyst"}
TRUTH_COLUMNS = ["account_id", "region", "function_name", "dataset", "curve", "arch", "memory_mb", "current",
                 "invocations_per_month", "cold_share", "true_mean_ms", "true_mean_billed_ms", "true_init_ms",
                 "true_monthly_usd", "source"]


@dataclass(frozen=True)
class Settings:
    days: int = 7
    report_lines: int = 120
    population: int = 20000     # lines behind the REPORT aggregates


FULL = Settings()
SMALL = Settings(days=1, report_lines=30, population=2000)


@dataclass
class Account:
    """The snapshot, the truth beside it, and what each deployed function is (data set, curve, traffic)."""

    snapshot: Snapshot
    truth: pd.DataFrame
    deployments: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def deployment_sizes(sizes) -> list[tuple[str, float]]:
    """(position, MB) to deploy: the smallest, the one nearest the geometric middle, and the largest size."""
    s = sorted(set(float(x) for x in sizes))
    if len(s) < 2:
        raise ValueError(f"a curve needs at least two measured sizes to be deployed, got {s}")
    if len(s) == 2:
        return [("smallest", s[0]), ("largest", s[1])]
    inner = s[1:-1]
    mid = min(inner, key=lambda m: (abs(math.log(m) - 0.5 * math.log(s[0] * s[-1])), m))
    return [("smallest", s[0]), ("middle", mid), ("largest", s[-1])]


def function_name(dataset: str, curve: str, memory_mb: float) -> str:
    """A valid Lambda function name for a curve deployed at a size (64 characters at most)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{SHORT.get(dataset, dataset)}-{curve}-{int(memory_mb)}").strip("-")
    if len(name) > 64:
        tag = f"{zlib.crc32(name.encode()):08x}"
        name = name[: 64 - 10 - len(str(int(memory_mb)))].rstrip("-") + f"-{tag}-{int(memory_mb)}"
    return name


def _rng(seed: int, name: str, purpose: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{name}/{purpose}".encode())])


def _twins(all_pools: dict) -> dict[tuple[str, str], str]:
    """(data set, curve) -> the curve measuring the same code on the other architecture, where there is one."""
    by_pair = {}
    for (ds, curve), ps in all_pools.items():
        by_pair.setdefault((ds, _pools.pair_key(curve, ps[0].arch)), []).append(curve)
    out = {}
    for (ds, _), curves in by_pair.items():
        if len(curves) == 2:
            a, b = curves
            out[(ds, a)], out[(ds, b)] = b, a
    return out


def _plan(all_pools: dict, max_functions: int | None) -> list[tuple[str, str, str, float]]:
    """(data set, curve, position, MB) in round-robin order over the sets, cut at ``max_functions``."""
    per_set: dict[str, list] = {}
    for (ds, curve), ps in all_pools.items():
        for pos, mem in deployment_sizes([p.memory_mb for p in ps]):
            per_set.setdefault(ds, []).append((ds, curve, pos, mem))
    queues = [per_set[k] for k in sorted(per_set)]
    order = []
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    return order if max_functions is None else order[:max_functions]


# --------------------------------------------------------------------------------------------------------
# one deployed function


@dataclass
class _Lines:
    counts: np.ndarray      # invocations per minute
    cold: int
    duration: np.ndarray    # a population of lines (shuffled), cold ones carry an init
    init: np.ndarray
    used: np.ndarray


def _traffic(pool: _pools.Pool, name: str, cfg: Settings, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    rng = _rng(seed, name, "traffic")
    lo, hi = np.log(MONTHLY_RANGE)
    monthly = float(np.exp(rng.uniform(lo, hi)))
    minutes = cfg.days * 1440
    hour = (np.arange(minutes) % 1440) / 60.0
    shape = 1.0 + DIURNAL_AMPLITUDE * np.sin((hour - 10.0) / 24.0 * 2 * np.pi)
    counts = rng.poisson(monthly / (billing.MONTH_HOURS * 60.0) * shape)
    cold = sample.simulate_cold_starts(counts, pool.expect(0.0)["mean_ms"], _rng(seed, name, "pool"))
    return counts, cold, monthly


def _lines(pool: _pools.Pool, name: str, counts: np.ndarray, cold: np.ndarray, cfg: Settings, seed: int) -> _Lines:
    rng = _rng(seed, name, "lines")
    n, c = int(counts.sum()), int(cold.sum())
    p = min(n, cfg.population)
    pc = min(p, max(int(round(p * c / n)), 1 if c else 0)) if n else 0
    d, i, u = pool.draw(p - pc, pc, rng)
    order = rng.permutation(p)
    return _Lines(counts, c, d[order], i[order], u[order])


def _key(name: str) -> dict:
    return {"account_id": ACCOUNT, "region": REGION, "function_name": name}


def _report_row(name: str, memory_mb: float, ln: _Lines) -> dict:
    n = int(ln.counts.sum())
    is_cold = ~np.isnan(ln.init)
    billed = billing.billed_ms(ln.duration, ln.init)
    warm_b = billed[~is_cold].mean() if (~is_cold).any() else 0.0
    cold_b = billed[is_cold].mean() if is_cold.any() else 0.0
    inits = ln.init[is_cold]
    has_init = ln.cold > 0 and inits.size > 0
    return {**_key(name), "log_group": f"/aws/lambda/{name}", "invocations": n, "cold_starts": ln.cold, "timeouts": 0,
            "init_p50_ms": float(np.percentile(inits, 50)) if has_init else np.nan,
            "init_p99_ms": float(np.percentile(inits, 99)) if has_init else np.nan,
            "init_mean_ms": float(inits.mean()) if has_init else np.nan,
            "duration_p50_ms": float(np.percentile(ln.duration, 50)),
            "duration_p99_ms": float(np.percentile(ln.duration, 99)),
            "duration_mean_ms": float(ln.duration.mean()),
            "billed_ms_sum": float(np.round((n - ln.cold) * warm_b + ln.cold * cold_b)),
            "max_memory_used_p50_mb": float(np.percentile(ln.used, 50)),
            "max_memory_used_p99_mb": float(np.percentile(ln.used, 99)),
            "max_memory_used_max_mb": float(ln.used.max()), "memory_size_mb": float(memory_mb),
            "path": "insights", "sampled_fraction": 1.0}


def _report_samples(name: str, memory_mb: float, ln: _Lines, start: pd.Timestamp, cfg: Settings,
                    seed: int) -> pd.DataFrame:
    rng = _rng(seed, name, "samples")
    minutes = np.repeat(np.arange(ln.counts.size), ln.counts)
    k = min(cfg.report_lines, minutes.size, ln.duration.size)
    picked = np.sort(rng.choice(minutes.size, size=k, replace=False))
    ts = start + pd.to_timedelta(minutes[picked], unit="min") + pd.to_timedelta(rng.integers(0, 60, k), unit="s")
    idx = rng.choice(ln.duration.size, size=k, replace=False)
    lines = [sample.report_line(str(uuid.UUID(bytes=rng.bytes(16), version=4)), float(ln.duration[i]), int(memory_mb),
                                float(ln.used[i]), float(ln.init[i]), ts=ts[j]) for j, i in enumerate(idx)]
    return pd.DataFrame({**_key(name), "timestamp": ts, "message": lines})


def _metric(name: str, metric: str, stat: str, period: int, ts, values) -> pd.DataFrame:
    return pd.DataFrame({**_key(name), "metric": metric, "stat": stat, "period_s": period, "timestamp": ts,
                         "value": np.asarray(values, dtype=float)})


def _row_percentile(values: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(values, q, axis=1)`` (linear interpolation) for rows whose NaNs come last."""
    v = np.sort(values, axis=1)
    k = np.sum(~np.isnan(v), axis=1)
    pos = q / 100.0 * (k - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, k - 1)
    rows = np.arange(v.shape[0])
    return v[rows, lo] + (pos - lo) * (v[rows, hi] - v[rows, lo])


def _metrics(name: str, ln: _Lines, mean_ms: float, start: pd.Timestamp, seed: int) -> pd.DataFrame:
    rng = _rng(seed, name, "metrics")
    nz = np.flatnonzero(ln.counts)
    frames = [_metric(name, "Invocations", "Sum", 60, start + pd.to_timedelta(nz, unit="min"), ln.counts[nz])]
    hourly_n = ln.counts.reshape(-1, 60).sum(axis=1)
    hours = np.flatnonzero(hourly_n)
    draws = ln.duration[rng.integers(0, ln.duration.size, (hours.size, HOURLY_DRAWS))]
    draws = np.where(np.arange(HOURLY_DRAWS)[None, :] < hourly_n[hours, None], draws, np.nan)
    h_ts = start + pd.to_timedelta(hours, unit="h")
    stats = {"Average": np.nanmean(draws, axis=1), "Maximum": np.nanmax(draws, axis=1),
             **{f"p{q}": _row_percentile(draws, q) for q in (50, 90, 99)}}
    frames += [_metric(name, "Duration", s, 3600, h_ts, np.round(v, 2)) for s, v in stats.items()]
    conc = ln.counts * mean_ms / 60000.0
    burst = np.where(ln.counts > 0, np.minimum(ln.counts, np.ceil(conc + 2.0 * np.sqrt(conc))), 0).reshape(-1, 60)
    frames.append(_metric(name, "ConcurrentExecutions", "Maximum", 3600, h_ts, burst.max(axis=1)[hours]))
    return pd.concat(frames, ignore_index=True)


def _function_row(name: str, pool: _pools.Pool, timeout_s: int, dataset: str, curve: str) -> dict:
    return {**_key(name), "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "runtime": pool.runtime, "handler": "app.handler", "memory_mb": int(pool.memory_mb), "arch": pool.arch,
            "timeout_s": timeout_s, "ephemeral_storage_mb": 512, "package_type": "Zip",
            "code_size_bytes": _pools.CODE_SIZE_BYTES, "layer_count": 0, "layers": "", "vpc_id": "",
            "subnet_count": 0, "security_group_count": 0, "tracing_mode": "PassThrough",
            "log_group": f"/aws/lambda/{name}", "log_format": "Text",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/{name}-role", "last_modified": "2026-09-01T08:00:00.000+0000",
            "state": "Active", "env_var_names": "", "reserved_concurrency": np.nan, "provisioned_concurrency": np.nan,
            "aliases": "", "function_url_auth": "", "description": f"measured: {dataset} {curve}"}


def _trigger_row(name: str, dataset: str) -> dict:
    via_api = dataset == "faasdom-2020"      # FaaSdom invoked its functions through API Gateway
    return {**_key(name), "source_type": "apigw-rest" if via_api else "unknown",
            "source_arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:faasdom01" if via_api else "", "sync": via_api,
            "batch_size": np.nan, "batch_window_s": np.nan, "parallelization": np.nan, "filter_count": 0,
            "enabled": True, "payload_kb": np.nan, "detail": "as measured" if via_api else "not published by the set",
            "evidence": "measurement set"}


# --------------------------------------------------------------------------------------------------------
# the truth


def truth_rows(function_name: str, dataset: str, curve: str, current_mb: float, current_arch: str, curves: list[list],
               invocations_per_month: float, cold_share: float, book: _prices.PriceBook) -> pd.DataFrame:
    """Expected Duration, Billed Duration and monthly USD at every measured size of ``curves`` (pool lists)."""
    rows = []
    for ps in curves:
        for p in ps:
            e = p.expect(cold_share)
            rows.append({**_key(function_name), "dataset": dataset, "curve": p.curve, "arch": p.arch, "memory_mb": p.memory_mb,
                         "current": bool(p.memory_mb == current_mb and p.arch == current_arch),
                         "invocations_per_month": invocations_per_month, "cold_share": cold_share,
                         "true_mean_ms": e["mean_ms"], "true_mean_billed_ms": e["billed_ms"],
                         "true_init_ms": e["init_ms"], "source": p.source})
    out = pd.DataFrame(rows, columns=[c for c in TRUTH_COLUMNS if c != "true_monthly_usd"])
    n = out["invocations_per_month"].to_numpy(float)
    out["true_monthly_usd"] = billing.cost_from_totals(n, n * out["true_mean_billed_ms"].to_numpy(float),
                                                       out["memory_mb"].to_numpy(float), out["arch"].to_numpy(),
                                                       book=book)
    return out[TRUTH_COLUMNS]


# --------------------------------------------------------------------------------------------------------
# the account


def build(sets=None, *, small: bool = False, max_functions: int | None = None, seed: int = SEED) -> Account:
    """The measured account (see the module doc). ``small`` shortens the window and the line counts (tests)."""
    if max_functions is not None and max_functions < 1:
        raise ValueError(f"max_functions must be a positive number of functions, got {max_functions!r}")
    cfg = SMALL if small else FULL
    start = END - pd.Timedelta(days=cfg.days)
    factor = billing.MONTH_HOURS / (cfg.days * 24.0)
    all_pools = _pools.pools(sets)
    twins = _twins(all_pools)
    book = _prices.context([REGION]).book(REGION)
    functions, metrics, reports, samples, triggers, truths, deployed = ([] for _ in range(7))
    for ds, curve, position, mem in _plan(all_pools, max_functions):
        pool = next(p for p in all_pools[(ds, curve)] if p.memory_mb == mem)
        name = function_name(ds, curve, mem)
        counts, cold, monthly = _traffic(pool, name, cfg, seed)
        ln = _lines(pool, name, counts, cold, cfg, seed)
        n = int(counts.sum())
        share = ln.cold / n if n else 0.0
        e = pool.expect(share)
        timeout = int(min(billing.TIMEOUT_MAX_S, max(3, math.ceil(3 * e["max_ms"] / 1000.0))))
        functions.append(_function_row(name, pool, timeout, ds, curve))
        metrics.append(_metrics(name, ln, e["mean_ms"], start, seed))
        reports.append(_report_row(name, mem, ln))
        samples.append(_report_samples(name, mem, ln, start, cfg, seed))
        triggers.append(_trigger_row(name, ds))
        twin = twins.get((ds, curve))
        curves = [all_pools[(ds, curve)]] + ([all_pools[(ds, twin)]] if twin else [])
        truths.append(truth_rows(name, ds, curve, mem, pool.arch, curves, n * factor, share, book))
        deployed.append({"function_name": name, "dataset": ds, "curve": curve, "twin_curve": twin or "",
                         "arch": pool.arch, "runtime": pool.runtime, "memory_mb": mem, "position": position,
                         "sizes_measured": len(all_pools[(ds, curve)]), "target_monthly": monthly,
                         "invocations": n, "cold_starts": ln.cold, "invocations_per_month": n * factor,
                         "cold_share": share, "timeout_s": timeout, "source": pool.source})
    if not functions:
        raise ValueError(f"no curve with two or more measured sizes in {sets!r}")
    notes = [
        f"{len(functions)} functions from {len(set(d['curve'] for d in deployed))} measured curves of "
        f"{', '.join(sorted(set(d['dataset'] for d in deployed)))}; region {REGION} for every set (the only bundled "
        "price book: cebert-2025 and powertuning-unfaasener-2022 ran in us-east-2, faasdom-2020 in eu-central-1, "
        "the others did not publish theirs)",
        "REPORT lines, aggregates and Duration metrics are drawn only from the measurements at each function's size; "
        "the truth (expected Duration, Billed Duration and monthly cost at every measured size) is not in the snapshot",
        f"assumptions: runtimes {_pools.ASSUMED_RUNTIMES}; powertuning log-sd {_pools.POWERTUNING_SIGMA}; traffic "
        f"{MONTHLY_RANGE[0]:,.0f}-{MONTHLY_RANGE[1]:,.0f} invocations a month (log-uniform); Max Memory Used where a "
        f"set has none: the runtime family's median in the per-invocation sets, below 90% of the smallest size",
    ]
    manifest = {"schema_version": SCHEMA_VERSION, "source": "snapshot", "created": END.isoformat(),
                "start": start.isoformat(), "end": END.isoformat(), "lookback_days": cfg.days,
                "accounts": [ACCOUNT], "regions": [REGION],
                "generator": f"lambda_workbook.validation.account (seed {seed})", "notes": " | ".join(notes)}
    tables = {"functions": pd.DataFrame(functions), "metrics": pd.concat(metrics, ignore_index=True),
              "reports": pd.DataFrame(reports), "report_samples": pd.concat(samples, ignore_index=True),
              "triggers": pd.DataFrame(triggers)}
    return Account(Snapshot(manifest, tables), pd.concat(truths, ignore_index=True), pd.DataFrame(deployed), notes)


def save(account: Account, root: str | Path) -> dict[str, Path]:
    """Write ``root/snapshot`` (the project's snapshot writer), ``root/truth.csv`` and ``root/deployments.csv``."""
    from .. import atomicfile, sources

    root = Path(root)
    snap = sources.save(account.snapshot, root / "snapshot")
    out = {"snapshot": Path(snap)}
    for name, df in (("truth", account.truth), ("deployments", account.deployments)):
        out[name] = atomicfile.write_text(root / f"{name}.csv", df.to_csv(index=False, lineterminator="\n",
                                                                         float_format="%.10g"))
    return out
