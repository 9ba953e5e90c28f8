"""Steps in two lanes give what one lane gives, in the plan's order; each thread has its own DuckDB connection;
the review with its serial parts beside the worker processes finds what it finds in one process."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from lambda_workbook import review, sources
from lambda_workbook.engine import fanout, lanes
from lambda_workbook.engine.connection import session


def _plan(log: list):
    def step(name, pause=0.0):
        def run():
            time.sleep(pause)
            log.append((name, threading.current_thread().name))
            return name.upper()
        return run
    return [("workers", step("a", 0.2)), ("alongside", step("b")), ("workers", step("c")),
            ("alongside", step("d", 0.05)), ("alongside", step("e"))]


def test_results_in_the_plans_order_with_or_without_a_second_thread():
    for together in (False, True):
        log: list = []
        assert lanes.run(_plan(log), together=together) == ["A", "B", "C", "D", "E"]
        threads = {name: thread for name, thread in log}
        order = [name for name, _ in log]
        if together:
            assert threads["a"] == threads["c"] != threads["b"] == threads["d"] == threads["e"]
            assert order.index("b") < order.index("a")      # the second lane did not wait for the first
            assert order.index("b") < order.index("d") < order.index("e")
        else:
            assert order == ["a", "b", "c", "d", "e"] and len(set(threads.values())) == 1


def test_a_failing_step_raises_after_the_other_lane_finished():
    log: list = []

    def boom():
        raise KeyError("bad step")

    plan = [("alongside", boom), *_plan(log)]
    with pytest.raises(KeyError, match="bad step"):
        lanes.run(plan, together=True)
    assert [name for name, _ in log] == ["a", "c"]        # the workers lane ran to its end
    with pytest.raises(ValueError, match="unknown lane"):
        lanes.run([("elsewhere", lambda: 1)], together=True)


def test_each_thread_has_its_own_connection_to_the_snapshots_database():
    snap = sources.load("sample")
    here = session(snap)
    assert session(snap) is here
    seen, errors = [], []

    def query():
        try:
            con = session(snap)
            seen.append(con)
            for _ in range(20):
                assert con.sql("SELECT sum(range) AS s FROM range(200000)").fetchall()[0][0] == 19999900000
            assert con.sql("SELECT current_setting('TimeZone')").fetchall()[0][0] in ("UTC", "Etc/UTC")
        except Exception as exc:  # reported below
            errors.append(exc)

    others = [threading.Thread(target=query) for _ in range(2)]
    for th in others:
        th.start()
    for _ in range(20):
        here.sql("SELECT count(*) FROM range(100000)").fetchall()
    for th in others:
        th.join()
    assert not errors
    assert len({id(c) for c in seen}) == 2 and all(c is not here for c in seen)


@pytest.fixture(scope="module")
def columnar(tmp_path_factory):
    return sources.save(sources.load("sample"), tmp_path_factory.mktemp("lanes") / "snap", format="parquet")


def test_the_review_beside_its_workers_finds_what_one_process_finds(columnar, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK", 4)   # 29 functions: enough chunks for two workers
    one, two = sources.load_snapshot(columnar), sources.load_snapshot(columnar)
    threads: set[str] = set()
    plain = review.Context.__init__

    def context(self, *args, **kwargs):
        threads.add(threading.current_thread().name)
        plain(self, *args, **kwargs)

    monkeypatch.setattr(review.Context, "__init__", context)
    a = review.run(one, workers=1)
    b = review.run(two, workers=2)
    assert threads == {threading.main_thread().name, "lambda-workbook-alongside"}
    pd.testing.assert_frame_equal(a.findings, b.findings)
    pd.testing.assert_frame_equal(a.spend, b.spend)
    assert list(a.seconds) == list(b.seconds) and a.errors.empty and b.errors.empty
    assert len(a.findings) > 0
