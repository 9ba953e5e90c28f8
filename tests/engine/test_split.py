"""engine.split: a planned block of a table still on disk gives each function exactly the frame a text read gives."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from lambda_workbook import sources
from lambda_workbook.engine import ByFunction, split
from lambda_workbook.engine.connection import session
from lambda_workbook.schema import KEY


@pytest.fixture(scope="module")
def columnar(tmp_path_factory):
    """The sample account as a columnar snapshot, with a few missing statistics (NULL in the files)."""
    snap = sources.load("sample")
    metrics = snap.tables["metrics"].copy()
    some = metrics.index[metrics["metric"] == "Duration"][:50]
    metrics.loc[some, "stat"] = ""
    snap.tables["metrics"] = metrics
    path = sources.save(snap, tmp_path_factory.mktemp("split") / "snap", format="parquet")
    con = duckdb.connect()
    for file in sorted((path / "metrics").rglob("*.parquet")):   # an empty text value is written as ''
        blank = file.with_suffix(".tmp")
        con.execute(f"COPY (SELECT * REPLACE (NULLIF(stat, '') AS stat) FROM read_parquet('{file}', hive_partitioning = false)) TO '{blank}' "
                    "(FORMAT parquet)")
        blank.replace(file)
    con.close()
    return path


def _frames(snap, table: str, funcs, block: int) -> list[pd.DataFrame]:
    index = ByFunction(snap)
    index.BLOCK = block
    index.plan(funcs)
    return [index.rows(table, fn) for fn in funcs]


@pytest.mark.parametrize("table", ["metrics", "report_samples"])
def test_a_block_read_with_codes_equals_a_text_read(columnar, monkeypatch, table):
    snap = sources.load_snapshot(columnar)
    assert snap.tables.is_lazy(table)
    session(snap).execute("SET threads = 1")    # one thread: DuckDB gives the rows in the same order every time
    funcs = snap.functions.sort_values(KEY).to_dict("records") + [
        {"account_id": "000000000000", "region": "nowhere-1", "function_name": "absent"}]
    monkeypatch.setattr(split, "_SEEN", {})
    monkeypatch.setattr(split, "CODED_MAX", 0)   # every text column has too many values for codes: read as text
    text = _frames(snap, table, funcs, block=4)
    assert split._SEEN and all(v is None for v in split._SEEN.values())
    monkeypatch.setattr(split, "_SEEN", {})
    monkeypatch.setattr(split, "CODED_MAX", 200)
    coded = _frames(snap, table, funcs, block=4)   # small blocks: later blocks bring values the first lacked
    if table == "metrics":
        assert split._SEEN[table, "metric"] and split._SEEN[table, "stat"]
        assert set(split._SEEN[table, "metric"]) == set(snap.tables["metrics"]["metric"])
    assert len(text) == len(coded) == len(funcs) and not len(coded[-1])
    assert sum(len(df) for df in coded) == len(snap.tables[table])
    for a, b in zip(text, coded, strict=True):
        assert list(a.dtypes) == list(b.dtypes) and type(a.index) is type(b.index)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    if table == "metrics":
        assert sum(int(df["stat"].isna().sum()) for df in coded) == 50   # a missing statistic stays missing


def test_a_block_read_equals_one_function_read(columnar):
    snap = sources.load_snapshot(columnar)
    funcs = snap.functions.sort_values(KEY).to_dict("records")
    planned, single = _frames(snap, "metrics", funcs, block=5), [ByFunction(snap).rows("metrics", fn) for fn in funcs]
    cols = list(single[0].columns)
    for a, b in zip(planned, single, strict=True):
        assert list(a.columns) == cols and list(a.dtypes) == list(b.dtypes)
        pd.testing.assert_frame_equal(a.sort_values(cols).reset_index(drop=True),
                                      b.sort_values(cols).reset_index(drop=True), check_exact=True)
