"""Cold-start analysis CPU per function, before and after, side by side, and whether the two agree.

Each side runs in its own process on one snapshot directory (a Parquet replica, e.g. 100 or 1,000 functions):
``coldstarts.analyse(snap)`` then ``coldstarts.findings(snap)``, timed with ``time.process_time`` (every thread
of the process), with the 1-minute load average beside each figure: the machine is shared. "before" runs the
code of another checkout (``--before-lib``, e.g. the ``main`` branch's ``lib``), "after" this checkout's. The
two sides' tables and the analysis table's ``attrs`` are then compared: strings, booleans and integers exactly,
numbers to 1e-12 relative (NaN where the other has NaN).

    nice -n 10 .venv/bin/python benchmarks/bench_coldstarts_cpu.py --snapshot DIR --before-lib /work/main/lib
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER_LIB = HERE.parent / "lib"
REL = 1e-12


def worker(snapshot_dir: str, out: str) -> None:
    """One side, in its own process: load, analyse, findings; pickles the tables and the CPU seconds."""
    from lambda_workbook import coldstarts, sources

    snap = sources.load_snapshot(snapshot_dir)
    cpu0 = time.process_time()
    table = coldstarts.analyse(snap)
    cpu1 = time.process_time()
    found = coldstarts.findings(snap)
    cpu2 = time.process_time()
    with open(out, "wb") as f:
        pickle.dump({"analyse": table, "attrs": dict(table.attrs), "findings": found, "functions": len(snap.functions),
                     "analyse_cpu": cpu1 - cpu0, "findings_cpu": cpu2 - cpu1, "load": os.getloadavg()[0]}, f)


def differences(a, b, name: str) -> list[str]:
    """Where two tables disagree beyond the rule above (empty: they agree)."""
    import numpy as np
    import pandas as pd

    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return [f"{name}: columns or rows differ ({a.shape} vs {b.shape})"]
    out = []
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if pd.api.types.is_float_dtype(a[c]) and pd.api.types.is_float_dtype(b[c]):
            nx, ny = np.isnan(x), np.isnan(y)
            close = np.isclose(x, y, rtol=REL, atol=0.0) | (x == y) | (nx & ny)
            if not close.all():
                i = int(np.flatnonzero(~close)[0])
                out.append(f"{name}.{c}: row {i} {x[i]!r} vs {y[i]!r}")
        elif not all(u == v or (u != u and v != v) for u, v in zip(x, y, strict=True)):
            out.append(f"{name}.{c}: values differ")
    return out


def same_attrs(a, b) -> bool:
    """Two tables' ``attrs`` agree: the same keys and strings, numbers to 1e-12 relative (the calibration's
    median errors are logs of modelled counts, so they carry the counts' last-digit differences)."""
    import math

    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_attrs(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL, abs_tol=0.0)
    return a == b


def run_side(lib: Path, snapshot_dir: str, tmp: str, label: str) -> dict:
    out = str(Path(tmp) / f"{label}.pkl")
    env = dict(os.environ, PYTHONPATH=str(lib))
    subprocess.run([sys.executable, __file__, "--worker", snapshot_dir, out], env=env, check=True)
    with open(out, "rb") as f:
        return pickle.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", required=True, help="a snapshot directory (e.g. a Parquet replica)")
    parser.add_argument("--before-lib", required=True, help="the lib directory of the code to compare against")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sides = {label: run_side(lib, args.snapshot, tmp, label)
                 for label, lib in (("before", Path(args.before_lib)), ("after", AFTER_LIB))}
    n = sides["after"]["functions"]
    print(f"{args.snapshot}: {n} functions")
    print("| side | analyse CPU ms/function | findings CPU ms/function (after analyse) | total ms/function | load |")
    print("|---|---|---|---|---|")
    for label, s in sides.items():
        a, f = s["analyse_cpu"] / n * 1e3, s["findings_cpu"] / n * 1e3
        print(f"| {label} | {a:.1f} | {f:.1f} | {a + f:.1f} | {s['load']:.2f} |")
    before, after = sides["before"], sides["after"]
    bad = differences(before["analyse"], after["analyse"], "analyse") + \
        differences(before["findings"], after["findings"], "findings")
    if not same_attrs(before["attrs"], after["attrs"]):
        bad.append(f"analyse attrs differ: {before['attrs']!r} vs {after['attrs']!r}")
    print("outputs: " + ("the same (numbers within 1e-12 relative)" if not bad else "; ".join(bad)))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
