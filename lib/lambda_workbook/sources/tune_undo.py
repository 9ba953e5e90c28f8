"""Undoing a tuning run from its journal: at the end of every run (also after an error or a signal), and for
``lambda-workbook tune --recover`` after a run that was killed outright.

:func:`undo` walks the journal's pending steps newest first: deletes the copy (its versions go with it) and
the copy's log group, deletes the aliases and versions an ``--in-place`` run published, and puts ``$LATEST``'s
memory back — unless ``$LATEST`` now holds a size this run never set (someone deployed meanwhile: left as it
is, with a note). Then, for ``--in-place`` runs, it *sweeps*: lists the function's aliases and versions and
deletes those named ``<prefix>-<MB>-<run>`` or described ``lambda-workbook tune <run>: …`` — what a request
created even though its answer was lost. Every step is idempotent: a resource already gone counts as undone,
so undoing twice is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..renamed import renamed
from . import tune_copy
from .tune_journal import Journal, JournalError, TuneError

_CONFIG = Config(retries={"total_max_attempts": 6, "mode": "adaptive"}, read_timeout=60)


def version_description(run_id: str, memory_mb: float) -> str:
    """The description of a version a run publishes (the sweep finds its own versions by it)."""
    return f"lambda-workbook tune {run_id}: {int(memory_mb)} MB"


def alias_pattern(prefix: str, run_id: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(prefix)}-\d+-{re.escape(run_id)}$")


def _gone(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def _short(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code')}: {err.get('Message')}"
    return str(exc) or exc.__class__.__name__


@renamed(function_name="function")
def restore_memory(client, function_name: str, original_mb: float, sizes_set: set[int], *, timeout_s: float = 120.0,
                   poll_s: float = 1.0, notes: list[str] | None = None) -> str:
    """Put ``$LATEST``'s memory back to ``original_mb`` if it holds one of ``sizes_set``; returns what it did."""
    cfg = tune_copy.wait_ready(client, function_name, timeout_s=timeout_s, poll_s=poll_s)
    now = int(cfg["MemorySize"])
    if now == int(original_mb):
        return f"$LATEST's memory is {now} MB already"
    if now not in sizes_set:
        msg = f"$LATEST's memory is {now} MB, not set by this run: left as it is"
        if notes is not None and msg not in notes:
            notes.append(msg)
        return msg
    kw = {"FunctionName": function_name, "MemorySize": int(original_mb)}
    if cfg.get("RevisionId"):
        kw["RevisionId"] = cfg["RevisionId"]  # a deployment made since the read is never overwritten
    client.update_function_configuration(**kw)
    tune_copy.wait_ready(client, function_name, timeout_s=timeout_s, poll_s=poll_s)
    return f"$LATEST's memory set back to {int(original_mb)} MB"


def _paginate(call, key: str, **kw) -> list[dict[str, Any]]:
    out, marker = [], None
    while True:
        page = call(**kw, **({"Marker": marker} if marker else {}))
        out += page.get(key, [])
        marker = page.get("NextMarker")
        if not marker:
            return out


def _undo_step(step: dict[str, Any], client, logs: Callable[[], Any], header: dict[str, Any], sizes_set: set[int],
               wait: dict[str, float], notes: list[str] | None) -> str:
    kind = step["kind"]
    try:
        if kind == "function":
            client.delete_function(FunctionName=step["name"])
            return f"deleted {step['name']} with its versions"
        if kind == "log-group":
            logs().delete_log_group(logGroupName=step["name"])
            return f"deleted log group {step['name']}"
        if kind == "alias":
            client.delete_alias(FunctionName=step["function"], Name=step["name"])
            return f"deleted alias {step['name']}"
        if kind == "version":
            if not step.get("ours"):
                return f"version {step['version']} existed before the run: kept"
            client.delete_function(FunctionName=step["function"], Qualifier=str(step["version"]))
            return f"deleted version {step['version']}"
        if kind == "memory":
            return restore_memory(client, step["function"], step["original_mb"], sizes_set, notes=notes, **wait)
    except ClientError as exc:
        if _gone(exc):
            return "already gone (or never created)"
        raise
    raise TuneError(f"step {step.get('step')}: unknown kind {kind!r}")


def _delete(call, **kw) -> None:
    """Run a delete call; a resource that is already gone counts as deleted."""
    try:
        call(**kw)
    except ClientError as exc:
        if not _gone(exc):
            raise


def _sweep(client, header: dict[str, Any]) -> list[str]:
    """Delete the run's own aliases and versions of an in-place run's function, found by name and description."""
    function, run = header["function"], header["run"]
    done = []
    names = alias_pattern(header.get("alias_prefix") or tune_copy.PREFIX, run)
    for a in _paginate(client.list_aliases, "Aliases", FunctionName=function):
        if names.match(a["Name"]):
            _delete(client.delete_alias, FunctionName=function, Name=a["Name"])
            done.append(f"alias {a['Name']}")
    marker = f"lambda-workbook tune {run}:"
    for v in _paginate(client.list_versions_by_function, "Versions", FunctionName=function):
        if v.get("Version") != "$LATEST" and (v.get("Description") or "").startswith(marker):
            _delete(client.delete_function, FunctionName=function, Qualifier=v["Version"])
            done.append(f"version {v['Version']}")
    return done


def undo(journal: Journal, client, logs: Callable[[], Any] | None = None, *, notes: list[str] | None = None,
         timeout_s: float = 120.0, poll_s: float = 1.0) -> list[str]:
    """Undo what ``journal`` lists as not undone yet; returns the problems (empty: nothing is left behind)."""
    header = journal.header
    logs = logs or (lambda: boto3.client("logs", region_name=header.get("region"), config=_CONFIG))
    wait = {"timeout_s": timeout_s, "poll_s": poll_s}
    steps = journal.steps()
    sizes_set = {int(s["set_mb"]) for s in steps if s["kind"] == "memory"}
    problems: list[str] = []
    for step in reversed([s for s in steps if s["undone"] is None]):
        if step["kind"] == "copy-change" or (step["kind"] == "version" and step.get("version") is None):
            continue  # the copy's changes go with the copy; a version whose number was lost is found by the sweep
        try:
            how = _undo_step(step, client, logs, header, sizes_set, wait, notes)
        except (ClientError, BotoCoreError, TuneError) as exc:
            problems.append(f"{step['kind']} {step.get('name') or step.get('function')}: {_short(exc)}")
            continue
        journal.undone(step["step"], how)
    if header.get("mode") == "in-place":
        try:
            swept = _sweep(client, header)
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"looking for this run's aliases and versions of {header['function']}: {_short(exc)}")
        else:
            for step in journal.pending():
                if step["kind"] == "version":  # number unknown: the sweep found it, or it was never created
                    journal.undone(step["step"], "swept: " + (", ".join(swept) or "none left"))
    gone = {s["step"] for s in journal.steps() if s["kind"] == "function" and s["undone"] is not None}
    for step in journal.pending():
        if step["kind"] == "copy-change" and step.get("covered_by") in gone:
            journal.undone(step["step"], f"deleted with {step.get('name')}")
    return problems


def recover(path, *, profile: str | None = None, session: boto3.Session | None = None, client=None,
            logs_client=None, out: Callable[[str], None] = print) -> list[str]:
    """``lambda-workbook tune --recover``: undo what the journal at ``path`` lists; returns the problems."""
    journal = Journal.load(path)
    try:
        header = journal.header
        pending = journal.pending()
        if not pending and header.get("mode") != "in-place":
            out(f"{path}: nothing to undo")
            return []
        if client is None:
            session = session or boto3.Session(profile_name=profile or None, region_name=header.get("region"))
            client = session.client("lambda", region_name=header.get("region"), config=_CONFIG)
        maker = session.client if session is not None else boto3.client

        def logs():
            return logs_client or maker("logs", region_name=header.get("region"), config=_CONFIG)
        notes: list[str] = []
        problems = undo(journal, client, logs, notes=notes)
        journal.finish(clean=not problems, problems=problems)
        was_pending = {p["step"] for p in pending}
        for step in journal.steps():
            if step["step"] in was_pending:
                out(f"{path}: step {step['step']} ({step['kind']} {step.get('name') or step.get('function')}): "
                    f"{step['undone'] or 'NOT undone'}")
        for n in notes:
            out(f"note: {n}")
        out(f"{path}: " + ("nothing left behind" if not problems else "still left behind: " + "; ".join(problems)))
        return problems
    finally:
        journal.close()


__all__ = ["JournalError", "alias_pattern", "recover", "restore_memory", "undo", "version_description"]
