"""Long per-function tables on a page: the top rows by dollars, and one line saying how many rows there are in
all and which file holds every one of them (written beside the page by :func:`lambda_workbook.report.save_table`).

A page never embeds a table of every function: with 10,000 functions it would be tens of megabytes and slow to
open. :func:`cap` keeps the first ``n`` rows in dollar order; :func:`note` is the line a reader sees;
:func:`show` displays both through :mod:`lambda_workbook.tables` (which pages and searches up to ``n`` rows in
the browser, offline). Skins only: no file is read or written here, a file is named by its name alone.
"""

from __future__ import annotations

import html as _html
import os
from pathlib import Path

import pandas as pd

from . import tables


def cap(data: pd.DataFrame, n: int, *, by: str | None = None) -> pd.DataFrame:
    """The first ``n`` rows of ``data``, largest ``by`` first (missing values last; ties keep their order);
    ``by=None`` keeps the table's own order (already ranked)."""
    if n < 1:
        raise ValueError(f"rows to show must be at least 1, got {n!r}")
    if by is not None:
        if by not in data.columns:
            raise KeyError(f"no column {by!r} to order by; the table has {list(data.columns)}")
        data = data.sort_values(by, ascending=False, na_position="last", kind="stable")
    return data.head(n)


def by_cost(data: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """``data`` (one row per function: ``account_id``, ``region``, ``function_name``) costliest first, by the
    ``monthly_usd`` of the cost table ``costs``; functions it does not price last, in their order."""
    key = ["account_id", "region", "function_name"]
    usd = data[key].merge(costs[key + ["monthly_usd"]].drop_duplicates(key), on=key, how="left")["monthly_usd"]
    order = usd.fillna(float("-inf")).to_numpy()
    return data.iloc[pd.Series(-order).argsort(kind="stable").to_numpy()].reset_index(drop=True)


def note(shown: int, total: int, *, noun: str = "functions", order: str = "by monthly cost",
         file: str | os.PathLike | None = None) -> str | None:
    """``"200 of 10,000 functions shown, by monthly cost; the full table is in x.csv"`` (None when every row is
    shown). ``file``: the CSV beside the page (its name only is printed: no local path on a page)."""
    if shown >= total:
        return None
    where = (f"the full table is in {Path(file).name}" if file else
             "the full table is saved as CSV beside the page when the notebook runs with results_path set")
    return f"{shown:,} of {total:,} {noun} shown, {order}; {where}"


def note_html(text: str, file: str | os.PathLike | None = None) -> str:
    """The note as one line of HTML, the file's name a relative link to the CSV beside the page."""
    out = _html.escape(text)
    if file:
        name = _html.escape(Path(file).name)
        out = out.replace(name, f"<a href=\"{name}\">{name}</a>", 1)
    return f"<p class=\"wb-message wb-capped\"><em>{out}</em></p>"


def html(data: pd.DataFrame | str, n: int, *, by: str | None = None, noun: str = "functions",
         order: str = "by monthly cost", file: str | os.PathLike | None = None, **spec) -> str:
    """The top ``n`` rows of ``data`` (:func:`cap`) as a report table, preceded by :func:`note` when rows are
    left out; ``spec`` goes to :func:`lambda_workbook.tables.html`; a message (``data`` a string) as itself."""
    if not isinstance(data, pd.DataFrame):
        return tables.message_html(data)
    shown = cap(data, n, by=by)
    line = note(len(shown), len(data), noun=noun, order=order, file=file)
    return (note_html(line, file) + "\n" if line else "") + tables.html(shown, **spec)


def show(data: pd.DataFrame | str, n: int, **how) -> None:
    """Display :func:`html` (the top ``n`` rows, the note, the link to the CSV)."""
    from IPython.display import HTML, display

    display(HTML(html(data, n, **how)))
