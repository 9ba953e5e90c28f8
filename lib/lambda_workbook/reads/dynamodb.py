"""Reading items from DynamoDB: Scan, Query, Query on a global secondary index, BatchGetItem (on-demand)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from .limits import (
    BASELINE_MB,
    CONSISTENCY,
    EXPANSION,
    GSI_ENTRY_OVERHEAD_BYTES,
    MAX_ITEM_KB,
    PARSE_MS_PER_MB,
    TRANSFERS,
    check_choice,
    check_memory,
    check_number,
    consistency_factor,
)
from .network import DEFAULT_NETWORK, Network, parse_ms
from .options import count_text, finish
from .setting import Setting, resolve
from .units import dynamodb_write_units, uniform_read

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
                     region: str | None = None, transfer: str = "same-region",
                     evaluate_ms_per_mb: float | None = None, network: Network | None = None,
                     parse_ms_per_mb: float = PARSE_MS_PER_MB, baseline_mb: float = BASELINE_MB,
                     expansion: float = EXPANSION, book: _prices.PriceBook | None = None,
                     setting: Setting | None = None, pricing: _prices.Pricing | None = None) -> pd.DataFrame:
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
    total = check_number("table_items", table_items)
    needed = check_number("items_needed", items_needed, maximum=total)
    kb = check_number("item_kb", item_kb, maximum=MAX_ITEM_KB)
    n = check_number("requests_per_month", requests_per_month)
    want_kb = kb if needed_kb is None else check_number("needed_kb", needed_kb, maximum=kb)
    factor = consistency_factor(consistency)
    q_eval = needed if query_items_evaluated is None else check_number("query_items_evaluated",
                                                                       query_items_evaluated, minimum=needed)
    writes = check_number("writes_per_month", writes_per_month)
    idx_items = total if index_items is None else check_number("index_items", index_items, minimum=needed)
    idx_kb = want_kb if index_item_kb is None else check_number("index_item_kb", index_item_kb, maximum=MAX_ITEM_KB)
    key_change = check_number("index_key_change_share", index_key_change_share, maximum=1.0)
    mem = check_memory(memory_mb)
    billing.check_arch(arch)
    check_choice("transfer", transfer, tuple(TRANSFERS))
    eval_ms = None if evaluate_ms_per_mb is None else check_number("evaluate_ms_per_mb", evaluate_ms_per_mb)
    net = network or DEFAULT_NETWORK
    book = _prices.resolve(region, book=book, pricing=s["pricing"])
    rru, wru = book.price("dynamodb.on_demand.read_unit"), book.price("dynamodb.on_demand.write_unit")

    scan_calls = None if scan_calls is None else check_number("scan_calls", scan_calls, strict=True)
    query_calls = None if query_calls is None else check_number("query_calls", query_calls, strict=True)
    scan_units, scan_calls = uniform_read(total, kb, "scan", scan_calls)
    query_units, query_calls = uniform_read(q_eval, kb, "query", query_calls)
    gsi_units, gsi_calls = uniform_read(needed, idx_kb, "query")
    get_units, get_calls = uniform_read(needed, kb, "get")
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
    df = finish(df, n, mem, arch, book, net, transfer, baseline_mb, expansion)
    if n <= 0:  # index upkeep is paid whether or not anything reads
        df["cost_per_read_usd"] = df["cost_per_read_usd"] + df["service_usd"]
    df["note"] = [_ddb_note(opt, r, factor, consistency, writes, want_kb < kb) for opt, r in df.iterrows()]
    df.attrs.update(kind="dynamodb", memory_mb=mem, arch=arch, region=book.region, prices_as_of=book.as_of,
                    requests_per_month=n, network=net.source,
                    pattern={"table_items": total, "items_needed": needed, "item_kb": kb, "needed_kb": want_kb,
                             "consistency": consistency, "writes_per_month": writes})
    return df[DYNAMODB_COLUMNS]


def _ddb_note(option: str, r: pd.Series, factor: float, consistency: str, writes: float, projected: bool) -> str:
    parts = [f"{count_text(r['read_units'])} read units per read ({consistency if option != 'query-gsi' else 'eventual'})"
             f" over {int(r['requests_per_read'])} call(s), {count_text(r['items_evaluated'])} items evaluated for "
             f"{count_text(r['items_returned'])} returned"]
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
