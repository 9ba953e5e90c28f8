import json
import re

import numpy as np
import pytest

from lambda_workbook import prices

KEY = re.compile(r"\[([A-Z][A-Z0-9-]*(?: [a-z]+)?)\]")


def test_bundled_us_east_1_is_dated_and_sourced():
    book = prices.load("us-east-1")
    assert book.region == "us-east-1"
    assert re.match(r"\d{4}-\d{2}-\d{2}$", book.as_of)
    for item_id, item in book.items.items():
        assert item.get("source"), f"{item_id} has no source"
        # every source key resolves to a public page; an item without keys cites its page in full
        keys = KEY.findall(item["source"])
        for key in keys:
            assert key in book.references, (item_id, key)
        if not keys:
            assert "http" in item["source"] or "third-party" in item["source"], item_id
    for key, ref in book.references.items():
        assert ref["title"] and re.match(r"https?://", ref["url"]), key


def test_bundled_data_files_cite_public_pages_only():
    from lambda_workbook import datafiles

    for path in [*datafiles.prices_dir().rglob("*.json"), datafiles.data_dir() / "triggers" / "catalog.json",
                 datafiles.data_dir() / "runtimes" / "lambda-runtimes.json"]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "aws-facts" not in text and "facts §" not in text, path


def test_corrected_book_supersedes_the_first_and_lists_its_corrections():
    book = prices.load("us-east-1")
    first = prices.load("us-east-1", as_of=book.meta["supersedes"])
    assert first.as_of < book.as_of and first.meta["superseded_by"].startswith(book.as_of)
    corrected = {c.split(":")[0] for c in book.meta["corrections"]}
    assert {"apigw.rest.request", "data_transfer.out_internet_gb", "sqs.fifo.request"} <= corrected
    for item_id in ("apigw.rest.request", "data_transfer.out_internet_gb", "sqs.fifo.request"):
        it = book.item(item_id)
        assert it["checked"] == book.as_of and "https://" in it["source"], item_id
        assert len(book.tiers(item_id)) > len(first.tiers(item_id)), item_id
        assert "pricelist" in it, item_id   # a refresh replaces the corrected tiers
    # everything else is as it was
    for item_id in set(first.items) - corrected:
        assert book.item(item_id) == first.item(item_id), item_id


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


@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1"])
def test_one_region_pattern_for_price_books_scans_and_notebooks(region):
    """Price books, notebook parameters and scans accept the same region codes (isolated partitions included)."""
    from lambda_workbook import params
    from lambda_workbook.sources import aws

    assert prices.check_region(region) == region
    assert params.parse_regions("account_review", region) == [region]
    assert aws._REGION is prices.REGION


@pytest.mark.parametrize("region", ["us-iso-east", "us-isoab-east-1", "us-gov-iso-west-1", "US-ISO-EAST-1"])
def test_malformed_partition_regions_are_refused(region):
    from lambda_workbook import params

    with pytest.raises(ValueError, match=repr(region)):
        prices.check_region(region)
    with pytest.raises(params.ParameterError, match=repr(region)):
        params.parse_regions("account_review", region)


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
    assert np.isnan(book.cost("kinesis.on_demand.retrieval_gb", 10.0))
    assert not book.known("kinesis.on_demand.retrieval_gb") and book.known("kinesis.on_demand.ingest_gb")
    assert book.known("apigw.rest.request")


def _marginal(book, item_id, at):
    """The price of one more unit at usage ``at`` (what the tier holding it charges)."""
    return book.cost(item_id, 1.0, already=at)


@pytest.mark.parametrize(("item_id", "bounds"), [
    ("apigw.rest.request", [333e6, 1e9, 20e9]),                 # first 333 M, next 667 M, next 19 B, above 20 B
    ("data_transfer.out_internet_gb", [10 * 1024, 50 * 1024, 150 * 1024]),   # 10 TB, 50 TB, 150 TB
    ("sqs.fifo.request", [100e9, 200e9]),                       # the same volume bounds as standard queues
])
def test_corrected_tier_boundaries(item_id, bounds):
    book = prices.load("us-east-1")
    assert [u for u, _ in book.tiers(item_id)] == [*bounds, np.inf]
    for b in bounds:
        # the price drops exactly at each boundary, not before
        assert _marginal(book, item_id, b - 1) > _marginal(book, item_id, b)
        assert _marginal(book, item_id, b - 1) == pytest.approx(_marginal(book, item_id, b - 2))
    # a quantity that straddles every boundary costs the sum of its parts in each tier
    top = bounds[-1] * 1.25
    parts, lower = 0.0, 0.0
    for upper, price in book.tiers(item_id):
        parts += (min(top, upper) - lower) * price
        lower = upper
        if upper >= top:
            break
    assert book.cost(item_id, top) == pytest.approx(parts, rel=1e-12)


def test_rest_api_above_20_billion_requests_costs_less_than_three_tiers_said():
    # the missing fourth tier over-stated 25 B requests by 7.8%
    book = prices.load("us-east-1")
    tiers = book.tiers("apigw.rest.request")
    three = sum((min(25e9, u) - lo) * p for (u, p), lo in zip(tiers[:3], [0, 333e6, 1e9], strict=True))
    three += (25e9 - 20e9) * tiers[2][1]          # the third tier's price carried on above 20 B
    four = book.cost("apigw.rest.request", 25e9)
    assert three / four - 1 == pytest.approx(0.078, abs=0.001)


def test_tiered_items_are_volume_discounts():
    book = prices.load("us-east-1")
    for item_id, it in book.items.items():
        if "tiers" not in it:
            continue
        bounds = [u for u, _ in book.tiers(item_id)]
        prices_ = [p for _, p in book.tiers(item_id)]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds) and bounds[-1] == np.inf, item_id
        assert prices_ == sorted(prices_, reverse=True), item_id


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


# Tiers quoted in the facts doc: (quote, tier prices).
FACTS_TIERS = {
    "apigw.rest.request": ("$3.50/M (first 333 M), $2.80 (next 667 M), $2.38 (next 19 B), **$1.51 over 20 B**",
                           [3.5e-6, 2.8e-6, 2.38e-6, 1.51e-6]),
    "data_transfer.out_internet_gb": ("$0.09/GB first 10 TB, $0.085, $0.07, $0.05", [0.09, 0.085, 0.07, 0.05]),
}


@pytest.mark.parametrize("item_id", sorted(FACTS_TIERS))
def test_bundled_tiers_match_the_facts_doc(item_id, facts_text):
    quoted, values = FACTS_TIERS[item_id]
    assert quoted in facts_text, f"the facts doc no longer quotes {quoted!r}"
    assert [p for _, p in prices.load("us-east-1").tiers(item_id)] == pytest.approx(values, rel=1e-9)


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
