"""The embedded sample account: a deterministic generator of a realistic two-account snapshot.

About thirty functions, each an *archetype* the workbook's models should recognise (an I/O-bound function
at 3,008 MB, a CPU-bound one starved at 128 MB, an SQS worker at batch size 1, ...) next to healthy controls.
Their traffic, durations, cold starts, errors and metrics follow one model, so every table agrees with every
other one: per-minute invocation counts drive an environment-reuse simulation (cold starts), per-invocation
durations follow ``t(m) = fixed + cpu_work / min(parallelism, m / 1769)`` with log-normal noise, and the
REPORT aggregates, hourly Duration statistics and raw REPORT lines are drawn from that same model.

Published figures the distributions follow:

* CPU share proportional to memory, one vCPU at 1,769 MB ("Configure Lambda function memory",
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html);
* idle environments kept 5-7 minutes (Mikhail Shilkov's cold-start measurements, https://mikhail.io/serverless/coldstarts/aws/,
  January 2021) and active ones recycled about every 2 hours ("TIL that AWS Lambda terminates instances
  preemptively", https://xebia.com/blog/til-that-aws-lambda-terminates-instances-preemptively/);
* INIT medians by runtime are the sample's own assumption (Python 0.32 s and Node.js 0.21 s, scaled up with
  package size and layers; 2.9-3.4 s for the Java services with a framework): above the hello-world medians
  lambda-perf measured (https://github.com/maxday/lambda-perf: python3.12 85-91 ms, nodejs20.x 137-143 ms, java21
  268-271 ms; ``data/coldstarts/init-priors``) as real packages are, and within the 76-564 ms mean INIT of the
  cebert 2025 benchmark handlers on Node.js and Python
  (https://github.com/cebert/aws-lambda-performance-benchmarks, ``data/measurements/cebert-2025``);
* INIT billed on cold starts (the window is after 2025-08-01: "AWS Lambda standardizes billing for INIT Phase",
  https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/); REPORT line formats as in
  :mod:`lambda_workbook.logs`.

Run ``lambda-workbook sample generate`` to rewrite ``data/sample-account/``. The generator is pure: it
returns a :class:`~lambda_workbook.schema.Snapshot`; writing it is the sources layer's job.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import billing
from .schema import SCHEMA_VERSION, Snapshot

SEED = 20261101
END = pd.Timestamp("2026-11-01T00:00:00Z")
DAYS = 14
START = END - pd.Timedelta(days=DAYS)
MINUTES = DAYS * 24 * 60
VCPU_MB = billing.VCPU_MB
PROD, STAGING = "111122223333", "444455556666"
REGION = "us-east-1"
KEEP_ALIVE_MIN = (5.0, 7.0)        # idle environments evicted after 5-7 min (Shilkov 2021)
RECYCLE_MIN = (110.0, 130.0)       # busy environments recycled about every 2 h (Xebia)
REPORT_LINES_PER_FUNCTION = 120

INIT_MEDIAN_MS = {"python": 320.0, "nodejs": 210.0, "java": 3100.0}


@dataclass(frozen=True)
class Trigger:
    source_type: str
    sync: bool
    batch_size: float = np.nan
    batch_window_s: float = np.nan
    parallelization: float = np.nan
    payload_kb: float = np.nan
    detail: str = ""


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    resource: str
    calls_per_invocation: float
    mean_ms: float
    response_kb: float
    used_fraction: float = 1.0
    items_evaluated: float = np.nan
    items_returned: float = np.nan
    item_kb: float = np.nan
    retries_per_invocation: float = 0.0
    result_used: bool = True


@dataclass(frozen=True)
class Archetype:
    """One sample function: configuration, traffic and behaviour, and the findings it should produce."""

    name: str
    expect: tuple[str, ...]            # finding ids this function exists to trigger ("control" = none)
    runtime: str
    memory_mb: int
    arch: str
    trigger: Trigger
    rate_per_min: float                 # mean invocations per minute at the traffic pattern's peak
    fixed_ms: float                     # time that does not scale with memory (I/O, waits)
    cpu_ms: float                       # CPU work at one full vCPU
    used_mb: float                      # typical Max Memory Used
    pattern: str = "diurnal"            # diurnal | steady | business | sparse | nightly | bursty
    account: str = PROD
    parallelism: float = 1.0
    noise: float = 0.18                 # log-normal sigma of warm durations
    timeout_s: int = 30
    ephemeral_mb: int = 512
    package_type: str = "Zip"
    code_mb: float = 4.0
    layers: int = 0
    vpc: bool = False
    tracing: bool = False
    log_format: str = "Text"
    env: tuple[str, ...] = ("LOG_LEVEL", "TABLE_NAME")
    error_rate: float = 0.001
    bad_days: tuple[int, ...] = ()      # days (0-based) with an incident
    bad_day_error_rate: float = 0.0
    bad_day_timeout_rate: float = 0.0
    reserved: float = np.nan
    provisioned: float = np.nan
    init_ms: float | None = None        # median INIT; None = runtime default scaled by package size
    insights: bool = False              # Lambda Insights enabled: CPU time / duration is recorded
    tried_mb: int | None = None         # a size it also ran at in the window's first days (REPORT lines show it)
    calls: tuple[Call, ...] = ()
    actions: tuple[tuple[str, str], ...] = (("dynamodb:GetItem", "table/app"), ("dynamodb:PutItem", "table/app"))
    iterator_age_growth: bool = False
    description: str = ""
    extra: dict = field(default_factory=dict)


HTTP = Trigger("apigw-http", True, payload_kb=2.0)
T = Trigger

ARCHETYPES: tuple[Archetype, ...] = (
    # ---- archetypes: each exists to trigger the findings in `expect` ----
    Archetype("media-thumbnail-io", ("memory-overprovisioned",), "python3.12", 3008, "arm64",
              T("s3", False, payload_kb=1.5, detail="s3:ObjectCreated:* on media-uploads"), 260, 185.0, 22.0, 210,
              insights=True, timeout_s=60, tracing=True, tried_mb=1024,
              calls=(Call("s3", "GetObject", "media-uploads", 1, 95, 900), Call("s3", "PutObject", "media-thumbs", 1, 70, 0.2)),
              actions=(("s3:GetObject", "arn:aws:s3:::media-uploads/*"), ("s3:PutObject", "arn:aws:s3:::media-thumbs/*")),
              description="Downloads an image, writes a thumbnail: waits on S3, little CPU"),
    Archetype("pdf-render", ("memory-underprovisioned",), "nodejs22.x", 128, "arm64",
              T("sqs", False, batch_size=10, batch_window_s=5, payload_kb=3.0, detail="queue pdf-jobs"), 30, 45.0, 430.0, 112,
              insights=True, timeout_s=60, code_mb=18.0, noise=0.1, tried_mb=512,
              calls=(Call("s3", "PutObject", "rendered-pdfs", 1, 40, 0.2),),
              actions=(("s3:PutObject", "arn:aws:s3:::rendered-pdfs/*"), ("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:111122223333:pdf-jobs")),
              description="Renders PDFs: CPU-bound, starved at 128 MB"),
    Archetype("orders-api", ("arm64-candidate",), "python3.12", 512, "x86_64", HTTP, 900, 95.0, 5.0, 160,
              log_format="JSON", tracing=True, insights=True,
              calls=(Call("dynamodb", "GetItem", "orders", 1, 6, 1.2, items_evaluated=1, items_returned=1, item_kb=1.2),
                     Call("dynamodb", "PutItem", "orders", 0.4, 9, 0.1)),
              description="Orders REST endpoints behind an HTTP API: waits on DynamoDB (Lambda Insights: little CPU "
                          "time); pure Python, no native dependencies"),
    Archetype("billing-java", ("cold-starts", "init-heavy"), "java21", 1024, "arm64", HTTP, 0.6, 40.0, 55.0, 310,
              pattern="business", code_mb=48.0, layers=2, init_ms=3400.0, timeout_s=30, noise=0.22,
              calls=(Call("rds", "query", "billing-db", 3, 12, 4.0),),
              description="Spring-based billing service: about 36 calls an hour in office hours (weekdays "
                          "13:00-22:00 UTC), about one an hour otherwise"),
    Archetype("sqs-worker-batch1", ("batch-size",), "nodejs22.x", 256, "arm64",
              T("sqs", False, batch_size=1, batch_window_s=0, payload_kb=1.0, detail="queue order-events"), 1500, 8.0, 3.0, 95,
              pattern="steady", calls=(Call("dynamodb", "UpdateItem", "order-stats", 1, 7, 0.1),),
              extra={"invocation_overhead_ms": 6.0},
              description="Consumes order events one message per invocation"),
    Archetype("clickstream-consumer", ("stream-iterator-age",), "python3.12", 512, "arm64",
              T("kinesis", False, batch_size=100, batch_window_s=0, parallelization=1, payload_kb=0.8,
                detail="stream clickstream, 4 shards"), 240, 140.0, 60.0, 200, pattern="steady", iterator_age_growth=True,
              calls=(Call("s3", "PutObject", "clickstream-archive", 1, 120, 0.2),),
              description="Kinesis consumer falling behind: iterator age grows through the window"),
    Archetype("catalog-rest-api", ("apigw-rest-to-http",), "nodejs22.x", 256, "arm64",
              T("apigw-rest", True, payload_kb=1.5, detail="REST API catalog, GET /items/{id}: no keys, no caching, no WAF"),
              2500, 14.0, 6.0, 110, log_format="JSON",
              calls=(Call("dynamodb", "GetItem", "catalog", 1, 5, 2.0, items_evaluated=1, items_returned=1, item_kb=2.0),),
              description="Read-only catalog API on an API Gateway REST API using no REST-only features"),
    Archetype("signup-handler", ("sync-for-async",), "python3.12", 512, "arm64", HTTP, 12, 1520.0, 18.0, 140,
              tracing=True, timeout_s=10,
              calls=(Call("dynamodb", "PutItem", "users", 1, 9, 0.1),
                     Call("ses", "SendEmail", "welcome-email", 1, 880, 0.3, result_used=False),
                     Call("http", "POST", "crm.example.com/webhooks", 1, 610, 0.5, result_used=False)),
              description="Sign-up API that sends the welcome e-mail and CRM webhook before answering"),
    Archetype("admin-audit-export", ("cold-starts",), "python3.12", 512, "arm64",
              T("function-url", True, payload_kb=0.5, detail="function URL, AWS_IAM auth"), 0.04, 180.0, 40.0, 150,
              pattern="sparse", code_mb=22.0, layers=1, init_ms=1150.0,
              description="Rarely used admin export, about 24 calls a day: four calls in five find no warm "
                          "environment"),
    Archetype("inventory-report", ("dynamodb-scan",), "python3.12", 1024, "arm64", HTTP, 1.5, 620.0, 90.0, 380,
              tracing=True,
              calls=(Call("dynamodb", "Scan", "inventory", 18, 32, 2.4, used_fraction=0.0016,
                          items_evaluated=680, items_returned=1.1, item_kb=1.5),),
              description="Looks up one warehouse's low-stock items by scanning the whole table with a filter"),
    Archetype("log-extractor", ("s3-whole-object",), "python3.12", 2048, "arm64",
              T("s3", False, payload_kb=1.2, detail="s3:ObjectCreated:* on app-logs"), 1.2, 1150.0, 260.0, 1150,
              tracing=True, timeout_s=120,
              calls=(Call("s3", "GetObject", "app-logs", 1, 950, 40960, used_fraction=0.02),
                     Call("dynamodb", "PutItem", "log-errors", 2, 8, 0.1)),
              description="Downloads each 40 MB log object to keep the 2% of lines that are errors"),
    Archetype("payment-webhook", ("timeout-rate",), "nodejs22.x", 512, "arm64", HTTP, 30, 420.0, 12.0, 130,
              timeout_s=6, bad_days=(4, 9), bad_day_timeout_rate=0.16,
              calls=(Call("http", "POST", "payments.example.net/confirm", 1, 380, 1.0),),
              description="Calls a payment provider that hung on two days, when 16% of its invocations timed out"),
    Archetype("customer-db-sync", ("vpc-review",), "python3.12", 512, "arm64",
              T("eventbridge", False, payload_kb=1.0, detail="rule customer-changed"), 8, 95.0, 20.0, 170, vpc=True,
              calls=(Call("rds", "query", "customers-db", 2, 14, 1.0), Call("http", "GET", "geo.example.org", 1, 45, 0.8)),
              description="Writes customer changes to an RDS database inside a VPC (NAT for the geo lookup)"),
    Archetype("notifications-sender", ("secret-env-names",), "nodejs22.x", 256, "arm64",
              T("sns", False, payload_kb=0.8, detail="topic notifications"), 20, 60.0, 5.0, 90,
              env=("LOG_LEVEL", "STRIPE_SECRET_KEY", "DB_PASSWORD", "TWILIO_AUTH_TOKEN", "SENDER_ID"),
              calls=(Call("http", "POST", "api.twilio.example", 1, 55, 0.4),),
              description="Keeps API secrets in plain environment variables"),
    Archetype("order-fulfilment", ("orchestration-in-code",), "python3.12", 256, "arm64",
              T("eventbridge", False, payload_kb=2.0, detail="rule order-paid"), 1.0, 16800.0, 30.0, 120,
              insights=True, timeout_s=120, noise=0.25,
              calls=(Call("wait", "sleep", "time.sleep", 5, 3000, 0.0),
                     Call("http", "GET", "warehouse.example.com/status", 6, 260, 0.6, retries_per_invocation=4),
                     Call("lambda", "Invoke", "ship-order", 1, 140, 0.3)),
              description="Polls the warehouse with sleeps and retries inside one invocation"),
    Archetype("legacy-thumbnailer", ("deprecated-runtime",), "nodejs12.x", 512, "arm64",
              T("s3", False, payload_kb=1.5, detail="s3:ObjectCreated:* on legacy-images"), 2, 140.0, 60.0, 150,
              calls=(Call("s3", "GetObject", "legacy-images", 1, 80, 300),),
              description="Still on Node.js 12"),
    Archetype("events-forwarder", ("transport-only",), "python3.12", 256, "arm64",
              T("sqs", False, batch_size=10, batch_window_s=2, payload_kb=1.2, detail="queue partner-events"), 90, 48.0, 1.5, 80,
              insights=True,
              calls=(Call("kinesis", "PutRecords", "partner-stream", 1, 38, 0.2, result_used=False),),
              actions=(("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:111122223333:partner-events"),
                       ("kinesis:PutRecords", "arn:aws:kinesis:us-east-1:111122223333:stream/partner-stream")),
              description="Moves SQS messages to Kinesis unchanged"),
    Archetype("partner-sync", ("error-rate",), "python3.12", 512, "arm64",
              T("eventbridge", False, payload_kb=1.0, detail="schedule rate(1 minute)"), 1.0, 210.0, 15.0, 140,
              pattern="steady", bad_days=(5, 11), bad_day_error_rate=0.14,
              calls=(Call("http", "GET", "partner.example.com/feed", 1, 190, 12.0),),
              description="Partner feed sync, every minute, that failed 13% and 14% of its runs on two days"),
    Archetype("flash-sale-api", ("throttles",), "nodejs22.x", 1024, "arm64", HTTP, 40, 150.0, 25.0, 260,
              pattern="bursty", reserved=5,
              calls=(Call("dynamodb", "UpdateItem", "stock", 1, 12, 0.2),),
              description="Reserved concurrency of 5 throttles its flash-sale bursts"),
    Archetype("checkout-api", ("provisioned-concurrency", "memory-measure"), "java21", 2048, "arm64", HTTP, 25, 55.0,
              35.0, 520,
              provisioned=40, code_mb=38.0, layers=1, init_ms=2900.0, log_format="JSON", tracing=True,
              calls=(Call("dynamodb", "TransactWriteItems", "orders", 1, 22, 0.2),),
              description="Forty provisioned environments for a load that never needs more than one at a time; "
                          "one memory size and no CPU time recorded, so its memory is worth measuring"),
    Archetype("nightly-ledger-close", ("timeout-headroom",), "python3.12", 1024, "arm64",
              T("eventbridge", False, payload_kb=0.3, detail="schedule cron(0 2 * * ? *)"), 30, 650.0, 180.0, 260,
              pattern="nightly", timeout_s=900,
              calls=(Call("dynamodb", "Query", "ledger", 4, 20, 48.0, items_evaluated=120, items_returned=120, item_kb=0.4),),
              description="Finishes in about a second but may run for 15 minutes before it is stopped"),
    Archetype("reports-export", ("iam-wildcard",), "python3.12", 512, "arm64",
              T("eventbridge", False, payload_kb=0.4, detail="schedule rate(15 minutes)"), 0.5, 310.0, 40.0, 180,
              pattern="steady", actions=(("s3:*", "*"), ("dynamodb:*", "*"), ("logs:CreateLogStream", "*")),
              calls=(Call("dynamodb", "Query", "reports", 2, 18, 24.0, items_evaluated=60, items_returned=60, item_kb=0.4),
                     Call("s3", "PutObject", "exports", 1, 60, 0.2)),
              description="Role grants s3:* and dynamodb:* on every resource"),
    # ---- healthy controls: no finding should fire on these ----
    Archetype("users-api", ("control",), "nodejs22.x", 512, "arm64", HTTP, 210, 24.0, 9.0, 340, log_format="JSON",
              calls=(Call("dynamodb", "GetItem", "users", 1, 6, 1.0, items_evaluated=1, items_returned=1, item_kb=1.0),),
              timeout_s=5, description="Right-sized HTTP API"),
    Archetype("orders-stream-processor", ("control",), "python3.12", 512, "arm64",
              T("dynamodb-streams", False, batch_size=100, batch_window_s=1, parallelization=2, payload_kb=1.0,
                detail="orders table stream"), 60, 75.0, 20.0, 330, pattern="steady", timeout_s=30,
              calls=(Call("dynamodb", "UpdateItem", "order-totals", 1, 8, 0.1),), description="Keeps up with its stream"),
    Archetype("email-queue-worker", ("control",), "nodejs22.x", 256, "arm64",
              T("sqs", False, batch_size=10, batch_window_s=2, payload_kb=2.0, detail="queue outgoing-email"), 45, 140.0, 6.0, 170,
              pattern="steady", timeout_s=30,
              calls=(Call("ses", "SendEmail", "transactional", 1, 120, 0.3),), description="Batched SQS worker"),
    Archetype("search-indexer", ("control",), "python3.12", 1024, "arm64",
              T("sqs", False, batch_size=25, batch_window_s=5, payload_kb=3.0, detail="queue index-updates"), 20, 60.0, 90.0, 700,
              pattern="steady", timeout_s=30, insights=True,
              calls=(Call("http", "POST", "search.internal/_bulk", 1, 45, 1.0),), description="Sized for its memory use"),
    Archetype("auth-authorizer", ("control",), "nodejs22.x", 256, "arm64",
              T("invoke-sync", True, payload_kb=0.5, detail="Lambda authorizer for users-api"), 210, 5.0, 3.0, 180,
              timeout_s=3, description="Small, fast authorizer"),
    Archetype("staging-users-api", ("control",), "nodejs22.x", 512, "arm64", HTTP, 6, 24.0, 9.0, 330,
              account=STAGING, pattern="steady", timeout_s=5, log_format="JSON",
              calls=(Call("dynamodb", "GetItem", "users", 1, 6, 1.0, items_evaluated=1, items_returned=1, item_kb=1.0),),
              description="Staging copy of users-api"),
    Archetype("staging-orders-worker", ("control",), "python3.12", 256, "arm64",
              T("sqs", False, batch_size=10, batch_window_s=1, payload_kb=1.0, detail="queue staging-orders"), 5, 70.0, 8.0, 170,
              account=STAGING, pattern="steady", timeout_s=30,
              calls=(Call("dynamodb", "PutItem", "orders", 1, 8, 0.1),), description="Staging SQS worker"),
)


# --------------------------------------------------------------------------------------------------------
# traffic and durations


def _rng(arch: Archetype, purpose: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(f"{arch.name}/{purpose}".encode())])


def _minute_index() -> pd.DatetimeIndex:
    return pd.date_range(START, periods=MINUTES, freq="min")


def traffic_rate(arch: Archetype) -> np.ndarray:
    """Expected invocations per minute over the window, by traffic pattern (peak = ``rate_per_min``)."""
    idx = _minute_index()
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60.0
    weekday = idx.day_of_week.to_numpy() < 5
    r = arch.rate_per_min
    if arch.pattern == "steady":
        return np.full(MINUTES, r)
    if arch.pattern == "diurnal":  # trough at 04:00 UTC, peak at 16:00 UTC
        return r * (0.55 + 0.45 * np.sin((hour - 10.0) / 24.0 * 2 * np.pi))
    if arch.pattern == "business":
        return np.where(weekday & (hour >= 13) & (hour < 22), r, r * 0.03)
    if arch.pattern == "sparse":
        return np.where((hour >= 13) & (hour < 23), r, 0.0)
    if arch.pattern == "nightly":  # a burst of work around 02:00 UTC, nothing else
        return np.where((hour >= 2.0) & (hour < 2.25), r, 0.0)
    if arch.pattern == "bursty":  # a quiet baseline and a 20-minute sale at 18:00 on some days
        base = r * 0.15 * (0.55 + 0.45 * np.sin((hour - 10.0) / 24.0 * 2 * np.pi))
        day = ((idx - START).days).to_numpy()
        sale = np.isin(day, (1, 3, 6, 8, 10, 13)) & (hour >= 18.0) & (hour < 18.34)
        return np.where(sale, r * 60.0, base)
    raise ValueError(f"unknown traffic pattern {arch.pattern!r}")


def mean_warm_ms(arch: Archetype, memory_mb: float | None = None) -> float:
    """The model's expected warm duration at a memory size (the archetype's own size by default)."""
    m = arch.memory_mb if memory_mb is None else memory_mb
    return arch.fixed_ms + arch.cpu_ms / min(arch.parallelism, m / VCPU_MB)


def draw_durations(arch: Archetype, n: int, rng: np.random.Generator) -> np.ndarray:
    """Warm durations (ms): the model's mean with log-normal noise (mean-preserving) and rare slow outliers."""
    sigma = arch.noise
    d = mean_warm_ms(arch) * rng.lognormal(-sigma**2 / 2, sigma, n)
    slow = rng.random(n) < 0.004
    return np.where(slow, d * rng.uniform(2.0, 4.0, n), d)


def _init_median(arch: Archetype) -> float:
    if arch.init_ms is not None:
        return arch.init_ms
    family = "java" if arch.runtime.startswith("java") else "nodejs" if arch.runtime.startswith("nodejs") else "python"
    return INIT_MEDIAN_MS[family] * (1.0 + arch.code_mb / 40.0 + 0.15 * arch.layers)


def simulate_cold_starts(counts: np.ndarray, mean_ms: float, rng: np.random.Generator,
                         provisioned: float = 0.0) -> np.ndarray:
    """Cold starts per minute from an environment pool: idle eviction after 5-7 min, recycling every ~2 h."""
    conc = counts * mean_ms / 60000.0
    demand = np.where(counts > 0, np.minimum(counts, np.ceil(conc + 2.0 * np.sqrt(conc))), 0).astype(int)
    demand = np.maximum(demand - int(provisioned or 0), 0)
    last_used = np.empty(0)
    born = np.empty(0)
    keep = np.empty(0)
    life = np.empty(0)
    cold = np.zeros(len(counts), dtype=int)
    for t in np.flatnonzero(demand):
        alive = ((t - last_used) <= keep) & ((t - born) <= life)
        last_used, born, keep, life = last_used[alive], born[alive], keep[alive], life[alive]
        need = demand[t]
        order = np.argsort(-last_used)
        reuse = order[:need]
        last_used[reuse] = t
        new = max(0, need - len(last_used))
        if new:
            cold[t] = new
            last_used = np.concatenate([last_used, np.full(new, float(t))])
            born = np.concatenate([born, np.full(new, float(t))])
            keep = np.concatenate([keep, rng.uniform(*KEEP_ALIVE_MIN, new)])
            life = np.concatenate([life, rng.uniform(*RECYCLE_MIN, new)])
    return np.minimum(cold, counts)


@dataclass
class _Traffic:
    counts: np.ndarray        # invocations per minute (throttled ones excluded)
    throttles: np.ndarray
    errors: np.ndarray
    timeouts: np.ndarray
    cold: np.ndarray


def simulate_traffic(arch: Archetype) -> _Traffic:
    rng = _rng(arch, "traffic")
    offered = rng.poisson(traffic_rate(arch))
    throttles = np.zeros(MINUTES, dtype=int)
    counts = offered
    if not np.isnan(arch.reserved):
        per_minute_cap = int(arch.reserved * 60000.0 / mean_warm_ms(arch))
        counts = np.minimum(offered, per_minute_cap)
        throttles = offered - counts
    day = np.arange(MINUTES) // 1440
    bad = np.isin(day, arch.bad_days)
    timeout_p = np.where(bad, arch.bad_day_timeout_rate, 0.0)
    timeouts = rng.binomial(counts, timeout_p)
    error_p = np.where(bad, max(arch.error_rate, arch.bad_day_error_rate), arch.error_rate)
    errors = rng.binomial(counts - timeouts, error_p) + timeouts
    cold = simulate_cold_starts(counts, mean_warm_ms(arch), _rng(arch, "pool"),
                                provisioned=0 if np.isnan(arch.provisioned) else arch.provisioned)
    return _Traffic(counts, throttles, errors, timeouts, cold)


# --------------------------------------------------------------------------------------------------------
# tables


def _key(arch: Archetype) -> dict:
    return {"account_id": arch.account, "region": REGION, "function_name": arch.name}


def _function_row(arch: Archetype) -> dict:
    acct = arch.account
    arn = f"arn:aws:lambda:{REGION}:{acct}:function:{arch.name}"
    layers = ";".join(f"arn:aws:lambda:{REGION}:{acct}:layer:shared-{i}:3" for i in range(arch.layers))
    return {
        **_key(arch), "function_arn": arn, "runtime": arch.runtime, "handler": "app.handler",
        "memory_mb": arch.memory_mb, "arch": arch.arch, "timeout_s": arch.timeout_s,
        "ephemeral_storage_mb": arch.ephemeral_mb, "package_type": arch.package_type,
        "code_size_bytes": int(arch.code_mb * 1024 * 1024), "layer_count": arch.layers, "layers": layers,
        "vpc_id": "vpc-0a1b2c3d4e5f60718" if arch.vpc else "", "subnet_count": 2 if arch.vpc else 0,
        "security_group_count": 1 if arch.vpc else 0, "tracing_mode": "Active" if arch.tracing else "PassThrough",
        "log_group": f"/aws/lambda/{arch.name}", "log_format": arch.log_format,
        "role_arn": f"arn:aws:iam::{acct}:role/{arch.name}-role", "last_modified": "2026-09-14T10:21:07.000+0000",
        "state": "Active", "env_var_names": ";".join(arch.env), "reserved_concurrency": arch.reserved,
        "provisioned_concurrency": arch.provisioned, "aliases": "live" if not np.isnan(arch.provisioned) else "",
        "function_url_auth": "AWS_IAM" if arch.trigger.source_type == "function-url" else "",
        "description": arch.description,
    }


def _ts(minutes: np.ndarray) -> pd.DatetimeIndex:
    return START + pd.to_timedelta(minutes, unit="min")


def _metric_rows(arch: Archetype, metric: str, stat: str, period_s: int, ts, values) -> pd.DataFrame:
    return pd.DataFrame({**_key(arch), "metric": metric, "stat": stat, "period_s": period_s,
                         "timestamp": ts, "value": np.asarray(values, dtype=float)})


def _per_minute(arch: Archetype, metric: str, series: np.ndarray) -> pd.DataFrame:
    nz = np.flatnonzero(series)
    return _metric_rows(arch, metric, "Sum", 60, _ts(nz), series[nz])


def _hourly_duration_stats(arch: Archetype, traffic: _Traffic, rng: np.random.Generator) -> list[pd.DataFrame]:
    hourly_n = traffic.counts.reshape(-1, 60).sum(axis=1)
    hourly_to = traffic.timeouts.reshape(-1, 60).sum(axis=1)
    rows = {k: [] for k in ("Average", "Maximum", "p50", "p90", "p99")}
    hours = np.flatnonzero(hourly_n)
    for h in hours:
        n = int(hourly_n[h])
        k = min(n, 400)
        d = draw_durations(arch, k, rng)
        n_to = int(round(k * hourly_to[h] / n))
        if n_to:
            d[:n_to] = arch.timeout_s * 1000.0
        rows["Average"].append(d.mean())
        rows["Maximum"].append(d.max())
        for p in (50, 90, 99):
            rows[f"p{p}"].append(np.percentile(d, p))
    ts = START + pd.to_timedelta(hours, unit="h")
    return [_metric_rows(arch, "Duration", stat, 3600, ts, np.round(v, 2)) for stat, v in rows.items()]


def _metrics(arch: Archetype, traffic: _Traffic) -> pd.DataFrame:
    rng = _rng(arch, "metrics")
    frames = [_per_minute(arch, "Invocations", traffic.counts), _per_minute(arch, "Errors", traffic.errors),
              _per_minute(arch, "Throttles", traffic.throttles)]
    frames += _hourly_duration_stats(arch, traffic, rng)
    minute_conc = traffic.counts * mean_warm_ms(arch) / 60000.0
    burst = np.where(traffic.counts > 0, np.ceil(minute_conc + 2.0 * np.sqrt(minute_conc)), 0)
    if not np.isnan(arch.reserved):
        burst = np.minimum(burst, arch.reserved)
    hourly_conc = burst.reshape(-1, 60).max(axis=1)
    hours = np.flatnonzero(hourly_conc)
    frames.append(_metric_rows(arch, "ConcurrentExecutions", "Maximum", 3600,
                               START + pd.to_timedelta(hours, unit="h"), hourly_conc[hours]))
    all_hours = START + pd.to_timedelta(np.arange(DAYS * 24), unit="h")
    if arch.trigger.source_type in ("kinesis", "dynamodb-streams"):
        if arch.iterator_age_growth:
            age = np.linspace(2_000.0, 6.5 * 3_600_000.0, DAYS * 24) * rng.uniform(0.9, 1.1, DAYS * 24)
        else:
            age = rng.uniform(150.0, 1_800.0, DAYS * 24)
        frames.append(_metric_rows(arch, "IteratorAge", "Maximum", 3600, all_hours, np.round(age)))
    if not arch.trigger.sync and arch.trigger.source_type in ("s3", "sns", "eventbridge", "invoke-async"):
        active = np.flatnonzero(traffic.counts.reshape(-1, 60).sum(axis=1))
        ts = START + pd.to_timedelta(active, unit="h")
        frames.append(_metric_rows(arch, "AsyncEventAge", "Average", 3600, ts, np.round(rng.uniform(15, 60, len(active)))))
        frames.append(_metric_rows(arch, "AsyncEventAge", "Maximum", 3600, ts, np.round(rng.uniform(80, 900, len(active)))))
    if not np.isnan(arch.provisioned):
        hourly = traffic.counts.reshape(-1, 60).sum(axis=1)
        frames.append(_metric_rows(arch, "ProvisionedConcurrencyInvocations", "Sum", 3600, all_hours, hourly))
        frames.append(_metric_rows(arch, "ProvisionedConcurrencySpilloverInvocations", "Sum", 3600, all_hours,
                                   np.zeros(DAYS * 24)))
        util = np.minimum(hourly_conc / arch.provisioned, 1.0)
        frames.append(_metric_rows(arch, "ProvisionedConcurrencyUtilization", "Maximum", 3600, all_hours, np.round(util, 4)))
        frames.append(_metric_rows(arch, "ProvisionedConcurrentExecutions", "Maximum", 3600, all_hours, hourly_conc))
    if traffic.timeouts.any():
        daily = traffic.timeouts.reshape(-1, 1440).sum(axis=1)
        days = np.flatnonzero(daily)
        frames.append(_metric_rows(arch, "Timeouts", "Sum", 86400, START + pd.to_timedelta(days, unit="D"), daily[days]))
    return pd.concat(frames, ignore_index=True)


def _population(arch: Archetype, traffic: _Traffic, rng: np.random.Generator, n: int = 20000):
    """A large draw of invocations representative of the window: durations, inits, memory used, status."""
    total = int(traffic.counts.sum())
    share_to = traffic.timeouts.sum() / max(total, 1)
    share_cold = traffic.cold.sum() / max(total, 1)
    d = draw_durations(arch, n, rng)
    status = np.full(n, "success", dtype=object)
    to = rng.random(n) < share_to
    d[to] = arch.timeout_s * 1000.0
    status[to] = "timeout"
    cold = rng.random(n) < share_cold
    init = np.where(cold, _init_median(arch) * rng.lognormal(0.0, 0.2, n), np.nan)
    used = np.minimum(np.round(arch.used_mb * rng.lognormal(0.0, 0.05, n)), arch.memory_mb)
    return d, init, used, status


def _report_aggregate(arch: Archetype, traffic: _Traffic, pop) -> dict:
    d, init, used, status = pop
    total = int(traffic.counts.sum())
    cold_total = int(traffic.cold.sum())
    inits = init[~np.isnan(init)]
    if inits.size == 0 and cold_total:
        inits = np.array([_init_median(arch)])
    mean_billed_warm = np.ceil(d).mean()
    billed = total * mean_billed_warm + cold_total * (inits.mean() if inits.size else 0.0)
    return {
        **_key(arch), "log_group": f"/aws/lambda/{arch.name}", "invocations": total, "cold_starts": cold_total,
        "timeouts": int(traffic.timeouts.sum()),
        "init_p50_ms": float(np.percentile(inits, 50)) if cold_total else np.nan,
        "init_p99_ms": float(np.percentile(inits, 99)) if cold_total else np.nan,
        "init_mean_ms": float(inits.mean()) if cold_total else np.nan,
        "duration_p50_ms": float(np.percentile(d, 50)), "duration_p99_ms": float(np.percentile(d, 99)),
        "duration_mean_ms": float(d.mean()), "billed_ms_sum": float(np.round(billed)),
        "max_memory_used_p50_mb": float(np.percentile(used, 50)), "max_memory_used_p99_mb": float(np.percentile(used, 99)),
        "max_memory_used_max_mb": float(used.max()), "memory_size_mb": float(arch.memory_mb),
        "path": "sample", "sampled_fraction": 1.0,
    }


def report_line(request_id: str, duration: float, memory_mb: int, used_mb: float, init: float = np.nan,
                status: str = "success", log_format: str = "Text", ts: pd.Timestamp | None = None) -> str:
    """A REPORT line as Lambda writes it (text with its tab/space quirks, or JSON platform.report)."""
    billed = int(np.ceil(round(duration + (0.0 if np.isnan(init) else init), 6)))
    if log_format == "JSON":
        metrics = {"durationMs": round(duration, 2), "billedDurationMs": billed, "memorySizeMB": int(memory_mb),
                   "maxMemoryUsedMB": int(used_mb)}
        if not np.isnan(init):
            metrics["initDurationMs"] = round(init, 2)
        record = {"requestId": request_id, "metrics": metrics, "status": status}
        when = (ts or END).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return json.dumps({"time": when, "type": "platform.report", "record": record}, separators=(",", ":"))
    parts = [f"REPORT RequestId: {request_id}", f"Duration: {duration:.2f} ms", f"Billed Duration: {billed} ms ",
             f"Memory Size: {int(memory_mb)} MB", f"Max Memory Used: {int(used_mb)} MB"]
    if not np.isnan(init):
        parts.append(f"Init Duration: {init:.2f} ms")
    if status == "timeout":
        parts.append("Status: timeout")
    return "\t".join(parts) + "\t"


def _report_samples(arch: Archetype, traffic: _Traffic, pop, rng: np.random.Generator) -> pd.DataFrame:
    d, init, used, status = pop
    minutes = np.repeat(np.arange(MINUTES), traffic.counts)
    if minutes.size == 0:
        return pd.DataFrame(columns=["account_id", "region", "function_name", "timestamp", "message"])
    k = min(REPORT_LINES_PER_FUNCTION, minutes.size)
    picked = np.sort(rng.choice(minutes.size, size=k, replace=False))
    ts = START + pd.to_timedelta(minutes[picked], unit="min") + pd.to_timedelta(rng.integers(0, 60, k), unit="s")
    idx = rng.choice(len(d), size=k, replace=False)
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(k)]
    lines = [report_line(ids[j], float(d[i]), arch.memory_mb, float(used[i]), float(init[i]), str(status[i]),
                         arch.log_format, ts[j]) for j, i in enumerate(idx)]
    out = pd.DataFrame({**_key(arch), "timestamp": ts, "message": lines})
    if arch.tried_mb:
        out = pd.concat([_tried_samples(arch, _rng(arch, "tried")), out], ignore_index=True)
    return out


def _tried_samples(arch: Archetype, rng: np.random.Generator, k: int = 60) -> pd.DataFrame:
    """REPORT lines from the window's first two days, when the function ran at ``tried_mb`` (a memory change)."""
    m = float(arch.tried_mb)
    sigma = arch.noise
    d = mean_warm_ms(arch, m) * rng.lognormal(-sigma**2 / 2, sigma, k)
    used = np.minimum(np.round(arch.used_mb * rng.lognormal(0.0, 0.05, k)), m)
    ts = START + pd.to_timedelta(np.sort(rng.integers(0, 2 * 24 * 60, k)), unit="min")
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(k)]
    lines = [report_line(ids[j], float(d[j]), int(m), float(used[j]), np.nan, "success", arch.log_format, ts[j])
             for j in range(k)]
    return pd.DataFrame({**_key(arch), "timestamp": ts, "message": lines})


def _triggers(arch: Archetype) -> dict:
    t = arch.trigger
    last = (t.detail.split() or [""])[-1]
    arn = {
        "sqs": f"arn:aws:sqs:{REGION}:{arch.account}:{last}",
        "kinesis": f"arn:aws:kinesis:{REGION}:{arch.account}:stream/clickstream",
        "dynamodb-streams": f"arn:aws:dynamodb:{REGION}:{arch.account}:table/orders/stream/2026-01-01T00:00:00.000",
        "sns": f"arn:aws:sns:{REGION}:{arch.account}:{last}",
        "s3": f"arn:aws:s3:::{last}",
        "eventbridge": f"arn:aws:events:{REGION}:{arch.account}:rule/{arch.name}",
        "apigw-rest": f"arn:aws:execute-api:{REGION}:{arch.account}:a1b2c3d4e5",
        "apigw-http": f"arn:aws:execute-api:{REGION}:{arch.account}:f6g7h8i9j0",
        "function-url": f"arn:aws:lambda:{REGION}:{arch.account}:function:{arch.name}",
        "invoke-sync": f"arn:aws:lambda:{REGION}:{arch.account}:function:users-api",
    }.get(t.source_type, "")
    evidence = {"sqs": "list_event_source_mappings", "kinesis": "list_event_source_mappings",
                "dynamodb-streams": "list_event_source_mappings", "apigw-rest": "apigateway:get_integration",
                "apigw-http": "apigatewayv2:get_integrations", "function-url": "list_function_url_configs",
                "sns": "sns:list_subscriptions", "eventbridge": "events:list_rule_names_by_target",
                "s3": "s3:get_bucket_notification_configuration", "invoke-sync": "get_policy"}[t.source_type]
    return {**_key(arch), "source_type": t.source_type, "source_arn": arn, "sync": t.sync, "batch_size": t.batch_size,
            "batch_window_s": t.batch_window_s, "parallelization": t.parallelization, "filter_count": 0,
            "enabled": True, "payload_kb": t.payload_kb, "detail": t.detail, "evidence": evidence}


def _calls(arch: Archetype) -> list[dict]:
    return [{**_key(arch), "service": c.service, "operation": c.operation, "resource": c.resource,
             "calls_per_invocation": c.calls_per_invocation, "mean_ms": c.mean_ms, "response_kb": c.response_kb,
             "used_fraction": c.used_fraction, "items_evaluated": c.items_evaluated, "items_returned": c.items_returned,
             "item_kb": c.item_kb, "retries_per_invocation": c.retries_per_invocation, "result_used": c.result_used,
             "evidence": "sample"} for c in arch.calls]


def _roles(arch: Archetype) -> list[dict]:
    role = f"arn:aws:iam::{arch.account}:role/{arch.name}-role"
    rows = [{"account_id": arch.account, "role_arn": role, "policy_name": "AWSLambdaBasicExecutionRole",
             "effect": "Allow", "action": a, "resource": f"arn:aws:logs:{REGION}:{arch.account}:*"}
            for a in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")]
    for action, resource in arch.actions:
        res = resource if resource == "*" or resource.startswith("arn:") else \
            f"arn:aws:dynamodb:{REGION}:{arch.account}:{resource}"
        rows.append({"account_id": arch.account, "role_arn": role, "policy_name": f"{arch.name}-inline",
                     "effect": "Allow", "action": action, "resource": res})
    return rows


def generate() -> Snapshot:
    """Build the sample account snapshot (deterministic: same code, same tables)."""
    functions, metrics, reports, samples, triggers, calls, insights, roles, concurrency = ([] for _ in range(9))
    for arch in ARCHETYPES:
        traffic = simulate_traffic(arch)
        pop = _population(arch, traffic, _rng(arch, "population"))
        functions.append(_function_row(arch))
        metrics.append(_metrics(arch, traffic))
        reports.append(_report_aggregate(arch, traffic, pop))
        samples.append(_report_samples(arch, traffic, pop, _rng(arch, "samples")))
        triggers.append(_triggers(arch))
        calls.extend(_calls(arch))
        roles.extend(_roles(arch))
        if arch.insights:  # what Lambda Insights reports: CPU time over wall time of a warm invocation
            insights.append({**_key(arch), "cpu_fraction": round(arch.cpu_ms / mean_warm_ms(arch), 4),
                             "network_kb_per_invocation": sum(c.response_kb * c.calls_per_invocation for c in arch.calls),
                             "evidence": "sample"})
        if not np.isnan(arch.reserved):
            concurrency.append({**_key(arch), "qualifier": "", "kind": "reserved", "requested": arch.reserved,
                                "allocated": np.nan, "status": ""})
        if not np.isnan(arch.provisioned):
            concurrency.append({**_key(arch), "qualifier": "live", "kind": "provisioned", "requested": arch.provisioned,
                                "allocated": arch.provisioned, "status": "READY"})
    manifest = {
        "schema_version": SCHEMA_VERSION, "source": "sample", "created": END.isoformat(),
        "start": START.isoformat(), "end": END.isoformat(), "lookback_days": DAYS,
        "accounts": [PROD, STAGING], "regions": [REGION],
        "generator": f"lambda_workbook.sample (seed {SEED})",
        "notes": "Synthetic account: every number is generated from the archetype models in lambda_workbook.sample.",
        "archetypes": {a.name: list(a.expect) for a in ARCHETYPES},
    }
    tables = {
        "functions": pd.DataFrame(functions), "metrics": pd.concat(metrics, ignore_index=True),
        "reports": pd.DataFrame(reports), "report_samples": pd.concat(samples, ignore_index=True),
        "triggers": pd.DataFrame(triggers), "calls": pd.DataFrame(calls), "insights": pd.DataFrame(insights),
        "roles": pd.DataFrame(roles).drop_duplicates(ignore_index=True), "concurrency": pd.DataFrame(concurrency),
    }
    return Snapshot(manifest, tables)


def archetype(name: str) -> Archetype:
    for a in ARCHETYPES:
        if a.name == name:
            return a
    raise KeyError(f"no sample archetype named {name!r}")
