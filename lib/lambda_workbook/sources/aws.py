"""Read AWS accounts read-only into a snapshot: sessions, clients, fan-out, and the scan's own bill.

:func:`scan` reads every Lambda function of the profiles (accounts) and regions named and returns the same
tidy :class:`~lambda_workbook.schema.Snapshot` as the embedded sample account. The work is split by what it
reads:

* :mod:`.aws_inventory` — configuration, concurrency, aliases, function URLs, execution-role policies;
* :mod:`.aws_triggers` — event source mappings, API Gateway, SNS, EventBridge, S3, resource policies;
* :mod:`.aws_metrics` — CloudWatch metrics, batched 500 queries per ``GetMetricData`` call;
* :mod:`.aws_logs` — REPORT-line statistics computed inside CloudWatch Logs Insights, or a bounded
  ``FilterLogEvents`` sample parsed locally when Insights is unavailable.

This module owns what they share: one ``boto3.Session`` per profile (standard credential chain;
``AWS_ENDPOINT_URL`` is honoured by botocore itself), botocore retries in ``adaptive`` mode with a bounded
number of attempts, a small thread pool over (account, region), the evidence list (what could not be read and
why), a count of every AWS operation performed, and the bill for those operations priced with the price book.

Every call is a read (``List*``, ``Get*``, ``Describe*``, ``FilterLogEvents``, ``StartQuery`` /
``GetQueryResults`` / ``StopQuery``); ``iam/workbook-readonly-policy.json`` allows exactly these.
Environment variable *values* are dropped where a response is first read, and botocore's debug log of raw
response bodies is redacted, so no value reaches a snapshot, a log or a report.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from .. import __version__, schema
from .. import prices as _prices
from . import errors

__all__ = ["ScanCancelled", "ScanError", "ScanOptions", "classify", "format_cost", "make_session", "scan"]

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
GB = 2**30  # bytes per GB as CloudWatch Logs meters data


class ScanError(errors.AwsError):
    """The scan could not read anything useful (every account/region failed); the message says why."""

    exit_code = 2


class ScanCancelled(Exception):
    """Raised inside worker threads once the scan has been interrupted."""


@dataclass(frozen=True)
class ScanOptions:
    """Knobs of a scan. Defaults suit an architecture review; every one is validated by :meth:`check`."""

    lookback_days: int = 14
    end: datetime | None = None           # window end (UTC); default: now, floored to the hour
    workers: int = 4                      # threads per pool (account/region fan-out, per-function calls)
    max_attempts: int = 8                 # botocore attempts per call (adaptive retry mode)
    count_period_s: int = 60              # period for Invocations/Errors/Throttles where the data's age allows
    percentiles: bool | None = None       # Duration pNN (None: yes; tried once, without retries, off AWS)
    roles: bool = True                    # read execution-role policies (IAM)
    s3: bool = True                       # read S3 bucket notifications
    insights: bool = True                 # push REPORT statistics down to Logs Insights
    insights_timeout_s: float = 300.0     # per query, then StopQuery and fall back
    insights_budget_gb: float | None = 50.0   # estimated GB scanned beyond which groups are sampled instead
    report_lines: int = 2000              # fallback: REPORT lines read per log group at most
    report_samples: int = 120             # raw REPORT lines kept per function as evidence (fallback path)

    def check(self) -> ScanOptions:
        def bad(name: str, allowed: str) -> ValueError:
            return ValueError(f"scan option {name}={getattr(self, name)!r} is invalid: {allowed}")

        if isinstance(self.lookback_days, bool) or not isinstance(self.lookback_days, int) \
                or not 1 <= self.lookback_days <= 455:
            raise bad("lookback_days", "an integer from 1 to 455 (CloudWatch keeps hourly data 455 days)")
        if self.end is not None and not isinstance(self.end, datetime | pd.Timestamp):
            raise bad("end", "a datetime (UTC) or None for now")
        if not (isinstance(self.workers, int) and 1 <= self.workers <= 32):
            raise bad("workers", "an integer from 1 to 32")
        if not (isinstance(self.max_attempts, int) and 1 <= self.max_attempts <= 20):
            raise bad("max_attempts", "an integer from 1 to 20")
        if self.count_period_s not in (60, 300, 3600):
            raise bad("count_period_s", "60, 300 or 3600")
        if self.insights_timeout_s <= 0:
            raise bad("insights_timeout_s", "a positive number of seconds")
        if self.insights_budget_gb is not None and self.insights_budget_gb < 0:
            raise bad("insights_budget_gb", "a non-negative number of GB, or None for no limit")
        if not (isinstance(self.report_lines, int) and 1 <= self.report_lines <= 100_000):
            raise bad("report_lines", "an integer from 1 to 100000")
        if not (isinstance(self.report_samples, int) and 0 <= self.report_samples <= 10_000):
            raise bad("report_samples", "an integer from 0 to 10000")
        return self


# -- secrets: botocore's debug log prints raw response bodies (which hold environment variable values) -----
class _RedactBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Response body"):
            record.msg, record.args = "Response body: <redacted by lambda-workbook>", ()
        return True


def _install_redaction() -> None:
    log = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, _RedactBodies) for f in log.filters):
        log.addFilter(_RedactBodies())


_install_redaction()


# -- errors ------------------------------------------------------------------------------------------------
DENIED = {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation",
          "UnauthorizedException", "Forbidden", "403", "AllAccessDisabled"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
             "SlowDown", "ThrottledException", "ProvisionedThroughputExceededException", "429"}
NOT_FOUND = {"ResourceNotFoundException", "NotFoundException", "NoSuchEntity", "NoSuchBucket",
             "NoSuchBucketPolicy"}
UNSUPPORTED = {"404", "501", "NotImplemented", "UnknownOperationException", "InvalidAction",
               "UnsupportedOperation"}
NO_REGION = {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired",
             "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException"}


def classify(exc: BaseException) -> tuple[str, str]:
    """``(kind, reason)`` for an AWS error: kind is denied | throttled | not_found | unsupported |
    credentials | unreachable | error; reason is a short text naming the operation and the error code."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        op = getattr(exc, "operation_name", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(err.get("Message", ""))
        if "<html" in message.lower() or "<!doctype" in message.lower():
            message = f"HTTP {status or code} with an HTML page instead of an AWS response"
        message = " ".join(message.split())[:160]
        if code in DENIED:
            kind = "denied"
        elif code in THROTTLED:
            kind = "throttled"
        elif code in NOT_FOUND:
            kind = "not_found"
        elif code in UNSUPPORTED:
            kind = "unsupported"
            message = f"not implemented by this endpoint (HTTP {status or code})"
        elif code in NO_REGION:
            kind = "credentials"
        else:
            kind = "error"
        if kind == "throttled":
            message = f"still throttled after the retry bound ({message})"
        return kind, f"{op}: {code}: {message}" if message else f"{op}: {code}"
    if isinstance(exc, BotoCoreError):
        kind = "credentials" if "credential" in type(exc).__name__.lower() else "unreachable"
        return kind, f"{type(exc).__name__}: {exc}"
    return "error", f"{type(exc).__name__}: {exc}"


# -- call accounting ----------------------------------------------------------------------------------------
class CallLog:
    """Counts every AWS operation the scan performs (botocore ``before-call``) and every HTTP attempt
    (``before-send``), per region; also the quantities the scan's bill depends on. Thread-safe.

    It is also the cancellation point: once ``cancel`` is set, the next AWS call in any thread raises
    :class:`ScanCancelled`, so an interrupted scan stops within one call.
    """

    def __init__(self, cancel: threading.Event | None = None):
        self.cancel = cancel or threading.Event()
        self.calls: Counter = Counter()          # (region, service, operation) -> calls
        self.attempts: Counter = Counter()       # (region, service, operation) -> HTTP attempts
        self.metrics_requested: Counter = Counter()   # region -> GetMetricData queries sent
        self.bytes_scanned: Counter = Counter()       # region -> Logs Insights bytes scanned
        self._lock = threading.Lock()

    def attach(self, client, region: str) -> None:
        service = client.meta.service_model.service_name

        def before_call(model, **_):
            if self.cancel.is_set():
                raise ScanCancelled("scan interrupted")
            with self._lock:
                self.calls[(region, service, model.name)] += 1

        def metric_queries(params, **_):
            with self._lock:
                self.metrics_requested[region] += len(params.get("MetricDataQueries", []))

        def before_send(event_name: str = "", **_):
            op = event_name.rsplit(".", 1)[-1]
            with self._lock:
                self.attempts[(region, service, op)] += 1

        client.meta.events.register("before-call.*.*", before_call)
        client.meta.events.register("before-send.*.*", before_send)
        if service == "cloudwatch":
            client.meta.events.register("before-parameter-build.cloudwatch.GetMetricData", metric_queries)

    def add_bytes_scanned(self, region: str, n: float) -> None:
        with self._lock:
            self.bytes_scanned[region] += float(n or 0.0)

    def by_operation(self) -> dict[str, int]:
        out: Counter = Counter()
        for (_, service, op), n in self.calls.items():
            out[f"{service}.{op}"] += n
        return dict(sorted(out.items()))

    def total(self, service: str | None = None, operation: str | None = None) -> int:
        return sum(n for (_, s, o), n in self.calls.items()
                   if (service is None or s == service) and (operation is None or o == operation))

    def cost(self) -> dict[str, Any]:
        """The scan's own AWS bill, priced per region with that region's price book."""
        regions = sorted({r for r, _, _ in self.calls} | set(self.metrics_requested) | set(self.bytes_scanned))
        items, unpriced, usd = [], [], 0.0
        for region in regions:
            s3_get = sum(n for (r, s, o), n in self.calls.items() if r == region and s == "s3" and o != "ListBuckets")
            s3_list = sum(n for (r, s, o), n in self.calls.items() if r == region and s == "s3" and o == "ListBuckets")
            quantities = [
                ("cloudwatch.get_metric_data_metric", self.metrics_requested[region], "GetMetricData queries sent"),
                ("logs.insights_gb_scanned", self.bytes_scanned[region] / GB, "Logs Insights data scanned"),
                ("s3.get_request", s3_get, "S3 bucket notification/location reads"),
                ("s3.put_request", s3_list, "S3 ListBuckets (LIST requests)"),
            ]
            try:
                book = _prices.load(region)
            except (_prices.PricesNotFound, ValueError):
                book = None
                unpriced.append(region)
            for item, qty, what in quantities:
                if not qty:
                    continue
                price = book.price(item) if book is not None else float("nan")
                cost = qty * price
                items.append({"region": region, "item": item, "what": what, "quantity": round(float(qty), 9),
                              "unit_price_usd": price, "usd": cost,
                              "price_book": f"{book.region} {book.as_of}" if book else "none"})
                if cost == cost:  # not NaN
                    usd += cost
        ops = self.by_operation()
        return {
            "usd": round(usd, 10),
            "items": items,
            "unpriced_regions": unpriced,
            "api_calls": ops,
            "api_calls_total": sum(ops.values()),
            "retries": max(0, sum(self.attempts.values()) - sum(self.calls.values())),
            "metrics_requested": int(sum(self.metrics_requested.values())),
            "insights_gb_scanned": round(sum(self.bytes_scanned.values()) / GB, 6),
            "note": "Only GetMetricData metrics, Logs Insights GB scanned and S3 requests carry a price in the "
                    "price book; the other read calls are counted in api_calls and not priced.",
        }


def format_cost(cost: dict[str, Any]) -> str:
    """The scan's bill as a few lines of text (the CLI prints it)."""
    lines = [f"scan cost: USD {cost['usd']:.4f} for {cost['api_calls_total']:,} AWS API calls "
             f"({cost['retries']:,} retries)"]
    for it in cost["items"]:
        price = "unpriced" if it["usd"] != it["usd"] else f"USD {it['usd']:.6f}"
        lines.append(f"  {it['region']:<14} {it['what']:<40} {it['quantity']:>14,.6g}  {price}")
    for region in cost["unpriced_regions"]:
        lines.append(f"  {region}: no price snapshot; run `lambda-workbook prices refresh --region {region}`")
    return "\n".join(lines)


# -- least privilege ---------------------------------------------------------------------------------------
#: botocore (service, operation) -> IAM action, where the IAM name is not simply ``service:Operation``
_IAM_NAMES = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
}
#: Verbs of the operations a read-only scan may perform. ``StartQuery``/``GetQueryResults``/``StopQuery``
#: run and cancel a Logs Insights query over log data that already exists: they create no resource that
#: outlives the query, change no configuration and no data, and cost only the bytes scanned, which the scan
#: prices and bounds (``insights_budget_gb``).
READ_ONLY_VERBS = ("List", "Get", "Describe", "FilterLogEvents", "StartQuery", "StopQuery")


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorises a botocore operation (API Gateway's are ``apigateway:GET``)."""
    if service in ("apigateway", "apigatewayv2"):
        return "apigateway:GET" if operation.startswith("Get") else f"apigateway:{operation}"
    return _IAM_NAMES.get((service, operation), f"{service}:{operation}")


def is_read_only(action: str) -> bool:
    """Whether an IAM action only reads (by its verb; ``apigateway:GET`` is the HTTP verb GET)."""
    service, _, name = action.partition(":")
    if service == "apigateway":
        return name == "GET"
    return name.startswith(READ_ONLY_VERBS)


def policy_path():
    """``iam/workbook-readonly-policy.json``: the least-privilege policy the scan needs."""
    from .. import datafiles

    return datafiles.project_root() / "iam" / "workbook-readonly-policy.json"


# -- sessions and clients ----------------------------------------------------------------------------------
def make_session(profile: str | None, region: str | None) -> boto3.Session:
    """A boto3 session for one profile (``None``: the standard credential chain)."""
    return boto3.Session(profile_name=profile or None, region_name=region)


def _config(max_attempts: int) -> Config:
    return Config(retries={"mode": "adaptive", "total_max_attempts": max_attempts},
                  user_agent_extra=f"lambda-workbook/{__version__}", connect_timeout=10, read_timeout=60,
                  max_pool_connections=32)


class Account:
    """One profile: its session, account id and clients per (region, service)."""

    def __init__(self, profile: str | None, session: boto3.Session, options: ScanOptions, calls: CallLog):
        self.profile = profile
        self.session = session
        self.options = options
        self.calls = calls
        self.account_id: str | None = None
        self._clients: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self.cache: dict[str, Any] = {}       # account-wide results shared by its regions (S3 buckets, ...)
        self.cache_lock = threading.Lock()

    def client(self, service: str, region: str, *, attempts: int | None = None):
        key = (service, region, attempts)
        with self._lock:
            if key not in self._clients:
                cfg = _config(attempts or self.options.max_attempts)
                client = self.session.client(service, region_name=region, config=cfg)
                self.calls.attach(client, region)
                self._clients[key] = client
            return self._clients[key]

    def custom_endpoint(self, region: str) -> bool:
        """Whether calls go somewhere other than AWS (moto, LocalStack, a proxy)."""
        url = self.client("cloudwatch", region).meta.endpoint_url or ""
        host = re.sub(r"^\w+://", "", url).split("/")[0].split(":")[0]
        return not (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn"))


# -- evidence ----------------------------------------------------------------------------------------------
class Evidence:
    """Rows of the snapshot's ``evidence`` table: what is missing, partial, sampled or skipped, and why."""

    def __init__(self):
        self.rows: list[dict] = []
        self._lock = threading.Lock()

    def add(self, account_id: str, region: str, function_name: str, item: str, status: str, reason: str) -> None:
        row = {"account_id": account_id or "", "region": region, "function_name": function_name or "",
               "item": item, "status": status, "reason": reason}
        with self._lock:
            if row not in self.rows:
                self.rows.append(row)


class Progress:
    """A tqdm bar whose total grows as work is discovered; thread-safe; silent when disabled."""

    def __init__(self, enabled: bool):
        from tqdm.auto import tqdm

        # in a notebook the bar is a widget: it goes away when done, so no widget is left in a report
        in_notebook = tqdm.__module__.endswith("notebook")
        self._bar = tqdm(total=0, unit="step", desc="scan", disable=not enabled, leave=enabled and not in_notebook)
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self._bar.total += n
            self._bar.refresh()

    def step(self, n: int = 1, desc: str | None = None) -> None:
        with self._lock:
            if desc:
                self._bar.set_description_str(desc, refresh=False)
            self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


@dataclass
class RegionScan:
    """Everything one (account, region) scan needs and produces. The submodules fill its lists."""

    account: Account
    region: str
    start: datetime
    end: datetime
    evidence: Evidence
    progress: Progress
    options: ScanOptions
    functions: list[dict] = field(default_factory=list)
    concurrency: list[dict] = field(default_factory=list)
    triggers: list[dict] = field(default_factory=list)
    metrics: list[pd.DataFrame] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    samples: list[pd.DataFrame] = field(default_factory=list)
    segments: list[dict] = field(default_factory=list)     # metric time ranges and periods used
    disabled: set[str] = field(default_factory=set)         # operations found denied/unsupported here

    @property
    def account_id(self) -> str:
        return self.account.account_id or ""

    @property
    def calls(self) -> CallLog:
        return self.account.calls

    def client(self, service: str, *, attempts: int | None = None):
        return self.account.client(service, self.region, attempts=attempts)

    def note(self, item: str, status: str, reason: str, function_name: str = "") -> None:
        self.evidence.add(self.account_id, self.region, function_name, item, status, reason)

    def failed(self, item: str, exc: BaseException, function_name: str = "") -> str:
        """Record a failed optional read as missing evidence; returns the error kind.

        Errors that hold for the whole region (denied, not implemented, bad credentials) are recorded once
        with an empty function name, and the operation is not tried again in this region.
        """
        kind, reason = classify(exc)
        if kind in ("denied", "unsupported", "credentials"):
            op = getattr(exc, "operation_name", "")
            if op:
                self.disabled.add(op)
            function_name = ""
        self.note(item, "missing", reason, function_name)
        return kind

    def optional(self, item: str, operation: str, fn: Callable, *args, function_name: str = "", **kwargs):
        """Call an optional API; on an AWS error record the missing evidence and return None."""
        if operation in self.disabled:
            return None
        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            self.failed(item, exc, function_name)
            return None

    def pages(self, service: str, operation: str, key: str, **params) -> Iterator[dict]:
        """Items under ``key`` across every page of an operation: botocore's paginator where it has one,
        else ``NextToken`` followed here (EventBridge ``ListEventBuses`` has no paginator)."""
        client = self.client(service)
        if client.can_paginate(operation):
            for page in client.get_paginator(operation).paginate(**params):
                yield from page.get(key, [])
            return
        call, token = getattr(client, operation), None
        while True:
            page = call(**params, **({"NextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return

    def pool(self, fn: Callable, items: list) -> list:
        """``fn`` over ``items`` with the scan's per-region thread pool, results in input order."""
        if len(items) <= 1 or self.options.workers == 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(min(self.options.workers, len(items)), thread_name_prefix="lw-fn") as ex:
            return list(ex.map(fn, items))

    @property
    def function_names(self) -> set[str]:
        return {f["function_name"] for f in self.functions}


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
    from . import aws_inventory, aws_logs, aws_metrics, aws_triggers

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


def scan(profiles=None, regions=None, lookback_days: int = 14, progress: bool = True, **options) -> schema.Snapshot:
    """Scan AWS accounts read-only and return a validated snapshot (see the module docstring).

    ``profiles``: profile names (list or comma-separated string); ``None`` uses the standard credential chain.
    ``regions``: region codes (list or comma-separated), ``["all"]`` for every Lambda region, or ``None`` for
    the profile's configured region. ``options`` are :class:`ScanOptions` fields.
    """
    known = {f.name for f in fields(ScanOptions)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"scan() got unknown option(s) {sorted(unknown)}; options are {sorted(known - {'lookback_days'})}")
    opts = ScanOptions(lookback_days=lookback_days, **options).check()
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
        done = _run_all(_scan_region_safely, units, opts.workers, cancel)
        if units and all(u is None for u in done):
            reasons = sorted({r["reason"] for r in evidence.rows if r["item"] == "functions"})
            raise ScanError("no account/region could be listed: " + "; ".join(reasons)
                            + " (iam/workbook-readonly-policy.json lists the permissions a scan needs)")
        done = [u for u in done if u is not None]
        role_rows: list[dict] = []
        if opts.roles:
            from . import aws_inventory

            by_account = {}
            for u in done:
                by_account.setdefault(id(u.account), (u.account, []))[1].append(u)
            results = _run_all(lambda pair: aws_inventory.roles(pair[0], pair[1], evidence),
                               list(by_account.values()), opts.workers, cancel)
            role_rows = [row for rows in results for row in rows]
        snapshot = _assemble(done, role_rows, evidence, calls, opts, start, end, profile_list, notes)
    except (ClientError, BotoCoreError) as exc:     # one the scan did not expect: still one line
        cancel.set()
        raise errors.translate(exc, offline=errors.OFFLINE_SAMPLE) from exc
    except BaseException:
        cancel.set()
        raise
    finally:
        bar.close()
    return snapshot


def _scan_region_safely(rs: RegionScan) -> RegionScan | None:
    """One region; a failure to list its functions becomes evidence instead of stopping the scan."""
    from . import aws_inventory

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
