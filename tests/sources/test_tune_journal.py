"""The tuner's journal (append-only JSON lines, locked while a run is alive) and its signal guard, in-process."""

from __future__ import annotations

import json
import os
import signal

import pytest

from lambda_workbook.sources import tune_journal, tune_signals
from lambda_workbook.sources.tune_journal import Journal, JournalError


def started(path, **header) -> Journal:
    return Journal.start(path, run="abc123", mode="copy", region="us-east-1", function="fn", **header)


def test_steps_merge_what_was_learned_and_undone(tmp_path):
    j = started(tmp_path / "j.jsonl")
    a = j.intent("function", "lambda:CreateFunction", "delete it", name="lwb-tune-fn-abc123")
    b = j.intent("copy-change", "lambda:PublishVersion", "with the copy", name="lwb-tune-fn-abc123", covered_by=a)
    j.done(b, version="3")
    assert [s["step"] for s in j.pending()] == [a, b] and j.steps()[1]["version"] == "3"
    j.undone(a, "deleted")
    assert [s["step"] for s in j.pending()] == [b] and not j.finished_clean()
    j.undone(b, "with the copy")
    j.finish(clean=True, problems=[])
    assert j.finished_clean()
    j.close()
    lines = (tmp_path / "j.jsonl").read_text().splitlines()
    assert [json.loads(x)["event"] for x in lines] == ["start", "intent", "intent", "done", "undone", "undone", "end"]
    assert oct((tmp_path / "j.jsonl").stat().st_mode & 0o777) == "0o600"
    assert Journal.load(tmp_path / "j.jsonl").finished_clean()


def test_a_torn_last_line_is_skipped_a_broken_middle_line_is_not(tmp_path):
    j = started(tmp_path / "j.jsonl")
    j.intent("function", "lambda:CreateFunction", "delete it", name="x")
    j.close()
    with open(tmp_path / "j.jsonl", "a") as fh:
        fh.write('{"event": "intent", "step": 2, "kind": "fun')  # killed inside the write
    loaded = Journal.load(tmp_path / "j.jsonl", lock=False)
    assert loaded.torn == 1 and [s["step"] for s in loaded.pending()] == [1]
    (tmp_path / "bad.jsonl").write_text((tmp_path / "j.jsonl").read_text().replace('"intent"', '"intent', 1) + "\n{}\n")
    with pytest.raises(JournalError, match="line 2: not a JSON object"):
        Journal.load(tmp_path / "bad.jsonl")
    (tmp_path / "other.jsonl").write_text('{"event": "start", "schema": 99}\n')
    with pytest.raises(JournalError, match="not a lambda-workbook tune journal"):
        Journal.load(tmp_path / "other.jsonl")


def test_a_live_run_holds_its_journal(tmp_path):
    j = started(tmp_path / "j.jsonl")
    with pytest.raises(JournalError, match=r"still holds journal .*j.jsonl"):
        Journal.load(tmp_path / "j.jsonl")
    with pytest.raises(JournalError, match="exists already"):
        started(tmp_path / "j.jsonl")
    j.close()
    Journal.load(tmp_path / "j.jsonl").close()


def test_where_journals_go(tmp_path, monkeypatch):
    monkeypatch.setenv(tune_journal.DIR_ENV, str(tmp_path / "default"))
    assert tune_journal.path_for(None, "arn:aws:lambda:us-east-1:1:function:fn", "abc123") == \
        tmp_path / "default" / "fn-abc123.jsonl"
    assert tune_journal.path_for(tmp_path, "fn", "abc123") == tmp_path / "fn-abc123.jsonl"
    assert tune_journal.path_for(tmp_path / "mine.jsonl", "fn", "abc123") == tmp_path / "mine.jsonl"
    started(tmp_path / "default" / "a.jsonl").close()
    b = started(tmp_path / "default" / "b.jsonl")
    b.finish(clean=True, problems=[])
    b.close()
    assert tune_journal.unfinished() == [tmp_path / "default" / "a.jsonl"]


def test_the_guard_raises_once_and_defers_during_cleanup():
    before = signal.getsignal(signal.SIGTERM)
    guard = tune_signals.Guard()
    assert guard.arm()
    try:
        with pytest.raises(tune_signals.Interrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before os.kill returns to Python
        assert caught.value.exit_code == 143 and caught.value.name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGHUP)  # after the one that raised: recorded only
        assert guard.received == [signal.SIGTERM, signal.SIGHUP]
    finally:
        guard.disarm()
    guard = tune_signals.Guard()
    guard.arm()
    try:
        with guard.deferred():
            os.kill(os.getpid(), signal.SIGINT)
        pending = guard.pending_interrupt()
        assert isinstance(pending, KeyboardInterrupt) and pending.exit_code == 130
    finally:
        guard.disarm()
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    guard = tune_signals.Guard()
    try:
        guard.arm()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN and signal.SIGHUP not in guard.previous
    finally:
        guard.disarm()
        signal.signal(signal.SIGHUP, previous)
