"""docs/architecture.md names every module of the package, and the import rules it states hold in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lib" / "lambda_workbook"
DOC = ROOT / "docs" / "architecture.md"
NETWORK = ("boto3", "botocore", "urllib.request", "http", "socket", "requests")
MODELS = ("billing", "prices", "costs", "memory", "triggers", "reads", "coldstarts", "keepalive", "poolsim", "poolfit",
          "initpriors", "initfit", "logs", "iam", "interop", "tuning", "unpriced")
NOT_FROM_MODELS = ("sources", "pack", "report", "plots", "tables", "explorers", "notebook_pages", "index_page", "params",
                   "cli")


def _top(path: Path) -> str:
    """The top-level module of the package a file belongs to (``reads`` for ``reads/s3.py``)."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (lazy imports included), as dotted names."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = list(rel if path.name == "__init__.py" else rel[:-1])
    if path.name == "__init__.py":
        package = package[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                if node.module:
                    out.add(".".join([*base, node.module]))
                else:
                    out |= {".".join([*base, a.name]) for a in node.names}
            else:
                out.add(node.module or "")
    return out


def _package_imports(top: str) -> set[str]:
    files = [PACKAGE / f"{top}.py"] if (PACKAGE / f"{top}.py").exists() else sorted((PACKAGE / top).rglob("*.py"))
    return {name for f in files for name in _imports(f)}


def _internal(names: set[str]) -> set[str]:
    return {n.split(".")[1] for n in names if n.startswith("lambda_workbook.") and len(n.split(".")) > 1}


def test_the_page_names_every_module_of_the_package():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(\w+)/?`", text))
    tops = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert not tops - named, f"docs/architecture.md does not place {sorted(tops - named)}"


def test_only_sources_touches_the_network():
    for path in PACKAGE.rglob("*.py"):
        if _top(path) == "sources":
            continue
        bad = {n for n in _imports(path) if n.split(".")[0] in NETWORK[:2] or n.startswith(NETWORK[2:])}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}; only sources/ may"


@pytest.mark.parametrize("model", MODELS)
def test_models_import_no_handler_no_skin_and_no_transport(model):
    bad = _internal(_package_imports(model)) & set(NOT_FROM_MODELS)
    assert not bad, f"{model} imports {sorted(bad)}"


def test_skins_import_no_model():
    for skin in ("plots", "tables", "table_kinds"):
        assert _internal(_package_imports(skin)) <= {"findings", "tables", "table_kinds", "unpriced"}, skin
