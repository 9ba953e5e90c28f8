"""``lambda_workbook.interop``: Power Tuning visualization URLs round-trip, Power Tuning outputs of every documented
shape become the same rows, Compute Optimizer responses keep a Duration Maximum only as an upper bound, and bad
input is one clear error line."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from lambda_workbook import interop

SIZES = [1024, 128, 512, 256]          # deliberately unsorted
DURS = [41.5, 610.25, 90.75, 220.0]
COSTS = [6.9e-07, 1.3e-06, 7.6e-07, 9.2e-07]


def _sorted():
    order = np.argsort(SIZES)
    return (np.array(SIZES, float)[order], np.array(DURS, float)[order], np.array(COSTS, float)[order])


def test_url_round_trip_gives_sizes_durations_and_costs_back_sorted_by_size():
    url = interop.power_tuning_url(SIZES, DURS, COSTS)
    assert url.startswith(interop.VISUALIZATION_BASE + "#")
    back = interop.parse_power_tuning_url(url)
    m, d, c = _sorted()
    np.testing.assert_array_equal(back["memory_mb"], m)
    np.testing.assert_allclose(back["duration_ms"], d, rtol=1e-6)       # Float32 on the wire
    np.testing.assert_allclose(back["cost_usd"], c, rtol=1e-6)
    assert back.attrs["currency"] == "USD"


def test_url_fields_are_little_endian_int16_and_float32():
    url = interop.power_tuning_url([128, 256], [10.0, 5.0], [1e-6, 2e-6])
    sizes, durs, _ = url.split("#", 1)[1].split(";")
    assert np.frombuffer(base64.b64decode(sizes), "<i2").tolist() == [128, 256]
    assert np.frombuffer(base64.b64decode(durs), "<f4").tolist() == [10.0, 5.0]


def test_china_regions_chart_in_cny():
    url = interop.power_tuning_url([128, 256], [10.0, 5.0], [1e-6, 2e-6], region="cn-north-1")
    assert "?currency=CNY#" in url
    back = interop.parse_power_tuning_url(url)
    assert "cost_cny" in back and "cost_usd" not in back
    assert back.attrs["currency"] == "CNY"


def test_comparison_url_round_trip_keeps_both_series_and_legends():
    a = pd.DataFrame({"memory_mb": [128, 256], "duration_ms": [100.0, 50.0], "cost_usd": [2e-7, 2.1e-7]})
    b = pd.DataFrame({"memory_mb": [256, 128], "duration_ms": [40.0, 80.0], "cost_usd": [1.5e-7, 1.6e-7]})
    back = interop.parse_power_tuning_url(interop.power_tuning_compare_url(a, b, legends=("x86 now", "arm64/Graviton")))
    assert list(back["series"].unique()) == ["x86 now", "arm64/Graviton"]
    second = back[back["series"] == "arm64/Graviton"]
    np.testing.assert_array_equal(second["memory_mb"], [128, 256])
    np.testing.assert_allclose(second["duration_ms"], [80.0, 40.0], rtol=1e-6)


@pytest.mark.parametrize(("args", "needle"), [
    (([128, 256], [1.0], [1.0, 2.0]), "equal-length"),
    (([], [], []), "non-empty"),
    (([0, 256], [1.0, 2.0], [1.0, 2.0]), "32,767"),
    (([40000], [1.0], [1.0]), "32,767"),
    (([128], [float("nan")], [1.0]), "finite"),
])
def test_bad_series_is_one_clear_error(args, needle):
    with pytest.raises(ValueError, match=needle) as err:
        interop.power_tuning_url(*args)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("url", [
    "https://lambda-power-tuning.show/",                       # no fragment
    "https://lambda-power-tuning.show/#AAA;BBB",               # two fields
    "https://lambda-power-tuning.show/#!!!;AAAA;AAAA",         # not base64
    "https://lambda-power-tuning.show/#gAA=;AAAgQQ==;AAAAAA==AAAA",  # trailing garbage -> not base64 / length
    "https://lambda-power-tuning.show/#gAAAAQ==;AAAgQQ==;AAAgQQ==",  # 2 sizes, 1 duration, 1 cost
])
def test_bad_urls_are_one_clear_error(url):
    with pytest.raises(ValueError) as err:
        interop.parse_power_tuning_url(url)
    assert str(err.value) and "\n" not in str(err.value)


def _power_tuning_doc(with_stats: bool = True) -> dict:
    m, d, c = _sorted()
    doc = {"power": "256", "cost": 9.2e-07, "duration": 220.0,
           "stateMachine": {"executionCost": 0.00045, "lambdaCost": 0.0012,
                            "visualization": interop.power_tuning_url(SIZES, DURS, COSTS)}}
    if with_stats:
        doc["stats"] = [{"value": str(int(s)), "averagePrice": float(p), "averageDuration": float(t), "totalCost": float(p) * 10}
                        for s, t, p in zip(m[::-1], d[::-1], c[::-1], strict=True)]
    return doc


def test_every_documented_power_tuning_shape_gives_the_same_rows(tmp_path):
    bare = _power_tuning_doc()
    path = tmp_path / "out.json"
    path.write_text(json.dumps(bare))
    shapes = [bare, {"results": bare}, json.dumps(bare), {"executionArn": "arn:x", "status": "SUCCEEDED",
                                                        "output": json.dumps(bare)}, str(path), path]
    frames = [interop.from_power_tuning(s) for s in shapes]
    m, d, c = _sorted()
    for f in frames:
        np.testing.assert_array_equal(f["memory_mb"], m)
        np.testing.assert_allclose(f["duration_ms"], d)
        np.testing.assert_allclose(f["cost_usd"], c)
        np.testing.assert_allclose(f["total_cost_usd"], c * 10)
        assert f.attrs["power"] == 256 and f.attrs["currency"] == "USD"
        assert f.attrs["executionCost"] == pytest.approx(0.00045)


def test_without_stats_the_url_is_decoded_and_entries_without_duration_are_dropped_and_counted():
    f = interop.from_power_tuning(_power_tuning_doc(with_stats=False))
    np.testing.assert_allclose(f["duration_ms"], _sorted()[1], rtol=1e-6)
    doc = _power_tuning_doc()
    doc["stats"].append({"value": 2048, "averagePrice": 0, "averageDuration": 0})
    g = interop.from_power_tuning(doc)
    assert 2048 not in set(g["memory_mb"]) and g.attrs["dropped_stats"] == 1
    assert any("dropped" in n for n in g.attrs["notes"])


@pytest.mark.parametrize("doc", [
    "{not json",
    "/no/such/file.json",
    {"executionArn": "arn:x", "status": "FAILED", "output": None},
    {"stateMachine": {}},
    {"stateMachine": {}, "stats": [{"value": 128, "averagePrice": 1e-7, "averageDuration": -5}]},
    {"stateMachine": {}, "stats": "nope"},
    [1, 2, 3],
])
def test_bad_power_tuning_output_is_one_clear_error(doc):
    with pytest.raises(ValueError) as err:
        interop.from_power_tuning(doc)
    assert str(err.value) and "\n" not in str(err.value)


# -- Compute Optimizer -------------------------------------------------------------------------------------

ARN = "arn:aws:lambda:us-east-1:111122223333:function:orders-api:$LATEST"


def _co_rec(util, options=None, finding="NotOptimized") -> dict:
    return {"functionArn": ARN, "functionVersion": "$LATEST", "accountId": "111122223333", "currentMemorySize": 1024,
            "numberOfInvocations": 5000, "lookbackPeriodInDays": 14, "lastRefreshTimestamp": 1764547200,
            "finding": finding, "findingReasonCodes": ["MemoryOverprovisioned"], "utilizationMetrics": util,
            "memorySizeRecommendationOptions": options or []}


def _option(rank, size, lo, exp, hi, saving, currency="USD"):
    return {"rank": rank, "memorySize": size,
            "projectedUtilizationMetrics": [{"name": "Duration", "statistic": "LowerBound", "value": lo},
                                            {"name": "Duration", "statistic": "Expected", "value": exp},
                                            {"name": "Duration", "statistic": "UpperBound", "value": hi}],
            "savingsOpportunity": {"savingsOpportunityPercentage": 20.0,
                                   "estimatedMonthlySavings": {"currency": currency, "value": saving}}}


def test_duration_maximum_is_kept_as_an_upper_bound_not_a_mean():
    util = [{"name": "Duration", "statistic": "Maximum", "value": 812.0},
            {"name": "Memory", "statistic": "Maximum", "value": 300.0}]
    rows = interop.from_compute_optimizer({"lambdaFunctionRecommendations": [
        _co_rec(util, [_option(1, 512, 100, 150, 200, 3.5), _option(2, 768, 90, 120, 160, 2.0)])]})
    assert len(rows) == 2 and list(rows.columns) == interop.CO_COLUMNS
    r = rows.iloc[0]
    assert r["function_name"] == "orders-api"
    assert r["duration_max_ms"] == 812.0 and np.isnan(r["duration_mean_ms"]) and r["duration_stat"] == "Maximum"
    assert "upper bound" in r["notes"]
    assert r["last_refresh"] == pd.Timestamp(1764547200, unit="s", tz="UTC")
    obs = interop.compute_optimizer_observation(rows, "orders-api")
    assert np.isnan(obs["duration_ms"]) and obs["duration_max_ms"] == 812.0 and obs["memory_mb"] == 1024
    # the comparison table puts the maximum in the high column at the current size, never as the expected value
    model = _FlatModel(100.0)
    cmp = interop.compare_compute_optimizer(model, rows, ARN)
    cur = cmp[cmp["co_source"].str.startswith("current")].iloc[0]
    assert cur["memory_mb"] == 1024 and cur["co_high_ms"] == 812.0 and np.isnan(cur["co_expected_ms"])
    opts = cmp[cmp["co_source"] == "option"]
    assert list(opts["memory_mb"]) == [512, 768] and list(opts["co_expected_ms"]) == [150, 120]
    np.testing.assert_allclose(cmp["model_ms"], 100.0)


def test_an_average_or_expected_at_the_current_size_is_taken_as_the_mean():
    avg = interop.from_compute_optimizer({"lambdaFunctionRecommendations": [_co_rec(
        [{"name": "Duration", "statistic": "Average", "value": 70.0},
         {"name": "Duration", "statistic": "Maximum", "value": 900.0}])]})
    assert avg.iloc[0]["duration_mean_ms"] == 70.0 and avg.iloc[0]["duration_stat"] == "Average"
    exp = interop.from_compute_optimizer({"lambdaFunctionRecommendations": [_co_rec(
        [{"name": "Duration", "statistic": "Maximum", "value": 900.0}],
        [_option(1, 512, 1, 2, 3, 1.0), _option(2, 1024, 80, 95, 110, 0.0)])]})
    assert (exp["duration_mean_ms"] == 95.0).all() and (exp["duration_stat"] == "Expected").all()


def test_functions_without_options_keep_one_row_and_currencies_are_never_mixed():
    pages = [{"lambdaFunctionRecommendations": [_co_rec([], finding="Optimized")], "nextToken": "t"},
             {"lambdaFunctionRecommendations": [
                 {**_co_rec([], [_option(1, 512, 1, 2, 3, 4.0)]), "functionArn": ARN.replace("orders-api", "a")},
                 {**_co_rec([], [_option(1, 512, 1, 2, 3, 30.0, "CNY")]), "functionArn": ARN.replace("orders-api", "b")},
             ]},
             {"nextToken": None}]
    rows = interop.from_compute_optimizer(pages)
    optimized = rows[rows["function_name"] == "orders-api"]
    assert len(optimized) == 1 and np.isnan(optimized.iloc[0]["memory_mb"]) and optimized.iloc[0]["finding"] == "Optimized"
    cny = rows[rows["function_name"] == "b"].iloc[0]
    assert cny["savings_value"] == 30.0 and np.isnan(cny["savings_usd"])
    by = interop.savings_by_currency(rows).set_index("currency")
    assert by.loc["USD", "monthly_savings"] == 4.0 and by.loc["CNY", "monthly_savings"] == 30.0


@pytest.mark.parametrize("doc", [
    {"something": []},
    {"lambdaFunctionRecommendations": "nope"},
    {"lambdaFunctionRecommendations": [1]},
    "[{",
])
def test_bad_compute_optimizer_input_is_one_clear_error(doc):
    with pytest.raises(ValueError) as err:
        interop.from_compute_optimizer(doc)
    assert str(err.value) and "\n" not in str(err.value)


def test_unknown_function_is_a_clear_key_error():
    rows = interop.from_compute_optimizer({"lambdaFunctionRecommendations": [_co_rec([])]})
    with pytest.raises(KeyError, match="not-there"):
        interop.compute_optimizer_observation(rows, "not-there")


class _FlatModel:
    """A stand-in duration model: the same mean at every size, a +-10% band."""

    def __init__(self, ms: float) -> None:
        self.ms = ms

    def predict(self, m):
        return np.full(len(m), self.ms)

    def interval(self, m, level):
        return np.full(len(m), 0.9 * self.ms), np.full(len(m), 1.1 * self.ms)
