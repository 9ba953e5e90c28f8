"""Read only what you need: the bytes, requests, read units and Lambda time a read pattern costs.

A pure model (no I/O beyond the price book): a read pattern in, DataFrames out.

**S3** (:func:`s3_options`): a whole-object GET, a byte-range GET, S3 Select and Athena, compared per read and
per month on S3 request fees, Select/Athena scan fees, data transfer, and the Lambda time spent moving and
parsing the bytes (priced through :mod:`lambda_workbook.billing`).

**DynamoDB** (:func:`dynamodb_read_units`, :func:`dynamodb_read`, :func:`dynamodb_options`): read units
by the developer guide's rules, and Scan vs Query vs Query on a global secondary index vs BatchGetItem,
including the index's write and storage cost.

Published rules this module implements (the sources named in brackets: [DDB-DG] the Amazon DynamoDB Developer
Guide, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ (read/write capacity, Query, Scan, global
secondary indexes); [BOTO] the DynamoDB API reference as shipped in botocore's service model; [S3SEL-DOC]
https://docs.aws.amazon.com/AmazonS3/latest/userguide/selecting-content-from-objects.html; [S3SEL-BLOG]
https://aws.amazon.com/blogs/aws/s3-glacier-select/ (its 2024-07-25 update); [OLAP]
https://docs.aws.amazon.com/AmazonS3/latest/userguide/transforming-objects.html; [ATHENA] Amazon Athena pricing,
https://aws.amazon.com/athena/pricing/):

* a strongly consistent read of up to 4 KB is one read unit, eventual half, transactional double; sizes round
  **up to 4 KB**. GetItem/BatchGetItem round each item; a missing item still costs one unit (half).
  Query and Scan sum the sizes of the items **evaluated** and round once per call; a call reads at most
  **1 MB before** any FilterExpression or ProjectionExpression, so a filter never lowers units and a
  projection lowers bytes sent, not units. A Query or Scan that finds nothing costs the minimum (1 or 0.5)
  [DDB-DG], [BOTO] dynamodb ``Query`` documentation;
* items are at most 400 KB; BatchGetItem takes at most 100 keys [DDB-DG] service quotas, [BOTO];
* a global secondary index is read eventually consistently; its read units count the *projected* size of
  the index entries; every table write that adds, changes or removes an index entry costs write units on
  the index (two when the index key changes), one per KB of the entry; storage counts each entry plus
  100 bytes [DDB-DG] ``GSI.md``;
* S3 GET/SELECT are Tier-2 requests; S3 Select bills GB scanned + GB returned and is **closed to new
  customers since 2024-07-25**; S3 Object Lambda, one of the suggested replacements, is **closed to new
  customers since 2025-11-07**; Athena bills $/TB scanned with a **10 MB minimum per query**, rounded up to
  the MB [S3SEL-DOC], [S3SEL-BLOG], [OLAP], [ATHENA];
* data moving from S3 or DynamoDB to a function in the same region costs nothing unless it passes a NAT
  gateway (price book items ``data_transfer.same_region_gb``, ``vpc.nat_gateway_gb``).

Units: 1 KB = 1,024 bytes, 1 MB = 1,024 KB, 1 GB = 1,024 MB, 1 TB = 1,024 GB.

**What is not published, and therefore a parameter** (see :func:`assumptions`): how network throughput grows
with memory (:class:`Network`, calibrate it with :func:`calibrate_network`), how long parsing takes
(``parse_ms_per_mb``), how much memory a runtime needs besides the data (``baseline_mb``, ``expansion``),
how long Athena queries, S3 Select scans and DynamoDB page evaluations take (``*_wait_ms``,
``evaluate_ms_per_mb``: unknown unless you pass a measurement).

The parts:

* :mod:`.limits` — published limits, the documented assumptions, :class:`ReadsError` and the input checks;
* :mod:`.units` — DynamoDB read and write units (:func:`dynamodb_read_units`, :func:`dynamodb_read`);
* :mod:`.network` — the Lambda side: :class:`Network`, :func:`calibrate_network`, parse time, memory held;
* :mod:`.assumptions` — :func:`assumptions` and :func:`service_status`;
* :mod:`.options` — what both options tables share (transfer and Lambda dollars, time bands, feasibility);
* :mod:`.s3` — :func:`s3_options`; :mod:`.dynamodb` — :func:`dynamodb_options`;
* :mod:`.setting` — :class:`Setting`, the keywords both options tables share, held once;
* :mod:`.ranking` — :func:`rank` and :func:`sweep`;
* :mod:`.calls` — a snapshot's read calls (:func:`read_calls`, :func:`network_measurements`, :func:`patterns`);
* :mod:`.read_findings` — :func:`findings` and :class:`Thresholds`;
* :mod:`.views` — tables for display (:func:`view`, :func:`findings_view`, :func:`calls_view`, :func:`styled`)
  and :func:`results`.
"""

from .assumptions import assumptions, service_status
from .calls import DYNAMODB_READ_OPERATIONS, S3_READ_OPERATIONS, network_measurements, patterns, read_calls
from .dynamodb import DYNAMODB_COLUMNS, dynamodb_options
from .limits import (
    BASELINE_MB,
    BATCH_GET_MAX_KEYS,
    CONSISTENCY,
    DYNAMODB_OPTIONS,
    EXPANSION,
    FORMATS,
    GSI_ENTRY_OVERHEAD_BYTES,
    MAX_ITEM_KB,
    MB_PER_GB,
    MB_PER_TB,
    MEMORY_RANGE_MB,
    NEEDS,
    OBJECT_LAMBDA_CLOSED_SINCE,
    PAGE_BYTES,
    PARSE_MS_PER_MB,
    S3_OPTIONS,
    SELECT_CLOSED_SINCE,
    STREAM_CHUNK_MB,
    TIMEOUT_MAX_MS,
    TRANSFERS,
    UNIT_BYTES,
    VCPU_MB,
    WRITE_UNIT_BYTES,
    ReadsError,
)
from .network import (
    DEFAULT_NETWORK,
    NETWORK_RATIONALE,
    Network,
    calibrate_network,
    measured_throughput,
    memory_needed_mb,
    parse_ms,
)
from .ranking import TRADE_OFFS, rank, sweep
from .read_findings import FINDING_COLUMNS, SECTION, Thresholds, findings
from .s3 import S3_COLUMNS, pattern_from_rows, s3_options
from .setting import Setting
from .units import DynamoRead, dynamodb_read, dynamodb_read_units, dynamodb_write_units
from .views import (
    CALLS_VIEW,
    FINDINGS_VIEW,
    UNKNOWN_WAIT,
    VIEW_COLUMNS,
    calls_view,
    findings_view,
    results,
    styled,
    view,
)

__all__ = ["BASELINE_MB", "BATCH_GET_MAX_KEYS", "CALLS_VIEW", "CONSISTENCY", "DEFAULT_NETWORK",
           "DYNAMODB_COLUMNS", "DYNAMODB_OPTIONS", "DYNAMODB_READ_OPERATIONS", "DynamoRead", "EXPANSION",
           "FINDINGS_VIEW", "FINDING_COLUMNS", "FORMATS", "GSI_ENTRY_OVERHEAD_BYTES", "MAX_ITEM_KB",
           "MB_PER_GB", "MB_PER_TB", "MEMORY_RANGE_MB", "NEEDS", "NETWORK_RATIONALE", "Network",
           "OBJECT_LAMBDA_CLOSED_SINCE", "PAGE_BYTES", "PARSE_MS_PER_MB", "ReadsError", "S3_COLUMNS",
           "S3_OPTIONS", "S3_READ_OPERATIONS", "SECTION", "SELECT_CLOSED_SINCE", "Setting", "STREAM_CHUNK_MB",
           "TIMEOUT_MAX_MS", "TRADE_OFFS", "TRANSFERS", "Thresholds", "UNIT_BYTES", "UNKNOWN_WAIT", "VCPU_MB",
           "VIEW_COLUMNS", "WRITE_UNIT_BYTES", "assumptions", "calibrate_network", "calls_view",
           "dynamodb_options", "dynamodb_read", "dynamodb_read_units", "dynamodb_write_units", "findings",
           "findings_view", "measured_throughput", "memory_needed_mb", "network_measurements", "parse_ms",
           "pattern_from_rows", "patterns", "rank", "read_calls", "results", "s3_options", "service_status",
           "styled", "sweep", "view"]
