"""Invocation sources: what each way of invoking a function costs, how it behaves, and what batching buys.

Pure model: data in, DataFrames out. Two data files drive it and no source has code of its own:

* the **trigger catalog** ``data/triggers/catalog.json`` holds every source's semantics (sync or async, retries,
  failure handling, ordering, payload and batch limits, scaling, polling) and its *meters*: which price-book item
  it consumes and by which generic rule (per event with payload chunks, per delivery attempt, per invocation, per
  API call of up to N messages, per hour, per poll, capacity units such as LCUs and shards, GB-seconds with
  rounding), plus the assumptions where nothing is published;
* the **price book** (:mod:`lambda_workbook.prices`) holds the prices, chunk sizes (``metering_kb``), capacity
  figures (``lcu``, ``capacity``) and rounding steps (``rounding_ms``, ``rounding_mb``).

The contract::

    w = Workload(events_per_month=10_000_000, payload_kb=2.0, duration_ms=120.0, memory_mb=512, sync=True,
                 arch="x86_64", region="us-east-1", batch_size=1, batch_window_s=0.0,
                 invocation_overhead_ms=0.0)
    compare(w)   # DataFrame indexed by source id: feasible, reason, invocations, source_cost, lambda_cost,
                 # monthly_cost (USD/month), latency / retry / ordering columns, ...

``duration_ms`` is the work per event; one invocation with a batch of ``b`` events runs
``invocation_overhead_ms + b × duration_ms``.

**Batch fill** (queues and streams). Each of a source's ``partitions`` (SQS pollers, stream shards ×
parallelization) gathers its own batches from Poisson arrivals. With a batching window a batch opens with its
first event and closes when full (the batch size, capped by the 6 MB batch payload) or when the window has
passed; without a window a polled stream (Kinesis each second, DynamoDB Streams 4 times a second) hands over
what arrived since the last poll, and SQS long polling returns at once (one event per invocation: an
assumption, since nothing is published on how many messages an idle-window poller gathers). The expectations
are exact for Poisson arrivals (see :func:`batch_fill`; ``benchmarks/bench_triggers.py`` checks them against a
simulation). Bursty traffic fills batches better than Poisson traffic, so batching savings are on the
conservative side. The worst-case added wait is the polling gap plus the window.

**Retries** (``Workload.failure_rate``): each delivery attempt fails with that probability; a source retries up to
its catalog ``attempts`` (None = until success), and every attempt is metered and invoked again.

**Unknown prices**: a meter whose price the book stores as ``null`` (Kinesis on-demand retrieval) or whose quantity
nobody can know (WebSocket connection-minutes) is *unknown*, never $0: its ``cost`` in :func:`meters` is NaN, the
row's ``unpriced`` column names it, ``lower_bound`` is True (the totals are what the priced parts cost), and
:func:`view`, :func:`results` and the findings say so. Such a row is never reported as the cheapest without the
word "unknown" (:func:`lambda_workbook.unpriced.cheapest`).

**Batching windows** are refused where the event source mapping has none (``window_max_s`` 0 in the catalog: SQS
FIFO queues), so :func:`best_batch` never recommends one there.

**Observed functions**: :func:`observed` reads a snapshot's triggers and traffic; for batched triggers the
events are the invocations times the batch fill that the same model predicts (inverted: given the invocation
rate, the window and the batch size, the event rate is unique), so that pricing the current trigger reproduces
the invocations CloudWatch counted. :func:`findings` turns the comparisons into review findings.

The package's files, one job each:

* :mod:`.catalog` — the trigger catalog (:func:`load_catalog`, :func:`parse_catalog`);
* :mod:`.workload` — :class:`Workload` and its checks;
* :mod:`.fill` — retries and batch fill under Poisson arrivals (:func:`batch_fill`, :func:`rate_from_invocations`);
* :mod:`.pricing` — meters and prices (:func:`compare`, :func:`meters`);
* :mod:`.batch_settings` — batch sizes and windows (:func:`batching`, :func:`best_batch`);
* :mod:`.grid` — the batching grid priced as arrays, every setting in one pass with :mod:`.pricing`'s numbers;
* :mod:`.observations` — a snapshot's functions as workloads (:func:`observed`, :func:`source_spend`,
  :func:`alternatives`);
* :mod:`.finding_rules` — the review findings (:func:`findings`);
* :mod:`.views` — tables and results for notebooks and the CLI.
"""

from .batch_settings import DEFAULT_BATCH_SIZES, DEFAULT_WINDOWS_S, TIE_SHARE, TIE_USD, batching, best_batch
from .catalog import (
    CATALOG_SCHEMA,
    ROLES,
    RULES,
    Catalog,
    CatalogError,
    catalog_path,
    load_catalog,
    parse_catalog,
)
from .fill import batch_fill, expected_attempts, poisson_batches, poisson_capped_mean, rate_from_invocations
from .finding_rules import (
    DEFAULT_THRESHOLDS,
    FINDING_COLUMNS,
    SECTION,
    batch_size_finding,
    findings,
    rest_only_features,
    rest_to_http_finding,
    severity,
    sync_for_async_finding,
)
from .observations import (
    SOURCE_SERVICE,
    alternatives,
    from_parameters,
    observed,
    row_workload,
    source_spend,
    workload_for,
)
from .pricing import KB_PER_GB, KB_PER_MB, SECONDS_PER_MONTH, compare, meters
from .views import SEMANTIC_COLUMNS, VIEW_COLUMNS, describe, results, semantics, semantics_view, view
from .workload import MAX_BATCH, MAX_WINDOW_S, MEMORY_RANGE_MB, Workload, check_number

#: The batch-size check under the name the tests call it by.
_batch_size = batch_size_finding

__all__ = [
    "CATALOG_SCHEMA", "DEFAULT_BATCH_SIZES", "DEFAULT_THRESHOLDS", "DEFAULT_WINDOWS_S", "FINDING_COLUMNS", "KB_PER_GB",
    "KB_PER_MB", "MAX_BATCH", "MAX_WINDOW_S", "MEMORY_RANGE_MB", "ROLES", "RULES", "SECONDS_PER_MONTH", "SECTION",
    "SEMANTIC_COLUMNS", "SOURCE_SERVICE", "TIE_SHARE", "TIE_USD", "VIEW_COLUMNS", "Catalog", "CatalogError",
    "Workload", "alternatives", "batch_fill", "batch_size_finding", "batching", "best_batch", "catalog_path",
    "check_number", "compare", "describe", "expected_attempts", "findings", "from_parameters", "load_catalog",
    "meters", "observed", "parse_catalog", "poisson_batches", "poisson_capped_mean", "rate_from_invocations",
    "rest_only_features", "rest_to_http_finding", "results", "row_workload", "semantics", "semantics_view",
    "severity", "source_spend", "sync_for_async_finding", "view", "workload_for",
]
