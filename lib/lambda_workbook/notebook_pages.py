"""One notebook of the review pack, run and made fit for the pack (this runs in the pack's worker processes).

:func:`execute_job` executes a notebook with papermill (a kernel that fails to start is retried once), then
:func:`finish_notebook` drops widget state, replaces plotly's inlined bundle by a ``<script src>`` to the
pack's shared copy, masks account ids and local paths when asked, and writes the HTML with inputs hidden. A
failure is reported, never raised; a notebook stopped by a parameter check is reported as that check's one line.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from . import atomicfile, report
from .redact import Redactor

PLOTLY_FILE = "plotly.min.js"
_PLOTLY_BANNER = re.compile(r"\*\s*plotly\.js v\d")
_WIDGET = "application/vnd.jupyter.widget-view+json"
_EXPLORER_NOTE = ("<p><em>Interactive explorer: it needs a live kernel, so it is not part of this offline report. "
                  "Open the notebook (<code>.ipynb</code> beside this page) in JupyterLab to use it.</em></p>")
#: Errors whose message is the whole story (a parameter the notebook refused): the pack shows the message alone.
ONE_LINE_ERRORS = ("ParameterError", "BundleError")
#: Parameters that only held for the run (the analysis bundle is deleted after it): reset in the saved notebook
#: so that it runs again as it is, computing what the bundle held.
RUN_ONLY_PARAMETERS = {"analysis_path": ('""', "the review's analysis bundle, removed after the run")}


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def quiet_worker(log: str) -> None:
    """Pool initializer: one math thread per kernel (the pool already keeps every core busy), and the worker's
    (and its kernels') stderr to the run's log, so kernel start-up warnings do not drown the progress bar."""
    for name in _THREAD_VARS:
        os.environ.setdefault(name, "1")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def plotly_tag(src: str) -> str:
    """What replaces plotly's inlined bundle: its config line and a script loading the shared copy."""
    return ("<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
            f"<script type=\"text/javascript\" src=\"{src}\"></script>\n")


def plotly_source() -> Path:
    """plotly.py's bundled ``plotly.min.js`` (the same file its notebook renderer inlines)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_FILE


def make_redactor(redact: Redactor | dict[str, str] | None) -> Redactor | None:
    return redact if isinstance(redact, Redactor) or redact is None else Redactor(dict(redact))


def _reset_run_only(cell) -> None:
    """Papermill's injected-parameters cell with the run-only parameters set back to their defaults."""
    lines = []
    for line in cell.source.splitlines():
        name = line.split("=", 1)[0].strip()
        if name in RUN_ONLY_PARAMETERS and "=" in line:
            value, why = RUN_ONLY_PARAMETERS[name]
            line = f"{name} = {value}  # {why}"
        lines.append(line)
    cell.source = "\n".join(lines)


def finish_notebook(ipynb: Path, html_path: Path, *, plotly_src: str | None,
                    redact: Redactor | dict[str, str] | None, title: str) -> Path:
    """Make an executed notebook fit for the pack, then write its HTML (inputs hidden).

    Widget state (which embeds the explorers' JavaScript) is dropped and widget outputs become a note; with
    ``plotly_src`` the inlined plotly.js bundle is replaced by a ``<script src>`` to the shared copy (without,
    it stays inlined); ``redact`` (a :class:`Redactor`, or its aliases) masks account ids and local paths.
    """
    import nbformat

    redactor = make_redactor(redact)

    nb = nbformat.read(str(ipynb), as_version=4)
    nb.metadata.pop("widgets", None)
    ran_with = nb.metadata.get("papermill", {}).get("parameters", {})
    for name in RUN_ONLY_PARAMETERS:
        if name in ran_with:
            ran_with[name] = ""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            _reset_run_only(cell)
        for i, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {})
            if _WIDGET in data:
                cell.outputs[i] = nbformat.v4.new_output("display_data", data={
                    "text/html": _EXPLORER_NOTE, "text/plain": "(interactive explorer: open the notebook in JupyterLab)"})
            elif plotly_src and _PLOTLY_BANNER.search(str(data.get("text/html", ""))[:2000]):
                data["text/html"] = plotly_tag(plotly_src)
    text = nbformat.writes(nb)
    if redactor:
        text = redactor(text)
    atomicfile.write_text(ipynb, text)
    out = report.to_html(ipynb, html_path, title=title)
    if redactor:
        redactor.file(out)
    return out


def kernel_never_ran(ipynb: Path) -> bool:
    """True when papermill failed before any cell ran (a kernel that did not start)."""
    import nbformat

    if not ipynb.exists():
        return True
    try:
        nb = nbformat.read(str(ipynb), as_version=4)
    except Exception:
        return True
    return not any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def error_line(err: BaseException) -> str:
    """What the pack says about a failed notebook: a refused parameter as its message alone (one line), any other
    error as ``Name: message``."""
    name = getattr(err, "ename", type(err).__name__)
    value = str(getattr(err, "evalue", err))
    if name in ONE_LINE_ERRORS:
        return next((line.strip() for line in value.splitlines() if line.strip()), name)
    return f"{name}: {value}".strip()


def execute_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook of the pack (in a worker process): execute, retry a failed kernel start once, finish
    the notebook and its HTML, redact its results JSON. Never raises: failures are reported in the result."""
    start = time.perf_counter()
    ipynb, html_path = Path(spec["ipynb"]), Path(spec["html"])
    result = {"status": "ok", "error": "", "attempts": 0, "html": None}
    for attempt in (1, 2):
        result["attempts"] = attempt
        try:
            report.execute(spec["notebook"], ipynb, spec["parameters"], timeout_s=spec["timeout_s"])
            break
        except report.NotebookFailed as exc:
            err = exc.error
            result.update(status="failed", error=error_line(err))
            if attempt == 1 and not hasattr(err, "ename") and kernel_never_ran(ipynb):
                result.update(status="ok", error="")
                continue
            break
        except Exception as exc:  # papermill itself broke: keep going with the batch
            result.update(status="failed", error=f"{type(exc).__name__}: {exc}")
            break
    if ipynb.exists():
        try:
            finish_notebook(ipynb, html_path, plotly_src=spec["plotly_src"], redact=spec["redact"], title=spec["title"])
            result["html"] = str(html_path)
        except Exception as exc:
            result.update(status="failed", error=result["error"] or f"HTML conversion failed: {type(exc).__name__}: {exc}")
    results = Path(spec["parameters"].get("results_path") or "/nonexistent")
    redactor = make_redactor(spec["redact"])
    if redactor and results.exists():
        redactor.file(results)
    if redactor and result["error"]:
        result["error"] = redactor(result["error"])
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result
