"""The kinds of table columns and their text: what a column holds (dollars, counts, megabytes, shares...),
inferred from its name and dtype, its readable label, and single values as text without exponents or bare
``nan``/``None``/``True`` (used by :mod:`lambda_workbook.tables`, which renders whole tables)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("usd", "int", "num", "mb", "ms", "pct", "prob", "text", "bool", "date")
MISSING = "–"
UNBOUNDED = "unbounded"
NUMERIC_KINDS = ("usd", "int", "num", "mb", "ms", "pct", "prob")


# column-name hints, checked in this order on the lower-cased name
_HINTS: tuple[tuple[str, str], ...] = (
    (r"prob|likely|confidence", "prob"),
    (r"%|\bpct\b|percent", "pct"),
    (r"\$|usd|\bcost|\bprices?\b|\bfees?\b|saving|saves", "usd"),
    (r"share|fraction|utili[sz]ation|\brate\b", "prob"),
    (r"\bmb\b|memory", "mb"),
    (r"\bms\b|duration|latency", "ms"),
)


def infer_kind(name: Any, values: pd.Series) -> str:
    """The kind of a column from its dtype and name (``"$/month"`` → usd, ``memory_mb`` → mb, ...)."""
    s = values
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if not pd.api.types.is_numeric_dtype(s):
        present = [v for v in s if not is_missing(v)]
        if present and all(isinstance(v, bool | np.bool_) for v in present):
            return "bool"
        if present and all(isinstance(v, pd.Timestamp) for v in present):
            return "date"
        return "text"
    lname = str(name).lower().replace("_", " ")
    finite = s[np.isfinite(s.astype(float))]
    for pattern, kind in _HINTS:
        if re.search(pattern, lname):
            if kind == "prob" and len(finite) and (finite.abs() > 1.0000001).any():
                continue  # a "rate" that is not a fraction
            return kind
    if len(finite) and np.allclose(finite, np.round(finite)):
        return "int"
    return "num"


_UNITS = {"mb": "MB", "ms": "ms", "usd": "$", "pct": "%"}
#: Labels of the column names the findings tables share.
LABELS = {"monthly_impact_usd": "$/month", "monthly_impact_low_usd": "$/month low",
          "monthly_impact_high_usd": "$/month high", "evidence_path": "source", "function_name": "function",
          "account_id": "account"}


def label(name: Any, kind: str = "text") -> str:
    """A readable column label: ``monthly_impact_usd`` → ``monthly impact ($)``, ``memory_mb`` → ``memory (MB)``."""
    text = str(name)
    if text in LABELS:
        return LABELS[text]
    if "_" in text and " " not in text:
        text = text.replace("_per_", "/")
        for suffix, unit in (("_usd", "$"), ("_mb", "MB"), ("_ms", "ms"), ("_pct", "%"), ("_s", "s"), ("_kb", "KB")):
            if text.endswith(suffix):
                text = f"{text[: -len(suffix)]} ({unit})"
                break
        text = text.replace("x86_64", "x86\0").replace("_", " ").replace("x86\0", "x86_64")
    text = re.sub(r"\b(mb|kb|gb)\b", lambda m: m.group(1).upper(), text)
    unit = _UNITS.get(kind)
    if unit and unit not in text and unit.lower() not in text.lower().split() and kind != "usd":
        text = f"{text} ({unit})"
    return text


def is_missing(v: Any) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    return isinstance(v, float | np.floating) and math.isnan(v)


def number_text(v: float) -> str:
    """One number as text without exponent (thousands separated, about 3 significant digits below 1)."""
    if math.isinf(v):
        return UNBOUNDED
    a = abs(v)
    if a >= 1000 or float(v).is_integer():
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    digits = min(12, 2 - math.floor(math.log10(a)))
    return f"{v:.{digits}f}".rstrip("0").rstrip(".")


def cell_text(v: Any) -> str | None:
    """A value of a text (mixed) column as display text; None when missing."""
    if is_missing(v):
        return None
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{v:,}"
    if isinstance(v, float | np.floating):
        return number_text(float(v))
    if isinstance(v, pd.Timestamp):
        return date_text(v)
    if isinstance(v, list | tuple | set | frozenset):
        return ", ".join(t for t in (cell_text(x) for x in v) if t is not None)
    return str(v)


def date_text(v: pd.Timestamp) -> str:
    return f"{v:%Y-%m-%d}" if v == v.normalize() else f"{v:%Y-%m-%d %H:%M}"


def cents_or_more(v: float) -> int:
    """Decimals for a dollar amount: cents, or two significant digits below a dollar ($0.09, $0.0031)."""
    a = abs(v)
    if a >= 0.995 or a == 0:
        return 2
    d = min(10, 1 - math.floor(math.log10(a)))
    while d > 2 and round(a, d - 1) == round(a, d):
        d -= 1
    return max(2, d)


def pair_text(name: Any, v: Any) -> str | None:
    """One value of a label/value table, formatted by the kind its label suggests."""
    if isinstance(v, str):
        return v or None
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_) and not is_missing(v):
        kind = infer_kind(name, pd.Series([v], dtype=float))
        if kind == "usd" and math.isfinite(v):
            return f"{'-' if v < 0 else ''}${abs(v):,.{cents_or_more(v)}f}"
        if kind == "prob" and math.isfinite(v):
            return f"{v:.0%}" if abs(v) >= 0.01 or v == 0 else f"{v:.2%}"
    return cell_text(v)
