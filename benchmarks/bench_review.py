"""Review pack: 20 per-function notebooks run one after another vs in the process pool, and the pack's size with
one shared plotly.js vs plotly.js inlined in every page.

Both runs go through the same code (:func:`lambda_workbook.pack.build` on the sample account, the deep dives
``memory`` and ``invocation_sources`` of the ten functions with the most finding impact, no account reviews):
``workers=1`` executes them in this process one by one, ``workers=<cores>`` in a pool of spawned processes.
The inlined size is measured by rendering the same executed notebooks again with the bundle put back, as
plotly's notebook renderer writes it.

    .venv/bin/python benchmarks/bench_review.py [--functions 10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from lambda_workbook import pack, report, sources


def deep_dives_only(planned):
    return [j for j in planned if j.kind == "deep-dive"]


def run(out: Path, name: str, workers: int, functions: int, snapshot) -> tuple[float, pack.Pack]:
    start = time.perf_counter()
    result = pack.build(loaded=snapshot, jobs=deep_dives_only, out=str(out), run=name, top=functions,
                        deep_dives="memory,invocation_sources", workers=workers, progress=False)
    return time.perf_counter() - start, result


def inline_again(ipynb: Path, html: Path) -> int:
    """Render an executed pack notebook with plotly.js inlined (as without the shared file); returns bytes."""
    import plotly.offline

    nb = nbformat.read(str(ipynb), as_version=4)
    bundle = ("<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
              f"<script type=\"text/javascript\">{plotly.offline.get_plotlyjs()}</script>\n")
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/html", "")
            if pack.PLOTLY_FILE in str(text) and "<script" in str(text):
                out["data"]["text/html"] = bundle
    tmp = html.with_suffix(".inline.ipynb")
    nbformat.write(nb, str(tmp))
    page = report.to_html(tmp, html.with_suffix(".inline.html"))
    size = page.stat().st_size
    tmp.unlink()
    page.unlink()
    return size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=10, help="functions (two notebooks each; default 10 = 20)")
    ap.add_argument("--keep", help="keep the two packs in this folder")
    args = ap.parse_args()
    snapshot = sources.sample()
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-review-"))
    cores = pack.default_workers()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, pool of {cores} worker(s); load average before "
          f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")
    t_seq, seq = run(out, "sequential", 1, args.functions, snapshot)
    t_pool, pool = run(out, "pool", cores, args.functions, snapshot)
    n = len(pool.jobs)
    nb_seq = seq.seconds["notebooks"]
    nb_pool = pool.seconds["notebooks"]
    print(f"\n1. {n} function notebooks ({len(seq.failed)}/{len(pool.failed)} failed)")
    print(f"   sequential: {nb_seq:7.1f} s notebooks ({nb_seq / n:.1f} s each), {t_seq:7.1f} s whole pack")
    print(f"   pool of {cores}:  {nb_pool:7.1f} s notebooks, {t_pool:7.1f} s whole pack")
    print(f"   speed-up: {nb_seq / nb_pool:.2f}x on the notebooks, {t_seq / t_pool:.2f}x on the whole pack "
          f"(goal >= 1.6x); mean notebook in the pool {sum(j.seconds for j in pool.jobs) / n:.1f} s")

    pages = [pool.run_dir / f"{j.out}.html" for j in pool.jobs if j.has_html]
    notebooks = [pool.run_dir / f"{j.out}.ipynb" for j in pool.jobs if j.has_html]
    shared_js = (pool.run_dir / pack.PLOTLY_FILE).stat().st_size
    html_shared = sum(p.stat().st_size for p in pages)
    html_inline = sum(inline_again(nb, p) for nb, p in zip(notebooks, pages, strict=True))
    ipynb = sum(p.stat().st_size for p in notebooks)
    mb = 1024 * 1024
    print(f"\n2. pack size, {len(pages)} pages (plotly.js {shared_js / mb:.2f} MB)")
    print(f"   shared plotly.js: pages {html_shared / mb:6.1f} MB + one plotly.min.js = "
          f"{(html_shared + shared_js) / mb:6.1f} MB ({html_shared / len(pages) / 1024:,.0f} KB a page)")
    print(f"   inlined:          pages {html_inline / mb:6.1f} MB ({html_inline / len(pages) / 1024:,.0f} KB a page)")
    print(f"   inlined / shared: {html_inline / (html_shared + shared_js):.1f}x; executed notebooks kept beside the "
          f"pages {ipynb / mb:.1f} MB (explorer widget state and the inlined bundle stripped)")
    load = os.getloadavg()
    print(f"\nload average after {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
