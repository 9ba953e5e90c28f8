"""The checks a snapshot passes before anything reviews it: reject what would make the review wrong, flag gaps.

The rule, case by case:

* **reject** (:class:`~lambda_workbook.schema.SchemaError`, one line naming file, row, column and function) when
  the review would be wrong: a value no Lambda function can have (:data:`LIMITS`: memory outside 128–10,240 MB,
  negative counts or durations, ...), two rows under one natural key (:data:`NATURAL_KEYS`) that disagree,
  rows of a function ``functions.csv`` does not list (a truncated ``functions.csv`` would otherwise review a
  part of the account as if it were all of it), a window that ends before it starts; the schema's typing
  already rejects numbers that are not numbers, not finite or not whole where whole numbers are required, and
  timestamps that are not ISO 8601; loading a directory rejects 0-byte and truncated files;
* **flag** (kept in :attr:`Snapshot.flags`, listed on the review's index and in ``review.json``) when the review
  is right but incomplete: a runtime the workbook's runtime table does not know (its end of support is not
  judged), an architecture the workbook cannot price (that function is left out, with its rows), a table
  without rows, and exact copies of a row (dropped: the review counts each row once).

Row numbers are the file's own (the header is row 1), also for tables built in memory (as :func:`save` would
write them).
"""

from __future__ import annotations

import functools
import json
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from . import billing, datafiles, lazy_checks
from .lazytables import LazyTable, connect
from .schema import KEY, TABLES, Problem, SchemaError, describe_function, manifest_time

_MEMORY = f"whole MB from {billing.MEMORY_RANGE_MB[0]:,} to {billing.MEMORY_RANGE_MB[1]:,}"

#: (table, column) -> (lowest, highest, whether empty = unknown is allowed, what is allowed). Lambda's limits:
#: memory https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html, timeout
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html, /tmp
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html; the rest are counts,
#: sizes, durations and shares, which cannot be negative.
LIMITS: dict[tuple[str, str], tuple[float, float, bool, str]] = {
    ("functions", "memory_mb"): (*billing.MEMORY_RANGE_MB, False, _MEMORY),
    ("functions", "timeout_s"): (1, billing.TIMEOUT_MAX_S, False, f"whole seconds from 1 to {billing.TIMEOUT_MAX_S}"),
    ("functions", "ephemeral_storage_mb"): (512, 10240, False, "whole MB from 512 to 10,240"),
    **{("functions", c): (0, math.inf, False, "a count or size >= 0") for c in
       ("code_size_bytes", "layer_count", "subnet_count", "security_group_count")},
    **{("functions", c): (0, math.inf, True, "a number >= 0, or empty when none") for c in
       ("reserved_concurrency", "provisioned_concurrency")},
    ("metrics", "period_s"): (1, math.inf, False, "whole seconds >= 1"),
    ("metrics", "value"): (0, math.inf, False, "a number >= 0 (Lambda's metrics are counts, durations and ages)"),
    **{("reports", c): (0, math.inf, False, "a count >= 0") for c in ("invocations", "cold_starts", "timeouts")},
    **{("reports", c): (0, math.inf, True, "a number >= 0, or empty when unknown") for c in (
        "init_p50_ms", "init_p99_ms", "init_mean_ms", "duration_p50_ms", "duration_p99_ms", "duration_mean_ms",
        "billed_ms_sum", "max_memory_used_p50_mb", "max_memory_used_p99_mb", "max_memory_used_max_mb",
        "memory_size_mb", "sampled_fraction")},
    ("triggers", "batch_size"): (1, math.inf, True, "a batch size >= 1, or empty"),
    ("triggers", "batch_window_s"): (0, math.inf, True, "seconds >= 0, or empty"),
    ("triggers", "parallelization"): (1, math.inf, True, "a factor >= 1, or empty"),
    ("triggers", "filter_count"): (0, math.inf, False, "a count >= 0"),
    ("triggers", "payload_kb"): (0, math.inf, True, "KB >= 0, or empty when unknown"),
    **{("calls", c): (0, math.inf, True, "a number >= 0, or empty when unknown") for c in (
        "calls_per_invocation", "mean_ms", "response_kb", "items_evaluated", "items_returned", "item_kb",
        "retries_per_invocation")},
    ("calls", "used_fraction"): (0, 1, True, "a share from 0 to 1, or empty when unknown"),
    ("insights", "cpu_fraction"): (0, math.inf, True, "a share >= 0, or empty when unknown"),
    ("insights", "network_kb_per_invocation"): (0, math.inf, True, "KB >= 0, or empty when unknown"),
    **{("concurrency", c): (0, math.inf, True, "a number >= 0, or empty") for c in ("requested", "allocated")},
}

#: DuckDB's memory limit while checking tables still on disk (it spills to disk beyond it)
CHECK_MEMORY = "2GB"

#: Per table, the columns that identify a row. Two rows with the same key and other values are rejected (one
#: of them is wrong, and summing both would double counts); exact copies are dropped and flagged. Tables not
#: listed here are checked for exact copies only.
NATURAL_KEYS: dict[str, list[str]] = {
    "functions": KEY,
    "metrics": KEY + ["metric", "stat", "period_s", "timestamp"],
    "reports": KEY,
    "insights": KEY,
    "calls": KEY + ["service", "operation", "resource"],
    "concurrency": KEY + ["qualifier", "kind"],
}

#: Tables whose rows belong to a function that ``functions.csv`` must list (``evidence`` may name functions
#: deleted during a scan, so it is not one of them).
PER_FUNCTION = ("metrics", "reports", "report_samples", "triggers", "calls", "insights", "concurrency")

#: What a review loses without a table's rows (the text of the flag).
_NEEDED_FOR = {
    "metrics": "traffic, costs and every finding that needs them",
    "reports": "durations, cold starts and memory use from REPORT lines",
    "triggers": "trigger findings and prices",
}


def check(manifest: dict[str, Any], tables: dict[str, pd.DataFrame], where: dict[str, str] | None = None, *,
          runtimes: set[str] | None = None) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Check typed tables (:func:`~lambda_workbook.schema.validate_tables`' output). Raises
    :class:`~lambda_workbook.schema.SchemaError` on the first rejection (all of them in ``.problems``); returns the
    tables (exact copies and unpriceable functions removed) and the flags. ``where`` labels the files in
    rejections (a directory's paths); flags name the bare file. ``runtimes``: known runtime ids (default: the
    bundled runtime table). A table still on disk (a
    :class:`~lambda_workbook.lazytables.LazyTable`) is checked in DuckDB (:mod:`lambda_workbook.lazy_checks`)
    and stays on disk."""
    where = where or {}
    tables = dict(tables)
    con = connect(memory_limit=CHECK_MEMORY) if any(isinstance(v, LazyTable) for v in tables.values()) else None
    rejects: list[Problem] = []
    flags: list[Problem] = []

    def label(name: str) -> str:
        return where.get(name, TABLES[name].file)

    if "start" in manifest and "end" in manifest:
        try:
            if manifest_time(manifest, "end") <= manifest_time(manifest, "start"):
                rejects.append(Problem("reject", where.get("manifest", "manifest.json"), f"end {manifest['end']!r} is "
                                       f"not after start {manifest['start']!r}; a window must end after it starts",
                                       column="end"))
        except SchemaError as exc:
            rejects.append(Problem("reject", where.get("manifest", "manifest.json"), str(exc).split(": ", 1)[-1]))
    for name, df in tables.items():
        if isinstance(df, LazyTable):
            tables[name], copies, found = lazy_checks.check_table(con, df, LIMITS, NATURAL_KEYS, _value)
            flags += copies
            rejects += found
            continue
        rejects += _limits(name, df, label(name))
        tables[name], copies, conflicts = _duplicates(name, df, label(name))
        flags += copies
        rejects += conflicts
    rejects += _orphans(tables, label)
    rejects += [p for name in PER_FUNCTION if isinstance(tables.get(name), LazyTable)
                for p in lazy_checks.orphans(con, tables[name], tables["functions"])]
    if rejects:
        first = rejects[0].line()
        raise SchemaError(first + (f" ({len(rejects) - 1} more problem{'s' * (len(rejects) > 2)} after this one)"
                                   if len(rejects) > 1 else ""), rejects)
    flags = _empty(tables, con) + flags
    flags += _runtimes(tables["functions"], runtimes if runtimes is not None else known_runtimes())
    tables, dropped = _architectures(tables)
    return tables, flags + dropped


@functools.cache
def known_runtimes() -> frozenset[str]:
    """Runtime ids of the bundled runtime table (``data/runtimes/lambda-runtimes.json``)."""
    path = datafiles.data_dir() / "runtimes" / "lambda-runtimes.json"
    return frozenset(json.loads(path.read_text(encoding="utf-8"))["runtimes"])


def _problem(level: str, df: pd.DataFrame, pos: int, file: str, column: str, message: str, more: int = 0) -> Problem:
    text, key = describe_function(df, pos)
    return Problem(level, file, message, pos + 2, column, text, key, more)


def _value(v: Any) -> str:
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        v = float(v)
        return str(int(v)) if v.is_integer() else repr(v)
    return repr(str(v))


def _limits(name: str, df: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for (table, col), (lo, hi, nan_ok, allowed) in LIMITS.items():
        if table != name or col not in df.columns or df.empty:
            continue
        v = df[col].to_numpy(dtype=float)
        bad = (v < lo) | (v > hi) | (np.isnan(v) & (not nan_ok))
        if bad.any():
            pos = np.flatnonzero(bad)
            value = df[col].iloc[pos[0]]
            what = "is empty" if pd.isna(value) else f"{_value(value)} is out of range"
            out.append(_problem("reject", df, int(pos[0]), file, col, f"{what}; allowed: {allowed}", len(pos) - 1))
    return out


def _hash(df: pd.DataFrame, columns: list[str] | None = None) -> np.ndarray:
    return pd.util.hash_pandas_object(df[columns] if columns else df, index=False).to_numpy()


def _duplicates(name: str, df: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem], list[Problem]]:
    """Exact copies (dropped, flagged) and rows that share a natural key with other values (rejected)."""
    if name == "evidence" or len(df) < 2:
        return df, [], []
    key = NATURAL_KEYS.get(name)
    candidates = pd.Series(_hash(df, key)).duplicated(keep=False).to_numpy()   # hashes first: cheap on big tables
    if not candidates.any():
        return df, [], []
    flags, rejects = [], []
    copies = np.zeros(len(df), bool)
    copies[candidates] = df[candidates].duplicated().to_numpy()
    if copies.any():
        pos = np.flatnonzero(copies)
        flags.append(_problem("flag", df, int(pos[0]), TABLES[name].file, "", "an exact copy of an earlier row; "
                              "the copy is dropped, so the review counts the row once", len(pos) - 1))
        df = df[~copies].reset_index(drop=True)
    if key:
        sub = df[pd.Series(_hash(df, key)).duplicated(keep=False).to_numpy()]
        sub = sub[sub.duplicated(key, keep=False)]
        if len(sub):
            groups = sub.groupby(key, sort=False, dropna=False).indices
            a, b = (int(sub.index[i]) for i in min(groups.values(), key=lambda ix: ix[1])[:2])
            differ = [c for c in df.columns if c not in key and not (df.at[a, c] == df.at[b, c] or
                                                                      (pd.isna(df.at[a, c]) and pd.isna(df.at[b, c])))]
            col = differ[0] if differ else ""
            shown = ", ".join(f"{k}={df.at[b, k]}" for k in key if k not in KEY) or "the same function"
            values = f" ({_value(df.at[a, col])} in row {a + 2}, {_value(df.at[b, col])} here)" if col else ""
            rejects.append(_problem("reject", df, b, file, col, f"duplicate key ({shown}) with row {a + 2} but other "
                                    f"values{values}: one of them is wrong, and both would count twice; the key is "
                                    f"{', '.join(key)}", len(sub) - 2))
    return df, flags, rejects


def _orphans(tables: dict[str, pd.DataFrame], label) -> list[Problem]:
    known = _hash(tables["functions"], KEY) if len(tables["functions"]) else np.array([], np.uint64)
    out = []
    for name in PER_FUNCTION:
        df = tables.get(name)
        if df is None or isinstance(df, LazyTable) or df.empty:
            continue
        here = _hash(df, KEY)
        missing = ~np.isin(here, known)
        if missing.any():
            pos = np.flatnonzero(missing)
            n = len(set(here[missing]))
            out.append(_problem("reject", df, int(pos[0]), label(name), "function_name", f"no such function in "
                                f"functions.csv ({n} function{'s' * (n > 1)} with rows here {'are' if n > 1 else 'is'} "
                                "missing from it: is functions.csv truncated?); every row must belong to a function "
                                "functions.csv lists", len(pos) - 1))
    return out


def _rows(df, con) -> int:
    return df.count(con) if isinstance(df, LazyTable) else len(df)


def _empty(tables: dict[str, pd.DataFrame], con=None) -> list[Problem]:
    if tables["functions"].empty:
        return [Problem("flag", TABLES["functions"].file, "no rows: the snapshot holds no function")]
    out = []
    ev = tables.get("evidence")
    for name, table in TABLES.items():
        if not table.required or name == "functions" or _rows(tables[name], con):
            continue
        why = ev[ev["item"].str.split(":").str[0] == name]["reason"] if ev is not None and len(ev) else []
        reason = f" (evidence.csv: {'; '.join(dict.fromkeys(why))})" if len(why) else ""
        out.append(Problem("flag", table.file, f"no rows{reason}; the review has no "
                           f"{_NEEDED_FOR.get(name, name)} for any function"))
    return out


def _runtimes(functions: pd.DataFrame, known: set[str] | frozenset[str]) -> list[Problem]:
    out = []
    for pos, runtime in enumerate(functions["runtime"]):
        if runtime and runtime not in known:
            out.append(_problem("flag", functions, pos, TABLES["functions"].file, "runtime", f"runtime {runtime!r} is "
                                "not in the workbook's runtime table (data/runtimes/lambda-runtimes.json); its end of "
                                "support is not judged, the rest of the review is"))
    return out


def _architectures(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    f = tables["functions"]
    bad = ~f["arch"].isin(billing.ARCHITECTURES).to_numpy()
    if not bad.any():
        return tables, []
    flags = [_problem("flag", f, int(pos), TABLES["functions"].file, "arch", f"architecture {f['arch'].iloc[pos]!r} "
                      f"is not one the workbook prices ({', '.join(billing.ARCHITECTURES)}); the function and its "
                      "rows are left out of the review") for pos in np.flatnonzero(bad)]
    keep = _hash(f[~bad], KEY)
    out = {}
    for name, df in tables.items():
        if isinstance(df, LazyTable):
            df = df.restrict(f[~bad])
        elif (name in PER_FUNCTION or name == "functions") and len(df):
            df = df[np.isin(_hash(df, KEY), keep)].reset_index(drop=True)
        out[name] = df
    return out, flags


def schema_markdown() -> str:
    """The schema and the checks as Markdown (``lambda-workbook schema``, :func:`lambda_workbook.schema.markdown`)."""
    from .schema import REQUIRED_MANIFEST, SCHEMA_VERSION

    lines = ["# Account snapshot schema", "", f"Schema version {SCHEMA_VERSION}. A snapshot is a directory with "
             "`manifest.json` and the files below. Per-function tables are keyed by "
             "`account_id, region, function_name`.", "",
             "`manifest.json` keys: " + ", ".join(f"`{k}`" for k in REQUIRED_MANIFEST)
             + ", plus optional `lookback_days`, `accounts`, `regions`, `scan_cost`, `notes`, `rows` (each "
             "file's data rows, written by the workbook; a file holding another number is rejected as truncated "
             "or edited) and `format` (`parquet` when `metrics` and `report_samples` are folders of Parquet files "
             "partitioned as `<table>/account_id=<id>/region=<code>/part-0.parquet`; absent for CSV).", ""]
    for t in TABLES.values():
        lines += [f"## `{t.file}` — {t.name}{'' if t.required else ' (optional)'}", "", t.doc, "",
                  "| column | type | required | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | {c.doc} |" for c in t.columns]
        lines.append("")
    return "\n".join(lines + markdown())


def markdown() -> list[str]:
    """The checks as Markdown lines (appended to ``lambda-workbook schema``)."""
    lines = ["## Checks: what is rejected, what is flagged", "",
             "A snapshot is checked before anything reviews it. **Rejected** (one error line naming file, row, "
             "column and function; the header is row 1) when the review would be wrong; **flagged** (listed on "
             "the review's index page and in `review.json`, the review goes on) when the review is right but "
             "incomplete. `lambda-workbook review` exits 2 on a rejection (before any run folder exists), 1 when "
             "a notebook or a check failed (the pack is written and says which), else 0 (flags included).", "",
             "| problem | decision |", "|---|---|",
             "| a 0-byte file, a file that cannot be read, a file with fewer or more rows than `manifest.json`'s "
             "`rows` records | rejected (truncated or edited) |",
             "| a required table with only its header while `functions.csv` lists functions, unless the manifest "
             "records 0 rows or `evidence.csv` says why | rejected (truncated); flagged when explained |",
             "| `functions.csv` with no function | rejected when read from a directory; a review needs one |",
             "| a number that is not a number, not finite (`inf`, `-inf`), or not whole in an int column (e.g. "
             "`1024.7` MB); an empty int, metric value or timestamp; a timestamp that is not ISO 8601 | rejected |",
             "| a value outside its range (below) | rejected |",
             "| two rows with the same key and other values (keys below) | rejected |",
             "| exact copies of a row | flagged; the copies are dropped |",
             "| rows of a function `functions.csv` does not list (tables "
             + ", ".join(f"`{TABLES[t].file}`" for t in PER_FUNCTION) + ") | rejected (`functions.csv` truncated?) |",
             "| a `manifest.json` that is not a UTF-8 JSON object, a `start`/`end` that is not a timestamp, an `end` not "
             "after `start` | rejected |",
             "| a runtime not in `data/runtimes/lambda-runtimes.json` | flagged; end of support not judged |",
             f"| an architecture other than {', '.join(billing.ARCHITECTURES)} | flagged; that function is left "
             "out |", "",
             "| file | column | allowed |", "|---|---|---|"]
    lines += [f"| `{TABLES[t].file}` | `{c}` | {allowed} |" for (t, c), (_, _, _, allowed) in LIMITS.items()]
    lines += ["", "| file | key |", "|---|---|"]
    lines += [f"| `{TABLES[t].file}` | {', '.join(f'`{k}`' for k in key)} |" for t, key in NATURAL_KEYS.items()]
    return lines + [""]
