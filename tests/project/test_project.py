"""The project's shape: environment.yml mirrors pyproject.toml, the README shows its commands, CLI basics."""

import re
import subprocess
import sys
import tomllib

import yaml

from conftest import ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_mirrors_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    deps = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    conda_deps = {_name(d): d.replace(" ", "") for d in conda if _name(d) not in ("python", "pip")}
    assert conda_deps == deps
    assert "conda-forge" in env["channels"]
    assert any(re.match(r"python>=3\.11", d) for d in conda)
    assert "-e ." in pip_section


def test_readme_shows_the_two_commands_first():
    text = (ROOT / "README.md").read_text()
    assert text.index("make review") < text.index("make test") < text.index("make lab")
    assert (ROOT / ".ci" / "run").read_text().count("make test") == 1


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lambda_workbook.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_prices_and_schema():
    out = _cli("prices", "regions")
    assert out.returncode == 0 and "us-east-1" in out.stdout
    out = _cli("prices", "show", "--region", "eu-west-1")
    assert out.returncode == 2 and "lambda-workbook prices refresh --region eu-west-1" in out.stderr
    out = _cli("schema")
    assert out.returncode == 0 and "functions.csv" in out.stdout


def test_cli_sample_generate_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _cli("sample", "generate", "--out", str(a)).returncode == 0
    assert _cli("sample", "generate", "--out", str(b)).returncode == 0
    for f in a.iterdir():
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_cli_choices_match_the_library():
    """The CLI imports the library lazily (a fast --help), so its argparse choices are copies: keep them equal."""
    from lambda_workbook import billing, cli, coldstarts, memory, pack, reads, sources

    def choices(*path):
        ap = cli.parser()
        for name in path[:-1]:
            ap = next(a for a in ap._actions if a.dest in ("command", "action")).choices[name]
        return tuple(next(a for a in ap._actions if a.dest == path[-1]).choices)

    assert choices("review", "source") == sources.SOURCES
    assert choices("review", "rank_by") == pack.RANK_BY
    assert choices("tune", "strategy") == memory.STRATEGIES
    assert choices("triggers", "compare", "arch") == billing.ARCHITECTURES
    for sub in ("s3", "dynamodb"):
        assert choices("reads", sub, "arch") == billing.ARCHITECTURES
        assert choices("reads", sub, "need") == tuple(reads.NEEDS)
    assert choices("reads", "s3", "format") == reads.FORMATS
    assert choices("reads", "s3", "transfer") == tuple(reads.TRANSFERS)
    assert choices("coldstarts", "findings", "routing") == ("auto", *coldstarts.MODELS)
    assert set(choices("triggers", "findings", "source")) < set(sources.SOURCES)
