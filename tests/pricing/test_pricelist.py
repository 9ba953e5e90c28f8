"""Refreshing price snapshots from the AWS Price List API, against botocore Stubber responses (no network).

Responses follow the real GetProducts shape: ``PriceList`` holds JSON strings of products with
``product.attributes`` and ``terms.OnDemand.<term>.priceDimensions``.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambda_workbook import atomicfile, datafiles, pricelist, prices
from lambda_workbook.sources import errors

DAY = "2026-12-01"
LOCATION = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)"}

# A small us-east-1 book standing in for the bundled one; its prices differ from every API price below.
BUNDLE = {
    "schema": prices.SCHEMA, "region": "us-east-1", "currency": "USD", "as_of": "2026-09-06", "origin": "bundled",
    "source": "test fixture",
    "items": {
        "athena.tb_scanned": {"unit": "TB", "price": 5.0, "source": "[ATHENA]"},
        "lambda.duration.x86_64": {
            "unit": "GB-second", "source": "[OCEL]", "note": "per architecture",
            "tiers": [{"upto": 6e9, "price": 1.66667e-5}, {"upto": 1.5e10, "price": 1.5e-5}, {"upto": None, "price": 1.33334e-5}],
            "pricelist": {"service": "AWSLambda", "group": "AWS-Lambda-Duration"}},
        "lambda.request.x86_64": {"unit": "request", "price": 2e-7, "source": "[OCEL]",
                                  "pricelist": {"service": "AWSLambda", "group": "AWS-Lambda-Requests"}},
        "s3.get_request": {"unit": "request", "price": 4e-7, "source": "[S3-REQ]", "note": "Tier 2",
                           "pricelist": {"service": "AmazonS3", "usagetype": "Requests-Tier2"}},
        "s3.put_request": {"unit": "request", "price": 5e-6, "source": "[S3-REQ]",
                           "pricelist": {"service": "AmazonS3", "usagetype": "Requests-Tier1"}},
        "sqs.standard.request": {
            "unit": "request", "source": "[SQS-FM]", "metering_kb": 64,
            "tiers": [{"upto": 1e11, "price": 4e-7}, {"upto": 2e11, "price": 3e-7}, {"upto": None, "price": 2.4e-7}],
            "pricelist": {"service": "AWSQueueService", "usagetype": "Requests-RBP", "queueType": "Standard"}},
    },
}


def _numbers(items: dict) -> set[float]:
    """Every price figure held by a set of items."""
    out = set()
    for it in items.values():
        if it.get("price") is not None:
            out.add(float(it["price"]))
        out.update(float(t["price"]) for t in it.get("tiers", []))
    return out


def product(sku, service, region, usagetype, dims, *, unit="Requests", location=None, **attrs) -> str:
    """One GetProducts entry as the API sends it: a JSON string. ``dims`` are (beginRange, endRange, USD)."""
    term = f"{sku}.JRTCKXETXF"
    dimensions = {
        f"{term}.RATE{i}": {"rateCode": f"{term}.RATE{i}", "unit": unit, "beginRange": begin, "endRange": end,
                            "description": f"{usagetype} tier {i}", "appliesTo": [], "pricePerUnit": {"USD": usd}}
        for i, (begin, end, usd) in enumerate(dims, start=1)
    }
    doc = {
        "product": {"productFamily": "Serverless", "sku": sku,
                    "attributes": {"servicecode": service, "location": location or LOCATION[region],
                                   "regionCode": region, "usagetype": usagetype, **attrs}},
        "serviceCode": service,
        "terms": {"OnDemand": {term: {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
                                      "priceDimensions": dimensions, "termAttributes": {}}}},
        "version": "20261120000000",
        "publicationDate": "2026-11-20T12:00:00Z",
    }
    return json.dumps(doc)


def page(*products, token=None) -> dict:
    out = {"FormatVersion": "aws_v1", "PriceList": list(products)}
    if token:
        out["NextToken"] = token
    return out


def params(service, region, group=None, token=None) -> dict:
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    if group:
        filters.append({"Type": "TERM_MATCH", "Field": "group", "Value": group})
    out = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
    if token:
        out["NextToken"] = token
    return out


def flat(usd):
    return [("0", "Inf", usd)]


@pytest.fixture(autouse=True)
def dummy_aws(monkeypatch, tmp_path):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    prices.clear_cache()
    yield
    prices.clear_cache()


@pytest.fixture
def bundle(monkeypatch, tmp_path) -> Path:
    """Point the bundled data folder at a temp copy holding only the small us-east-1 book above."""
    data = tmp_path / "bundle"
    (data / "prices" / "us-east-1").mkdir(parents=True)
    (data / "prices" / "us-east-1" / "2026-09-06.json").write_text(json.dumps(BUNDLE), encoding="utf-8")
    monkeypatch.setenv("LAMBDA_WORKBOOK_DATA", str(data))
    assert datafiles.prices_dir() == data / "prices"
    return data / "prices"


@pytest.fixture
def client():
    return boto3.client("pricing", region_name="us-east-1")


def duration_use1():
    # Dimensions deliberately out of order: the tiers must be sorted by beginRange.
    return product("DUR1", "AWSLambda", "us-east-1", "Lambda-GB-Second",
                   [("15000000000", "Inf", "0.0000140000"), ("0", "6000000000", "0.0000170000"),
                    ("6000000000", "15000000000", "0.0000160000")],
                   unit="Lambda-GB-Second", group="AWS-Lambda-Duration")


def free_tier_duration():
    return product("FREE1", "AWSLambda", "us-east-1", "Global-Lambda-GB-Second", flat("0.0000000000"),
                   unit="Lambda-GB-Second", location="Any", group="AWS-Lambda-Duration")


def stub_us_east_1(stub):
    """The call sequence of a us-east-1 refresh of BUNDLE: items in id order, one shared query per S3/SQS."""
    stub.add_response("get_products", page(duration_use1(), free_tier_duration()),
                      params("AWSLambda", "us-east-1", "AWS-Lambda-Duration"))
    stub.add_response("get_products", page(), params("AWSLambda", "us-east-1", "AWS-Lambda-Requests"))
    # S3 spans two pages; page 1 also holds a free-tier row that matches Requests-Tier2 but for location "Any".
    stub.add_response("get_products", page(
        product("S3T1", "AmazonS3", "us-east-1", "Requests-Tier1", flat("0.0000055000")),
        product("S3FREE", "AmazonS3", "us-east-1", "Requests-Tier2", flat("0.0000000000"), location="Any"),
        token="page-2"), params("AmazonS3", "us-east-1"))
    stub.add_response("get_products", page(
        product("S3T2", "AmazonS3", "us-east-1", "Requests-Tier2", flat("0.0000004400"))),
        params("AmazonS3", "us-east-1", token="page-2"))
    stub.add_response("get_products", page(
        product("SQSFIFO", "AWSQueueService", "us-east-1", "Requests-RBP", flat("0.0000005000"), queueType="FIFO"),
        product("SQSSTD", "AWSQueueService", "us-east-1", "Requests-RBP",
                [("0", "100000000000", "0.0000004100"), ("100000000000", "200000000000", "0.0000003100"),
                 ("200000000000", "Inf", "0.0000002500")], queueType="Standard")),
        params("AWSQueueService", "us-east-1"))


def test_refresh_us_east_1_writes_refreshed_prices_and_carries_the_rest(bundle, tmp_path, client):
    out = tmp_path / "out"
    with Stubber(client) as stub:
        stub_us_east_1(stub)
        path = pricelist.refresh("us-east-1", out_dir=out, client=client, today=DAY, progress=False)
        stub.assert_no_pending_responses()  # the second S3 page was asked for

    assert path == out / "us-east-1" / f"{DAY}.json"
    book = prices.load("us-east-1", root=out)
    assert book.as_of == DAY and book.meta["origin"] == "price-list-api"

    dur = book.item("lambda.duration.x86_64")
    assert book.tiers("lambda.duration.x86_64") == [(6e9, 1.7e-5), (1.5e10, 1.6e-5), (float("inf"), 1.4e-5)]
    assert dur["sku"] == "DUR1"  # the free-tier Global/Any row was not taken
    assert dur["unit"] == "GB-second" and dur["unit_api"] == "Lambda-GB-Second"
    assert dur["usagetype"] == "Lambda-GB-Second" and dur["publicationDate"] == "2026-11-20T12:00:00Z"
    assert dur["source"] == f"AWS Price List API get_products {DAY}" and dur["refreshed"] is True
    assert dur["note"] == "per architecture" and dur["pricelist"]["group"] == "AWS-Lambda-Duration"

    # Requests-Tier2 is found on page 2, and the $0 "Any" row on page 1 did not make it ambiguous or free.
    assert book.price("s3.get_request") == pytest.approx(4.4e-7)
    assert book.item("s3.get_request")["sku"] == "S3T2"
    assert book.price("s3.put_request") == pytest.approx(5.5e-6)
    # queueType is matched exactly: the FIFO row sharing the usagetype is ignored.
    sqs = book.item("sqs.standard.request")
    assert sqs["sku"] == "SQSSTD" and sqs["metering_kb"] == 64
    assert sqs["tiers"] == [{"upto": 1e11, "price": 4.1e-7}, {"upto": 2e11, "price": 3.1e-7}, {"upto": None, "price": 2.5e-7}]

    # An unmapped item and one whose query came back empty keep their old price and source, flagged.
    for item_id in ("athena.tb_scanned", "lambda.request.x86_64"):
        it = book.item(item_id)
        assert it["refreshed"] is False
        assert it["source"] == BUNDLE["items"][item_id]["source"]
        assert book.price(item_id) == BUNDLE["items"][item_id]["price"]
    report = book.meta["refresh"]
    assert report["carried"] == ["athena.tb_scanned", "lambda.request.x86_64"] and report["missing"] == []
    assert report["queries"] == 4 and report["previous"] == "us-east-1/2026-09-06.json"
    assert "no us-east-1 product matches" in report["reasons"]["lambda.request.x86_64"]
    assert not list(path.parent.glob(".*")), "a temp file was left behind"


def use2_products(duration_usd="0.0000171000"):
    return [
        product("DUR2", "AWSLambda", "us-east-2", "USE2-Lambda-GB-Second",
                [("0", "6000000000", duration_usd), ("6000000000", "15000000000", "0.0000161000"),
                 ("15000000000", "Inf", "0.0000141000")], unit="Lambda-GB-Second", group="AWS-Lambda-Duration"),
        product("FREE2", "AWSLambda", "us-east-2", "Global-Lambda-GB-Second", flat("0"), unit="Lambda-GB-Second",
                location="Any", group="AWS-Lambda-Duration"),
    ]


def test_new_region_gets_only_its_own_refreshed_items(bundle, tmp_path, client):
    out = tmp_path / "out"
    with Stubber(client) as stub:
        stub.add_response("get_products", page(*use2_products()), params("AWSLambda", "us-east-2", "AWS-Lambda-Duration"))
        stub.add_response("get_products", page(), params("AWSLambda", "us-east-2", "AWS-Lambda-Requests"))
        stub.add_response("get_products", page(
            product("S3T2E2", "AmazonS3", "us-east-2", "USE2-Requests-Tier2", flat("0.0000004500")),
            product("S3T1E2", "AmazonS3", "us-east-2", "USE2-Requests-Tier1", flat("0.0000056000")),
            # a stray us-east-1 row must not be taken even if the server sent it
            product("S3T2E1", "AmazonS3", "us-east-1", "Requests-Tier2", flat("0.0000004000"))),
            params("AmazonS3", "us-east-2"))
        stub.add_response("get_products", page(), params("AWSQueueService", "us-east-2"))
        path = pricelist.refresh("us-east-2", out_dir=out, client=client, today=DAY, progress=False)
        stub.assert_no_pending_responses()

    book = prices.load("us-east-2", root=out)
    assert sorted(book.items) == ["lambda.duration.x86_64", "s3.get_request", "s3.put_request"]
    assert all(it["refreshed"] is True for it in book.items.values())
    assert book.item("s3.get_request")["usagetype"] == "USE2-Requests-Tier2"
    assert book.price("s3.get_request") == pytest.approx(4.5e-7)
    assert book.price("lambda.duration.x86_64") == pytest.approx(1.71e-5)
    assert not _numbers(book.items) & _numbers(BUNDLE["items"]), "a us-east-1 price leaked into us-east-2"
    assert "us-east-1" not in {it["source"] for it in book.items.values()}

    report = book.meta["refresh"]
    assert report["missing"] == ["athena.tb_scanned", "lambda.request.x86_64", "sqs.standard.request"]
    assert report["carried"] == [] and report["previous"] is None and report["template"] == "us-east-1/2026-09-06.json"
    text = pricelist.format_report(path)
    assert "missing (not in the new snapshot): 3" in text
    assert "no pricelist mapping: athena.tb_scanned\n" in text
    assert "no us-east-2 product matches service=AWSQueueService, usagetype=Requests-RBP, queueType=Standard: " \
           "sqs.standard.request" in text
    assert pricelist.format_report(report) == text


def test_second_refresh_carries_only_same_region_items_and_clears_the_cache(bundle, tmp_path, client):
    out = tmp_path / "out"
    (out / "us-east-2").mkdir(parents=True)
    first = {**BUNDLE, "region": "us-east-2", "as_of": DAY, "items": {
        "s3.get_request": {**BUNDLE["items"]["s3.get_request"], "price": 4.5e-7, "source": "API earlier"},
        "lambda.duration.x86_64": {"unit": "GB-second", "price": 1.0e-5, "source": "API earlier",
                                   "pricelist": {"service": "AWSLambda", "group": "AWS-Lambda-Duration"}}}}
    (out / "us-east-2" / f"{DAY}.json").write_text(json.dumps(first), encoding="utf-8")
    assert prices.load("us-east-2", root=out).price("lambda.duration.x86_64") == 1.0e-5  # now cached

    with Stubber(client) as stub:  # nothing comes back except Lambda duration
        stub.add_response("get_products", page(*use2_products("0.0000199000")),
                          params("AWSLambda", "us-east-2", "AWS-Lambda-Duration"))
        stub.add_response("get_products", page(), params("AWSLambda", "us-east-2", "AWS-Lambda-Requests"))
        stub.add_response("get_products", page(), params("AmazonS3", "us-east-2"))
        stub.add_response("get_products", page(), params("AWSQueueService", "us-east-2"))
        pricelist.refresh("us-east-2", out_dir=out, client=client, today=DAY, progress=False)
        stub.assert_no_pending_responses()

    book = prices.load("us-east-2", root=out)  # same date as before: stale if the cache were not cleared
    assert book.price("lambda.duration.x86_64") == pytest.approx(1.99e-5)
    carried = book.item("s3.get_request")
    assert carried["refreshed"] is False and carried["price"] == 4.5e-7 and carried["source"] == "API earlier"
    # items only the us-east-1 book has are tried but never borrowed
    assert "s3.put_request" not in book.items and "athena.tb_scanned" not in book.items
    assert book.meta["refresh"]["missing"] == ["athena.tb_scanned", "lambda.request.x86_64", "s3.put_request",
                                               "sqs.standard.request"]


def test_failure_midway_leaves_no_file(bundle, tmp_path, client):
    out = tmp_path / "out"
    with Stubber(client) as stub:
        stub.add_response("get_products", page(duration_use1()), params("AWSLambda", "us-east-1", "AWS-Lambda-Duration"))
        stub.add_response("get_products", page(), params("AWSLambda", "us-east-1", "AWS-Lambda-Requests"))
        stub.add_response("get_products", page(token="page-2"), params("AmazonS3", "us-east-1"))
        stub.add_client_error("get_products", service_error_code="InternalErrorException", http_status_code=500)
        with pytest.raises(errors.Unreachable, match="GetProducts in us-east-1 failed") as caught:
            pricelist.refresh("us-east-1", out_dir=out, client=client, today=DAY, progress=False)
    assert isinstance(caught.value.__cause__, ClientError)     # the AWS error, one line, the botocore one chained
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
    assert [p.name for p in (bundle / "us-east-1").iterdir()] == ["2026-09-06.json"]


def test_failed_write_leaves_no_temp_file(bundle, tmp_path, client, monkeypatch):
    out = tmp_path / "out"

    def refuse(src, dst):
        raise OSError(f"simulated rename failure for {dst}")

    with Stubber(client) as stub:
        stub_us_east_1(stub)
        monkeypatch.setattr(atomicfile.os, "replace", refuse)
        with pytest.raises(OSError, match="simulated rename failure"):
            pricelist.refresh("us-east-1", out_dir=out, client=client, today=DAY, progress=False)
    assert list((out / "us-east-1").iterdir()) == []


def test_nothing_refreshed_writes_nothing(bundle, tmp_path, client):
    out = tmp_path / "out"
    with Stubber(client) as stub:
        for service, group in [("AWSLambda", "AWS-Lambda-Duration"), ("AWSLambda", "AWS-Lambda-Requests"),
                               ("AmazonS3", None), ("AWSQueueService", None)]:
            stub.add_response("get_products", page(), params(service, "us-west-2", group))
        with pytest.raises(RuntimeError, match="no usable price for any us-west-2 item"):
            pricelist.refresh("us-west-2", out_dir=out, client=client, today=DAY, progress=False)
    assert not (out / "us-west-2").exists()


def test_units_tiers_and_ambiguity(tmp_path, client, monkeypatch):
    """Size units are restated per the book's unit; gaps in tiers and several matching products are refused."""
    monkeypatch.setenv("LAMBDA_WORKBOOK_DATA", str(tmp_path / "empty"))  # no us-east-1 book adding items
    root = tmp_path / "root"
    (root / "us-west-2").mkdir(parents=True)
    book = {**BUNDLE, "region": "us-west-2", "items": {
        "kinesis.on_demand.ingest_gb": {"unit": "GB", "price": 0.08, "source": "old",
                                        "pricelist": {"service": "AmazonKinesis", "usagetype": "IngestBytes"}},
        "logs.ingestion_gb": {"unit": "GB", "price": 0.5, "source": "old",
                              "pricelist": {"service": "AmazonCloudWatch", "usagetype": "DataProcessing-Bytes"}},
        "s3.get_request": {"unit": "request", "price": 4e-7, "source": "old",
                           "pricelist": {"service": "AmazonS3", "usagetype": "Requests-Tier2"}},
        "s3.put_request": {"unit": "request", "price": 5e-6, "source": "old",
                           "pricelist": {"service": "AmazonS3", "usagetype": "Requests-Tier1"}}}}
    (root / "us-west-2" / "2026-10-01.json").write_text(json.dumps(book), encoding="utf-8")
    with Stubber(client) as stub:
        # synthetic: an API priced per TB with a 10 TB tier, for a book item priced per GB
        stub.add_response("get_products", page(product(
            "KIN", "AmazonKinesis", "us-west-2", "USW2-IngestBytes",
            [("0", "10", "80"), ("10", "Inf", "40")], unit="TB")), params("AmazonKinesis", "us-west-2"))
        stub.add_response("get_products", page(product(
            "CWL", "AmazonCloudWatch", "us-west-2", "USW2-DataProcessing-Bytes", flat("0.5300000000"), unit="GB")),
            params("AmazonCloudWatch", "us-west-2"))
        stub.add_response("get_products", page(
            product("T2A", "AmazonS3", "us-west-2", "USW2-Requests-Tier2", flat("0.0000004")),
            product("T2B", "AmazonS3", "us-west-2", "USW2-Requests-Tier2", flat("0.0000005")),
            product("T1", "AmazonS3", "us-west-2", "USW2-Requests-Tier1",
                    [("0", "1000", "0.000005"), ("2000", "Inf", "0.000004")])),
            params("AmazonS3", "us-west-2"))
        items, report = pricelist.fetch_items("us-west-2", client=client, root=root, today=DAY, progress=False)
        stub.assert_no_pending_responses()

    kin = items["kinesis.on_demand.ingest_gb"]
    assert kin["unit"] == "GB" and kin["unit_api"] == "TB"
    assert kin["tiers"] == [{"upto": 10240.0, "price": 80 / 1024}, {"upto": None, "price": 40 / 1024}]
    logs = items["logs.ingestion_gb"]
    assert (logs["unit"], logs["unit_api"], logs["price"]) == ("GB", "GB", 0.53)
    assert report["refreshed"] == ["kinesis.on_demand.ingest_gb", "logs.ingestion_gb"]
    assert report["carried"] == ["s3.get_request", "s3.put_request"]
    assert items["s3.get_request"]["price"] == 4e-7 and items["s3.get_request"]["refreshed"] is False
    assert "T2A, T2B" in report["reasons"]["s3.get_request"]
    assert "not contiguous" in report["reasons"]["s3.put_request"]


def test_usagetype_prefix_must_be_a_region_code():
    mapping = {"service": "AmazonS3", "usagetype": "Requests-Tier2"}
    attrs = {"location": "US East (Ohio)", "regionCode": "us-east-2"}
    assert pricelist._matches({**attrs, "usagetype": "USE2-Requests-Tier2"}, mapping, "us-east-2")
    assert pricelist._matches({**attrs, "usagetype": "Requests-Tier2"}, mapping, "us-east-2")
    assert not pricelist._matches({**attrs, "usagetype": "USE2-Requests-SIA-Tier2"}, mapping, "us-east-2")
    assert not pricelist._matches({**attrs, "usagetype": "Requests-Tier2-Extra"}, mapping, "us-east-2")
    assert not pricelist._matches({**attrs, "usagetype": "USE2-Requests-Tier2"}, mapping, "us-west-2")


@pytest.mark.parametrize("bad", ["us-east", "US-EAST-1", "useast1", "", "us-east-1 ", None, 42])
def test_bad_region_is_refused_before_any_call(bad, tmp_path):
    class NoSession:
        def client(self, *args, **kwargs):
            raise AssertionError("no client should be made for a bad region")

    for call in (lambda: pricelist.refresh(bad, out_dir=tmp_path, session=NoSession(), progress=False),
                 lambda: pricelist.fetch_items(bad, session=NoSession(), progress=False),
                 lambda: pricelist.pricing_endpoint(bad)):
        with pytest.raises(ValueError, match="us-east-1") as info:
            call()
        assert repr(bad) in str(info.value)


def test_bad_date_is_refused(bundle, tmp_path, client):
    with pytest.raises(ValueError, match="'2026-02-30'"):
        pricelist.refresh("us-east-1", out_dir=tmp_path, client=client, today="2026-02-30", progress=False)


@pytest.mark.parametrize(("region", "endpoint"), [("us-east-2", "us-east-1"), ("us-gov-west-1", "us-east-1"),
                                                  ("sa-east-1", "us-east-1"), ("eu-west-3", "eu-central-1"),
                                                  ("ap-northeast-1", "ap-south-1")])
def test_client_uses_nearest_endpoint_with_adaptive_bounded_retries(region, endpoint):
    made = {}

    class Session:
        def client(self, service, **kwargs):
            made.update(kwargs, service=service)
            return "client"

    assert pricelist.make_client(region, session=Session()) == "client"
    assert made["service"] == "pricing" and made["region_name"] == endpoint
    assert made["config"].retries == {"mode": "adaptive", "max_attempts": pricelist.RETRY_ATTEMPTS}
    real = pricelist.make_client(region, session=boto3.Session())
    assert real.meta.region_name == endpoint and real.meta.service_model.service_name == "pricing"


def test_bundled_mappings_are_well_formed():
    """Every pricelist mapping shipped in data/prices can drive a query."""
    root = datafiles.prices_dir()
    checked = 0
    for region, dates in prices.available(root).items():
        for item_id, it in prices.load(region, as_of=dates[-1], root=root).items.items():
            if "pricelist" in it:
                mapping = pricelist._check_mapping(item_id, it["pricelist"])
                assert set(mapping) - {"service"}, f"{item_id} maps to a whole service"
                checked += 1
    assert checked > 0


# ---- the items whose tiers were corrected ---------------------------------------------------------------

CORRECTED = ("apigw.rest.request", "data_transfer.out_internet_gb", "sqs.fifo.request")


def test_corrected_tiers_are_refreshed_whole_from_the_price_list(tmp_path, client, monkeypatch):
    """The shipped mappings of the three corrected items find their products in responses of the recorded
    GetProducts shape (decoys sharing a service alongside), and every tier comes back in order."""
    shipped = prices.load("us-east-1")
    monkeypatch.setenv("LAMBDA_WORKBOOK_DATA", str(tmp_path / "empty"))   # no bundled book adding items
    root = tmp_path / "p"
    (root / "us-east-1").mkdir(parents=True)
    doc = {**BUNDLE, "items": {k: shipped.item(k) for k in CORRECTED}}
    (root / "us-east-1" / "2026-12-05.json").write_text(json.dumps(doc), encoding="utf-8")
    rest = product("APIGWREST", "AmazonApiGateway", "us-east-1", "USE1-ApiGatewayRequest",
                   [("1000000000", "20000000000", "0.0000024000"), ("0", "333000000", "0.0000036000"),
                    ("20000000000", "Inf", "0.0000015500"), ("333000000", "1000000000", "0.0000029000")])
    http = product("APIGWHTTP", "AmazonApiGateway", "us-east-1", "USE1-ApiGatewayHttpRequest",
                   [("0", "300000000", "0.0000010000"), ("300000000", "Inf", "0.0000009000")])
    egress = product("DTOUT", "AWSDataTransfer", "us-east-1", "USE1-DataTransfer-Out-Bytes",
                     [("0", "10240", "0.0910000000"), ("10240", "51200", "0.0860000000"),
                      ("51200", "153600", "0.0710000000"), ("153600", "Inf", "0.0510000000")],
                     unit="GB", regionCode=None, fromRegionCode="us-east-1", toLocation="External",
                     transferType="AWS Outbound")
    inter = product("DTREG", "AWSDataTransfer", "us-east-1", "USE1-USE2-AWS-Out-Bytes", flat("0.0200000000"),
                    unit="GB", regionCode=None, fromRegionCode="us-east-1", toLocation="US East (Ohio)",
                    transferType="InterRegion Outbound")
    fifo = product("SQSFIFO", "AWSQueueService", "us-east-1", "Requests-FIFO-RBP",
                   [("0", "100000000000", "0.0000005100"), ("100000000000", "200000000000", "0.0000004100"),
                    ("200000000000", "Inf", "0.0000003600")], queueType="FIFO (first-in, first-out)")
    std = product("SQSSTD", "AWSQueueService", "us-east-1", "Requests-RBP",
                  [("0", "100000000000", "0.0000004000"), ("100000000000", "Inf", "0.0000003000")],
                  queueType="Standard")
    egress_filter = {**params("AWSDataTransfer", "us-east-1"),
                     "Filters": [{"Type": "TERM_MATCH", "Field": "fromRegionCode", "Value": "us-east-1"}]}
    with Stubber(client) as stub:   # queries in item order: API Gateway, data transfer, SQS
        stub.add_response("get_products", page(http, rest), params("AmazonApiGateway", "us-east-1"))
        stub.add_response("get_products", page(inter, egress), egress_filter)
        stub.add_response("get_products", page(std, fifo), params("AWSQueueService", "us-east-1"))
        items, report = pricelist.fetch_items("us-east-1", client=client, root=root, today=DAY, progress=False)
        stub.assert_no_pending_responses()

    assert report["refreshed"] == sorted(CORRECTED) and not report["carried"] and not report["missing"]
    assert [t["upto"] for t in items["apigw.rest.request"]["tiers"]] == [333e6, 1e9, 20e9, None]
    assert [t["price"] for t in items["apigw.rest.request"]["tiers"]] == pytest.approx([3.6e-6, 2.9e-6, 2.4e-6, 1.55e-6])
    assert items["apigw.rest.request"]["sku"] == "APIGWREST"
    dt = items["data_transfer.out_internet_gb"]
    assert dt["sku"] == "DTOUT" and [t["upto"] for t in dt["tiers"]] == [10240, 51200, 153600, None]
    assert [t["price"] for t in dt["tiers"]] == pytest.approx([0.091, 0.086, 0.071, 0.051])
    assert dt["pricelist"]["region_attribute"] == "fromRegionCode"
    fifo_item = items["sqs.fifo.request"]
    assert fifo_item["sku"] == "SQSFIFO" and fifo_item["metering_kb"] == 64
    assert [t["price"] for t in fifo_item["tiers"]] == pytest.approx([5.1e-7, 4.1e-7, 3.6e-7])
    for item_id in CORRECTED:   # the hand-checked provenance gives way to the API's
        assert "checked" not in items[item_id] and items[item_id]["source"] == f"AWS Price List API get_products {DAY}"
    # the refreshed book prices the tiers like the shipped one does
    book = prices.parse_book({**doc, "as_of": DAY, "items": items})
    assert book.cost("apigw.rest.request", 25e9) < 25e9 * book.tiers("apigw.rest.request")[2][1]


def test_region_attribute_selects_which_region_must_match():
    mapping = {"service": "AWSDataTransfer", "region_attribute": "fromRegionCode",
               "usagetype": "DataTransfer-Out-Bytes", "transferType": "AWS Outbound", "toLocation": "External"}
    attrs = {"location": "US East (N. Virginia)", "usagetype": "USE1-DataTransfer-Out-Bytes",
             "transferType": "AWS Outbound", "toLocation": "External"}
    assert pricelist._matches({**attrs, "fromRegionCode": "us-east-1"}, mapping, "us-east-1")
    assert not pricelist._matches({**attrs, "fromRegionCode": "us-west-2"}, mapping, "us-east-1")
    assert not pricelist._matches({**attrs, "regionCode": "us-east-1"}, mapping, "us-east-1")   # the wrong attribute
    assert not pricelist._matches({**attrs, "fromRegionCode": "us-east-1", "toLocation": "US East (Ohio)"},
                                  mapping, "us-east-1")
