"""The tuner's journal: every AWS change a tuning run is about to make, written down *before* the call.

A run killed at any point (``kill -9``, a lost machine) leaves a file that names everything it may have
created or changed and how to undo it; ``lambda-workbook tune --recover`` reads it and undoes what is not
marked undone (:mod:`.tune_undo`). One JSON object per line:

* ``start`` (the first line): run id, mode (``copy`` or ``in-place``), region, the function and its ARN,
  ``$LATEST``'s memory, the copy's name, the process id;
* ``intent``: a step about to run — ``kind`` (``function``, ``log-group``, ``copy-change``, ``memory``,
  ``version``, ``alias``), the IAM ``action``, the resource (``name``, ``function``, sizes, …) and ``undo``,
  a sentence saying how it is undone;
* ``done``: what the call returned that undoing needs (a version number);
* ``undone``: the step is undone, and how;
* ``end``: the run finished; ``clean`` says whether nothing was left behind.

Each line is appended with one ``write`` on a file opened with ``O_APPEND`` and flushed to disk with
``fsync`` before the AWS call it announces, so a crash leaves whole lines (a torn last line, if the kill
landed inside the write, is skipped: its call was never made). The journal holds names, ARNs, sizes and
version numbers — never environment variable values, code or payloads. While a run is alive it holds an
exclusive ``flock`` on its journal, so ``--recover`` cannot undo a run that is still going.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere journals are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

SCHEMA = 1
#: Overrides the default folder ``~/.lambda-workbook/tune-journal``.
DIR_ENV = "LAMBDA_WORKBOOK_TUNE_JOURNAL_DIR"
SUFFIX = ".jsonl"


class TuneError(RuntimeError):
    """A tuning run could not prepare, measure or clean up; the message says what is left behind, if anything."""


class JournalError(ValueError):
    """A journal that cannot be used: exists already, unreadable, locked by a live run, not a tuner journal."""


def default_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or Path.home() / ".lambda-workbook" / "tune-journal")


def path_for(where: str | os.PathLike | None, function_name: str, run_id: str) -> Path:
    """The journal file of a run: ``where`` if it names a file, else ``<where or default_dir()>/<fn>-<run>.jsonl``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", function_name.split(":function:")[-1])[:80]
    name = f"{safe}-{run_id}{SUFFIX}"
    if where is None or str(where) == "":
        return default_dir() / name
    p = Path(where).expanduser()
    if p.is_dir() or str(where).endswith(os.sep):
        return p / name
    return p


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Journal:
    """An open journal: append with :meth:`intent`, :meth:`done`, :meth:`undone`, :meth:`finish`."""

    def __init__(self, path: Path, entries: list[dict[str, Any]], fd: int | None, torn: int = 0):
        self.path = Path(path)
        self.entries = entries
        self.torn = torn
        self._fd = fd

    # -- opening -----------------------------------------------------------------------------------------
    @classmethod
    def start(cls, path: str | os.PathLike, **header: Any) -> Journal:
        """Create a new journal at ``path`` (never over an existing file) and write its ``start`` line."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise JournalError(f"journal {path} exists already: give another --journal, or undo it with "
                               f"lambda-workbook tune --recover {path}") from None
        _lock(fd, path)
        j = cls(path, [], fd)
        j._append({"event": "start", "schema": SCHEMA, "time": _now(), "pid": os.getpid(), **header})
        return j

    @classmethod
    def load(cls, path: str | os.PathLike, *, lock: bool = True) -> Journal:
        """Read a journal (to recover it); with ``lock`` take its lock, refusing one a live run holds."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise JournalError(f"cannot read journal {path}: {exc.strerror or exc}") from None
        entries, torn = [], 0
        lines = raw.split(b"\n")
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict):
                    raise ValueError
            except ValueError:
                if i >= len(lines) - 1:  # the last line, torn by a kill inside the write: its call never ran
                    torn += 1
                    continue
                raise JournalError(f"journal {path}, line {i}: not a JSON object") from None
            entries.append(entry)
        if not entries or entries[0].get("event") != "start" or entries[0].get("schema") != SCHEMA:
            raise JournalError(f"{path} is not a lambda-workbook tune journal (schema {SCHEMA})")
        fd = None
        if lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            _lock(fd, path, what=f"a tuning run (pid {entries[0].get('pid')}) still holds journal {path}: "
                                 "let it finish, or stop it first")
        return cls(path, entries, fd, torn)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None

    # -- writing -----------------------------------------------------------------------------------------
    def _append(self, entry: dict[str, Any]) -> None:
        if self._fd is None:
            raise JournalError(f"journal {self.path} is closed")
        data = (json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        self.entries.append(entry)  # first: a signal landing during the write must not hide the step from cleanup
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fsync(self._fd)

    def intent(self, kind: str, action: str, undo: str, **resource: Any) -> int:
        """Announce a change before making it; returns its step number."""
        step = 1 + sum(1 for e in self.entries if e.get("event") == "intent")
        self._append({"event": "intent", "step": step, "time": _now(), "kind": kind, "action": action,
                      "undo": undo, **resource})
        return step

    def done(self, step: int, **learned: Any) -> None:
        self._append({"event": "done", "step": step, **learned})

    def undone(self, step: int, how: str) -> None:
        self._append({"event": "undone", "step": step, "time": _now(), "how": how})

    def finish(self, clean: bool, problems: list[str]) -> None:
        self._append({"event": "end", "time": _now(), "clean": bool(clean), "problems": list(problems)})

    # -- reading -----------------------------------------------------------------------------------------
    @property
    def header(self) -> dict[str, Any]:
        return self.entries[0]

    def steps(self) -> list[dict[str, Any]]:
        """Every intent, merged with what its ``done`` lines learned, plus ``undone`` (the how, or None)."""
        by_step: dict[int, dict[str, Any]] = {}
        for e in self.entries:
            ev, step = e.get("event"), e.get("step")
            if ev == "intent":
                by_step[step] = {**e, "undone": None}
            elif ev == "done" and step in by_step:
                by_step[step].update({k: v for k, v in e.items() if k not in ("event", "step")})
            elif ev == "undone" and step in by_step:
                by_step[step]["undone"] = e.get("how") or "undone"
        return [by_step[k] for k in sorted(by_step)]

    def pending(self) -> list[dict[str, Any]]:
        """The steps not undone yet, in the order they were announced."""
        return [s for s in self.steps() if s["undone"] is None]

    def finished_clean(self) -> bool:
        ends = [e for e in self.entries if e.get("event") == "end"]
        return bool(ends) and bool(ends[-1].get("clean")) and not self.pending()


def _lock(fd: int, path: Path, what: str | None = None) -> None:
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise JournalError(what or f"journal {path} is locked by another process") from None


def unfinished(folder: str | os.PathLike | None = None) -> list[Path]:
    """Journals in ``folder`` (default :func:`default_dir`) whose run did not end clean."""
    root = Path(folder) if folder else default_dir()
    out = []
    for p in sorted(root.glob(f"*{SUFFIX}")) if root.is_dir() else []:
        try:
            if not Journal.load(p, lock=False).finished_clean():
                out.append(p)
        except JournalError:
            out.append(p)  # unreadable: let recover() say why
    return out
