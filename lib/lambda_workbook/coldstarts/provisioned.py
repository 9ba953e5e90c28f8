"""Provisioned concurrency and SnapStart: break-even utilisation, schedules, SnapStart eligibility and charges, and a
function's options (on demand, N provisioned environments always on or scheduled, SnapStart) priced for a month."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import billing
from .. import prices as _prices
from ..memory import runtime_family
from .init import latency_quantiles
from .pool import cold_start_profile, occupancy
from .series import per_minute


def pc_breakeven_utilization(*, arch: str = "x86_64", region: str | None = None,
                             book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None) -> float:
    """Utilisation above which a provisioned environment costs less than on-demand for the same work.

    An environment busy a share ``u`` of the time costs ``allocation + u * pc_duration`` per GB-s
    provisioned, against ``u * on_demand_duration`` without it: break-even ``u* = allocation /
    (on_demand - pc_duration)``, at first-tier list prices (about 0.60 for both architectures in us-east-1).
    Requests cost the same either way; saved INIT is not counted.
    """
    billing.check_arch(arch)
    book = _prices.resolve(region, book=book, pricing=pricing)
    alloc = book.price(f"lambda.pc_allocation.{arch}")
    on_demand = book.price(f"lambda.duration.{arch}")
    served = book.price(f"lambda.pc_duration.{arch}")
    if not on_demand > served:
        raise ValueError(f"{book.region} prices: on-demand duration ({on_demand}) is not above the PC duration rate "
                         f"({served}) for {arch}; provisioned concurrency never breaks even")
    return float(alloc / (on_demand - served))


_SCHEDULE_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class Schedule:
    """Provisioned concurrency switched on at ``start_hour`` and off at ``end_hour`` on ``days`` (0 = Monday),
    in ``tz`` (an IANA zone name)."""

    start_hour: float = 8.0
    end_hour: float = 18.0
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour < self.end_hour <= 24):
            raise ValueError(f"schedule hours must satisfy 0 <= start < end <= 24, got {self.start_hour}-{self.end_hour}")
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError(f"schedule days must be weekday numbers 0-6 (0 = Monday), got {self.days!r}")
        try:
            pd.Timestamp("2026-01-01", tz=self.tz)
        except Exception:  # noqa: BLE001 - pandas raises several types for unknown zones
            raise ValueError(f"schedule time zone {self.tz!r} is not a known IANA zone (e.g. 'Europe/Berlin')") from None

    @property
    def label(self) -> str:
        names = list(_SCHEDULE_DAYS)
        days = ",".join(names[d] for d in self.days)
        return f"{days} {self.start_hour:02g}:00-{self.end_hour:02g}:00 {self.tz}"

    @classmethod
    def parse(cls, spec: str) -> Schedule:
        """``"mon-fri 08-18 Europe/Berlin"`` (days and time zone optional; ``"sat,sun 10-16"`` works too)."""
        parts = str(spec).split()
        days, hours, tz = (0, 1, 2, 3, 4), None, "UTC"
        for part in parts:
            p = part.lower()
            if p[:3] in _SCHEDULE_DAYS:
                days = _parse_days(p)
            elif p[:1].isdigit():
                hours = p
            else:
                tz = part
        if hours is None or "-" not in hours:
            raise ValueError(f"schedule must look like 'mon-fri 08-18 UTC', got {spec!r}")
        try:
            start, end = (float(h.split(":")[0]) for h in hours.split("-"))
        except ValueError:
            raise ValueError(f"schedule hours must look like 08-18, got {hours!r} in {spec!r}") from None
        return cls(start, end, days, tz)

    def mask(self, index: pd.Index) -> np.ndarray:
        """True for the minutes of ``index`` (timestamps; naive ones are UTC) inside the schedule."""
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError("a schedule needs a series indexed by timestamps, not minute numbers")
        ts = index.tz_localize("UTC") if index.tz is None else index
        local = ts.tz_convert(self.tz)
        hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
        return np.isin(local.day_of_week.to_numpy(), self.days) & (hour >= self.start_hour) & (hour < self.end_hour)


def _parse_days(text: str) -> tuple[int, ...]:
    out: list[int] = []
    for chunk in text.split(","):
        ends = chunk.split("-")
        try:
            a, b = _SCHEDULE_DAYS[ends[0][:3]], _SCHEDULE_DAYS[ends[-1][:3]]
        except KeyError:
            raise ValueError(f"schedule days must be like mon-fri or sat,sun, got {text!r}") from None
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return tuple(sorted(set(out)))


SNAPSTART_MINIMUM = {"java": (11,), "python": (3, 12), "dotnet": (8,)}


SNAPSTART_SOURCE = ("Java 11+ free; Python 3.12+ and .NET 8+ pay cache + restore (price book lambda.snapstart_*); not "
                    "with provisioned concurrency, /tmp > 512 MB, container images or OS-only runtimes: 'Improving "
                    "startup performance with Lambda SnapStart', https://docs.aws.amazon.com/lambda/latest/dg/"
                    "snapstart.html; 'AWS Lambda pricing', https://aws.amazon.com/lambda/pricing/")


def snapstart(runtime: str | None, *, package_type: str = "Zip", ephemeral_mb: float = 512,
              provisioned: float = 0.0) -> dict[str, Any]:
    """Whether SnapStart can be switched on, and whether it is charged (cache + restore)."""
    r = str(runtime or "").lower()
    family = runtime_family(r)
    version = _runtime_version(r)
    reason = ""
    minimum = SNAPSTART_MINIMUM.get(family)
    if str(package_type).lower() == "image":
        reason = "container images are not supported"
    elif minimum is None or version is None or version < minimum:
        reason = f"runtime {runtime or '(none)'} is not supported (Java 11+, Python 3.12+, .NET 8+)"
    if not reason and float(ephemeral_mb or 512) > 512:
        reason = f"ephemeral storage of {ephemeral_mb:g} MB (SnapStart allows up to 512 MB)"
    if not reason and float(provisioned or 0) > 0:
        reason = "provisioned concurrency is configured (the two exclude each other; it can replace it)"
    return {"eligible": not reason or reason.startswith("provisioned"), "blocked_by_pc": reason.startswith("provisioned"),
            "charged": family in ("python", "dotnet"), "reason": reason, "source": SNAPSTART_SOURCE}


def snapstart_words(option, runtime: str | None) -> str:
    """A priced option (a :func:`pc_options` row) in words; for SnapStart, its total and what of it SnapStart itself
    charges (:func:`snapstart_cost`: nothing for Java, cache and restore for Python and .NET, from the price book)."""
    total = f"${float(option['total_usd']):,.2f}/month"
    if option["option"] != "SnapStart":
        return f"{option['option']} would cost {total}"
    own = float(option.get("snapstart_usd", 0.0))
    if own != own:
        return (f"on demand with SnapStart and no PC the function would cost ${float(option['on_demand_usd']):,.2f}"
                "/month plus SnapStart's cache and restore charges, unknown (not in the price book for this "
                "architecture)")
    if own == 0 and runtime_family(runtime) == "java":
        charge = "SnapStart itself $0.00: no cache or restore charge for Java"
    else:
        charge = f"SnapStart's cache and restore ${own:,.2f}"
    return (f"on demand with SnapStart and no PC the function would cost {total} in all (invocations "
            f"${float(option['on_demand_usd']):,.2f}; {charge})")


def _runtime_version(runtime: str) -> tuple[int, ...] | None:
    digits = "".join(ch if ch.isdigit() or ch == "." else " " for ch in runtime).split()
    if not digits:
        return None
    try:
        return tuple(int(x) for x in digits[0].split(".") if x)
    except ValueError:
        return None


def snapstart_cost(memory_mb: float, restores: float, *, runtime: str | None, arch: str = "x86_64",
                   versions: int = 1, hours: float = billing.MONTH_HOURS, region: str | None = None,
                   book: _prices.PriceBook | None = None, pricing: _prices.Pricing | None = None) -> dict[str, Any]:
    """Monthly SnapStart charges: cache (GB-s per published version, minimum 3 h) and restores (per GB).

    Free for Java. The arm64 prices are not in the price book (unknown: NaN, and the note says so).
    """
    billing.check_arch(arch)
    if restores < 0 or versions < 0 or hours < 0:
        raise ValueError(f"restores, versions and hours must be >= 0, got {restores!r}, {versions!r}, {hours!r}")
    gb = float(memory_mb) / 1024.0
    if runtime_family(runtime) == "java":
        return {"cache_usd": 0.0, "restore_usd": 0.0, "total_usd": 0.0, "note": "free for Java managed runtimes"}
    book = _prices.resolve(region, book=book, pricing=pricing)
    cache_id, restore_id = f"lambda.snapstart_cache.{arch}", f"lambda.snapstart_restore.{arch}"
    if not (book.has(cache_id) and book.has(restore_id)):
        nan = float("nan")
        return {"cache_usd": nan, "restore_usd": nan, "total_usd": nan,
                "note": f"SnapStart prices for {arch} are not in the {book.region} price book: unknown"}
    cache = versions * gb * max(hours, 3.0) * 3600.0 * book.price(cache_id)
    restore = restores * gb * book.price(restore_id)
    note = "cache per published version + restore per GB restored"
    if math.isnan(cache + restore):
        note = f"SnapStart prices for {arch} are unknown (not published in the sources used)"
    return {"cache_usd": cache, "restore_usd": restore, "total_usd": cache + restore, "note": note}


MONTH_MINUTES = billing.MONTH_HOURS * 60.0


def busy_schedule(invocations_per_minute, *, share: float = 0.25) -> Schedule:
    """A schedule covering the hours the traffic uses: hours of the day (UTC) whose mean invocations reach
    ``share`` of the busiest hour's, on weekdays only when weekends are quieter than that share."""
    s = per_minute(invocations_per_minute)
    if not isinstance(s.index, pd.DatetimeIndex) or s.sum() <= 0:
        raise ValueError("busy_schedule needs a timestamped series with some traffic")
    idx = s.index.tz_localize("UTC") if s.index.tz is None else s.index.tz_convert("UTC")
    by_hour = s.groupby(idx.hour).mean()
    busy = by_hour.index[by_hour >= share * by_hour.max()]
    weekday = idx.day_of_week < 5
    wk, we = s[weekday].mean() if weekday.any() else 0.0, s[~weekday].mean() if (~weekday).any() else 0.0
    days = (0, 1, 2, 3, 4) if we < share * wk else tuple(range(7))
    return Schedule(float(busy.min()), float(busy.max()) + 1.0, days, "UTC")


def pc_options(invocations_per_minute, duration_ms: float, memory_mb: float, *, arch: str = "x86_64",
               init_ms: float = 0.0, counts=(0,), schedule: Schedule | str | None = None, keep_alive_min=None,
               model: str = "poisson", max_concurrency=None, runtime: str | None = None, package_type: str = "Zip",
               ephemeral_mb: float = 512, billing_date=None, snapstart_option: bool = True, latency=None,
               region: str | None = None, book: _prices.PriceBook | None = None,
               pricing: _prices.Pricing | None = None) -> pd.DataFrame:
    """Monthly cost of serving a per-minute traffic series on demand, with N provisioned environments
    (always on, or on a ``schedule``), or with SnapStart, at list prices.

    Provisioned environments serve an arrival when one of them is free (Erlang-B: the N environments as a
    loss system offered the minute's load); the rest spill over to on-demand environments, whose cold starts
    and billed INIT come from :func:`cold_start_profile`. ``latency``: optional ``(warm_p50, warm_p99, init_p50, init_p99)`` ms for a
    p99 per option. A month is 730 hours; the series is scaled to it.
    """
    billing.check_arch(arch)
    s = per_minute(invocations_per_minute)
    if s.empty or s.sum() <= 0:
        raise ValueError("pc_options needs a series with some invocations")
    book = _prices.resolve(region, book=book, pricing=pricing)
    lam = s.to_numpy(dtype=float)
    d = float(duration_ms)
    if not (d > 0 and math.isfinite(d)):
        raise ValueError(f"duration_ms must be > 0 ms, got {duration_ms!r}")
    conc, _ = occupancy(lam, np.full(len(lam), d))
    factor = MONTH_MINUTES / len(s)
    sched = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    plans: list[tuple[str, int, Schedule | None]] = []
    for n in sorted({int(c) for c in counts}):
        if n < 0:
            raise ValueError(f"provisioned counts must be >= 0, got {n}")
        plans.append(("on-demand" if n == 0 else f"PC {n}, always on", n, None))
        if sched is not None and n > 0 and not sched.mask(s.index).all():
            plans.append((f"PC {n}, {sched.label}", n, sched))
    rows = []
    for label, n, sc in plans:
        on = sc.mask(s.index) if sc is not None else np.ones(len(s), dtype=bool)
        pc = np.where(on, n, 0)
        served = float((lam * (1.0 - erlang_b(pc, conc))).sum())
        total = float(lam.sum())
        spill = total - served
        cold = float(cold_start_profile(s, d, keep_alive_min=keep_alive_min, model=model, provisioned=pc,
                                        max_concurrency=max_concurrency)["cold_starts"].sum())
        rows.append(_option_row(label, n, sc, on, served, spill, cold, total, factor, d, memory_mb, arch, init_ms,
                                runtime, package_type, ephemeral_mb, billing_date, book, latency))
    ss = snapstart(runtime, package_type=package_type, ephemeral_mb=ephemeral_mb)
    if snapstart_option and ss["eligible"]:
        base = rows[0] if plans and plans[0][1] == 0 else None
        cold = base["cold_starts_month"] / factor if base else float(cold_start_profile(
            s, d, keep_alive_min=keep_alive_min, model=model, max_concurrency=max_concurrency)["cold_starts"].sum())
        row = _option_row("SnapStart", 0, None, np.zeros(len(s), dtype=bool), 0.0, float(lam.sum()), cold,
                          float(lam.sum()), factor, d, memory_mb, arch, 0.0, runtime, package_type, ephemeral_mb,
                          billing_date, book, None)
        extra = snapstart_cost(memory_mb, cold * factor, runtime=runtime, arch=arch, book=book)
        row.update({"snapstart_usd": extra["total_usd"], "total_usd": row["total_usd"] + extra["total_usd"],
                    "note": "INIT runs at publish time; restores replace it. " + extra["note"]
                    + "; restore latency is not published (AWS: 'as low as sub-second')"})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update({"breakeven_utilisation": pc_breakeven_utilization(arch=arch, book=book),
                      "prices_as_of": book.as_of, "month_factor": factor})
    return out


def erlang_b(servers, load) -> np.ndarray:
    """Erlang-B blocking: the share of Poisson arrivals that find all ``servers`` busy when ``load``
    (arrival rate x duration) is offered to them; vectorised. Overflow goes to on-demand environments."""
    n = np.asarray(servers, dtype=float)
    a = np.asarray(load, dtype=float)
    n, a = np.broadcast_arrays(n, a)
    b = np.ones(n.shape)
    for k in range(1, int(n.max()) + 1 if n.size else 1):
        step = a * b / (k + a * b)
        b = np.where(n >= k, step, b)
    return b


def pc_count_for_cost(invocations_per_minute, duration_ms: float, *, arch: str = "x86_64",
                      region: str | None = None, book: _prices.PriceBook | None = None,
                      pricing: _prices.Pricing | None = None) -> int:
    """The number of always-on provisioned environments that minimises cost (cold starts aside).

    Provisioned environments take work first (overflow goes on demand: an Erlang loss system), so the k-th
    carries ``load * (B(k-1) - B(k))`` with ``B`` the Erlang-B blocking; each one pays for itself while that
    stays above the break-even utilisation.
    """
    s = per_minute(invocations_per_minute)
    lam = s.to_numpy(dtype=float)
    if lam.sum() <= 0:
        return 0
    conc, _ = occupancy(lam, np.full(len(lam), float(duration_ms)))
    limit = pc_breakeven_utilization(arch=arch, book=_prices.resolve(region, book=book, pricing=pricing))
    k, blocked = 0, np.ones(len(conc))
    while True:
        nxt = conc * blocked / (k + 1 + conc * blocked)          # Erlang-B recursion, one server more
        if float((conc * (blocked - nxt)).mean()) < limit:        # load the (k+1)-th environment would carry
            return k
        k, blocked = k + 1, nxt


def _option_row(label, n, sched, on, served, spill, cold, total, factor, d, memory_mb, arch, init_ms, runtime,
                package_type, ephemeral_mb, billing_date, book, latency) -> dict[str, Any]:
    hours = float(on.sum()) / 60.0 * factor if n > 0 else 0.0
    pc = billing.provisioned_cost(n, memory_mb, hours, arch=arch, invocations=served * factor, duration_ms=d,
                                  book=book) if n > 0 else {"allocation_usd": 0.0, "served_usd": 0.0}
    spill_m = spill * factor
    cold_m = min(cold * factor, spill_m)
    od = billing.breakdown(spill_m, d, memory_mb, arch=arch, init_ms=init_ms, cold_starts=cold_m,
                           package_type=package_type, runtime=runtime, billing_date=billing_date,
                           ephemeral_mb=ephemeral_mb, book=book) if spill_m > 0 else {"total_usd": 0.0, "init_usd": 0.0}
    util = served * d / (float(on.sum()) * n * 60000.0) if n > 0 and on.any() else float("nan")
    row = {"option": label, "provisioned": n, "schedule": sched.label if sched is not None else "",
           "pc_hours_month": hours, "invocations_month": total * factor,
           "served_by_pc": served / total if total else 0.0, "cold_starts_month": cold_m,
           "cold_share": cold_m / (total * factor) if total else 0.0, "pc_utilisation": util,
           "pc_allocation_usd": pc["allocation_usd"], "pc_served_usd": pc["served_usd"],
           "on_demand_usd": od["total_usd"], "init_usd": od["init_usd"], "snapstart_usd": 0.0,
           "total_usd": pc["allocation_usd"] + pc["served_usd"] + od["total_usd"], "note": ""}
    if latency is not None:
        warm50, warm99, init50, init99 = latency
        row["p99_ms"] = latency_quantiles(warm50, warm99, init50, init99, row["cold_share"])["p99"]
    return row
