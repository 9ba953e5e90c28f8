"""Scale: load and review 100, 1,000 and 10,000-function Parquet snapshots, side by side with the targets.

The organisation-scale goal is a 10,000-function snapshot (14 days of per-minute metrics, about 200 million
metric rows) reviewed in at most 10 minutes and 4 GB peak memory on 2 cores, and a review whose time grows at
most 120x from 100 to 10,000 functions. Snapshots are written by ``lambda_workbook.sample.replicate`` (renamed
copies of the sample account's functions) and cached under ``--workdir``. Each size is loaded and reviewed
(``review.run``) in a fresh process; its peak memory is the child's own ``VmHWM`` plus, while the review's
worker processes run (:mod:`lambda_workbook.engine.fanout`), the ``VmHWM`` of every live worker, read from /proc
every half second: an upper bound of what the process tree held at once. ``--workers`` sets their number
(``LAMBDA_WORKBOOK_WORKERS``; default automatic: the usable cores for a columnar snapshot of 400 functions or more).
The largest sum of the tree's resident memory seen at one sample is printed beside it (a lower bound: a
spike between two samples is missed). ``--compare-csv`` also times
today's CSV layout of the same tables (the embedded sample and the sizes up to 1,000) against the Parquet one.
Building 10,000 functions takes several minutes (written once, then reused from ``--workdir``).

    nice -n 10 .venv/bin/python benchmarks/bench_scale.py --workdir /tmp/scale --sizes 100,1000 --compare-csv
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS, TARGET_GB, TARGET_RATIO = 600.0, 4.0, 120.0


def child(path: str, review: bool) -> None:
    """Runs in the measured process: one JSON line after loading, one after the review."""
    from lambda_workbook import review as rv
    from lambda_workbook import sources

    start = time.perf_counter()
    snap = sources.load_snapshot(path)
    loaded = time.perf_counter() - start
    lazy = [n for n in ("metrics", "report_samples") if snap.is_lazy(n)]
    print(json.dumps({"load_s": loaded, "lazy": lazy, "functions": len(snap.functions),
                      "rss_kb": _own_peak_kb(), "load_peak_kb": _own_peak_kb()}), flush=True)
    if not review:
        return
    start = time.perf_counter()
    cpu = time.process_time()
    result = rv.run(snap)
    from lambda_workbook.engine import fanout

    print(json.dumps({"review_s": time.perf_counter() - start, "findings": len(result.findings),
                      "cpu_s": time.process_time() - cpu, "worker_cpu_s": _children_cpu_s(),
                      "workers": fanout.processes(snap, len(snap.functions)),
                      "errors": len(result.errors), "rss_kb": _own_peak_kb()}),
          flush=True)


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children (the review's worker processes)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _own_peak_kb() -> int:
    """This process's peak RSS since it started (VmHWM; ``ru_maxrss`` would carry the parent's over ``exec``)."""
    return _status_kb(os.getpid(), "VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc's children lists)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(c) for t in Path(f"/proc/{p}/task").iterdir()
                    for c in (t / "children").read_text().split()]
        except OSError:
            continue
        out += kids
        todo += kids
    return out


def measure(path: Path, timeout: float, review: bool = True, max_gb: float = 8.0,
            env: dict[str, str] | None = None) -> dict:
    """Load (and review) ``path`` in a fresh process; stop it after ``timeout`` seconds or above ``max_gb`` of
    resident memory (the machine is shared: a review that would need far more than the target is stopped)."""
    cmd = [sys.executable, __file__, "--child", str(path)] + ([] if review else ["--no-review"])
    log = Path(tempfile.mkdtemp(prefix="bench-scale-child-"))
    with open(log / "out", "w") as out_fh, open(log / "err", "w") as err_fh:
        proc = subprocess.Popen(cmd, stdout=out_fh, stderr=err_fh, text=True, start_new_session=True,
                                env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
        start, hwm, rss, out = time.perf_counter(), 0, 0, {}
        while proc.poll() is None:
            tree = [proc.pid, *_descendants(proc.pid)]
            hwm = max(hwm, sum(_status_kb(p, "VmHWM") for p in tree))
            now = sum(_status_kb(p, "VmRSS") for p in tree)
            rss = max(rss, now)
            over = now > max_gb * 1e6
            if time.perf_counter() - start > timeout or over:
                os.killpg(proc.pid, 9)
                proc.wait()
                out["stopped_s"] = time.perf_counter() - start
                out["stopped_why"] = f"above {max_gb:g} GB" if over else "timeout"
                break
            time.sleep(0.5)
    for line in (log / "out").read_text().splitlines():
        if line.startswith("{"):
            out.update(json.loads(line))
    out["peak_kb"] = max(hwm, out.get("rss_kb", 0))
    out["tree_rss_kb"] = rss
    if proc.returncode not in (0, -9) and "stopped_s" not in out:
        out["failed"] = (log / "err").read_text().strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
    shutil.rmtree(log, ignore_errors=True)
    return out


def build(workdir: Path, n: int) -> tuple[Path, float | None]:
    from lambda_workbook.sample import replicate

    path = workdir / f"replica-{n}"
    if (path / "manifest.json").exists():
        return path, None
    start = time.perf_counter()
    replicate.replicate(n, path)
    return path, time.perf_counter() - start


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def csv_copy(parquet: Path, dest: Path) -> Path:
    """The same snapshot in the CSV layout (written by DuckDB from the Parquet files, as ``save`` lays it out)."""
    from lambda_workbook import lazytables, schema
    from lambda_workbook.sources import columnar

    if (dest / "manifest.json").exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in parquet.glob("*.csv"):
        shutil.copy(f, tmp / f.name)
    con = lazytables.connect(memory_limit="2GB")
    for name in columnar.COLUMNAR:
        table = schema.TABLES[name]
        cols = ", ".join(f"strftime(\"{c.name}\", '%Y-%m-%dT%H:%M:%SZ') AS \"{c.name}\"" if c.dtype == "datetime"
                         else f'"{c.name}"' for c in table.columns)
        src = columnar.ParquetReader(parquet / name, table, {c.name for c in table.columns}, False).source(False)
        con.execute(f"COPY (SELECT {cols} FROM {src}) TO {lazytables.quote(str(tmp / table.file))} "
                    "(HEADER, COMPRESSION gzip)")
    manifest = json.loads((parquet / "manifest.json").read_text())
    manifest.pop("format", None)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.rename(dest)
    return dest


def _cpu(r: dict) -> float | None:
    """The review's CPU seconds: its own process and its finished worker processes."""
    return r["cpu_s"] + r.get("worker_cpu_s", 0.0) if "cpu_s" in r else None


def _fmt(v, unit="", digits=1) -> str:
    return "—" if v is None else f"{v:,.{digits}f}{unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="functions per snapshot, comma-separated")
    ap.add_argument("--workdir", default=None, help="where snapshots are built and cached (default: a temp dir)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds one size may run before it is stopped")
    ap.add_argument("--max-gb", type=float, default=8.0, help="stop a size whose resident memory passes this (GB)")
    ap.add_argument("--compare-csv", nargs="?", const="1000", default=None, metavar="MAX",
                    help="also time today's CSV layout: the sample and the sizes up to MAX functions (default 1000)")
    ap.add_argument("--workers", default="auto",
                    help="processes for the per-function models: 'auto' (default) or a number (1: one process)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--no-review", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, not args.no_review)
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        path, built = build(workdir, n)
        manifest = json.loads((path / "manifest.json").read_text())
        m = measure(path, args.timeout, max_gb=args.max_gb, env={"LAMBDA_WORKBOOK_WORKERS": args.workers})
        rows.append({"n": n, "metric_rows": manifest["rows"]["metrics"], "mb": disk_bytes(path) / 1e6, "built_s": built,
                     **m, "loadavg": os.getloadavg()[0]})
        r = rows[-1]
        note = (f"stopped after {r['stopped_s']:.0f} s ({r['stopped_why']})" if "stopped_s" in r else
                f"failed: {r['failed'][0]}" if "failed" in r else "")
        print(f"{n:>7,} functions | {r['metric_rows']:>12,} metric rows | {r['mb']:>8.1f} MB | build "
              f"{_fmt(built, ' s')} | load {_fmt(r.get('load_s'), ' s')} | review {_fmt(r.get('review_s'), ' s')} "
              f"({_fmt(_cpu(r), ' CPU s')}, {r.get('workers', '—')} process(es)) | "
              f"memory at once {r.get('tree_rss_kb', 0) / 1e6:.2f} GB | "
              f"peak {r['peak_kb'] / 1e6:.2f} GB (load {r.get('load_peak_kb', 0) / 1e6:.2f} GB) | findings {r.get('findings', '—')} | load avg {r['loadavg']:.1f}"
              + (f" | {note}" if note else ""), flush=True)
    print()
    print("| functions | metric rows | on disk | load | review (review.run) | review CPU | processes | peak RSS "
          "(upper bound) | most RSS at once (sampled) | peak RSS of the load | findings | load avg | note |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        note = (f"stopped after {r['stopped_s']:.0f} s ({r['stopped_why']})" if "stopped_s" in r else
                f"failed: {r['failed'][0]}" if "failed" in r else "")
        print(f"| {r['n']:,} | {r['metric_rows']:,} | {r['mb']:.1f} MB | {_fmt(r.get('load_s'), ' s')} | "
              f"{_fmt(r.get('review_s'), ' s')} | {_fmt(_cpu(r), ' s')} | {r.get('workers', '—')} | "
              f"{r['peak_kb'] / 1e6:.2f} GB | {r.get('tree_rss_kb', 0) / 1e6:.2f} GB | {r.get('load_peak_kb', 0) / 1e6:.2f} GB | "
              f"{r.get('findings', '—')} | "
              f"{r['loadavg']:.1f} | {note} |")
    by = {r["n"]: r for r in rows}
    small, big = by.get(100), by.get(10000)
    total = {n: (r.get("load_s", 0) + r["review_s"]) if "review_s" in r else None for n, r in by.items()}
    ratio = total[10000] / total[100] if small and big and total.get(100) and total.get(10000) else None
    print(f"\ntime(10,000) / time(100), load + review: {_fmt(ratio, 'x')} (target <= {TARGET_RATIO:.0f}x)"
          + ("" if ratio is not None else ": not measured (a size is missing or did not finish)"))
    if big:
        t, gb = total[10000], big["peak_kb"] / 1e6
        print(f"10,000 functions: {_fmt(t, ' s')} (target <= {TARGET_SECONDS:.0f} s: "
              f"{'met' if t is not None and t <= TARGET_SECONDS else 'not met'}), peak {gb:.2f} GB, the upper bound "
              f"(target <= {TARGET_GB:.0f} GB: {'met' if gb <= TARGET_GB and t is not None else 'not met'}); most "
              f"held at once, sampled: {big.get('tree_rss_kb', 0) / 1e6:.2f} GB")
    else:
        print("10,000 functions: not run (add 10000 to --sizes); targets 600 s and 4 GB")
    if args.compare_csv:
        compare_csv(workdir, [n for n in sizes if n <= int(args.compare_csv)], args.timeout, args.max_gb)


def compare_csv(workdir: Path, sizes: list[int], timeout: float, max_gb: float) -> None:
    from lambda_workbook import datafiles, sources

    print("\n| snapshot | layout | on disk | load | peak RSS | tables on disk after load | load avg |")
    print("|---|---|---:|---:|---:|---|---:|")
    sample_pq = workdir / "sample-parquet"
    if not (sample_pq / "manifest.json").exists():
        sources.save(sources.sample(), sample_pq, format="parquet")
    pairs = [("sample (29)", datafiles.sample_account_dir(), sample_pq)]
    pairs += [(f"{n:,} functions", csv_copy(workdir / f"replica-{n}", workdir / f"replica-{n}-csv"),
               workdir / f"replica-{n}") for n in sizes if (workdir / f"replica-{n}" / "manifest.json").exists()]
    for label, csv_dir, pq_dir in pairs:
        for layout, path in (("csv", csv_dir), ("parquet", pq_dir)):
            m = measure(path, timeout, review=False, max_gb=max_gb)
            note = f"stopped after {m['stopped_s']:.0f} s ({m['stopped_why']}) " if "stopped_s" in m else ""
            print(f"| {label} | {layout} | {disk_bytes(path) / 1e6:.1f} MB | {_fmt(m.get('load_s'), ' s', 2)} "
                  f"{note}| {m['peak_kb'] / 1e6:.2f} GB | {', '.join(m.get('lazy', [])) or 'none'} | "
                  f"{os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
