"""The one formatting layer for every table a notebook or a review page shows.

A table is a DataFrame plus, per column, a *kind* (see :data:`KINDS`), inferred from the column's name and dtype
and overridable with ``kinds=``. `great_tables <https://posit-dev.github.io/great-tables/>`_ formats the values
(currency and integers with thousands separators, percentages) and renders the HTML; tables longer than
:data:`LONG_ROWS` rows are shown with `itables <https://mwouts.github.io/itables/>`_ in its offline mode (its
DataTables bundle is embedded once per kernel, nothing is loaded from a CDN) so they can be sorted and searched.

The rules every table follows: no scientific notation; no bare ``nan``/``None``/``True``/``inf``/``NaT`` (a
missing value is :data:`MISSING`, a boolean ``yes``/``no``, an infinite number ``unbounded``); no pandas index
column; text wraps and is never cut; nothing wider than a report page (a table with more than
:data:`MAX_COLUMNS` columns, or that cannot wrap into :data:`PAGE_PX`, is split in parts that repeat its key
column, or the caller picks the key columns with ``columns=`` and a note names the columns left out).

Entry points: :func:`show` (display), :func:`table` (an object whose HTML is the table: a cell can end with it),
:func:`pairs` (label/value tables), :func:`message` (one line of text) and :func:`setup`, which makes every
DataFrame a notebook displays go through this module.
"""

from __future__ import annotations

import hashlib
import html as _html
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .findings import DEPRECATED_ALIASES
from .table_kinds import (  # noqa: F401 - part of this module's interface
    KINDS,
    LABELS,
    MISSING,
    NUMERIC_KINDS,
    UNBOUNDED,
    cell_text,
    cents_or_more,
    date_text,
    infer_kind,
    is_missing,
    label,
    number_text,
    pair_text,
)

MAX_COLUMNS = 16      # more columns than this (or wider than PAGE_PX): the table is split in parts
PAGE_PX = 1300        # the width a table may take on a 1,400 px report page
WORD_CHARS = 16       # words up to this long never break across lines; longer ones (ids, paths) may
LONG_ROWS = 60        # more rows than this: an interactive (sortable, searchable) table
_CSS = """
#{id} .gt_table {{ max-width: 100%; margin-left: 0; }}
#{id} .gt_col_heading {{ white-space: normal; overflow-wrap: break-word; font-weight: 600; vertical-align: bottom; }}
#{id} .gt_row {{ white-space: normal; overflow-wrap: anywhere; vertical-align: top; }}
#{id} .gt_row.gt_right {{ white-space: nowrap; overflow-wrap: normal; font-variant-numeric: tabular-nums; }}
#{id} .gt_sourcenote {{ white-space: normal; }}
"""

def _frame(data: pd.DataFrame | pd.Series, index: bool | None) -> pd.DataFrame:
    """A copy without an index column: a meaningful (named or non-range) index becomes the first column."""
    df = data.to_frame() if isinstance(data, pd.Series) else data
    if hasattr(df, "data") and not isinstance(df, pd.DataFrame):   # a pandas Styler
        df = df.data
    df = df.copy()
    df.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else c for c in df.columns]
    keep = index if index is not None else not (isinstance(df.index, pd.RangeIndex) and df.index.name is None)
    names = [n if n is not None else "" for n in df.index.names]
    if keep and not any(n in df.columns for n in names if n):
        df.index.names = [n if n not in df.columns else f"{n} " for n in names]
        return df.reset_index()
    return df.reset_index(drop=True)


def prepare(data: pd.DataFrame | pd.Series, *, columns: Iterable[str] | None = None,
            kinds: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
            index: bool | None = None) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """The table to render (chosen ``columns``, no index), each column's kind and label."""
    df = _frame(data, index)
    if columns is not None:
        wanted = list(columns)
        unknown = [c for c in wanted if c not in df.columns]
        if unknown:
            raise KeyError(f"no column(s) {unknown} to show; the table has {list(df.columns)}")
        df = df[wanted]
    else:   # a deprecated copy of a findings column (``function`` = ``function_name``) is shown once
        df = df.drop(columns=[old for old, new in DEPRECATED_ALIASES.items() if old in df and new in df])
    kinds = dict(kinds or {})
    bad = {c: k for c, k in kinds.items() if k not in KINDS}
    if bad:
        raise ValueError(f"unknown column kind(s) {bad}; allowed: {', '.join(KINDS)}")
    kind = {c: kinds.get(c) or infer_kind(c, df[c]) for c in df.columns}
    for c, k in kind.items():
        if k in NUMERIC_KINDS and not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = pd.to_numeric(df[c], errors="coerce")
        if k == "bool":
            df[c] = df[c].map(lambda v: None if is_missing(v) else "yes" if bool(v) else "no")
        elif k == "date":
            df[c] = pd.to_datetime(df[c], errors="coerce").map(lambda v: None if is_missing(v) else date_text(v))
        elif k == "text":
            df[c] = df[c].map(cell_text).astype(object)
        elif k in NUMERIC_KINDS:
            df[c] = df[c].astype(float)
    names = {c: (labels or {}).get(c) or label(c, kind[c]) for c in df.columns}
    return df, kind, names


def _groups(values: pd.Series, edges: Iterable[tuple[float, Any]]) -> dict[Any, list[int]]:
    """Row positions of the finite values by the first edge whose bound their magnitude reaches."""
    out: dict[Any, list[int]] = {}
    for i, v in enumerate(values.to_numpy(float)):
        if not np.isfinite(v):
            continue
        a = abs(v)
        for bound, key in edges:
            if a >= bound or a == 0:
                out.setdefault(key, []).append(i)
                break
        else:
            out.setdefault(("sig", min(12, 1 - math.floor(math.log10(a)))), []).append(i)
    return out


def _format(g, col: str, kind: str, values: pd.Series):
    """great_tables formatters for one column of ``kind``."""
    if kind == "usd":
        by_decimals: dict[int, list[int]] = {}
        for i, v in enumerate(values.to_numpy(float)):
            if np.isfinite(v):
                by_decimals.setdefault(cents_or_more(v), []).append(i)
        for decimals, rows in by_decimals.items():
            g = g.fmt_currency(columns=col, rows=rows, currency="USD", decimals=decimals)
    elif kind == "int" or (kind == "mb" and _whole(values)):
        g = g.fmt_integer(columns=col, rows=_finite_rows(values))
    elif kind == "prob":
        for key, rows in _groups(values, [(0.1, 0), (0.01, 1)]).items():
            decimals = key if isinstance(key, int) else min(6, max(1, key[1] - 2))
            g = g.fmt_percent(columns=col, rows=rows, decimals=decimals, drop_trailing_zeros=True)
    elif kind == "pct":
        for key, rows in _groups(values, [(10, 1), (0.1, 2)]).items():
            decimals = key if isinstance(key, int) else key[1]
            g = g.fmt_number(columns=col, rows=rows, decimals=decimals, drop_trailing_zeros=True, pattern="{x}%")
    else:   # num, ms, fractional mb
        for key, rows in _groups(values, [(1000, 0), (100, 1), (1, 2)]).items():
            decimals = key if isinstance(key, int) else min(12, key[1] + 1)
            g = g.fmt_number(columns=col, rows=rows, decimals=decimals, drop_trailing_zeros=key != 0)
    inf = [i for i, v in enumerate(values.to_numpy(float)) if np.isinf(v)]
    if inf:
        g = g.fmt(lambda _: UNBOUNDED, columns=col, rows=inf)
    return g


def _whole(values: pd.Series) -> bool:
    v = values.to_numpy(float)
    v = v[np.isfinite(v)]
    return bool(np.allclose(v, np.round(v)))


def _finite_rows(values: pd.Series) -> list[int]:
    return [i for i, v in enumerate(values.to_numpy(float)) if np.isfinite(v)]


def _table_id(df: pd.DataFrame, names: Mapping[str, str], title: str | None) -> str:
    digest = hashlib.sha1(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes()
                          + repr((list(names.values()), title)).encode()).hexdigest()
    return "wbt-" + digest[:10]


def great_table(df: pd.DataFrame, kind: Mapping[str, str], names: Mapping[str, str], *,
                title: str | None = None, note: str | None = None):
    """A great_tables ``GT`` of a :func:`prepare`\\ d table (formatted, labelled, wrapped, left-aligned)."""
    import great_tables as gt

    tid = _table_id(df, names, title)
    g = gt.GT(df).with_id(tid)
    for c in df.columns:
        if kind[c] in NUMERIC_KINDS:
            g = _format(g, c, kind[c], df[c])
    numeric = [c for c in df.columns if kind[c] in NUMERIC_KINDS or _number_like(df[c])]
    text = [c for c in df.columns if c not in numeric]
    if numeric:
        g = g.cols_align("right", columns=numeric)
    if text:
        g = g.cols_align("left", columns=text)
    widths = "\n".join(f"#{tid} .gt_table td:nth-child({i}) {{ min-width: {_min_chars(df, c, kind[c]) * 7.6 + 2:.0f}px; }}"
                       for i, c in enumerate(df.columns, 1) if c not in numeric)
    g = (g.sub_missing(missing_text=MISSING).cols_label(**{c: names[c] for c in df.columns})
         .tab_options(table_font_size="13px", table_margin_left="0px", data_row_padding="4px",
                      column_labels_padding="4px", heading_align="left", table_width="auto",
                      container_overflow_x="visible")
         .opt_css(_CSS.format(id=tid) + widths))
    if title:
        g = g.tab_header(title=title)
    if note:
        g = g.tab_source_note(note)
    return g


_NUMBER_LIKE = re.compile(r"^[−+-]?\$?[\d,]*\.?\d+ ?(%|MB|ms|s|x)?$")


def _number_like(values: pd.Series) -> bool:
    """A text column whose every value reads as one number (already formatted upstream)."""
    present = [v for v in values if v is not None and v != ""]
    return bool(present) and all(_NUMBER_LIKE.match(str(v)) for v in present)


def _min_chars(df: pd.DataFrame, col: str, kind: str) -> int:
    """The characters a column's cells need on one line: a whole number, or its longest word (capped)."""
    values = [v for v in df[col] if v is not None]
    if kind in NUMERIC_KINDS:
        finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
        return len(number_text(max(finite))) + 2 if finite else 4
    if _number_like(df[col]):
        return max(len(str(v)) for v in values)
    return min(max((len(w) for v in values for w in str(v).split()), default=4), WORD_CHARS)


def _min_px(df: pd.DataFrame, col: str, kind: str, name: str) -> float:
    """About the narrowest a column gets when its text wraps (numbers never wrap), at 13 px type, padding
    included."""
    head = max((len(w) for w in str(name).split()), default=1) * 7.6
    return max(head, _min_chars(df, col, kind) * 7.6) + 12


def _parts(df: pd.DataFrame, kind: Mapping[str, str], names: Mapping[str, str], key: list[str],
           max_columns: int, page_px: float) -> list[list[str]]:
    """The columns in groups that fit the page (at most ``max_columns`` each), each starting with ``key``."""
    cols = list(df.columns)
    px = {c: _min_px(df, c, kind[c], names[c]) for c in cols}
    if len(cols) <= max_columns and sum(px.values()) <= page_px:
        return [cols]
    rest = [c for c in cols if c not in key]
    budget = page_px - sum(px[c] for c in key)
    n = max(2, math.ceil(sum(px[c] for c in rest) / max(budget, 1.0)), math.ceil(len(rest) / max(1, max_columns - len(key))))
    size = math.ceil(len(rest) / n)
    return [key + rest[i:i + size] for i in range(0, len(rest), size)]


def html(data: pd.DataFrame | pd.Series, *, columns: Iterable[str] | None = None,
         kinds: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
         key: Iterable[str] | None = None, title: str | None = None, note: str | None = None,
         index: bool | None = None, interactive: bool | None = None, max_columns: int = MAX_COLUMNS) -> str:
    """The HTML of ``data`` as report tables (see the module's rules). ``columns`` picks and orders the columns
    (the rest is named in a note); ``kinds``/``labels`` override per column; ``key`` are the columns repeated
    when a wide table is split (default: the first column when it is text); ``interactive`` forces or refuses
    the sortable/searchable table (default: longer than :data:`LONG_ROWS` rows)."""
    full = _frame(data, index)
    df, kind, names = prepare(full, columns=columns, kinds=kinds, labels=labels, index=False)
    left_out = [label(c, infer_kind(c, full[c])) for c in full.columns if c not in df.columns]
    if left_out:
        extra = f"Not shown: {', '.join(left_out)}."
        note = f"{note} {extra}" if note else extra
    if df.empty and not len(df.columns):
        return message_html(note or "(nothing to show)")
    if df.empty:
        return message_html(f"No rows{': ' + title if title else ''}.")
    if interactive if interactive is not None else len(df) > LONG_ROWS:
        return _interactive_html(df, kind, names, title=title, note=note)
    cols = list(df.columns)
    key = list(key) if key is not None else cols[:1] if cols and kind[cols[0]] == "text" else []
    parts = _parts(df, kind, names, key, max_columns, PAGE_PX)
    out = []
    for i, part in enumerate(parts):
        t = title if i == 0 else (f"{title} (continued)" if title else None)
        n = note if i == len(parts) - 1 else None
        out.append(great_table(df[part], kind, names, title=t, note=n).as_raw_html())
    return "\n".join(out)


_itables_ready = False


def _interactive_html(df: pd.DataFrame, kind: Mapping[str, str], names: Mapping[str, str], *,
                      title: str | None, note: str | None) -> str:
    """An itables (DataTables) table of the great_tables-formatted values, offline: the first one in a kernel
    carries the DataTables bundle."""
    global _itables_ready
    from itables import javascript as itjs
    from itables import to_html_datatable

    body = great_table(df, kind, names)._build_data("html")._body.body
    shown = pd.DataFrame({names[c]: body[c].to_numpy() for c in df.columns})
    parts = []
    if not _itables_ready:
        parts.append(itjs.generate_init_offline_itables_html(itjs.opt.dt_bundle))
        _itables_ready = True
    if title:
        parts.append(f"<p><strong>{_html.escape(title)}</strong></p>")
    parts.append(to_html_datatable(shown, connected=False, allow_html=True, showIndex=False, pageLength=25,
                                   lengthMenu=[25, 100, 500], autoWidth=False, classes="display compact wrap",
                                   columnDefs=[{"className": "dt-right" if kind[c] in NUMERIC_KINDS else "dt-left",
                                                "targets": i} for i, c in enumerate(df.columns)]))
    if note:
        parts.append(f"<p><em>{_html.escape(note)}</em></p>")
    return "\n".join(parts)


class Table:
    """A formatted table: its HTML is what Jupyter and the reports show (``_repr_html_``)."""

    def __init__(self, data, **spec):
        self.data, self.spec = data, spec

    def _repr_html_(self) -> str:
        return html(self.data, **self.spec)

    def __repr__(self) -> str:
        return f"<table of {len(self.data)} rows>"


def table(data: pd.DataFrame | pd.Series, **spec) -> Table:
    """``data`` as a report table (see :func:`html` for the options); a cell may end with it."""
    return Table(data, **spec)


def show(data: pd.DataFrame | pd.Series | Table | str | None, **spec) -> None:
    """Display ``data`` as a report table (a string or None: as a one-line message)."""
    from IPython.display import HTML, display

    if data is None or isinstance(data, str):
        message(data or "")
    elif isinstance(data, Table):
        display(HTML(html(data.data, **{**data.spec, **spec})))
    else:
        display(HTML(html(data, **spec)))


def pairs(rows: Mapping[str, Any] | Iterable[tuple[str, Any]] | pd.DataFrame | pd.Series, *,
          title: str | None = None, names: tuple[str, str] = ("", "value")) -> Table:
    """A two-column label/value table (a summary, a description, one row of results); values formatted one by
    one (numbers without exponent, yes/no, missing as :data:`MISSING`)."""
    if isinstance(rows, pd.DataFrame):
        rows = rows.iloc[:, 0] if rows.shape[1] == 1 else rows.iloc[0]
    items = list(rows.items()) if isinstance(rows, Mapping | pd.Series) else list(rows)
    df = pd.DataFrame({names[0]: [label(k) for k, _ in items], names[1]: [pair_text(k, v) for k, v in items]})
    return Table(df, kinds={names[0]: "text", names[1]: "text"}, title=title)


def message_html(text: str) -> str:
    return f"<p class=\"wb-message\">{_html.escape(str(text))}</p>"


def message(text: str) -> None:
    """Display one line of text (not a quoted string repr)."""
    from IPython.display import HTML, display

    display(HTML(message_html(text)))


def _styler_frame(styler) -> pd.DataFrame:
    df = styler.data
    hidden = getattr(styler, "hide_index_", None)
    return df.reset_index(drop=True) if hidden and all(hidden) else df


def setup() -> None:
    """Make every DataFrame, Series and Styler a notebook displays a report table (idempotent; nothing outside
    IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    from pandas.io.formats.style import Styler

    formatter = ip.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, lambda df: html(df))
    formatter.for_type(pd.Series, lambda s: html(s))
    formatter.for_type(Styler, lambda s: html(_styler_frame(s)))
