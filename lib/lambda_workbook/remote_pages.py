"""A notebook page of the review pack run on a machine that shares no folder with the pack.

The pack's notebook job (:func:`lambda_workbook.notebook_pages.execute_job`) reads files (the findings CSV, the
analysis bundle) and writes files (the executed ``.ipynb``, its HTML page, its results JSON) at paths of the
pack's machine. :func:`item` wraps a job for a remote executor: the files it reads go with it as bytes (or as
handles of bytes sent to the cluster once). :func:`execute_remote` (the task) writes them into a scratch folder
of its worker, points the job's paths there, runs the job and returns what it wrote as bytes, with every scratch
path in them put back to the pack's path; :func:`write_back` (on the pack's side) writes those files into the run
folder. So a worker needs the workbook installed and nothing shared with the pack's machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import atomicfile
from .analysis import BUNDLE_FILE, SHARED_DIR
from .notebook_pages import execute_job

#: What a result of :func:`execute_remote` carries besides :func:`execute_job`'s keys: the files it wrote, and
#: what its kernels printed to stderr (start-up warnings), which the pack appends to the run's notebooks.log.
FILES, LOG = "files", "log"

_STDERR = threading.Lock()
_REDIRECT: dict[str, Any] = {"users": 0, "saved": None, "log": None}


@contextlib.contextmanager
def _stderr_to_log() -> Iterator[tuple[Path, int]]:
    """While notebooks run here, this process's stderr (which kernels inherit) goes to a log file of its own
    instead of the worker's console; yields the log and where this task's lines start. Tasks running at once
    share one redirection; the last one to finish restores stderr."""
    with _STDERR:
        if _REDIRECT["users"] == 0:
            log = Path(tempfile.gettempdir()) / f"lambda-workbook-kernels-{os.getpid()}.log"
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            _REDIRECT.update(saved=os.dup(2), log=log)
            os.dup2(fd, 2)
            os.close(fd)
        _REDIRECT["users"] += 1
        log = _REDIRECT["log"]
        start = log.stat().st_size
    try:
        yield log, start
    finally:
        with _STDERR:
            _REDIRECT["users"] -= 1
            if _REDIRECT["users"] == 0:
                os.dup2(_REDIRECT["saved"], 2)
                os.close(_REDIRECT["saved"])
                _REDIRECT["saved"] = None


def _read_from(log: Path, start: int) -> bytes:
    with contextlib.suppress(OSError), log.open("rb") as fh:
        fh.seek(start)
        return fh.read()
    return b""


def item(spec: dict[str, Any], inputs: dict[str, tuple[str, Any]], kept: dict[str, str] | None = None
         ) -> dict[str, Any]:
    """A task for :func:`execute_remote`: the job's ``spec`` and, per parameter that names a file it reads,
    ``(path on the pack's machine, the file's bytes or a handle of them)``; ``kept``: per parameter, a folder name
    under which the file stays on the worker's machine for the run's other notebooks (an analysis bundle, and
    beside it the folder through which they share what they compute, as on one machine)."""
    return {"spec": spec, "inputs": inputs, "kept": dict(kept or {})}


#: Where the files a run keeps on a worker's machine live (one folder per run, removed by :func:`forget`).
KEPT_ROOT = "lambda-workbook-bundles"


def _kept(run_key: str) -> Path:
    return Path(tempfile.gettempdir()) / KEPT_ROOT / run_key


def forget(run: str) -> None:
    """Remove what a run kept on this machine (run on every worker once the run's notebooks are done)."""
    shutil.rmtree(Path(tempfile.gettempdir()) / KEPT_ROOT / run, ignore_errors=True)


def items(jobs: list, specs: list[dict[str, Any]], bundles: dict[tuple[str, str], bytes | None],
          share: Callable[[bytes], Any], run: str = "run") -> list[dict[str, Any]]:
    """The pack's jobs as tasks for :func:`execute_remote`: each ships the findings CSV it reads and its
    partition's analysis bundle (``bundles[(account_id, region)]``), each file sent to the cluster once
    (``share``); a worker's machine keeps each bundle for the run ``run`` (see :func:`forget`)."""
    sent: dict[Any, Any] = {}

    def once(key: Any, read: Callable[[], bytes]) -> Any:
        if key not in sent:
            sent[key] = share(read())
        return sent[key]

    out = []
    for job, spec in zip(jobs, specs, strict=True):
        parameters, inputs = spec["parameters"], {}
        if parameters.get("findings_path"):
            path = parameters["findings_path"]
            inputs["findings_path"] = (path, once(path, Path(path).read_bytes))
        key = (job.account_id, job.region)
        if "analysis_path" in parameters and bundles.get(key) is not None:
            where = Path(tempfile.gettempdir()) / "lambda-workbook-analysis" / key[0] / key[1] / BUNDLE_FILE
            inputs["analysis_path"] = (str(where), once(key, lambda key=key: bundles[key]))
        kept = {"analysis_path": f"{run}/{key[0]}/{key[1]}"} if "analysis_path" in inputs else {}
        out.append(item(spec, inputs, kept))
    return out


def _swap(data: bytes, pairs: list[tuple[str, str]]) -> bytes:
    text = data.decode("utf-8", errors="surrogateescape")
    for old, new in pairs:
        text = text.replace(old, new)
    return text.encode("utf-8", errors="surrogateescape")


def execute_remote(task: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook job in a scratch folder of this worker; return its result with ``files``: ``{path on the
    pack's machine: bytes}`` (scratch paths inside them replaced by the pack's). Never raises for a failed
    notebook (:func:`execute_job` reports it)."""
    spec = dict(task["spec"])
    parameters = dict(spec["parameters"])
    work = Path(tempfile.mkdtemp(prefix="lambda-workbook-page-"))
    back: list[tuple[str, str]] = []     # (scratch path, pack path), files before their folders
    folders: list[tuple[str, str]] = []
    try:
        for name, (pack_path, data) in task["inputs"].items():
            if name in task.get("kept", {}):   # written once per machine; the notebooks share what they compute
                local = _kept(task["kept"][name]) / Path(pack_path).name
                if not local.exists():
                    atomicfile.write_bytes(local, data)
                (local.parent / SHARED_DIR).mkdir(exist_ok=True)
            else:
                local = work / "in" / name / Path(pack_path).name
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(data)
            parameters[name] = str(local)
            back.append((str(local), pack_path))
            folders.append((str(local.parent), str(Path(pack_path).parent)))
        out = work / "out"
        out.mkdir()
        outputs = {"ipynb": spec["ipynb"], "html": spec["html"]}
        if parameters.get("results_path"):
            outputs["results_path"] = parameters["results_path"]
        for key, pack_path in outputs.items():
            local = str(out / Path(pack_path).name)
            if key == "results_path":
                parameters[key] = local
            else:
                spec[key] = local
            back.append((local, pack_path))
        folders.append((str(out), str(Path(outputs["html"]).parent)))
        spec["parameters"] = parameters
        pairs = back + folders
        with _stderr_to_log() as (log, start):
            result = execute_job(spec)
            result[LOG] = _read_from(log, start)
        files = {}
        for local, pack_path in back[len(back) - len(outputs):]:
            if Path(local).exists():
                files[pack_path] = _swap(Path(local).read_bytes(), pairs)
        for extra in sorted(out.iterdir()):   # tables the notebook saved beside its page (report.save_table)
            target = str(Path(outputs["html"]).parent / extra.name)
            if extra.is_file() and target not in files:
                files[target] = _swap(extra.read_bytes(), pairs)
        result["html"] = outputs["html"] if result.get("html") else None
        result["error"] = _swap(str(result.get("error", "")).encode(), pairs).decode()
        result[FILES] = files
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_back(result: dict[str, Any], log: Path | None = None) -> dict[str, Any]:
    """Write a remote job's files where the pack expects them, and what its kernels printed to ``log``;
    returns the result without the bytes."""
    for path, data in (result.get(FILES) or {}).items():
        atomicfile.write_bytes(path, data)
    if log is not None and result.get(LOG):
        with log.open("ab") as fh:
            fh.write(result[LOG])
    return {k: v for k, v in result.items() if k not in (FILES, LOG)}
