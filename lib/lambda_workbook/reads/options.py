"""What every options table (S3, DynamoDB) shares: transfer and Lambda dollars, time bands, feasibility."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from .limits import MB_PER_GB, MEMORY_RANGE_MB, TIMEOUT_MAX_MS, TRANSFERS, check_number
from .network import Network, memory_needed_mb


def transfer_usd(book: _prices.PriceBook, transfer: str, gb_per_month: float) -> float:
    return float(book.cost(TRANSFERS[transfer], gb_per_month))


def lambda_usd(n: float, ms: float, memory_mb: float, arch: str, book: _prices.PriceBook) -> float:
    """Compute dollars of ``ms`` per invocation through the billing rules (the request fee is the function's
    own, paid whatever it reads, so it is not part of a read's cost)."""
    if n <= 0:
        return 0.0
    return billing.breakdown(n, ms, memory_mb, arch=arch, region=book.region, book=book)["compute_usd"]


def per_wait_second_usd(memory_mb: float, arch: str, book: _prices.PriceBook) -> float:
    """What one second of waiting costs per million reads at this memory."""
    return lambda_usd(1e6, 1000.0, memory_mb, arch, book)


def finish(df: pd.DataFrame, n: float, memory_mb: float, arch: str, book: _prices.PriceBook,
           network: Network, transfer: str, baseline_mb: float, expansion: float) -> pd.DataFrame:
    """Add transfer dollars, Lambda time bands, Lambda dollars, totals, per-read cost and feasibility to an
    options table.

    Expects per-read columns ``bytes_transferred_mb``, ``transfer_ms`` (at mid throughput), ``calls_ms``,
    ``parse_ms``, ``wait_ms`` (NaN = unknown), ``held_mb``, ``per_read_usd`` (one read's requests and fees
    before transfer), and monthly ``request_usd``, ``service_usd``.
    """
    out = df.copy()
    out.attrs.update(baseline_mb=check_number("baseline_mb", baseline_mb),
                     expansion=check_number("expansion", expansion, minimum=1.0))
    out["transfer_usd"] = [transfer_usd(book, transfer, n * mb / MB_PER_GB) for mb in out["bytes_transferred_mb"]]
    out["per_read_fixed_usd"] = out["per_read_usd"] + [transfer_usd(book, transfer, mb / MB_PER_GB)
                                                       for mb in out["bytes_transferred_mb"]]
    bands = {"": 1.0, "_low": 1.0 / network.band[1], "_high": 1.0 / network.band[0]}
    for suffix, scale in bands.items():
        out[f"lambda_ms{suffix}"] = out["calls_ms"] + out["transfer_ms"] * scale + out["parse_ms"] + \
            out["wait_ms"].fillna(0.0)
    for suffix in bands:
        out[f"lambda_usd{suffix}"] = [lambda_usd(n, ms, memory_mb, arch, book) for ms in out[f"lambda_ms{suffix}"]]
    fixed = out["request_usd"] + out["service_usd"] + out["transfer_usd"]
    for suffix in bands:
        out[f"monthly_cost{suffix}"] = fixed + out[f"lambda_usd{suffix}"]
    if n > 0:
        out["cost_per_read_usd"] = out["monthly_cost"] / n
    else:  # no traffic: price one read on its own
        one = [lambda_usd(1.0, ms, memory_mb, arch, book) for ms in out["lambda_ms"]]
        out["cost_per_read_usd"] = out["per_read_fixed_usd"] + one
    out["memory_needed_mb"] = [memory_needed_mb(h, baseline_mb=baseline_mb, expansion=expansion) for h in out["held_mb"]]
    out["fits"] = out["memory_needed_mb"] <= memory_mb
    need = np.maximum(np.ceil(np.round(out["memory_needed_mb"].to_numpy(float), 6)), MEMORY_RANGE_MB[0])
    out["min_memory_mb"] = np.where(need <= MEMORY_RANGE_MB[1], need, np.nan)   # smallest size that holds the data
    out["feasible"] = (out["memory_needed_mb"] <= MEMORY_RANGE_MB[1]) & (out["lambda_ms"] <= TIMEOUT_MAX_MS)
    out["usable"] = out["available"] & out["fits"] & out["feasible"]
    out["latency_known"] = out["wait_ms"].notna() | ~out["wait_unknown"]
    return out


def count_text(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
