"""Read AWS accounts read-only into a snapshot: sessions, clients, fan-out, and the scan's own bill.

:func:`scan` reads every Lambda function of the profiles (accounts) and regions named and returns the same
tidy :class:`~lambda_workbook.schema.Snapshot` as the embedded sample account. The work is split by what it
reads:

* :mod:`.aws_inventory` — configuration, concurrency, aliases, function URLs, execution-role policies;
* :mod:`.aws_triggers` — event source mappings, API Gateway, SNS, EventBridge, S3, resource policies;
* :mod:`.aws_metrics` — CloudWatch metrics, batched 500 queries per ``GetMetricData`` call;
* :mod:`.aws_logs` — REPORT-line statistics computed inside CloudWatch Logs Insights, or a bounded
  ``FilterLogEvents`` sample parsed locally when Insights is unavailable.

This module runs the scan: one ``boto3.Session`` per profile (standard credential chain; ``AWS_ENDPOINT_URL``
is honoured by botocore itself), a small thread pool over (account, region), and the snapshot assembled from what
the readers found. What the readers share (options, error kinds, clients, evidence, progress) is in
:mod:`.aws_common`; the count of every AWS operation and the scan's own bill in :mod:`.aws_calls`; the IAM
actions and the read-only check in :mod:`.aws_policy`. Their public names are re-exported here.

Every call is a read (``List*``, ``Get*``, ``Describe*``, ``FilterLogEvents``, ``StartQuery`` /
``GetQueryResults`` / ``StopQuery``); ``iam/workbook-readonly-policy.json`` allows exactly these.
Environment variable *values* are dropped where a response is first read, and botocore's debug log of raw
response bodies is redacted, so no value reaches a snapshot, a log or a report.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import boto3
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from .. import __version__, schema
from ..prices import REGION as _REGION
from . import aws_fanout, aws_inventory, aws_logs, aws_metrics, aws_org, aws_triggers, errors
from .aws_calls import GB, CallLog, ScanCancelled, format_cost
from .aws_common import (
    DENIED,
    NO_REGION,
    NOT_FOUND,
    THROTTLED,
    UNSUPPORTED,
    Account,
    Evidence,
    Progress,
    RegionScan,
    ScanError,
    ScanOptions,
    classify,
    client_config,
    make_session,
)
from .aws_policy import READ_ONLY_VERBS, iam_action, is_read_only, policy_path

__all__ = ["ScanCancelled", "ScanError", "ScanOptions", "classify", "format_cost", "make_session", "scan",
           # re-exported from the modules split out of this one, importable from here as before
           "DENIED", "GB", "NO_REGION", "NOT_FOUND", "THROTTLED", "UNSUPPORTED", "READ_ONLY_VERBS", "Account",
           "CallLog", "Evidence", "Progress", "RegionScan", "client_config", "iam_action", "is_read_only",
           "policy_path"]


# -- the scan ------------------------------------------------------------------------------------------------
def _window(options: ScanOptions) -> tuple[datetime, datetime]:
    end = options.end
    if end is None:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end = pd.Timestamp(end)
    end = (end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")).to_pydatetime()
    return end - timedelta(days=options.lookback_days), end


def _split(value, what: str) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    items = [v for v in items if v]
    if not items:
        return None
    if len(set(items)) != len(items):
        raise ValueError(f"{what} listed twice: {items}")
    return items


def _regions_for(session: boto3.Session, regions: list[str] | None, profile: str | None) -> list[str]:
    if regions is None:
        if not session.region_name:
            raise errors.NoRegion(f"no AWS region given and profile {profile or '(default)'} has none configured: "
                                  "name one (scan --regions us-east-1, review --region us-east-1, or AWS_REGION)")
        return [session.region_name]
    if regions == ["all"]:
        return sorted(session.get_available_regions("lambda"))
    for r in regions:
        if not _REGION.match(r):
            raise errors.NoRegion(f"region {r!r} is not a region code like 'us-east-1' (or 'all')")
    return regions


def _identify(account: Account, region: str, evidence: Evidence) -> None:
    try:
        account.account_id = account.client("sts", region).get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        kind, reason = classify(exc)
        if kind in ("credentials", "unreachable"):
            raise errors.translate(exc, profile=account.profile, region=region, offline=errors.OFFLINE_SAMPLE) \
                from exc
        evidence.add("", region, "", "account_id", "partial", f"{reason}; taken from function ARNs instead")


def _scan_region(rs: RegionScan) -> RegionScan:
    rs.progress.add(5)
    if not aws_inventory.list_functions(rs):
        rs.progress.step(5, f"{rs.region}: no functions")
        return rs
    rs.progress.step(1, f"{rs.region}: functions")
    aws_inventory.details(rs)
    rs.progress.step(1, f"{rs.region}: triggers")
    aws_triggers.read(rs)
    rs.progress.step(1, f"{rs.region}: metrics")
    aws_metrics.read(rs)
    rs.progress.step(1, f"{rs.region}: REPORT lines")
    aws_logs.read(rs)
    rs.progress.step(1, f"{rs.region}: done")
    return rs


def _run_all(fn: Callable, items: list, workers: int, cancel: threading.Event) -> list:
    """Run ``fn`` over ``items`` in a thread pool; on any error or interruption, stop the others fast."""
    if not items:
        return []
    ex = ThreadPoolExecutor(max(1, min(workers, len(items))), thread_name_prefix="lw-scan")
    futures = [ex.submit(fn, x) for x in items]
    try:
        return [f.result() for f in futures]
    except BaseException:
        cancel.set()
        for f in futures:
            f.cancel()
        raise
    finally:
        ex.shutdown(wait=True)


def scan(profiles=None, regions=None, lookback_days: int = 14, progress: bool = True, *, org_role: str | None = None,
         external_id: str | None = None, executor=None, **options) -> schema.Snapshot:
    """Scan AWS accounts read-only and return a validated snapshot (see the module docstring).

    ``profiles``: profile names (list or comma-separated string); ``None`` uses the standard credential chain.
    ``regions``: region codes (list or comma-separated), ``["all"]`` for every Lambda region, or ``None`` for
    the profile's configured region. ``org_role``: scan every ACTIVE account of the profiles' Organization
    through this role (:mod:`.aws_org`; ``external_id`` for its trust policy) instead of the profiles' own
    accounts. ``executor``: a remote executor (:mod:`lambda_workbook.executors`) runs each account and region as
    a task of its own (:mod:`.aws_fanout`); otherwise a thread pool does. ``options`` are :class:`ScanOptions`
    fields.
    """
    known = {f.name for f in fields(ScanOptions)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"scan() got unknown option(s) {sorted(unknown)}; options are {sorted(known - {'lookback_days'})}")
    opts = ScanOptions(lookback_days=lookback_days, **options).check()
    if org_role:
        aws_org.check_role_name(org_role)
    start, end = _window(opts)
    profile_list = _split(profiles, "profile") or [None]
    region_list = _split(regions, "region")
    cancel = threading.Event()
    calls = CallLog(cancel)
    evidence = Evidence()
    bar = Progress(progress)
    try:
        accounts: list[tuple[Account, list[str]]] = []
        seen: dict[str, str | None] = {}
        notes: list[str] = []
        for profile in profile_list:
            first = region_list[0] if region_list and region_list != ["all"] else None
            try:
                session = make_session(profile, first)
            except ProfileNotFound as exc:
                raise errors.translate(exc, profile=profile) from exc
            account = Account(profile, session, opts, calls)
            account_regions = _regions_for(session, region_list, profile)
            home = account_regions[0] if region_list != ["all"] else (session.region_name or "us-east-1")
            if org_role:   # the Organization's accounts, each through its role, instead of the profile's own
                accounts += aws_org.scanned_accounts(session, profile, org_role, external_id, home, account_regions,
                                                     opts, calls, evidence, seen, notes)
                continue
            _identify(account, home, evidence)
            if account.account_id and account.account_id in seen:
                notes.append(f"profile {profile} is account {account.account_id}, already scanned with profile "
                             f"{seen[account.account_id] or '(default)'}; skipped")
                continue
            if account.account_id:
                seen[account.account_id] = profile
            accounts.append((account, account_regions))
        units = [RegionScan(acct, region, start, end, evidence, bar, opts)
                 for acct, regs in accounts for region in regs]
        if org_role and not accounts:
            raise ScanError("no account of the Organization could be scanned: " + "; ".join(notes))
        if executor is not None and getattr(executor, "remote", False):
            done = aws_fanout.run(units, executor, external_id=external_id, progress=progress)
        else:
            done = _run_all(_scan_region_safely, units, opts.workers, cancel)
        if units and all(u is None for u in done):
            reasons = sorted({r["reason"] for r in evidence.rows if r["item"] == "functions"})
            raise ScanError("no account/region could be listed: " + "; ".join(reasons)
                            + " (iam/workbook-readonly-policy.json lists the permissions a scan needs)")
        done = [u for u in done if u is not None]
        role_rows: list[dict] = []
        if opts.roles:
            by_account = {}
            for u in done:
                by_account.setdefault(id(u.account), (u.account, []))[1].append(u)
            results = _run_all(lambda pair: aws_inventory.roles(pair[0], pair[1], evidence),
                               list(by_account.values()), opts.workers, cancel)
            role_rows = [row for rows in results for row in rows]
        snapshot = _assemble(done, role_rows, evidence, calls, opts, start, end, profile_list, notes)
        snapshot.flags = [*(snapshot.flags or []), *aws_org.gap_flags(evidence.rows)]
    except (ClientError, BotoCoreError) as exc:     # one the scan did not expect: still one line
        cancel.set()
        raise errors.translate(exc, offline=errors.OFFLINE_SAMPLE) from exc
    except BaseException:
        cancel.set()
        raise
    finally:
        bar.close()
    return snapshot


def org_gaps(snapshot: schema.Snapshot) -> list[str]:
    """One line per Organization account the scan could not read (its role could not be assumed)."""
    ev = snapshot.evidence
    if ev.empty:
        return []
    return list(ev[(ev["item"] == aws_org.GAP_ITEM) & (ev["status"] == "missing")]["reason"])


def _scan_region_safely(rs: RegionScan) -> RegionScan | None:
    """One region; a failure to list its functions becomes evidence instead of stopping the scan."""
    try:
        return _scan_region(rs)
    except aws_inventory.ListingFailed as exc:
        rs.note("functions", "missing", str(exc))
        return None


PROVENANCE = {
    "functions": "lambda:ListFunctions (State from GetFunctionConfiguration when the listing omits it); "
                 "environment variables by name only, values dropped when read",
    "functions.reserved_concurrency": "lambda:GetFunctionConcurrency",
    "functions.provisioned_concurrency": "lambda:ListProvisionedConcurrencyConfigs (requested, summed)",
    "functions.aliases": "lambda:ListAliases",
    "functions.function_url_auth": "lambda:ListFunctionUrlConfigs",
    "concurrency": "lambda:GetFunctionConcurrency and lambda:ListProvisionedConcurrencyConfigs",
    "metrics": "cloudwatch:GetMetricData, namespace AWS/Lambda, dimension FunctionName "
               "(ProvisionedConcurrency* per alias/version with dimension Resource, combined per function)",
    "metrics.Timeouts": "REPORT lines with Status: timeout, per UTC day (Logs Insights, or a complete "
                        "FilterLogEvents read)",
    "reports": "per row, column path: insights = logs:StartQuery over the whole window (server-side "
               "aggregation); filter_log_events = a bounded sample of REPORT lines parsed locally; "
               "sampled_fraction = REPORT lines counted / CloudWatch Invocations",
    "report_samples": "REPORT lines already downloaded by the filter_log_events path",
    "triggers": "per row, column evidence names the API",
    "roles": "iam:ListAttachedRolePolicies + GetPolicy + GetPolicyVersion, iam:ListRolePolicies + GetRolePolicy",
    "evidence": "what could not be read, or was only sampled, and why",
}


def _frame(rows: list[dict], name: str) -> pd.DataFrame:
    if not rows:
        return schema.empty(name)
    return pd.DataFrame(rows)


def _assemble(units: list[RegionScan], role_rows: list[dict], evidence: Evidence, calls: CallLog,
              opts: ScanOptions, start: datetime, end: datetime, profiles: list, notes: list[str]) -> schema.Snapshot:
    functions = _frame([f for u in units for f in u.functions], "functions")
    keys = schema.function_keys(functions)

    def known(df: pd.DataFrame) -> pd.DataFrame:      # rows of functions still there (none deleted mid-scan)
        return schema.rows_of(df, keys)

    metrics = [m for u in units for m in u.metrics if len(m)]
    samples = [s for u in units for s in u.samples if len(s)]
    tables = {
        "functions": functions,
        "metrics": known(pd.concat(metrics, ignore_index=True)) if metrics else schema.empty("metrics"),
        "reports": known(_frame([r for u in units for r in u.reports], "reports")),
        "report_samples": known(pd.concat(samples, ignore_index=True)) if samples else schema.empty("report_samples"),
        "triggers": known(_frame([t for u in units for t in u.triggers], "triggers")),
        "concurrency": known(_frame([c for u in units for c in u.concurrency], "concurrency")),
        "roles": _frame(role_rows, "roles").drop_duplicates(ignore_index=True) if role_rows else schema.empty("roles"),
        "evidence": _frame(evidence.rows, "evidence"),
    }
    if len(tables["metrics"]):
        tables["metrics"] = tables["metrics"].sort_values(
            schema.KEY + ["metric", "stat", "period_s", "timestamp"], ignore_index=True)
    if len(functions):
        tables["functions"] = functions.sort_values(schema.KEY, ignore_index=True)
    cost = calls.cost()
    accounts = sorted({u.account_id for u in units if u.account_id})
    manifest = {
        "schema_version": schema.SCHEMA_VERSION,
        "source": "aws",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "lookback_days": opts.lookback_days,
        "accounts": accounts,
        "regions": sorted({u.region for u in units}),
        "profiles": [p or "(default credentials)" for p in profiles],
        "endpoint": _endpoint_note(units),
        "scan_cost": cost,
        "provenance": PROVENANCE,
        "metric_periods": _unique([s for u in units for s in u.segments]),
        "notes": "; ".join(notes),
        "generator": f"lambda_workbook.sources.aws {__version__}",
    }
    return schema.Snapshot(manifest, tables)


def _unique(items: list[dict]) -> list[dict]:
    out = []
    for it in items:
        if it not in out:
            out.append(it)
    return out


def _endpoint_note(units: list[RegionScan]) -> str:
    for u in units:
        with contextlib.suppress(Exception):
            if u.account.custom_endpoint(u.region):
                return u.account.client("cloudwatch", u.region).meta.endpoint_url
    return "aws"
