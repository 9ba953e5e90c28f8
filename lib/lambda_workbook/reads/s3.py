"""Reading part of an S3 object: whole GET, byte-range GET, S3 Select and Athena, per read and per month."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from .limits import (
    BASELINE_MB,
    EXPANSION,
    FORMATS,
    MB_PER_GB,
    MB_PER_TB,
    OBJECT_LAMBDA_CLOSED_SINCE,
    PARSE_MS_PER_MB,
    SELECT_CLOSED_SINCE,
    STREAM_CHUNK_MB,
    TRANSFERS,
    ReadsError,
    check_choice,
    check_memory,
    check_number,
)
from .network import DEFAULT_NETWORK, Network, parse_ms
from .options import finish, per_wait_second_usd
from .setting import Setting, resolve


def pattern_from_rows(rows, row_bytes, selectivity, *, columns_fraction: float = 1.0) -> dict[str, float]:
    """An object pattern from a table's shape: ``object_mb`` and ``fraction_needed`` (rows x columns kept)."""
    r = check_number("rows", rows, strict=True)
    b = check_number("row_bytes", row_bytes, strict=True)
    s = check_number("selectivity", selectivity, maximum=1.0)
    c = check_number("columns_fraction", columns_fraction, maximum=1.0)
    return {"object_mb": r * b / 2**20, "fraction_needed": s * c}


S3_COLUMNS = ["available", "usable", "monthly_cost", "monthly_cost_low", "monthly_cost_high", "cost_per_read_usd",
              "request_usd", "service_usd", "transfer_usd", "lambda_usd", "requests_per_read", "bytes_scanned_mb",
              "bytes_returned_mb", "bytes_transferred_mb", "billed_scan_mb", "lambda_ms", "lambda_ms_low",
              "lambda_ms_high", "transfer_ms", "parse_ms", "wait_ms", "latency_known", "memory_needed_mb",
              "min_memory_mb", "fits", "feasible", "requires", "status", "note"]


def s3_options(object_mb, fraction_needed, requests_per_month, *, memory_mb=1024, region: str | None = None,
               arch: str = "x86_64", format: str = "csv", scanned_fraction: float | None = None,
               returned_fraction: float | None = None, ranges: int = 1, layout_known: bool = True,
               select_customer: bool = False, transfer: str = "same-region", stream: bool = False,
               select_wait_ms: float | None = None, athena_wait_ms: float | None = None,
               network: Network | None = None, parse_ms_per_mb: float = PARSE_MS_PER_MB,
               baseline_mb: float = BASELINE_MB, expansion: float = EXPANSION,
               book: _prices.PriceBook | None = None, setting: Setting | None = None,
               pricing: _prices.Pricing | None = None) -> pd.DataFrame:
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
    ``setting``: a :class:`~lambda_workbook.reads.Setting` holding the keywords both options tables share
    (``memory_mb``, ``arch``, ``region``, ``transfer``, ``network``, ``parse_ms_per_mb``, ``baseline_mb``,
    ``expansion``, ``book``, ``pricing``); a keyword given a value other than its default overrides it.
    """
    s = resolve(setting, memory_mb=memory_mb, arch=arch, region=region, transfer=transfer, network=network,
                parse_ms_per_mb=parse_ms_per_mb, baseline_mb=baseline_mb, expansion=expansion, book=book,
                pricing=pricing)
    memory_mb, arch, region, transfer = s["memory_mb"], s["arch"], s["region"], s["transfer"]
    network, parse_ms_per_mb, baseline_mb, expansion, book = (s["network"], s["parse_ms_per_mb"], s["baseline_mb"],
                                                             s["expansion"], s["book"])
    obj = check_number("object_mb", object_mb, strict=True)
    frac = check_number("fraction_needed", fraction_needed, maximum=1.0)
    n = check_number("requests_per_month", requests_per_month)
    mem = check_memory(memory_mb)
    billing.check_arch(arch)
    fmt = check_choice("format", format, FORMATS)
    check_choice("transfer", transfer, tuple(TRANSFERS))
    nranges = int(check_number("ranges", ranges, minimum=1))
    net = network or DEFAULT_NETWORK
    book = _prices.resolve(region, book=book, pricing=s["pricing"])
    columnar = fmt == "parquet"
    scan_f = (frac if columnar else 1.0) if scanned_fraction is None else check_number(
        "scanned_fraction", scanned_fraction, maximum=1.0)
    ret_f = frac if returned_fraction is None else check_number("returned_fraction", returned_fraction, maximum=1.0)
    if ret_f > scan_f + 1e-12:
        raise ReadsError(f"returned_fraction ({ret_f:g}) cannot exceed scanned_fraction ({scan_f:g}): a query "
                         "returns at most what it scans")
    select_wait = np.nan if select_wait_ms is None else check_number("select_wait_ms", select_wait_ms)
    athena_wait = np.nan if athena_wait_ms is None else check_number("athena_wait_ms", athena_wait_ms)

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
    df = finish(df, n, mem, arch, book, net, transfer, baseline_mb, expansion)
    wait_usd = per_wait_second_usd(mem, arch, book)
    df["note"] = [_s3_note(opt, r, obj, frac, mem, wait_usd, fmt) for opt, r in df.iterrows()]
    df.attrs.update(kind="s3", memory_mb=mem, arch=arch, region=book.region, prices_as_of=book.as_of,
                    requests_per_month=n, network=net.source, pattern={"object_mb": obj, "fraction_needed": frac,
                                                                        "format": fmt, "transfer": transfer})
    return df[S3_COLUMNS]


def _mb(x: float) -> str:
    return f"{x:,.3g} MB" if x < 1000 else f"{x / 1024:,.3g} GB"


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
