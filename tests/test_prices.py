import json
import re

import numpy as np
import pytest

from lambda_workbook import prices


def test_bundled_us_east_1_is_dated_and_sourced():
    book = prices.load("us-east-1")
    assert book.region == "us-east-1"
    assert re.match(r"\d{4}-\d{2}-\d{2}$", book.as_of)
    assert "aws-facts.md" in book.source
    for item_id, item in book.items.items():
        assert item.get("source"), f"{item_id} has no source"


def test_unknown_region_names_the_refresh_command():
    with pytest.raises(prices.PricesNotFound) as err:
        prices.load("eu-west-1")
    msg = str(err.value)
    assert "eu-west-1" in msg and "lambda-workbook prices refresh --region eu-west-1" in msg


def test_bad_region_and_date_are_named():
    with pytest.raises(ValueError, match="'US-EAST'"):
        prices.load("US-EAST")
    with pytest.raises(ValueError, match="as_of"):
        prices.load("us-east-1", as_of="Sept 6")


def test_as_of_picks_the_newest_snapshot_not_after_it(tmp_path):
    src = json.loads((prices.load("us-east-1").path).read_text())
    (tmp_path / "us-east-1").mkdir()
    for day, price in (("2025-01-01", 1e-7), ("2026-01-01", 2e-7)):
        doc = dict(src, as_of=day)
        doc["items"] = dict(src["items"], **{"lambda.request.x86_64": {"unit": "request", "price": price, "source": "t"}})
        (tmp_path / "us-east-1" / f"{day}.json").write_text(json.dumps(doc))
    assert prices.load("us-east-1", root=tmp_path).price("lambda.request.x86_64") == 2e-7
    assert prices.load("us-east-1", root=tmp_path, as_of="2025-06-30").price("lambda.request.x86_64") == 1e-7
    with pytest.raises(prices.PricesNotFound, match="on or before"):
        prices.load("us-east-1", root=tmp_path, as_of="2024-01-01")


def test_tiered_cost():
    book = prices.load("us-east-1")
    t = book.tiers("lambda.duration.x86_64")
    assert [u for u, _ in t] == [6e9, 1.5e10, np.inf]
    assert book.cost("lambda.duration.x86_64", 7e9) == pytest.approx(6e9 * t[0][1] + 1e9 * t[1][1])
    assert book.cost("lambda.duration.x86_64", 1e9, already=14.5e9) == pytest.approx(0.5e9 * t[1][1] + 0.5e9 * t[2][1])
    np.testing.assert_allclose(book.cost("lambda.duration.x86_64", np.array([0, 1.0])), [0, t[0][1]])
    with pytest.raises(ValueError):
        book.cost("lambda.duration.x86_64", -1)
    with pytest.raises(KeyError, match="lambda.duration.sparc"):
        book.price("lambda.duration.sparc")


def test_unknown_price_is_nan_not_zero():
    book = prices.load("us-east-1")
    assert np.isnan(book.price("kinesis.on_demand.retrieval_gb"))


# Each bundled number must appear in the facts doc, in the unit it is quoted there.
FACTS = {
    "lambda.request.x86_64": ("$0.20 / 1M", 0.20 / 1e6),
    "lambda.duration.x86_64": ("$0.0000166667", 0.0000166667),
    "lambda.duration.arm64": ("$0.0000133334", 0.0000133334),
    "lambda.ephemeral_storage.x86_64": ("$0.0000000309", 0.0000000309),
    "lambda.pc_allocation.x86_64": ("$0.0000041667", 0.0000041667),
    "lambda.pc_allocation.arm64": ("$0.0000033334", 0.0000033334),
    "lambda.pc_duration.x86_64": ("$0.0000097222", 0.0000097222),
    "lambda.pc_duration.arm64": ("$0.0000077778", 0.0000077778),
    "lambda.snapstart_cache.x86_64": ("$0.0000015046", 0.0000015046),
    "lambda.snapstart_restore.x86_64": ("$0.0001397998", 0.0001397998),
    "apigw.rest.request": ("$3.50/M", 3.5e-6),
    "apigw.http.request": ("$1.00/M (first 300 M)", 1e-6),
    "sqs.standard.request": ("$0.40/M", 0.4e-6),
    "sqs.fifo.request": ("$0.50/M", 0.5e-6),
    "sns.publish": ("$0.50/M publishes", 0.5e-6),
    "eventbridge.custom_event": ("$1.00/M", 1e-6),
    "kinesis.shard_hour": ("$0.015/shard-h", 0.015),
    "kinesis.put_unit": ("$0.014/M PUT payload units", 0.014e-6),
    "stepfunctions.standard.transition": ("$0.025 / 1,000 state transitions", 0.025e-3),
    "stepfunctions.express.gb_second": ("$0.00001667/GB-s", 0.00001667),
    "s3.get_request": ("$0.0004 / 1,000", 0.0004e-3),
    "s3.select_scanned_gb": ("$0.002/GB scanned", 0.002),
    "s3.select_returned_gb": ("$0.0007/GB returned", 0.0007),
    "athena.tb_scanned": ("$5 / TB scanned", 5.0),
    "dynamodb.on_demand.read_unit": ("$0.125/M RRU", 0.125e-6),
    "dynamodb.on_demand.write_unit": ("$0.625/M WRU", 0.625e-6),
    "logs.insights_gb_scanned": ("$0.005/GB scanned", 0.005),
    "cloudwatch.get_metric_data_metric": ("$0.01 per 1,000 **metrics requested**", 0.01e-3),
    "alb.hour": ("$0.0225/h", 0.0225),
    "alb.lcu_hour": ("$0.008/LCU-h", 0.008),
}


@pytest.mark.parametrize("item_id", sorted(FACTS))
def test_bundled_prices_match_the_facts_doc(item_id, facts_text):
    quoted, value = FACTS[item_id]
    assert quoted in facts_text, f"the facts doc no longer quotes {quoted!r}"
    assert prices.load("us-east-1").price(item_id) == pytest.approx(value, rel=1e-9)


def test_free_tier_quantities_match_the_facts_doc(facts_text):
    book = prices.load("us-east-1")
    assert "1M requests + 400,000 GB-s" in facts_text
    assert book.quantity("lambda.free_tier.requests") == 1_000_000
    assert book.quantity("lambda.free_tier.gb_seconds") == 400_000
