"""A fault at every call of a tuning run, against moto: nothing is left behind and the function is as it was.

A botocore event hook makes call #k fail, for every k of a short run (2 sizes, 6 invocations), either before
the request is sent or after moto has carried it out (the answer is "lost": a ReadTimeoutError) — the case
where a version, an alias or the copy exists but the run never heard of it. The run's own cleanup must undo
everything: in the copy mode the function must be identical (configuration with RevisionId and LastModified,
versions, aliases), in place its memory, versions and aliases. When every call from #k on fails (the network
is gone), the cleanup cannot finish: the error names the journal, and ``lambda-workbook tune --recover`` with
it leaves nothing behind, twice in a row.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from lambda_workbook import cli, tuning
from lambda_workbook.sources import aws_invoker, tune_journal
from tune_moto import FN, READS, Calls, fetch_stub, lam, leftovers, logs, moto, original, report_tail

__all__ = ["lam", "logs", "moto"]  # fixtures

SIZES = [256, 1024]
BUDGET = 6
CAP = {False: 20, True: 32}  # call indexes tried: a copy run makes 18 calls, an in-place run 30
_BASELINE: dict[bool, list[str]] = {}


def tune_once(lam, logs, tmp_path, *, in_place: bool, **fault):
    calls = Calls(lam, logs, **fault)
    error = None
    try:
        aws_invoker.tune_function(FN, SIZES, client=lam, logs_client=logs, journal=tmp_path, fetch_code=fetch_stub,
                                  out=lambda s: None, in_place=in_place, max_invocations=BUDGET, poll_s=0.01,
                                  log_tail_source=report_tail())
    except (aws_invoker.InvokerError, BotoCoreError, ClientError, tuning.TuningError) as exc:
        error = exc
    calls.stop()
    return calls, error


def baseline(lam, logs, tmp_path, in_place: bool) -> list[str]:
    """The operations of a run without faults (the same every time: durations come from report_tail)."""
    if in_place not in _BASELINE:
        calls, error = tune_once(lam, logs, tmp_path / "baseline", in_place=in_place)
        assert error is None
        _BASELINE[in_place] = calls.ops()
    return _BASELINE[in_place]


def assert_as_before(lam, logs, before, in_place: bool) -> None:
    assert leftovers(lam, logs) == []
    after = original(lam)
    if in_place:  # $LATEST was updated and put back: its memory, not its LastModified, is as before
        assert after["config"]["MemorySize"] == before["config"]["MemorySize"]
        assert after["versions"] == before["versions"] and after["aliases"] == before["aliases"]
    else:
        assert after == before


@pytest.mark.parametrize("in_place", [False, True], ids=["copy", "in-place"])
def test_the_cap_covers_every_call(lam, logs, tmp_path, in_place):
    ops = baseline(lam, logs, tmp_path, in_place)
    assert len(ops) <= CAP[in_place], ops
    writes = {"CreateFunction", "UpdateFunctionConfiguration", "PublishVersion", "CreateAlias", "DeleteFunction"}
    assert writes & set(ops) and ("CreateAlias" in ops) == in_place


@pytest.mark.parametrize("when", ["after", "before"], ids=["answer-lost", "not-sent"])
@pytest.mark.parametrize("in_place,k", [(False, k) for k in range(1, CAP[False] + 1)] +
                         [(True, k) for k in range(1, CAP[True] + 1)])
def test_a_fault_at_call_k_leaves_nothing_behind(lam, logs, tmp_path, k, when, in_place):
    ops = baseline(lam, logs, tmp_path, in_place)
    if k > len(ops):
        pytest.skip(f"the run makes {len(ops)} calls")
    before = original(lam)
    calls, error = tune_once(lam, logs, tmp_path, in_place=in_place, fail_at=k, when=when)
    assert calls.failed == [(k, ops[k - 1])], "the fault hit the call it was meant for"
    assert calls.ops()[:k] == ops[:k]
    assert_as_before(lam, logs, before, in_place)
    paths = list(tmp_path.glob("*.jsonl"))
    if paths:
        journal = tune_journal.Journal.load(paths[0], lock=False)
        assert len(paths) == 1 and journal.finished_clean(), journal.entries[-1]
    else:  # stopped while still reading: no change was made, so no journal was started
        assert error is not None and set(ops[:k]) <= READS
    if error is not None:
        assert "left things behind" not in str(error)
    if not in_place:
        assert set(calls.on(FN)) <= {"GetFunctionConfiguration", "GetFunction"}


def _points(in_place: bool) -> list[str]:
    return ["UpdateFunctionConfiguration", "PublishVersion", "CreateAlias", "Invoke"] if in_place else \
        ["CreateFunction", "UpdateFunctionConfiguration", "PublishVersion", "Invoke"]


@pytest.mark.parametrize("in_place,op", [(False, op) for op in _points(False)] + [(True, op) for op in _points(True)])
def test_network_gone_then_recover_leaves_nothing_behind(lam, logs, tmp_path, capsys, in_place, op):
    ops = baseline(lam, logs, tmp_path, in_place)
    k = ops.index(op) + 1
    before = original(lam)
    calls, error = tune_once(lam, logs, tmp_path, in_place=in_place, fail_at=k, persist=True)
    assert calls.failed[0] == (k, op) and len(calls.failed) > 1
    (path,) = tmp_path.glob("*.jsonl")
    assert isinstance(error, aws_invoker.InvokerError) and f"--recover {path}" in str(error)
    assert leftovers(lam, logs) != [] or (in_place and original(lam) != before)
    assert not tune_journal.Journal.load(path, lock=False).finished_clean()
    capsys.readouterr()
    assert cli.main(["tune", "--recover", str(path)]) == 0
    assert "nothing left behind" in capsys.readouterr().out
    assert_as_before(lam, logs, before, in_place)
    assert cli.main(["tune", "--recover", str(path)]) == 0, "recovering twice is harmless"
    assert_as_before(lam, logs, before, in_place)
    assert tune_journal.Journal.load(path, lock=False).finished_clean()
