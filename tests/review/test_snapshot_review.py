"""``lambda-workbook review`` on snapshots that lie: bad input is one error line (exit 2) before any run folder
exists; a partial review (a notebook or a check failed) exits 1 with the pack written; flagged problems are on the
index page and in ``review.json`` (exit 0)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lambda_workbook import cli, pack, review, schema, sources
from lambda_workbook.schema import KEY

FUNCTIONS = ["pdf-render", "orders-api"]


@pytest.fixture(scope="module")
def snap(tmp_path_factory, sample_snapshot) -> Path:
    small = sample_snapshot.subset(sample_snapshot.functions[sample_snapshot.functions["function_name"].isin(FUNCTIONS)])
    tables = dict(small.tables)
    tables["metrics"] = tables["metrics"].groupby(KEY + ["metric", "stat", "period_s"]).head(48)
    return sources.save(schema.Snapshot(small.manifest, tables), tmp_path_factory.mktemp("snap") / "snap")


@pytest.fixture()
def corrupt(tmp_path, snap):
    import shutil

    def make(table: str, row: int, column: str, value: str) -> Path:
        root = Path(shutil.copytree(snap, tmp_path / "bad"))
        file = root / schema.TABLES[table].file
        df = pd.read_csv(file, dtype=str, keep_default_na=False)
        df.loc[row, column] = value
        df.to_csv(file, index=False, lineterminator="\n")
        return root

    return make


def _review_args(root: Path, out: Path) -> list[str]:
    return ["review", "--source", "snapshot", "--snapshot", str(root), "--deep-dives", "none", "--out", str(out),
            "--run", "r", "--quiet", "--workers", "1"]


def _fake_notebooks(fail: str = ""):
    """Stands in for the papermill batch: every job ok, except those whose notebook name is ``fail``."""
    def run_jobs(jobs, run_dir, options, *, redact=None, progress=True):
        for j in jobs:
            j.status, j.error, j.attempts = ("failed", "RuntimeError: kernel died", 1) if j.name == fail else ("ok", "", 1)
        return jobs

    return run_jobs


def test_bad_input_is_one_line_exit_2_and_no_run_folder(corrupt, tmp_path):
    root = corrupt("functions", 1, "memory_mb", "-512")
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "lambda_workbook.cli", *_review_args(root, out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    name = pd.read_csv(root / "functions.csv", dtype=str)["function_name"][1]
    assert lines[0].startswith(f"lambda-workbook: error: {root / 'functions.csv'}, row 3, column 'memory_mb', "
                               f"function {name!r} ")
    assert lines[0].endswith("-512 is out of range; allowed: whole MB from 128 to 10,240")
    assert not out.exists()


def test_a_binary_manifest_is_one_line_exit_2(snap, tmp_path):
    import shutil

    root = Path(shutil.copytree(snap, tmp_path / "bin"))
    (root / "manifest.json").write_bytes(bytes(range(128, 256)))
    assert cli.main(_review_args(root, tmp_path / "out")) == 2


def test_failed_notebooks_exit_1_with_the_list_and_the_pack_written(snap, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pack, "run_jobs", _fake_notebooks(fail="account_review"))
    out = tmp_path / "reports"
    assert cli.main(_review_args(snap, out)) == 1
    err = capsys.readouterr().err
    assert "failed: Account review — 111122223333, us-east-1: RuntimeError: kernel died" in err
    assert "partial review (1 notebook(s) and 0 check(s) failed" in err
    record = json.loads((out / "r" / "review.json").read_text())
    assert record["exit_code"] == 1 and [n["status"] for n in record["notebooks"]] == ["failed"]
    assert "Failed notebooks:" in (out / "r" / "index.html").read_text()


def test_a_failed_check_is_a_partial_review(snap, tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("check broke")

    monkeypatch.setattr(pack, "run_jobs", _fake_notebooks())
    monkeypatch.setitem(review.ADAPTERS, "memory", broken)
    assert cli.main(_review_args(snap, tmp_path / "reports")) == 1
    assert "check failed: memory: RuntimeError: check broke" in capsys.readouterr().err


def test_flags_are_on_the_index_and_in_review_json_and_exit_0(corrupt, tmp_path, monkeypatch, capsys):
    root = corrupt("functions", 0, "runtime", "cobol9")
    name = pd.read_csv(root / "functions.csv", dtype=str)["function_name"][0]
    monkeypatch.setattr(pack, "run_jobs", _fake_notebooks())
    out = tmp_path / "reports"
    assert cli.main(_review_args(root, out)) == 0
    line = (f"functions.csv, row 2, column 'runtime', function {name!r} (111122223333, us-east-1): runtime 'cobol9' "
            "is not in the workbook's runtime table (data/runtimes/lambda-runtimes.json); its end of support is not "
            "judged, the rest of the review is")
    cap = capsys.readouterr()
    assert f"flagged: {line}" in cap.err and "1 snapshot problems flagged" in cap.out
    record = json.loads((out / "r" / "review.json").read_text())
    assert [f["line"] for f in record["review"]["flags"]] == [line] and record["exit_code"] == 0
    assert record["review"]["flags"][0]["function_name"] == name and record["review"]["flags"][0]["row"] == 2
    index = (out / "r" / "index.html").read_text()
    assert "Flagged in the snapshot (1)" in index and "runtime &#x27;cobol9&#x27; is not in the workbook" in index
    findings = json.loads((out / "r" / "findings.json").read_text())
    assert [f["line"] for f in findings["flags"]] == [line]


def test_a_planning_failure_leaves_no_half_run_folder(snap, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise ValueError("planning broke")

    monkeypatch.setattr(pack, "plan", boom)
    out = tmp_path / "reports"
    with pytest.raises(ValueError, match="planning broke"):
        pack.build(source="snapshot", snapshot=str(snap), out=str(out), run="r", deep_dives="none", progress=False)
    assert not (out / "r").exists()


def test_a_snapshot_without_functions_is_nothing_to_review(sample_snapshot, tmp_path):
    cut = sample_snapshot.subset(sample_snapshot.functions.iloc[0:0])
    empty = schema.Snapshot(cut.manifest, cut.tables)        # a scan of an account without functions, say
    assert [f.line() for f in empty.flags] == ["functions.csv: no rows: the snapshot holds no function"]
    with pytest.raises(ValueError, match="nothing to review"):
        pack.build(loaded=empty, out=str(tmp_path / "o"), progress=False)
    assert not (tmp_path / "o").exists()
