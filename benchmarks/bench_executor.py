"""The review pack on this machine against the same pack on a Dask LocalCluster, side by side.

Runs ``lambda-workbook review --source sample`` twice as subprocesses, one after the other: ``--executor local``
(the default: the engine's two biggest models on two cores, notebooks in a process pool) and
``--executor dask-local:N`` (one task per (account, region) partition, one per notebook, on N worker processes).
Prints each wall time with the 1-minute load average before and after, the phases' seconds from ``review.json``,
and whether the two findings CSVs are byte for byte the same.

    .venv/bin/python benchmarks/bench_executor.py [--workers 2] [--top 10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(out: Path, executor: str, top: int) -> dict:
    cmd = [sys.executable, "-m", "lambda_workbook.cli", "review", "--source", "sample", "--out", str(out),
           "--top", str(top), "--executor", executor, "--quiet"]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{executor}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    record = json.loads((run_dir / "review.json").read_text())
    return {"executor": executor, "wall": wall, "load_before": load, "load_after": os.getloadavg()[0],
            "seconds": record["seconds"], "notebooks": len(record["notebooks"]),
            "failed": sum(n["status"] != "ok" for n in record["notebooks"]), "csv": (run_dir / "findings.csv")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers (default 2)")
    ap.add_argument("--top", type=int, default=10, help="functions to deep-dive (default 10, the pack's default)")
    ap.add_argument("--keep", help="keep the two packs in this folder")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-executor-"))
    try:
        rows = [run(root / "local", "local", args.top), run(root / "dask", f"dask-local:{args.workers}", args.top)]
        print(f"sample account, --top {args.top}, {os.cpu_count()} cores")
        print(f"{'executor':<14} {'wall s':>7} {'load 1-min before/after':>24} {'findings s':>10} "
              f"{'notebooks s':>11} {'notebooks':>9} {'failed':>6}")
        for r in rows:
            s = r["seconds"]
            print(f"{r['executor']:<14} {r['wall']:>7.1f} {r['load_before']:>11.2f}/{r['load_after']:<12.2f} "
                  f"{s.get('findings', 0):>10.1f} {s.get('notebooks', 0):>11.1f} {r['notebooks']:>9} {r['failed']:>6}")
        same = rows[0]["csv"].read_bytes() == rows[1]["csv"].read_bytes()
        print(f"findings.csv identical: {same}; dask/local wall: {rows[1]['wall'] / rows[0]['wall']:.2f}x")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
