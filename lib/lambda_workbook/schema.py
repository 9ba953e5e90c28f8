"""The account snapshot: the tidy tables every model shares, documented in one place.

A snapshot is a directory holding ``manifest.json`` and one file per table (CSV, gzip-compressed for the large
ones; or the per-minute and per-sample tables as Parquet folders that stay on disk, :mod:`.lazytables`). The
same tables come from the embedded sample account, a saved snapshot, or a live AWS scan. Every per-function
table is keyed by ``account_id, region, function_name``. No table holds a secret: environment
variables appear by *name* only, and nothing that reads an account may store their values.

:data:`TABLES` is the schema; ``lambda-workbook schema`` prints it as Markdown. Reading and writing the
directory is the sources layer's job (:mod:`lambda_workbook.sources.snapshot`); this module is pure.

A snapshot refuses to lie. Every :class:`Snapshot` is typed here and then checked by
:mod:`lambda_workbook.snapshot_checks` before anything reviews it, by one rule: **reject** when the review would
be wrong (a value no account can have, a number that is not finite or not whole where a whole number is
required, a bad timestamp, two different rows under one key, rows of a function that ``functions.csv`` does not
list, a window that ends before it starts, a truncated or 0-byte file); **flag and keep going** when the review
is right but incomplete (an unknown runtime, an architecture the workbook cannot price, whose function is left
out, a table without rows, exact duplicate rows, whose copies are dropped). A rejection raises
:class:`SchemaError` with one line naming the file, row (the file's own: the header is row 1), column and
function; flags are kept in :attr:`Snapshot.flags` and travel with the review.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .lazytables import KEY, LazyTable, TableMap, frame_relation, function_keys, rows_of
from .renamed import renamed

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str" | "int" | "float" | "bool" | "datetime"
    doc: str
    required: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    doc: str
    columns: tuple[Column, ...]
    required: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


_KEY_COLUMNS = (
    Column("account_id", "str", "12-digit AWS account id"),
    Column("region", "str", "AWS region code, e.g. us-east-1"),
    Column("function_name", "str", "Lambda function name"),
)


TABLES: dict[str, Table] = {t.name: t for t in [
    Table("functions", "functions.csv", "One row per function: its configuration. No secret values.", _KEY_COLUMNS + (
        Column("function_arn", "str", "unqualified function ARN"),
        Column("runtime", "str", "runtime identifier (python3.12, nodejs20.x, java21, provided.al2023, ...); empty for images"),
        Column("handler", "str", "handler entry point", required=False),
        Column("memory_mb", "int", "configured memory (MB)"),
        Column("arch", "str", "x86_64 or arm64"),
        Column("timeout_s", "int", "configured timeout (s)"),
        Column("ephemeral_storage_mb", "int", "configured /tmp size (MB)"),
        Column("package_type", "str", "Zip or Image"),
        Column("code_size_bytes", "int", "deployment package size (bytes)"),
        Column("layer_count", "int", "number of layers"),
        Column("layers", "str", "layer ARNs joined by ';'", required=False),
        Column("vpc_id", "str", "VPC id when attached, else empty"),
        Column("subnet_count", "int", "subnets of the VPC config"),
        Column("security_group_count", "int", "security groups of the VPC config"),
        Column("tracing_mode", "str", "Active or PassThrough"),
        Column("log_group", "str", "CloudWatch log group"),
        Column("log_format", "str", "Text or JSON"),
        Column("role_arn", "str", "execution role ARN"),
        Column("last_modified", "str", "LastModified as reported by Lambda"),
        Column("state", "str", "Active, Inactive, Pending, Failed"),
        Column("env_var_names", "str", "environment variable NAMES joined by ';' (values are never read into a snapshot)"),
        Column("reserved_concurrency", "float", "reserved concurrency, NaN when unreserved"),
        Column("provisioned_concurrency", "float", "provisioned concurrency summed over aliases/versions, NaN when none"),
        Column("aliases", "str", "alias names joined by ';'", required=False),
        Column("function_url_auth", "str", "function URL auth type (NONE, AWS_IAM) or empty", required=False),
        Column("description", "str", "function description", required=False),
    )),
    Table("metrics", "metrics.csv.gz", "CloudWatch AWS/Lambda metric datapoints in long form; sparse "
          "(a period with no datapoint has no row). Besides CloudWatch names, 'Timeouts' (stat Sum, daily) is "
          "counted from REPORT/'Task timed out' log lines.", _KEY_COLUMNS + (
        Column("metric", "str", "metric name: Invocations, Errors, Throttles, Duration, ConcurrentExecutions, IteratorAge, AsyncEventAge, ProvisionedConcurrency*, Timeouts"),
        Column("stat", "str", "Sum, Average, Maximum, Minimum, SampleCount, p50, p90, p99"),
        Column("period_s", "int", "period of the datapoint (60, 300, 3600, 86400)"),
        Column("timestamp", "datetime", "period start, UTC"),
        Column("value", "float", "datapoint value (ms for durations and ages)"),
    )),
    Table("reports", "reports.csv", "REPORT-line statistics per function over the snapshot window, computed "
          "server-side by Logs Insights or locally from a sample of lines; 'path' says which.", _KEY_COLUMNS + (
        Column("log_group", "str", "log group the lines came from"),
        Column("invocations", "int", "REPORT lines counted"),
        Column("cold_starts", "int", "lines with an Init Duration"),
        Column("timeouts", "int", "lines with Status: timeout", required=False),
        Column("init_p50_ms", "float", "median Init Duration of cold starts (NaN without cold starts)"),
        Column("init_p99_ms", "float", "p99 Init Duration"),
        Column("init_mean_ms", "float", "mean Init Duration", required=False),
        Column("duration_p50_ms", "float", "median Duration"),
        Column("duration_p99_ms", "float", "p99 Duration"),
        Column("duration_mean_ms", "float", "mean Duration", required=False),
        Column("billed_ms_sum", "float", "sum of Billed Duration over the lines counted"),
        Column("max_memory_used_p50_mb", "float", "median Max Memory Used"),
        Column("max_memory_used_p99_mb", "float", "p99 Max Memory Used"),
        Column("max_memory_used_max_mb", "float", "largest Max Memory Used"),
        Column("memory_size_mb", "float", "Memory Size reported on the lines (largest seen)"),
        Column("path", "str", "how the numbers were produced: sample | insights | filter_log_events"),
        Column("sampled_fraction", "float", "share of the window's invocations the statistics cover (1.0 = all)"),
    )),
    Table("report_samples", "report_samples.csv.gz", "Raw REPORT lines (text or JSON platform.report) kept as "
          "evidence: a bounded sample per function.", _KEY_COLUMNS + (
        Column("timestamp", "datetime", "event time, UTC"),
        Column("message", "str", "the log line as CloudWatch Logs stores it"),
    ), required=False),
    Table("triggers", "triggers.csv", "What invokes each function: event source mappings, APIs, URLs, "
          "subscriptions, rules, notifications, and resource-policy principals as a fallback.", _KEY_COLUMNS + (
        Column("source_type", "str", "apigw-rest, apigw-http, apigw-websocket, function-url, alb, sqs, sqs-fifo, sns, eventbridge, schedule, kinesis, dynamodb-streams, msk, s3, sfn-standard, sfn-express, invoke-sync, invoke-async, unknown"),
        Column("source_arn", "str", "ARN or id of the source (API id, queue ARN, rule ARN, ...)"),
        Column("sync", "bool", "whether the caller waits for the function's response"),
        Column("batch_size", "float", "event source mapping batch size, NaN otherwise"),
        Column("batch_window_s", "float", "MaximumBatchingWindowInSeconds, NaN otherwise"),
        Column("parallelization", "float", "ParallelizationFactor for streams, NaN otherwise"),
        Column("filter_count", "int", "event filter patterns on the mapping", required=False),
        Column("enabled", "bool", "mapping / rule enabled"),
        Column("payload_kb", "float", "typical event payload (KB) when known, NaN otherwise", required=False),
        Column("detail", "str", "human-readable detail (route, queue name, rule pattern summary)", required=False),
        Column("evidence", "str", "which API or signal produced the row"),
    )),
    Table("calls", "calls.csv", "Downstream calls a function makes per invocation (from X-Ray, Lambda "
          "Insights or entered by hand). Evidence for read, transport and orchestration findings.", _KEY_COLUMNS + (
        Column("service", "str", "dynamodb, s3, sqs, sns, kinesis, ses, http, rds, stepfunctions, lambda, wait"),
        Column("operation", "str", "API operation (Scan, Query, GetItem, GetObject, PutRecord, Publish, sleep, ...)"),
        Column("resource", "str", "table, bucket, queue, URL host, ...", required=False),
        Column("calls_per_invocation", "float", "mean calls per invocation"),
        Column("mean_ms", "float", "mean time per call (ms)"),
        Column("response_kb", "float", "mean bytes returned per call (KB)"),
        Column("used_fraction", "float", "share of the returned bytes the function actually uses (NaN unknown)"),
        Column("items_evaluated", "float", "DynamoDB items read per call (NaN otherwise)"),
        Column("items_returned", "float", "DynamoDB items returned per call after filters (NaN otherwise)"),
        Column("item_kb", "float", "mean DynamoDB item size (KB)", required=False),
        Column("retries_per_invocation", "float", "retries of this call per invocation", required=False),
        Column("result_used", "bool", "whether the function's response depends on the call's result", required=False),
        Column("evidence", "str", "xray | insights | manual | sample"),
    ), required=False),
    Table("insights", "insights.csv", "Per-function runtime statistics beyond REPORT lines (Lambda Insights, "
          "X-Ray): CPU share of duration, network bytes.", _KEY_COLUMNS + (
        Column("cpu_fraction", "float", "CPU time / wall duration of warm invocations (0-1+, NaN unknown)"),
        Column("network_kb_per_invocation", "float", "bytes received + sent per invocation (KB)", required=False),
        Column("evidence", "str", "lambda-insights | xray | sample"),
    ), required=False),
    Table("roles", "roles.csv", "Execution-role policy statements, one row per (action, resource).", (
        Column("account_id", "str", "12-digit AWS account id"),
        Column("role_arn", "str", "role ARN (joins functions.role_arn)"),
        Column("policy_name", "str", "managed or inline policy name"),
        Column("effect", "str", "Allow or Deny"),
        Column("action", "str", "one action, possibly with wildcards (s3:*, *)"),
        Column("resource", "str", "one resource ARN pattern"),
    ), required=False),
    Table("concurrency", "concurrency.csv", "Reserved and provisioned concurrency per alias or version.", _KEY_COLUMNS + (
        Column("qualifier", "str", "alias or version ('' for the function itself)"),
        Column("kind", "str", "reserved | provisioned"),
        Column("requested", "float", "configured value"),
        Column("allocated", "float", "allocated value (provisioned), NaN otherwise"),
        Column("status", "str", "READY, IN_PROGRESS, FAILED, or empty"),
    ), required=False),
    Table("evidence", "evidence.csv", "Evidence the snapshot lacks or only sampled, and why "
          "(AccessDenied, not supported, deleted mid-scan, ...).", (
        Column("account_id", "str", "account"),
        Column("region", "str", "region"),
        Column("function_name", "str", "function, or empty for account-wide evidence"),
        Column("item", "str", "what is missing (percentiles, reports, triggers:s3, roles, ...)"),
        Column("status", "str", "missing | partial | sampled | skipped"),
        Column("reason", "str", "why"),
    ), required=False),
]}


@renamed(function_name="function")
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a snapshot, located: file, row (the file's: the header is row 1), column, function.

    ``level`` is ``"reject"`` (the review would be wrong) or ``"flag"`` (the review is right but incomplete);
    ``more`` counts further rows with the same problem; ``key`` is the function's ``(account_id, region,
    function_name)`` when the problem belongs to one.
    """

    level: str
    file: str
    message: str
    row: int | None = None
    column: str = ""
    function_name: str = ""
    key: tuple | None = None
    more: int = 0

    def line(self) -> str:
        """The problem as one line: ``file, row N, column 'c', function 'f' (account, region): what; allowed``."""
        where = [self.file] + [f"row {self.row}"] * (self.row is not None) + [f"column {self.column!r}"] * bool(
            self.column) + [f"function {self.function_name}"] * bool(self.function_name)
        tail = f" (and {self.more} more row{'s' * (self.more > 1)} like it)" if self.more else ""
        return " ".join(f"{', '.join(where)}: {self.message}{tail}".split())

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "file": self.file, "row": self.row, "column": self.column,
                "function_name": self.key[2] if self.key else "", "account_id": self.key[0] if self.key else "",
                "region": self.key[1] if self.key else "", "more": self.more, "message": self.message,
                "line": self.line()}

    def map_text(self, fn) -> Problem:
        """The same problem with ``fn`` applied to its text (redaction)."""
        key = tuple(fn(str(k)) for k in self.key) if self.key else None
        return replace(self, file=fn(self.file), message=fn(self.message), function_name=fn(self.function_name),
                       key=key)


class SchemaError(ValueError):
    """A snapshot does not match the schema or fails a check. The message is one line naming the file (and the
    row, column and function when one is at fault); :attr:`problems` holds every rejection found."""

    def __init__(self, message: str, problems: list[Problem] | tuple = ()):
        super().__init__(" ".join(str(message).split()))
        self.problems = list(problems)


def describe_function(df: pd.DataFrame, pos: int) -> tuple[str, tuple | None]:
    """A row's function as text (``'name' (account, region)``) and key, by position; ``("", None)`` if none."""
    if set(KEY) <= set(df.columns):
        key = tuple(str(v) for v in df[KEY].iloc[pos])
        return (f"{key[2]!r} ({key[0]}, {key[1]})" if key[2] else ""), (key if key[2] else None)
    if "role_arn" in df.columns:
        return f"role {df['role_arn'].iloc[pos]}", None
    return "", None


def _coerce(df: pd.DataFrame, table: Table, where: str) -> pd.DataFrame:
    df = df.copy()
    for col in table.columns:
        if col.name not in df.columns:
            if col.required:
                raise SchemaError(f"{where}: missing column {col.name!r} (table {table.name!r} requires "
                                  f"{', '.join(c.name for c in table.columns if c.required)})")
            df[col.name] = _empty_value(col.dtype)
        try:
            df[col.name] = _convert(df[col.name], col.dtype)
        except _BadCells as bad:
            pos = int(bad.positions[0])
            label, key = describe_function(df, pos)
            what = bad.reason if bad.reason.startswith("empty") else f"{df[col.name].iloc[pos]!r} {bad.reason}"
            problem = Problem("reject", where, f"{what}; column {col.name!r} holds {_ALLOWED[col.dtype]}", pos + 2,
                              col.name, label, key, len(bad.positions) - 1)
            raise SchemaError(problem.line(), [problem]) from None
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"{where}: column {col.name!r} is not {col.dtype}: {exc}") from None
    extra = [c for c in df.columns if c not in table.column_names]
    return df[table.column_names + extra]


_ALLOWED = {"int": "whole numbers", "float": "finite numbers (empty = unknown)", "bool": "true/false",
            "datetime": "ISO 8601 timestamps (e.g. 2026-10-18T00:00:00Z)", "str": "text"}


class _BadCells(ValueError):
    def __init__(self, positions: np.ndarray, reason: str):
        super().__init__(reason)
        self.positions, self.reason = positions, reason


def _present(series: pd.Series) -> np.ndarray:
    return (series.notna() & (series.astype(str).str.strip() != "")).to_numpy()


def _fail_where(mask: np.ndarray, reason: str) -> None:
    if mask.any():
        raise _BadCells(np.flatnonzero(mask), reason)


def _empty_value(dtype: str) -> Any:
    return {"str": "", "int": 0, "float": np.nan, "bool": False, "datetime": pd.NaT}[dtype]


def _convert(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "str":
        return series.astype(object).where(series.notna(), "").astype(str)
    if dtype in ("int", "float"):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        missing = values.isna().to_numpy()
        if missing.any():
            present = missing & _present(series)
            _fail_where(present, "is not a number")
            if dtype == "int":
                _fail_where(missing, "empty (a whole number is required)")
        finite = np.isfinite(values.to_numpy())
        _fail_where(~finite & ~missing, "is not a finite number")
        if dtype == "float":
            return values
        _fail_where(values.to_numpy() % 1 != 0, "is not a whole number")
        return values.astype("int64")
    if dtype == "bool":
        if series.dtype == bool:
            return series
        mapped = series.map(lambda v: {"true": True, "false": False, "1": True, "0": False}.get(str(v).strip().lower()))
        _fail_where(mapped.isna().to_numpy(), "is not a boolean")
        return mapped.astype(bool)
    if dtype == "datetime":
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out = series.dt.tz_convert("UTC")
        else:
            out = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
        missing = out.isna().to_numpy()
        if missing.any():
            _fail_where(missing & _present(series), "is not an ISO 8601 timestamp")
            _fail_where(missing, "empty (a timestamp is required)")
        return out
    raise AssertionError(dtype)


def typed(df: pd.DataFrame, name: str, where: str) -> pd.DataFrame:
    """``df`` typed as table ``name`` (errors name ``where``)."""
    return _coerce(df, TABLES[name], where).reset_index(drop=True)


def empty(name: str) -> pd.DataFrame:
    """An empty, correctly typed table."""
    table = TABLES[name]
    return _coerce(pd.DataFrame({c.name: pd.Series([], dtype=object) for c in table.columns}), table, name)


@dataclass
class Snapshot:
    """An account snapshot: a manifest and the schema's tables (optional ones may be empty). A table is a
    DataFrame or, from a columnar snapshot, a :class:`~lambda_workbook.lazytables.LazyTable` still on disk that
    ``tables[name]`` reads into pandas on first access (:meth:`is_lazy`, :meth:`relation`)."""

    manifest: dict[str, Any]
    tables: TableMap = field(default_factory=TableMap)
    path: Any = None
    #: problems flagged (not rejected) by :func:`lambda_workbook.snapshot_checks.check`; None = check now
    flags: list[Problem] | None = None

    def __post_init__(self) -> None:
        raw = self.tables._tables if isinstance(self.tables, TableMap) else self.tables
        where = {n: str(Path(self.path) / t.file) for n, t in TABLES.items()} if self.path is not None else {}
        where.update({n: v.label for n, v in raw.items() if isinstance(v, LazyTable)})
        tables = validate_tables(raw, where)
        if self.flags is None:
            from . import snapshot_checks

            tables, self.flags = snapshot_checks.check(self.manifest, tables, where)
        self.tables = TableMap(tables)

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name != "tables" and name in TABLES:
            return self.tables[name]
        raise AttributeError(name)

    def is_lazy(self, name: str) -> bool:
        """Whether table ``name`` is still on disk (``tables[name]`` would read it into pandas)."""
        return self.tables.is_lazy(name)

    def relation(self, name: str, con):
        """Table ``name`` as a ``duckdb.DuckDBPyRelation`` on ``con``: over its files when lazy, else over the
        DataFrame; the schema's columns and types (an empty table too). Reads no row into pandas."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r} in the snapshot schema (tables: {', '.join(TABLES)})")
        value = self.tables.raw(name)
        return value.relation(con) if isinstance(value, LazyTable) else frame_relation(con, value, name)

    @property
    def accounts(self) -> list[str]:
        return sorted(self.functions["account_id"].unique())

    @property
    def regions(self) -> list[str]:
        return sorted(self.functions["region"].unique())

    @property
    def window_days(self) -> float:
        start, end = manifest_time(self.manifest, "start"), manifest_time(self.manifest, "end")
        return (end - start).total_seconds() / 86400.0

    @renamed(function_name="name")
    def function(self, function_name: str, *, account_id: str | None = None, region: str | None = None) -> pd.Series:
        """One function's configuration row; an unknown or ambiguous name is a clear error."""
        f, name = self.functions, function_name
        mask = f["function_name"] == name
        if account_id:
            mask &= f["account_id"] == account_id
        if region:
            mask &= f["region"] == region
        rows = f[mask]
        if rows.empty:
            sample = ", ".join(sorted(f["function_name"].unique())[:8])
            raise KeyError(f"function {name!r} is not in this snapshot (functions include: {sample}, ...)")
        if len(rows) > 1:
            raise KeyError(f"function {name!r} exists in several accounts/regions; pass account_id and region")
        return rows.iloc[0]

    @renamed(function_name="name")
    def for_function(self, table: str, function_name: str, *, account_id: str | None = None,
                     region: str | None = None) -> pd.DataFrame:
        """Rows of a per-function table that belong to one function."""
        fn = self.function(function_name, account_id=account_id, region=region)
        if self.is_lazy(table):    # that function's rows only, not the whole table
            return self.tables.raw(table).restrict(pd.DataFrame([fn[KEY]])).to_frame()
        df = self.tables[table]
        mask = (df["function_name"] == function_name) & (df["account_id"] == fn["account_id"]) & (df["region"] == fn["region"])
        return df[mask]

    def in_regions(self, regions: list[str] | None) -> Snapshot:
        """The snapshot restricted to ``regions`` (None keeps every region); an unknown region is an error."""
        return self._within("region", regions, "region")

    def in_accounts(self, accounts: list[str] | None) -> Snapshot:
        """The snapshot restricted to ``accounts`` (None keeps every account); an unknown account is an error."""
        return self._within("account_id", accounts, "account")

    def _within(self, column: str, values: list[str] | None, what: str) -> Snapshot:
        if not values:
            return self
        held = sorted(self.functions[column].unique())
        unknown = sorted(set(values) - set(held))
        if unknown:
            raise ValueError(f"{what}(s) {unknown} are not in this snapshot (it holds {', '.join(held)})")
        return self.subset(self.functions[self.functions[column].isin(values)])

    def subset(self, functions: pd.DataFrame) -> Snapshot:
        """A snapshot restricted to the functions (rows of ``functions``) given."""
        keys = function_keys(functions)
        tables = {name: df.restrict(functions) if isinstance(df, LazyTable) else rows_of(df, keys)
                  if set(KEY) <= set(df.columns) else df for name, df in self.tables.raw_items()}
        pairs, held = {k[:2] for k in keys}, function_keys(self.functions)   # a flag of a function left out at
        flags = [f for f in self.flags or [] if f.key is None or f.key in keys   # loading follows its region
                 or (f.key not in held and f.key[:2] in pairs)]
        return Snapshot(dict(self.manifest), tables, self.path, flags)


def validate_tables(tables: dict[str, pd.DataFrame], where: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Check and type every table; required tables must exist, unknown table names are refused. A
    :class:`~lambda_workbook.lazytables.LazyTable` passes as it is (the I/O edge checked its files)."""
    where = where or {}
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise SchemaError(f"unknown snapshot tables {sorted(unknown)}; the schema has {sorted(TABLES)}")
    out = {}
    for name, table in TABLES.items():
        label = where.get(name, table.file)
        if name not in tables or tables[name] is None:
            if table.required:
                raise SchemaError(f"{label}: required table {name!r} is missing")
            out[name] = empty(name)
            continue
        if isinstance(tables[name], LazyTable):
            out[name] = tables[name]
            continue
        out[name] = _coerce(tables[name], table, label).reset_index(drop=True)
    return out


REQUIRED_MANIFEST = ("schema_version", "source", "created", "start", "end")


def manifest_time(manifest: dict[str, Any], key: str, where: str = "manifest.json") -> pd.Timestamp:
    """``manifest[key]`` as a UTC timestamp (naive = UTC); anything else is a one-line :class:`SchemaError`."""
    value = manifest.get(key)
    try:
        if not isinstance(value, str | datetime.datetime):
            raise TypeError
        ts = pd.Timestamp(value) if isinstance(value, datetime.datetime) else pd.to_datetime(value, format="ISO8601")
        if pd.isna(ts):
            raise ValueError
    except (ValueError, TypeError, OverflowError):
        raise SchemaError(f"{where}: key {key!r}: {value!r} is not a timestamp; allowed: an ISO 8601 date or time, "
                          "e.g. 2026-10-18T00:00:00Z") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def validate_manifest(manifest: dict[str, Any], where: str = "manifest.json") -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise SchemaError(f"{where}: expected a JSON object with keys {', '.join(REQUIRED_MANIFEST)}, "
                          f"got a JSON {type(manifest).__name__}")
    missing = [k for k in REQUIRED_MANIFEST if k not in manifest]
    if missing:
        raise SchemaError(f"{where}: missing key(s) {missing}")
    if manifest["schema_version"] != SCHEMA_VERSION:
        raise SchemaError(f"{where}: schema_version {manifest['schema_version']!r} is not supported "
                          f"(this workbook reads version {SCHEMA_VERSION})")
    start, end = manifest_time(manifest, "start", where), manifest_time(manifest, "end", where)
    if end <= start:
        raise SchemaError(f"{where}: key 'end': {manifest['end']!r} is not after start {manifest['start']!r}; "
                          "a snapshot's window must end after it starts")
    return manifest


def markdown() -> str:
    """The schema as Markdown (``lambda-workbook schema``): the tables, then the checks."""
    from . import snapshot_checks

    return snapshot_checks.schema_markdown()
