"""`make review` on the sample account: the pack as it was (every notebook loads the snapshot and computes its
analysis again; deep dives for the top 5 functions wherever their data has something to show) against the pack
now (the analysis computed once and handed to the notebooks as a bundle; deep dives for the top functions whose
findings a notebook explains, exactly those notebooks). Both run in this process one after the other, through
:func:`lambda_workbook.pack.build` with the default options and the machine's cores as workers.

* ``before``: ``cache=False`` (no memo in the engine, no bundle: each notebook loads and computes) and the old
  plan, rebuilt here from the old rules (:func:`legacy_jobs`);
* ``new plan, no cache``: today's plan with ``cache=False``, to tell the two changes apart;
* ``now``: the defaults.

    .venv/bin/python benchmarks/bench_pack.py [--keep DIR] [--skip-middle]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambda_workbook import pack, review, sources

LEGACY_TOP = 5
_READS = {k for k, c in review.CHECKS.items() if c.module == "reads"}
_COLD = {k for k, c in review.CHECKS.items() if c.module == "coldstarts"}


def _legacy_relevant(notebook: str, key: tuple, snapshot, ids: set[str]) -> bool:
    """The old rule: a deep dive wherever the function's data has something for it to show."""
    def rows(table: str):
        return snapshot.for_function(table, key[2], account_id=key[0], region=key[1])

    if notebook == "read_what_you_need":
        calls = rows("calls")
        reads = calls["service"].isin(["s3", "dynamodb"]) & calls["operation"].str.contains("Get|Query|Scan|Select")
        return bool(ids & _READS) or bool(reads.any())
    if notebook == "cold_starts":
        return bool(ids & _COLD) or bool(rows("triggers")["sync"].any())
    if notebook == "invocation_sources":
        return bool(len(rows("triggers")))
    return True


def legacy_jobs(snapshot, found):
    """The old plan: account reviews, then every available deep dive its data makes relevant for the top 5."""
    def edit(planned: list[pack.Job]) -> list[pack.Job]:
        jobs = [j for j in planned if j.kind == "account"]
        base = {k: v for k, v in jobs[0].parameters.items()
                if k in ("source", "snapshot_path", "profile", "lookback_days")}
        chosen = pack.select_functions(snapshot, found, top=LEGACY_TOP)
        ids = {k: set(g["id"]) for k, g in found.groupby(["account_id", "region", "function_name"])}
        for r in chosen.itertuples():
            key = (r.account_id, r.region, r.function_name)
            for nb in pack.available_deep_dives():
                if _legacy_relevant(nb, key, snapshot, ids.get(key, set())):
                    jobs.append(pack.Job(nb, f"{nb} — {r.function_name}",
                                         f"{r.account_id}/{r.region}/{r.function_name}/{nb}",
                                         {**base, "region": r.region, "function": r.function_name, "analysis_path": ""},
                                         *key, kind="deep-dive"))
        return jobs
    return edit


def run(out: Path, name: str, **options) -> tuple[float, pack.Pack]:
    start = time.perf_counter()
    result = pack.build(out=str(out), run=name, progress=False, **options)
    return time.perf_counter() - start, result


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="write the packs here (default: a temporary folder, removed)")
    ap.add_argument("--skip-middle", action="store_true", help="skip the 'new plan, no cache' run")
    args = ap.parse_args()
    out = Path(args.keep or tempfile.mkdtemp(prefix="bench-pack-"))
    print(f"cores {pack.default_workers()}, load average before {os.getloadavg()[0]:.2f}")
    print(f"import lambda_workbook.params: {import_seconds('lambda_workbook.params'):.2f} s")

    snap = sources.sample()
    os.environ["LAMBDA_WORKBOOK_CACHE"] = "0"
    found = review.run(snap).findings        # for the old plan only (not timed)
    os.environ.pop("LAMBDA_WORKBOOK_CACHE")
    rows = []
    configs = [("before", dict(cache=False, jobs=legacy_jobs(snap, found))),
               ("new plan, no cache", dict(cache=False)), ("now", {})]
    if args.skip_middle:
        configs = [configs[0], configs[2]]
    for name, options in configs:
        wall, result = run(out, name.replace(" ", "-").replace(",", ""), **options)
        s = result.seconds
        failed = len(result.failed)
        rows.append((name, wall, s.get("findings", 0.0), s.get("notebooks", 0.0), len(result.jobs), failed,
                     sum(j.seconds for j in result.jobs)))
        print(f"{name:20s} wall {wall:6.1f} s  findings {s.get('findings', 0):5.1f} s  notebooks {s.get('notebooks', 0):6.1f}"
              f" s  ({len(result.jobs)} notebooks, {failed} failed, {rows[-1][-1]:.1f} s of notebook time)", flush=True)
    print()
    print("| run | wall | findings engine | notebooks (wall) | notebooks | notebook time (sum) |")
    print("|---|---|---|---|---|---|")
    for name, wall, findings, notebooks, n, failed, total in rows:
        print(f"| {name} | {wall:.1f} s | {findings:.1f} s | {notebooks:.1f} s | {n}{f' ({failed} failed)' if failed else ''}"
              f" | {total:.1f} s |")
    before, now = rows[0][1], rows[-1][1]
    print(f"\nwall time: before {before:.1f} s, now {now:.1f} s: {before / now:.2f}x faster "
          f"(goal: now <= 60 s: {'met' if now <= 60 else 'NOT met'})")
    print(f"load average after {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
