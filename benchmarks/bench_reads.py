"""Read model: does calibrating the network beat the documented assumption, what parsing costs on this machine,
and how fast the model runs.

1. Calibration accuracy. No public throughput-vs-memory curve exists, so the model ships an assumption
   (75 MB/s at 1,769 MB, square-root growth, x0.5-x2 band) and ``reads.calibrate_network``. Here hidden "true"
   curves of different shapes produce noisy transfer timings at four memory sizes; the fitted model and the
   uncalibrated assumption then predict transfer times at five sizes nobody measured. Printed: median absolute
   error of each, and how often the truth falls inside each one's band.
2. Parse cost on this machine (CPython, one core) for JSON lines and CSV, next to the default 20 ms/MB.
3. Speed: read units of a million-item Scan, one ``s3_options`` call, findings on the sample account.

Run: ``.venv/bin/python benchmarks/bench_reads.py`` (a few seconds).
"""

from __future__ import annotations

import csv
import io
import json
import math
import time

import numpy as np

from lambda_workbook import reads, sources

MEASURED_MB = (512, 1024, 2048, 3008)
UNSEEN_MB = (128, 256, 4096, 8192, 10240)
OBJECTS_MB = (5.0, 20.0, 80.0)
NOISE = 0.15      # log-normal sigma of a measured transfer time
REPEATS = 3


def truths() -> dict[str, callable]:
    """Hidden throughput curves (MB/s by memory) the benchmark pretends are real."""
    return {
        "power 0.3 (flat), 60 MB/s": lambda m: 60.0 * (m / reads.VCPU_MB) ** 0.3,
        "power 0.8 (steep), 40 MB/s": lambda m: 40.0 * (m / reads.VCPU_MB) ** 0.8,
        "saturating at 90 MB/s": lambda m: 90.0 * (1 - math.exp(-m / 1200.0)),
        "default-like, 110 MB/s": lambda m: 110.0 * (m / reads.VCPU_MB) ** 0.5,
    }


def calibration_accuracy(rng: np.random.Generator) -> None:
    base = reads.DEFAULT_NETWORK
    print("1. Calibration vs the documented assumption (transfer time at unmeasured memory sizes)")
    print(f"   measured at {MEASURED_MB} MB, objects {OBJECTS_MB} MB x{REPEATS}, noise sigma {NOISE}; "
          f"predicted at {UNSEEN_MB} MB")
    print(f"   {'true curve':<30}{'assumed: median err':>22}{'in band':>9}{'calibrated: median err':>25}{'in band':>9}")
    all_default, all_fitted = [], []
    for name, curve in truths().items():
        rows = [{"memory_mb": m, "mb": mb,
                 "ms": base.request_ms + mb / curve(m) * 1000.0 * rng.lognormal(0.0, NOISE)}
                for m in MEASURED_MB for mb in OBJECTS_MB for _ in range(REPEATS)]
        fitted = reads.calibrate_network(rows)
        errs = {"assumed": [], "calibrated": []}
        inside = {"assumed": 0, "calibrated": 0}
        for m in UNSEEN_MB:
            for mb in OBJECTS_MB:
                true_ms = mb / curve(m) * 1000.0
                for label, net in (("assumed", base), ("calibrated", fitted)):
                    pred = net.transfer_ms(mb, m)
                    errs[label].append(abs(pred - true_ms) / true_ms)
                    lo, hi = net.transfer_ms(mb, m, "high"), net.transfer_ms(mb, m, "low")
                    inside[label] += lo <= true_ms <= hi
        n = len(UNSEEN_MB) * len(OBJECTS_MB)
        all_default += errs["assumed"]
        all_fitted += errs["calibrated"]
        print(f"   {name:<30}{np.median(errs['assumed']):>21.0%} {inside['assumed'] / n:>8.0%}"
              f"{np.median(errs['calibrated']):>24.0%} {inside['calibrated'] / n:>8.0%}")
    ratio = np.median(all_default) / np.median(all_fitted)
    print(f"   overall median error: assumed {np.median(all_default):.0%}, calibrated {np.median(all_fitted):.0%} "
          f"-> calibration {ratio:.1f}x more accurate")


def parse_speed(rng: np.random.Generator) -> None:
    levels = np.array(["INFO", "INFO", "WARN", "ERROR"])
    lines = [json.dumps({"ts": f"2026-11-01T00:00:{i % 60:02d}", "level": str(levels[rng.integers(4)]),
                         "msg": "x" * int(rng.integers(40, 160)), "req": i}) for i in range(100_000)]
    text = "\n".join(lines)
    mb = len(text) / 2**20
    t = time.process_time()        # CPU time: steadier than wall time on a shared machine
    kept = [row for row in map(json.loads, text.splitlines()) if row["level"] == "ERROR"]
    json_ms = (time.process_time() - t) * 1000 / mb
    buf = io.StringIO()
    w = csv.writer(buf)
    for i in range(200_000):
        w.writerow([i, "2026-11-01", rng.random(), "abc" * 10, "ABC"[int(rng.integers(3))]])
    data = buf.getvalue()
    cmb = len(data) / 2**20
    t = time.process_time()
    kept_csv = [r for r in csv.reader(io.StringIO(data)) if r[4] == "A"]
    csv_ms = (time.process_time() - t) * 1000 / cmb
    print("2. Parse CPU time on this machine (CPython, one core; Lambda's vCPU at 1,769 MB is comparable, not equal)")
    print(f"   json lines: {json_ms:.1f} ms/MB ({mb:.1f} MB, kept {len(kept):,} rows); "
          f"csv: {csv_ms:.1f} ms/MB ({cmb:.1f} MB, kept {len(kept_csv):,}); model default {reads.PARSE_MS_PER_MB:g} ms/MB")


def speed() -> None:
    print("3. Speed")
    sizes = np.full(1_000_000, 1.5)
    t = time.perf_counter()
    units = reads.dynamodb_read_units("scan", sizes, consistency="eventual")
    print(f"   dynamodb_read_units, Scan of 1,000,000 items: {(time.perf_counter() - t) * 1000:.0f} ms "
          f"({units:,.1f} units)")
    reads.s3_options(40, 0.02, 30_000)
    t = time.perf_counter()
    for _ in range(20):
        reads.s3_options(40, 0.02, 30_000)
    print(f"   s3_options: {(time.perf_counter() - t) * 1000 / 20:.1f} ms per call")
    snap = sources.sample()
    t = time.perf_counter()
    found = reads.findings(snap)
    print(f"   findings on the sample account: {time.perf_counter() - t:.2f} s ({len(found)} findings)")


def main() -> None:
    rng = np.random.default_rng(20261127)
    calibration_accuracy(rng)
    parse_speed(rng)
    speed()


if __name__ == "__main__":
    main()
