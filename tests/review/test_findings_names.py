"""The findings' function column is ``function_name``, as in every snapshot table; for one release the public
outputs also carry the former ``function`` column (an exact copy, last), old files still load, and nothing a
reader sees shows the function twice."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lambda_workbook import findings as fx
from lambda_workbook import review, sources, tables


@pytest.fixture(scope="module")
def reviewed():
    return review.run(sources.load("sample"))


def test_the_contract_names_the_function_column_function_name():
    assert "function_name" in fx.COLUMNS and "function" not in fx.COLUMNS
    assert "function_name" in fx.SPEND_COLUMNS and "function" not in fx.SPEND_COLUMNS
    assert fx.DEPRECATED_ALIASES == {"function": "function_name"}


def test_public_findings_carry_the_deprecated_copy_last(reviewed):
    found = reviewed.findings
    assert list(found.columns) == [*fx.COLUMNS, "function"]
    assert found["function"].equals(found["function_name"]) and (found["function_name"] != "").all()
    again = fx.with_deprecated_aliases(found)          # idempotent: one copy, still last
    assert list(again.columns) == list(found.columns) and again.attrs == found.attrs
    assert list(fx.complete(found).columns) == fx.COLUMNS   # inside the library: the contract's columns only


def test_saved_findings_load_with_both_and_an_old_file_loads(reviewed, tmp_path):
    path = review.save(reviewed.findings, tmp_path / "findings.csv")
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert written.columns[-1] == "function" and written["function"].equals(written["function_name"])
    back = review.load(path)
    assert back["function_name"].tolist() == review.rank(reviewed.findings)["function_name"].tolist()
    assert back["function"].equals(back["function_name"])
    old = written.drop(columns=["function_name"])            # a file written before the rename
    old.to_csv(tmp_path / "old.csv", index=False)
    loaded = review.load(tmp_path / "old.csv")
    assert loaded["function_name"].tolist() == written["function"].tolist()
    assert list(loaded.columns) == [*fx.COLUMNS, "function"]
    assert review.totals(loaded).loc["all", "findings"] == len(reviewed.findings)


def test_no_view_page_or_markdown_shows_the_function_twice(reviewed):
    found = reviewed.findings
    assert [c for c in review.view(found).columns if "function" in c] == ["function"]
    md = review.to_markdown(found, spend=reviewed.spend)
    header = next(line for line in md.splitlines() if line.startswith("| # |"))
    assert [c.strip() for c in header.split("|")].count("function") == 1
    heads = re.findall(r"<th[^>]*>(.*?)</th>", tables.html(found.head(3)))
    assert [re.sub("<[^>]+>", "", h).strip() for h in heads].count("function") == 1
    assert tables.prepare(found)[0].columns.tolist().count("function_name") == 1
    assert "function" not in tables.prepare(found)[0].columns
