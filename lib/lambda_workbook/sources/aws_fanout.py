"""The scan's (account, region) units as tasks of a remote executor (a Dask cluster).

A task may run on another machine, so it carries no session: :func:`scan_unit` makes its own from the profile
name (or the worker's default credentials), assumes the account's Organization role again when the scan came
through one (:mod:`.aws_org`), scans the region as the thread pool would (:func:`.aws._scan_region_safely`) and
returns plain data: the region's rows, its evidence and its call counts. :func:`run` maps the units over the
executor and puts what came back into the scan's own units, evidence and call log, so the snapshot is assembled
as after a local scan. The workers need the same profiles (or credentials allowed to assume the role) and
network access to AWS; the credentials themselves never travel with a task.
"""

from __future__ import annotations

from typing import Any

from .aws_calls import CallLog
from .aws_common import Account, Evidence, Progress, RegionScan, client_config, make_session

#: What a unit carries back (the lists the readers fill).
FIELDS = ("functions", "concurrency", "triggers", "metrics", "reports", "samples", "segments", "disabled")
_COUNTERS = ("calls", "attempts", "metrics_requested", "bytes_scanned")


def scan_unit(item: dict[str, Any]) -> dict[str, Any]:
    """One (account, region) scanned where this task runs; plain data back."""
    from . import aws_org
    from .aws import _scan_region_safely

    opts, region = item["options"], item["region"]
    session = make_session(item["profile"], region)
    if item["role_arn"]:
        session = aws_org.assumed_session(session, item["role_arn"], region, external_id=item["external_id"],
                                          config=client_config(opts.max_attempts))
    calls, evidence = CallLog(), Evidence()
    account = Account(item["profile"], session, opts, calls)
    account.account_id = item["account_id"]
    unit = RegionScan(account, region, item["start"], item["end"], evidence, Progress(False), opts)
    done = _scan_region_safely(unit)
    return {"unit": None if done is None else {f: getattr(unit, f) for f in FIELDS}, "evidence": evidence.rows,
            "counts": {name: dict(getattr(calls, name)) for name in _COUNTERS}}


def run(units: list[RegionScan], executor, *, external_id: str | None = None,
        progress: bool = False) -> list[RegionScan | None]:
    """Scan ``units`` as tasks of ``executor``; each unit comes back filled (None: its functions could not be
    listed, which its evidence says)."""
    items = [{"profile": u.account.profile, "role_arn": getattr(u.account, "role_arn", None),
              "external_id": external_id, "account_id": u.account.account_id, "region": u.region,
              "start": u.start, "end": u.end, "options": u.options} for u in units]
    out = executor.map(scan_unit, items, progress=progress, desc="accounts x regions scanned", unit="region")
    done: list[RegionScan | None] = []
    for unit, got in zip(units, out, strict=True):
        for row in got["evidence"]:
            unit.evidence.add(**row)
        log = unit.account.calls
        with log._lock:
            for name in _COUNTERS:
                getattr(log, name).update(got["counts"][name])
        if got["unit"] is None:
            done.append(None)
            continue
        for name, value in got["unit"].items():
            setattr(unit, name, value)
        done.append(unit)
    return done
