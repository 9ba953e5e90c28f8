"""What the read model assumes because nothing is published, and which read services are still open."""

from __future__ import annotations

import pandas as pd

from .limits import BASELINE_MB, EXPANSION, OBJECT_LAMBDA_CLOSED_SINCE, PARSE_MS_PER_MB, SELECT_CLOSED_SINCE
from .network import DEFAULT_NETWORK, NETWORK_RATIONALE, Network


def assumptions(network: Network | None = None, *, parse_ms_per_mb: float = PARSE_MS_PER_MB,
                baseline_mb: float = BASELINE_MB, expansion: float = EXPANSION) -> pd.DataFrame:
    """Every figure the model assumes because nothing is published, with its value and why."""
    n = network or DEFAULT_NETWORK
    rows = [
        ("network throughput at 1,769 MB", n.mb_per_s_1vcpu, "MB/s", n.source, NETWORK_RATIONALE),
        ("network growth with memory (exponent)", n.exponent, "", n.source,
         "sub-linear: AWS says network-bound functions gain least from memory"),
        ("network band", f"x{n.band[0]:g}-x{n.band[1]:g}", "", n.source,
         "spread of the public observations; every time and cost carries it as low/high"),
        ("request latency, S3 and other AWS APIs", n.request_ms, "ms/request", "AWS S3 performance guide",
         "small-request median latency 'in the tens of milliseconds'"),
        ("request latency, DynamoDB", n.dynamodb_request_ms, "ms/request", "DynamoDB developer guide",
         "'single-digit millisecond' performance"),
        ("parse time at one vCPU", parse_ms_per_mb, "ms/MB", "assumption",
         "CPython on one core spends ~14 ms/MB decoding json lines and ~15 ms/MB reading csv (CPU time, "
         "benchmarks/bench_reads.py); 20 leaves room for the work per row. Single-threaded: slower below 1,769 MB, "
         "no faster above"),
        ("runtime memory besides data", baseline_mb, "MB", "assumption",
         "a small Python/Node.js runtime with an SDK client; use your Max Memory Used minus the data held"),
        ("memory per MB of data held", expansion, "x", "assumption", "raw bytes plus their decoded copy"),
        ("Athena query time", "unknown", "ms", "not published", "seconds of queueing and execution; pass athena_wait_ms"),
        ("S3 Select scan time", "unknown", "ms", "not published", "pass select_wait_ms"),
        ("DynamoDB time per MB evaluated", "unknown", "ms/MB", "not published",
         "a 1 MB Scan page takes longer than a small GetItem; pass evaluate_ms_per_mb from X-Ray"),
    ]
    return pd.DataFrame(rows, columns=["assumption", "value", "unit", "source", "rationale"]).set_index("assumption")


def service_status() -> pd.DataFrame:
    """Which 'read only what you need' services a new customer can still use, and what replaces the closed ones."""
    rows = [
        ("S3 Select", False, f"closed to new customers since {SELECT_CLOSED_SINCE}; existing customers can "
         "continue", "[S3SEL-DOC] [S3SEL-BLOG]",
         "Athena; a byte-range GET on a known layout; filter while streaming in the function; split or index "
         "the data when it is written"),
        ("S3 Object Lambda", False, f"available only to existing customers since {OBJECT_LAMBDA_CLOSED_SINCE} "
         "(AWS's own 2024 suggestion in place of Select)", "[OLAP]", "the same as for S3 Select"),
        ("Amazon Athena", True, "available: $/TB scanned, 10 MB minimum per query, rounded up to the MB",
         "[ATHENA]", "columnar formats (Parquet) and partitions cut the bytes scanned"),
        ("S3 byte-range GET", True, "available: one Tier-2 GET per range; only the returned bytes leave S3 "
         "(no explicit source)", "[S3-REQ]", "needs the byte offsets of what you need"),
        ("DynamoDB Query / GetItem / BatchGetItem", True, "available: read units by item size (4 KB)",
         "[DDB-DG]", "needs a key design or a global secondary index that selects the items"),
    ]
    return pd.DataFrame(rows, columns=["service", "open_to_new_customers", "status", "source", "what_remains"]
                        ).set_index("service")
