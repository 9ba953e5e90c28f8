"""Signals during a tuning run: ``lambda-workbook tune`` runs in a subprocess against moto, stops at a chosen
call (a botocore hook in the child prints ``PAUSED`` and sleeps), and gets SIGTERM, SIGHUP or SIGINT there.

The child must undo everything itself and exit with ``128 + signal``: no copy, no ``lwb-tune-*`` alias or
version, no log group, and the function as it was. With SIGKILL the child cannot clean up: the journal it wrote
before each change is enough for ``lambda-workbook tune --recover`` to leave nothing behind, and to do nothing
harmful when run again.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from lambda_workbook import cli
from lambda_workbook.sources import tune_journal
from tune_moto import FN, ZIP, lam, leftovers, logs, moto, original

__all__ = ["lam", "logs", "moto"]  # fixtures

CHILD = textwrap.dedent('''
    import os, sys, time
    import boto3
    from lambda_workbook import cli
    from lambda_workbook.sources import tune_copy

    with open(os.environ["LWB_TEST_ZIP"], "rb") as fh:
        code = fh.read()
    tune_copy.fetch_code = lambda url, **kw: code       # the test never reaches AWS's code location
    op, nth, when = os.environ["LWB_PAUSE_OP"], int(os.environ["LWB_PAUSE_NTH"]), os.environ["LWB_PAUSE_WHEN"]
    seen = {"n": 0}

    def pause(model, **kw):
        if model.name == op:
            seen["n"] += 1
            if seen["n"] == nth:
                print("PAUSED", op, when, flush=True)
                deadline = time.monotonic() + 60
                while not os.path.exists(os.environ["LWB_GO"]) and time.monotonic() < deadline:
                    time.sleep(0.02)   # a signal that raises ends this; a deferred one waits for the go file

    make_client = boto3.session.Session.client

    def client(self, *a, **kw):
        c = make_client(self, *a, **kw)
        c.meta.events.register(f"{when}-call.*.*", pause)
        return c

    boto3.session.Session.client = client
    sys.exit(cli.main(sys.argv[1:]))
''')


def start(tmp_path, journal, op: str, nth: int, when: str, in_place: bool):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    (tmp_path / "code.zip").write_bytes(ZIP)
    env = {**os.environ, "LWB_TEST_ZIP": str(tmp_path / "code.zip"), "LWB_PAUSE_OP": op, "LWB_PAUSE_NTH": str(nth),
           "LWB_PAUSE_WHEN": when, "LWB_GO": str(tmp_path / "go")}
    args = [sys.executable, str(script), "tune", "--function", FN, "--memory", "256,1024", "--max-invocations", "6",
            "--quiet", "--region", "us-east-1", *(["--journal", str(journal)] if journal else []),
            *(["--in-place"] if in_place else [])]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def wait_paused(proc, timeout_s: float = 60.0) -> str:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        if sel.select(timeout=0.5):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("PAUSED"):
                return line
    proc.kill()
    raise AssertionError(f"the child never paused; stdout {''.join(seen)!r}, stderr {proc.stderr.read()!r}")


def assert_as_before(lam, logs, before, in_place: bool) -> None:
    assert leftovers(lam, logs) == []
    after = original(lam)
    if in_place:
        assert after["config"]["MemorySize"] == 512
        assert after["versions"] == before["versions"] and after["aliases"] == before["aliases"]
    else:
        assert after == before


# where the signal lands: (mode, operation, which call of it, before it is sent / after its answer came back)
POINTS = [
    (False, "CreateFunction", 1, "after"),
    (False, "UpdateFunctionConfiguration", 2, "after"),
    (False, "PublishVersion", 1, "after"),
    (False, "Invoke", 3, "before"),
    (False, "DeleteFunction", 1, "before"),           # during the cleanup: deferred, the cleanup goes on
    (True, "UpdateFunctionConfiguration", 1, "after"),  # $LATEST holds the trial size
    (True, "PublishVersion", 2, "after"),
    (True, "CreateAlias", 1, "after"),
    (True, "Invoke", 2, "before"),
    (True, "DeleteAlias", 1, "before"),
]
SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
CASES = [(*p, SIGNALS[i % 3]) for i, p in enumerate(POINTS)]
# every signal at the most delicate point of each mode too
CASES += [(False, "CreateFunction", 1, "after", s) for s in SIGNALS if (False, "CreateFunction", 1, "after", s)
          not in CASES]
CASES += [(True, "UpdateFunctionConfiguration", 1, "after", s) for s in SIGNALS
          if (True, "UpdateFunctionConfiguration", 1, "after", s) not in CASES]


@pytest.mark.parametrize("in_place,op,nth,when,sig", CASES,
                         ids=[f"{'in-place' if c[0] else 'copy'}-{c[1]}{c[2]}-{c[3]}-{signal.Signals(c[4]).name}"
                              for c in CASES])
def test_a_signal_cleans_up_and_exits_with_its_code(lam, logs, tmp_path, in_place, op, nth, when, sig):
    before = original(lam)
    journal = tmp_path / "run.jsonl"
    proc = start(tmp_path, journal, op, nth, when, in_place)
    wait_paused(proc)
    assert leftovers(lam, logs) or original(lam)["config"]["MemorySize"] != 512, "something is in flight"
    proc.send_signal(sig)
    (tmp_path / "go").touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, (proc.returncode, out, err)
    assert f"interrupted by {signal.Signals(sig).name}" in err
    assert_as_before(lam, logs, before, in_place)
    assert tune_journal.Journal.load(journal, lock=False).finished_clean()


@pytest.mark.parametrize("in_place,op,nth,when", [
    (False, "CreateFunction", 1, "after"), (False, "Invoke", 2, "before"),
    (True, "UpdateFunctionConfiguration", 1, "after"), (True, "CreateAlias", 2, "after")],
    ids=["copy-created", "copy-measuring", "in-place-trial-size", "in-place-second-alias"])
def test_after_sigkill_recover_leaves_nothing_behind(lam, logs, tmp_path, capsys, in_place, op, nth, when):
    before = original(lam)
    journal = tmp_path / "run.jsonl"
    proc = start(tmp_path, journal, op, nth, when, in_place)
    wait_paused(proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert leftovers(lam, logs) != [] or original(lam)["config"]["MemorySize"] != 512, "the kill left something"
    assert not tune_journal.Journal.load(journal, lock=False).finished_clean()
    assert cli.main(["tune", "--recover", str(journal)]) == 0
    assert_as_before(lam, logs, before, in_place)
    assert cli.main(["tune", "--recover", str(journal)]) == 0
    assert_as_before(lam, logs, before, in_place)
    out = capsys.readouterr().out
    assert "nothing left behind" in out and "NOT undone" not in out


def test_recover_without_a_journal_takes_every_unfinished_one(lam, logs, tmp_path, monkeypatch):
    monkeypatch.setenv(tune_journal.DIR_ENV, str(tmp_path / "journals"))
    before = original(lam)
    proc = start(tmp_path, None, "PublishVersion", 1, "after", False)
    wait_paused(proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert len(tune_journal.unfinished()) == 1 and leftovers(lam, logs) != []
    assert cli.main(["tune", "--recover"]) == 0
    assert_as_before(lam, logs, before, False) and tune_journal.unfinished() == []
    assert cli.main(["tune", "--recover"]) == 0


def test_recover_refuses_a_journal_a_live_run_holds(lam, logs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(tune_journal.DIR_ENV, str(tmp_path / "journals"))
    proc = start(tmp_path, None, "Invoke", 1, "before", False)
    try:
        wait_paused(proc)
        (journal,) = tune_journal.unfinished()
        assert cli.main(["tune", "--recover", str(journal)]) == 2
        assert "still holds journal" in capsys.readouterr().err
        assert cli.main(["tune", "--recover"]) == 1
        assert "skipped: a tuning run (pid" in capsys.readouterr().out
        assert leftovers(lam, logs) != [], "the live run's copy was not touched"
    finally:
        proc.send_signal(signal.SIGTERM)
        (tmp_path / "go").touch()
        proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and leftovers(lam, logs) == []
    assert tune_journal.unfinished() == []
