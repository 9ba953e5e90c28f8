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
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import billing
from . import prices as _prices
from .schema import KEY

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
def _number(name: str, value, *, minimum: float | None = 0.0, maximum: float | None = None,
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


def _memory(memory_mb) -> float:
    return _number("memory_mb", memory_mb, minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1])


def _choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ReadsError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _operation(operation) -> str:
    key = re.sub(r"[^a-z]", "", operation.lower()) if isinstance(operation, str) else None
    if key not in _OPERATIONS:
        raise ReadsError(f"operation must be 'get' (GetItem, BatchGetItem, TransactGetItems), 'query' or 'scan'; "
                         f"got {operation!r}")
    return _OPERATIONS[key]


def _consistency(consistency) -> float:
    if consistency not in CONSISTENCY:
        raise ReadsError(f"consistency must be one of {', '.join(map(repr, CONSISTENCY))}; got {consistency!r}")
    return CONSISTENCY[consistency]


def _item_bytes(item_sizes_kb) -> np.ndarray:
    """Item sizes in KB (one number or a sequence) as whole bytes; 0 marks a key with no item."""
    try:
        kb = np.atleast_1d(np.asarray(item_sizes_kb, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise ReadsError(f"item_sizes_kb must be a number or a sequence of numbers (KB), got {item_sizes_kb!r}") from None
    if kb.size:
        bad = np.flatnonzero(~np.isfinite(kb))
        if bad.size:
            raise ReadsError(f"item_sizes_kb[{bad[0]}] is {float(kb[bad[0]])!r}: sizes must be finite KB "
                             "(use 0 for a requested key whose item does not exist)")
        bad = np.flatnonzero((kb < 0) | (kb > MAX_ITEM_KB))
        if bad.size:
            raise ReadsError(f"item_sizes_kb[{bad[0]}] is {float(kb[bad[0]])!r}: a DynamoDB item is 0 to "
                             f"{MAX_ITEM_KB:g} KB (0 = the requested key has no item)")
    # x * 1024 is exact in binary floating point, so this is the ceiling of the size in bytes
    return np.ceil(kb * 1024.0).astype(np.int64)


def _units(nbytes, unit: int = UNIT_BYTES):
    """Units of ``unit`` bytes, rounded up (vectorised; float bytes allowed)."""
    return np.ceil(np.round(np.asarray(nbytes, dtype=float) / unit, 9))


def _pages(item_bytes: np.ndarray) -> np.ndarray:
    """Bytes read by each Query/Scan call: items in order, each call stopping before it would pass 1 MB.

    The exact cut at the boundary is not documented; this model fills a page while the running total stays
    at or under 1 MB (an item of at most 400 KB always fits an empty page).
    """
    n = item_bytes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.concatenate([[0], np.cumsum(item_bytes)])
    pages, start = [], 0
    while start < n:
        end = int(np.searchsorted(cum, cum[start] + PAGE_BYTES, side="right")) - 1
        end = max(end, start + 1)
        pages.append(cum[end] - cum[start])
        start = end
    return np.asarray(pages, dtype=np.int64)


# ---- DynamoDB read units -------------------------------------------------------------------------------
def dynamodb_read_units(operation, item_sizes_kb, *, consistency: str = "strong") -> float:
    """Read request units (on-demand) or read capacity units (provisioned) that a read consumes.

    ``operation``: ``"get"`` (GetItem, BatchGetItem, TransactGetItems: each item rounded up to 4 KB; a key
    with no item, given as size 0, still costs one unit), ``"query"`` or ``"scan"`` (the sizes of the items
    *evaluated* — before any filter — summed per 1 MB page, each page rounded up to 4 KB; a call that finds
    nothing costs one unit). ``consistency``: ``"strong"`` (x1), ``"eventual"`` (x1/2), ``"transactional"``
    (x2; DynamoDB offers transactional reads through TransactGetItems only, so for query/scan this is a
    what-if).

    >>> dynamodb_read_units("query", [10.2, 10.2, 10.2, 10.2])     # 40.8 KB -> 44 KB -> 11 units
    11.0
    >>> dynamodb_read_units("query", [10.2] * 4, consistency="eventual")
    5.5
    >>> dynamodb_read_units("get", [10.2] * 4)                       # BatchGetItem: 12 KB each -> 3 units each
    12.0
    """
    op = _operation(operation)
    factor = _consistency(consistency)
    b = _item_bytes(item_sizes_kb)
    if op == "get":
        units = float(np.maximum(1.0, _units(b)).sum()) if b.size else 0.0
    else:
        units = max(1.0, float(_units(_pages(b)).sum()))
    return units * factor


def dynamodb_write_units(item_sizes_kb, *, transactional: bool = False) -> float:
    """Write units for writing items of these sizes: each rounded up to 1 KB (x2 in a transaction)."""
    b = _item_bytes(item_sizes_kb)
    units = float(np.maximum(1.0, _units(b, WRITE_UNIT_BYTES)).sum()) if b.size else 0.0
    return units * (2.0 if transactional else 1.0)


@dataclass(frozen=True)
class DynamoRead:
    """One DynamoDB read: what it consumes and what it moves."""

    operation: str
    consistency: str
    read_units: float
    requests: int             # calls: Query/Scan pages, or BatchGetItem calls of up to 100 keys
    items_evaluated: int
    items_returned: int
    kb_evaluated: float
    kb_returned: float        # bytes sent to the function: returned items x projected share

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dynamodb_read(operation, item_sizes_kb, *, returned=None, projected_fraction: float = 1.0,
                  consistency: str = "strong") -> DynamoRead:
    """A read in full: units (from the items *evaluated*), calls, and the bytes actually sent back.

    ``returned`` is the FilterExpression's outcome: ``None`` (every evaluated item is returned) or a boolean
    mask aligned with ``item_sizes_kb``. ``projected_fraction`` is the share of each returned item's bytes a
    ProjectionExpression keeps. Neither changes ``read_units`` — that is DynamoDB's rule, not a choice here.
    For ``"get"`` a size of 0 is a key with no item (consumed, not returned).
    """
    op = _operation(operation)
    units = dynamodb_read_units(operation, item_sizes_kb, consistency=consistency)
    b = _item_bytes(item_sizes_kb)
    share = _number("projected_fraction", projected_fraction, maximum=1.0)
    if returned is None:
        mask = b > 0 if op == "get" else np.ones(b.size, dtype=bool)
    else:
        mask = np.atleast_1d(np.asarray(returned))
        if mask.dtype != bool or mask.shape != b.shape:
            raise ReadsError(f"returned must be None or a boolean mask of {b.size} items, got {returned!r}")
        if op == "get":
            mask = mask & (b > 0)
    requests = math.ceil(b.size / BATCH_GET_MAX_KEYS) if op == "get" else max(1, _pages(b).size)
    return DynamoRead(operation=op, consistency=consistency, read_units=units, requests=int(requests),
                      items_evaluated=int(b.size), items_returned=int(mask.sum()),
                      kb_evaluated=float(b.sum()) / 1024.0, kb_returned=float(b[mask].sum()) / 1024.0 * share)


def _uniform_read(items: float, item_kb: float, operation: str, calls: float | None = None) -> tuple[float, float]:
    """(strong read units, calls) for ``items`` items of ``item_kb`` each; ``items`` may be a mean (not whole).

    The closed form of :func:`dynamodb_read_units` for equal sizes, so a 10-million-item table costs no array.
    ``calls`` (Query/Scan) spreads the items evenly over that many measured calls instead of packing 1 MB pages.
    """
    item_b = math.ceil(item_kb * 1024.0)
    if calls is not None and operation != "get":
        per_call = items / calls
        if per_call * item_b <= PAGE_BYTES:
            return calls * max(1.0, float(_units(per_call * item_b))), float(calls)
    if operation == "get":
        if items <= 0:
            return 0.0, 0.0
        return items * max(1.0, float(_units(item_b))), math.ceil(items / BATCH_GET_MAX_KEYS)
    if items <= 0:
        return 1.0, 1.0
    per_page = PAGE_BYTES // item_b if item_b else math.inf
    full = math.floor(items / per_page) if per_page != math.inf else 0
    rest = items - full * per_page if per_page != math.inf else items
    units = full * float(_units(per_page * item_b)) + (float(_units(rest * item_b)) if rest > 1e-9 else 0.0)
    calls = full + (1 if rest > 1e-9 else 0)
    return max(1.0, units), float(max(1, calls))


# ---- the Lambda side: network, parse, memory ------------------------------------------------------------
NETWORK_RATIONALE = (
    "AWS publishes no network-throughput-vs-memory curve (anchors.md §5): it says only that network-bound "
    "functions gain least from more memory, and the public observations are scattered — 'network performance "
    "improves as more RAM is allocated, variability higher on the low end' (cribl.io, 2018), 400-700 Mbit/s "
    "(50-88 MB/s) effective downloads of large files, a 256 MB function in a VPC moving 20 MB in ~50 s "
    "(DPG Media, 2022). The default is therefore an explicit assumption: 75 MB/s for one stream at 1,769 MB "
    "(one vCPU; ~600 Mbit/s, inside the 400-700 Mbit/s observation), growing with the square root of memory "
    "(sub-linear: network gains less than CPU), and a x0.5-x2 band carried into every time and cost. Replace it "
    "with calibrate_network() on your own measurements (X-Ray subsegments of GetObject calls: bytes, ms, memory).")


@dataclass(frozen=True)
class Network:
    """How fast a function moves bytes from S3/DynamoDB at a memory size. An ASSUMPTION unless calibrated.

    ``throughput(m) = min(max_mb_per_s, mb_per_s_1vcpu * (m / 1769) ** exponent)`` MB/s for one stream;
    each request adds ``request_ms`` (S3 and other AWS APIs: AWS's S3 performance guide puts small-request
    median latency "in the tens of milliseconds") or ``dynamodb_request_ms`` (DynamoDB: "single-digit
    millisecond"). ``band`` multiplies throughput for the low/high bound.
    """

    mb_per_s_1vcpu: float = 75.0
    exponent: float = 0.5
    max_mb_per_s: float = math.inf
    request_ms: float = 30.0
    dynamodb_request_ms: float = 5.0
    band: tuple[float, float] = (0.5, 2.0)
    source: str = "assumption (see reads.NETWORK_RATIONALE)"

    def __post_init__(self) -> None:
        _number("mb_per_s_1vcpu", self.mb_per_s_1vcpu, strict=True)
        _number("exponent", self.exponent, maximum=2.0)
        if not self.max_mb_per_s > 0:
            raise ReadsError(f"max_mb_per_s must be > 0, got {self.max_mb_per_s!r}")
        _number("request_ms", self.request_ms)
        _number("dynamodb_request_ms", self.dynamodb_request_ms)
        lo, hi = self.band
        if not (0 < lo <= 1 <= hi and math.isfinite(hi)):
            raise ReadsError(f"band must be (low, high) with 0 < low <= 1 <= high, got {self.band!r}")

    def mb_per_s(self, memory_mb, bound: str = "mid") -> float:
        """Throughput in MB/s at ``memory_mb``; ``bound`` "low" / "mid" / "high" applies the band."""
        m = _memory(memory_mb)
        scale = {"mid": 1.0, "low": self.band[0], "high": self.band[1]}[_choice("bound", bound, ("mid", "low", "high"))]
        return min(self.max_mb_per_s, self.mb_per_s_1vcpu * (m / VCPU_MB) ** self.exponent) * scale

    def transfer_ms(self, mb, memory_mb, bound: str = "mid") -> float:
        """Milliseconds to move ``mb`` MB (request latency not included)."""
        return _number("mb", mb) / self.mb_per_s(memory_mb, bound) * 1000.0

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "mb_per_s_at_128": self.mb_per_s(128), "mb_per_s_at_1769": self.mb_per_s(1769),
                "mb_per_s_at_10240": self.mb_per_s(10240)}


DEFAULT_NETWORK = Network()


def _measured_rates(mb, ms, requests, request_ms: float) -> np.ndarray:
    """MB/s each measurement implies once ``requests`` calls' latency is taken off its time (NaN when none is left)."""
    net_ms = np.asarray(ms, dtype=float) - np.asarray(requests, dtype=float) * request_ms
    return np.divide(np.asarray(mb, dtype=float), net_ms / 1000.0, out=np.full(net_ms.shape, np.nan), where=net_ms > 0)


def measured_throughput(measurements: pd.DataFrame, network: Network | None = None) -> pd.DataFrame:
    """:func:`network_measurements` with the throughput each implies (``mb_per_s``: one call's request latency
    taken off its time, as :func:`calibrate_network` does) beside the network model's at that memory
    (``model_mb_per_s``)."""
    net = network or DEFAULT_NETWORK
    return measurements.assign(mb_per_s=_measured_rates(measurements["mb"], measurements["ms"], 1.0, net.request_ms),
                               model_mb_per_s=[net.mb_per_s(m) for m in measurements["memory_mb"]])


def calibrate_network(measurements, *, base: Network | None = None, fit_exponent: bool = True) -> Network:
    """A :class:`Network` fitted to measured transfers.

    ``measurements``: a DataFrame (or records) with ``memory_mb``, ``mb`` (bytes moved, MB) and ``ms`` (time of
    the call), optionally ``requests`` (calls in that time, default 1). The request latency of ``base`` is taken
    off each time; the rest gives a throughput. With two or more memory sizes, ``log(throughput)`` is fitted
    linearly in ``log(memory)`` (rate at 1,769 MB and exponent); with one, the exponent of ``base`` is kept.
    With three or more points the band is the spread of measured/fitted throughput (at least x0.8-x1.25);
    with fewer, ``base``'s band is kept.
    """
    base = base or DEFAULT_NETWORK
    df = pd.DataFrame(list(measurements) if not isinstance(measurements, pd.DataFrame) else measurements)
    missing = {"memory_mb", "mb", "ms"} - set(df.columns)
    if missing:
        raise ReadsError(f"measurements need columns memory_mb, mb and ms; missing {sorted(missing)}")
    if df.empty:
        raise ReadsError("calibrate_network needs at least one measurement")
    req = df["requests"].astype(float) if "requests" in df else pd.Series(1.0, index=df.index)
    for col in ("memory_mb", "mb", "ms"):
        vals = pd.to_numeric(df[col], errors="coerce")
        if vals.isna().any() or (vals <= 0).any():
            raise ReadsError(f"measurements column {col!r} must hold positive numbers, got {df[col].tolist()!r}")
    mem = df["memory_mb"].astype(float).to_numpy()
    for m in mem:
        _memory(m)
    rates = _measured_rates(df["mb"], df["ms"], req, base.request_ms)
    keep = np.isfinite(rates)
    if not keep.any():
        raise ReadsError(f"every measured time is below the request latency ({base.request_ms:g} ms per call): "
                         "nothing is left for the transfer; measure larger objects")
    rate = rates[keep]
    x = np.log(mem[keep] / VCPU_MB)
    y = np.log(rate)
    exponent = base.exponent
    if fit_exponent and np.unique(mem[keep]).size >= 2:
        exponent, intercept = np.polyfit(x, y, 1)
        exponent = float(np.clip(exponent, 0.0, 2.0))
        intercept = float(np.mean(y - exponent * x))
    else:
        intercept = float(np.mean(y - exponent * x))
    ratio = np.exp(y - (intercept + exponent * x))
    band = base.band
    if keep.sum() >= 3:
        band = (float(min(ratio.min(), 0.8)), float(max(ratio.max(), 1.25)))
    sizes = ", ".join(f"{m:g}" for m in sorted(np.unique(mem[keep])))
    return Network(mb_per_s_1vcpu=float(math.exp(intercept)), exponent=float(exponent),
                   max_mb_per_s=base.max_mb_per_s, request_ms=base.request_ms,
                   dynamodb_request_ms=base.dynamodb_request_ms, band=band,
                   source=f"calibrated from {int(keep.sum())} measurement(s) at {sizes} MB")


def parse_ms(mb, memory_mb, *, parse_ms_per_mb: float = PARSE_MS_PER_MB) -> float:
    """Single-threaded parse time: ``parse_ms_per_mb`` at one full vCPU, slower below 1,769 MB (CPU share)."""
    share = min(1.0, _memory(memory_mb) / VCPU_MB)
    return _number("mb", mb) * _number("parse_ms_per_mb", parse_ms_per_mb) / share


def memory_needed_mb(held_mb, *, baseline_mb: float = BASELINE_MB, expansion: float = EXPANSION) -> float:
    """Memory a function needs to hold ``held_mb`` of data: runtime baseline + data x expansion."""
    return _number("baseline_mb", baseline_mb) + _number("held_mb", held_mb) * _number("expansion", expansion,
                                                                                         minimum=1.0)


def pattern_from_rows(rows, row_bytes, selectivity, *, columns_fraction: float = 1.0) -> dict[str, float]:
    """An object pattern from a table's shape: ``object_mb`` and ``fraction_needed`` (rows x columns kept)."""
    r = _number("rows", rows, strict=True)
    b = _number("row_bytes", row_bytes, strict=True)
    s = _number("selectivity", selectivity, maximum=1.0)
    c = _number("columns_fraction", columns_fraction, maximum=1.0)
    return {"object_mb": r * b / 2**20, "fraction_needed": s * c}


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


# ---- money ----------------------------------------------------------------------------------------------
def _transfer_usd(book: _prices.PriceBook, transfer: str, gb_per_month: float) -> float:
    return float(book.cost(TRANSFERS[transfer], gb_per_month))


def _lambda_usd(n: float, ms: float, memory_mb: float, arch: str, book: _prices.PriceBook) -> float:
    """Compute dollars of ``ms`` per invocation through the billing rules (the request fee is the function's
    own, paid whatever it reads, so it is not part of a read's cost)."""
    if n <= 0:
        return 0.0
    return billing.breakdown(n, ms, memory_mb, arch=arch, region=book.region, book=book)["compute_usd"]


def _per_wait_second_usd(memory_mb: float, arch: str, book: _prices.PriceBook) -> float:
    """What one second of waiting costs per million reads at this memory."""
    return _lambda_usd(1e6, 1000.0, memory_mb, arch, book)


def _finish(df: pd.DataFrame, n: float, memory_mb: float, arch: str, book: _prices.PriceBook,
            network: Network, transfer: str, baseline_mb: float, expansion: float) -> pd.DataFrame:
    """Add transfer dollars, Lambda time bands, Lambda dollars, totals, per-read cost and feasibility to an
    options table.

    Expects per-read columns ``bytes_transferred_mb``, ``transfer_ms`` (at mid throughput), ``calls_ms``,
    ``parse_ms``, ``wait_ms`` (NaN = unknown), ``held_mb``, ``per_read_usd`` (one read's requests and fees
    before transfer), and monthly ``request_usd``, ``service_usd``.
    """
    out = df.copy()
    out.attrs.update(baseline_mb=_number("baseline_mb", baseline_mb),
                     expansion=_number("expansion", expansion, minimum=1.0))
    out["transfer_usd"] = [_transfer_usd(book, transfer, n * mb / MB_PER_GB) for mb in out["bytes_transferred_mb"]]
    out["per_read_fixed_usd"] = out["per_read_usd"] + [_transfer_usd(book, transfer, mb / MB_PER_GB)
                                                       for mb in out["bytes_transferred_mb"]]
    bands = {"": 1.0, "_low": 1.0 / network.band[1], "_high": 1.0 / network.band[0]}
    for suffix, scale in bands.items():
        out[f"lambda_ms{suffix}"] = out["calls_ms"] + out["transfer_ms"] * scale + out["parse_ms"] + \
            out["wait_ms"].fillna(0.0)
    for suffix in bands:
        out[f"lambda_usd{suffix}"] = [_lambda_usd(n, ms, memory_mb, arch, book) for ms in out[f"lambda_ms{suffix}"]]
    fixed = out["request_usd"] + out["service_usd"] + out["transfer_usd"]
    for suffix in bands:
        out[f"monthly_cost{suffix}"] = fixed + out[f"lambda_usd{suffix}"]
    if n > 0:
        out["cost_per_read_usd"] = out["monthly_cost"] / n
    else:  # no traffic: price one read on its own
        one = [_lambda_usd(1.0, ms, memory_mb, arch, book) for ms in out["lambda_ms"]]
        out["cost_per_read_usd"] = out["per_read_fixed_usd"] + one
    out["memory_needed_mb"] = [memory_needed_mb(h, baseline_mb=baseline_mb, expansion=expansion) for h in out["held_mb"]]
    out["fits"] = out["memory_needed_mb"] <= memory_mb
    need = np.maximum(np.ceil(np.round(out["memory_needed_mb"].to_numpy(float), 6)), MEMORY_RANGE_MB[0])
    out["min_memory_mb"] = np.where(need <= MEMORY_RANGE_MB[1], need, np.nan)   # smallest size that holds the data
    out["feasible"] = (out["memory_needed_mb"] <= MEMORY_RANGE_MB[1]) & (out["lambda_ms"] <= TIMEOUT_MAX_MS)
    out["usable"] = out["available"] & out["fits"] & out["feasible"]
    out["latency_known"] = out["wait_ms"].notna() | ~out["wait_unknown"]
    return out


# ---- S3 -----------------------------------------------------------------------------------------------------
S3_COLUMNS = ["available", "usable", "monthly_cost", "monthly_cost_low", "monthly_cost_high", "cost_per_read_usd",
              "request_usd", "service_usd", "transfer_usd", "lambda_usd", "requests_per_read", "bytes_scanned_mb",
              "bytes_returned_mb", "bytes_transferred_mb", "billed_scan_mb", "lambda_ms", "lambda_ms_low",
              "lambda_ms_high", "transfer_ms", "parse_ms", "wait_ms", "latency_known", "memory_needed_mb",
              "min_memory_mb", "fits", "feasible", "requires", "status", "note"]


def s3_options(object_mb, fraction_needed, requests_per_month, *, memory_mb=1024, region: str = "us-east-1",
               arch: str = "x86_64", format: str = "csv", scanned_fraction: float | None = None,
               returned_fraction: float | None = None, ranges: int = 1, layout_known: bool = True,
               select_customer: bool = False, transfer: str = "same-region", stream: bool = False,
               select_wait_ms: float | None = None, athena_wait_ms: float | None = None,
               network: Network | None = None, parse_ms_per_mb: float = PARSE_MS_PER_MB,
               baseline_mb: float = BASELINE_MB, expansion: float = EXPANSION,
               book: _prices.PriceBook | None = None) -> pd.DataFrame:
    """The four ways a function can read what it needs from one S3 object, per read and per month.

    Index ``get`` (the whole object), ``range-get`` (only the needed bytes; needs a known layout), ``select``
    (S3 Select; ``available`` only for existing customers: pass ``select_customer=True``), ``athena``.
    Columns include ``monthly_cost`` (with ``_low``/``_high`` from the network band), ``cost_per_read_usd``,
    its parts ``request_usd`` (S3 requests), ``service_usd`` (Select/Athena scan fees), ``transfer_usd``,
    ``lambda_usd`` (Lambda time reading and parsing, through the billing rules), ``bytes_scanned_mb`` /
    ``bytes_returned_mb`` / ``bytes_transferred_mb`` per read, ``lambda_ms`` (``_low``/``_high``),
    ``wait_ms`` (NaN: not published), ``memory_needed_mb``, ``fits``, ``available``, ``usable``,
    ``requires`` and ``note``.

    ``format``: row formats (csv, json) make Select and Athena scan the whole object unless
    ``scanned_fraction`` says otherwise; for parquet they read only the needed columns (scanned = needed by
    default) and a range GET also reads the footer. ``returned_fraction`` (default ``fraction_needed``) is
    what Select/Athena send back — smaller for aggregates. ``stream=True``: the whole-object read keeps only
    a buffer and the needed part in memory. ``transfer``: ``"same-region"`` (free), ``"nat-gateway"``,
    ``"internet"``.
    """
    obj = _number("object_mb", object_mb, strict=True)
    frac = _number("fraction_needed", fraction_needed, maximum=1.0)
    n = _number("requests_per_month", requests_per_month)
    mem = _memory(memory_mb)
    billing.check_arch(arch)
    fmt = _choice("format", format, FORMATS)
    _choice("transfer", transfer, tuple(TRANSFERS))
    nranges = int(_number("ranges", ranges, minimum=1))
    net = network or DEFAULT_NETWORK
    book = book or _prices.load(region)
    columnar = fmt == "parquet"
    scan_f = (frac if columnar else 1.0) if scanned_fraction is None else _number("scanned_fraction", scanned_fraction,
                                                                                 maximum=1.0)
    ret_f = frac if returned_fraction is None else _number("returned_fraction", returned_fraction, maximum=1.0)
    if ret_f > scan_f + 1e-12:
        raise ReadsError(f"returned_fraction ({ret_f:g}) cannot exceed scanned_fraction ({scan_f:g}): a query "
                         "returns at most what it scans")
    select_wait = np.nan if select_wait_ms is None else _number("select_wait_ms", select_wait_ms)
    athena_wait = np.nan if athena_wait_ms is None else _number("athena_wait_ms", athena_wait_ms)

    need, scanned, returned = obj * frac, obj * scan_f, obj * ret_f
    get_price, put_price = book.price("s3.get_request"), book.price("s3.put_request")
    athena = book.item("athena.tb_scanned")
    athena_min = float(athena.get("minimum_mb", 0.0))
    athena_billed = max(math.ceil(round(scanned, 9)), athena_min)
    held_get = min(obj, STREAM_CHUNK_MB) + need if stream else obj
    range_requests = nranges + (1 if columnar else 0)
    rows = {
        "get": dict(requests_per_read=1, bytes_scanned_mb=obj, bytes_returned_mb=obj, billed_scan_mb=0.0,
                    service_per_read=0.0, api_calls=1, parse_mb=obj, held_mb=held_get, wait_ms=0.0,
                    wait_unknown=False, available=True, s3_request_per_read=get_price,
                    requires="nothing", status="available"),
        "range-get": dict(requests_per_read=range_requests, bytes_scanned_mb=need, bytes_returned_mb=need,
                          billed_scan_mb=0.0, service_per_read=0.0, api_calls=range_requests, parse_mb=need,
                          held_mb=need, wait_ms=0.0, wait_unknown=False, available=bool(layout_known),
                          s3_request_per_read=range_requests * get_price,
                          requires="a known layout: the byte offsets of what you need (fixed-size records, an "
                                   "index written with the object, a Parquet footer)",
                          status="available" if layout_known else "layout unknown"),
        "select": dict(requests_per_read=1, bytes_scanned_mb=scanned, bytes_returned_mb=returned,
                       billed_scan_mb=scanned,
                       service_per_read=scanned / MB_PER_GB * book.price("s3.select_scanned_gb")
                       + returned / MB_PER_GB * book.price("s3.select_returned_gb"),
                       api_calls=1, parse_mb=returned, held_mb=returned, wait_ms=select_wait, wait_unknown=True,
                       available=bool(select_customer), s3_request_per_read=get_price,
                       requires="an existing S3 Select customer (closed to new customers)",
                       status=f"closed to new customers since {SELECT_CLOSED_SINCE}"
                              + ("; used as an existing customer" if select_customer else "")),
        "athena": dict(requests_per_read=1, bytes_scanned_mb=scanned, bytes_returned_mb=returned,
                       billed_scan_mb=float(athena_billed),
                       service_per_read=athena_billed / MB_PER_TB * book.price("athena.tb_scanned"),
                       api_calls=3, parse_mb=returned, held_mb=returned, wait_ms=athena_wait, wait_unknown=True,
                       available=True, s3_request_per_read=get_price + put_price,
                       requires="a table over the data (Glue Data Catalog) and tolerance for query latency",
                       status="available"),
    }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "option"
    df["bytes_transferred_mb"] = df["bytes_returned_mb"]
    df["transfer_ms"] = [net.transfer_ms(mb, mem) for mb in df["bytes_transferred_mb"]]
    df["calls_ms"] = df["api_calls"] * net.request_ms
    df["parse_ms"] = [parse_ms(mb, mem, parse_ms_per_mb=parse_ms_per_mb) for mb in df["parse_mb"]]
    df["request_usd"] = n * df["s3_request_per_read"]
    df["service_usd"] = n * df["service_per_read"]
    df["per_read_usd"] = df["s3_request_per_read"] + df["service_per_read"]
    df = _finish(df, n, mem, arch, book, net, transfer, baseline_mb, expansion)
    wait_usd = _per_wait_second_usd(mem, arch, book)
    df["note"] = [_s3_note(opt, r, obj, frac, mem, wait_usd, fmt) for opt, r in df.iterrows()]
    df.attrs.update(kind="s3", memory_mb=mem, arch=arch, region=book.region, prices_as_of=book.as_of,
                    requests_per_month=n, network=net.source, pattern={"object_mb": obj, "fraction_needed": frac,
                                                                        "format": fmt, "transfer": transfer})
    return df[S3_COLUMNS]


def _mb(x: float) -> str:
    return f"{x:,.3g} MB" if x < 1000 else f"{x / 1024:,.3g} GB"


def _count(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _s3_note(option: str, r: pd.Series, obj: float, frac: float, mem: float, wait_usd: float, fmt: str) -> str:
    parts = []
    if option == "get":
        parts.append(f"moves the whole {_mb(obj)} object to use {_mb(obj * frac)} ({frac * 100:.3g}% of it)")
    elif option == "range-get":
        parts.append(f"{int(r['requests_per_read'])} ranged GET(s) for {_mb(r['bytes_transferred_mb'])}")
        if fmt == "parquet":
            parts.append("one of them reads the Parquet footer")
        if not r["available"]:
            parts.append("not possible until the layout is known (write an index or split the data at write time)")
    elif option == "select":
        parts.append(f"S3 Select is closed to new customers since {SELECT_CLOSED_SINCE} (existing customers only); "
                     f"S3 Object Lambda, the other 2024 alternative, since {OBJECT_LAMBDA_CLOSED_SINCE}")
        parts.append(f"scans {_mb(r['bytes_scanned_mb'])}, returns {_mb(r['bytes_returned_mb'])}")
    elif option == "athena":
        parts.append(f"scans {_mb(r['bytes_scanned_mb'])}, billed {r['billed_scan_mb']:g} MB (10 MB minimum per "
                     "query, rounded up to the MB)")
    if option in ("select", "athena") and not r["latency_known"]:
        parts.append(f"query time unknown (not published) and excluded: each second the function waits costs "
                     f"${wait_usd:,.2f} per million reads at {mem:g} MB")
    if not r["fits"]:
        parts.append(f"needs {r['memory_needed_mb']:,.0f} MB of memory (has {mem:g}): raise it to "
                     f"{r['min_memory_mb']:,.0f} MB or stream" if np.isfinite(r["min_memory_mb"]) else
                     f"needs {r['memory_needed_mb']:,.0f} MB of memory, more than Lambda offers: stream or split it")
    if not r["feasible"]:
        parts.append("beyond Lambda's limits (10,240 MB or 15 minutes)")
    return "; ".join(parts)


# ---- DynamoDB options -----------------------------------------------------------------------------------------
DYNAMODB_COLUMNS = ["available", "usable", "monthly_cost", "monthly_cost_low", "monthly_cost_high",
                    "cost_per_read_usd", "request_usd", "service_usd", "transfer_usd", "lambda_usd", "read_units",
                    "requests_per_read", "items_evaluated", "items_returned", "bytes_scanned_mb",
                    "bytes_returned_mb", "bytes_transferred_mb", "gsi_write_usd", "gsi_storage_usd", "lambda_ms",
                    "lambda_ms_low", "lambda_ms_high", "transfer_ms", "parse_ms", "wait_ms", "latency_known",
                    "memory_needed_mb", "min_memory_mb", "fits", "feasible", "consistency", "requires", "status",
                    "note"]


def dynamodb_options(table_items, items_needed, item_kb, requests_per_month, *, needed_kb: float | None = None,
                     consistency: str = "eventual", query_items_evaluated: float | None = None,
                     writes_per_month: float = 0.0, index_items: float | None = None,
                     index_item_kb: float | None = None, index_key_change_share: float = 0.0,
                     key_fits: bool = True, keys_known: bool = True, scan_calls: float | None = None,
                     query_calls: float | None = None, memory_mb=1024, arch: str = "x86_64",
                     region: str = "us-east-1", transfer: str = "same-region",
                     evaluate_ms_per_mb: float | None = None, network: Network | None = None,
                     parse_ms_per_mb: float = PARSE_MS_PER_MB, baseline_mb: float = BASELINE_MB,
                     expansion: float = EXPANSION, book: _prices.PriceBook | None = None) -> pd.DataFrame:
    """Four ways to read ``items_needed`` items of ``item_kb`` from a table of ``table_items`` (on-demand).

    Index ``scan`` (Scan + FilterExpression: every item evaluated and paid for), ``query`` (the table's own
    key selects the items: ``query_items_evaluated``, default ``items_needed``; ``available`` = ``key_fits``),
    ``query-gsi`` (a global secondary index selects them: eventually consistent only, units on the projected
    entry size ``index_item_kb``, plus index writes for ``writes_per_month`` table writes and index storage for
    ``index_items`` entries — a sparse index holds fewer), ``batch-get`` (the keys are known: per-item
    rounding, ``available`` = ``keys_known``). ``needed_kb`` is what a ProjectionExpression keeps per item
    (default the whole item): it lowers bytes sent, never units. ``evaluate_ms_per_mb``: server-side time per
    MB evaluated (unknown unless measured; NaN ``wait_ms`` then flags it). ``scan_calls`` / ``query_calls``:
    measured calls per read (X-Ray), used instead of packing the evaluated items into 1 MB pages.
    """
    total = _number("table_items", table_items)
    needed = _number("items_needed", items_needed, maximum=total)
    kb = _number("item_kb", item_kb, maximum=MAX_ITEM_KB)
    n = _number("requests_per_month", requests_per_month)
    want_kb = kb if needed_kb is None else _number("needed_kb", needed_kb, maximum=kb)
    factor = _consistency(consistency)
    q_eval = needed if query_items_evaluated is None else _number("query_items_evaluated", query_items_evaluated,
                                                                  minimum=needed)
    writes = _number("writes_per_month", writes_per_month)
    idx_items = total if index_items is None else _number("index_items", index_items, minimum=needed)
    idx_kb = want_kb if index_item_kb is None else _number("index_item_kb", index_item_kb, maximum=MAX_ITEM_KB)
    key_change = _number("index_key_change_share", index_key_change_share, maximum=1.0)
    mem = _memory(memory_mb)
    billing.check_arch(arch)
    _choice("transfer", transfer, tuple(TRANSFERS))
    eval_ms = None if evaluate_ms_per_mb is None else _number("evaluate_ms_per_mb", evaluate_ms_per_mb)
    net = network or DEFAULT_NETWORK
    book = book or _prices.load(region)
    rru, wru = book.price("dynamodb.on_demand.read_unit"), book.price("dynamodb.on_demand.write_unit")

    scan_calls = None if scan_calls is None else _number("scan_calls", scan_calls, strict=True)
    query_calls = None if query_calls is None else _number("query_calls", query_calls, strict=True)
    scan_units, scan_calls = _uniform_read(total, kb, "scan", scan_calls)
    query_units, query_calls = _uniform_read(q_eval, kb, "query", query_calls)
    gsi_units, gsi_calls = _uniform_read(needed, idx_kb, "query")
    get_units, get_calls = _uniform_read(needed, kb, "get")
    gsi_factor = CONSISTENCY["eventual"]
    gsi_wru = (1.0 + key_change) * dynamodb_write_units(idx_kb)
    gsi_write = writes * gsi_wru * wru
    gsi_storage = idx_items * (idx_kb * 1024.0 + GSI_ENTRY_OVERHEAD_BYTES) / 2**30 * book.price("dynamodb.storage_gb_month")
    sent = needed * want_kb / 1024.0
    gsi_sent = needed * min(want_kb, idx_kb) / 1024.0
    rows = {
        "scan": dict(read_units=scan_units * factor, requests_per_read=scan_calls, items_evaluated=total,
                     kb_eval=total * kb, bytes_returned_mb=sent, gsi_write_usd=0.0, gsi_storage_usd=0.0,
                     available=True, consistency=consistency,
                     requires="nothing (but every item in the table is read and paid for)", status="available"),
        "query": dict(read_units=query_units * factor, requests_per_read=query_calls, items_evaluated=q_eval,
                      kb_eval=q_eval * kb, bytes_returned_mb=sent, gsi_write_usd=0.0, gsi_storage_usd=0.0,
                      available=bool(key_fits), consistency=consistency,
                      requires="the table's partition key (and sort key) select these items: a key design, or a "
                               "migration if the table is keyed otherwise",
                      status="available" if key_fits else "key does not fit"),
        "query-gsi": dict(read_units=gsi_units * gsi_factor, requests_per_read=gsi_calls, items_evaluated=needed,
                          kb_eval=needed * idx_kb, bytes_returned_mb=gsi_sent, gsi_write_usd=gsi_write,
                          gsi_storage_usd=gsi_storage, available=True, consistency="eventual",
                          requires="a global secondary index keyed by what you filter on; eventually consistent "
                                   "reads only; every table write that touches it costs write units",
                          status="available"),
        "batch-get": dict(read_units=get_units * factor, requests_per_read=get_calls, items_evaluated=needed,
                          kb_eval=needed * kb, bytes_returned_mb=sent, gsi_write_usd=0.0, gsi_storage_usd=0.0,
                          available=bool(keys_known), consistency=consistency,
                          requires="the keys of the items you need (kept in another item, a cache or the event)",
                          status="available" if keys_known else "keys unknown"),
    }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "option"
    df["items_returned"] = needed
    df["bytes_scanned_mb"] = df["kb_eval"] / 1024.0
    df["bytes_transferred_mb"] = df["bytes_returned_mb"]
    df["transfer_ms"] = [net.transfer_ms(mb, mem) for mb in df["bytes_transferred_mb"]]
    df["calls_ms"] = df["requests_per_read"] * net.dynamodb_request_ms
    df["parse_ms"] = [parse_ms(mb, mem, parse_ms_per_mb=parse_ms_per_mb) for mb in df["bytes_transferred_mb"]]
    if eval_ms is None:
        df["wait_ms"] = np.nan
    else:
        df["wait_ms"] = df["bytes_scanned_mb"] * eval_ms
    df.loc["batch-get", "wait_ms"] = 0.0          # key lookups: no evaluation beyond the items themselves
    df["wait_unknown"] = True
    df["held_mb"] = df["bytes_transferred_mb"]
    df["request_usd"] = n * df["read_units"] * rru
    df["service_usd"] = df["gsi_write_usd"] + df["gsi_storage_usd"]
    df["per_read_usd"] = df["read_units"] * rru
    df = _finish(df, n, mem, arch, book, net, transfer, baseline_mb, expansion)
    if n <= 0:  # index upkeep is paid whether or not anything reads
        df["cost_per_read_usd"] = df["cost_per_read_usd"] + df["service_usd"]
    df["note"] = [_ddb_note(opt, r, factor, consistency, writes, want_kb < kb) for opt, r in df.iterrows()]
    df.attrs.update(kind="dynamodb", memory_mb=mem, arch=arch, region=book.region, prices_as_of=book.as_of,
                    requests_per_month=n, network=net.source,
                    pattern={"table_items": total, "items_needed": needed, "item_kb": kb, "needed_kb": want_kb,
                             "consistency": consistency, "writes_per_month": writes})
    return df[DYNAMODB_COLUMNS]


def _ddb_note(option: str, r: pd.Series, factor: float, consistency: str, writes: float, projected: bool) -> str:
    parts = [f"{_count(r['read_units'])} read units per read ({consistency if option != 'query-gsi' else 'eventual'})"
             f" over {int(r['requests_per_read'])} call(s), {_count(r['items_evaluated'])} items evaluated for "
             f"{_count(r['items_returned'])} returned"]
    if option == "scan":
        parts.append("a FilterExpression does not lower the units: they count every item evaluated")
    if projected and option != "query-gsi":
        parts.append("the projection lowers bytes sent, not units")
    if option == "query-gsi":
        if consistency == "strong":
            parts.append("a global secondary index cannot be read strongly consistently: this row is eventual")
        parts.append(f"index upkeep ${r['gsi_write_usd']:,.2f}/month of writes"
                     + (" (pass writes_per_month: none assumed)" if writes == 0 else f" for {writes:,.0f} table writes")
                     + f" + ${r['gsi_storage_usd']:,.2f}/month of storage")
    if option == "batch-get":
        parts.append("each item rounded up to 4 KB on its own; a key with no item still costs a unit")
    if np.isnan(r["wait_ms"]):
        parts.append("server-side evaluation time unknown (not published): pass evaluate_ms_per_mb")
    if not r["fits"]:
        parts.append(f"needs {r['memory_needed_mb']:,.0f} MB of memory")
    return "; ".join(parts)


# ---- ranking ---------------------------------------------------------------------------------------------------
TRADE_OFFS = {
    "get": "simplest and always possible, but moves and parses the whole object and must hold it in memory",
    "range-get": "moves only what you need for one cheap request per range, but needs a known layout: byte "
                 "offsets from an index or fixed-size records, written when the data is written",
    "select": "filters inside S3 for $/GB scanned + returned, but is closed to new customers since "
              f"{SELECT_CLOSED_SINCE} (and S3 Object Lambda since {OBJECT_LAMBDA_CLOSED_SINCE})",
    "athena": "cheap per GB ($/TB scanned) and needs no code change to the data, but every query pays at least "
              "10 MB and takes seconds (queueing + execution, not published) that a waiting function is billed for",
    "scan": "no design work, but pays for every item in the table on every read; filters only shrink the reply",
    "query": "pays only for the items the key selects, but needs a key design that matches the access pattern "
             "(or a migration)",
    "query-gsi": "pays only for the indexed items without touching the table's key, but every table write that "
                 "touches the index costs write units, the index costs storage, and its reads are eventual only",
    "batch-get": "the cheapest reads when you know the keys (per-item rounding), but something must keep the keys",
}


def rank(options: pd.DataFrame, *, need: str = "cost") -> pd.DataFrame:
    """Options ordered for a need — ``"cost"`` (monthly cost), ``"latency"`` (Lambda ms; unknown waits last)
    or ``"bytes"`` (bytes moved) — usable options first, with the trade-off and, for the others, why not."""
    key = NEEDS[_choice("need", need, tuple(NEEDS))]
    out = options.copy()
    out["_unknown"] = (~out["latency_known"]) if need == "latency" else False
    out = out.sort_values(["usable", "_unknown", key], ascending=[False, True, True], kind="stable")
    out = out.drop(columns="_unknown")
    out["rank"] = np.where(out["usable"], np.cumsum(out["usable"].to_numpy()), np.nan)
    out["trade_off"] = [TRADE_OFFS.get(o, "") for o in out.index]
    why = []
    for _, r in out.iterrows():
        reasons = []
        if not r["available"]:
            reasons.append(r["status"] if r["status"] != "available" else "not available")
        if not r["fits"]:
            reasons.append(f"needs {r['memory_needed_mb']:,.0f} MB of memory")
        if not r["feasible"]:
            reasons.append("beyond Lambda's limits")
        why.append("; ".join(reasons))
    out["why_not"] = why
    out["recommended"] = False
    if out["usable"].any():
        out.iloc[0, out.columns.get_loc("recommended")] = True
    out.attrs.update(options.attrs, need=need)
    return out


VIEW_COLUMNS = {"rank": "rank", "usable": "usable", "monthly_cost": "$/month", "monthly_cost_low": "$/month low",
                "monthly_cost_high": "$/month high", "cost_per_read_usd": "$/read", "lambda_ms": "Lambda ms/read",
                "bytes_transferred_mb": "MB moved/read", "bytes_scanned_mb": "MB scanned/read",
                "memory_needed_mb": "memory needed (MB)", "why_not": "why not", "trade_off": "trade-off",
                "note": "note"}


UNKNOWN_WAIT = "unknown: the query or evaluation wait is not published and is left out, so $/month is a lower bound"


def view(ranked: pd.DataFrame) -> pd.DataFrame:
    """A ranked options table with readable headers and rounding, for display. An option whose waiting time is
    unknown (and so left out of its Lambda cost) says so in ``unknown (not included)``: its dollars are a lower
    bound."""
    out = ranked[[c for c in VIEW_COLUMNS if c in ranked.columns]].rename(columns=VIEW_COLUMNS)
    for col in ("$/month", "$/month low", "$/month high"):
        out[col] = out[col].round(4)
    if "latency_known" in ranked:
        out.insert(out.columns.get_loc("$/month high") + 1, "unknown (not included)",
                   np.where(ranked["latency_known"].astype(bool), "", UNKNOWN_WAIT))
    out["$/read"] = out["$/read"].map(lambda v: float(f"{v:.3g}"))
    for col in ("Lambda ms/read", "MB moved/read", "MB scanned/read", "memory needed (MB)"):
        out[col] = out[col].map(lambda v: float(f"{v:.4g}"))
    return out


def sweep(options_fn, name: str, values: Iterable, **pattern) -> pd.DataFrame:
    """Run ``options_fn`` (``s3_options`` or ``dynamodb_options``) over values of one argument: long form."""
    frames = []
    for v in values:
        df = options_fn(**{**pattern, name: v}).reset_index()
        df.insert(0, name, v)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


# ---- evidence from a snapshot ------------------------------------------------------------------------------
DYNAMODB_READ_OPERATIONS = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")
S3_READ_OPERATIONS = ("GetObject", "SelectObjectContent")
SECTION = "external services"


def read_calls(snapshot, *, consistency: str = "eventual") -> pd.DataFrame:
    """The account's read calls (``calls`` table) with what they cost and waste each month.

    DynamoDB consistency is not recorded in a snapshot: ``consistency`` (default eventual, DynamoDB's default)
    prices the units. Invocations per month come from :func:`lambda_workbook.costs.function_costs`.
    """
    from . import costs

    factor = _consistency(consistency)
    calls = snapshot.calls
    is_read = ((calls["service"] == "dynamodb") & calls["operation"].isin(DYNAMODB_READ_OPERATIONS)) | (
        (calls["service"] == "s3") & calls["operation"].isin(S3_READ_OPERATIONS))
    reads = calls[is_read].copy()
    if reads.empty:
        return reads.assign(invocations_per_month=pd.Series(dtype=float))
    fc = costs.function_costs(snapshot)
    reads = reads.merge(fc[KEY + ["invocations_per_month", "memory_mb", "arch", "path"]], on=KEY, how="left")
    reads["calls_per_month"] = reads["invocations_per_month"] * reads["calls_per_invocation"]
    reads["selectivity"] = reads["items_returned"] / reads["items_evaluated"]
    units, usd = [], []
    for r in reads.itertuples():
        u = np.nan
        if r.service == "dynamodb" and np.isfinite(r.items_evaluated) and np.isfinite(r.item_kb):
            u = _uniform_read(r.items_evaluated, r.item_kb, _operation(r.operation))[0] * (
                CONSISTENCY["transactional"] if r.operation == "TransactGetItems" else factor)
        units.append(u)
        book = _prices.load(r.region)
        if r.service == "dynamodb":
            usd.append(r.calls_per_month * u * book.price("dynamodb.on_demand.read_unit"))
        else:
            usd.append(r.calls_per_month * book.price("s3.get_request"))
    reads["read_units_per_call"] = units
    reads["monthly_read_usd"] = usd
    reads["mb_per_month"] = reads["calls_per_month"] * reads["response_kb"] / 1024.0
    reads["used_mb_per_month"] = reads["mb_per_month"] * reads["used_fraction"]
    return reads


def network_measurements(snapshot, *, min_kb: float = 256.0) -> pd.DataFrame:
    """Calibration points from the snapshot: S3 GetObject calls of at least ``min_kb`` (memory, MB, ms)."""
    calls, f = snapshot.calls, snapshot.functions
    sel = calls[(calls["service"] == "s3") & (calls["operation"] == "GetObject") & (calls["response_kb"] >= min_kb)
                & (calls["mean_ms"] > 0)]
    out = sel.merge(f[KEY + ["memory_mb"]], on=KEY)
    return pd.DataFrame({"function_name": out["function_name"], "memory_mb": out["memory_mb"].astype(float),
                         "mb": out["response_kb"] / 1024.0, "ms": out["mean_ms"], "evidence": out["evidence"]})


#: The bills a read finding's saving comes out of: the service's reads and the function's waiting.
_READ_BILLS = {"dynamodb": ("dynamodb", "lambda"), "s3": ("s3", "lambda")}
FINDING_COLUMNS = ["id", "severity", "account_id", "region", "function", "title", "evidence", "source", "evidence_path",
                   "saves_from",
                   "monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "current_monthly_usd",
                   "alternative", "alternative_monthly_usd", "recommendation", "section"]


@dataclass(frozen=True)
class Thresholds:
    """When a read finding fires, and the assumptions its dollars rest on."""

    scan_max_selectivity: float = 0.10     # items returned / evaluated at or below this fires (Scan, Query)
    whole_object_max_used: float = 0.25    # share of a GetObject's bytes used at or below this fires
    whole_object_min_mb: float = 1.0       # smaller objects are latency-bound: not worth a range read
    min_impact_usd: float = 0.0            # quieter below this monthly impact
    consistency: str = "eventual"          # not in snapshots; DynamoDB's default
    gsi_writes_per_item_month: float = 30.0  # table writes per item per month an index would absorb (daily)
    medium_usd: float = 10.0
    high_usd: float = 100.0
    parse_ms_per_mb: float = PARSE_MS_PER_MB


def _severity(usd: float, t: Thresholds) -> str:
    return "high" if usd >= t.high_usd else "medium" if usd >= t.medium_usd else "low"


def _dynamodb_finding(r, t: Thresholds, book: _prices.PriceBook, net: Network) -> dict | None:
    if not (np.isfinite(r.items_evaluated) and np.isfinite(r.items_returned) and np.isfinite(r.item_kb)):
        return None
    if r.items_evaluated <= 0 or r.items_returned / r.items_evaluated > t.scan_max_selectivity:
        return None
    pages = max(float(r.calls_per_invocation), 1e-9)
    table = r.items_evaluated * pages      # what one invocation evaluates: the table (Scan) or the key's items
    needed = r.items_returned * pages
    page_mb = r.items_evaluated * r.item_kb / 1024.0
    eval_ms = max(r.mean_ms - net.dynamodb_request_ms, 0.0) / page_mb if page_mb > 0 and r.mean_ms > 0 else None
    inv = float(r.invocations_per_month)
    common = dict(memory_mb=r.memory_mb, arch=r.arch, region=r.region, book=book, network=net,
                  consistency=t.consistency, evaluate_ms_per_mb=eval_ms, parse_ms_per_mb=t.parse_ms_per_mb)
    writes = table * t.gsi_writes_per_item_month
    if r.operation == "Scan":
        opts = dynamodb_options(table, needed, r.item_kb, inv, writes_per_month=writes, scan_calls=pages, **common)
        current = opts.loc["scan"]
    else:  # a Query whose filter throws most of the evaluated items away
        opts = dynamodb_options(table, needed, r.item_kb, inv, query_items_evaluated=table, query_calls=pages,
                                writes_per_month=writes, **common)
        current = opts.loc["query"]
    alt = opts.loc["query-gsi"]
    sparse = dynamodb_options(table, needed, r.item_kb, inv, writes_per_month=writes * r.items_returned / r.items_evaluated,
                              index_items=needed, **common).loc["query-gsi"]
    busy = dynamodb_options(table, needed, r.item_kb, inv, writes_per_month=writes * 10, **common).loc["query-gsi"]
    central = current["monthly_cost"] - alt["monthly_cost"]
    high = current["monthly_cost"] - sparse["monthly_cost"]
    low = current["monthly_cost"] - busy["monthly_cost"]
    if central < t.min_impact_usd:
        return None
    scan = r.operation == "Scan"
    evidence = (
        f"{r.operation} on {r.resource or 'a table'}: {pages:g} call(s) per invocation, each evaluating "
        f"{r.items_evaluated:,.0f} items of {r.item_kb:g} KB ({page_mb * 1024:,.0f} KB) to return "
        f"{r.items_returned:g} ({r.items_returned / r.items_evaluated:.2%}); {r.mean_ms:g} ms per call; "
        f"{current['read_units']:,.1f} read units per invocation ({t.consistency}, assumed: consistency is not "
        f"recorded) x {inv:,.0f} invocations/month = ${current['request_usd']:,.2f}/month of reads and "
        f"{current['lambda_ms']:,.0f} ms of Lambda time per invocation. A Query on a global secondary index "
        f"would read {alt['read_units']:,.2f} units; its upkeep assumes {t.gsi_writes_per_item_month:g} writes "
        f"per item per month over ~{table:,.0f} items (low: 10x that; high: a sparse index of the "
        f"{r.items_returned / r.items_evaluated:.2%} that match). Prices {book.region} {book.as_of}.")
    return dict(
        id="dynamodb-scan" if scan else "dynamodb-query-filter", severity=_severity(central, t),
        account_id=r.account_id, region=r.region, function=r.function_name,
        title=(f"Scans {r.resource or 'a table'} and keeps {r.items_returned / r.items_evaluated:.2%} of the items "
               "it pays for" if scan else
               f"Query on {r.resource or 'a table'} filters away {1 - r.items_returned / r.items_evaluated:.2%} "
               "of the items it pays for"),
        evidence=evidence, source=f"calls ({r.evidence}); invocations: {r.path}",
        evidence_path=f"calls:{r.evidence}; {r.path}", saves_from="+".join(_READ_BILLS[r.service]),
        monthly_impact_usd=central, monthly_impact_low_usd=min(low, central), monthly_impact_high_usd=max(high, central),
        current_monthly_usd=current["monthly_cost"], alternative="query-gsi",
        alternative_monthly_usd=alt["monthly_cost"],
        recommendation=(
            f"Read only the items you need: Query a global secondary index keyed by the attribute the filter tests "
            f"(a sparse index if only matching items carry it) — ${alt['monthly_cost']:,.2f}/month including "
            f"${alt['service_usd']:,.2f} of index writes and storage, eventually consistent reads only — or "
            f"redesign the table's key so a Query on the table selects them (${opts.loc['query', 'monthly_cost']:,.2f}"
            "/month, a migration). A FilterExpression or ProjectionExpression does not lower read units."),
        section=SECTION)


def _s3_finding(r, t: Thresholds, book: _prices.PriceBook, net: Network) -> dict | None:
    obj = r.response_kb / 1024.0
    if not (np.isfinite(r.used_fraction) and r.used_fraction <= t.whole_object_max_used and obj >= t.whole_object_min_mb):
        return None
    inv = float(r.invocations_per_month)
    reads_month = inv * r.calls_per_invocation
    own = net
    if r.mean_ms > net.request_ms:
        own = calibrate_network([{"memory_mb": r.memory_mb, "mb": obj, "ms": r.mean_ms}], base=net)
    kw = dict(memory_mb=r.memory_mb, arch=r.arch, region=r.region, book=book, network=own,
              parse_ms_per_mb=t.parse_ms_per_mb)
    opts = rank(s3_options(obj, r.used_fraction, reads_month, layout_known=True, **kw))
    get, rng = opts.loc["get"], opts.loc["range-get"]
    central = get["monthly_cost"] - rng["monthly_cost"]
    low = get["monthly_cost_low"] - rng["monthly_cost_low"]
    high = get["monthly_cost_high"] - rng["monthly_cost_high"]
    if central < t.min_impact_usd:
        return None
    athena, select = opts.loc["athena"], opts.loc["select"]
    evidence = (
        f"GetObject on {r.resource or 'a bucket'}: {obj:,.3g} MB per call, {r.used_fraction:.2%} of it used "
        f"({obj * r.used_fraction:,.3g} MB); {r.calls_per_invocation:g} call(s) per invocation, {r.mean_ms:g} ms per "
        f"call at {r.memory_mb:g} MB ({own.mb_per_s(r.memory_mb):,.0f} MB/s measured); {inv:,.0f} invocations/month "
        f"move {reads_month * obj / 1024:,.1f} GB to use {reads_month * obj * r.used_fraction / 1024:,.2f} GB. "
        f"Whole object: {get['lambda_ms']:,.0f} ms per read (incl. parse at {t.parse_ms_per_mb:g} ms/MB, assumed) "
        f"and {get['memory_needed_mb']:,.0f} MB of memory; the needed bytes: {rng['lambda_ms']:,.0f} ms and "
        f"{rng['memory_needed_mb']:,.0f} MB. Prices {book.region} {book.as_of}.")
    return dict(
        id="s3-whole-object", severity=_severity(central, t), account_id=r.account_id, region=r.region,
        function=r.function_name,
        title=f"Downloads whole {obj:,.3g} MB objects from {r.resource or 'S3'} to use {r.used_fraction:.1%} of them",
        evidence=evidence, source=f"calls ({r.evidence}); invocations: {r.path}",
        evidence_path=f"calls:{r.evidence}; {r.path}", saves_from="+".join(_READ_BILLS[r.service]),
        monthly_impact_usd=central, monthly_impact_low_usd=min(low, central), monthly_impact_high_usd=max(high, central),
        current_monthly_usd=get["monthly_cost"], alternative="range-get", alternative_monthly_usd=rng["monthly_cost"],
        recommendation=(
            f"Read only the bytes you need. Ranked: (1) a byte-range GET of the {obj * r.used_fraction:,.3g} MB — "
            f"${rng['monthly_cost']:,.2f}/month — once the layout is known: write the needed records to their own "
            f"object or an offset index when the data is produced; (2) Athena — ${athena['monthly_cost']:,.2f}/month "
            f"({athena['billed_scan_mb']:g} MB billed per query, 10 MB minimum) plus seconds of query time, not "
            f"published, that a waiting function pays for; (3) S3 Select — closed to new customers since "
            f"{SELECT_CLOSED_SINCE} (existing customers: ${select['monthly_cost']:,.2f}/month); S3 Object Lambda is "
            f"closed to new customers since {OBJECT_LAMBDA_CLOSED_SINCE}. Holding less data may also allow a "
            "smaller memory size (see the memory notebook)."),
        section=SECTION)


def findings(snapshot, *, network: Network | None = None, calls: pd.DataFrame | None = None,
             **thresholds) -> pd.DataFrame:
    """Read findings where the snapshot holds the evidence (its ``calls`` table).

    ``dynamodb-scan`` (a Scan whose filter keeps at most ``scan_max_selectivity`` of the items it pays for),
    ``dynamodb-query-filter`` (the same for a Query) and ``s3-whole-object`` (a GetObject of at least
    ``whole_object_min_mb`` of which at most ``whole_object_max_used`` is used). Thresholds and assumptions are
    the fields of :class:`Thresholds`, passed as keywords. One row per finding with the columns of
    :data:`FINDING_COLUMNS`, biggest monthly impact first. ``calls``: :func:`read_calls` of the snapshot when
    already computed (priced at the same consistency).
    """
    known = set(Thresholds.__dataclass_fields__)
    unknown = set(thresholds) - known
    if unknown:
        raise ReadsError(f"unknown threshold(s) {sorted(unknown)}; reads.findings takes {', '.join(sorted(known))}")
    t = Thresholds(**thresholds)
    _consistency(t.consistency)
    net = network or DEFAULT_NETWORK
    if calls is None:
        calls = read_calls(snapshot, consistency=t.consistency)
    rows = []
    for r in calls.itertuples():
        if not np.isfinite(r.invocations_per_month) or r.invocations_per_month <= 0:
            continue
        book = _prices.load(r.region)
        if r.service == "dynamodb" and r.operation in ("Scan", "Query"):
            f = _dynamodb_finding(r, t, book, net)
        elif r.service == "s3" and r.operation == "GetObject":
            f = _s3_finding(r, t, book, net)
        else:
            f = None
        if f:
            rows.append(f)
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return out.sort_values("monthly_impact_usd", ascending=False, ignore_index=True)


def patterns(snapshot, function: str = "", *, s3: Mapping[str, Any], dynamodb: Mapping[str, Any],
             memory_mb=1024, arch: str = "x86_64", calls: pd.DataFrame | None = None
             ) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Keyword arguments for :func:`s3_options` and :func:`dynamodb_options`, and where they came from.

    Without ``function`` the patterns are the ``s3`` / ``dynamodb`` values as entered (at ``memory_mb``,
    ``arch``). With it, the function's configuration and its biggest S3 GetObject and DynamoDB read in the
    ``calls`` table replace them (a store the function does not read keeps the entered values). ``calls``:
    :func:`read_calls` of the snapshot when already computed.
    """
    s3_kw = {**s3, "memory_mb": memory_mb, "arch": arch}
    db_kw = {**dynamodb, "memory_mb": memory_mb, "arch": arch}
    if not function:
        return s3_kw, db_kw, "entered by hand"
    fn = snapshot.function(function)
    s3_kw.update(memory_mb=int(fn["memory_mb"]), arch=fn["arch"], region=fn["region"])
    db_kw.update(memory_mb=int(fn["memory_mb"]), arch=fn["arch"], region=fn["region"])
    calls = read_calls(snapshot) if calls is None else calls
    if not calls.empty:
        calls = calls[(calls["function_name"] == function) & (calls["account_id"] == fn["account_id"])
                      & (calls["region"] == fn["region"])]
    found = []
    s3_calls = calls[(calls["service"] == "s3") & (calls["operation"] == "GetObject")] if len(calls) else calls
    if len(s3_calls):
        c = s3_calls.sort_values("mb_per_month").iloc[-1]
        used = c["used_fraction"] if np.isfinite(c["used_fraction"]) else 1.0
        s3_kw.update(object_mb=c["response_kb"] / 1024.0, fraction_needed=used, requests_per_month=c["calls_per_month"])
        found.append(f"S3 GetObject on {c['resource'] or 'a bucket'}")
    db_calls = calls[(calls["service"] == "dynamodb") & calls["items_evaluated"].notna() & calls["item_kb"].notna()
                     ] if len(calls) else calls
    if len(db_calls):
        c = db_calls.sort_values("monthly_read_usd").iloc[-1]
        per = float(c["calls_per_invocation"])
        evaluated, returned = c["items_evaluated"] * per, c["items_returned"] * per
        db_kw.update(item_kb=c["item_kb"], requests_per_month=c["invocations_per_month"], items_needed=returned)
        if c["operation"] == "Scan":
            db_kw.update(table_items=evaluated, scan_calls=per)
        elif c["operation"] == "Query":
            db_kw.update(table_items=max(evaluated, db_kw.get("table_items", 0.0)), query_items_evaluated=evaluated,
                         query_calls=per)
        else:
            db_kw.update(table_items=max(evaluated, db_kw.get("table_items", 0.0)), items_needed=evaluated)
        found.append(f"DynamoDB {c['operation']} on {c['resource'] or 'a table'}")
    where = f" ({', '.join(found)}; the rest as entered)" if found else " (no read calls recorded: patterns as entered)"
    plain = {k: float(v) for kw in (s3_kw, db_kw) for k, v in kw.items() if isinstance(v, np.floating)}
    s3_kw.update({k: v for k, v in plain.items() if k in s3_kw})
    db_kw.update({k: v for k, v in plain.items() if k in db_kw})
    return s3_kw, db_kw, f"{function}: {int(fn['memory_mb'])} MB {fn['arch']}" + where


FINDINGS_VIEW = {"severity": "severity", "function": "function", "title": "finding",
                 "monthly_impact_usd": "$/month saved", "monthly_impact_low_usd": "low", "monthly_impact_high_usd": "high",
                 "evidence": "evidence", "recommendation": "recommendation", "source": "source"}


def findings_view(found: pd.DataFrame) -> pd.DataFrame:
    """Findings with readable headers and rounded dollars, for display."""
    out = found[list(FINDINGS_VIEW)].rename(columns=FINDINGS_VIEW)
    for col in ("$/month saved", "low", "high"):
        out[col] = out[col].round(2)
    return out


CALLS_VIEW = {"function_name": "function", "service": "service", "operation": "operation", "resource": "resource",
              "calls_per_month": "calls/month", "response_kb": "KB/call", "used_fraction": "share used",
              "items_evaluated": "items evaluated/call", "items_returned": "items returned/call",
              "read_units_per_call": "read units/call", "monthly_read_usd": "$/month (requests, units)",
              "mb_per_month": "MB moved/month", "used_mb_per_month": "MB used/month", "evidence": "evidence"}


def calls_view(calls: pd.DataFrame) -> pd.DataFrame:
    """The account's read calls (:func:`read_calls`) with readable headers, biggest bill first."""
    if calls.empty:
        return pd.DataFrame(columns=list(CALLS_VIEW.values()))
    out = calls.sort_values("monthly_read_usd", ascending=False)[list(CALLS_VIEW)].rename(columns=CALLS_VIEW)
    out["calls/month"] = out["calls/month"].round(0)
    for col in ("$/month (requests, units)", "MB moved/month", "MB used/month"):
        out[col] = out[col].round(2)
    return out.reset_index(drop=True)


def _cell(v) -> str:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        return str(v)
    if pd.isna(v):
        return ""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def styled(df: pd.DataFrame):
    """A table for notebooks and reports: numbers to 4 significant digits (thousands separated), text wrapped
    in full instead of cut at 50 characters."""
    return (df.style.format(_cell).format_index(_cell)
            .set_properties(**{"white-space": "normal", "text-align": "left", "vertical-align": "top"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left"), ("vertical-align", "top")]}]))


# ---- results for batch runs -----------------------------------------------------------------------------------
def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    clean = df.reset_index().replace({np.nan: None})
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in clean.to_dict("records")]


def results(findings_df: pd.DataFrame, options: Mapping[str, pd.DataFrame], *, network: Network | None = None,
            **extra) -> dict[str, Any]:
    """The read notebook's results as JSON-able data: findings, ranked options per store, the network used."""
    net = network or DEFAULT_NETWORK
    return {
        "notebook": "read_what_you_need",
        **extra,
        "findings": _records(findings_df),
        "options": {name: _records(df) for name, df in options.items()},
        "recommended": {name: (df.index[df["recommended"]][0] if "recommended" in df and df["recommended"].any()
                               else None) for name, df in options.items()},
        "network": {k: v for k, v in net.describe().items() if k != "band"} | {"band": list(net.band)},
    }
