"""DynamoDB read and write units by the developer guide's rules (sources in :mod:`lambda_workbook.reads`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .limits import (
    BATCH_GET_MAX_KEYS,
    MAX_ITEM_KB,
    PAGE_BYTES,
    UNIT_BYTES,
    WRITE_UNIT_BYTES,
    ReadsError,
    check_number,
    check_operation,
    consistency_factor,
)


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
    op = check_operation(operation)
    factor = consistency_factor(consistency)
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
    op = check_operation(operation)
    units = dynamodb_read_units(operation, item_sizes_kb, consistency=consistency)
    b = _item_bytes(item_sizes_kb)
    share = check_number("projected_fraction", projected_fraction, maximum=1.0)
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


def uniform_read(items: float, item_kb: float, operation: str, calls: float | None = None) -> tuple[float, float]:
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
