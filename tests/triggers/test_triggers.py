"""Invocation sources: price rules against the facts doc's worked examples, feasibility, batching, properties,
and the findings on the sample account."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lambda_workbook import prices, sample, triggers
from lambda_workbook.triggers import Workload

BOOK = prices.load("us-east-1")
HOURS = 730.0
SECONDS = HOURS * 3600.0
CONTRACT_IDS = ["apigw-rest", "apigw-http", "function-url", "alb", "sqs", "sqs-fifo", "sns", "eventbridge", "kinesis",
                "dynamodb-streams", "sfn-standard", "sfn-express", "s3", "invoke-sync", "invoke-async"]


def meter(w: Workload, source: str, item: str, rule: str | None = None, **kw) -> pd.DataFrame:
    m = triggers.meters(w, sources=[source], **kw)
    m = m[m["item"] == item]
    return m if rule is None else m[m["rule"] == rule]


def row(w: Workload, source: str, **kw) -> pd.Series:
    return triggers.compare(w, sources=[source], **kw).loc[source]


# ---- the contract ----------------------------------------------------------------------------------------


def test_compare_contract_with_the_issue_example():
    w = Workload(events_per_month=10_000_000, payload_kb=2.0, duration_ms=120.0, memory_mb=512, sync=True,
                 arch="x86_64", region="us-east-1", batch_size=1, batch_window_s=0.0, invocation_overhead_ms=0.0)
    t = triggers.compare(w)
    assert set(CONTRACT_IDS) <= set(t.index)
    for col in ("feasible", "reason", "invocations", "source_cost", "lambda_cost", "monthly_cost",
                "batch_wait_max_s", "hop_latency", "retries", "ordering", "on_failure", "max_attempts"):
        assert col in t.columns, col
    assert t["feasible"].dtype == bool
    np.testing.assert_allclose(t["monthly_cost"], t["source_cost"] + t["lambda_cost"])
    # a sync caller: the front doors and direct invocations are feasible, queues/topics/streams are not
    assert t.loc[["apigw-rest", "apigw-http", "function-url", "alb", "invoke-sync", "sfn-express"], "feasible"].all()
    assert t.loc["sqs", "reason"] == "sync caller cannot wait on SQS"
    for sid in ("sqs-fifo", "sns", "eventbridge", "kinesis", "dynamodb-streams", "sfn-standard", "s3", "invoke-async"):
        assert not t.loc[sid, "feasible"] and t.loc[sid, "reason"].startswith("sync caller cannot wait on"), sid
    # one invocation per event, Lambda identical everywhere: 10M × $0.20/M + 10M × 0.12 s × 0.5 GB × $0.0000166667
    lam = 10e6 * 2e-7 + 10e6 * 0.12 * 0.5 * 0.0000166667
    np.testing.assert_allclose(t["lambda_cost"], lam, rtol=1e-9)
    assert (t["invocations"] == 10e6).all()
    # list prices of the per-request front doors
    assert t.loc["apigw-rest", "source_cost"] == pytest.approx(35.0)
    assert t.loc["apigw-http", "source_cost"] == pytest.approx(10.0)
    assert t.loc["function-url", "source_cost"] == 0 and t.loc["invoke-sync", "source_cost"] == 0


def test_infeasible_rows_stay_with_their_reason_and_costs():
    t = triggers.compare(Workload(payload_kb=2048, sync=False))
    assert len(t) == len(triggers.load_catalog().ids)
    for sid in ("sns", "invoke-async"):
        assert t.loc[sid, "reason"] == "payload above 1 MB async limit"
    assert t.loc["sqs", "reason"] == "payload above 1 MB SQS message limit"
    assert "payload above 1 MB EventBridge event limit" in t.loc["eventbridge", "reason"]
    assert t.loc["apigw-http", "feasible"] and t.loc["s3", "feasible"]  # S3 events only reference the object
    assert np.isfinite(t["monthly_cost"]).all()
    big = triggers.compare(Workload(payload_kb=6145, sync=True))
    assert big.loc["apigw-http", "reason"] == "payload above 6 MB sync limit"
    assert big.loc["invoke-sync", "reason"] == "payload above 6 MB sync limit"


def test_payload_limits_are_inclusive():
    at = triggers.compare(Workload(payload_kb=1024, sync=False), sources=["sns", "sqs", "invoke-async"])
    assert at["feasible"].all()
    over = triggers.compare(Workload(payload_kb=1024.001, sync=False), sources=["sns", "sqs", "invoke-async"])
    assert not over["feasible"].any()


@pytest.mark.parametrize("field,value,fragment", [
    ("events_per_month", -1, "events_per_month must be >= 0"),
    ("events_per_month", float("nan"), "events_per_month must be finite"),
    ("payload_kb", "2", "payload_kb must be a number"),
    ("memory_mb", 64, "memory_mb must be >= 128"),
    ("memory_mb", 20000, "memory_mb must be <= 10240"),
    ("sync", "yes", "sync must be True"),
    ("arch", "sparc", "arch must be one of"),
    ("region", "US-EAST", "region must look like"),
    ("batch_size", 0, "batch_size must be >= 1"),
    ("batch_size", 2.5, "batch_size must be a whole number"),
    ("batch_size", 20000, "batch_size must be <= 10000"),
    ("batch_window_s", 301, "batch_window_s must be <= 300"),
    ("invocation_overhead_ms", -1, "invocation_overhead_ms must be >= 0"),
    ("failure_rate", 1.0, "failure_rate must be < 1"),
    ("peak_to_mean", 0.5, "peak_to_mean must be >= 1"),
    ("partitions", 0, "partitions must be >= 1"),
])
def test_bad_workloads_are_named(field, value, fragment):
    with pytest.raises(ValueError) as err:
        Workload(**{field: value})
    assert fragment in str(err.value) and repr(value)[:6] in str(err.value)


def test_unknown_source_and_wrong_type_are_refused():
    with pytest.raises(KeyError, match="unknown invocation source 'sqs-lite'"):
        triggers.compare(Workload(), sources=["sqs-lite"])
    with pytest.raises(TypeError, match="Workload"):
        triggers.compare({"events_per_month": 1})
    with pytest.raises(prices.PricesNotFound):
        triggers.compare(Workload(region="eu-north-1"))


# ---- price rules against the facts doc's worked examples -------------------------------------------------

WORKED_EXAMPLES = ["2 MB req = 4 requests", "every **64 KB chunk = 1 request**", "**64 KB chunks**",
                   "**deliveries to Lambda and SQS: no charge**", "**0.4 GB/h processed for Lambda targets**",
                   "$0.015/shard-h; $0.014/M PUT payload units (25 KB)",
                   "duration rounded up to **100 ms**, memory in **64 MB** chunks",
                   "GetRecords **free when invoked by Lambda triggers**", "messages in **32 KB** increments",
                   "$0.025 / 1,000 state transitions (4,000 free/mo, always); retries count"]


def test_worked_examples_are_quoted_in_the_facts_doc(facts_text):
    for quote in WORKED_EXAMPLES:
        assert quote in facts_text, quote


def test_http_api_bills_a_2_mb_request_as_4():
    w = Workload(events_per_month=1_000_000, payload_kb=2048)
    assert meter(w, "apigw-http", "apigw.http.request")["quantity"].item() == 4_000_000
    assert row(w, "apigw-http")["source_cost"] == pytest.approx(4.0)
    assert row(Workload(events_per_month=1e6, payload_kb=512), "apigw-http")["source_cost"] == pytest.approx(1.0)
    assert row(Workload(events_per_month=1e6, payload_kb=512.5), "apigw-http")["source_cost"] == pytest.approx(2.0)
    # REST APIs meter per request whatever the size
    assert row(w, "apigw-rest")["source_cost"] == pytest.approx(3.5)


def test_rest_api_volume_tiers():
    w = Workload(events_per_month=400e6, payload_kb=1)
    assert row(w, "apigw-rest")["source_cost"] == pytest.approx(333e6 * 3.5e-6 + 67e6 * 2.8e-6)


def test_websocket_messages_in_32_kb_increments_and_connection_minutes_unpriced():
    r = row(Workload(events_per_month=1e6, payload_kb=40), "apigw-websocket")
    assert r["source_cost"] == pytest.approx(2.0)
    assert "apigw.websocket.connection_minute" in r["unpriced"]


def test_sqs_bills_a_256_kb_message_as_4_requests():
    w = Workload(events_per_month=1_000_000, payload_kb=256, sync=False)
    sqs = triggers.meters(w, sources=["sqs"])
    send = sqs[(sqs["role"] == "producer")]
    assert send["quantity"].item() == 4_000_000
    receive, delete = sqs[sqs["rule"] == "per_call"]["quantity"]
    assert receive == 4_000_000 and delete == 1_000_000
    # idle pollers' empty receives: 5 pollers × 3 a minute ≈ $0.26 a month (facts §2.2)
    empty = sqs[sqs["rule"] == "per_hour"]
    assert empty["cost"].item() == pytest.approx(0.26, abs=0.005)
    assert row(w, "sqs")["source_cost"] == pytest.approx((9e6 + 900 * HOURS) * 0.4e-6)
    assert row(w, "sqs-fifo")["source_cost"] == pytest.approx((9e6 + 900 * HOURS) * 0.5e-6)


def test_sqs_receives_up_to_10_messages_a_call_and_chunks_the_call_payload():
    # 20 messages of 10 KB a batch: 2 receive calls of 100 KB → 2 chunks each; 2 delete calls
    w = Workload(events_per_month=20e6, payload_kb=10, sync=False, batch_size=20, batch_window_s=10, partitions=1)
    r = row(w, "sqs")
    assert r["batch_fill"] == 20 and r["invocations"] == pytest.approx(1e6)
    receive, delete = triggers.meters(w, sources=["sqs"]).query("rule == 'per_call'")["quantity"]
    assert receive == pytest.approx(1e6 * 2 * 2) and delete == pytest.approx(1e6 * 2)


def test_sqs_free_tier_is_applied_once_across_its_meters():
    w = Workload(events_per_month=5e6, payload_kb=1, sync=False)
    paid, free = row(w, "sqs")["source_cost"], row(Workload(**{**w.as_dict(), "free_tier": True}), "sqs")["source_cost"]
    assert paid - free == pytest.approx(1e6 * 0.4e-6)


def test_eventbridge_bills_100_kb_as_2_events():
    w = Workload(events_per_month=1e6, payload_kb=100, sync=False)
    assert meter(w, "eventbridge", "eventbridge.custom_event")["quantity"].item() == 2e6
    assert row(w, "eventbridge")["source_cost"] == pytest.approx(2.0)


def test_sns_publishes_in_64_kb_chunks_and_delivers_to_lambda_for_free():
    w = Workload(events_per_month=1e6, payload_kb=100, sync=False, failure_rate=0.5)
    m = triggers.meters(w, sources=["sns"]).set_index("item")
    assert m.loc["sns.publish", "quantity"] == 2e6
    assert m.loc["sns.delivery.lambda", "quantity"] == pytest.approx(1e6 * 1.75)  # 3 attempts at p = 0.5
    assert m.loc["sns.delivery.lambda", "cost"] == 0
    assert row(w, "sns")["source_cost"] == pytest.approx(1.0)
    assert row(Workload(**{**w.as_dict(), "free_tier": True}), "sns")["source_cost"] == pytest.approx(0.5)


def test_alb_hours_plus_lcu_from_the_largest_dimension():
    # processed bytes dominate: 2 LCU at 0.8 GB/h (0.4 GB/h per LCU for Lambda targets)
    rate = 0.8 * 1024**2 / (3600 * 200)           # events/s of 100 KB requests and 100 KB responses
    w = Workload(events_per_month=rate * SECONDS, payload_kb=100, response_kb=100)
    assert rate / 25 < 2                           # new connections stay below 2 LCU
    assert row(w, "alb")["source_cost"] == pytest.approx(HOURS * 0.0225 + 2 * HOURS * 0.008)
    # new connections dominate: 100 requests/s, one connection each, 25 new connections/s per LCU
    w = Workload(events_per_month=100 * SECONDS, payload_kb=0.5)
    assert row(w, "alb")["source_cost"] == pytest.approx(HOURS * 0.0225 + 4 * HOURS * 0.008)
    # an idle ALB still costs its hours
    assert row(Workload(events_per_month=0), "alb")["source_cost"] == pytest.approx(HOURS * 0.0225)


def test_kinesis_shard_hours_and_put_units():
    # 100 records/s of 30 KB: 2.93 MB/s needs 3 shards (1 MB/s each); each record is 2 PUT units of 25 KB
    w = Workload(events_per_month=100 * SECONDS, payload_kb=30, sync=False, batch_size=100)
    m = triggers.meters(w, sources=["kinesis"]).set_index("item")
    assert m.loc["kinesis.shard_hour", "quantity"] == pytest.approx(3 * HOURS)
    assert m.loc["kinesis.put_unit", "quantity"] == pytest.approx(2 * 100 * SECONDS)
    assert row(w, "kinesis")["source_cost"] == pytest.approx(3 * HOURS * 0.015 + 2 * 100 * SECONDS * 0.014e-6)
    assert row(w, "kinesis")["partitions"] == 3
    # 2,500 records/s of 0.1 KB: the records dimension needs 3 shards
    w = Workload(events_per_month=2500 * SECONDS, payload_kb=0.1, sync=False)
    assert meter(w, "kinesis", "kinesis.shard_hour")["quantity"].item() == pytest.approx(3 * HOURS)
    # a quiet stream still pays one shard
    assert meter(Workload(events_per_month=10, sync=False), "kinesis", "kinesis.shard_hour")["quantity"].item() == HOURS


def test_kinesis_on_demand_rounds_records_to_1_kb_and_flags_the_unknown_retrieval_price():
    w = Workload(events_per_month=1e6, payload_kb=1.2, sync=False)
    ingest = meter(w, "kinesis-on-demand", "kinesis.on_demand.ingest_gb")
    assert ingest["quantity"].item() == pytest.approx(1e6 * 2 / 1024**2)
    r = row(w, "kinesis-on-demand")
    assert r["source_cost"] == pytest.approx(HOURS * 0.04 + 1e6 * 2 / 1024**2 * 0.08)
    assert r["unpriced"] == "kinesis.on_demand.retrieval_gb" and "not priced" in r["notes"]


def test_an_unknown_part_is_never_counted_as_zero():
    w = Workload(events_per_month=1e6, payload_kb=1.2, sync=False)
    t = triggers.compare(w)
    assert set(t.index[t["lower_bound"]]) == {"apigw-websocket", "kinesis-on-demand"}
    assert (t.loc[~t["lower_bound"], "unpriced"] == "").all()
    m = triggers.meters(w)
    unknown = m["item"].isin(["kinesis.on_demand.retrieval_gb", "apigw.websocket.connection_minute"])
    assert m.loc[unknown, "cost"].isna().all() and m.loc[~unknown, "cost"].notna().all()
    for sid in ("apigw-websocket", "kinesis-on-demand"):
        # the row's source cost is what its priced meters add up to: a lower bound, said in the notes
        assert t.loc[sid, "source_cost"] == pytest.approx(m.loc[m["source"] == sid, "cost"].sum())
        assert "not priced (unknown)" in t.loc[sid, "notes"] and "lower bound" in t.loc[sid, "notes"]
    # an unknown price times no usage is exactly nothing
    idle = triggers.compare(Workload(events_per_month=0, sync=False), sources=["kinesis-on-demand"]).iloc[0]
    assert not idle["lower_bound"] and idle["unpriced"] == ""


def test_view_marks_lower_bounds_with_the_word_unknown():
    t = triggers.compare(Workload(events_per_month=1e6, payload_kb=1.2, sync=False))
    v = triggers.view(t).set_index("source")
    col = "unknown (not priced)"
    for sid, r in t.iterrows():
        text = v.loc[r["name"], col]
        if r["lower_bound"]:
            assert "unknown" in text and "lower bound" in text and r["unpriced"] in text, sid
        else:
            assert text == "", sid


def _book_with(**prices_):
    """The bundled book with some flat prices replaced (a what-if book, not a price claim)."""
    doc = json.loads(BOOK.path.read_text(encoding="utf-8"))
    for item_id, value in prices_.items():
        doc["items"][item_id] = {**doc["items"][item_id], "price": value}
    return prices.parse_book(doc)


def test_a_partly_unpriced_source_is_never_the_cheapest_without_saying_unknown():
    # a what-if book where Kinesis on-demand's known parts are free: its lower bound undercuts everything
    book = _book_with(**{"kinesis.on_demand.stream_hour": 0.0, "kinesis.on_demand.ingest_gb": 0.0})
    w = Workload(events_per_month=1e8, payload_kb=1, sync=False, batch_size=100)
    t = triggers.compare(w, book=book)
    feasible = t[t["feasible"]]
    assert feasible["monthly_cost"].idxmin() == "kinesis-on-demand" and t.loc["kinesis-on-demand", "lower_bound"]
    out = triggers.results(w, t)
    cheapest = out["cheapest_feasible"]
    assert cheapest is not None and not t.loc[cheapest, "lower_bound"]
    assert t.loc[cheapest, "monthly_cost"] == pytest.approx(feasible.loc[~feasible["lower_bound"], "monthly_cost"].min())
    text = out["cheapest_feasible_text"]
    assert text.startswith(t.loc[cheapest, "name"])
    assert "unknown" in text and "Kinesis Data Streams (on-demand)" in text and "retrieval_gb" in text
    assert out["sources"]["kinesis-on-demand"] == {**out["sources"]["kinesis-on-demand"], "lower_bound": True,
                                                    "unpriced": ["kinesis.on_demand.retrieval_gb"]}
    assert out["sources"]["sqs"]["lower_bound"] is False and out["sources"]["sqs"]["unpriced"] == []
    # with only partly unpriced sources left, there is no cheapest, and the text says it is unknown
    only = triggers.results(w, t.loc[["kinesis-on-demand", "apigw-websocket"]])
    assert only["cheapest_feasible"] is None and only["cheapest_feasible_text"].startswith("cheapest unknown")


def test_a_batch_size_finding_on_a_partly_unpriced_stream_says_unknown():
    row_ = pd.Series({"source": "kinesis-on-demand", "account_id": "111122223333", "region": "us-east-1",
                      "function_name": "f", "memory_mb": 512, "arch": "x86_64", "timeout_s": 60.0,
                      "invocations_per_month": 2.6e7, "duration_mean_ms": 20.0, "batch_size": 1, "batch_window_s": 0.0,
                      "partitions": 1, "batch_fill": 1.0, "events_per_month": 2.6e7, "payload_kb": 1.0,
                      "duration_per_event_ms": 20.0, "sync": False, "evidence": "observed"})
    p = {**triggers.DEFAULT_THRESHOLDS, "invocation_overhead_ms": 5.0}
    f = triggers._batch_size(row_, triggers.load_catalog(), BOOK, None, p)
    assert f is not None and f["monthly_impact_usd"] > 0
    assert "unknown: kinesis.on_demand.retrieval_gb not priced" in f["evidence"] and "lower bound" in f["evidence"]


def test_step_functions_express_rounds_to_100_ms_and_64_mb():
    for duration, billed_s in ((1.0, 0.1), (100.0, 0.1), (100.5, 0.2), (120.0, 0.2), (1000.0, 1.0)):
        w = Workload(events_per_month=1e6, duration_ms=duration, memory_mb=1024)
        gbs = meter(w, "sfn-express", "stepfunctions.express.gb_second")["quantity"].item()
        assert gbs == pytest.approx(1e6 * billed_s * 64 / 1024), duration
        assert row(w, "sfn-express")["source_cost"] == pytest.approx(1e6 * 1e-6 + gbs * 0.00001667)


def test_step_functions_standard_transitions_and_retries_count():
    assert row(Workload(events_per_month=1e6, sync=False), "sfn-standard")["source_cost"] == pytest.approx(25.0)
    w = Workload(events_per_month=1e6, sync=False, failure_rate=0.5)  # 1 + 0.5 + 0.25 attempts
    r = row(w, "sfn-standard")
    assert r["source_cost"] == pytest.approx(1.75 * 25.0)
    assert r["invocations"] == pytest.approx(1.75e6)
    free = row(Workload(events_per_month=1e6, sync=False, free_tier=True), "sfn-standard")
    assert free["source_cost"] == pytest.approx((1e6 - 4000) * 2.5e-5)


def test_dynamodb_streams_reads_are_free_for_lambda():
    w = Workload(events_per_month=1e6, payload_kb=2.5, sync=False)
    m = triggers.meters(w, sources=["dynamodb-streams"]).set_index("item")
    reads = m.loc["dynamodb_streams.read_request"]
    assert reads["quantity"] == pytest.approx(4 * SECONDS) and reads["cost"] == 0  # 4 polls/s of one shard
    assert m.loc["dynamodb.on_demand.write_unit", "quantity"] == pytest.approx(3e6)  # 1 KB per WRU
    assert row(w, "dynamodb-streams", producer=False)["source_cost"] == 0


def test_s3_notifications_cost_the_put_and_the_get_not_the_notification():
    w = Workload(events_per_month=1e6, sync=False)
    m = triggers.meters(w, sources=["s3"]).set_index("item")
    assert m.loc["s3.notification", "cost"] == 0
    assert row(w, "s3")["source_cost"] == pytest.approx(1e6 * 5e-6 + 1e6 * 4e-7)
    assert row(w, "s3", producer=False)["source_cost"] == pytest.approx(1e6 * 4e-7)


def test_async_retries_invoke_again_but_sync_sources_leave_retries_to_the_caller():
    w = Workload(events_per_month=1e6, sync=False, failure_rate=0.1)
    t = triggers.compare(w)
    assert t.loc["invoke-async", "invocations"] == pytest.approx(1e6 * (1 + 0.1 + 0.01))
    assert t.loc["apigw-http", "invocations"] == 1e6
    assert t.loc["kinesis", "attempts"] == pytest.approx(1 / 0.9)  # retried until success


def test_every_meter_names_a_price_book_item_and_every_source_key_is_in_the_facts_doc(facts_text):
    cat = triggers.load_catalog()
    keys = set()
    for sid, s in cat.sources.items():
        for m in s["meters"]:
            assert BOOK.has(m["item"]), (sid, m["item"])
            if m.get("free_item"):
                assert BOOK.quantity(m["free_item"]) > 0
        keys |= set(re.findall(r"\[([A-Z][A-Z0-9-]*(?: [a-z]+)?)\]", s["sources"]))
    for key in keys:
        assert f"[{key}]" in facts_text, key


def test_a_malformed_catalog_is_refused_with_the_source_named():
    doc = json.loads(triggers.catalog_path().read_text())
    doc["sources"]["sqs"]["meters"][0]["rule"] = "per_byte"
    with pytest.raises(triggers.CatalogError, match="source 'sqs' meter 0 has rule 'per_byte'"):
        triggers.parse_catalog(doc)
    doc = json.loads(triggers.catalog_path().read_text())
    del doc["sources"]["sns"]["retries"]
    with pytest.raises(triggers.CatalogError, match="source 'sns' lacks"):
        triggers.parse_catalog(doc)


def test_semantics_side_by_side():
    s = triggers.semantics()
    assert s.loc["sqs-fifo", "ordering"] == "in order within a message group"
    assert s.loc["kinesis", "ordering"] == "in order per shard"
    assert "2 more attempts" in s.loc["invoke-async", "retries"]
    assert "unknown" in s.loc["eventbridge", "added latency"]
    assert s.loc["sns", "payload limit"] == "1 MB async limit"


# ---- feasibility of batch settings -------------------------------------------------------------------


def test_fifo_batches_hold_at_most_10():
    ok = row(Workload(sync=False, batch_size=10), "sqs-fifo")
    assert ok["feasible"]
    bad = row(Workload(sync=False, batch_size=11), "sqs-fifo")
    assert bad["reason"] == "batch size 11 above the SQS FIFO maximum of 10"


def test_fifo_queues_take_no_batching_window():
    """Lambda's SQS event source mapping refuses a batching window on FIFO queues (developer guide, SQS
    parameters): compare refuses one, the grid offers none, and the cheapest setting never has one."""
    cat = triggers.load_catalog()
    b = cat.source("sqs-fifo")["batching"]
    assert b["window_max_s"] == 0 and "services-sqs-parameters" in b["window_source"]
    for window in (0.5, 1, 20, 300):
        r = row(Workload(sync=False, batch_size=10, batch_window_s=window), "sqs-fifo")
        assert not r["feasible"] and r["reason"] == "a batching window is not supported for SQS FIFO queues"
        assert row(Workload(sync=False, batch_size=10, batch_window_s=window), "sqs")["feasible"]
    busy = Workload(events_per_month=65e6, payload_kb=1, duration_ms=29, memory_mb=256, sync=False,
                    invocation_overhead_ms=5.0)
    grid = triggers.batching(busy, "sqs-fifo", windows_s=triggers.DEFAULT_WINDOWS_S)
    assert set(grid["window_s"]) == {0.0} and grid["batch_size"].max() == 10
    for bound in (0.5, 20.0, 300.0):
        best = triggers.best_batch(busy, "sqs-fifo", max_wait_s=bound)
        assert best["window_s"] == 0 and best["batch_size"] <= 10
    # standard queues still get a window when it pays
    assert triggers.best_batch(busy, "sqs", max_wait_s=20.0)["window_s"] > 0
    assert "no batching window" in triggers.semantics().loc["sqs-fifo", "batching"]


def test_batches_above_10_need_a_window_of_1_s_on_sqs_only():
    assert row(Workload(sync=False, batch_size=10, batch_window_s=0), "sqs")["feasible"]
    bad = row(Workload(sync=False, batch_size=11, batch_window_s=0), "sqs")
    assert bad["reason"] == "batch size above 10 needs a batching window of at least 1 s"
    assert row(Workload(sync=False, batch_size=11, batch_window_s=1), "sqs")["feasible"]
    # the streams' own default is 100 records with no window
    assert row(Workload(sync=False, batch_size=100), "kinesis")["feasible"]
    assert row(Workload(sync=False, batch_size=100), "dynamodb-streams")["feasible"]


def test_the_6_mb_batch_payload_caps_the_fill():
    w = Workload(events_per_month=1e9, payload_kb=1000, sync=False, batch_size=100, batch_window_s=10, partitions=1)
    r = row(w, "sqs")
    assert r["batch_fill"] == 6 and "6 MB batch payload cap" in r["notes"]


# ---- batching ---------------------------------------------------------------------------------------


def test_batch_fill_and_wait():
    # a window opens with the first event: 1 + Poisson(λW) events, capped at the batch size
    fill, worst, mean = triggers.batch_fill(0.2, 10, 1.0)
    assert fill == pytest.approx(1.2) and worst == 1.0
    assert mean == pytest.approx((1 + 0.2 / 2) / 1.2)          # the first event waits the whole window
    assert triggers.batch_fill(1000.0, 10, 5.0)[0] == pytest.approx(10.0)
    assert triggers.batch_fill(9.0, 10, 1.0)[0] == pytest.approx(1 + 9 - 1.1858, abs=2e-3)  # E[min(9, Poisson(9))]
    assert triggers.batch_fill(100.0, 10, 0.0) == (1.0, 0.0, 0.0)      # SQS without a window: no gathering
    assert triggers.batch_fill(100.0, 1, 5.0) == (1.0, 0.0, 0.0)       # a batch of 1 is full at once
    # a polled stream (Kinesis: a poll a second): what arrived since the last poll, E[X | X >= 1] = λ/(1 - e^-λ)
    fill, worst, mean = triggers.batch_fill(1.0, 100, 0.0, poll_interval_s=1.0)
    assert fill == pytest.approx(1 / (1 - math.exp(-1))) and (worst, mean) == (1.0, 0.5)
    assert triggers.batch_fill(150.0, 100, 0.0, poll_interval_s=1.0)[0] == pytest.approx(75.0, rel=1e-3)
    assert triggers.batch_fill(0.0, 10, 5.0)[:2] == (1.0, 5.0)


def test_poisson_helpers_match_brute_force():
    from scipy import stats

    for mu, m in ((0.3, 5), (7.5, 9), (400.0, 380), (2.0, 1), (50.0, 1000)):
        k = np.arange(0, int(mu * 4 + 200))
        pmf = stats.poisson.pmf(k, mu)
        assert triggers.poisson_capped_mean(mu, m) == pytest.approx((np.minimum(k, m) * pmf).sum(), rel=1e-9)
        assert triggers.poisson_batches(mu, m) == pytest.approx((np.ceil(k / m) * pmf).sum(), rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(lam=st.floats(0, 1e4), n=st.integers(1, 10_000), window=st.integers(0, 300), poll=st.sampled_from([0, 0.25, 1]))
@example(lam=2.2e-311, n=10, window=0, poll=0.25)  # a subnormal rate once divided by zero batches
def test_rate_from_invocations_inverts_the_fill(lam, n, window, poll):
    fill = triggers.batch_fill(lam, n, window, poll)[0]
    r = lam / fill
    back = triggers.rate_from_invocations(r, n, window, poll)
    # the event rate found gives back the invocation rate (where λ/fill is flat, many rates nearly do)
    assert back / triggers.batch_fill(back, n, window, poll)[0] == pytest.approx(r, rel=1e-7, abs=1e-12)
    if window > 0 and fill < 0.5 * n:       # well conditioned: the rate itself is recovered
        assert back == pytest.approx(lam, rel=1e-6, abs=1e-9)


def test_batching_grid_and_the_cheapest_batch_under_a_latency_bound():
    w = Workload(events_per_month=65e6, payload_kb=1, duration_ms=29, memory_mb=256, arch="arm64", sync=True)
    grid = triggers.batching(w, "sqs")
    assert grid.attrs["source"] == "sqs" and grid["batch_size"].max() == 10000
    assert not grid.query("batch_size > 10 and window_s < 1")["feasible"].any()
    best = triggers.best_batch(w, "sqs", max_wait_s=1.0)
    allowed = grid[grid["feasible"] & (grid["batch_wait_max_s"] <= 1.0)]
    assert best["monthly_cost"] == pytest.approx(allowed["monthly_cost"].min())
    assert best["batch_wait_max_s"] <= 1.0 and best["batch_size"] > 1
    assert best["monthly_cost"] < grid.query("batch_size == 1 and window_s == 0")["monthly_cost"].item()
    # a longer bound never costs more
    assert triggers.best_batch(w, "sqs", max_wait_s=30)["monthly_cost"] <= best["monthly_cost"]
    # fifo is limited to batches of 10
    assert triggers.batching(w, "sqs-fifo")["batch_size"].max() == 10


def test_no_batch_setting_beats_the_polling_interval():
    w = Workload(sync=False)
    with pytest.raises(ValueError, match="polling alone adds up to 1 s"):
        triggers.best_batch(w, "kinesis", max_wait_s=0.5)
    assert triggers.best_batch(w, "kinesis", max_wait_s=0.5, required=False) is None
    with pytest.raises(ValueError, match="does not batch"):
        triggers.batching(w, "sns")


# ---- properties ------------------------------------------------------------------------------------

workloads = st.builds(
    Workload,
    events_per_month=st.floats(0, 5e9), payload_kb=st.floats(0, 6144), duration_ms=st.floats(0, 60_000),
    memory_mb=st.integers(128, 10240), sync=st.booleans(), arch=st.sampled_from(["x86_64", "arm64"]),
    batch_size=st.integers(1, 10_000), batch_window_s=st.floats(0, 300),
    invocation_overhead_ms=st.floats(0, 1000), failure_rate=st.floats(0, 0.9))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=workloads, more=st.floats(1.0, 100.0))
def test_more_events_never_cost_less(w, more):
    a = triggers.compare(w)
    b = triggers.compare(Workload(**{**w.as_dict(), "events_per_month": w.events_per_month * more + 1}))
    for col in ("source_cost", "lambda_cost", "monthly_cost", "invocations"):
        assert (b[col] >= a[col] - 1e-9 * (1 + a[col].abs())).all(), col


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=workloads, bigger=st.integers(1, 10_000))
def test_a_bigger_batch_never_raises_the_invocation_count(w, bigger):
    n = max(w.batch_size, bigger)
    a = triggers.compare(w)
    b = triggers.compare(Workload(**{**w.as_dict(), "batch_size": n}))
    assert (b["invocations"] <= a["invocations"] * (1 + 1e-12)).all()
    np.testing.assert_allclose(b["monthly_cost"], b["source_cost"] + b["lambda_cost"])
    assert (b["invocations"] * n >= b["events"] * b["attempts"] * (1 - 1e-12)).all()


# ---- functions of the sample account -------------------------------------------------------------------


@pytest.fixture(scope="module")
def found(sample_snapshot):
    return triggers.findings(sample_snapshot)


@pytest.fixture(scope="module")
def obs(sample_snapshot):
    return triggers.observed(sample_snapshot)


@pytest.fixture(scope="module")
def three(sample_snapshot):
    """The three archetypes of this module's findings (a small snapshot keeps the variations fast)."""
    f = sample_snapshot.functions
    return sample_snapshot.subset(f[f["function_name"].isin(["catalog-rest-api", "sqs-worker-batch1", "signup-handler"])])


def test_findings_fire_on_their_archetypes(found):
    assert list(found.columns[:7]) == ["id", "severity", "section", "account_id", "region", "function_name", "title"]
    by_id = {r.id: r for r in found.itertuples()}
    assert by_id["apigw-rest-to-http"].function_name == "catalog-rest-api"
    assert by_id["batch-size"].function_name == "sqs-worker-batch1"
    assert by_id["sync-for-async"].function_name == "signup-handler"
    assert re.fullmatch(r"REST API → HTTP API saves \$[\d,]+\.\d\d/month", by_id["apigw-rest-to-http"].title)
    assert re.fullmatch(r"SQS batch size 1 → \d+ \(window \d+ s\) saves \$[\d,]+\.\d\d/month", by_id["batch-size"].title)
    assert "cheapest fully priced here" in by_id["sync-for-async"].recommendation
    for r in found.itertuples():
        assert r.monthly_impact_usd > 0 and r.section == "invocation source"
        assert r.monthly_impact_low_usd <= r.monthly_impact_usd + 1e-9 <= r.monthly_impact_high_usd + 2e-9
        assert r.evidence and r.recommendation


def test_findings_stay_quiet_on_the_controls_and_other_archetypes(found):
    ours = {"apigw-rest-to-http", "batch-size", "sync-for-async"}
    for a in sample.ARCHETYPES:
        fired = set(found.loc[found["function_name"] == a.name, "id"])
        assert fired == ours & set(a.expect), (a.name, fired)


def test_rest_to_http_saving_is_the_price_difference(found, obs):
    o = obs.set_index("function_name").loc["catalog-rest-api"]
    f = found.set_index("id").loc["apigw-rest-to-http"]
    assert f.monthly_impact_usd == pytest.approx(o["events_per_month"] * (3.5e-6 - 1e-6), rel=1e-6)
    assert o["events_per_month"] == pytest.approx(o["invocations_per_month"])


def test_a_rest_only_feature_or_a_high_threshold_silences_the_findings(three):
    assert set(triggers.findings(three)["id"]) == {"apigw-rest-to-http", "batch-size", "sync-for-async"}
    trig = three.triggers.copy()
    trig.loc[trig["function_name"] == "catalog-rest-api", "detail"] = "REST API catalog: usage plan gold, API keys"
    calls = three.calls.copy()
    calls["result_used"] = True
    snap = type(three)(three.manifest, {**three.tables, "triggers": trig, "calls": calls})
    assert set(triggers.findings(snap)["id"]) == {"batch-size"}
    assert triggers.findings(three, min_saving_usd=1e6, min_fire_and_forget_ms=1e6).empty
    # batching saves more when invocations carry overhead of their own
    more = triggers.findings(three, invocation_overhead_ms=6.0).set_index("id").loc["batch-size", "monthly_impact_usd"]
    assert more > triggers.findings(three).set_index("id").loc["batch-size", "monthly_impact_usd"]
    with pytest.raises(ValueError, match="unknown threshold"):
        triggers.findings(three, min_savings=1)
    with pytest.raises(ValueError, match="max_batch_wait_s must be >= 0"):
        triggers.findings(three, max_batch_wait_s=-1)


def test_regions_without_prices_are_skipped_and_named(three):
    tables = {name: (df.assign(region="eu-north-1") if "region" in df.columns else df)
              for name, df in three.tables.items()}
    moved = type(three)(three.manifest, tables)
    found = triggers.findings(moved)
    assert found.empty and found.attrs["skipped_regions"] == ["eu-north-1"]
    assert triggers.findings(three).attrs["skipped_regions"] == []
    # only the unpriced region's functions are left out
    tables = {name: (df.assign(region=df["region"].where(df["function_name"] != "catalog-rest-api", "eu-north-1"))
                     if {"region", "function_name"} <= set(df.columns) else df) for name, df in three.tables.items()}
    part = triggers.findings(type(three)(three.manifest, tables))
    assert set(part["id"]) == {"batch-size", "sync-for-async"} and part.attrs["skipped_regions"] == ["eu-north-1"]


def test_rest_only_features_reads_negations():
    assert triggers.rest_only_features("REST API catalog, GET /items/{id}: no keys, no caching, no WAF") == []
    assert triggers.rest_only_features("usage plan gold; cache 0.5 GB") == ["API keys and usage plans",
                                                                           "response caching"]
    assert triggers.rest_only_features("") == []
    assert triggers.rest_only_features("private endpoint without WAF") == ["private endpoints"]
    assert triggers.rest_only_features("GET /items: API keys and no WAF") == ["API keys and usage plans"]
    # the AWS scan's detail lists routes; paths are not features
    assert triggers.rest_only_features("REST API admin: GET /keys/{id}, POST /private/edge, ANY /validate ...") == []
    assert triggers.rest_only_features("REST API admin: GET /items, cache cluster 0.5 GB") == ["response caching"]


def test_observed_events_reproduce_the_observed_invocations(sample_snapshot, obs):
    by_name = obs.set_index("function_name")
    for name in ("pdf-render", "email-queue-worker", "search-indexer", "clickstream-consumer",
                 "orders-stream-processor", "sqs-worker-batch1", "users-api"):
        w = triggers.workload_for(sample_snapshot, name, observations=obs)
        r = triggers.compare(w, sources=[by_name.loc[name, "source"]]).iloc[0]
        assert r["invocations"] == pytest.approx(by_name.loc[name, "invocations_per_month"], rel=1e-6), name
        assert r["batch_ms"] == pytest.approx(by_name.loc[name, "duration_mean_ms"], rel=1e-6), name
    assert by_name.loc["clickstream-consumer", "partitions"] == 4         # "4 shards" in the trigger detail
    assert by_name.loc["orders-stream-processor", "partitions"] == 2       # one shard × ParallelizationFactor 2
    assert by_name.loc["users-api", "batch_fill"] == 1
    assert by_name.loc["pdf-render", "events_per_month"] > by_name.loc["pdf-render", "invocations_per_month"]


def test_alternatives_mark_the_current_source(sample_snapshot, obs):
    t = triggers.alternatives(sample_snapshot, "catalog-rest-api", observations=obs)
    assert t["current"].sum() == 1 and t.loc["apigw-rest", "current"] and t.loc["apigw-rest", "saving"] == 0
    assert t.loc["apigw-http", "saving"] > 100
    with pytest.raises(KeyError, match="not in this snapshot"):
        triggers.alternatives(sample_snapshot, "no-such-function")


def test_pricelist_refreshes_state_transitions(tmp_path, monkeypatch):
    """The mapping added for Step Functions matches the USE1-prefixed usagetype the Price List API uses."""
    import boto3
    from botocore.stub import Stubber

    from lambda_workbook import pricelist

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("LAMBDA_WORKBOOK_DATA", str(tmp_path / "empty"))
    item = dict(BOOK.item("stepfunctions.standard.transition"))
    assert item["pricelist"] == {"service": "AmazonStates", "usagetype": "StateTransition"}
    doc = {"schema": prices.SCHEMA, "region": "us-east-1", "as_of": "2026-09-06", "items": {
        "stepfunctions.standard.transition": item}}
    (tmp_path / "p" / "us-east-1").mkdir(parents=True)
    (tmp_path / "p" / "us-east-1" / "2026-09-06.json").write_text(json.dumps(doc))
    product = {"product": {"sku": "SFN1", "attributes": {"regionCode": "us-east-1", "location": "US East (N. Virginia)",
                                                        "usagetype": "USE1-StateTransition"}},
               "terms": {"OnDemand": {"T": {"priceDimensions": {"R": {"unit": "StateTransitions", "beginRange": "0",
                                                                      "endRange": "Inf",
                                                                      "pricePerUnit": {"USD": "0.0000260000"}}}}}}}
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [json.dumps(product)]},
                          {"ServiceCode": "AmazonStates", "FormatVersion": "aws_v1", "MaxResults": 100,
                           "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}]})
        items, report = pricelist.fetch_items("us-east-1", client=client, root=tmp_path / "p", progress=False,
                                              today="2026-12-01")
    assert report["refreshed"] == ["stepfunctions.standard.transition"]
    assert items["stepfunctions.standard.transition"]["price"] == pytest.approx(2.6e-5)
    assert math.isclose(BOOK.price("stepfunctions.standard.transition"), 2.5e-5)
