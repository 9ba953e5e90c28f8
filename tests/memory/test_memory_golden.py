"""``memory.recommend_all`` on the sample account stays what it was before the memory pass was made faster.

``data/sample_memory_golden.csv`` holds every row of ``memory.recommend_all`` on the embedded sample account as
the code before the speed-up produced it (written by this file's ``--write`` from the ``main`` branch's code;
``data/README.md`` says how). The test compares the current code's rows with it: the function, the action, every
text (titles, evidence, notes, commands: their dollars are rounded to the cent, so they pin the dollars too)
exactly, and every figure to a relative 1e-9.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from golden import same_number

GOLDEN = Path(__file__).parent / "data" / "sample_memory_golden.csv"
ORDER = ["account_id", "region", "function_name"]


def current() -> pd.DataFrame:
    from lambda_workbook import memory, sources

    return memory.recommend_all(sources.load("sample"))


def numbers(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


def as_table(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    for c in out.columns:
        if c not in numbers(rows):
            out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
        else:
            out[c] = out[c].astype(float)
    return out.sort_values(ORDER, ignore_index=True)


def write(path: Path = GOLDEN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    got = current()
    table = as_table(got)
    header = pd.DataFrame([["number" if c in numbers(got) else "text" for c in table.columns]], columns=table.columns)
    pd.concat([header, table.astype(object)]).to_csv(path, index=False, lineterminator="\n", float_format="%.17g")


def load(path: Path = GOLDEN) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    kinds, df = raw.iloc[0], raw.iloc[1:].reset_index(drop=True)
    for c in df.columns:
        if kinds[c] == "number":
            df[c] = pd.to_numeric(df[c].replace("", math.nan))
    return df


def differences(got: pd.DataFrame, want: pd.DataFrame) -> list[str]:
    """Every difference between two ``recommend_all`` tables, as lines (empty when they agree)."""
    got = as_table(got)
    if list(got.columns) != list(want.columns):
        return [f"columns differ: {list(got.columns)} != {list(want.columns)}"]
    keys = lambda df: list(zip(*(df[c] for c in ORDER), strict=True))  # noqa: E731
    if keys(got) != keys(want.sort_values(ORDER, ignore_index=True)):
        return [f"functions differ: {keys(got)} != {keys(want)}"]
    want = want.sort_values(ORDER, ignore_index=True)
    out = []
    for c in want.columns:
        for i, (g, w) in enumerate(zip(got[c], want[c], strict=True)):
            same = same_number(g, w) if isinstance(w, float) else g == w
            if not same:
                out.append(f"{want.loc[i, 'function_name']} {c}: {g!r} != {w!r}")
    return out


def test_recommend_all_on_the_sample_matches_the_golden_table():
    want = load()
    assert len(want) > 0
    assert not differences(current(), want)


def test_a_changed_figure_or_text_is_reported():
    want = load()
    got = current()
    i = int(got.index[got["function_name"] == want.loc[0, "function_name"]][0])
    changed = got.copy()
    changed.loc[i, "current_monthly_usd"] = changed.loc[i, "current_monthly_usd"] * (1 + 1e-6) + 1e-6
    changed.loc[i, "title"] = changed.loc[i, "title"] + " "
    lines = differences(changed, want)
    assert any("current_monthly_usd" in x for x in lines) and any(" title:" in x for x in lines)


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit(pytest.main([__file__, "-q"]))
    write()
    print(f"wrote {GOLDEN}")
