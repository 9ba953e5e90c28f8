"""The snapshot checks on Parquet tables run in DuckDB: same problems, located by file and row, nothing read."""

import shutil
from pathlib import Path

import duckdb
import pytest

from lambda_workbook import lazytables, schema, sources
from lambda_workbook.sources import columnar


@pytest.fixture(scope="module")
def small(sample_snapshot):
    """Three functions of the sample, over both accounts."""
    f = sample_snapshot.functions
    return sample_snapshot.subset(f.groupby("account_id").head(2).head(3))


@pytest.fixture(scope="module")
def base(tmp_path_factory, small):
    return sources.save(small, tmp_path_factory.mktemp("pqc") / "snap", format="parquet")


@pytest.fixture()
def root(tmp_path, base):
    return Path(shutil.copytree(base, tmp_path / "snap"))


def _edit(file: Path, sql: str) -> None:
    """Rewrite one Parquet file with ``sql`` over ``t`` (its rows), keeping the manifest's row count honest."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{file}', hive_partitioning = false)")
    tmp = file.with_suffix(".tmp")
    con.execute(f"COPY ({sql}) TO '{tmp}' (FORMAT PARQUET)")
    tmp.replace(file)


def _drop_row_counts(root: Path) -> None:
    import json

    m = json.loads((root / "manifest.json").read_text())
    m.pop("rows")
    (root / "manifest.json").write_text(json.dumps(m))


def test_load_and_checks_read_no_row(base, small):
    snap = sources.load_snapshot(base)
    assert snap.is_lazy("metrics") and snap.is_lazy("report_samples") and snap.flags == []


def test_an_out_of_range_value_is_located_by_file_row_column_and_function(root):
    file = columnar.files(root / "metrics")[0]
    _edit(file, "SELECT * REPLACE (CASE WHEN _row IN (SELECT _row FROM t ORDER BY _row LIMIT 3 OFFSET 4) THEN -1.0 "
                "ELSE value END AS value) FROM t ORDER BY _row")
    con = duckdb.connect()
    name, acct, region = con.execute(f"SELECT function_name, '{file.parent.parent.name[11:]}', "
                                     f"'{file.parent.name[7:]}' FROM read_parquet('{file}') ORDER BY _row "
                                     "LIMIT 1 OFFSET 4").fetchall()[0]
    with pytest.raises(schema.SchemaError) as err:
        sources.load_snapshot(root)
    assert str(err.value) == (f"{file}, row 5, column 'value', function '{name}' ({acct}, {region}): -1 is out of "
                              "range; allowed: a number >= 0 (Lambda's metrics are counts, durations and ages) "
                              "(and 2 more rows like it)")
    assert err.value.problems[0].key == (acct, region, name)


def test_an_empty_timestamp_is_refused(root):
    file = columnar.files(root / "metrics")[-1]
    _edit(file, "SELECT * REPLACE (CASE WHEN _row = (SELECT max(_row) FROM t) THEN NULL ELSE timestamp END AS "
                "timestamp) FROM t ORDER BY _row")
    with pytest.raises(schema.SchemaError, match=r"column 'timestamp', .*: empty \(a timestamp is required\)"):
        sources.load_snapshot(root)


def test_exact_copies_are_dropped_and_counted_without_reading(root, small):
    file = columnar.files(root / "metrics")[0]
    _edit(file, "SELECT * FROM t UNION ALL (SELECT * FROM t ORDER BY _row LIMIT 4) ORDER BY _row")
    _drop_row_counts(root)
    snap = sources.load_snapshot(root)
    assert snap.is_lazy("metrics")
    [flag] = snap.flags
    assert flag.level == "flag" and flag.more == 3 and flag.file.startswith("metrics/account_id=")
    assert "an exact copy of an earlier row; the copy is dropped" in flag.line()
    con = lazytables.connect()
    assert snap.relation("metrics", con).aggregate("count(*)").fetchall()[0][0] == len(small.metrics)
    assert snap.is_lazy("metrics")
    assert len(snap.metrics) == len(small.metrics)


def test_a_key_with_other_values_is_refused(root):
    file = columnar.files(root / "metrics")[0]
    _edit(file, "SELECT * FROM t UNION ALL (SELECT * REPLACE (value + 1 AS value) FROM t ORDER BY _row LIMIT 1)")
    _drop_row_counts(root)
    with pytest.raises(schema.SchemaError, match=r"column 'value', .*: duplicate key \(metric=.*\) with row 1 but "
                       r"other values \(.* in row 1, .* here\)"):
        sources.load_snapshot(root)


def test_rows_of_an_unlisted_function_are_refused(root):
    file = columnar.files(root / "report_samples")[0]
    _edit(file, "SELECT * REPLACE ('ghost' AS function_name) FROM t")
    with pytest.raises(schema.SchemaError) as err:
        sources.load_snapshot(root)
    assert "column 'function_name', function 'ghost'" in str(err.value)
    assert "no such function in functions.csv (1 function with rows here is missing from it" in str(err.value)


def test_an_unpriceable_architecture_leaves_the_function_out_lazily(root, small):
    f = (root / "functions.csv").read_text().splitlines()
    header = f[0].split(",")
    cells = f[1].split(",")
    cells[header.index("arch")] = "s390x"
    (root / "functions.csv").write_text("\n".join([f[0], ",".join(cells), *f[2:]]) + "\n")
    snap = sources.load_snapshot(root)
    assert snap.is_lazy("metrics") and any("s390x" in p.line() for p in snap.flags)
    left = set(snap.metrics["function_name"])
    assert cells[header.index("function_name")] not in left and len(left) == len(small.functions) - 1


def test_files_the_workbook_wrote_and_checked_skip_the_duplicate_scan(root, monkeypatch):
    import json

    from lambda_workbook import lazy_checks

    record = json.loads((root / "manifest.json").read_text())["checked"]
    assert set(record) == {"metrics"}            # REPORT lines have no natural key: always scanned
    assert record["metrics"]["sha256"] == columnar.fingerprints(root / "metrics")
    scanned = []
    plain = lazy_checks._repeated_hashes
    monkeypatch.setattr(lazy_checks, "_repeated_hashes", lambda rel, hashed: scanned.append(1) or plain(rel, hashed))
    snap = sources.load_snapshot(root)
    assert snap.tables.raw("metrics").unique_key == tuple(record["metrics"]["unique_key"])
    assert len(scanned) == 1                     # report_samples only
    # a file changed since: no longer the one recorded, so the scan runs and finds the copies
    _edit(columnar.files(root / "metrics")[0], "SELECT * FROM t UNION ALL (SELECT * FROM t ORDER BY _row LIMIT 2)")
    _drop_row_counts(root)
    snap = sources.load_snapshot(root)
    assert snap.tables.raw("metrics").unique_key is None and len(scanned) == 3
    [flag] = snap.flags
    assert "an exact copy of an earlier row" in flag.line() and flag.more == 1


def test_a_record_that_does_not_match_the_files_is_not_trusted(root):
    import json

    m = json.loads((root / "manifest.json").read_text())
    file = next(iter(m["checked"]["metrics"]["sha256"]))
    m["checked"]["metrics"]["sha256"][file] = "0" * 64
    (root / "manifest.json").write_text(json.dumps(m))
    assert sources.load_snapshot(root).tables.raw("metrics").unique_key is None
    m["checked"] = "yes"                          # not a record at all: the full checks, no error
    (root / "manifest.json").write_text(json.dumps(m))
    assert sources.load_snapshot(root).tables.raw("metrics").unique_key is None
