"""The execution-environment measurements: keep-alive counts and the concurrency REPORT lines of
``data/measurements/demystifying-costs-2025`` (Lin, Ma, Shahrad, *Demystifying Serverless Costs on Public
Platforms*, EuroSys '26, https://github.com/ubc-cirrus-lab/demystifying-serverless-costs, MIT).

Rows that cannot be used (missing or inconsistent counts, lines without a timestamp or duration) are dropped
and counted in ``attrs["dropped"]``.
"""

from __future__ import annotations

import pandas as pd

from .datasets import measurements_dir

SET = "demystifying-costs-2025"


def keep_alive_counts() -> pd.DataFrame:
    """Warm/cold counts per idle gap (seconds) of the AWS keep-alive experiment, one row per gap."""
    df = pd.read_csv(measurements_dir() / SET / "keep_alive_aws.csv")
    for col in ("idle_s", "warm", "cold", "n_trials"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    ok = df[["idle_s", "warm", "cold", "n_trials"]].notna().all(axis=1) & (df["idle_s"] > 0) \
        & (df["warm"] >= 0) & (df["cold"] >= 0) & (df["warm"] + df["cold"] == df["n_trials"]) & (df["n_trials"] > 0)
    out = df.loc[ok, ["idle_s", "warm", "cold", "n_trials"]].sort_values("idle_s", ignore_index=True)
    out.attrs["dropped"] = int((~ok).sum())
    return out


def concurrency_reports() -> pd.DataFrame:
    """Every REPORT line of the 1-30 requests/s concurrency runs (``lambda_workbook.poolfit`` reads them)."""
    df = pd.read_csv(measurements_dir() / SET / "concurrency_aws_report_lines.csv")
    stamp = pd.to_datetime(df["measured_at_utc"], utc=True, errors="coerce")
    dur = pd.to_numeric(df["duration_ms"], errors="coerce")
    ok = stamp.notna() & dur.notna() & (dur >= 0) & df["target_rps"].notna() & df["sandbox_index"].notna()
    out = df[ok].reset_index(drop=True)
    out.attrs["dropped"] = int((~ok).sum())
    return out
