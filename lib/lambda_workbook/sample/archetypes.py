"""The sample account's functions: the window, the two accounts, and one :class:`Archetype` per function."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import billing

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
