"""``coldstarts.analyse`` on the sample account stays what it was before the pool model was vectorised.

``data/sample_analyse_golden.csv`` holds the analysis table of the embedded sample account (every column; floats
with 17 significant digits), written by this file's ``--write`` from the ``main`` branch's code before the
change (``data/README.md`` says how). The test recomputes the table with the current code and compares it:
texts exactly, numbers to a relative 1e-9; the default keep-alive model and one fixed window both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from golden import same_number

GOLDEN = Path(__file__).parent / "data" / "sample_analyse_golden.csv"
KEEP_ALIVE = {"default": None, "fixed-10": "fixed-10"}


def current() -> pd.DataFrame:
    from lambda_workbook import coldstarts, sources

    snap = sources.load("sample")
    parts = []
    for label, ka in KEEP_ALIVE.items():
        t = coldstarts.analyse(snap, keep_alive_min=ka)
        parts.append(t.assign(keep_alive=label, chosen_model=t.attrs["model"]))
    return pd.concat(parts, ignore_index=True)


def write(path: Path = GOLDEN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    current().to_csv(path, index=False, lineterminator="\n", float_format="%.17g")


def load(path: Path = GOLDEN) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def differences(got: pd.DataFrame, want: pd.DataFrame) -> list[str]:
    """Every cell that differs (numbers beyond a relative 1e-9), as lines; empty when the tables agree."""
    if list(got.columns) != list(want.columns) or len(got) != len(want):
        return [f"shape: {list(got.columns)} x {len(got)} != {list(want.columns)} x {len(want)}"]
    got = pd.read_csv(pd.io.common.StringIO(got.to_csv(index=False, float_format="%.17g")), keep_default_na=False,
                      dtype=str)
    out = []
    for c in want.columns:
        for i, (a, b) in enumerate(zip(got[c], want[c], strict=True)):
            if a == b:
                continue
            try:
                x, y = float(a), float(b)
            except ValueError:
                out.append(f"row {i} {c}: {a!r} != {b!r}")
                continue
            if not same_number(x, y):
                out.append(f"row {i} {c}: {a} != {b}")
    return out


def test_golden_file_is_complete():
    want = load()
    assert len(want) >= 2 * 29 and {"modelled_poisson", "modelled_peak", "cold_starts", "init_usd_month"} <= set(want)
    assert (want["modelled_poisson"].astype(float) > 0).sum() > 10


def test_sample_analysis_matches_the_golden_file():
    diff = differences(current(), load())
    assert not diff, "\n".join(diff[:20])


def test_a_changed_cell_is_caught():
    want = load()
    got = want.copy()
    got.loc[3, "modelled_poisson"] = repr(float(got.loc[3, "modelled_poisson"]) * (1 + 1e-6) + 1e-6)
    got.loc[5, "cold_source"] += " "
    assert len(differences(got, want)) == 2
    with pytest.raises(AssertionError):
        assert not differences(got.astype({"modelled_poisson": float}), want)


if __name__ == "__main__" and "--write" in sys.argv:
    write()
    print(f"wrote {GOLDEN}")
