"""Benchmark ``lambda_workbook.logs.parse_reports`` against straightforward per-line parsers.

Usage: ``.venv/bin/python benchmarks/bench_parse_reports.py [--lines N] [--seed S] [--repeat R]``

Generates N deterministic, realistic log lines (START / REPORT / END triplets; ~3% cold starts with
``Init Duration``, ~10% with an X-Ray suffix, a few timeouts, tab separators as Lambda writes them with the
stray space after ``Billed Duration``, 2% of reports re-spaced with blanks; ~1% garbage: truncated reports, binary junk decoded to text, random unicode,
application log lines), times each parser (best of R runs, after a small warm-up), checks that they found
the same reports with the same values, and prints lines/s and the speed-up.

Baselines: what a typical notebook user writes (loop over the lines, keep those containing
``REPORT RequestId:``, pull each field out with its own ``re.search``, collect dicts, build a DataFrame),
and the same loop with the patterns compiled once. The final ``speedup:`` line compares with the first;
the line before it with the second.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import re
import sys
import time
import uuid

import numpy as np
import pandas as pd

from lambda_workbook import logs

GOAL = 3.0
SPACED = 0.02   # share of REPORT lines with spaces instead of tabs (Lambda writes tabs; some tools respace)


# -- data ---------------------------------------------------------------------------------------------------
def _report(rng: random.Random, rid: str, spaced: float = SPACED) -> str:
    sep = " " if rng.random() < spaced else "\t"
    dur = round(rng.lognormvariate(3.5, 1.0), 2)
    mem = rng.choice((128, 256, 512, 1024, 1769, 3008))
    fields = [
        f"REPORT RequestId: {rid}",
        f"Duration: {dur:.2f} ms",
        f"Billed Duration: {int(dur) + 1} ms ",                 # AWS's stray space
        f"Memory Size: {mem} MB",
        f"Max Memory Used: {rng.randint(40, mem)} MB",
    ]
    if rng.random() < 0.03:
        fields.append(f"Init Duration: {rng.uniform(80, 1500):.2f} ms")
    if rng.random() < 0.10:
        trace = f"1-{rng.getrandbits(32):08x}-{rng.getrandbits(96):024x}"
        fields += [f"XRAY TraceId: {trace}", f"SegmentId: {rng.getrandbits(64):016x}", "Sampled: true"]
    if rng.random() < 0.002:
        fields.append("Status: timeout")
    return sep.join(fields) + sep


def _garbage(rng: random.Random, rid: str) -> str:
    kind = rng.randrange(5)
    if kind == 0:   # a report cut off before its last required field
        line = _report(rng, rid)
        return line[: rng.randint(0, line.index("Max Memory Used"))]
    if kind == 1:   # binary junk decoded the way a log export would
        return rng.randbytes(rng.randint(1, 80)).decode("utf-8", "replace").replace("\n", " ")
    if kind == 2:
        return "".join(chr(rng.randint(32, 0x2FF)) for _ in range(rng.randint(1, 80)))
    if kind == 3:
        return f"[ERROR] {rid} Something went wrong: {rng.random()}"
    return '{"level": "INFO", "message": "not a platform event"}'


def generate(n: int, seed: int = 7, spaced: float = SPACED) -> list:
    rng = random.Random(seed)
    lines: list = []
    while len(lines) < n:
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if rng.random() < 0.03:
            lines.append(_garbage(rng, rid))
        lines.append(f"START RequestId: {rid} Version: $LATEST")
        lines.append(_report(rng, rid, spaced))
        lines.append(f"END RequestId: {rid}")
    return lines[:n]


# -- baselines --------------------------------------------------------------------------------------------
def baseline(lines) -> pd.DataFrame:
    """The per-line parser a typical notebook user writes: ``re.search`` per field, dicts, a DataFrame."""
    rows = []
    for line in lines:
        if not isinstance(line, str) or "REPORT RequestId:" not in line:
            continue
        rid = re.search(r"RequestId:\s*(\S+)", line)
        dur = re.search(r"\sDuration:\s*([\d.]+)\s*ms", line)       # the leftmost one is Duration itself
        billed = re.search(r"Billed Duration:\s*([\d.]+)\s*ms", line)
        mem = re.search(r"Memory Size:\s*([\d.]+)\s*MB", line)
        maxmem = re.search(r"Max Memory Used:\s*([\d.]+)\s*MB", line)
        if not (rid and dur and billed and mem and maxmem):
            continue
        init = re.search(r"Init Duration:\s*([\d.]+)\s*ms", line)
        restore = re.search(r"Restore Duration:\s*([\d.]+)\s*ms", line)
        trace = re.search(r"XRAY TraceId:\s*(\S+)", line)
        status = re.search(r"Status:\s*(\w+)", line)
        rows.append({
            "request_id": rid.group(1),
            "duration_ms": float(dur.group(1)),
            "billed_duration_ms": float(billed.group(1)),
            "memory_size_mb": float(mem.group(1)),
            "max_memory_used_mb": float(maxmem.group(1)),
            "init_duration_ms": float(init.group(1)) if init else np.nan,
            "restore_duration_ms": float(restore.group(1)) if restore else np.nan,
            "xray_trace_id": trace.group(1) if trace else None,
            "status": status.group(1) if status else None,
        })
    return pd.DataFrame(rows, columns=list(_COLUMNS))


_COLUMNS = {
    "request_id": re.compile(r"RequestId:\s*(\S+)"),
    "duration_ms": re.compile(r"\sDuration:\s*([\d.]+)\s*ms"),
    "billed_duration_ms": re.compile(r"Billed Duration:\s*([\d.]+)\s*ms"),
    "memory_size_mb": re.compile(r"Memory Size:\s*([\d.]+)\s*MB"),
    "max_memory_used_mb": re.compile(r"Max Memory Used:\s*([\d.]+)\s*MB"),
    "init_duration_ms": re.compile(r"Init Duration:\s*([\d.]+)\s*ms"),
    "restore_duration_ms": re.compile(r"Restore Duration:\s*([\d.]+)\s*ms"),
    "xray_trace_id": re.compile(r"XRAY TraceId:\s*(\S+)"),
    "status": re.compile(r"Status:\s*(\w+)"),
}
_REQUIRED = ("request_id", "duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb")
_NUMBERS = ("duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
            "init_duration_ms", "restore_duration_ms")


def baseline_compiled(lines) -> pd.DataFrame:
    """The same loop with the patterns compiled once: what a performance-minded user writes."""
    rows = []
    for line in lines:
        if not isinstance(line, str) or "REPORT RequestId:" not in line:
            continue
        row = {}
        for name, pattern in _COLUMNS.items():
            m = pattern.search(line)
            row[name] = m.group(1) if m else None
        if any(row[name] is None for name in _REQUIRED):
            continue
        for name in _NUMBERS:
            row[name] = float(row[name]) if row[name] is not None else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(_COLUMNS))


# -- run ----------------------------------------------------------------------------------------------------
def _time_rounds(parsers: dict, lines, rounds: int) -> tuple[dict, dict]:
    """Best wall time of each parser over ``rounds`` rounds; the parsers take turns within a round, so a
    burst of load from other processes hits them alike. Returns (best times, one result of each)."""
    best = dict.fromkeys(parsers, math.inf)
    results = {}
    for _ in range(rounds):
        for name, fn in parsers.items():
            results.pop(name, None)
            gc.collect()
            t0 = time.perf_counter()
            out = fn(lines)
            best[name] = min(best[name], time.perf_counter() - t0)
            results[name] = out
            del out
    return best, results


def _same(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    problems = []
    if len(a) != len(b):
        return [f"row count {len(a)} != {len(b)}"]
    for name in _NUMBERS:
        if not np.array_equal(a[name].to_numpy(float), b[name].to_numpy(float), equal_nan=True):
            problems.append(name)
    for name in ("request_id", "xray_trace_id", "status"):
        left = a[name].astype(object).where(a[name].notna(), None).tolist()
        right = b[name].astype(object).where(b[name].notna(), None).tolist()
        if left != right:
            problems.append(name)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="number of log lines (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--spaced", type=float, default=SPACED,
                    help=f"share of REPORT lines separated by spaces instead of tabs (default {SPACED})")
    ap.add_argument("--repeat", type=int, default=3, help="timing rounds; each parser's best round is kept (default 3)")
    ap.add_argument("--reports-only", action="store_true",
                    help="keep only REPORT lines (what filter_log_events with the pattern REPORT returns)")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.repeat < 1:
        ap.error("--lines and --repeat must be >= 1")

    t0 = time.perf_counter()
    if not 0 <= args.spaced <= 1:
        ap.error("--spaced must be between 0 and 1")
    if args.reports_only:
        pool = generate(args.lines * 3 + 1000, args.seed, args.spaced)
        lines = [x for x in pool if isinstance(x, str) and x.startswith("REPORT")][: args.lines]
    else:
        lines = generate(args.lines, args.seed, args.spaced)
    print(f"generated {len(lines):,} {'REPORT ' if args.reports_only else ''}lines in {time.perf_counter() - t0:.1f} s")

    parsers = {"parse_reports": logs.parse_reports, "baseline (re.search)": baseline,
               "baseline (compiled)": baseline_compiled}
    for fn in parsers.values():                  # warm-up: lazy imports, regex caches
        fn(lines[:2000])
    best, results = _time_rounds(parsers, lines, args.repeat)
    fast = results["parse_reports"]
    failed = False
    for name, seconds in best.items():
        note = f"{len(results[name]):,} reports"
        if name == "parse_reports":
            note += f", attrs={dict(fast.attrs)}"
        else:
            problems = _same(fast, results[name])
            if problems:
                note += f"; MISMATCH with parse_reports: {', '.join(problems)}"
                failed = True
        print(f"{name:21s}: {seconds:7.3f} s  {len(lines) / seconds:12,.0f} lines/s  ({note})")
    if failed:
        return 1
    print("results identical: yes")
    t_fast = best["parse_reports"]
    print(f"speedup vs compiled-pattern baseline: {best['baseline (compiled)'] / t_fast:.1f}x")
    speedup = best["baseline (re.search)"] / t_fast
    print(f"speedup: {speedup:.1f}x (goal >= {GOAL:g}x)")
    return 0 if speedup >= GOAL else 2


if __name__ == "__main__":
    sys.exit(main())
