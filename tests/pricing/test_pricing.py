"""The pricing context (lambda_workbook.pricing): built once, handed in, and the one place a model falls back."""

from types import SimpleNamespace

import numpy as np
import pytest

from lambda_workbook import billing, costs, memory, prices, triggers
from lambda_workbook.schema import Snapshot


def _doubled_requests(book: prices.PriceBook) -> prices.PriceBook:
    items = {k: dict(v) for k, v in book.items.items()}
    for arch in ("x86_64", "arm64"):
        items[f"lambda.request.{arch}"]["price"] = 2 * book.price(f"lambda.request.{arch}")
    return prices.PriceBook(region=book.region, as_of=book.as_of, items=items, source=book.source)


def _other_region(book: prices.PriceBook, region: str = "eu-west-1") -> prices.PriceBook:
    return prices.PriceBook(region=region, as_of=book.as_of, items=book.items, source=book.source)


def test_a_book_and_a_region_that_disagree_raise_one_line():
    eu = _other_region(prices.load("us-east-1"))
    with pytest.raises(ValueError) as err:
        prices.resolve("us-east-1", book=eu)
    assert str(err.value) == "book is priced for eu-west-1, but region='us-east-1': pass one, or make them agree"
    # the public entry points say the same instead of pricing with the book
    with pytest.raises(ValueError, match="book is priced for eu-west-1, but region='us-east-1'"):
        billing.lambda_cost(1e6, 120, 512, region="us-east-1", book=eu)
    with pytest.raises(ValueError, match="make them agree"):
        triggers.compare(triggers.Workload(events_per_month=1e6, region="us-east-1"), book=eu)
    # a book alone (no region) prices in its own region
    assert billing.breakdown(1e6, 120, 512, book=eu)["region"] == "eu-west-1"


def test_resolve_falls_back_to_the_bundled_book_only_when_nothing_is_handed_in():
    us = prices.load("us-east-1")
    assert prices.resolve() is us and prices.resolve("us-east-1") is us
    dear = _doubled_requests(us)
    ctx = prices.Pricing.of(dear)
    assert prices.resolve(pricing=ctx) is dear and prices.resolve("us-east-1", pricing=ctx) is dear
    plain = billing.lambda_cost(1e6, 120, 512)
    assert plain == billing.lambda_cost(1e6, 120, 512, book=us)
    assert billing.lambda_cost(1e6, 120, 512, pricing=ctx) == pytest.approx(plain + 1e6 * us.price("lambda.request.x86_64"))


def test_a_missing_region_is_one_line_naming_it_and_the_regions_held():
    ctx = prices.Pricing.of(prices.load("us-east-1"))
    with pytest.raises(prices.PricesNotFound) as err:
        ctx.book("ap-south-2")
    text = str(err.value)
    assert "'ap-south-2'" in text and "it holds: us-east-1" in text and "\n" not in text
    # through a model entry point, the same error
    with pytest.raises(prices.PricesNotFound, match="'ap-south-2'"):
        billing.lambda_cost(1e6, 120, 512, region="ap-south-2", pricing=ctx)
    two = prices.Pricing.of(prices.load("us-east-1"), _other_region(prices.load("us-east-1")))
    with pytest.raises(ValueError, match="region is needed: the pricing context holds eu-west-1, us-east-1"):
        prices.resolve(pricing=two)


def test_a_snapshot_region_without_a_book_is_kept_as_missing_with_the_reason():
    ctx = prices.for_snapshot(SimpleNamespace(regions=["us-east-1", "ap-south-2"]))
    assert ctx.regions == ["us-east-1"] and set(ctx.missing) == {"ap-south-2"}
    with pytest.raises(prices.PricesNotFound, match="lambda-workbook prices refresh --region ap-south-2"):
        ctx.book("ap-south-2")
    with pytest.raises(prices.PricesNotFound):
        prices.context(["us-east-1", "ap-south-2"])   # asked for by name: strict


def test_the_context_is_what_prices_a_snapshot_and_the_memo_keeps_contexts_apart(sample_snapshot):
    snap = Snapshot(manifest=dict(sample_snapshot.manifest), tables={k: v.copy() for k, v in sample_snapshot.tables.items()},
                    flags=[])
    base = costs.function_costs(snap).set_index("function_name")
    dear_ctx = prices.Pricing.of(_doubled_requests(prices.load("us-east-1")))
    dear = costs.function_costs(snap, pricing=dear_ctx).set_index("function_name")   # same snapshot object
    np.testing.assert_allclose(dear.loc[base.index, "request_usd"], 2 * base["request_usd"], rtol=1e-9)
    again = costs.function_costs(snap, pricing=prices.for_snapshot(snap)).set_index("function_name")
    np.testing.assert_allclose(again.loc[base.index, "monthly_usd"], base["monthly_usd"], rtol=0)


def test_the_architecture_stays_the_models_argument():
    ctx = prices.Pricing.of(prices.load("us-east-1"))
    model = memory.fit([128, 1024], [800.0, 120.0])
    x86 = memory.recommend(model, arch="x86_64", pricing=ctx)
    arm = memory.recommend(model, arch="arm64", pricing=ctx)
    assert x86.region == arm.region == "us-east-1" and x86.monthly_cost != arm.monthly_cost


def test_a_context_survives_pickling():
    import pickle

    ctx = prices.context(["us-east-1"])
    back = pickle.loads(pickle.dumps(ctx))
    assert back.regions == ["us-east-1"] and back.key(["us-east-1"]) == ctx.key(["us-east-1"])
