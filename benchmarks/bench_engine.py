"""The findings engine at scale: time and peak memory of ``review.run`` before and after, side by side.

For each size (functions) a fresh process builds the snapshot, times ``review.run`` and exits; its peak resident
memory is read by the process that started it (``getrusage(RUSAGE_CHILDREN)``), so sizes do not share a heap.
"before" runs the code of another checkout (``--before-lib``, e.g. the ``main`` branch's ``lib``), "after" this
checkout's. Sizes are made by replicating the embedded sample account's 29 functions (renamed ``<name>-<k>``,
all tables copied, in memory; ``sample.replicate`` is used when the library has it), or, with ``--snapshot DIR``,
one existing snapshot directory (e.g. a generated Parquet snapshot of 10,000 functions) is reviewed as it is.

    nice -n 10 .venv/bin/python benchmarks/bench_engine.py --sizes 29,100,300 --before-lib /work/main/lib
    nice -n 10 .venv/bin/python benchmarks/bench_engine.py --snapshot snapshots/scale-10000 --no-before

The 1-minute load average is printed beside every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER_LIB = HERE.parent / "lib"


def replicate(snapshot, n_functions: int):
    """``snapshot`` with its functions copied until there are ``n_functions`` (copy k named ``<name>-<k>``)."""
    import pandas as pd

    from lambda_workbook.schema import KEY, Snapshot

    base = snapshot.functions.sort_values(KEY, ignore_index=True)
    copies = -(-n_functions // len(base))
    keep = pd.concat([base.assign(function_name=base["function_name"] + f"-{k}") for k in range(copies)],
                     ignore_index=True).head(n_functions)
    tables = {}
    for name, df in snapshot.tables.items():
        if not set(KEY) <= set(df.columns):
            tables[name] = df
            continue
        parts = [df.assign(function_name=df["function_name"] + f"-{k}") for k in range(copies)]
        out = pd.concat(parts, ignore_index=True)
        tables[name] = out.merge(keep[KEY], on=KEY, how="inner") if len(out) else out
    return Snapshot(dict(snapshot.manifest), tables, None, None)


def worker(size: int, snapshot_dir: str, part: str = "review") -> None:
    """One measurement, in its own process: load (or replicate), then review (or, with ``part="coldstarts"``,
    only ``coldstarts.analyse``); prints one JSON line."""
    from lambda_workbook import coldstarts, review, sources

    start = time.perf_counter()
    if snapshot_dir:
        snap = sources.load("snapshot", snapshot_path=snapshot_dir)
    else:
        from lambda_workbook import sample

        rep = getattr(sample, "replicate", None)
        base = sources.load("sample")
        snap = replicate(base, size) if rep is None or not callable(rep) else _library_replicate(rep, base, size)
    loaded, cpu = time.perf_counter(), time.process_time()
    if part == "coldstarts":
        table = coldstarts.analyse(snap)
        done, cpu = time.perf_counter(), time.process_time() - cpu
        n = int(len(snap.functions))
        print(json.dumps({"functions": n, "metric_rows": _rows(snap, "metrics"), "load_s": loaded - start,
                          "engine_s": done - loaded, "engine_cpu_s": cpu, "findings": int(len(table)), "errors": 0,
                          "load_avg": os.getloadavg()[0], "parts": {"coldstarts ms/function": round(
                              1000 * (done - loaded) / max(n, 1), 1)}}))
        return
    r = review.run(snap)
    done, cpu = time.perf_counter(), time.process_time() - cpu   # CPU of every thread: less sensitive to load
    print(json.dumps({"functions": int(len(snap.functions)), "metric_rows": _rows(snap, "metrics"),
                      "load_s": loaded - start, "engine_s": done - loaded, "engine_cpu_s": cpu, "findings": int(len(r.findings)),
                      "errors": int(len(r.errors)), "load_avg": os.getloadavg()[0],
                      "parts": {k: round(v, 1) for k, v in r.seconds.items() if ":" not in k}}))


def _library_replicate(rep, base, size):
    try:
        return rep(base, size)
    except TypeError:
        return replicate(base, size)


def _rows(snap, name: str) -> int:
    try:
        return int(len(snap.tables[name]))
    except Exception:   # a lazy table that does not know its length
        return -1


def measure(lib: Path, size: int, snapshot_dir: str, timeout_s: float, part: str = "review") -> dict:
    """Run :func:`worker` in a fresh process with ``lib`` first on the path; peak RSS from RUSAGE_CHILDREN."""
    meter = ("import json, resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=float(sys.argv[0] or 0) or None)\n"
             "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-2000:],\n"
             "                  'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")
    env = {**os.environ, "PYTHONPATH": str(lib), "LAMBDA_WORKBOOK_CACHE": "1"}
    cmd = [sys.executable, "-c", meter.replace("sys.argv[0]", repr(str(timeout_s))), sys.executable, __file__,
           "--worker", str(size), "--snapshot", snapshot_dir, "--part", part]
    start = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s + 60)
        res = json.loads(p.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError) as exc:
        return {"failed": f"{type(exc).__name__} after {time.perf_counter() - start:.0f} s",
                "load_avg": os.getloadavg()[0]}
    lines = [x for x in res["out"].splitlines() if x.startswith("{")]
    if res["rc"] != 0 or not lines:
        tail = (res["err"].strip().splitlines() or ["?"])[-1]
        return {"failed": f"rc {res['rc']} after {time.perf_counter() - start:.0f} s: {tail}",
                "load_avg": os.getloadavg()[0]}
    return {**json.loads(lines[-1]), "peak_gb": res["maxrss_kb"] / 1024**2}


def _cell(r: dict | None, key: str, fmt: str) -> str:
    if r is None:
        return "—"
    if "failed" in r:
        return "failed" if key != "engine_s" else r["failed"]
    return format(r[key], fmt)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="29,100,300,1000", help="functions per replicated snapshot, comma-separated")
    ap.add_argument("--snapshot", default="", help="review this snapshot directory instead of replicas")
    ap.add_argument("--before-lib", default="", help="the lib directory of the code to compare against")
    ap.add_argument("--no-before", action="store_true", help="measure this checkout only")
    ap.add_argument("--timeout", type=float, default=1800.0, help="give up on one run after this many seconds")
    ap.add_argument("--part", choices=("review", "coldstarts"), default="review",
                    help="time the whole review (default) or only coldstarts.analyse (engine s = its seconds)")
    ap.add_argument("--worker", type=int, default=-1, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker >= 0:
        worker(a.worker, a.snapshot, a.part)
        return
    sizes = [0] if a.snapshot else [int(x) for x in a.sizes.split(",") if x.strip()]
    before = None if a.no_before or not a.before_lib else Path(a.before_lib)
    print("| functions | metric rows | before: engine s | after: engine s | speed-up | before: engine CPU s | "
          "after: engine CPU s | before: peak GB | after: peak GB | load (before/after) | after: load s | "
          "after: parts (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        b = measure(before, size, a.snapshot, a.timeout, a.part) if before else None
        r = measure(AFTER_LIB, size, a.snapshot, a.timeout, a.part)
        ok = "failed" not in r
        speed = (f"{b['engine_s'] / r['engine_s']:.1f}×" if b and ok and "failed" not in b else "—")
        print(f"| {r.get('functions', size):,} | {r.get('metric_rows', 0) / 1e6:.2f} M | {_cell(b, 'engine_s', '.1f')} | "
              f"{_cell(r, 'engine_s', '.1f')} | {speed} | {_cell(b, 'engine_cpu_s', '.1f')} | "
              f"{_cell(r, 'engine_cpu_s', '.1f')} | {_cell(b, 'peak_gb', '.2f')} | {_cell(r, 'peak_gb', '.2f')} | "
              f"{_cell(b, 'load_avg', '.1f')}/{_cell(r, 'load_avg', '.1f')} | {_cell(r, 'load_s', '.1f')} | "
              f"{r.get('parts', '')} |", flush=True)


if __name__ == "__main__":
    main()
