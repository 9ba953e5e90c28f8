"""The review pack of a wide account stays readable: the index lists the top findings with a line saying how many
more and where they all are, the account review shows the top rows of each per-function table with the true
total and writes every row to a CSV beside the page; the sample's index still lists every finding."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_pack_pages import CHECKS, open_page

from lambda_workbook import index_page, pack, review
from lambda_workbook.sample import replicate

FUNCTIONS = 300
ROWS = 80                    # the account review's table_rows for this pack (its default is 200); over
                             # tables.LONG_ROWS, so the tables are the browser-paged kind
ACCOUNT = "111122223333"
DATA_ROW = re.compile(r"<tr><td>(\d+)</td>")


@pytest.fixture(scope="module")
def wide_pack(tmp_path_factory):
    """A 300-function, one-account copy of the sample and its pack, with the account review only."""
    root = tmp_path_factory.mktemp("wide")
    snapshot = replicate.replicate(FUNCTIONS, root / "snapshot", days=3, accounts=(ACCOUNT,))

    def account_review_only(planned):
        jobs = [j for j in planned if j.name == "account_review"]
        for j in jobs:
            j.parameters["table_rows"] = ROWS
        return jobs

    return pack.build(source="snapshot", snapshot=str(snapshot), jobs=account_review_only, out=str(root / "out"),
                      run="wide", workers=1, progress=False)


def _table(html: str, heading_id: str) -> str:
    start = html.index(f"<h2 id='{heading_id}'>")
    return html[start:html.index("</table>", start)]


def test_the_index_lists_the_top_findings_and_says_how_many_more(wide_pack):
    html = wide_pack.index.read_text()
    total = len(wide_pack.findings)
    limit = index_page.INDEX_ROWS
    assert total > limit, "the wide account must have more findings than the index lists"
    part = _table(html, "findings")
    numbers = [int(n) for n in DATA_ROW.findall(part)]
    assert numbers == list(range(1, limit + 1))
    assert f"The top {limit:,} of {total:,} findings are listed here ({total - limit:,} more)" in part
    assert "href='findings.csv'" in part and "href='findings.md'" in part
    # the rows listed are the first of the ranking, the CSV beside holds them all
    ranked = review.rank(wide_pack.findings)
    assert pd.read_csv(wide_pack.run_dir / "findings.csv").shape[0] == total
    titles = re.findall(r"<td><b>(.*?)</b> <code>(.*?)</code>", part)
    assert [t[1] for t in titles] == list(ranked["id"].head(limit))
    risks = review.risks(wide_pack.findings)
    if len(risks) > limit:
        assert f"The top {limit:,} of {len(risks):,} risks" in _table(html, "risks")
    assert len(DATA_ROW.findall(_table(html, "risks"))) == min(limit, len(risks))
    assert "Spend<b>$" in html and "Savings, counted once<b>up to $" in html     # the cards as before


def test_the_account_review_shows_the_top_rows_and_writes_every_row_beside_it(wide_pack):
    job = next(j for j in wide_pack.jobs if j.name == "account_review")
    assert job.status == "ok", job.error
    page = (wide_pack.run_dir / f"{job.out}.html").read_text()
    here = (wide_pack.run_dir / job.out).parent
    for name in ("costs", "inventory"):
        assert f"{ROWS} of {FUNCTIONS:,} functions shown, by monthly cost; the full table is in " \
               f"<a href=\"account_review.{name}.csv\">account_review.{name}.csv</a>" in page
        assert len(pd.read_csv(here / f"account_review.{name}.csv")) == FUNCTIONS
    found = pd.read_csv(here / "account_review.findings.csv")
    assert len(found) == len(wide_pack.findings) > ROWS
    assert f"{ROWS} of {len(found):,} findings shown, by dollars" in page
    assert str(wide_pack.run_dir.parent) not in page.split("account_review.costs.csv")[0][-400:]   # no local path
    # the cost table embeds the costliest ROWS functions and no other: a name past them is on no row of it
    costs = pd.read_csv(here / "account_review.costs.csv").sort_values("total ($/mo)", ascending=False, kind="stable")
    start = page.index("functions shown, by monthly cost; the full table is in <a href=\"account_review.costs.csv\"")
    table = page[start:page.index("account_review.inventory.csv", start)]
    listed = {f for f in costs["function"] if re.search(rf'[">]{re.escape(f)}\\?["<]', table)}   # a cell, or JSON
    assert listed == set(costs["function"].head(ROWS))
    assert f"the costliest {ROWS} of {FUNCTIONS:,} functions" in page   # the duration scatter says it is capped


def test_the_sample_index_still_lists_every_finding(sample_snapshot, tmp_path):
    built = pack.build(loaded=sample_snapshot, jobs=[], out=str(tmp_path), run="s", workers=1, progress=False)
    html = built.index.read_text()
    assert len(DATA_ROW.findall(_table(html, "findings"))) == len(built.findings) == 27
    assert len(DATA_ROW.findall(_table(html, "risks"))) == len(review.risks(built.findings))
    assert "class='small more'" not in html


@pytest.mark.browser
def test_the_wide_account_review_pages_its_top_rows_in_a_browser(chromium, wide_pack):
    job = next(j for j in wide_pack.jobs if j.name == "account_review")
    context, page = open_page(chromium, wide_pack.run_dir / f"{job.out}.html")
    try:
        page.wait_for_selector("table.dataTable tbody tr", timeout=30_000)
        assert not page.evaluate(CHECKS)                     # reads like a report: no index column, nothing cut
        info = page.locator(".dt-info, .dataTables_info").all_inner_texts()
        assert any(f"of {ROWS} entries" in t for t in info), info   # the browser holds the top rows only
        note = page.locator(".wb-capped", has_text="functions shown").first   # the cost table's note
        assert note.inner_text().startswith(f"{ROWS} of {FUNCTIONS:,} functions shown")
        assert note.locator("a").get_attribute("href") == "account_review.costs.csv"
    finally:
        context.close()
