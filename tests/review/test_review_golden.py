"""The review's findings on the sample account stay what they were before the findings engine moved to DuckDB.

``data/sample_findings_golden.csv`` holds every finding of ``review.run`` on the embedded sample account as the
pandas implementation produced it (written by this file's ``--write`` from the code on ``main`` before the move;
``data/README.md`` says how to regenerate it on purpose). The test compares the current code's findings with
it: ids, functions, severities, texts exactly, dollars and probabilities to a relative 1e-9.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from golden import same_number

GOLDEN = Path(__file__).parent / "data" / "sample_findings_golden.csv"
TEXT = ["id", "severity", "account_id", "region", "function", "title", "evidence", "evidence_path",
        "recommendation", "section", "saves_from", "band_meaning"]
NUMBERS = ["monthly_impact_usd", "monthly_impact_low_usd", "monthly_impact_high_usd", "probability"]
ORDER = ["id", "account_id", "region", "function", "title"]


def current() -> pd.DataFrame:
    from lambda_workbook import review, sources

    r = review.run(sources.load("sample"))
    assert r.errors.empty, r.errors.to_dict("records")
    return r.findings


def as_table(found: pd.DataFrame) -> pd.DataFrame:
    out = found[TEXT + NUMBERS].copy()
    for c in TEXT:
        out[c] = out[c].fillna("").astype(str)
    return out.sort_values(ORDER, ignore_index=True)


def write(path: Path = GOLDEN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    as_table(current()).to_csv(path, index=False, lineterminator="\n", float_format="%.17g")


def load(path: Path = GOLDEN) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={c: str for c in TEXT}, keep_default_na=False)
    for c in NUMBERS:
        df[c] = pd.to_numeric(df[c].replace("", math.nan))
    return df


def differences(got: pd.DataFrame, want: pd.DataFrame) -> list[str]:
    """Every difference between two findings tables, as lines (empty when they agree)."""
    got, want = as_table(got), want.sort_values(ORDER, ignore_index=True)
    keys = lambda df: list(zip(*(df[c] for c in ORDER), strict=True))  # noqa: E731
    if keys(got) != keys(want):
        return [f"missing: {sorted(set(keys(want)) - set(keys(got)))}",
                f"extra: {sorted(set(keys(got)) - set(keys(want)))}"]
    out = []
    for i in range(len(want)):
        label = f"{want.at[i, 'id']} {want.at[i, 'function']}"
        out += [f"{label}: {c}: {got.at[i, c]!r} != {want.at[i, c]!r}" for c in TEXT if got.at[i, c] != want.at[i, c]]
        for c in NUMBERS:
            a, b = float(got.at[i, c]), float(want.at[i, c])
            if not same_number(a, b):
                out.append(f"{label}: {c}: {a!r} != {b!r}")
    return out


def test_golden_file_is_complete():
    want = load()
    assert len(want) > 20 and want["id"].nunique() > 10
    assert want[NUMBERS[0]].notna().any()


def test_sample_findings_match_the_golden_file():
    diff = differences(current(), load())
    assert not diff, "\n".join(diff[:20])


def test_a_changed_finding_is_caught():
    want = load()
    got = want.copy()
    got.loc[0, "evidence"] += " "
    got.loc[1, "monthly_impact_usd"] = (got.loc[1, "monthly_impact_usd"] or 0.0) * (1 + 1e-6) + 1e-6
    assert len(differences(got, want)) == 2
    with pytest.raises(AssertionError):
        assert not differences(got.iloc[1:], want)


if __name__ == "__main__" and "--write" in sys.argv:
    write()
    print(f"wrote {GOLDEN}")
