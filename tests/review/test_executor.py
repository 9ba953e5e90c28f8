"""The review pack on a Dask cluster (executors, review_partitions, remote_pages): a LocalCluster on 127.0.0.1
started here, the sample account reviewed one task per (account, region) and one per notebook, the pages
written back here; the findings and the totals equal those of the run on this machine."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from lambda_workbook import cli, executors, pack, remote_pages, review, review_partitions


def _run_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                 dashboard_address=None)
    yield c
    c.close()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, sample_snapshot) -> Path:
    """The review on this machine: findings and totals only (no notebooks, which the dask run renders)."""
    out = tmp_path_factory.mktemp("local")
    pack.build(source="sample", out=str(out), top=2, progress=False, loaded=sample_snapshot, jobs=[])
    return _run_dir(out)


def test_review_pack_on_a_dask_cluster_matches_the_local_run(cluster, local_run, tmp_path, capsys):
    address = cluster.scheduler_address.replace("tcp://", "dask://", 1)
    out = tmp_path / "dask"
    code = cli.main(["review", "--source", "sample", "--out", str(out), "--top", "2", "--executor", address,
                     "--quiet"])
    assert code == 0, capsys.readouterr().err
    run = _run_dir(out)
    assert (run / "findings.csv").read_bytes() == (local_run / "findings.csv").read_bytes()
    here, there = (json.loads((d / "review.json").read_text())["totals"] for d in (local_run, run))
    assert there["summary"] == here["summary"]          # savings counted once per function and bill, spend
    assert there["monthly_usd"] == here["monthly_usd"] and there["summary"]["savings_usd"] > 0
    record = json.loads((run / "review.json").read_text())
    assert record["options"]["executor"] == address
    pages = record["notebooks"]
    assert {p["kind"] for p in pages} == {"account", "deep-dive"}
    assert {p["account_id"] for p in pages if p["kind"] == "account"} == set(record["snapshot"]["accounts"])
    for p in pages:
        assert p["status"] == "ok", p
        html = run / p["html"]
        assert html.stat().st_size > 10_000
        assert "lambda-workbook-page-" not in (run / p["ipynb"]).read_text()   # no worker path left in a page
        if p["kind"] == "account":   # the full tables the page links, written back beside it
            assert (html.with_name("account_review.costs.csv")).stat().st_size > 100
    assert (run / "index.html").exists() and (out / "index.html").exists()
    kept = Path(tempfile.gettempdir()) / remote_pages.KEPT_ROOT   # the workers' copies of the bundles are gone
    assert not [p for p in kept.glob(f"{run.name}-*")]
    index = (run / "index.html").read_text()
    assert all(p["html"] in index for p in pages if p["kind"] == "deep-dive")


def test_partitions_merge_to_the_whole_review(sample_snapshot, local_run):
    """Per-partition findings and spend, concatenated then ranked, are the whole review's (same rows, order,
    dollars; savings counted once), here on this machine's executor, one partition after the other."""
    merged, bundles = review_partitions.run(sample_snapshot, executors.LocalExecutor(1))
    assert [k for k, _ in review_partitions.split(sample_snapshot)] == sorted(bundles) and len(bundles) == 2
    assert set(bundles.values()) == {None}
    assert review.to_csv(merged.findings) == (local_run / "findings.csv").read_text()
    totals = json.loads((local_run / "review.json").read_text())["totals"]
    assert json.loads(json.dumps(review.results(merged, top=0), default=str)) == totals
    assert set(merged.spend["account_id"]) == set(sample_snapshot.accounts)


@pytest.mark.parametrize("value", ["dask", "dask-local:0", "dask-local:x", "dask://", "dask://host", "tcp://h:1",
                                   "ray://h:1", "", None, 3])
def test_a_bad_executor_is_one_line_naming_it(value):
    with pytest.raises(ValueError) as err:
        executors.parse(value)
    text = str(err.value)
    assert "\n" not in text and repr(value) in text and "dask://HOST:PORT" in text and "local" in text


def test_a_bad_executor_on_the_command_line(capsys, tmp_path):
    assert cli.main(["review", "--executor", "dask:/127.0.0.1:8786", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'dask:/127.0.0.1:8786'" in err and "dask-local" in err
    assert not any(tmp_path.iterdir())
    with pytest.raises(ValueError, match="executor 'nowhere'"):
        pack.load_options(executor="nowhere")


@pytest.mark.parametrize("value,kind,workers,address", [
    ("local", "local", None, ""), ("dask-local", "dask-local", None, ""), (" dask-local:3 ", "dask-local", 3, ""),
    ("dask://10.0.0.5:8786", "dask", None, "tcp://10.0.0.5:8786"),
    ("dask://scheduler.internal:8786", "dask", None, "tcp://scheduler.internal:8786")])
def test_executor_strings(value, kind, workers, address):
    spec = executors.parse(value)
    assert (spec.kind, spec.workers, spec.address) == (kind, workers, address)


def test_missing_dask_is_one_line_saying_what_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(executors.MissingDask, match=r"pip install 'lambda-workbook\[cluster\]'"):
        executors.open("dask-local:1")
    assert isinstance(executors.open("local"), executors.LocalExecutor)   # the default needs no Dask


def test_local_executor_keeps_order_and_returns_errors():
    ex = executors.LocalExecutor(1)
    seen = []
    got = ex.map(_inverse, [1, 0, 4], order=[2, 1, 0], errors="return", done=lambda i, v: seen.append(i))
    assert got[0] == 1.0 and isinstance(got[1], ZeroDivisionError) and got[2] == 0.25 and seen == [2, 1, 0]
    with pytest.raises(ZeroDivisionError):
        ex.map(_inverse, [1, 0])


def _inverse(x):
    return 1 / x
