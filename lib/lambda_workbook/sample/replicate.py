"""An organisation-sized account built from the sample's functions, as SQL: for scale tests, not for findings.

:func:`plan` returns, per table, one DuckDB ``SELECT`` over the sample account's tables (views named
``sample_<table>``) cross-joined with ``range(copies)``: copy ``k`` of function ``f`` is ``<f>-<k>``, in account
``accounts[k % len(accounts)]`` and region ``regions[(k // len(accounts)) % len(regions)]``, with its ARNs and
log groups renamed to match. Timestamps are kept; each copy's traffic (counts, sums, billed time) is scaled by
a factor from 0.9 to 1.1 fixed by ``seed`` and the copy's number, so copies differ a little, deterministically,
and every table of a copy agrees with the others. Durations, configuration and the REPORT lines' text are
the sample's own.

Nothing here writes: :func:`replicate` hands the plan to :mod:`lambda_workbook.sources.replica`, which streams
the big tables from DuckDB to Parquet, so 10,000 functions (about 200 million metric rows) never sit in pandas.
The bundled price book covers us-east-1 only, so the default spreads copies over accounts in that region; other
regions can be named, and their functions are then reviewed without prices.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema import SCHEMA_VERSION, TABLES
from .archetypes import ARCHETYPES, DAYS, END

#: accounts copies go to by default (synthetic ids, none of them a real account)
ACCOUNTS = ("210000000001", "210000000002", "210000000003", "210000000004", "210000000005")
REGIONS = ("us-east-1",)
#: metrics whose Sum is a time in ms (scaled, not rounded); every other Sum or SampleCount is a count
_TIME_METRICS = ("Duration", "IteratorAge", "AsyncEventAge", "OffsetLag", "PostRuntimeExtensionsDuration")
#: text columns naming the function, its account or region, per table
_RENAMED = {"functions": ("function_arn", "log_group", "role_arn"), "reports": ("log_group",),
            "triggers": ("source_arn",)}
_SCALED = {"reports": {"invocations": "round", "cold_starts": "round", "timeouts": "round", "billed_ms_sum": "scale"}}


@dataclass(frozen=True)
class Plan:
    """What :func:`replicate` writes: one query per table and the manifest (``rows`` added by the writer)."""

    n_functions: int
    copies: int
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    days: int
    seed: int
    queries: dict[str, str]
    manifest: dict[str, Any]


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _list(values) -> str:
    return "[" + ", ".join(_literal(v) for v in values) + "]"


def _check(n_functions: int, days: int, accounts, regions, seed: int) -> None:
    if not isinstance(n_functions, int) or isinstance(n_functions, bool) or n_functions < 1:
        raise ValueError(f"n_functions {n_functions!r} is not allowed; allowed: a whole number >= 1")
    if not isinstance(days, int) or not 1 <= days <= DAYS:
        raise ValueError(f"days {days!r} is not allowed; allowed: whole days from 1 to {DAYS} (the sample's window)")
    for what, values in (("accounts", accounts), ("regions", regions)):
        if not values or len(set(values)) != len(values):
            raise ValueError(f"{what} {list(values)!r} is not allowed; allowed: one or more distinct values")
    bad = [a for a in accounts if not (len(a) == 12 and a.isdigit())]
    if bad:
        raise ValueError(f"account {bad[0]!r} is not allowed; allowed: 12-digit account ids")
    if not isinstance(seed, int):
        raise ValueError(f"seed {seed!r} is not allowed; allowed: a whole number")


def plan(n_functions: int, *, days: int = DAYS, accounts=ACCOUNTS, regions=REGIONS, seed: int = 0) -> Plan:
    """The SQL of an ``n_functions`` account (see the module's text). Pure: builds strings."""
    accounts, regions = tuple(map(str, accounts)), tuple(map(str, regions))
    _check(n_functions, days, accounts, regions, seed)
    per_copy = len(ARCHETYPES)
    copies = -(-n_functions // per_copy)
    start = END - datetime.timedelta(days=days)
    traffic = f"({days} / {DAYS}.0)"
    copy_cte = f"""
    WITH src AS (
        SELECT account_id AS src_account, region AS src_region, function_name AS src_name,
               row_number() OVER (ORDER BY account_id, region, function_name) - 1 AS idx
        FROM sample_functions),
    copies AS (
        SELECT range AS copy,
               {_list(accounts)}[range % {len(accounts)} + 1] AS account_id,
               {_list(regions)}[(range // {len(accounts)}) % {len(regions)} + 1] AS region,
               0.9 + 0.2 * ((range * 2654435761 + {int(seed)} * 40503) % 10007) / 10007.0 AS factor
        FROM range({copies})),
    fc AS (
        SELECT src.*, copies.copy, copies.account_id, copies.region, copies.factor,
               src.src_name || '-' || copies.copy AS function_name
        FROM src CROSS JOIN copies
        WHERE copies.copy * {per_copy} + src.idx < {n_functions})"""
    queries = {}
    for name in ("functions", "metrics", "reports", "report_samples", "triggers", "calls", "insights", "concurrency"):
        cols = []
        for col in TABLES[name].column_names:
            if col in ("account_id", "region", "function_name"):
                cols.append(f"fc.{col}")
            elif col in _RENAMED.get(name, ()):
                cols.append(f"{_renamed(f't.{col}')} AS {col}")
            elif col in _SCALED.get(name, {}):
                scaled = f"t.{col} * fc.factor * {traffic}"
                cols.append(f"{'round(' + scaled + ')' if _SCALED[name][col] == 'round' else scaled} AS {col}")
            elif name == "metrics" and col == "value":
                cols.append(f"CASE WHEN t.stat IN ('Sum', 'SampleCount') THEN CASE WHEN t.metric IN "
                            f"({', '.join(map(_literal, _TIME_METRICS))}) THEN t.value * fc.factor ELSE "
                            "round(t.value * fc.factor) END ELSE t.value END AS value")
            else:
                cols.append(f"t.{col}")
        window = (f" WHERE t.timestamp >= TIMESTAMPTZ {_literal(start.isoformat())}"
                  if name in ("metrics", "report_samples") and days < DAYS else "")
        queries[name] = (f"{copy_cte}\n    SELECT {', '.join(cols)}\n    FROM sample_{name} AS t JOIN fc ON "
                         "t.account_id = fc.src_account AND t.region = fc.src_region AND t.function_name = "
                         f"fc.src_name{window}")
    used = _list(accounts[:min(len(accounts), copies)])
    queries["roles"] = (f"SELECT DISTINCT a.account_id, replace(t.role_arn, t.account_id, a.account_id) AS role_arn, "
                        "t.policy_name, t.effect, t.action, replace(t.resource, t.account_id, a.account_id) AS resource "
                        f"FROM sample_roles AS t CROSS JOIN (SELECT unnest({used}) AS account_id) AS a")
    manifest = {"schema_version": SCHEMA_VERSION, "source": "replica", "created": END.isoformat(),
                "start": start.isoformat(), "end": END.isoformat(), "lookback_days": days,
                "accounts": list(accounts[:min(len(accounts), copies)]),
                "regions": sorted({regions[(k // len(accounts)) % len(regions)] for k in range(min(copies, len(
                    accounts) * len(regions)))}),
                "generator": f"lambda_workbook.sample.replicate ({n_functions} functions, seed {seed})",
                "notes": f"Synthetic: {copies} renamed copies of the sample account's {per_copy} functions, "
                         "traffic scaled by 0.9-1.1 per copy; for scale tests."}
    return Plan(n_functions, copies, accounts, regions, days, seed, queries, manifest)


def _renamed(col: str) -> str:
    """A text column with the copy's account, region and function name in place of the sample's."""
    out = f"replace({col}, fc.src_account, fc.account_id)"
    out = f"replace({out}, ':' || fc.src_region || ':', ':' || fc.region || ':')"
    out = f"replace({out}, ':function:' || fc.src_name, ':function:' || fc.function_name)"
    return f"replace({out}, '/aws/lambda/' || fc.src_name, '/aws/lambda/' || fc.function_name)"


def replicate(n_functions: int, out: str | Path, *, days: int = DAYS, accounts=ACCOUNTS, regions=REGIONS,
              seed: int = 0, overwrite: bool = True, memory_limit: str = "2GB") -> Path:
    """Write an ``n_functions`` Parquet snapshot to ``out`` (see the module's text); returns its path."""
    from ..sources import replica  # the write is the I/O edge's job

    return replica.write(plan(n_functions, days=days, accounts=accounts, regions=regions, seed=seed), out,
                         overwrite=overwrite, memory_limit=memory_limit)
