"""Argument types for the command line: each checks one option's value when the command line is parsed, so a bad
value stops the command before any work, with one line naming the option, the value and what is allowed.

The ranges repeat the library's own checks (which stay: they guard the library's callers too):

* Lambda memory: 128 to 10,240 MB (``billing.MEMORY_RANGE_MB``);
* lookback days: 1 to 455 (CloudWatch keeps hourly data 455 days; ``sources.aws.ScanOptions``);
* chart bars: 1 to 500 (the ``top_n`` parameter of the account review notebook);
* months of lambda-perf data: 1 to 120 (``sources.lambda_perf.MAX_MONTHS``);
* a DynamoDB item: 0 to 400 KB; a batching window: 0 to 300 s; a keep-alive: a scenario name or >= 1 minute.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["MAX_CHART_BARS", "count", "executor", "fraction", "keep_alive", "memory_mb", "months", "number"]

#: Most bars a chart of the review shows (the account review notebook's ``top_n`` range).
MAX_CHART_BARS = 500


def _range(lo: float | None, hi: float | None, *, lo_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}" if not lo_open else f"above {lo:g} and up to {hi:g}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    return "any value"


def count(lo: int | None = 0, hi: int | None = None, *, meaning: str = "") -> Callable[[str], int]:
    """A whole number in ``[lo, hi]`` (``None``: unbounded)."""
    allowed = f"a whole number {_range(lo, hi)}" + (f" ({meaning})" if meaning else "")

    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {allowed}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {allowed}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(lo: float | None = 0.0, hi: float | None = None, *, lo_open: bool = False,
           meaning: str = "") -> Callable[[str], float]:
    """A finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``; ``None``: unbounded)."""
    allowed = f"a number {_range(lo, hi, lo_open=lo_open)}" + (f" ({meaning})" if meaning else "")

    def parse(text: str) -> float:
        try:
            value = float(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {allowed}") from None
        low_bad = lo is not None and (value <= lo if lo_open else value < lo)
        if not math.isfinite(value) or low_bad or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {allowed}")
        return value

    parse.__name__ = "number"
    return parse


def fraction(meaning: str = "") -> Callable[[str], float]:
    """A share from 0 to 1."""
    return number(0.0, 1.0, meaning=meaning)


def memory_mb(text: str) -> int:
    """A Lambda memory size in MB (whole, 128 to 10,240)."""
    from .billing import MEMORY_RANGE_MB

    return count(*MEMORY_RANGE_MB, meaning="Lambda memory in MB")(text)


memory_mb.__name__ = "memory size"


def months(text: str) -> int:
    """Months of lambda-perf data to fit (1 to ``lambda_perf.MAX_MONTHS``)."""
    from .sources.lambda_perf import MAX_MONTHS

    return count(1, MAX_MONTHS, meaning="months")(text)


months.__name__ = "months"


def keep_alive(text: str) -> str:
    """A keep-alive scenario name, or minutes (>= 1); returned as given."""
    from .keepalive import SCENARIOS

    if text in SCENARIOS:
        return text
    minutes = float(text) if text.replace(".", "", 1).isdigit() else math.nan   # plain decimals, as the CLI reads them
    if not minutes >= 1:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: a scenario ({', '.join(SCENARIOS)}) or minutes >= 1")
    return text


keep_alive.__name__ = "keep-alive"


def executor(text: str) -> str:
    """Where the review's work runs (:func:`lambda_workbook.executors.parse`); returned as given."""
    from .executors import ALLOWED, parse

    try:
        parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {ALLOWED}") from None
    return text.strip()


executor.__name__ = "executor"
