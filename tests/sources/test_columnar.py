"""Parquet snapshots: the round trip, metadata checks at load, lazy tables and their relations."""

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lambda_workbook import lazytables, review, schema, sources
from lambda_workbook.sources import columnar

LAZY = ("metrics", "report_samples")


@pytest.fixture(scope="module")
def parquet_once(tmp_path_factory, sample_snapshot):
    return sources.save(sample_snapshot, tmp_path_factory.mktemp("pq") / "snap", format="parquet")


@pytest.fixture(scope="module")
def loaded(parquet_once):
    return sources.load_snapshot(parquet_once)


@pytest.fixture()
def parquet(tmp_path, parquet_once):
    return Path(shutil.copytree(parquet_once, tmp_path / "snap"))


def _part(root: Path, table: str = "metrics") -> Path:
    return columnar.files(root / table)[0]


def _rewrite(file: Path, select: str, tail: str = "") -> None:
    con = duckdb.connect()
    tmp = file.with_suffix(".tmp")
    con.execute(f"COPY (SELECT {select} FROM read_parquet('{file}', hive_partitioning = false) {tail}) TO '{tmp}' "
                "(FORMAT PARQUET)")
    tmp.replace(file)


def test_layout_and_manifest(parquet_once, sample_snapshot):
    parts = sorted(p.relative_to(parquet_once).as_posix() for p in columnar.files(parquet_once / "metrics"))
    assert parts == [f"metrics/account_id={a}/region=us-east-1/part-0.parquet" for a in sample_snapshot.accounts]
    assert not (parquet_once / "metrics.csv.gz").exists() and (parquet_once / "functions.csv").exists()
    manifest = json.loads((parquet_once / "manifest.json").read_text())
    assert manifest["format"] == "parquet"
    assert manifest["rows"] == {n: len(df) for n, df in sample_snapshot.tables.items() if len(df)}


def test_round_trip_gives_equal_tables_and_stays_lazy(loaded, sample_snapshot):
    assert all(loaded.is_lazy(n) for n in LAZY)
    assert loaded.flags == [] and loaded.manifest == sample_snapshot.manifest
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(loaded.tables[name], sample_snapshot.tables[name], check_exact=True, obj=name)
    assert not any(loaded.is_lazy(n) for n in LAZY)      # read on first access, and kept


def test_csv_layout_is_unchanged(tmp_path, sample_snapshot):
    a = sources.save(sample_snapshot, tmp_path / "a")
    b = sources.save(sample_snapshot, tmp_path / "b", format="csv")
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    assert all((a / p.name).read_bytes() == (b / p.name).read_bytes() for p in a.iterdir())
    assert "format" not in json.loads((a / "manifest.json").read_text())
    with pytest.raises(ValueError, match="format 'feather' is not a snapshot layout; allowed: parquet, csv"):
        sources.save(sample_snapshot, tmp_path / "c", format="feather")


def test_the_review_is_the_same(parquet_once, sample_snapshot):
    lazy = sources.load_snapshot(parquet_once)
    a, b = review.run(sample_snapshot), review.run(lazy)
    assert len(a.findings) > 0
    pd.testing.assert_frame_equal(a.findings, b.findings)


@pytest.mark.parametrize(("select", "expected"), [
    ("* EXCLUDE (value)", "missing column 'value'"),
    ("* REPLACE (CAST(value AS VARCHAR) AS value)", "column 'value' is VARCHAR; table 'metrics' holds a DOUBLE"),
    ("* REPLACE (CAST(period_s AS DOUBLE) AS period_s)", "column 'period_s' is DOUBLE; table 'metrics' holds an integer"),
])
def test_a_bad_column_is_one_line_naming_file_and_column(parquet, select, expected):
    file = _part(parquet)
    _rewrite(file, select)
    with pytest.raises(schema.SchemaError) as err:
        sources.load_snapshot(parquet)
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"{file}: ") and expected in line


def test_a_truncated_table_is_refused(parquet, sample_snapshot):
    file = _part(parquet)
    total = len(sample_snapshot.metrics)
    in_file = int((sample_snapshot.metrics["account_id"] == file.parent.parent.name.split("=")[1]).sum())
    _rewrite(file, "*", "LIMIT 10")
    with pytest.raises(schema.SchemaError, match=rf"metrics: {total - in_file + 10} data rows in its Parquet files, "
                       rf"but manifest.json records {total}; a file is missing, truncated or was edited"):
        sources.load_snapshot(parquet)
    file.unlink()
    with pytest.raises(schema.SchemaError, match=rf"metrics: {total - in_file} data rows .* records {total}"):
        sources.load_snapshot(parquet)


def test_a_stray_or_corrupt_file_is_named(parquet):
    (parquet / "metrics" / "notes.txt").write_text("x")
    with pytest.raises(schema.SchemaError, match="notes.txt: not a table file"):
        sources.load_snapshot(parquet)
    (parquet / "metrics" / "notes.txt").unlink()
    _part(parquet).write_bytes(b"PAR1 garbage")
    with pytest.raises(schema.SchemaError, match=r"part-0.parquet: corrupt Parquet file"):
        sources.load_snapshot(parquet)


def test_relation_for_lazy_and_in_memory_tables(parquet_once, sample_snapshot):
    lazy = sources.load_snapshot(parquet_once)
    con = lazytables.connect()
    for name in ("metrics", "functions", "evidence"):
        for snap in (lazy, sample_snapshot):
            rel = snap.relation(name, con)
            assert rel.columns == schema.TABLES[name].column_names
            assert rel.aggregate("count(*)").fetchall()[0][0] == len(sample_snapshot.tables[name])
    types = dict(zip(lazy.relation("metrics", con).columns, map(str, lazy.relation("metrics", con).types),
                     strict=True))
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE" and types["period_s"] == "BIGINT"
    assert str(sample_snapshot.relation("evidence", con).types[0]) == "VARCHAR"
    got = lazy.relation("metrics", con).aggregate("function_name, sum(value) AS v", "function_name").df()
    want = sample_snapshot.metrics.groupby("function_name")["value"].sum()
    pd.testing.assert_series_equal(got.set_index("function_name")["v"].sort_index(), want.sort_index(),
                                   check_names=False)
    assert lazy.is_lazy("metrics")
    with pytest.raises(KeyError, match="no table 'metric'"):
        lazy.relation("metric", con)


def test_subset_and_for_function_stay_lazy(parquet_once, sample_snapshot):
    lazy = sources.load_snapshot(parquet_once)
    account = sample_snapshot.accounts[1]
    sub = lazy.in_accounts([account])
    assert sub.is_lazy("metrics") and lazy.is_lazy("metrics")
    con = lazytables.connect()
    assert sub.relation("metrics", con).aggregate("count(*)").fetchall()[0][0] == int(
        (sample_snapshot.metrics["account_id"] == account).sum())
    two = lazy.subset(lazy.functions.head(2))
    assert two.is_lazy("metrics")
    pd.testing.assert_frame_equal(two.metrics, sample_snapshot.subset(sample_snapshot.functions.head(2)).metrics)
    rows = lazy.for_function("metrics", "orders-api")
    assert lazy.is_lazy("metrics")
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), sample_snapshot.for_function(
        "metrics", "orders-api").reset_index(drop=True))


def test_an_empty_required_table_reads_as_empty(tmp_path, sample_snapshot):
    tables = {n: (df.iloc[:0] if n == "metrics" else df) for n, df in sample_snapshot.tables.items()}
    path = sources.save(schema.Snapshot(dict(sample_snapshot.manifest), tables), tmp_path / "s", format="parquet")
    back = sources.load_snapshot(path)
    assert back.metrics.empty and list(back.metrics.columns) == schema.TABLES["metrics"].column_names


def test_a_lazy_snapshot_saves_as_parquet_without_reading_and_as_csv(tmp_path, parquet_once, sample_snapshot):
    lazy = sources.load_snapshot(parquet_once).in_accounts([sample_snapshot.accounts[0]])
    out = sources.save(lazy, tmp_path / "again")          # parquet by default for a lazy snapshot
    assert lazy.is_lazy("metrics") and json.loads((out / "manifest.json").read_text())["format"] == "parquet"
    back = sources.load_snapshot(out)
    csv = sources.load_snapshot(sources.save(back, tmp_path / "csv", format="csv"))
    pd.testing.assert_frame_equal(csv.metrics, sample_snapshot.in_accounts([sample_snapshot.accounts[0]]).metrics)
