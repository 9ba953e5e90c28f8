"""Batch sizes and batching windows: the cost and added wait of a source over a grid of settings, and the
cheapest setting within a wait bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .. import prices as _prices
from .catalog import Catalog, load_catalog
from .grid import evaluate_grid
from .workload import Workload, check_number

DEFAULT_BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
DEFAULT_WINDOWS_S = (0, 1, 2, 5, 10, 20, 30, 60, 120, 300)
TIE_USD, TIE_SHARE = 0.01, 0.001   # batch settings this close to the cheapest count as equally cheap


def batching(w: Workload, source: str = "sqs", *, batch_sizes=None, windows_s=None, producer: bool = True,
             book: _prices.PriceBook | None = None, catalog: Catalog | None = None,
             pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """Monthly cost and added wait of ``source`` over a grid of batch sizes and batching windows.

    Queues and streams never hand the result back, so the grid is priced for a caller that does not wait.
    Sizes above the source's maximum are left out, and so are windows where the source allows none (SQS FIFO);
    combinations the API refuses stay with their reason.
    """
    cat = catalog or load_catalog()
    s = cat.source(source)
    b = s.get("batching")
    if not b:
        raise ValueError(f"{source!r} does not batch; sources that do: {', '.join(cat.batching_ids())}")
    sizes = sorted({int(n) for n in (batch_sizes or DEFAULT_BATCH_SIZES) if 1 <= n <= b["max_size"]})
    windows = sorted({float(x) for x in (windows_s or DEFAULT_WINDOWS_S) if 0 <= x <= b["window_max_s"]})
    if not sizes or not windows:
        raise ValueError(f"no batch size in 1–{b['max_size']} or window in 0–{b['window_max_s']:g} s to price")
    book = _prices.resolve(w.region, book=book, pricing=pricing)
    size_col = np.repeat(np.asarray(sizes, dtype=np.int64), len(windows))   # every window of a size, size by size
    window_col = np.tile(np.asarray(windows, dtype=float), len(sizes))
    cols = evaluate_grid(replace(w, sync=False), source, size_col, window_col, cat, book, producer)
    out = pd.DataFrame({"batch_size": size_col, "window_s": window_col, **cols})
    out.attrs["source"] = source
    return out


def best_batch(w: Workload, source: str = "sqs", *, max_wait_s: float = 1.0, max_batch_ms: float | None = None,
               batch_sizes=None, windows_s=None, producer: bool = True, book: _prices.PriceBook | None = None,
               catalog: Catalog | None = None, required: bool = True,
               pricing: _prices.Pricing | None = None) -> pd.Series | None:
    """The cheapest allowed batch size and window whose added wait stays within ``max_wait_s``.

    The bound applies to the worst-case wait (polling gap plus window). ``max_batch_ms`` optionally bounds one
    batch's run time (keep it well under the function's timeout). Settings within a cent or 0.1% of the cheapest
    count as equally cheap; among them the shorter wait, then the smaller batch wins. When no setting qualifies:
    a ValueError saying why, or None with ``required=False``. A source with an unknown part (``lower_bound``) is
    compared on its priced parts; the returned row keeps ``unpriced`` so that whoever reports it can say so.
    """
    bound = check_number("max_wait_s", max_wait_s, minimum=0, doc=" (seconds)")
    grid = batching(w, source, batch_sizes=batch_sizes, windows_s=windows_s, producer=producer, book=book,
                    catalog=catalog, pricing=pricing)
    ok = grid["feasible"].to_numpy(dtype=bool) & (grid["batch_wait_max_s"].to_numpy() <= bound + 1e-9)
    if max_batch_ms is not None:
        ok &= grid["batch_ms"].to_numpy() <= max_batch_ms
    if not ok.any():
        if not required:
            return None
        cat = catalog or load_catalog()
        poll = cat.source(source)["batching"]["poll_interval_s"]
        raise ValueError(f"no batch setting of {source!r} keeps the added wait within {bound:g} s"
                         + (f" (its polling alone adds up to {poll:g} s)" if poll > bound else "")
                         + (f" with batches under {max_batch_ms:g} ms" if max_batch_ms is not None else ""))
    cost = grid["monthly_cost"].to_numpy()
    cheapest = float(pd.Series(cost[ok]).min())
    near = np.flatnonzero(ok & (cost <= cheapest + max(TIE_USD, TIE_SHARE * cheapest)))
    # the shorter wait, then the smaller batch, window and cost: the last key of lexsort sorts first
    order = np.lexsort(tuple(grid[c].to_numpy()[near] for c in ("monthly_cost", "window_s", "batch_size",
                                                                  "batch_wait_max_s")))
    best = grid.iloc[near[order[0]]]
    best.name = source
    return best
