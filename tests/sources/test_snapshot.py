import gzip
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lambda_workbook import schema, sources
from lambda_workbook.sources import snapshot as snapio


@pytest.fixture(scope="module")
def saved_once(tmp_path_factory, sample_snapshot):
    return sources.save(sample_snapshot, tmp_path_factory.mktemp("saved") / "snap")


@pytest.fixture()
def saved(tmp_path, saved_once):
    return Path(shutil.copytree(saved_once, tmp_path / "snap"))


def test_round_trip_keeps_every_table(saved, sample_snapshot):
    back = sources.load("snapshot", snapshot_path=saved)
    for name in schema.TABLES:
        a, b = sample_snapshot.tables[name], back.tables[name]
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
    pd.testing.assert_frame_equal(sample_snapshot.functions, back.functions, check_exact=False, rtol=1e-5)
    assert back.manifest == sample_snapshot.manifest


def test_missing_column_names_file_and_column(saved):
    f = pd.read_csv(saved / "functions.csv").drop(columns=["memory_mb"])
    f.to_csv(saved / "functions.csv", index=False)
    with pytest.raises(schema.SchemaError) as err:
        sources.load_snapshot(saved)
    assert "functions.csv" in str(err.value) and "'memory_mb'" in str(err.value)


def test_corrupt_file_is_named(saved):
    (saved / "metrics.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(schema.SchemaError, match="metrics.csv.gz: corrupt"):
        sources.load_snapshot(saved)


def test_bad_value_names_the_column(saved):
    f = pd.read_csv(saved / "functions.csv", dtype=str)
    f.loc[0, "memory_mb"] = "lots"
    f.to_csv(saved / "functions.csv", index=False)
    with pytest.raises(schema.SchemaError) as err:
        sources.load_snapshot(saved)
    assert str(err.value).endswith("functions.csv, row 2, column 'memory_mb', function 'media-thumbnail-io' "
                                   "(111122223333, us-east-1): 'lots' is not a number; column 'memory_mb' holds whole "
                                   "numbers")


def test_manifest_errors(saved):
    (saved / "manifest.json").write_text("{not json")
    with pytest.raises(schema.SchemaError, match="manifest.json: corrupt JSON"):
        sources.load_snapshot(saved)
    (saved / "manifest.json").write_text(json.dumps({"schema_version": 99, "source": "x", "created": "", "start": "2026-01-01",
                                                    "end": "2026-01-02"}))
    with pytest.raises(schema.SchemaError, match="schema_version 99"):
        sources.load_snapshot(saved)


def test_missing_required_table(saved):
    (saved / "triggers.csv").unlink()
    with pytest.raises(schema.SchemaError, match="required table 'triggers'"):
        sources.load_snapshot(saved)


def test_optional_tables_may_be_absent(saved):
    (saved / "calls.csv").unlink()
    snap = sources.load_snapshot(saved)
    assert snap.calls.empty and list(snap.calls.columns) == schema.TABLES["calls"].column_names
    # the manifest recorded its rows: the loss is flagged, not silent
    assert [f.line() for f in snap.flags] == ["calls.csv: missing, though manifest.json records 36 rows for it; the "
                                              "review goes on without them"]


def test_interrupted_save_leaves_old_snapshot_intact(saved, sample_snapshot, monkeypatch):
    before = {p.name: p.read_bytes() for p in saved.iterdir()}
    calls = {"n": 0}
    real = snapio._write_table

    def failing(df, file):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated Ctrl-C")
        real(df, file)

    monkeypatch.setattr(snapio, "_write_table", failing)
    with pytest.raises(KeyboardInterrupt):
        sources.save(sample_snapshot, saved)
    assert {p.name: p.read_bytes() for p in saved.iterdir()} == before
    assert [p.name for p in saved.parent.iterdir()] == ["snap"], "temp directories left behind"


def test_interrupted_first_save_leaves_nothing(tmp_path, sample_snapshot, monkeypatch):
    def failing(df, file):
        raise OSError("disk full")

    monkeypatch.setattr(snapio, "_write_table", failing)
    with pytest.raises(OSError):
        sources.save(sample_snapshot, tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_gzip_output_is_reproducible(tmp_path, sample_snapshot, saved_once):
    a = saved_once
    b = sources.save(sample_snapshot, tmp_path / "b")
    for name in ("metrics.csv.gz", "functions.csv", "report_samples.csv.gz"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    with gzip.open(a / "metrics.csv.gz", "rt") as fh:
        assert fh.readline().startswith("account_id,region,function_name,metric")


def test_duplicate_function_rejected_exact_copy_dropped(sample_snapshot):
    tables = dict(sample_snapshot.tables)
    other = tables["functions"].iloc[:1].assign(memory_mb=256)
    tables["functions"] = pd.concat([tables["functions"], other])
    with pytest.raises(schema.SchemaError, match=r"functions.csv, row 31, column 'memory_mb', function "
                       r"'media-thumbnail-io' .*: duplicate key \(the same function\) with row 2 but other values "
                       r"\(3008 in row 2, 256 here\)"):
        schema.Snapshot(sample_snapshot.manifest, tables)
    tables["functions"] = pd.concat([sample_snapshot.functions, sample_snapshot.functions.iloc[:1]])
    snap = schema.Snapshot(sample_snapshot.manifest, tables)
    assert len(snap.functions) == len(sample_snapshot.functions)
    assert [(f.level, f.file, f.row) for f in snap.flags] == [("flag", "functions.csv", 31)]


def test_unknown_source_and_missing_path():
    with pytest.raises(ValueError, match="source must be one of"):
        sources.load("s3")
    with pytest.raises(ValueError, match="snapshot_path"):
        sources.load("snapshot")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sources.load("snapshot", snapshot_path="/nonexistent/snap")


def test_region_filter(sample_snapshot):
    assert sample_snapshot.in_regions(None) is sample_snapshot
    assert len(sample_snapshot.in_regions(["us-east-1"]).functions) == len(sample_snapshot.functions)
    with pytest.raises(ValueError, match="eu-west-1"):
        sample_snapshot.in_regions(["eu-west-1"])


def test_function_lookup(sample_snapshot):
    assert sample_snapshot.function("pdf-render")["memory_mb"] == 128
    with pytest.raises(KeyError, match="not in this snapshot"):
        sample_snapshot.function("nope")
    assert len(sample_snapshot.for_function("triggers", "pdf-render")) == 1


def test_schema_markdown_lists_every_column():
    md = schema.markdown()
    for table in schema.TABLES.values():
        assert table.file in md
        for col in table.columns:
            assert f"`{col.name}`" in md


def test_copy_of_bundled_sample_is_loadable(tmp_path):
    from lambda_workbook import datafiles

    shutil.copytree(datafiles.sample_account_dir(), tmp_path / "copy")
    assert len(sources.load_snapshot(tmp_path / "copy").functions) > 20


def test_account_filter_keeps_only_that_accounts_rows(sample_snapshot):
    staging = sample_snapshot.in_accounts(["444455556666"])
    assert staging.accounts == ["444455556666"] and 0 < len(staging.functions) < len(sample_snapshot.functions)
    assert set(staging.metrics["account_id"]) == {"444455556666"}
    assert sample_snapshot.in_accounts(None) is sample_snapshot
    with pytest.raises(ValueError, match=r"account\(s\) \['999999999999'\] are not in this snapshot"):
        sample_snapshot.in_accounts(["999999999999"])
