"""What the account readers of a live scan share: options, error kinds, sessions, clients, evidence, progress.

:mod:`.aws` runs the scan and :mod:`.aws_calls` counts its calls (and stops them once it is interrupted);
:mod:`.aws_inventory`, :mod:`.aws_triggers`, :mod:`.aws_metrics` and :mod:`.aws_logs` each fill a
:class:`RegionScan`. They import the types below from here, so no reader imports :mod:`.aws`.
botocore retries run in ``adaptive`` mode with a bounded number of attempts, and botocore's debug log of raw
response bodies is redacted (they hold environment variable values).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .. import __version__
from . import errors
from .aws_calls import CallLog


class ScanError(errors.AwsError):
    """The scan could not read anything useful (every account/region failed); the message says why."""

    exit_code = 2


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


# -- sessions and clients ----------------------------------------------------------------------------------
def make_session(profile: str | None, region: str | None) -> boto3.Session:
    """A boto3 session for one profile (``None``: the standard credential chain)."""
    return boto3.Session(profile_name=profile or None, region_name=region)


def client_config(max_attempts: int) -> Config:
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
                cfg = client_config(attempts or self.options.max_attempts)
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
