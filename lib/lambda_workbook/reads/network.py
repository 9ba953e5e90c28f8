"""The Lambda side of a read: network throughput by memory (an assumption unless calibrated), parse time,
memory held."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .limits import (
    BASELINE_MB,
    EXPANSION,
    PARSE_MS_PER_MB,
    VCPU_MB,
    ReadsError,
    check_choice,
    check_memory,
    check_number,
)

# ---- the Lambda side: network, parse, memory ------------------------------------------------------------
NETWORK_RATIONALE = (
    "AWS publishes no network-throughput-vs-memory curve: it says only that network-bound "
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
        check_number("mb_per_s_1vcpu", self.mb_per_s_1vcpu, strict=True)
        check_number("exponent", self.exponent, maximum=2.0)
        if not self.max_mb_per_s > 0:
            raise ReadsError(f"max_mb_per_s must be > 0, got {self.max_mb_per_s!r}")
        check_number("request_ms", self.request_ms)
        check_number("dynamodb_request_ms", self.dynamodb_request_ms)
        lo, hi = self.band
        if not (0 < lo <= 1 <= hi and math.isfinite(hi)):
            raise ReadsError(f"band must be (low, high) with 0 < low <= 1 <= high, got {self.band!r}")

    def mb_per_s(self, memory_mb, bound: str = "mid") -> float:
        """Throughput in MB/s at ``memory_mb``; ``bound`` "low" / "mid" / "high" applies the band."""
        m = check_memory(memory_mb)
        scale = {"mid": 1.0, "low": self.band[0], "high": self.band[1]}[check_choice("bound", bound, ("mid", "low", "high"))]
        return min(self.max_mb_per_s, self.mb_per_s_1vcpu * (m / VCPU_MB) ** self.exponent) * scale

    def transfer_ms(self, mb, memory_mb, bound: str = "mid") -> float:
        """Milliseconds to move ``mb`` MB (request latency not included)."""
        return check_number("mb", mb) / self.mb_per_s(memory_mb, bound) * 1000.0

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
        check_memory(m)
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
    share = min(1.0, check_memory(memory_mb) / VCPU_MB)
    return check_number("mb", mb) * check_number("parse_ms_per_mb", parse_ms_per_mb) / share


def memory_needed_mb(held_mb, *, baseline_mb: float = BASELINE_MB, expansion: float = EXPANSION) -> float:
    """Memory a function needs to hold ``held_mb`` of data: runtime baseline + data x expansion."""
    return check_number("baseline_mb", baseline_mb) + check_number("held_mb", held_mb) * check_number(
        "expansion", expansion, minimum=1.0)
