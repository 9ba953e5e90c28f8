"""A snapshot's functions analysed: one row per function with modelled and observed cold starts, INIT, latency and
what cold starts cost (:func:`analyse`), and each function's cold starts under the keep-alive scenarios."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import billing, costs
from .. import prices as _prices
from ..analysis import per_snapshot
from ..engine import fanout
from ..keepalive import SCENARIOS, KeepAlive, keep_alive
from ..schema import KEY
from .init import init_from_rows, latency_quantiles
from .per_function import analyse_chunk
from .pool import MODELS, expected_cold_starts_by_model
from .provisioned import pc_breakeven_utilization, snapstart
from .series import ByFunction, invocation_series, metric_series, series_from_rows


def exported(fn):
    """Name ``fn`` by the package that exports it (``lambda_workbook.coldstarts.analyse``, not the file it is
    written in): the memo keys of :func:`lambda_workbook.analysis.per_snapshot`, its prefetch list and saved
    analysis bundles use that name. Apply it below ``@per_snapshot``."""
    fn.__module__ = __package__
    return fn


def _duration(metrics: pd.DataFrame, rep: pd.DataFrame) -> tuple[float, float, float, str]:
    """Mean, p50, p99 warm duration (ms) and where they came from."""
    if len(rep) and pd.notna(rep["duration_mean_ms"].iloc[0]):
        r = rep.iloc[0]
        return float(r["duration_mean_ms"]), float(r["duration_p50_ms"]), float(r["duration_p99_ms"]), \
            f"reports ({r['path']})"
    avg = metric_series(metrics, "Duration", "Average")
    if avg.empty:
        return float("nan"), float("nan"), float("nan"), "none"
    p50, p99 = metric_series(metrics, "Duration", "p50"), metric_series(metrics, "Duration", "p99")
    mean = float(avg.mean())
    return mean, float(p50.median()) if len(p50) else mean, float(p99.median()) if len(p99) else mean, \
        "metrics: Duration hourly"


def _observed(rep: pd.DataFrame) -> tuple[float, float, str]:
    """Observed cold starts and invocations over the window (REPORT statistics), scaled by sampling."""
    if rep.empty:
        return float("nan"), float("nan"), "no REPORT statistics"
    r = rep.iloc[0]
    frac = float(r["sampled_fraction"]) if pd.notna(r["sampled_fraction"]) and r["sampled_fraction"] > 0 else 1.0
    path = f"reports:{r['path']} (cold starts" + (f", {frac:.0%} sampled)" if frac < 0.999 else ")")
    return float(r["cold_starts"]) / frac, float(r["invocations"]) / frac, path


def _calibrate(modelled: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    """Pick the routing model whose modelled cold starts sit closest (median |log ratio|) to the observed."""
    ok = modelled[(modelled["observed_cold_starts"] >= 10) & (modelled["invocations"] >= 100)
                  & (modelled["provisioned"] == 0)]
    errors = {}
    for model in MODELS:
        ratio = ok[f"modelled_{model}"].clip(lower=0.5) / ok["observed_cold_starts"]
        errors[model] = float(np.median(np.abs(np.log(ratio)))) if len(ok) else float("nan")
    if not len(ok):
        return "poisson", {"functions": 0, "median_abs_log_error": errors,
                           "note": "no observed cold starts to calibrate against: default model"}
    best = min(MODELS, key=lambda m: errors[m])
    return best, {"functions": int(len(ok)), "median_abs_log_error": errors,
                  "note": f"{best} fits the observed REPORT cold starts best"}


@per_snapshot
@exported
def analyse(snapshot, *, keep_alive_min=None, model: str = "auto", billing_date=None,
            book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """One row per function: modelled vs observed cold starts, INIT, latency, and what cold starts cost.

    ``model``: a routing model (``"poisson"``: a most-recently-used pool; ``"peak"``: requests spread over a
    pool sized to each minute's peak) or ``"auto"``, which picks the one closer to the observed REPORT cold
    starts (``attrs["model"]``, ``attrs["calibration"]``). Observed counts are the evidence where they exist
    (``cold_starts`` / ``cold_source``); the model fills in where they do not. Money is per 730-hour month at
    list prices, INIT billed per the rules on ``billing_date`` (default: the snapshot's end), from ``pricing``'s
    book of each function's region (default: :func:`lambda_workbook.prices.for_snapshot`; ``book`` replaces the
    book of its region).
    """
    if model not in ("auto", *MODELS):
        raise ValueError(f"model must be 'auto' or one of {MODELS}, got {model!r}")
    ka = keep_alive(keep_alive_min)
    when = billing_date or str(snapshot.manifest["end"])[:10]
    billing.init_is_billed(billing_date=when)   # a bad date fails here, before the work
    pricing = _prices.for_snapshot(snapshot, book=book, pricing=pricing)
    # each function on its own rows: in chunks, on more than one process for a big snapshot
    rows = fanout.map_chunks(analyse_chunk, snapshot, snapshot.functions.sort_values(KEY).to_dict("records"), ka=ka)
    table = pd.DataFrame(rows)
    chosen, calibration = _calibrate(table) if len(table) else ("poisson", {"functions": 0})
    if model != "auto":
        calibration["note"] = f"{model} chosen by the caller ({calibration.get('note', '')})"
        chosen = model
    if len(table):
        table["model"] = chosen
        table["modelled_cold_starts"] = table[f"modelled_{chosen}"]
        have = table["observed_cold_starts"].notna()
        table["cold_starts"] = table["observed_cold_starts"].where(have, table["modelled_cold_starts"])
        table["cold_source"] = table["observed_path"].where(have, "model: " + chosen + ", " + ka.label)
        _money_and_latency(table, snapshot, when, pricing)
    table.attrs.update({"model": chosen, "calibration": calibration, "keep_alive": ka.label,
                        "billing_date": when})
    return table


def _analyse_one(snapshot, index: ByFunction, fn: pd.Series, ka: KeepAlive) -> dict[str, Any]:
    rep, trig, metrics = index.rows("reports", fn), index.rows("triggers", fn), index.rows("metrics", fn)
    series = series_from_rows(snapshot, metrics)     # invocation_series, without looking the function up again
    mean_ms, p50_ms, p99_ms, dur_path = _duration(metrics, rep)
    observed, observed_inv, observed_path = _observed(rep)
    pc = 0.0 if pd.isna(fn["provisioned_concurrency"]) else float(fn["provisioned_concurrency"])
    reserved = None if pd.isna(fn["reserved_concurrency"]) else float(fn["reserved_concurrency"])
    init = init_from_rows(fn, rep, lambda: index.rows("report_samples", fn))    # init_estimate, likewise
    conc_obs = metric_series(metrics, "ConcurrentExecutions", "Maximum")
    row = {k: fn[k] for k in ("account_id", "region", "function_name", "runtime", "package_type", "memory_mb",
                              "arch", "layer_count", "ephemeral_storage_mb")}
    row.update({
        "code_size_mb": float(fn["code_size_bytes"]) / 2**20, "vpc": bool(fn["vpc_id"]), "provisioned": pc,
        "reserved": reserved if reserved is not None else np.nan,
        "sync": bool(trig["sync"].any()) if len(trig) else False,
        "triggers": ", ".join(sorted(set(trig["source_type"]))) if len(trig) else "",
        "invocations": float(series.sum()), "series_path": series.attrs.get("path", ""),
        "duration_mean_ms": mean_ms, "duration_p50_ms": p50_ms, "duration_p99_ms": p99_ms, "duration_path": dur_path,
        "observed_cold_starts": observed, "observed_invocations": observed_inv, "observed_path": observed_path,
        "init_p50_ms": init["p50_ms"], "init_p99_ms": init["p99_ms"], "init_mean_ms": init["mean_ms"],
        "init_source": init["source"],
        "concurrency_mean": float(series.sum() * mean_ms / 60000.0 / max(len(series), 1)) if mean_ms == mean_ms else np.nan,
        "concurrency_peak": float(conc_obs.max()) if len(conc_obs) else np.nan,
    })
    for model, count in modelled_counts(series, mean_ms, ka, pc, reserved).items():
        row[f"modelled_{model}"] = count
    ss = snapstart(fn["runtime"], package_type=fn["package_type"], ephemeral_mb=fn["ephemeral_storage_mb"],
                   provisioned=pc)
    row.update({"snapstart_eligible": ss["eligible"], "snapstart_note": ss["reason"] or
                ("free (Java)" if not ss["charged"] else "cache + restore charged")})
    return row


def modelled_count(series: pd.Series, duration_ms: float, keep_alive_min, model: str, provisioned: float,
              reserved) -> float:
    """A snapshot function's modelled cold starts (0 without traffic or a known duration); NaN reserved = none."""
    return modelled_counts(series, duration_ms, keep_alive_min, provisioned, reserved, models=(model,))[model]


def modelled_counts(series: pd.Series, duration_ms: float, keep_alive_min, provisioned: float, reserved,
                    models=MODELS) -> dict[str, float]:
    """:func:`modelled_count` under each routing model of ``models`` (the same numbers), the series set up once."""
    if not (series.sum() > 0 and duration_ms == duration_ms):
        return {model: 0.0 for model in models}
    return expected_cold_starts_by_model(series, duration_ms, keep_alive_min=keep_alive_min, models=models,
                                         provisioned=provisioned,
                                         max_concurrency=None if pd.isna(reserved) else reserved)


def _money_and_latency(table: pd.DataFrame, snapshot, when: str, pricing: _prices.Pricing) -> None:
    factor = costs.month_factor(snapshot)
    inv = table["invocations"].where(table["invocations"] > 0)
    table["cold_share"] = (table["cold_starts"] / inv).clip(upper=1.0)
    table["cold_starts_month"] = table["cold_starts"] * factor
    # each function's bill and latency on its own: in chunks, on more than one process for a big snapshot
    done = fanout.map_chunks(money_chunk, snapshot, table, factor=factor, when=when, pricing=pricing)
    billed, init_usd, on_demand, share, p99_warm, p99 = (list(c) for c in zip(*done, strict=True)) if done else \
        ([] for _ in range(6))
    table["init_billed"] = billed
    table["init_usd_month"] = init_usd
    table["on_demand_usd_month"] = on_demand
    table["init_share_of_time"] = share
    table["p99_warm_ms"] = p99_warm
    table["p99_ms"] = p99
    table["p99_inflation"] = table["p99_ms"] / table["p99_warm_ms"]
    util = table["concurrency_mean"] / table["provisioned"].where(table["provisioned"] > 0)
    table["pc_utilisation"] = util
    table["pc_breakeven"] = [pc_breakeven_utilization(arch=a, book=pricing.book(g))
                             for a, g in zip(table["arch"], table["region"], strict=True)]


def money_chunk(snapshot, rows: pd.DataFrame, scope: dict[str, Any], *, factor: float, when: str,
                pricing: _prices.Pricing) -> list[tuple]:
    """Per row of a slice of the analysis table (a task of :func:`lambda_workbook.engine.fanout.map_chunks`):
    whether INIT is billed, its monthly dollars, the on-demand bill, INIT's share of billed time, and the warm and
    cold-start p99."""
    out = []
    for r in rows.itertuples():
        rbook = pricing.book(r.region)
        n = r.invocations * factor
        d = r.duration_mean_ms if r.duration_mean_ms == r.duration_mean_ms else 0.0
        cold = min(r.cold_starts_month, n)
        b = billing.breakdown(n, d, r.memory_mb, arch=r.arch, init_ms=r.init_mean_ms, cold_starts=cold,
                              package_type=r.package_type, runtime=r.runtime, billing_date=when,
                              ephemeral_mb=r.ephemeral_storage_mb, book=rbook) if n > 0 else None
        billed = billing.init_is_billed(billing_date=when, package_type=r.package_type, runtime=r.runtime)
        total_ms = n * d + cold * r.init_mean_ms
        share = cold * r.init_mean_ms / total_ms if total_ms > 0 else 0.0
        if d > 0 and r.duration_p50_ms == r.duration_p50_ms:
            lat = latency_quantiles(r.duration_p50_ms, r.duration_p99_ms, r.init_p50_ms, r.init_p99_ms,
                                    float(r.cold_share) if r.cold_share == r.cold_share else 0.0)
            p99_warm, p99 = lat["p99_warm"], lat["p99"]
        else:
            p99_warm = p99 = np.nan
        out.append((billed, b["init_usd"] if b else 0.0, b["total_usd"] if b else 0.0, share, p99_warm, p99))
    return out


@per_snapshot
@exported
def scenarios(snapshot, table: pd.DataFrame | None = None, *, names=tuple(SCENARIOS), model: str | None = None,
              functions=None) -> pd.DataFrame:
    """Modelled cold starts per function under each keep-alive scenario (rows: functions; columns: scenarios)."""
    table = analyse(snapshot) if table is None else table
    model = model or table.attrs.get("model", "poisson")
    rows = table if functions is None else table[table["function_name"].isin(functions)]
    index = ByFunction(snapshot)
    out = {}
    for r in rows.itertuples():
        series = invocation_series(snapshot, r.function_name, account_id=r.account_id, region=r.region, _index=index)
        out[r.function_name] = {name: modelled_count(series, r.duration_mean_ms, name, model, r.provisioned, r.reserved)
                                for name in names}
    df = pd.DataFrame.from_dict(out, orient="index")
    df.index.name = "function_name"
    return df
