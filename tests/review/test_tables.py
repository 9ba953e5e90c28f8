"""lambda_workbook.tables: the one formatting layer every notebook table goes through (its HTML, without a browser;
tests/review/test_pack_pages.py looks at the rendered pages)."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import tables

CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
HEAD = re.compile(r"<th[^>]*>(.*?)</th>", re.S)
BARE = {"nan", "NaN", "None", "True", "False", "inf", "-inf", "NaT", "<NA>"}


def cells(markup: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in CELL.findall(markup)]


def heads(markup: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in HEAD.findall(markup)]


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "function_name": ["orders-api", "billing-java", "pdf-render"],
        "monthly_impact_usd": [700.0, 0.0339, np.nan], "invocations_per_month": [6.26e6, 335.0, 11_100.0],
        "memory_mb": [3008.0, 128.0, np.nan], "probability": [0.94, 0.00018, np.nan],
        "cold %": [3.43, 0.0, 0.018], "current": [True, False, None], "window_s": [np.inf, 0.0, 1.5],
        "$/read": [1.36e-6, 2.9e-5, 0.09], "evidence": ["x " * 60, None, "REPORT lines"]})


def test_kinds_are_inferred_from_names_and_dtypes():
    _, kind, names = tables.prepare(frame())
    assert kind == {"function_name": "text", "monthly_impact_usd": "usd", "invocations_per_month": "int",
                    "memory_mb": "mb", "probability": "prob", "cold %": "pct", "current": "bool", "window_s": "num",
                    "$/read": "usd", "evidence": "text"}
    assert names["memory_mb"] == "memory (MB)" and names["monthly_impact_usd"] == "$/month"
    assert names["window_s"] == "window (s)" and names["function_name"] == "function"
    assert tables.label("mb_per_s") == "MB/s" and tables.label("speed_vs_x86_64") == "speed vs x86_64"
    assert tables.infer_kind("priced", pd.Series([3, 4])) == "int", "a count, not dollars"
    assert tables.infer_kind("monthly_cost", pd.Series([0.5])) == "usd"
    assert tables.infer_kind("failure_rate", pd.Series([2.5])) == "num", "a rate above 1 is not a share"


def test_values_read_like_a_report():
    out = cells(tables.html(frame()))
    for text in ("$700.00", "$0.034", "6,260,000", "335", "3,008", "94%", "0.018%", "3.43%", "yes", "no",
                 "unbounded", "$0.0000014", "$0.09", "x " * 59 + "x"):
        assert text in out, (text, out)
    assert not [c for c in out if c in BARE or re.search(r"\d\.?\d*e[+-]\d", c)], out
    assert tables.MISSING in out and "" not in out[:3]


def test_no_index_column_unless_it_names_the_rows():
    plain = tables.html(frame().set_index(pd.RangeIndex(5, 8)))
    assert not {"5", "6", "7"} & set(cells(plain))
    named = tables.html(pd.DataFrame({"cost_usd": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="option")))
    assert heads(named)[:1] == ["option"] and cells(named)[:2] == ["a", "$1.00"]
    clash = tables.html(pd.DataFrame({"source": ["x", "y"], "n": [1, 2]}, index=pd.Index(["x", "y"], name="source")))
    assert heads(clash) == ["source", "n"], "an index repeating a column is dropped"


def test_picked_columns_name_the_rest_and_wide_tables_split_with_their_key():
    picked = tables.html(frame(), columns=["function_name", "monthly_impact_usd"])
    assert heads(picked) == ["function", "$/month"]
    assert "Not shown: invocations/month, memory (MB)," in html.unescape(picked)
    wide = frame().assign(**{f"extra_{i}_usd": [1.0, 2.0, 3.0] for i in range(14)})
    markup = tables.html(wide)
    parts = markup.count('class="gt_table"')
    assert parts >= 2
    assert heads(markup).count("function") == parts, "each part starts with the key column"
    assert set(heads(markup)) >= {tables.label(c, k) for c, k in tables.prepare(wide)[1].items()}


def test_long_tables_are_interactive_and_offline():
    long = pd.DataFrame({"function": [f"f{i}" for i in range(tables.LONG_ROWS + 1)],
                         "cost_usd": np.linspace(0, 1e6, tables.LONG_ROWS + 1)})
    markup = tables.html(long)
    assert "new ITable" in markup and "$1,000,000.00" in markup
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", markup), "nothing from a CDN"
    assert "showIndex" not in markup or '"showIndex": false' in markup.replace("False", "false")
    assert "new ITable" not in tables.html(long.head(tables.LONG_ROWS))


def test_pairs_messages_and_bad_specs():
    best = pd.Series({"batch_size": 20, "source_cost": 0.306, "feasible": True, "reason": "", "window_s": 1.0,
                      "probability": 0.92, "lower_bound": False})
    out = cells(tables.html(tables.pairs(best).data, **tables.pairs(best).spec))
    assert out == ["batch size", "20", "source cost", "$0.31", "feasible", "yes", "reason", tables.MISSING,
                   "window (s)", "1", "probability", "92%", "lower bound", "no"]
    assert tables.message_html("a <b> line") == '<p class="wb-message">a &lt;b&gt; line</p>'
    with pytest.raises(ValueError, match=r"unknown column kind\(s\) \{'a': 'money'\}; allowed: usd, int"):
        tables.prepare(pd.DataFrame({"a": [1]}), kinds={"a": "money"})
    with pytest.raises(KeyError, match=r"no column\(s\) \['b'\] to show"):
        tables.html(pd.DataFrame({"a": [1]}), columns=["b"])


def test_empty_tables_say_so():
    assert "No rows" in tables.html(frame().head(0))
    assert "No rows: Findings" in tables.html(frame().head(0), title="Findings")
