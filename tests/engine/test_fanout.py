"""Per-function work in chunks on worker processes gives what one process gives, and says how many it uses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from lambda_workbook import coldstarts, memory, reads, sources
from lambda_workbook.engine import ByFunction, fanout
from lambda_workbook.schema import KEY


@pytest.fixture(scope="module")
def columnar(tmp_path_factory):
    """The sample account written as a columnar snapshot (its metrics and REPORT lines stay on disk)."""
    return sources.save(sources.load("sample"), tmp_path_factory.mktemp("fan") / "snap", format="parquet")


def test_two_workers_give_the_tables_of_one_process(columnar, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK", 4)   # 29 functions: 8 chunks over two processes
    one, two = sources.load_snapshot(columnar), sources.load_snapshot(columnar)
    assert one.is_lazy("metrics")
    with fanout.using(1):
        a1, m1, r1 = coldstarts.analyse(one), memory.recommend_all(one), reads.findings(one)
        c1 = coldstarts.findings(one)
    with fanout.using(2):
        assert fanout.processes(two, len(two.functions)) == 2
        a2, m2, r2 = coldstarts.analyse(two), memory.recommend_all(two), reads.findings(two)
        c2 = coldstarts.findings(two)
    pd.testing.assert_frame_equal(c1, c2)
    assert len(c1) > 0
    pd.testing.assert_frame_equal(a1, a2)
    assert a1.attrs == a2.attrs
    pd.testing.assert_frame_equal(m1, m2)
    pd.testing.assert_frame_equal(r1, r2)
    assert len(a1) == len(one.functions) and len(m1) > 0 and len(r1) > 0


def _keys_chunk(snapshot, part, scope, *, tag):
    scope.setdefault("seen", 0)
    scope["seen"] += len(part)
    return [(tag, p) for p in part]


def _rows_chunk(snapshot, part, scope):
    return [(r.Index, r.a) for r in part.itertuples()]


def test_results_come_back_in_the_items_order(columnar):
    snap = sources.load_snapshot(columnar)
    items = list(range(23))
    table = pd.DataFrame({"a": items}, index=[f"r{i}" for i in items])
    for workers in (1, 3):
        got = fanout.map_chunks(_keys_chunk, snap, items, workers=workers, chunk=2, tag="x")
        assert got == [("x", i) for i in items]
        assert fanout.map_chunks(_rows_chunk, snap, table, workers=workers, chunk=5) == \
            list(zip(table.index, table["a"], strict=True))


def test_how_many_processes(columnar, monkeypatch):
    lazy, in_memory = sources.load_snapshot(columnar), sources.load("sample")
    monkeypatch.delenv(fanout.WORKERS_ENV, raising=False)
    monkeypatch.setattr(fanout, "usable_cores", lambda: 2)
    big = fanout.MIN_FUNCTIONS
    assert fanout.processes(lazy, big) == 2            # on disk and big enough: every core
    assert fanout.processes(lazy, big - 1) == 1        # a small account: not worth a worker's start
    assert fanout.processes(in_memory, 10 * big) == 1  # in memory: the rows would travel to every worker
    assert fanout.processes(lazy, big, requested=3) == 3
    assert fanout.processes(lazy, 150, requested=8) == 2   # never more processes than chunks
    monkeypatch.setenv(fanout.WORKERS_ENV, "1")
    assert fanout.processes(lazy, big) == 1
    with fanout.using(4):
        assert fanout.processes(lazy, big) == 4        # the setting wins over the environment


@pytest.mark.parametrize("bad", [0, -1, "two", 1.5, True, 65])
def test_a_bad_number_of_workers_is_one_line(bad):
    with pytest.raises(ValueError, match="workers .* is not allowed: use 'auto' or a whole number from 1 to 64") as e:
        fanout.check_workers(bad)
    assert "\n" not in str(e.value)


def test_a_planned_block_holds_each_functions_own_rows(columnar):
    snap = sources.load_snapshot(columnar)
    funcs = snap.functions.sort_values(KEY).head(6).to_dict("records")
    planned, single = ByFunction(snap), ByFunction(snap)
    planned.BLOCK = 3   # the four planned functions in two blocks
    planned.plan(funcs[:4])
    cols = ["metric", "stat", "timestamp", "value"]
    for fn in funcs:   # the last two are outside the plan: asked one by one
        a = planned.rows("metrics", fn).sort_values(cols).reset_index(drop=True)
        b = single.rows("metrics", fn).sort_values(cols).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
        assert len(a) and set(a["function_name"]) == {fn["function_name"]}


def test_a_script_without_a_main_guard_starts_workers(columnar, tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from lambda_workbook import sources
        from lambda_workbook.engine import fanout
        import tests_fanout_task
        snap = sources.load_snapshot({str(columnar)!r})
        print("ran", fanout.map_chunks(tests_fanout_task.double, snap, list(range(6)), workers=2, chunk=2))
    """))
    (tmp_path / "tests_fanout_task.py").write_text(
        "import os\n\ndef double(snapshot, part, scope):\n    return [(os.getpid(), 2 * p) for p in part]\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("ran") == 1            # the script ran once: the workers did not run it again
    pairs = eval(out.stdout.split("ran", 1)[1])    # noqa: S307  (our own output)
    assert [v for _, v in pairs] == [0, 2, 4, 6, 8, 10]
    assert os.getpid() not in {p for p, _ in pairs}


def test_a_worker_that_dies_is_one_clear_error(columnar, tmp_path, monkeypatch):
    (tmp_path / "tests_fanout_die.py").write_text(
        "import os\n\ndef die(snapshot, part, scope):\n    os._exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import tests_fanout_die

    snap = sources.load_snapshot(columnar)
    with pytest.raises(RuntimeError, match="worker process of 2 stopped") as e:
        fanout.map_chunks(tests_fanout_die.die, snap, list(range(4)), workers=2, chunk=1)
    assert fanout.WORKERS_ENV in str(e.value)


def test_without_the_memo_the_table_travels_with_the_chunks(columnar, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK", 8)
    snap = sources.load_snapshot(columnar)
    with fanout.using(1):
        want = coldstarts.findings(snap)
    monkeypatch.setenv("LAMBDA_WORKBOOK_CACHE", "0")   # workers could not read the analysis from a memo
    with fanout.using(2):
        got = coldstarts.findings(sources.load_snapshot(columnar))
    pd.testing.assert_frame_equal(want, got)


def _processes_in_child(path, queue):
    from lambda_workbook import sources
    from lambda_workbook.engine import fanout

    queue.put(fanout.processes(sources.load_snapshot(path), 10 * fanout.MIN_FUNCTIONS, requested=2))


def test_a_daemonic_process_starts_no_workers(columnar):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_processes_in_child, args=(str(columnar), queue), daemon=True)
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=60)
    assert got == 1      # asked for two, but a daemonic process may not have children
    assert fanout.processes(sources.load_snapshot(columnar), 10 * fanout.MIN_FUNCTIONS, requested=2) == 2
