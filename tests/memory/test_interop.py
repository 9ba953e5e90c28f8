"""Power Tuning and Compute Optimizer documents in, tables out.

Compute Optimizer responses go through botocore's Stubber on a compute-optimizer client, which checks each
response against the service model's shapes before handing it back (no network, dummy credentials).
Power Tuning documents follow its README-INPUT-OUTPUT.md ("State Machine Output"),
https://github.com/alexcasalboni/aws-lambda-power-tuning/blob/master/README-INPUT-OUTPUT.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import botocore.session
import numpy as np
import pandas as pd
import pytest
from botocore.stub import Stubber

from lambda_workbook import interop, memory

ARN = "arn:aws:lambda:us-east-1:111122223333:function:{}"


# ---- Compute Optimizer --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    return botocore.session.get_session().create_client(
        "compute-optimizer", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def stubbed(client, *pages):
    """Each page as the SDK hands it back, after the Stubber validated it against the service model."""
    out = []
    with Stubber(client) as stub:
        for page in pages:
            stub.add_response("get_lambda_function_recommendations", page)
            out.append(client.get_lambda_function_recommendations())
    return out if len(out) > 1 else out[0]


def option(memory_mb, rank, expected, saving=None, currency="USD", after=None):
    opt = {"rank": rank, "memorySize": memory_mb, "projectedUtilizationMetrics": [
        {"name": "Duration", "statistic": "LowerBound", "value": expected * 0.8},
        {"name": "Duration", "statistic": "Expected", "value": expected},
        {"name": "Duration", "statistic": "UpperBound", "value": expected * 1.3}]}
    if saving is not None:
        opt["savingsOpportunity"] = {"savingsOpportunityPercentage": 30.0,
                                     "estimatedMonthlySavings": {"currency": currency, "value": saving}}
    if after is not None:
        opt["savingsOpportunityAfterDiscounts"] = {"savingsOpportunityPercentage": 20.0,
                                                   "estimatedMonthlySavings": {"currency": currency, "value": after}}
    return opt


def function(name, current_mb, *, duration_max=None, duration_avg=None, memory_max=None, options=(), **extra):
    util = [{"name": "Duration", "statistic": s, "value": v}
            for s, v in (("Maximum", duration_max), ("Average", duration_avg)) if v is not None]
    util += [{"name": "Memory", "statistic": "Maximum", "value": memory_max}] if memory_max is not None else []
    rec = {"functionArn": ARN.format(name) + ":$LATEST", "functionVersion": "$LATEST", "accountId": "111122223333",
           "currentMemorySize": current_mb, "numberOfInvocations": 50_000, "lookbackPeriodInDays": 14.0,
           "utilizationMetrics": util, "finding": "NotOptimized", "findingReasonCodes": ["MemoryOverprovisioned"],
           "currentPerformanceRisk": "Low", "memorySizeRecommendationOptions": list(options)}
    return {**rec, **extra}


def one_line(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text and text
    return text


def test_the_service_model_has_the_statistics_and_currencies_relied_on(client):
    shape = client.meta.service_model.shape_for
    assert set(shape("LambdaFunctionMetricStatistic").enum) >= {"Maximum"}
    assert set(shape("LambdaFunctionMemoryMetricStatistic").enum) == {"LowerBound", "Expected", "UpperBound"}
    assert set(shape("Currency").enum) == {"USD", "CNY"}
    option_members = shape("LambdaFunctionMemoryRecommendationOption").members
    assert {"savingsOpportunity", "savingsOpportunityAfterDiscounts"} <= set(option_members)
    assert set(interop.CO_COLUMNS) >= {"duration_stat", "savings_currency", "savings_usd"}


def test_maximum_only_duration_is_an_upper_bound_not_a_mean(client):
    resp = stubbed(client, {"lambdaFunctionRecommendations": [
        function("orders-api", 1024, duration_max=900.0, memory_max=180.0,
                 options=[option(512, 1, 140.0, saving=3.5), option(768, 2, 120.0, saving=1.0)])]})
    rows = interop.from_compute_optimizer(resp)
    assert len(rows) == 2 and set(rows["duration_stat"]) == {"Maximum"}
    assert rows["duration_mean_ms"].isna().all() and (rows["duration_max_ms"] == 900.0).all()
    assert "upper bound" in rows.loc[0, "notes"] and "14-day" in rows.loc[0, "notes"]

    obs = interop.compute_optimizer_observation(rows, "orders-api")
    assert np.isnan(obs["duration_ms"]) and obs["duration_stat"] == "Maximum" and obs["duration_max_ms"] == 900.0
    assert obs["memory_mb"] == 1024 and obs["max_memory_used_mb"] == 180.0 and obs["notes"]

    model = memory.fit([512, 1024, 2048], [260.0, 140.0, 90.0])
    cmp = interop.compare_compute_optimizer(model, rows, "orders-api")
    assert cmp["memory_mb"].tolist() == [512, 768, 1024]
    cur = cmp[cmp["co_source"] == "current (Maximum)"].iloc[0]
    assert np.isnan(cur["co_expected_ms"]) and cur["co_high_ms"] == 900.0   # a bound, never the expected mean
    assert cur["model_ms"] == pytest.approx(float(model.predict([1024])[0]))
    opts = cmp[cmp["co_source"] == "option"]
    assert opts["co_expected_ms"].tolist() == [140.0, 120.0] and (opts["savings_currency"] == "USD").all()
    assert any("Maximum" in n for n in cmp.attrs["notes"])


def test_average_or_expected_at_the_current_size_is_the_mean(client):
    resp = stubbed(client, {"lambdaFunctionRecommendations": [
        function("with-avg", 1024, duration_max=900.0, duration_avg=120.0, options=[option(512, 1, 140.0)]),
        function("with-current-option", 2048, duration_max=700.0,
                 options=[option(1024, 1, 95.0), option(2048, 2, 60.0)])]})
    rows = interop.from_compute_optimizer(resp)
    avg = interop.compute_optimizer_observation(rows, "with-avg")
    assert (avg["duration_ms"], avg["duration_stat"], avg["duration_max_ms"]) == (120.0, "Average", 900.0)
    cur = interop.compute_optimizer_observation(rows, "with-current-option")
    assert (cur["duration_ms"], cur["duration_stat"]) == (60.0, "Expected")
    assert any("projected" in n for n in cur["notes"])
    cmp = interop.compare_compute_optimizer(memory.fit([512, 1024], [140.0, 120.0]), rows, "with-avg")
    assert cmp.loc[cmp["co_source"] == "current (Average)", "co_expected_ms"].tolist() == [120.0]


def test_savings_keep_their_currency_and_cny_is_never_added_to_usd(client):
    resp = stubbed(client, {"lambdaFunctionRecommendations": [
        function("us-fn", 1024, duration_max=300.0, options=[option(512, 1, 140.0, saving=3.5, after=2.5)]),
        function("cn-fn", 1024, duration_max=300.0,
                 options=[option(512, 1, 140.0, saving=20.0, currency="CNY", after=15.0),
                          option(768, 2, 120.0, saving=9.0, currency="CNY")])]})
    rows = interop.from_compute_optimizer(resp).set_index(["function_name", "rank"])
    assert rows.loc[("us-fn", 1), "savings_usd"] == 3.5
    cn = rows.loc[("cn-fn", 1)]
    assert (cn["savings_value"], cn["savings_currency"]) == (20.0, "CNY") and np.isnan(cn["savings_usd"])
    assert (cn["savings_after_discounts_value"], cn["savings_after_discounts_currency"]) == (15.0, "CNY")
    totals = interop.savings_by_currency(rows.reset_index()).set_index("currency")
    assert totals.loc["USD", "monthly_savings"] == 3.5 and totals.loc["CNY", "monthly_savings"] == 20.0
    assert totals["functions"].tolist() == [1, 1]
    after = interop.savings_by_currency(rows.reset_index(), after_discounts=True).set_index("currency")
    assert after["monthly_savings"].to_dict() == {"CNY": 15.0, "USD": 2.5}


def test_minimal_responses_and_missing_optional_fields(client):
    for page in ({}, {"lambdaFunctionRecommendations": []}):          # the SDK may leave an empty list out
        empty = interop.from_compute_optimizer(stubbed(client, page))
        assert empty.empty and list(empty.columns) == interop.CO_COLUMNS
    resp = stubbed(client, {"lambdaFunctionRecommendations": [
        {"functionArn": ARN.format("bare")},
        {"functionArn": ARN.format("big"), "currentMemorySize": 3008, "finding": "Unavailable",
         "findingReasonCodes": ["InsufficientData"]},
        function("no-currency", 1024, duration_max=300.0, options=[
            {"rank": 1, "memorySize": 512, "savingsOpportunity": {"estimatedMonthlySavings": {"value": 4.0}}}])]})
    rows = interop.from_compute_optimizer(resp).set_index("function_name")
    assert rows.loc["bare", "duration_stat"] == "" and rows.loc["bare", "notes"] == "no Duration metric"
    assert np.isnan(rows.loc["bare", "current_memory_mb"]) and pd.isna(rows.loc["bare", "last_refresh"])
    assert np.isnan(rows.loc["big", "memory_mb"]) and rows.loc["big", "reasons"] == "InsufficientData"
    nc = rows.loc["no-currency"]
    assert nc["savings_value"] == 4.0 and nc["savings_currency"] == "" and np.isnan(nc["savings_usd"])
    assert np.isnan(nc["duration_expected_ms"])
    bare = interop.compute_optimizer_observation(rows.reset_index(), "bare")
    assert np.isnan(bare["duration_ms"]) and bare["duration_stat"] == ""
    cmp = interop.compare_compute_optimizer(memory.fit([512, 1024], [140.0, 120.0]), rows.reset_index(), "bare")
    assert cmp.empty and "model_ms" in cmp.columns


def test_pages_json_text_and_timestamps(client, tmp_path):
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    first, second = stubbed(client,
                            {"lambdaFunctionRecommendations": [function("a", 512, duration_max=80.0,
                                                                        lastRefreshTimestamp=when)],
                             "nextToken": "page-2"},
                            {"lambdaFunctionRecommendations": [function("b", 256, duration_max=90.0)]})
    rows = interop.from_compute_optimizer([first, second])
    assert rows["function_name"].tolist() == ["a", "b"] and rows.loc[0, "last_refresh"] == pd.Timestamp(when)
    # the CLI's JSON, timestamps as epoch seconds, from text or a file
    text = json.dumps({"lambdaFunctionRecommendations": [function("a", 512, lastRefreshTimestamp=when.timestamp())]})
    (tmp_path / "co.json").write_text(text)
    for doc in (text, tmp_path / "co.json", str(tmp_path / "co.json")):
        assert interop.from_compute_optimizer(doc).loc[0, "last_refresh"] == pd.Timestamp(when)


def test_compute_optimizer_bad_input_and_lookups(client):
    with pytest.raises(ValueError, match="lambdaFunctionRecommendations") as e:
        interop.from_compute_optimizer({"nope": 1})
    one_line(e)
    with pytest.raises(ValueError, match=r"lambdaFunctionRecommendations\[0\]"):
        interop.from_compute_optimizer({"lambdaFunctionRecommendations": ["x"]})
    two = [function("same", 512, duration_max=80.0),
           {**function("same", 1024, duration_max=70.0), "functionArn": ARN.format("same").replace("1111", "4444")}]
    rows = interop.from_compute_optimizer(stubbed(client, {"lambdaFunctionRecommendations": two}))
    with pytest.raises(ValueError, match="pass the ARN") as e:
        interop.compute_optimizer_observation(rows, "same")
    one_line(e)
    assert interop.compute_optimizer_observation(rows, rows.loc[1, "function_arn"])["memory_mb"] == 1024
    with pytest.raises(KeyError, match="nowhere"):
        interop.compute_optimizer_observation(rows, "nowhere")
    with pytest.raises(KeyError, match="nowhere"):
        interop.compare_compute_optimizer(memory.fit([512, 1024], [140.0, 120.0]), rows, "nowhere")


# ---- Power Tuning -------------------------------------------------------------------------------------------
SIZES, DURATIONS = [128, 512, 1024, 3008], [4000.0, 1000.0, 510.0, 260.0]
PRICES = [2.1e-9 * m / 128 * np.ceil(d) for m, d in zip(SIZES, DURATIONS, strict=True)]


def pt_output(stats=True, region="us-east-1", total=False):
    """Power Tuning's bare output as its analyzer returns it (power printed as a string in its README)."""
    out = {"power": "1024", "cost": PRICES[2], "duration": DURATIONS[2],
           "stateMachine": {"executionCost": 0.00045, "lambdaCost": 0.0005252,
                            "visualization": interop.power_tuning_url(SIZES, DURATIONS, PRICES, region=region)}}
    if stats:
        out["stats"] = [{"value": m, "averagePrice": p, "averageDuration": d, **({"totalCost": p * 10} if total else {})}
                        for m, d, p in zip(SIZES, DURATIONS, PRICES, strict=True)][::-1]
    return out


def execution(output, status="SUCCEEDED"):
    """A Step Functions DescribeExecution response (``output`` is a JSON string)."""
    desc = {"executionArn": "arn:aws:states:us-east-1:111122223333:execution:powerTuning:run-1",
            "stateMachineArn": "arn:aws:states:us-east-1:111122223333:stateMachine:powerTuning", "status": status}
    return {**desc, "output": json.dumps(output)} if output is not None else desc


@pytest.mark.parametrize("shape", ["bare", "results", "execution", "execution+results", "text", "file"])
def test_every_documented_power_tuning_shape(shape, tmp_path):
    bare = pt_output()
    doc = {"bare": bare, "results": {"results": bare}, "execution": execution(bare),
           "execution+results": execution({"results": bare}), "text": json.dumps({"results": bare}),
           "file": tmp_path / "out.json"}[shape]
    (tmp_path / "out.json").write_text(json.dumps(execution(bare)))
    out = interop.from_power_tuning(doc)
    assert out["memory_mb"].tolist() == SIZES and out["duration_ms"].tolist() == DURATIONS  # exact: from stats
    assert out["cost_usd"].tolist() == pytest.approx(PRICES)
    assert out.attrs["power"] == 1024.0 and out.attrs["lambdaCost"] == 0.0005252 and out.attrs["currency"] == "USD"


def test_power_tuning_without_stats_reads_the_visualization():
    out = interop.from_power_tuning({"results": pt_output(stats=False)})
    assert out["memory_mb"].tolist() == SIZES
    assert out["duration_ms"].tolist() == pytest.approx(DURATIONS, rel=1e-6)             # Float32 in the URL
    only_url = interop.from_power_tuning({"stateMachine": {"visualization": pt_output()["stateMachine"]["visualization"]}})
    assert only_url["memory_mb"].tolist() == SIZES and "power" not in only_url.attrs
    # the example URL in Power Tuning's README-INPUT-OUTPUT.md
    readme = ("https://lambda-power-tuning.show/#gAAAAQACAAQABsAL;ZooQR4yvkUa/pQRGRC5zRaADHUVjOftE;"
              "QdWhOEMkoziDT5Q4xhiIOMYYiDi6RNc4")
    ex = interop.from_power_tuning({"stateMachine": {"visualization": readme}})
    assert ex["memory_mb"].tolist() == [128, 256, 512, 1024, 1536, 3008]
    assert ex["duration_ms"].is_monotonic_decreasing and (ex["cost_usd"] > 0).all()


def test_power_tuning_stats_extras_currency_and_dropped_entries():
    with_total = interop.from_power_tuning(pt_output(total=True))
    assert with_total["total_cost_usd"].tolist() == pytest.approx([p * 10 for p in PRICES])
    cny = interop.from_power_tuning(pt_output(region="cn-north-1"))
    assert cny.attrs["currency"] == "CNY" and "cost_cny" in cny and "cost_usd" not in cny
    assert "cost_cny" in interop.from_power_tuning(pt_output(stats=False, region="cn-north-1"))
    doc = pt_output()
    doc["stats"].append({"value": 2048, "averagePrice": 0, "averageDuration": 0})     # an executor with no results
    out = interop.from_power_tuning(doc)
    assert 2048 not in out["memory_mb"].tolist() and out.attrs["dropped_stats"] == 1 and out.attrs["notes"]
    no_url = interop.from_power_tuning({"stats": pt_output()["stats"]})
    assert no_url.attrs["currency"] == "USD" and any("USD" in n for n in no_url.attrs["notes"])


def test_power_tuning_compare_accepts_the_wrapper():
    model = memory.fit(SIZES, DURATIONS)
    cmp = memory.compare_power_tuning(model, {"results": pt_output()})
    assert cmp["memory_mb"].tolist() == SIZES and cmp.attrs["power"] == 1024.0


@pytest.mark.parametrize("doc, message", [
    ({"power": 128}, "includeOutputResults"),
    ({"results": {"power": 128}}, "includeOutputResults"),
    ("[1, 2]", "must be a JSON object"),
    ('{"results": ', "not valid JSON"),
    ("no/such/file.json", "neither JSON text nor an existing file"),
    (execution(None, status="FAILED"), "no output .status FAILED"),
    ({"output": "{oops"}, "not valid JSON"),
    ({"stats": "fast"}, "must be a list"),
    ({"stats": [{"value": "big", "averagePrice": 1e-7, "averageDuration": 20.0}]}, r"stats\[0\]"),
    ({"stats": [{"value": 128, "averagePrice": 1e-7, "averageDuration": -3}]}, r"stats\[0\]"),
    ({"stats": [7]}, r"stats\[0\] must be an object"),
    ({"stats": [{"value": 128, "averageDuration": 0}]}, "none of"),
    ({"stateMachine": "x"}, "'stateMachine' must be an object"),
    ({"stateMachine": {"visualization": "https://lambda-power-tuning.show/#abc"}}, "3 fields"),
])
def test_malformed_power_tuning_documents_give_one_clear_line(doc, message):
    with pytest.raises(ValueError, match=message) as e:
        interop.from_power_tuning(doc)
    one_line(e)


def test_power_tuning_url_round_trip():
    url = interop.power_tuning_url([512, 128, 1024], [30.5, 100.25, 20.0], [2e-7, 3e-7, 4e-7])
    assert url.startswith("https://lambda-power-tuning.show/#") and url.count(";") == 2
    back = interop.parse_power_tuning_url(url)
    assert back["memory_mb"].tolist() == [128, 512, 1024]                  # sorted by size
    assert back["duration_ms"].tolist() == pytest.approx([100.25, 30.5, 20.0])
    assert back["cost_usd"].tolist() == pytest.approx([3e-7, 2e-7, 4e-7], rel=1e-6)
    frag = url.split("#")[1].split(";")                   # Int16 little-endian sizes, Float32 little-endian values
    assert base64.b64decode(frag[0]) == np.array([128, 512, 1024], "<i2").tobytes()
    cn = interop.power_tuning_url([128], [1.0], [1.0], region="cn-north-1")
    assert "?currency=CNY#" in cn and interop.parse_power_tuning_url(cn).attrs["currency"] == "CNY"
    two = interop.power_tuning_compare_url(back, back.assign(duration_ms=back["duration_ms"] / 2), ("x86 run", "arm64"))
    parsed = interop.parse_power_tuning_url(two)
    assert list(parsed["series"].unique()) == ["x86 run", "arm64"] and len(parsed) == 6
    with pytest.raises(ValueError, match="3 fields"):
        interop.parse_power_tuning_url("https://lambda-power-tuning.show/#abc")
