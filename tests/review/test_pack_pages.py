"""The review pack's pages as a reviewer sees them: opened from disk in a real Chromium at 1,400 px, every table
reads like a report (no exponents, no Python reprs or bare nan/None/True cells, no cut text, no index column,
nothing wider than the page). A failing page is screenshotted under ``tests/artifacts/browser-failures/``.

Needs Debian's ``chromium`` and the ``playwright`` package, like ``test_browser.py`` (skipped without, except
under ``CI=true``). ``LAMBDA_WORKBOOK_PAGES=<run dir>`` checks an existing pack (e.g. ``reports/<run>``) instead of
building one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from lambda_workbook import pack, tables

FAILURES = ROOT / "tests" / "artifacts" / "browser-failures"
FUNCTION = "inventory-report"   # the sample function every deep dive is relevant to
KINDS = ("account_review", "memory", "cold_starts", "invocation_sources", "read_what_you_need")
pytestmark = pytest.mark.browser

#: What a page must not show; run in the page, returns one line per problem.
CHECKS = r"""() => {
  const bad = [];
  const text = document.body.innerText;
  const sci = text.match(/\d\.\d+e[+-]\d+/gi);
  if (sci) bad.push('scientific notation: ' + [...new Set(sci)].slice(0, 5).join(', '));
  for (const r of ['PosixPath(', 'WindowsPath(', 'array(', '<function', 'Timestamp(', '<pandas.',
                   'Traceback (most recent call last)'])
    if (text.includes(r)) bad.push('Python repr or traceback: ' + r);
  const BARE = new Set(['nan', 'NaN', 'None', 'True', 'False', 'inf', '-inf', 'NaT', '<NA>', 'null', 'undefined']);
  const cells = [...document.querySelectorAll('td, th')];
  const bare = [...new Set(cells.map(c => c.innerText.trim()).filter(t => BARE.has(t)))];
  if (bare.length) bad.push('bare cells: ' + bare.join(', '));
  const cut = cells.map(c => c.innerText.trim()).filter(t => t.includes('…') || t.endsWith('...'));
  if (cut.length) bad.push('text cut in cells: ' + cut.slice(0, 3).map(t => t.slice(-50)).join(' | '));
  const quoted = [...document.querySelectorAll('.jp-OutputArea-output pre')].map(p => p.innerText.trim())
    .filter(t => /^(['"]).*\1$/s.test(t));
  if (quoted.length) bad.push('a quoted string repr: ' + quoted[0].slice(0, 80));
  const index = [...document.querySelectorAll('table')].filter(t => {
    const heads = [...t.querySelectorAll('tbody tr > th:first-child')].map(h => h.innerText.trim());
    return heads.length > 1 && heads.every((h, i) => h === String(i) || h === String(i + 1));
  });
  if (index.length) bad.push(index.length + ' table(s) with a pandas index column');
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width)
    bad.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px > ' + width + ' px');
  for (const t of document.querySelectorAll('table')) {
    let el = t.parentElement, clipped = false;
    while (el && el !== document.body) {
      const s = getComputedStyle(el);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && el.scrollWidth > el.clientWidth + 2) { clipped = true; break; }
      el = el.parentElement;
    }
    const r = t.getBoundingClientRect();
    if (clipped || r.right > width + 1)
      bad.push('a table wider than the page (' + Math.round(r.width) + ' px, ' + (t.rows[0] ? t.rows[0].cells.length : 0)
               + ' columns): ' + (t.innerText || '').slice(0, 60).replace(/\s+/g, ' '));
  }
  return bad;
}"""


@pytest.fixture(scope="session")
def built_pack(chromium, sample_snapshot, tmp_path_factory):
    """The sample account's pack with one function's deep dives (all five kinds of page), built once."""
    given = os.environ.get("LAMBDA_WORKBOOK_PAGES")
    if given:
        run = Path(given)
        pages = {"index": run / "index.html"}
        for html_path in sorted(run.glob("*/*/**/*.html")):
            pages.setdefault(html_path.stem, html_path)
        return None, pages
    out = tmp_path_factory.mktemp("pages")
    result = pack.build(loaded=sample_snapshot, out=str(out), run="r1", top=1, functions=FUNCTION, deep_dives="all",
                        workers=2, progress=False)
    pages = {"index": result.index}
    for job in result.jobs:
        if job.has_html and (job.kind == "account" or job.function_name == FUNCTION):
            pages.setdefault(job.name, result.run_dir / f"{job.out}.html")
    return result, pages


def open_page(browser, path: Path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.route("http*://**", lambda route: route.abort())   # reports are offline: nothing may come from the network
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    return context, page


def check_page(browser, path: Path, name: str) -> None:
    context, page = open_page(browser, path)
    try:
        found = page.evaluate(CHECKS)
        if found:
            FAILURES.mkdir(parents=True, exist_ok=True)
            shot = FAILURES / f"{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            pytest.fail(f"{path.name} ({name}):\n  " + "\n  ".join(found) + f"\nscreenshot: {shot}")
    finally:
        context.close()


@pytest.mark.parametrize("kind", ("index", *KINDS))
def test_pack_page_reads_like_a_report(chromium, built_pack, kind):
    result, pages = built_pack
    jobs = [(j.name, j.status, j.error) for j in result.jobs] if result else []
    assert kind in pages, f"the pack made no {kind} page: {jobs}"
    check_page(chromium, pages[kind], kind)


def _bad_frame(rows: int = 3) -> pd.DataFrame:
    """Every value today's pages got wrong."""
    base = pd.DataFrame({
        "function_name": ["orders-api", "billing-java", "pdf-render"], "monthly_impact_usd": [700.0, 3.39e-2, np.nan],
        "invocations_per_month": [6.26e6, 335.0, 1.11e4], "memory_mb": [3008.0, 128.0, np.nan],
        "probability": [0.94, 1.8e-4, np.nan], "cold %": [3.43, 0.0, np.inf], "current": [True, False, None],
        "evidence": ["x " * 80, None, "REPORT lines"], "window_s": [np.inf, 0.0, 1.5],
        "first_seen": pd.to_datetime(["2026-11-01 00:00", None, "2026-11-02 10:30"]),
        **{f"extra_{i}_usd": [1.0e-6 * i, 1.5e5, 2.0] for i in range(12)}})
    return pd.concat([base] * (rows // 3 + 1), ignore_index=True).head(rows)


def _page(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>",
                    encoding="utf-8")
    return path


def test_the_checks_catch_what_pandas_shows(chromium, tmp_path):
    """The checks are not vacuous: pandas' own HTML of a bad frame fails them."""
    path = _page(tmp_path, _bad_frame().to_html() + "<div class='jp-OutputArea-output'><pre>'a quoted repr'</pre></div>")
    context, page = open_page(chromium, path)
    try:
        found = "\n".join(page.evaluate(CHECKS))
    finally:
        context.close()
    for problem in ("bare cells", "index column", "quoted string repr", "wider than the page"):
        assert problem in found, (problem, found)


def test_a_bad_frame_through_the_formatting_layer_reads_like_a_report(chromium, tmp_path):
    check_page(chromium, _page(tmp_path, tables.html(_bad_frame())), "tables-bad-frame")


def test_a_long_table_is_sortable_and_searchable_offline(chromium, tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "_itables_ready", False)   # a fresh page: as in a new kernel, it carries the bundle
    body = tables.html(_bad_frame(200)[["function_name", "monthly_impact_usd", "invocations_per_month", "current"]])
    path = _page(tmp_path, body)
    context, page = open_page(chromium, path)
    try:
        page.wait_for_selector("table.dataTable tbody tr", timeout=15_000)
        assert page.locator("table.dataTable tbody tr").count() == 25, "one page of rows, not all 200"
        search = page.locator(".dt-search input, .dataTables_filter input").first
        search.fill("billing")
        page.wait_for_timeout(300)
        shown = page.locator("table.dataTable tbody tr").all_inner_texts()
        assert shown and all("billing-java" in r for r in shown), shown[:3]
        assert "$0.034" in shown[0] and "yes" not in shown[0] and "no" in shown[0].split()
        assert not page.evaluate(CHECKS)
    finally:
        context.close()
