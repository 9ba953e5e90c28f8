"""Published limits, the documented assumptions every read model shares, and the checks on its inputs."""

from __future__ import annotations

import math
import re

from .. import billing

# ---- published limits and dates (sources in the module docstring) --------------------------------------
VCPU_MB = billing.VCPU_MB        # one vCPU at 1,769 MB [LDG limits]
UNIT_BYTES = 4096                # read unit size
WRITE_UNIT_BYTES = 1024          # write unit size
PAGE_BYTES = 1024 * 1024         # Query/Scan read at most 1 MB per call, before filters
MAX_ITEM_KB = 400.0              # DynamoDB item size limit
BATCH_GET_MAX_KEYS = 100         # BatchGetItem keys per call
GSI_ENTRY_OVERHEAD_BYTES = 100   # storage overhead per index entry
MEMORY_RANGE_MB = billing.MEMORY_RANGE_MB   # configurable Lambda memory [LDG limits]
TIMEOUT_MAX_MS = billing.TIMEOUT_MAX_MS
SELECT_CLOSED_SINCE = "2024-07-25"
OBJECT_LAMBDA_CLOSED_SINCE = "2025-11-07"
MB_PER_GB = 1024.0
MB_PER_TB = 1024.0 * 1024.0

CONSISTENCY = {"strong": 1.0, "eventual": 0.5, "transactional": 2.0}
_OPERATIONS = {"get": "get", "getitem": "get", "batchget": "get", "batchgetitem": "get", "transactget": "get",
               "transactgetitems": "get", "query": "query", "scan": "scan"}
S3_OPTIONS = ("get", "range-get", "select", "athena")
DYNAMODB_OPTIONS = ("scan", "query", "query-gsi", "batch-get")
FORMATS = ("csv", "json", "parquet")
TRANSFERS = {"same-region": "data_transfer.same_region_gb", "nat-gateway": "vpc.nat_gateway_gb",
             "internet": "data_transfer.out_internet_gb"}
NEEDS = {"cost": "monthly_cost", "latency": "lambda_ms", "bytes": "bytes_transferred_mb"}

# ---- documented assumptions (no public figure exists; every one is a parameter) --------------------------
PARSE_MS_PER_MB = 20.0     # single-threaded parse at one full vCPU; CPython json lines ~14, csv ~15 ms/MB + row work
BASELINE_MB = 64.0         # runtime + SDK client memory besides the data held
EXPANSION = 2.0            # memory per MB of raw data held (raw bytes plus the decoded copy)
STREAM_CHUNK_MB = 8.0      # buffer of a streamed whole-object read


class ReadsError(ValueError):
    """A read pattern the model cannot use; the message names the value and what is allowed."""


# ---- small validators ------------------------------------------------------------------------------------
def check_number(name: str, value, *, minimum: float | None = 0.0, maximum: float | None = None,
                 strict: bool = False) -> float:
    if isinstance(value, bool | str):
        raise ReadsError(f"{name} must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ReadsError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ReadsError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and (x < minimum or (strict and x == minimum)):
        raise ReadsError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    if maximum is not None and x > maximum:
        raise ReadsError(f"{name} must be <= {maximum:g}, got {value!r}")
    return x


def check_memory(memory_mb) -> float:
    return check_number("memory_mb", memory_mb, minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1])


def check_choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ReadsError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_operation(operation) -> str:
    key = re.sub(r"[^a-z]", "", operation.lower()) if isinstance(operation, str) else None
    if key not in _OPERATIONS:
        raise ReadsError(f"operation must be 'get' (GetItem, BatchGetItem, TransactGetItems), 'query' or 'scan'; "
                         f"got {operation!r}")
    return _OPERATIONS[key]


def consistency_factor(consistency) -> float:
    if consistency not in CONSISTENCY:
        raise ReadsError(f"consistency must be one of {', '.join(map(repr, CONSISTENCY))}; got {consistency!r}")
    return CONSISTENCY[consistency]
