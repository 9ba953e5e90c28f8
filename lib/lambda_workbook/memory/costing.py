"""Monthly cost of a mean duration at a memory size, through :mod:`lambda_workbook.billing` (pure)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from .. import billing
from .. import prices as _prices
from .model import DEFAULT_CV, MAX_MB, MIN_MB


def candidate_sizes(min_memory_mb: float = MIN_MB, max_memory_mb: float = MAX_MB, step_mb: float = 64,
                    extra=()) -> np.ndarray:
    """Sizes to consider: ``min, min+step, ... <= max``, plus ``max`` and any ``extra`` sizes within range."""
    for name, v in (("min_memory_mb", min_memory_mb), ("max_memory_mb", max_memory_mb)):
        if not (MIN_MB <= v <= MAX_MB):
            raise ValueError(f"{name} must be between {MIN_MB} and {MAX_MB} MB, got {v!r}")
    if min_memory_mb > max_memory_mb:
        raise ValueError(f"min_memory_mb ({min_memory_mb}) is above max_memory_mb ({max_memory_mb})")
    if not step_mb >= 1:
        raise ValueError(f"step_mb must be at least 1 MB, got {step_mb!r}")
    grid = np.arange(float(min_memory_mb), float(max_memory_mb) + 0.5, float(step_mb))
    extra = [float(e) for e in np.atleast_1d(np.asarray(extra, dtype=float)) if min_memory_mb <= e <= max_memory_mb]
    return np.unique(np.concatenate([grid, [float(max_memory_mb)], extra]))


_Z_NODES = np.array([NormalDist().inv_cdf(q) for q in np.linspace(0.5 / 16, 1 - 0.5 / 16, 16)])


def expected_billed_ms(mean_ms, cv: float = DEFAULT_CV) -> np.ndarray:
    """Mean billed ms per invocation when durations spread log-normally around ``mean_ms`` (1-ms rounding)."""
    mu = np.asarray(mean_ms, dtype=float)
    sigma = math.sqrt(math.log1p(max(cv, 0.0) ** 2))
    q = np.exp(_Z_NODES * sigma - sigma ** 2 / 2)
    q = q / q.mean()
    # rounding up adds half a millisecond on average once invocations spread over several ms
    small = mu * max(cv, 0.0) < 8.0
    if mu.ndim and small.all():   # every duration spreads over few ms: each one's own mean (elementwise)
        return _mean_billed(mu.ravel(), q).reshape(mu.shape)
    out = mu + 0.5
    if np.any(small):
        out = np.where(small, 0.0, out) if out.ndim == 0 else out   # ``out`` is this call's own array
        out[small] = _mean_billed(mu[small], q)
    return out


_BLOCK = 4096   # durations per block of :func:`_mean_billed` (its scratch stays in the CPU cache)


def _mean_billed(mu: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``billing.billed_ms(mu[:, None] * q).mean(-1)``, in blocks and in place: every step is one correctly rounded
    operation as there (``np.round(x, 6)`` is ``rint(x * 1e6) / 1e6``), and the billed values are whole ms, so
    their sum is exact in any order: the same numbers."""
    if np.any(mu < 0):
        return billing.billed_ms(mu[:, None] * q).mean(-1)   # its error names the bad durations
    mu = mu + 0.0     # as billing adds the (zero) INIT: -0.0 bills 0.0
    out = np.empty(mu.size)
    scratch = np.empty((q.size, min(_BLOCK, mu.size)))
    for start in range(0, mu.size, _BLOCK):
        m = mu[start:start + _BLOCK]
        b = scratch[:, :m.size]
        np.multiply(q[:, None], m[None, :], out=b)
        b *= 1e6
        np.rint(b, out=b)
        b /= 1e6
        np.ceil(b, out=b)
        acc = out[start:start + m.size]
        acc[:] = b[0]
        for row in b[1:]:
            acc += row
    out /= q.size
    return out


def monthly_cost(duration_ms, memory_mb, *, invocations_per_month: float = 1e6, arch: str = "x86_64",
                 region: str | None = None, cv: float = DEFAULT_CV, init_ms: float = 0.0,
                 cold_start_share: float = 0.0, provisioned_concurrency: float = 0.0,
                 book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None) -> np.ndarray:
    """USD a month at each (duration, memory) pair: request fee + billed GB-s, first-tier prices, no free tier.

    Each invocation is rounded up to the next ms; ``cold_start_share`` of them also bill ``init_ms`` of INIT
    (billed since 2025-08-01: "AWS Lambda standardizes billing for INIT Phase",
    https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/; INIT time is assumed not
    to depend on memory). With
    ``provisioned_concurrency`` environments kept all month, their allocation (which grows with memory) is
    added and invocations are priced at the provisioned duration rate (spill-over is not modelled).
    """
    billing.check_arch(arch)
    if invocations_per_month < 0 or not np.isfinite(invocations_per_month):
        raise ValueError(f"invocations_per_month must be >= 0, got {invocations_per_month!r}")
    if not 0 <= cold_start_share <= 1:
        raise ValueError(f"cold_start_share must be between 0 and 1, got {cold_start_share!r}")
    if not provisioned_concurrency >= 0:
        raise ValueError(f"provisioned_concurrency must be >= 0, got {provisioned_concurrency!r}")
    book = _prices.resolve(region, book=book, pricing=pricing)
    per_inv = expected_billed_ms(duration_ms, cv)
    if isinstance(per_inv, np.ndarray) and per_inv.ndim:   # a new array of this call's: the same sum, in place
        per_inv += cold_start_share * float(init_ms)
    else:
        per_inv = per_inv + cold_start_share * float(init_ms)
    n = float(invocations_per_month)
    mem = np.asarray(memory_mb, dtype=float)
    sizes, where = np.unique(mem, return_inverse=True)
    request, per_ms, fixed = _unit_prices(book, arch, sizes, float(provisioned_concurrency))
    request, per_ms, fixed = (a[where].reshape(mem.shape) for a in (request, per_ms, fixed))
    base = fixed + n * request
    if isinstance(per_inv, np.ndarray) and per_inv.ndim and per_inv.shape == np.broadcast_shapes(per_inv.shape, mem.shape):
        per_inv *= n          # per_inv is this call's own array: the same sum, without new arrays of its size
        per_inv *= per_ms
        return np.add(base, per_inv, out=per_inv)
    return base + n * per_inv * per_ms


#: (id of the book, its Lambda items, arch, sizes, provisioned concurrency) -> (the book, unit prices per size)
_UNIT_PRICES: dict[tuple, tuple] = {}
_ITEMS = ("request", "duration", "ephemeral_storage", "pc_allocation", "pc_duration")


def _unit_prices(book: _prices.PriceBook, arch: str, sizes: np.ndarray, provisioned_concurrency: float):
    """Per size: the request fee, the price of one billed ms, and the provisioned environments' monthly
    allocation. Remembered per book object, its Lambda items as they are now, and size list (a review prices the
    same grids for every function); the book is kept with its entry, so an id is never mistaken for another's."""
    items = tuple(repr(book.items.get(f"lambda.{item}.{arch}")) for item in _ITEMS)
    key = (id(book), items, arch, sizes.tobytes(), provisioned_concurrency)
    hit = _UNIT_PRICES.get(key)
    if hit is not None and hit[0] is book:
        return hit[1]
    if len(_UNIT_PRICES) >= 512:
        _UNIT_PRICES.clear()
    out = _price_sizes(book, arch, sizes, provisioned_concurrency)
    for a in out:
        a.setflags(write=False)
    _UNIT_PRICES[key] = (book, out)
    return out


def _price_sizes(book, arch: str, sizes: np.ndarray, provisioned_concurrency: float):
    # billing is linear in invocations and billed ms: price one of each per size, then scale
    if provisioned_concurrency:

        def pc(m, inv, ms):
            return billing.provisioned_cost(0, m, 0, arch=arch, invocations=inv, duration_ms=ms, book=book)["served_usd"]

        request = np.array([pc(m, 1.0, 0.0) for m in sizes])
        per_ms = np.array([pc(m, 1.0, 1.0) for m in sizes]) - request
        fixed = np.array([billing.provisioned_cost(provisioned_concurrency, m, billing.MONTH_HOURS, arch=arch,
                                                   book=book)["allocation_usd"] for m in sizes])
    else:
        request = billing.cost_from_totals(np.ones(sizes.size), np.zeros(sizes.size), sizes, arch, book=book)
        per_ms = billing.cost_from_totals(np.zeros(sizes.size), np.ones(sizes.size), sizes, arch, book=book)
        fixed = np.zeros(sizes.size)
    return request, per_ms, fixed
