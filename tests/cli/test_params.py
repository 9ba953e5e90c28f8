import pytest

from lambda_workbook import params

GOOD = dict(source="sample", snapshot_path="", profile="", region="all", lookback_days=14, top_n=15, results_path="",
            account="all", findings_path="", table_rows=200)


def test_good_parameters_pass_and_are_parsed():
    p = params.check("account_review", **{**GOOD, "region": "us-east-1, eu-west-1", "profile": "a,b"})
    assert p.regions == ["us-east-1", "eu-west-1"] and p.profiles == ["a", "b"]
    assert params.check("account_review", **GOOD).regions is None


@pytest.mark.parametrize("name, value, message", [
    ("source", "bogus", "'source' must be one of 'sample', 'snapshot', 'aws'; got 'bogus'"),
    ("lookback_days", 0, "'lookback_days' must be >= 1"),
    ("lookback_days", "14", "'lookback_days' must be int"),
    ("top_n", True, "'top_n' must be int"),
    ("region", "Europe", "'region' must be 'all' or region codes"),
])
def test_bad_values_name_parameter_and_allowed_values(name, value, message):
    with pytest.raises(params.ParameterError) as err:
        params.check("account_review", **{**GOOD, name: value})
    assert message in str(err.value)


def test_snapshot_source_needs_a_path():
    with pytest.raises(params.ParameterError, match="'snapshot_path' is required"):
        params.check("account_review", **{**GOOD, "source": "snapshot"})


def test_unknown_and_missing_parameters():
    with pytest.raises(params.ParameterError, match=r"no parameter\(s\) \['colour'\]"):
        params.check("account_review", **GOOD, colour="red")
    with pytest.raises(params.ParameterError, match="missing"):
        params.check("account_review", source="sample")


def test_describe_lists_every_parameter():
    text = params.describe("account_review")
    for name in params.SPECS["account_review"]:
        assert f"`{name}`" in text


def test_analysis_path_is_accepted_by_every_notebook_but_not_required():
    assert params.check("account_review", **GOOD).analysis_path == ""
    p = params.check("account_review", **GOOD, analysis_path="/tmp/bundle.pickle")
    assert p.analysis_path == "/tmp/bundle.pickle"
    with pytest.raises(params.ParameterError, match="'analysis_path' must be str"):
        params.check("account_review", **GOOD, analysis_path=3)
    assert "`analysis_path`" in params.describe("memory")


def test_importing_params_loads_no_model_and_no_dataframe_library():
    import subprocess
    import sys

    code = ("import sys, lambda_workbook, lambda_workbook.params as p; "
            "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'lambda_workbook.triggers', 'lambda_workbook.billing') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
    # the specs are still there when asked for
    assert list(params.SPECS) == ["account_review", "invocation_sources", "read_what_you_need", "cold_starts",
                                  "memory"]
    assert params.SPECS["invocation_sources"]["arch"].choices == ("x86_64", "arm64")


def test_the_parameters_cell_declares_names_types_defaults_and_meanings():
    spec = params.SPECS["memory"]
    cell = params.declared("memory")
    assert [n for n in cell if n != "analysis_path"] == list(spec)
    assert spec["top_n"].kind is int and spec["top_n"].default == cell["top_n"].default
    assert spec["top_n"].doc == cell["top_n"].comment != ""
    # the rules add only what the cell cannot say
    assert (spec["top_n"].minimum, spec["top_n"].maximum) == (1, 500)
    assert spec["strategy"].choices == ("cost", "speed", "balanced")


def test_from_namespace_checks_every_declared_parameter_and_ignores_other_globals():
    cell = params.declared("account_review")
    namespace = {name: d.default for name, d in cell.items()} | {"In": [], "pd": object(), "top_n": 7}
    p = params.from_namespace("account_review", namespace)
    assert p.top_n == 7 and p.source == cell["source"].default and not hasattr(p, "pd")
    with pytest.raises(params.ParameterError, match="'top_n' must be <= 500"):
        params.from_namespace("account_review", {**namespace, "top_n": 501})
    with pytest.raises(params.ParameterError, match=r"missing parameter\(s\) \['lookback_days'\]"):
        params.from_namespace("account_review", {k: v for k, v in namespace.items() if k != "lookback_days"})
    with pytest.raises(params.ParameterError, match="unknown notebook 'nope'"):
        params.from_namespace("nope", namespace)


def test_open_checks_then_loads_the_snapshot_restricted_to_the_accounts(sample_snapshot):
    namespace = {name: d.default for name, d in params.declared("account_review").items()}
    account = sorted(sample_snapshot.accounts)[0]
    p, snap = params.open("account_review", {**namespace, "account": account})
    assert p.accounts == [account] and set(snap.accounts) == {account}
    assert 0 < len(snap.functions) < len(sample_snapshot.functions)
    with pytest.raises(params.ParameterError, match="'source' must be one of"):
        params.open("account_review", {**namespace, "source": "s3"})


def test_a_rule_that_parses_refuses_a_malformed_value_in_one_line():
    values = {name: d.default for name, d in params.declared("cold_starts").items()}
    assert params.check("cold_starts", **values).pc_schedule == values["pc_schedule"]
    with pytest.raises(params.ParameterError, match="'pc_schedule' must be 'auto', '' or like") as err:
        params.check("cold_starts", **{**values, "pc_schedule": "weekdays 9 to 5"})
    assert "\n" not in str(err.value)


def test_describe_gives_defaults_and_what_is_allowed():
    lines = {line.split(" | ")[0].strip("| `"): line for line in params.describe("invocation_sources").splitlines()}
    assert "`10000000.0`" in lines["events_per_month"] and "≥ 0" in lines["events_per_month"]
    assert "128–10,240" in lines["memory_mb"] and "1–10,000" in lines["batch_size"]
    assert "`'sqs'`" in lines["batch_source"]
