"""Real Lambda measurements in one shape: per-size curves and per-invocation samples.

The sets live in ``data/measurements/<set>/`` (each with its licence and a note on its source). Two views:

* :func:`curves` — one row per (curve, memory size): the mean duration there, how many invocations it
  summarises, their spread where known, and what the timing column really is. A *curve* is one piece of code
  measured at several sizes (one runtime, architecture and input); a *function* groups the curves of the same
  code measured more than once (two runs, several Power Tuning runs).
* :func:`invocations` — one row per invocation for the sets that publish them, with REPORT-line fields.

Everything is read from the CSVs as published; rows a curve cannot use (cold starts where the set is warm,
invocations that ran before a memory change) are left out and counted in ``attrs['dropped']``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .. import datafiles

CURVE_COLUMNS = ["dataset", "function", "curve", "workload", "runtime", "arch", "memory_mb", "mean_ms", "n",
                 "cv", "p99_ms", "timing"]
INVOCATION_COLUMNS = ["dataset", "function", "curve", "runtime", "arch", "memory_mb", "duration_ms",
                      "billed_duration_ms", "max_memory_used_mb", "init_duration_ms", "cold"]
MEMORY_SETS = ("cebert-2025", "demystifying-costs-2025", "s3-put-io-2023", "powertuning-unfaasener-2022",
               "arm-vs-x86-node-2023", "faasdom-2020", "boto3-init-2021")


def measurements_dir() -> Path:
    """``data/measurements`` of the source checkout (these sets are not shipped in the wheel)."""
    path = datafiles.data_dir() / "measurements"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the measurement sets ship with the source checkout only")
    return path


def _read(folder: str, name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(measurements_dir() / folder / name, **kw)


def _from_invocations(inv: pd.DataFrame, timing: str, workload: dict[str, str] | None = None) -> pd.DataFrame:
    def stats(g: pd.DataFrame) -> pd.Series:
        d = g["duration_ms"].to_numpy(float)
        return pd.Series({"mean_ms": d.mean(), "n": float(d.size),
                          "cv": d.std(ddof=1) / d.mean() if d.size >= 3 else np.nan,
                          "p99_ms": np.percentile(d, 99) if d.size >= 20 else np.nan})

    keys = ["dataset", "function", "curve", "runtime", "arch", "memory_mb"]
    out = inv.groupby(keys, sort=True)[["duration_ms"]].apply(stats).reset_index()
    out["workload"] = out["curve"].map(workload or {}).astype(object).fillna("")
    out["timing"] = timing
    return out


def _cebert() -> pd.DataFrame:
    d = _read("cebert-2025", "cebert_lambda_benchmarks_tidy.csv")
    d = d[d["start_type"] == "warm"]
    n = np.where(d["run"] == "november-2025", 500.0, 300.0)
    mu, p99 = d["mean_duration_ms"].to_numpy(float), d["p99_duration_ms"].to_numpy(float)
    sigma = np.log(np.maximum(p99, mu * 1.0001) / mu) / 2.326
    return pd.DataFrame({
        "dataset": "cebert-2025", "function": d["workload"] + "/" + d["runtime"] + "/" + d["arch"],
        "curve": d["run"] + "/" + d["workload"] + "/" + d["runtime"] + "/" + d["arch"], "workload": d["workload"],
        "runtime": d["runtime"], "arch": d["arch"], "memory_mb": d["memory_mb"].astype(float), "mean_ms": mu, "n": n,
        "cv": np.sqrt(np.expm1(sigma ** 2)), "p99_ms": p99, "timing": "REPORT Duration, warm mean"})


def _demystifying() -> pd.DataFrame:
    d = _read("demystifying-costs-2025", "cpu_overallocation_summary_by_memory.csv")
    spread = (d["p90_duration_ms"] - d["p10_duration_ms"]) / 2.563 / d["mean_duration_ms"]
    return pd.DataFrame({
        "dataset": "demystifying-costs-2025", "function": "cpu-bound", "curve": "cpu-bound", "workload": "cpu-bound",
        "runtime": "", "arch": "x86_64", "memory_mb": d["memory_mb"].astype(float), "mean_ms": d["mean_duration_ms"],
        "n": d["n_invocations"].astype(float), "cv": spread, "p99_ms": d["p99_duration_ms"],
        "timing": "REPORT Duration, warm mean"})


def _powertuning() -> pd.DataFrame:
    d = _read("powertuning-unfaasener-2022", "power_tuning_results.csv")
    d = d.assign(curve=d["function"] + "/" + d["input_sample"], w=d["invocations_per_size"].astype(float))
    d["wm"] = d["mean_duration_ms"] * d["w"]
    # Power Tuning publishes means only: the spread of one curve's means at sizes measured in several runs
    # (run to run) stands in for the standard error of its means, the set's median where a curve has no repeat
    rep = d.groupby(["curve", "memory_mb"])["mean_duration_ms"].agg(["count", "mean", "std"])
    rep = (rep["std"] / rep["mean"])[rep["count"] >= 2].groupby(level="curve").median()
    g = d.groupby(["curve", "function", "workload", "memory_mb"], as_index=False).agg(wm=("wm", "sum"), n=("w", "sum"))
    n = g["n"] * 0.6
    se = g["curve"].map(rep).fillna(float(rep.median()))
    return pd.DataFrame({
        "dataset": "powertuning-unfaasener-2022", "function": g["curve"], "curve": g["curve"], "workload": g["workload"],
        "runtime": "python", "arch": "x86_64", "memory_mb": g["memory_mb"].astype(float), "mean_ms": g["wm"] / g["n"],
        "n": n, "cv": se * np.sqrt(n), "p99_ms": np.nan,
        "timing": "Power Tuning trimmed mean of REPORT Duration (middle 60%), many cold; spread from run-to-run repeats"})


def _boto3_init() -> pd.DataFrame:
    d = _read("small-facts", "boto3_first_client_init_maurice_2021.csv")
    rows = []
    for col, curve in (("mean_boto3_client_init_ms", "client"), ("mean_boto3_resource_init_ms", "resource")):
        rows.append(pd.DataFrame({
            "dataset": "boto3-init-2021", "function": curve, "curve": curve,
            "workload": f"first boto3.{curve}('dynamodb') in a fresh environment", "runtime": "python3.8",
            "arch": "x86_64", "memory_mb": d["memory_mb"].astype(float), "mean_ms": d[col].astype(float), "n": 100.0,
            "cv": np.nan, "p99_ms": np.nan, "timing": "in-handler timer, mean (integer ms)"}))
    return pd.concat(rows, ignore_index=True)


@lru_cache(maxsize=1)
def _invocations() -> pd.DataFrame:
    frames, dropped = [], {}
    s3 = _read("s3-put-io-2023", "s3_put_io_per_invocation.csv")
    dropped["s3-put-io-2023: warm invocations of a mostly-cold set"] = int((s3["cold_start"] == 0).sum())
    s3 = s3[s3["cold_start"] == 1]
    frames.append(pd.DataFrame({
        "dataset": "s3-put-io-2023", "function": s3["runtime"] + "/" + s3["arch"], "curve": s3["runtime"] + "/" + s3["arch"],
        "runtime": s3["runtime"], "arch": s3["arch"], "memory_mb": s3["memory_mb"].astype(float),
        "duration_ms": s3["duration_ms"], "billed_duration_ms": s3["billed_duration_ms"],
        "max_memory_used_mb": s3["max_memory_used_mb"], "init_duration_ms": s3["init_duration_ms"],
        "cold": s3["cold_start"].astype(bool)}))
    arm = _read("arm-vs-x86-node-2023", "arm_vs_x86_nodejs16_per_invocation.csv")
    frames.append(pd.DataFrame({
        "dataset": "arm-vs-x86-node-2023", "function": arm["test"] + "/" + arm["arch"],
        "curve": arm["test"] + "/" + arm["arch"], "runtime": arm["runtime"], "arch": arm["arch"],
        "memory_mb": arm["memory_mb"].astype(float), "duration_ms": arm["duration_ms"],
        "billed_duration_ms": arm["billed_duration_ms"], "max_memory_used_mb": arm["max_memory_used_mb"],
        "init_duration_ms": np.nan, "cold": False}))
    fd = _read("faasdom-2020", "faasdom_aws_factors_cpu.csv")
    frames.append(pd.DataFrame({
        "dataset": "faasdom-2020", "function": fd["runtime"], "curve": fd["runtime"], "runtime": fd["runtime"],
        "arch": fd["arch"], "memory_mb": fd["memory_mb"].astype(float),
        "duration_ms": fd["handler_measured_ms_exact"].fillna(fd["handler_measured_ms"]).astype(float),
        "billed_duration_ms": np.nan, "max_memory_used_mb": np.nan, "init_duration_ms": np.nan, "cold": False}))
    dm = _read("demystifying-costs-2025", "cpu_overallocation_sample2pct_seed0.csv.gz")
    dropped["demystifying-costs-2025: ran before a memory change took effect"] = int(dm["memory_mismatch"].sum())
    dm = dm[dm["memory_mismatch"] == 0]
    frames.append(pd.DataFrame({
        "dataset": "demystifying-costs-2025", "function": "cpu-bound", "curve": "cpu-bound", "runtime": "",
        "arch": dm["arch"], "memory_mb": dm["memory_mb"].astype(float), "duration_ms": dm["duration_ms"],
        "billed_duration_ms": dm["billed_duration_ms"], "max_memory_used_mb": dm["max_memory_used_mb"],
        "init_duration_ms": np.nan, "cold": False}))
    out = pd.concat(frames, ignore_index=True)[INVOCATION_COLUMNS]
    out.attrs["dropped"] = dropped
    return out


def invocations(dataset: str | None = None) -> pd.DataFrame:
    """Per-invocation samples (s3-put-io, arm-vs-x86, faasdom, the demystifying 2% sample)."""
    inv = _invocations()
    out = inv if dataset is None else inv[inv["dataset"] == dataset]
    out = out.reset_index(drop=True)
    out.attrs["dropped"] = dict(inv.attrs.get("dropped", {}))
    return out


@lru_cache(maxsize=1)
def _curves() -> pd.DataFrame:
    inv = _invocations()
    per_inv = []
    for name, timing in (("s3-put-io-2023", "REPORT Duration, cold invocations (INIT excluded)"),
                         ("arm-vs-x86-node-2023", "REPORT Duration, warm"),
                         ("faasdom-2020", "in-handler timer around the computation")):
        per_inv.append(_from_invocations(inv[inv["dataset"] == name], timing))
    frames = [_cebert(), _demystifying(), *per_inv, _powertuning(), _boto3_init()]
    out = pd.concat(frames, ignore_index=True)
    out["runtime"] = out["runtime"].fillna("")
    out["workload"] = out["workload"].fillna("")
    out = out[CURVE_COLUMNS].sort_values(["dataset", "curve", "memory_mb"], ignore_index=True)
    # a curve published twice under two names (same sizes, same means) counts once
    sig = out.groupby(["dataset", "curve"])[["memory_mb", "mean_ms"]].apply(
        lambda g: tuple(np.round(g.to_numpy(float).ravel(), 6)))
    twins = sig[sig.duplicated()].index
    out = out[~out.set_index(["dataset", "curve"]).index.isin(twins)].reset_index(drop=True)
    out.attrs["dropped"] = {f"{d}: {c} (the same numbers as another curve)": 1 for d, c in twins}
    return out


def curves(datasets=None) -> pd.DataFrame:
    """Per-size mean durations of every memory-curve set (or of ``datasets``): see the module doc."""
    c = _curves()
    dropped = dict(c.attrs.get("dropped", {}))
    if datasets is not None:
        wanted = [datasets] if isinstance(datasets, str) else list(datasets)
        unknown = sorted(set(wanted) - set(MEMORY_SETS))
        if unknown:
            raise ValueError(f"unknown data set {unknown[0]!r}: known sets are {', '.join(MEMORY_SETS)}")
        c = c[c["dataset"].isin(wanted)]
    out = c.reset_index(drop=True)
    out.attrs["dropped"] = dropped
    return out
