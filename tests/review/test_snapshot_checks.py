"""Snapshots that refuse to lie: a copy of the sample is corrupted in each way a file can lie (property-based), and
every corruption is rejected or flagged with one line naming the file, row, column and function at fault."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lambda_workbook import billing, schema, snapshot_checks, sources
from lambda_workbook.schema import KEY

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])
FUNCTIONS = ["flash-sale-api", "checkout-api", "orders-api", "pdf-render", "billing-java", "media-thumbnail-io"]


@pytest.fixture(scope="module")
def base(tmp_path_factory, sample_snapshot) -> Path:
    """A copy of the sample cut to six functions and a few datapoints per series (every table has rows), saved
    without the manifest's row counts so that every check past them is reached."""
    small = sample_snapshot.subset(sample_snapshot.functions[sample_snapshot.functions["function_name"].isin(FUNCTIONS)])
    tables = dict(small.tables)
    tables["metrics"] = tables["metrics"].groupby(KEY + ["metric", "stat", "period_s"]).head(8)
    root = sources.save(schema.Snapshot(small.manifest, tables), tmp_path_factory.mktemp("base") / "snap")
    manifest = json.loads((root / "manifest.json").read_text())
    manifest.pop("rows")
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="module")
def base_tables(base) -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(base / t.file, dtype=str, keep_default_na=False) for n, t in schema.TABLES.items()
            if (base / t.file).exists()}


class Copy:
    """A scratch copy of ``base`` for one example."""

    def __init__(self, base: Path):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(shutil.copytree(base, Path(self._tmp.name) / "snap"))

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / schema.TABLES[name].file, dtype=str, keep_default_na=False)

    def write(self, name: str, df: pd.DataFrame) -> None:
        file = schema.TABLES[name].file
        df.to_csv(self.root / file, index=False, lineterminator="\n",
                  compression={"method": "gzip", "mtime": 0} if file.endswith(".gz") else None)

    def set_cell(self, name: str, row: int, column: str, value: str) -> pd.DataFrame:
        df = self.table(name)
        df.loc[row, column] = value
        self.write(name, df)
        return df

    def manifest(self, **changes) -> None:
        path = self.root / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))

    def rejected(self) -> str:
        with pytest.raises(schema.SchemaError) as err:
            sources.load_snapshot(self.root)
        text = str(err.value)
        assert "\n" not in text and "Traceback" not in text
        return text

    def close(self) -> None:
        self._tmp.cleanup()


@pytest.fixture()
def copy(base):
    made = []

    def make() -> Copy:
        made.append(Copy(base))
        return made[-1]

    yield make
    for c in made:
        c.close()


def located(name: str, row: int, column: str, df: pd.DataFrame) -> str:
    """The start of the line that must name this cell: file, row (the header is row 1), column, function."""
    r = df.iloc[row]
    return (f"{schema.TABLES[name].file}, row {row + 2}, " + (f"column {column!r}, " if column else "")
            + f"function {r['function_name']!r} ({r['account_id']}, {r['region']}): ")


def test_the_base_copy_passes_clean(base):
    snap = sources.load_snapshot(base)
    assert snap.flags == [] and sorted(snap.functions["function_name"]) == sorted(FUNCTIONS)


# -- rejected: the review would be wrong -------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), value=st.sampled_from(["-128", "0", "-1", "64", "127", "10241", "32768", "1024.7", "3008.5"]))
def test_impossible_memory_is_rejected_at_its_cell(copy, base_tables, data, value):
    row = data.draw(st.integers(0, len(base_tables["functions"]) - 1))
    c = copy()
    df = c.set_cell("functions", row, "memory_mb", value)
    text = c.rejected()
    assert located("functions", row, "memory_mb", df) in text
    assert ("not a whole number" in text) if "." in value else (f"{value} is out of range; allowed: whole MB from "
                                                                "128 to 10,240" in text)


NUMERIC = [(t.name, c.name) for t in schema.TABLES.values() for c in t.columns if c.dtype in ("int", "float")
           and t.name in ("functions", "metrics", "reports", "triggers", "calls", "insights", "concurrency")]


@SETTINGS
@given(data=st.data(), cell=st.sampled_from(NUMERIC), value=st.sampled_from(["inf", "-inf", "Infinity", "1e999"]))
def test_non_finite_numbers_are_rejected_at_their_cell(copy, base_tables, data, cell, value):
    name, column = cell
    row = data.draw(st.integers(0, len(base_tables[name]) - 1))
    c = copy()
    df = c.set_cell(name, row, column, value)
    text = c.rejected()
    assert located(name, row, column, df) in text and f"{value!r} is not a finite number" in text


NEGATIVE = [k for k, (lo, *_rest) in snapshot_checks.LIMITS.items() if lo >= 0]


@SETTINGS
@given(data=st.data(), cell=st.sampled_from(NEGATIVE))
def test_negative_counts_sizes_and_durations_are_rejected(copy, base_tables, data, cell):
    name, column = cell
    row = data.draw(st.integers(0, len(base_tables[name]) - 1))
    c = copy()
    df = c.set_cell(name, row, column, "-3")
    text = c.rejected()
    assert located(name, row, column, df) in text and "-3 is out of range; allowed:" in text


@SETTINGS
@given(data=st.data(), table=st.sampled_from(["metrics", "reports", "calls", "insights", "concurrency"]),
       exact=st.booleans())
def test_duplicate_keys_are_rejected_and_exact_copies_dropped(copy, base_tables, data, table, exact):
    df = base_tables[table]
    row = data.draw(st.integers(0, len(df) - 1))
    numeric = [c.name for c in schema.TABLES[table].columns if c.dtype == "float" and c.required
               and c.name not in snapshot_checks.NATURAL_KEYS[table]]
    column = data.draw(st.sampled_from(numeric))
    dup = df.iloc[[row]].copy()
    if not exact:
        dup[column] = "0.5" if df.iloc[row][column] != "0.5" else "0.25"   # another value, inside every limit
    whole = pd.concat([df, dup], ignore_index=True)
    c = copy()
    c.write(table, whole)
    where = len(df)                                     # the appended row
    if exact:
        snap = sources.load_snapshot(c.root)
        assert len(snap.tables[table]) == len(df)       # counted once
        assert [f.line() for f in snap.flags] == [located(table, where, "", whole) + "an exact copy of an earlier "
                                                  "row; the copy is dropped, so the review counts the row once"]
    else:
        text = c.rejected()
        assert located(table, where, column, whole) in text
        assert "duplicate key" in text and f"with row {row + 2} but other values" in text


@SETTINGS
@given(data=st.data(), table=st.sampled_from(list(snapshot_checks.PER_FUNCTION)))
def test_rows_of_a_function_missing_from_functions_csv_are_rejected(copy, base_tables, data, table):
    assume(table in base_tables)
    df = base_tables[table]
    row = data.draw(st.integers(0, len(df) - 1))
    c = copy()
    df = c.set_cell(table, row, "function_name", "ghost-" + data.draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True)))
    text = c.rejected()
    assert located(table, row, "function_name", df) in text and "no such function in functions.csv" in text


@SETTINGS
@given(keep=st.integers(0, len(FUNCTIONS) - 1))
def test_a_truncated_functions_csv_is_rejected(copy, base_tables, keep):
    c = copy()
    lines = (c.root / "functions.csv").read_text().splitlines(keepends=True)
    (c.root / "functions.csv").write_text("".join(lines[:keep + 1]))
    text = c.rejected()
    if keep == 0:
        assert text.endswith("functions.csv: no functions (only the header row); a snapshot to review lists at least "
                             "one function")
        return
    kept = set(base_tables["functions"]["function_name"][:keep])
    for name in snapshot_checks.PER_FUNCTION:           # the first table (in check order) with a lost function
        df = base_tables.get(name)
        lost = df[~df["function_name"].isin(kept)] if df is not None else []
        if len(lost):
            assert located(name, int(lost.index[0]), "function_name", df) in text
            assert "no such function in functions.csv" in text and "is functions.csv truncated?" in text
            break
    else:
        pytest.fail("no table had rows of the lost functions")


@SETTINGS
@given(name=st.sampled_from([n for n in schema.TABLES if n != "evidence"]), zero=st.booleans())
def test_empty_and_zero_byte_tables_are_rejected(copy, name, zero):
    c = copy()
    file = c.root / schema.TABLES[name].file
    if not file.exists():
        return
    if zero:
        file.write_bytes(b"")
    else:
        c.write(name, c.table(name).iloc[0:0])
    table = schema.TABLES[name]
    if not zero and not table.required:
        assert sources.load_snapshot(c.root).tables[name].empty   # an optional table may be empty
        return
    text = c.rejected()
    assert text.startswith(str(file) + ": ")
    if zero:
        assert "0 bytes (truncated?)" in text
    elif name == "functions":
        assert "no functions (only the header row)" in text
    else:
        assert "no rows (only the header row) although functions.csv lists 6 functions" in text


def test_an_empty_table_explained_by_evidence_is_flagged_not_rejected(copy, base_tables):
    c = copy()
    c.write("metrics", c.table("metrics").iloc[0:0])
    c.write("evidence", pd.DataFrame([{"account_id": "111122223333", "region": "us-east-1", "function_name": "",
                                       "item": "metrics", "status": "missing", "reason": "AccessDenied"}]))
    snap = sources.load_snapshot(c.root)
    assert [f.line() for f in snap.flags] == ["metrics.csv.gz: no rows (evidence.csv: AccessDenied); the review has "
                                              "no traffic, costs and every finding that needs them for any function"]


@SETTINGS
@given(data=st.data(), bad=st.sampled_from(["yesterday", "2026-13-01", "", "18/10/2026 00:00", "not a time"]),
       where=st.sampled_from(["metrics", "report_samples", "manifest"]))
def test_bad_timestamps_are_named(copy, base_tables, data, bad, where):
    c = copy()
    if where == "manifest":
        key = data.draw(st.sampled_from(["start", "end"]))
        c.manifest(**{key: bad})
        assert c.rejected() == (f"{c.root / 'manifest.json'}: key {key!r}: {bad!r} is not a timestamp; allowed: an "
                                "ISO 8601 date or time, e.g. 2026-10-18T00:00:00Z")
        return
    row = data.draw(st.integers(0, len(base_tables[where]) - 1))
    df = c.set_cell(where, row, "timestamp", bad)
    text = c.rejected()
    assert located(where, row, "timestamp", df) in text
    assert ("empty (a timestamp is required)" if bad == "" else f"{bad!r} is not an ISO 8601 timestamp") in text


@SETTINGS
@given(days=st.integers(0, 400))
def test_a_window_that_ends_before_it_starts_is_rejected(copy, days):
    c = copy()
    end = pd.Timestamp(json.loads((c.root / "manifest.json").read_text())["end"])
    start = (end + pd.Timedelta(days=days)).isoformat()
    c.manifest(start=start)
    assert c.rejected().startswith(f"{c.root / 'manifest.json'}: key 'end': ")
    assert "is not after start" in c.rejected()


@SETTINGS
@given(raw=st.binary(min_size=1, max_size=64))
def test_a_binary_or_invalid_manifest_is_one_line_naming_it(copy, raw):
    c = copy()
    (c.root / "manifest.json").write_bytes(raw)
    assert c.rejected().startswith(f"{c.root / 'manifest.json'}: ")


def test_a_binary_manifest_names_the_byte(copy):
    c = copy()
    (c.root / "manifest.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    assert c.rejected() == (f"{c.root / 'manifest.json'}: not UTF-8 text (byte 0x89 at offset 0); a manifest is a "
                            "JSON object as lambda-workbook scan writes it")


# -- flagged: the review is right but incomplete -----------------------------------------------------------


@SETTINGS
@given(data=st.data(), runtime=st.from_regex(r"[a-z]{2,8}[0-9]{1,2}(\.x)?", fullmatch=True))
def test_unknown_runtimes_are_flagged_and_kept(copy, base_tables, data, runtime):
    if runtime in snapshot_checks.known_runtimes():
        return
    row = data.draw(st.integers(0, len(base_tables["functions"]) - 1))
    c = copy()
    df = c.set_cell("functions", row, "runtime", runtime)
    snap = sources.load_snapshot(c.root)
    assert len(snap.functions) == len(FUNCTIONS)
    assert [f.line() for f in snap.flags] == [
        located("functions", row, "runtime", df) + f"runtime {runtime!r} is not in the workbook's runtime table "
        "(data/runtimes/lambda-runtimes.json); its end of support is not judged, the rest of the review is"]


@SETTINGS
@given(data=st.data(), arch=st.sampled_from(["sparc", "arm", "x86", "aarch64", "riscv64", "ARM64"]))
def test_unknown_architectures_are_flagged_and_left_out(copy, base_tables, data, arch):
    row = data.draw(st.integers(0, len(base_tables["functions"]) - 1))
    c = copy()
    df = c.set_cell("functions", row, "arch", arch)
    name = df.iloc[row]["function_name"]
    snap = sources.load_snapshot(c.root)
    assert name not in set(snap.functions["function_name"]) and name not in set(snap.metrics["function_name"])
    assert len(snap.functions) == len(FUNCTIONS) - 1
    assert [f.line() for f in snap.flags] == [
        located("functions", row, "arch", df) + f"architecture {arch!r} is not one the workbook prices "
        f"({', '.join(billing.ARCHITECTURES)}); the function and its rows are left out of the review"]


# -- files the workbook wrote: the manifest's row counts ---------------------------------------------------


def test_a_file_cut_at_a_line_boundary_is_told_from_a_short_table(tmp_path, base):
    snap = sources.save(sources.load_snapshot(base), tmp_path / "saved")
    assert json.loads((snap / "manifest.json").read_text())["rows"]["reports"] == len(FUNCTIONS)
    assert "rows" not in sources.load_snapshot(snap).manifest         # kept out of the snapshot in memory
    lines = (snap / "reports.csv").read_text().splitlines(keepends=True)
    (snap / "reports.csv").write_text("".join(lines[:-2]))
    with pytest.raises(schema.SchemaError, match=r"reports.csv: 4 data rows, but manifest.json records 6; the file "
                       r"is truncated or was edited"):
        sources.load_snapshot(snap)
    (snap / "reports.csv").write_text("".join(lines)[:-20])              # cut inside the last line
    with pytest.raises(schema.SchemaError, match=r"reports.csv: the last line is cut off"):
        sources.load_snapshot(snap)


def test_the_issue_cases_on_the_whole_sample(tmp_path):
    """The full embedded sample: a truncated functions.csv and a 0-byte metrics.csv.gz no longer review quietly."""
    from lambda_workbook import datafiles

    snap = Path(shutil.copytree(datafiles.sample_account_dir(), tmp_path / "snap"))
    functions = (snap / "functions.csv").read_text()
    (snap / "functions.csv").write_text("".join(functions.splitlines(keepends=True)[:8]))
    with pytest.raises(schema.SchemaError, match=r"22 functions with rows here are missing from it: is "
                       r"functions.csv truncated\?"):
        sources.load_snapshot(snap)
    (snap / "functions.csv").write_text(functions)
    (snap / "metrics.csv.gz").write_bytes(b"")
    with pytest.raises(schema.SchemaError, match=r"metrics.csv.gz: 0 bytes \(truncated\?\)"):
        sources.load_snapshot(snap)


def test_schema_output_documents_the_rule():
    md = schema.markdown()
    assert "## Checks: what is rejected, what is flagged" in md
    for (table, column), (_, _, _, allowed) in snapshot_checks.LIMITS.items():
        assert f"| `{schema.TABLES[table].file}` | `{column}` | {allowed} |" in md
    assert "reject" in schema.__doc__ and "flag" in schema.__doc__


def test_flags_follow_their_function_into_subsets(sample_snapshot):
    tables = dict(sample_snapshot.tables)
    f = tables["functions"].copy()
    f.loc[0, "runtime"], f.loc[1, "arch"] = "cobol9", "sparc"
    tables["functions"] = f
    snap = schema.Snapshot(sample_snapshot.manifest, tables)
    first, dropped = f.loc[0, "function_name"], f.loc[1, "function_name"]
    assert [fl.key[2] for fl in snap.flags] == [first, dropped] and dropped not in set(snap.functions["function_name"])
    other = snap.functions[~snap.functions["function_name"].isin([first])].iloc[:1]
    assert [fl.key[2] for fl in snap.subset(snap.functions.iloc[:1]).flags] == [first, dropped]
    assert [fl.key[2] for fl in snap.subset(other).flags] == [dropped]   # same region: the left-out one stays
    masked = snap.flags[0].map_text(lambda t: t.replace("111122223333", "acct-1"))
    assert "111122223333" not in masked.line() and masked.key[0] == "acct-1"
