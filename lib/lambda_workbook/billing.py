"""AWS Lambda billing rules, vectorised. Prices come from the price book; the rules live here.

Rules (sources: AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/; AWS Compute Blog, Introducing tiered
pricing for AWS Lambda, https://aws.amazon.com/blogs/compute/introducing-tiered-pricing-for-aws-lambda/; AWS
Compute Blog, AWS Lambda standardizes billing for INIT phase,
https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/):

* each invocation is billed for its duration rounded up to the next 1 ms, times configured memory (GB-s);
* since 2025-08-01 the INIT phase of a cold start is billed too: ``billed = ceil(duration + init)``. Before
  that date INIT was free for ZIP packages on managed runtimes and billed for container images and custom
  (``provided.*``) runtimes;
* a request fee per invocation; separate prices and monthly GB-s tiers per architecture;
* ephemeral storage above 512 MB is billed per GB-s of billed duration;
* the free tier (1M requests + 400,000 GB-s a month per account) is an explicit option, off by default,
  because per-function comparisons should not each claim the account's allowance;
* provisioned concurrency: allocation GB-s from enable to disable (rounded up to 5 minutes) plus a lower
  duration rate for invocations it serves; spill-over invocations pay on-demand rates.

Memory and CPU (AWS Lambda Developer Guide, Configure Lambda function memory,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): memory is configurable from 128 MB to
10,240 MB in 1 MB steps (:data:`MEMORY_RANGE_MB`; anything else is refused with the value and the range named), and
CPU is allocated in proportion to memory, the equivalent of one vCPU at 1,769 MB (:data:`VCPU_MB`). At the
largest size a function has up to 6 vCPUs (:data:`MAX_VCPUS`; AWS News Blog, New for AWS Lambda – Functions with Up
to 10 GB of Memory and 6 vCPUs, https://aws.amazon.com/blogs/aws/new-for-aws-lambda-functions-with-up-to-10-gb-of-memory-and-6-vcpus/),
while its CPU share in proportion to memory is 10,240 / 1,769 ≈ 5.8 vCPUs: six cores can run threads in
parallel, and the time they get is about 5.8 vCPU-seconds a second (:func:`vcpu_share`). How many vCPUs the
sizes in between see is not published by AWS; community measurements disagree, so no step table is kept here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from . import prices as _prices

INIT_BILLED_SINCE = dt.date(2025, 8, 1)
MONTH_HOURS = 730.0        # the month AWS prices use: idle PC $0.0000041667/GB-s x 3,600 x 730 = $10.95/GB-month
VCPU_MB = 1769.0           # CPU share is proportional to memory, one vCPU at 1,769 MB (Lambda developer guide)
ARCHITECTURES = ("x86_64", "arm64")
EPHEMERAL_FREE_MB = 512
MEMORY_RANGE_MB = (128, 10240)   # configurable memory, 1 MB steps (Lambda developer guide, configuration-memory)
TIMEOUT_MAX_S = 900             # longest function timeout, 15 minutes ("Lambda quotas", docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
TIMEOUT_MAX_MS = TIMEOUT_MAX_S * 1000.0
MAX_VCPUS = 6              # vCPUs at 10,240 MB (AWS News Blog, functions with up to 10 GB of memory and 6 vCPUs)
PC_BILLING_STEP_S = 300


def check_arch(arch: str) -> str:
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    return arch


def _as_date(value) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"billing_date must be a date or 'YYYY-MM-DD', got {value!r}") from None


def init_is_billed(*, billing_date=None, package_type: str = "Zip", runtime: str | None = None,
                   init_billed_since=INIT_BILLED_SINCE) -> bool:
    """Whether INIT time of an on-demand cold start is billed on ``billing_date``."""
    if _as_date(billing_date) >= _as_date(init_billed_since):
        return True
    custom_runtime = bool(runtime) and str(runtime).startswith("provided")
    return str(package_type).lower() == "image" or custom_runtime


def billed_ms(duration_ms, init_ms=0.0, *, init_billed: bool = True) -> np.ndarray:
    """Per-invocation billed milliseconds: ``ceil(duration [+ init])``; NaN init means a warm start."""
    d = np.asarray(duration_ms, dtype=float)
    i = np.nan_to_num(np.asarray(init_ms, dtype=float), nan=0.0)
    if np.any(d < 0) or np.any(i < 0):
        raise ValueError("durations must be >= 0 ms")
    total = d + i if init_billed else d
    # round() first so that 16.000000000001 from float arithmetic does not bill 17 ms
    return np.ceil(np.round(total, 6))


def check_memory(memory_mb) -> float:
    """``memory_mb`` as a float if Lambda can configure it (128–10,240 MB), else a ValueError naming the value and
    the range."""
    try:
        m = float(memory_mb)
    except (TypeError, ValueError):
        m = math.nan
    if isinstance(memory_mb, bool) or not MEMORY_RANGE_MB[0] <= m <= MEMORY_RANGE_MB[1]:
        raise ValueError(f"memory_mb must be between {MEMORY_RANGE_MB[0]:,} and {MEMORY_RANGE_MB[1]:,} MB (Lambda's "
                         f"configurable range), got {memory_mb!r}")
    return m


_check_memory = check_memory


def vcpu_share(memory_mb) -> float:
    """The CPU a function gets at ``memory_mb``, in vCPUs: proportional to memory, 1 at 1,769 MB, ≈5.8 at 10,240 MB
    (where it runs on up to :data:`MAX_VCPUS` vCPUs)."""
    return check_memory(memory_mb) / VCPU_MB


def breakdown(invocations, duration_ms, memory_mb, *, arch: str = "x86_64", init_ms=0.0,
              cold_starts=None, region: str | None = None, free_tier: bool = False,
              ephemeral_mb: float = EPHEMERAL_FREE_MB, package_type: str = "Zip", runtime: str | None = None,
              billing_date=None, account_gb_s: float = 0.0, book: _prices.PriceBook | None = None,
              pricing: _prices.Pricing | None = None) -> dict[str, Any]:
    """The parts of a Lambda bill: requests, compute (with INIT), ephemeral storage, and their total in USD.

    ``duration_ms`` is either one per-invocation duration (then ``invocations`` says how many) or an array
    of per-invocation durations (then ``invocations`` is None or its length, and each is rounded on its own).
    ``init_ms`` is the INIT duration of a cold start: a scalar applied to ``cold_starts`` invocations (all of
    them when None), or an array aligned with ``duration_ms`` (NaN or 0 for warm starts).
    ``account_gb_s`` is other on-demand GB-s of the same architecture earlier in the month; it decides the
    tier this usage is priced in.
    Prices come from ``book``, else ``pricing``'s book for ``region``, else the bundled book of ``region``
    (us-east-1 when None): :func:`lambda_workbook.prices.resolve`.
    """
    check_arch(arch)
    memory = _check_memory(memory_mb)
    book = _prices.resolve(region, book=book, pricing=pricing)
    init_billed = init_is_billed(billing_date=billing_date, package_type=package_type, runtime=runtime)
    d = np.asarray(duration_ms, dtype=float)
    if d.ndim == 0:
        if invocations is None:
            raise ValueError("invocations is required when duration_ms is a single per-invocation duration")
        n = float(invocations)
        if n < 0 or math.isnan(n):
            raise ValueError(f"invocations must be >= 0, got {invocations!r}")
        init = float(np.nan_to_num(np.asarray(init_ms, dtype=float), nan=0.0))
        cold = n if cold_starts is None else float(cold_starts)
        if not 0 <= cold <= n:
            raise ValueError(f"cold_starts must be between 0 and invocations ({n:g}), got {cold_starts!r}")
        warm_ms = float(billed_ms(d))
        cold_ms = float(billed_ms(d, init, init_billed=init_billed)) if init > 0 else warm_ms
        total_ms = (n - cold) * warm_ms + cold * cold_ms
        init_part_ms = cold * (cold_ms - warm_ms)
        n_cold = cold if init > 0 else 0.0
    else:
        d = d.ravel()
        if invocations is not None and int(invocations) != d.size:
            raise ValueError(f"invocations ({invocations!r}) must be None or the number of durations ({d.size})")
        if cold_starts is not None:
            raise ValueError("cold_starts applies to a scalar duration; pass per-invocation init_ms instead")
        n = float(d.size)
        init = np.broadcast_to(np.nan_to_num(np.asarray(init_ms, dtype=float), nan=0.0), d.shape)
        with_init = billed_ms(d, init, init_billed=init_billed)
        without = billed_ms(d)
        total_ms = float(with_init.sum())
        init_part_ms = float((with_init - without).sum())
        n_cold = float(np.count_nonzero(init > 0))
    gb = memory / 1024.0
    gb_s = total_ms / 1000.0 * gb
    requests = n
    free_requests = free_gb_s = 0.0
    if free_tier:
        free_requests = min(requests, book.quantity("lambda.free_tier.requests"))
        free_gb_s = min(gb_s, book.quantity("lambda.free_tier.gb_seconds"))
    request_cost = (requests - free_requests) * book.price(f"lambda.request.{arch}")
    compute_cost = book.cost(f"lambda.duration.{arch}", gb_s - free_gb_s, already=account_gb_s)
    extra_storage_gb = max(float(ephemeral_mb) - EPHEMERAL_FREE_MB, 0.0) / 1024.0
    storage_cost = total_ms / 1000.0 * extra_storage_gb * book.price(f"lambda.ephemeral_storage.{arch}")
    init_cost = compute_cost * (init_part_ms / total_ms) if total_ms else 0.0
    return {
        "invocations": requests,
        "cold_starts": n_cold,
        "billed_ms": total_ms,
        "init_billed_ms": init_part_ms,
        "gb_seconds": gb_s,
        "request_usd": request_cost,
        "compute_usd": compute_cost,
        "init_usd": init_cost,
        "ephemeral_usd": storage_cost,
        "total_usd": request_cost + compute_cost + storage_cost,
        "arch": arch,
        "region": book.region,
        "prices_as_of": book.as_of,
    }


def lambda_cost(invocations, duration_ms, memory_mb, *, arch: str = "x86_64", init_ms=0.0,
                region: str | None = None, free_tier: bool = False, **options) -> float:
    """USD for Lambda invocations, request fee included (see :func:`breakdown` for the options).

    >>> round(lambda_cost(1000, 11722, 128), 6)   # the Lambda operator guide's 128 MB example
    0.024621
    """
    return breakdown(invocations, duration_ms, memory_mb, arch=arch, init_ms=init_ms, region=region,
                     free_tier=free_tier, **options)["total_usd"]


def cost_from_totals(invocations, billed_ms_total, memory_mb, arch, *, ephemeral_mb=EPHEMERAL_FREE_MB,
                     region: str | None = None, book: _prices.PriceBook | None = None,
                     pricing: _prices.Pricing | None = None) -> np.ndarray:
    """Vectorised monthly cost per row from already-billed totals (first-tier prices, no free tier).

    For tables of functions: ``invocations``, ``billed_ms_total`` (sum of billed ms, INIT included where it
    was billed), ``memory_mb``, ``arch`` are aligned arrays. Volume tiers depend on the whole account's
    usage and are not applied per function.
    """
    book = _prices.resolve(region, book=book, pricing=pricing)
    n = np.asarray(invocations, dtype=float)
    ms = np.asarray(billed_ms_total, dtype=float)
    mem = np.asarray(memory_mb, dtype=float)
    archs = np.broadcast_to(np.asarray(arch, dtype=object), n.shape)
    bad = set(np.unique(archs.astype(str))) - set(ARCHITECTURES)
    if bad:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {sorted(bad)}")
    req = np.where(archs == "arm64", book.price("lambda.request.arm64"), book.price("lambda.request.x86_64"))
    dur = np.where(archs == "arm64", book.price("lambda.duration.arm64"), book.price("lambda.duration.x86_64"))
    sto = np.where(archs == "arm64", book.price("lambda.ephemeral_storage.arm64"),
                   book.price("lambda.ephemeral_storage.x86_64"))
    extra_gb = np.clip(np.asarray(ephemeral_mb, dtype=float) - EPHEMERAL_FREE_MB, 0, None) / 1024.0
    seconds = ms / 1000.0
    return n * req + seconds * mem / 1024.0 * dur + seconds * extra_gb * sto


def provisioned_cost(concurrency, memory_mb, hours, *, arch: str = "x86_64", invocations: float = 0.0,
                     duration_ms: float = 0.0, spillover_invocations: float = 0.0,
                     spillover_duration_ms: float | None = None, region: str | None = None,
                     book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None) -> dict[str, float]:
    """Cost of keeping ``concurrency`` environments provisioned for ``hours`` (rounded up to 5 minutes).

    ``invocations`` served by provisioned environments pay the request fee and the PC duration rate;
    ``spillover_invocations`` beyond them pay on-demand rates.
    """
    check_arch(arch)
    memory = _check_memory(memory_mb)
    book = _prices.resolve(region, book=book, pricing=pricing)
    if concurrency < 0 or hours < 0:
        raise ValueError(f"concurrency and hours must be >= 0, got {concurrency!r}, {hours!r}")
    seconds = math.ceil(round(hours * 3600.0 / PC_BILLING_STEP_S, 9)) * PC_BILLING_STEP_S
    gb = memory / 1024.0
    allocation = concurrency * gb * seconds * book.price(f"lambda.pc_allocation.{arch}")
    served_ms = invocations * float(billed_ms(duration_ms))
    served = (invocations * book.price(f"lambda.request.{arch}")
              + served_ms / 1000.0 * gb * book.price(f"lambda.pc_duration.{arch}"))
    spill = 0.0
    if spillover_invocations:
        spill_ms = duration_ms if spillover_duration_ms is None else spillover_duration_ms
        spill = lambda_cost(spillover_invocations, spill_ms, memory, arch=arch, book=book)
    return {"allocation_usd": allocation, "served_usd": served, "spillover_usd": spill,
            "total_usd": allocation + served + spill, "billed_hours": seconds / 3600.0}
