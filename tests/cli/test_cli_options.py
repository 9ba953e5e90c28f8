"""Option values are checked when the command line is parsed: a bad value stops the command before any work with
one line naming the option, the value and what is allowed."""

from __future__ import annotations

import argparse

import pytest

from lambda_workbook import cli, pack

S3 = ["reads", "s3", "--object-mb", "40", "--fraction", "0.02", "--requests", "30000"]
DDB = ["reads", "dynamodb", "--table-items", "100", "--items-needed", "2", "--item-kb", "1.5", "--requests", "10"]
TUNE = ["tune", "--function", "f", "--memory", "128,256"]

BAD = [
    (["review"], "--chart-top", "0"),
    (["review"], "--chart-top", "501"),
    (["review"], "--top", "-1"),
    (["review"], "--workers", "-2"),
    (["review"], "--timeout", "0"),
    (["review"], "--days", "0"),
    (["review"], "--days", "456"),
    (["review"], "--days", "1.5"),
    (["review"], "--rank-by", "dollars"),
    (["review"], "--source", "s3"),
    (["scan", "--out", "x"], "--days", "-3"),
    (["scan", "--out", "x"], "--max-insights-gb", "-1"),
    (["priors", "refresh"], "--months", "0"),
    (["priors", "refresh"], "--months", "121"),
    (["triggers", "compare"], "--events", "-5"),
    (["triggers", "compare"], "--payload-kb", "nan"),
    (["triggers", "compare"], "--memory-mb", "64"),
    (["triggers", "compare"], "--memory-mb", "20000"),
    (["triggers", "compare"], "--batch-size", "0"),
    (["triggers", "compare"], "--window-s", "301"),
    (["triggers", "compare"], "--duration-ms", "inf"),
    (["triggers", "compare"], "--overhead-ms", "-1"),
    (["triggers", "compare"], "--arch", "x86"),
    (S3, "--fraction", "1.5"),
    (S3, "--memory-mb", "0"),
    (S3, "--need", "speed"),
    (["reads", "s3", "--fraction", "0.1", "--requests", "5"], "--object-mb", "0"),
    (DDB, "--writes", "-1"),
    (["reads", "dynamodb", "--table-items", "1", "--items-needed", "1", "--requests", "1"], "--item-kb", "401"),
    (["reads", "units", "get", "--"], None, "-3"),
    (["coldstarts", "analyse"], "--keep-alive", "0"),
    (["coldstarts", "analyse"], "--keep-alive", "forever"),
    (["coldstarts", "analyse"], "--routing", "random"),
    (TUNE, "--balanced-weight", "2"),
    (TUNE, "--slo-ms", "0"),
    (TUNE, "--max-invocations", "0"),
    (TUNE, "--expected-ms", "-10"),
]


@pytest.mark.parametrize(("base", "option", "value"), BAD, ids=lambda x: str(x))
def test_a_bad_value_stops_at_parse_time_with_one_line(base, option, value, capsys):
    argv = base + ([option, value] if option else [value])
    with pytest.raises(SystemExit) as exc:
        cli.parser().parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert err.startswith("lambda-workbook ") and ": error: " in err
    assert repr(value) in err or value in err, err
    if option:
        assert option in err, err
    assert "allowed" in err or "choose from" in err, err


@pytest.mark.parametrize(("argv", "name", "value"), [
    (["review", "--chart-top", "1"], "chart_top", 1),
    (["review", "--chart-top", "500", "--top", "0", "--workers", "0", "--days", "455"], "chart_top", 500),
    (["triggers", "compare", "--memory-mb", "10240", "--window-s", "300", "--batch-size", "10000"], "memory_mb", 10240),
    (S3 + ["--fraction", "0"], "fraction", 0.0),
    (["coldstarts", "analyse", "--keep-alive", "7.5"], "keep_alive", "7.5"),
    (["coldstarts", "analyse", "--keep-alive", "measured-2021"], "keep_alive", "measured-2021"),
    (["reads", "units", "get", "0", "400"], "sizes_kb", [0.0, 400.0]),
    (TUNE + ["--balanced-weight", "0"], "balanced_weight", 0.0),
])
def test_values_at_the_edges_of_the_ranges_pass(argv, name, value):
    assert getattr(cli.parser().parse_args(argv), name) == value


def test_review_with_chart_top_0_writes_nothing(tmp_path, capsys):
    out = tmp_path / "reports"
    assert cli.main(["review", "--chart-top", "0", "--deep-dives", "none", "--out", str(out), "--quiet"]) == 2
    assert not out.exists()
    assert "argument --chart-top: got '0'; allowed: a whole number from 1 to 500" in capsys.readouterr().err


def test_a_configuration_file_gets_the_same_checks(tmp_path):
    cfg = tmp_path / "review.yaml"
    for text, message in [("chart-top: 0\n", "chart_top must be a whole number from 1 to 500, got 0"),
                          ("days: 0\n", "days must be a whole number from 1 to 455, got 0"),
                          ("timeout: 0\n", "timeout must be a whole number >= 1, got 0"),
                          ("top: -1\n", "top must be a whole number >= 0, got -1"),
                          ("workers: 2.5\n", "workers must be a whole number >= 0, got 2.5")]:
        cfg.write_text(text)
        with pytest.raises(ValueError, match=message):
            pack.load_options(cfg)
    assert pack.load_options(chart_top=1, days=1, timeout=1, top=0, workers=0)["chart_top"] == 1


def _actions(parser: argparse.ArgumentParser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, (*path, name))
        else:
            yield path, action


def test_no_numeric_option_is_left_unchecked():
    """Every option that takes a number goes through a range check (plain int/float let 0, -1 and nan through)."""
    loose = [(" ".join(path), a.dest) for path, a in _actions(cli.parser()) if a.type in (int, float)]
    assert not loose, loose
    checked = [(" ".join(path), a.dest) for path, a in _actions(cli.parser()) if callable(a.type)]
    assert len(checked) >= 30 and ("review", "chart_top") in checked
