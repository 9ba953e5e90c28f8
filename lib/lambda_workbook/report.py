"""Run notebooks headless with papermill and turn them into offline HTML reports.

Reports never load scripts from the network: plotly.js is embedded by the notebook renderer
(:func:`lambda_workbook.plots.setup`), notebook inputs are hidden, and any remote ``<script src=...>`` that
nbconvert's template adds (require.js, MathJax) is removed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from . import atomicfile, datafiles

NOTEBOOKS = ("account_review", "invocation_sources", "read_what_you_need", "cold_starts", "memory")
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE)


class NotebookFailed(RuntimeError):
    """A notebook raised while running; the executed notebook (with the error cell) was still written."""

    def __init__(self, notebook: Path, error: BaseException):
        super().__init__(f"{notebook.name} failed: {error}")
        self.notebook = notebook
        self.error = error


def notebook_path(name: str | os.PathLike) -> Path:
    """A bundled notebook by name (``"memory"``), or ``name`` itself when it is a path to a ``.ipynb``."""
    if str(name).endswith(".ipynb"):
        return Path(name)
    path = datafiles.notebooks_dir() / f"{name}.ipynb"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in datafiles.notebooks_dir().glob("*.ipynb")))
        raise FileNotFoundError(f"no notebook named {name!r} (notebooks: {known})")
    return path


def execute(name: str, output: str | os.PathLike, parameters: dict[str, Any], *, progress: bool = False,
            timeout_s: int = 1200, kernel_name: str | None = None) -> Path:
    """Run notebook ``name`` (or a path to a ``.ipynb``) with ``parameters`` into ``output`` (.ipynb).
    Raises :class:`NotebookFailed`."""
    import papermill as pm

    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = notebook_path(name)
    try:
        # written once at the end (or with the error cell on failure): saving after every cell re-serialises
        # the inlined plotly.js and widget state each time, about 1 s of CPU per notebook
        pm.execute_notebook(str(src), str(out), parameters=parameters, progress_bar=progress,
                            cwd=str(src.parent), execution_timeout=timeout_s, kernel_name=kernel_name,
                            request_save_on_cell_execute=False)
    except Exception as exc:  # papermill writes the failed notebook before raising
        raise NotebookFailed(out, exc) from exc
    return out


def save_results(path: str | os.PathLike | None, results: dict[str, Any]) -> Path | None:
    """Write a notebook's results JSON beside its report (nothing when ``path`` is empty)."""
    if not path:
        return None
    return atomicfile.write_json(path, results)


def table_path(results_path: str | os.PathLike | None, label: str) -> Path | None:
    """Where a notebook's full table ``label`` goes: ``<page>.<label>.csv`` beside its results JSON (None when
    ``results_path`` is empty)."""
    if not results_path:
        return None
    results = Path(results_path)
    stem = results.name.removesuffix(".json").removesuffix(".results")
    return results.with_name(f"{stem}.{label}.csv")


def save_table(results_path: str | os.PathLike | None, label: str, table) -> Path | None:
    """Write a notebook's full table as CSV beside its results JSON (:func:`table_path`; nothing when
    ``results_path`` is empty or ``table`` is a message): the page shows the top rows, the CSV holds them all
    (a named index, such as the findings' rank, is the first column)."""
    path = table_path(results_path, label)
    if path is None or not hasattr(table, "to_csv"):   # no results file, or a message instead of a table
        return None
    named = table.index.name is not None or any(n is not None for n in getattr(table.index, "names", []))
    return atomicfile.write_text(path, table.to_csv(index=named))


def strip_remote_scripts(html: str) -> str:
    """Remove ``<script src="http(s)://...">`` tags so the page needs no network."""
    return _REMOTE_SCRIPT.sub("", html)


def to_html(ipynb: str | os.PathLike, html_path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Convert an executed notebook to standalone HTML with inputs hidden; written atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(ipynb), as_version=4)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    return atomicfile.write_text(html_path, strip_remote_scripts(body))


def account_review(out_dir: str | os.PathLike = "reports", *, progress: bool = False, **parameters) -> Path:
    """Run ``account_review`` and write ``<out_dir>/index.html``; returns the HTML path."""
    out = Path(out_dir)
    ipynb = execute("account_review", out / "account_review.ipynb",
                    {**parameters, "results_path": str((out / "account_review.results.json").resolve())},
                    progress=progress)
    return to_html(ipynb, out / "index.html", title="Lambda account review")
