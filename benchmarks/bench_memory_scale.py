"""The memory findings at scale: ``memory.recommend_all`` on one snapshot, before and after, side by side.

Each side runs in a fresh process with its own ``lib`` first on the path: it loads the snapshot, prices the
function cost table (shared with the rest of the review, so not counted), then times ``recommend_all`` alone
(wall and CPU seconds, per function). The two tables are then compared cell by cell: the figures must be the
same, so the speed-up is not bought with different findings.

    nice -n 10 .venv/bin/python benchmarks/bench_memory_scale.py --snapshot /tmp/vm-200 --before-lib /work/main/lib

The 1-minute load average is printed beside every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER_LIB = HERE.parent / "lib"


def worker(snapshot_dir: str, out: str) -> None:
    """One measurement in its own process; prints one JSON line and pickles the table to ``out``."""
    from lambda_workbook import costs, memory, sources

    snap = sources.load("sample") if snapshot_dir == "sample" else sources.load("snapshot", snapshot_path=snapshot_dir)
    costs.function_costs(snap)
    wall, cpu = time.perf_counter(), time.process_time()
    table = memory.recommend_all(snap)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    table.to_pickle(out)
    n = int(len(snap.functions))
    print(json.dumps({"functions": n, "rows": int(len(table)), "memory_s": wall, "memory_cpu_s": cpu,
                      "per_function_s": wall / max(n, 1), "load_avg": os.getloadavg()[0]}))


def measure(lib: Path, snapshot_dir: str, out: str, timeout_s: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(lib)}
    cmd = [sys.executable, __file__, "--worker", "--snapshot", snapshot_dir, "--out", out]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"failed": f"timed out after {timeout_s:.0f} s", "load_avg": os.getloadavg()[0]}
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    if p.returncode or not lines:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"failed": f"rc {p.returncode}: {tail}", "load_avg": os.getloadavg()[0]}
    return json.loads(lines[-1])


def same_tables(a: str, b: str) -> str:
    """'identical', or the first column that differs."""
    import pandas as pd

    x, y = pd.read_pickle(a), pd.read_pickle(b)
    try:
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    except AssertionError as exc:
        return "differ: " + str(exc).strip().splitlines()[0]
    return "identical"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--snapshot", required=True, help="a snapshot directory, or 'sample'")
    ap.add_argument("--before-lib", default="", help="the lib directory of the code to compare against")
    ap.add_argument("--timeout", type=float, default=3600.0, help="give up on one run after this many seconds")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        worker(a.snapshot, a.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        before_out, after_out = str(Path(tmp) / "before.pkl"), str(Path(tmp) / "after.pkl")
        b = measure(Path(a.before_lib), a.snapshot, before_out, a.timeout) if a.before_lib else None
        r = measure(AFTER_LIB, a.snapshot, after_out, a.timeout)
        same = same_tables(before_out, after_out) if b and "failed" not in b and "failed" not in r else "—"
    print("| functions | before: memory s | after: memory s | before: s/function | after: s/function | speed-up | "
          "before: CPU s | after: CPU s | load (before/after) | tables |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def cell(x, key, fmt):
        return "—" if x is None else x.get("failed", "") if "failed" in x else format(x[key], fmt)

    speed = (f"{b['memory_s'] / r['memory_s']:.1f}x" if b and "failed" not in b and "failed" not in r else "—")
    n = r.get("functions", b.get("functions", "?") if b else "?")
    print(f"| {n} | {cell(b, 'memory_s', '.1f')} | {cell(r, 'memory_s', '.1f')} | {cell(b, 'per_function_s', '.3f')} | "
          f"{cell(r, 'per_function_s', '.3f')} | {speed} | {cell(b, 'memory_cpu_s', '.1f')} | "
          f"{cell(r, 'memory_cpu_s', '.1f')} | {cell(b, 'load_avg', '.1f')} / {cell(r, 'load_avg', '.1f')} | {same} |")


if __name__ == "__main__":
    main()
