"""A notebook's ``parameters`` cell is its only declaration: papermill sees what the workbook reads from it, the
rules only constrain declared parameters, the setup cells pass nothing again, and the README's tables are
generated from the cells."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import papermill as pm
import pytest

from lambda_workbook import notebook_parameters, params, read_parameters, reads

NOTEBOOKS = list(params.SPECS)
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_workbook_reads_the_cell_as_papermill_does(notebook):
    seen = pm.inspect_notebook(str(notebook_parameters.notebook_path(notebook)))
    ours = params.declared(notebook)
    assert list(ours) == list(seen)
    for name, p in seen.items():
        assert ast.literal_eval(p["default"]) == ours[name].default, name
        assert type(ours[name].default) is ours[name].kind
        assert p["help"] == ours[name].comment, name


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_rules_name_declared_parameters_and_the_defaults_pass_them(notebook):
    cell = params.declared(notebook)
    assert set(params.SPECS.rules(notebook)) <= set(cell), "a rule for a parameter the cell does not declare"
    p = params.from_namespace(notebook, {name: d.default for name, d in cell.items()})
    assert {name: getattr(p, name) for name in cell} == {name: d.default for name, d in cell.items()}


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_setup_cell_checks_the_globals_and_passes_no_parameter_again(notebook):
    doc = json.loads(notebook_parameters.notebook_path(notebook).read_text())
    code = ["".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "code"]
    setup = next(src for src in code if "params." in src)
    assert f'params.open("{notebook}", globals())' in setup
    assert "params.check(" not in "".join(code)
    for name in params.declared(notebook):
        assert not re.search(rf"\b{name}={name}\b", "".join(code)), name


def test_the_parser_refuses_what_papermill_could_not_inject_into():
    with pytest.raises(ValueError, match="line 2: expected 'name = literal"):
        notebook_parameters.parse('a = 1  # one\nb, c = 2, 3\n')
    with pytest.raises(ValueError, match="line 1: the default of 'd' must be a literal"):
        notebook_parameters.parse("d = len('x')\n")
    got = notebook_parameters.parse('n: float = 3  # a number\ns = "x"\n')
    assert got["n"].kind is float and got["n"].comment == "a number" and got["s"].comment == ""


def test_readme_tables_are_the_notebooks_parameters():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- parameters: (\w+) -->", text)
    assert sorted(blocks) == sorted(NOTEBOOKS), "every notebook has one generated parameters table in the README"
    assert params.readme_tables(text) == text, "README tables differ: python -m lambda_workbook.params README.md"
    changed = params.readme_tables(text.replace("| `top_n` | int | `15` |", "| `top_n` | int | `20` |", 1))
    assert changed == text


def test_read_parameters_map_the_notebook_names_onto_the_model(sample_snapshot):
    cell = params.declared("read_what_you_need")
    p = params.from_namespace("read_what_you_need", {name: d.default for name, d in cell.items()})
    s3, db, origin = read_parameters.patterns(p, sample_snapshot)
    assert origin == "entered by hand"
    assert s3["requests_per_month"] == p.reads_per_month and s3["format"] == p.file_format
    assert db["requests_per_month"] == p.db_reads_per_month and db["needed_kb"] is None   # 0 = the whole item
    assert s3["memory_mb"] == db["memory_mb"] == p.memory_mb
    assert len(reads.s3_options(**s3)) and len(reads.dynamodb_options(**db))
    net = read_parameters.network(p, reads.network_measurements(sample_snapshot))
    assert (net.mb_per_s_1vcpu, net.exponent) == (p.network_mb_s, p.network_exponent)   # calibrate is off
