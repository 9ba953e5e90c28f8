"""What a notebook declares in its ``parameters`` cell: names, defaults, types and the comment beside each.

The cell is the only declaration of a notebook's parameters. This reads it the way papermill's own inspection
(``papermill.inspect_notebook``) does — one ``name = value  # help`` per line, the type of the value (or an
annotation) as the parameter's type — but with the standard library only, so a kernel can read its own notebook
without importing papermill (whose import takes over a second). The tests hold the two readings equal.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


@dataclass(frozen=True)
class Declared:
    """One line of a ``parameters`` cell."""

    name: str
    kind: type
    default: Any
    comment: str


def notebook_path(notebook: str | Path) -> Path:
    """A bundled notebook by name (``"memory"``), or ``notebook`` itself when it is a path to a ``.ipynb``."""
    if str(notebook).endswith(".ipynb"):
        return Path(notebook)
    from .datafiles import notebooks_dir

    return notebooks_dir() / f"{notebook}.ipynb"


def parameters_source(notebook: str | Path) -> str:
    """The source of the notebook's first cell tagged ``parameters``."""
    path = notebook_path(notebook)
    doc = json.loads(path.read_text(encoding="utf-8"))
    for cell in doc.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    raise ValueError(f"{path} has no cell tagged 'parameters'")


def _comments(source: str) -> dict[int, str]:
    """Line number -> the text of the comment ending that line."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def parse(source: str, where: str = "parameters cell") -> dict[str, Declared]:
    """The parameters a ``parameters`` cell's source declares, in order. Every statement must assign one
    literal (a string, number or boolean) to one name; anything else is refused with the line it is on."""
    comments = _comments(source)
    out: dict[str, Declared] = {}
    for node in ast.parse(source).body:
        annotation = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, annotation = node.target.id, node.value, ast.unparse(node.annotation).strip("'\"")
        else:
            raise ValueError(f"{where} line {node.lineno}: expected 'name = literal  # meaning'; got "
                             f"{ast.get_source_segment(source, node)!r}")
        try:
            default = ast.literal_eval(value)
        except ValueError:
            raise ValueError(f"{where} line {node.lineno}: the default of {name!r} must be a literal; got "
                             f"{ast.get_source_segment(source, value)!r}") from None
        kind = _TYPES.get(annotation) if annotation else type(default)
        if kind not in _TYPES.values():
            raise ValueError(f"{where} line {node.lineno}: {name!r} must be a str, int, float or bool; got "
                             f"{annotation or type(default).__name__}")
        out[name] = Declared(name, kind, default, comments.get(node.end_lineno, ""))
    return out


_CACHE: dict[tuple[str, int], dict[str, Declared]] = {}


def declared(notebook: str | Path) -> dict[str, Declared]:
    """The parameters the notebook's ``parameters`` cell declares (read again when the file changes)."""
    path = notebook_path(notebook)
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = parse(parameters_source(path), where=f"{path.name} parameters cell")
    return _CACHE[key]
