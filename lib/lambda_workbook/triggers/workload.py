"""The workload: a month of events to deliver to one function, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .. import billing
from .. import prices as _prices

MEMORY_RANGE_MB = billing.MEMORY_RANGE_MB
MAX_BATCH = 10_000
MAX_WINDOW_S = 300.0


def check_number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
            below: float | None = None, doc: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"Workload.{name} must be a number{doc}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"Workload.{name} must be finite{doc}, got {value!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"Workload.{name} must be >= {minimum:g}{doc}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ValueError(f"Workload.{name} must be <= {maximum:g}{doc}, got {value!r}")
    if below is not None and v >= below:
        raise ValueError(f"Workload.{name} must be < {below:g}{doc}, got {value!r}")
    return v


@dataclass(frozen=True)
class Workload:
    """A month of events to deliver to one function. Validated on construction (clear errors).

    The first ten fields are the public contract. The rest refine the model:
    ``response_kb`` (response size for bytes processed by an ALB; None = same as the payload),
    ``partitions`` (parallel batch gatherers: SQS pollers or stream shards × parallelization; None = the
    catalog's default or the shard count the traffic needs), ``failure_rate`` (probability that a delivery
    attempt fails and is retried), ``peak_to_mean`` (peak over mean rate, for sizing shards and LCUs),
    ``free_tier`` (apply monthly free allowances of Lambda, SQS, SNS and Step Functions; off by default because
    a per-function comparison should not claim the account's allowance).
    """

    events_per_month: float = 10_000_000
    payload_kb: float = 2.0
    duration_ms: float = 120.0
    memory_mb: int = 512
    sync: bool = True
    arch: str = "x86_64"
    region: str = "us-east-1"
    batch_size: int = 1
    batch_window_s: float = 0.0
    invocation_overhead_ms: float = 0.0
    response_kb: float | None = None
    partitions: int | None = None
    failure_rate: float = 0.0
    peak_to_mean: float = 1.0
    free_tier: bool = False

    def __post_init__(self) -> None:
        check_number("events_per_month", self.events_per_month, minimum=0, doc=" (events a month)")
        check_number("payload_kb", self.payload_kb, minimum=0, doc=" (KB per event)")
        check_number("duration_ms", self.duration_ms, minimum=0, doc=" (ms of work per event)")
        check_number("memory_mb", self.memory_mb, minimum=MEMORY_RANGE_MB[0], maximum=MEMORY_RANGE_MB[1], doc=" (MB)")
        if not isinstance(self.sync, (bool, np.bool_)):
            raise ValueError(f"Workload.sync must be True (the caller waits for the result) or False, got {self.sync!r}")
        billing.check_arch(self.arch)
        if not isinstance(self.region, str) or not _prices._REGION.match(self.region):
            raise ValueError(f"Workload.region must look like 'us-east-1', got {self.region!r}")
        n = check_number("batch_size", self.batch_size, minimum=1, maximum=MAX_BATCH, doc=" (events per batch, 1-10,000)")
        if not n.is_integer():
            raise ValueError(f"Workload.batch_size must be a whole number of events, got {self.batch_size!r}")
        object.__setattr__(self, "batch_size", int(n))
        check_number("batch_window_s", self.batch_window_s, minimum=0, maximum=MAX_WINDOW_S, doc=" (seconds, 0-300)")
        check_number("invocation_overhead_ms", self.invocation_overhead_ms, minimum=0, doc=" (ms per invocation)")
        if self.response_kb is not None:
            check_number("response_kb", self.response_kb, minimum=0, doc=" (KB per response)")
        if self.partitions is not None:
            p = check_number("partitions", self.partitions, minimum=1, doc=" (parallel batch gatherers)")
            if not p.is_integer():
                raise ValueError(f"Workload.partitions must be a whole number, got {self.partitions!r}")
            object.__setattr__(self, "partitions", int(p))
        check_number("failure_rate", self.failure_rate, minimum=0, below=1, doc=" (probability that an attempt fails)")
        check_number("peak_to_mean", self.peak_to_mean, minimum=1, doc=" (peak rate over mean rate)")
        if not isinstance(self.free_tier, (bool, np.bool_)):
            raise ValueError(f"Workload.free_tier must be True or False, got {self.free_tier!r}")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
