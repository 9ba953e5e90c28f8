import pytest

from lambda_workbook import params

GOOD = dict(source="sample", snapshot_path="", profile="", region="all", lookback_days=14, top_n=15, results_path="",
            account="all", findings_path="")


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
