"""The read model: DynamoDB read units by the developer guide, S3 read options, the Lambda side, findings."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_workbook import billing, prices, reads, sample

# ---- DynamoDB read units: the developer guide's worked examples ---------------------------------------------


def test_query_of_40_8_kb_rounds_once_to_44_kb():
    # "Query sums all items read then rounds (40.8 KB -> 44 KB)": 11 units strong, 5.5 eventual
    items = [10.2, 10.2, 10.2, 10.2]
    assert sum(items) == pytest.approx(40.8)
    assert reads.dynamodb_read_units("query", items) == 11.0
    assert reads.dynamodb_read_units("query", items, consistency="eventual") == 5.5
    assert reads.dynamodb_read_units("query", items, consistency="transactional") == 22.0
    assert reads.dynamodb_read_units("query", 40.8) == 11.0          # one 40.8 KB item, same rule


def test_batch_get_rounds_each_item():
    items = [10.2, 10.2, 10.2, 10.2]                                # 12 KB each -> 3 units each
    assert reads.dynamodb_read_units("get", items) == 12.0
    assert reads.dynamodb_read_units("BatchGetItem", items, consistency="eventual") == 6.0
    assert reads.dynamodb_read_units("get", [1.0, 5.0, 0.5]) == 1 + 2 + 1
    assert reads.dynamodb_read_units("query", [1.0, 5.0, 0.5]) == 2  # 6.5 KB -> 8 KB


def test_missing_items_still_cost_a_unit_and_empty_reads():
    assert reads.dynamodb_read_units("get", [0]) == 1.0             # size 0 = key without an item
    assert reads.dynamodb_read_units("GetItem", 0, consistency="eventual") == 0.5
    assert reads.dynamodb_read_units("get", [0, 0, 3.9]) == 3.0
    assert reads.dynamodb_read_units("get", []) == 0.0
    # "Queries that do not return results consume the minimum number of read capacity units"
    assert reads.dynamodb_read_units("query", []) == 1.0
    assert reads.dynamodb_read_units("scan", [], consistency="eventual") == 0.5


def test_gsi_example_from_the_developer_guide():
    # 8 index entries of 2,000 bytes = 16,000 bytes -> 16 KB -> eventually consistent 2 units
    assert reads.dynamodb_read_units("query", [2000 / 1024] * 8, consistency="eventual") == 2.0


def test_exact_4_kb_boundaries():
    assert reads.dynamodb_read_units("get", 4.0) == 1
    assert reads.dynamodb_read_units("get", 4.0 + 1 / 1024) == 2   # one byte more
    assert reads.dynamodb_read_units("query", [2.0, 2.0]) == 1
    assert reads.dynamodb_read_units("query", [2.0, 2.0, 1 / 1024]) == 2


def test_page_boundary_at_1_mb():
    assert reads.dynamodb_read_units("scan", [1.0] * 1024) == 256          # exactly 1 MB: one page
    assert reads.dynamodb_read_units("scan", [1.0] * 1025) == 256 + 1      # the 1,025th KB starts page two
    assert reads.dynamodb_read(op := "scan", [1.0] * 1025).requests == 2 and op == "scan"
    # pages round separately: 1,022 KB (256 units) + 6 KB (2 units) = 258, not ceil(1,028 / 4) = 257
    items = [400, 400, 222, 6]
    assert reads.dynamodb_read_units("scan", items) == 258
    assert reads.dynamodb_read("query", items).requests == 2
    assert reads.dynamodb_read_units("query", [400, 400, 224]) == 256       # 1,024 KB fits one page


def test_filters_and_projections_do_not_lower_units():
    items = [1.5] * 680
    keep = np.zeros(680, dtype=bool)
    keep[:2] = True
    full = reads.dynamodb_read("scan", items, consistency="eventual")
    filtered = reads.dynamodb_read("scan", items, returned=keep, projected_fraction=0.1, consistency="eventual")
    assert filtered.read_units == full.read_units == 127.5
    assert filtered.items_returned == 2 and full.items_returned == 680
    assert filtered.kb_returned == pytest.approx(2 * 1.5 * 0.1)
    assert filtered.kb_evaluated == full.kb_evaluated == pytest.approx(1020)


def test_write_units():
    assert reads.dynamodb_write_units([0.5, 1.0, 1.1]) == 1 + 1 + 2
    assert reads.dynamodb_write_units([0.5], transactional=True) == 2


@pytest.mark.parametrize("call, message", [
    (lambda: reads.dynamodb_read_units("delete", [1]), "operation must be 'get'"),
    (lambda: reads.dynamodb_read_units(None, [1]), "got None"),
    (lambda: reads.dynamodb_read_units("get", [1], consistency="weak"), "consistency must be one of 'strong', "
                                                                         "'eventual', 'transactional'; got 'weak'"),
    (lambda: reads.dynamodb_read_units("get", [1, -2]), "item_sizes_kb[1] is -2.0"),
    (lambda: reads.dynamodb_read_units("get", [401]), "0 to 400 KB"),
    (lambda: reads.dynamodb_read_units("get", [1, float("nan")]), "use 0 for a requested key"),
    (lambda: reads.dynamodb_read_units("get", ["big"]), "item_sizes_kb must be a number"),
    (lambda: reads.dynamodb_read("scan", [1, 2], returned=[True]), "boolean mask of 2 items"),
])
def test_bad_input_names_the_value_and_what_is_allowed(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


sizes = st.lists(st.floats(min_value=0.0, max_value=400.0, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(items=sizes, data=st.data(), consistency=st.sampled_from(["strong", "eventual", "transactional"]),
       op=st.sampled_from(["query", "scan"]))
def test_property_a_filter_never_lowers_units(items, data, consistency, op):
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items))))
    filtered = reads.dynamodb_read(op, items, returned=mask, projected_fraction=data.draw(st.floats(0, 1)),
                                   consistency=consistency)
    assert filtered.read_units == reads.dynamodb_read_units(op, items, consistency=consistency)
    # the filter's survivors read on their own (a Query on a better key) never cost more than the filtered read
    survivors = [s for s, k in zip(items, mask, strict=True) if k]
    assert reads.dynamodb_read_units(op, survivors, consistency=consistency) <= filtered.read_units
    # bounds: at least the total rounded once, at most one unit more per page
    total_units = max(1, math.ceil(round(sum(math.ceil(s * 1024) for s in items) / 4096, 9)))
    factor = reads.CONSISTENCY[consistency]
    assert total_units * factor <= filtered.read_units <= (total_units + filtered.requests) * factor


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.floats(min_value=0.01, max_value=400.0, allow_nan=False), min_size=1, max_size=40))
def test_property_per_item_rounding_never_costs_less_than_a_query(items):
    assert reads.dynamodb_read_units("get", items) >= reads.dynamodb_read_units("query", items)


# ---- S3 options: the contract --------------------------------------------------------------------------------


def test_s3_options_contract():
    df = reads.s3_options(40, 0.02, 30000)
    assert list(df.index) == ["get", "range-get", "select", "athena"]
    for col in ("monthly_cost", "bytes_transferred_mb", "lambda_ms", "available", "note"):
        assert col in df.columns
    assert df["available"].dtype == bool
    assert df.loc["get", "bytes_transferred_mb"] == 40
    assert df.loc["range-get", "bytes_transferred_mb"] == pytest.approx(0.8)
    assert (df["monthly_cost"] > 0).all() and df["note"].str.len().gt(0).all()
    # per read and per month agree
    assert (df["cost_per_read_usd"] * 30000).to_numpy() == pytest.approx(df["monthly_cost"].to_numpy())


def test_select_is_closed_to_new_customers_by_default():
    df = reads.s3_options(40, 0.02, 30000)
    assert not df.loc["select", "available"] and not df.loc["select", "usable"]
    assert "2024-07-25" in df.loc["select", "note"] and "2025-11-07" in df.loc["select", "note"]
    assert df.loc[["get", "range-get", "athena"], "available"].all()
    existing = reads.s3_options(40, 0.02, 30000, select_customer=True)
    assert existing.loc["select", "available"]
    # Select: $/GB scanned + $/GB returned + a Tier-2 request
    book = prices.load()
    expected = 30000 * (40 / 1024 * book.price("s3.select_scanned_gb") + 0.8 / 1024 * book.price("s3.select_returned_gb"))
    assert existing.loc["select", "service_usd"] == pytest.approx(expected)
    status = reads.service_status()
    assert not status.loc["S3 Object Lambda", "open_to_new_customers"]
    assert "2025-11-07" in status.loc["S3 Object Lambda", "status"]


def test_athena_minimum_and_rounding():
    book = prices.load()
    per_tb = book.price("athena.tb_scanned")
    small = reads.s3_options(1.0, 1.0, 1000)
    assert small.loc["athena", "billed_scan_mb"] == 10                       # 10 MB minimum per query
    assert small.loc["athena", "service_usd"] == pytest.approx(1000 * 10 / 1024**2 * per_tb)
    odd = reads.s3_options(12.3, 0.5, 1)
    assert odd.loc["athena", "billed_scan_mb"] == 13                         # rounded up to the MB
    assert odd.loc["athena", "service_usd"] == pytest.approx(13 / 1024**2 * per_tb)
    parquet = reads.s3_options(100, 0.05, 1, format="parquet")               # columnar: only needed columns
    assert parquet.loc["athena", "billed_scan_mb"] == 10 and parquet.loc["athena", "bytes_scanned_mb"] == 5
    assert "10 MB minimum" in small.loc["athena", "note"]


def test_prices_come_from_the_price_book():
    book = prices.load()
    items = {k: dict(v) for k, v in book.items.items()}
    items["s3.get_request"]["price"] *= 2
    items["athena.tb_scanned"]["price"] *= 3
    doubled = dataclasses.replace(book, items=items)
    base = reads.s3_options(40, 0.02, 30000, book=book)
    other = reads.s3_options(40, 0.02, 30000, book=doubled)
    assert other.loc["get", "request_usd"] == pytest.approx(2 * base.loc["get", "request_usd"])
    assert other.loc["athena", "service_usd"] == pytest.approx(3 * base.loc["athena", "service_usd"])


def test_lambda_dollars_go_through_the_billing_rules():
    df = reads.s3_options(40, 0.02, 30000, memory_mb=2048, arch="arm64")
    for option in df.index:
        expected = billing.breakdown(30000, df.loc[option, "lambda_ms"], 2048, arch="arm64")["compute_usd"]
        assert df.loc[option, "lambda_usd"] == pytest.approx(expected)


def test_data_transfer_paths():
    same = reads.s3_options(40, 0.02, 30000)
    nat = reads.s3_options(40, 0.02, 30000, transfer="nat-gateway")
    assert same["transfer_usd"].sum() == 0
    gb = 30000 * 40 / 1024
    assert nat.loc["get", "transfer_usd"] == pytest.approx(gb * prices.load().price("vpc.nat_gateway_gb"))
    internet = reads.s3_options(40, 0.02, 30000, transfer="internet")
    assert internet.loc["get", "transfer_usd"] == pytest.approx(prices.load().cost("data_transfer.out_internet_gb", gb))


def test_range_get_needs_a_known_layout_and_memory_can_be_short():
    df = reads.s3_options(40, 0.02, 30000, layout_known=False)
    assert not df.loc["range-get", "available"] and "layout" in df.loc["range-get", "status"]
    big = reads.s3_options(900, 0.01, 10, memory_mb=1024)
    assert not big.loc["get", "fits"] and big.loc["range-get", "fits"]
    assert big.loc["get", "memory_needed_mb"] == pytest.approx(reads.BASELINE_MB + 900 * reads.EXPANSION)
    assert "needs 1,864 MB of memory" in big.loc["get", "note"]
    streamed = reads.s3_options(900, 0.01, 10, memory_mb=1024, stream=True)
    assert streamed.loc["get", "fits"]


def test_unknown_query_time_is_flagged_and_can_be_given():
    df = reads.s3_options(40, 0.02, 30000, memory_mb=1024)
    assert np.isnan(df.loc["athena", "wait_ms"]) and not df.loc["athena", "latency_known"]
    assert "unknown" in df.loc["athena", "note"] and "per million reads" in df.loc["athena", "note"]
    waited = reads.s3_options(40, 0.02, 30000, memory_mb=1024, athena_wait_ms=2000)
    assert waited.loc["athena", "lambda_ms"] == pytest.approx(df.loc["athena", "lambda_ms"] + 2000)
    assert waited.loc["athena", "latency_known"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(object_mb=0), "object_mb must be > 0"),
    (dict(fraction_needed=1.5), "fraction_needed must be <= 1"),
    (dict(requests_per_month=-1), "requests_per_month must be >= 0"),
    (dict(memory_mb=64), "memory_mb must be >= 128"),
    (dict(format="xml"), "format must be one of 'csv', 'json', 'parquet'; got 'xml'"),
    (dict(transfer="mars"), "transfer must be one of"),
    (dict(arch="sparc"), "arch must be one of"),
    (dict(scanned_fraction=0.01, returned_fraction=0.5), "cannot exceed scanned_fraction"),
    (dict(object_mb="40"), "object_mb must be a number, got '40'"),
])
def test_s3_bad_input(kwargs, message):
    base = dict(object_mb=40, fraction_needed=0.02, requests_per_month=100)
    with pytest.raises(ValueError) as err:
        reads.s3_options(**{**base, **kwargs})
    assert message in str(err.value)


@settings(max_examples=60, deadline=None)
@given(obj=st.floats(0.01, 5000), f1=st.floats(0, 1), f2=st.floats(0, 1), mem=st.integers(128, 10240),
       fmt=st.sampled_from(reads.FORMATS))
def test_property_needing_less_never_moves_more_bytes_or_costs_more(obj, f1, f2, mem, fmt):
    lo, hi = sorted((f1, f2))
    a = reads.s3_options(obj, lo, 1000, memory_mb=mem, format=fmt, select_customer=True)
    b = reads.s3_options(obj, hi, 1000, memory_mb=mem, format=fmt, select_customer=True)
    for col in ("bytes_transferred_mb", "bytes_scanned_mb", "monthly_cost", "lambda_ms", "memory_needed_mb"):
        assert (a[col] <= b[col] + 1e-9).all(), col
    assert (a["bytes_transferred_mb"] <= obj + 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(obj=st.floats(0.5, 2000), f=st.floats(0, 1), m1=st.integers(128, 10240), m2=st.integers(128, 10240))
def test_property_more_memory_never_moves_bytes_slower(obj, f, m1, m2):
    lo, hi = sorted((m1, m2))
    a = reads.s3_options(obj, f, 10, memory_mb=lo)
    b = reads.s3_options(obj, f, 10, memory_mb=hi)
    assert (b["transfer_ms"] <= a["transfer_ms"] + 1e-9).all()
    assert (b["lambda_ms"] <= a["lambda_ms"] + 1e-9).all()


def test_pattern_from_rows():
    p = reads.pattern_from_rows(1_000_000, 200, 0.01, columns_fraction=0.5)
    assert p["object_mb"] == pytest.approx(200e6 / 2**20) and p["fraction_needed"] == pytest.approx(0.005)
    with pytest.raises(ValueError, match="selectivity must be <= 1"):
        reads.pattern_from_rows(10, 10, 2)


# ---- the Lambda side ---------------------------------------------------------------------------------------------


def test_network_default_is_an_explicit_assumption():
    net = reads.Network()
    assert net.mb_per_s(1769) == pytest.approx(75.0)
    assert net.mb_per_s(4 * 1769) == pytest.approx(150.0)           # square root of memory
    assert net.mb_per_s(1769, "low") == pytest.approx(37.5) and net.mb_per_s(1769, "high") == pytest.approx(150)
    table = reads.assumptions()
    assert "assumption" in table.loc["network throughput at 1,769 MB", "source"]
    assert "no public throughput-vs-memory curve" in reads.NETWORK_RATIONALE.replace("AWS publishes no network-"
                                                                                     "throughput-vs-memory curve",
                                                                                     "no public throughput-vs-memory curve")
    assert table.loc["Athena query time", "value"] == "unknown"
    with pytest.raises(ValueError, match="band"):
        reads.Network(band=(2.0, 3.0))


def test_calibration_recovers_a_known_curve():
    truth = reads.Network(mb_per_s_1vcpu=50.0, exponent=0.8)
    rows = [{"memory_mb": m, "mb": mb, "ms": truth.request_ms + truth.transfer_ms(mb, m)}
            for m in (256, 512, 1024, 2048, 4096) for mb in (5, 50)]
    fitted = reads.calibrate_network(pd.DataFrame(rows))
    assert fitted.mb_per_s_1vcpu == pytest.approx(50.0, rel=1e-6)
    assert fitted.exponent == pytest.approx(0.8, rel=1e-6)
    assert "calibrated from 10 measurement(s)" in fitted.source
    one = reads.calibrate_network([{"memory_mb": 2048, "mb": 40, "ms": 950}])
    assert one.exponent == reads.DEFAULT_NETWORK.exponent                   # one memory size: exponent kept
    assert one.mb_per_s(2048) == pytest.approx(40 / 0.92)
    with pytest.raises(ValueError, match="missing"):
        reads.calibrate_network([{"memory_mb": 1024, "mb": 1}])
    with pytest.raises(ValueError, match="below the request latency"):
        reads.calibrate_network([{"memory_mb": 1024, "mb": 1, "ms": 10}])


def test_parse_time_scales_with_cpu_share_up_to_one_vcpu():
    assert reads.parse_ms(10, 1769) == pytest.approx(10 * reads.PARSE_MS_PER_MB)
    assert reads.parse_ms(10, 1769 / 2) == pytest.approx(20 * reads.PARSE_MS_PER_MB)
    assert reads.parse_ms(10, 10240) == reads.parse_ms(10, 1769)


# ---- DynamoDB options ---------------------------------------------------------------------------------------------


def test_dynamodb_options_scan_vs_query_vs_gsi():
    df = reads.dynamodb_options(12240, 20, 1.5, 36000, writes_per_month=12240 * 30, memory_mb=1024)
    assert list(df.index) == ["scan", "query", "query-gsi", "batch-get"]
    # Scan: 17 pages of 682 items (256 units) + 646 items (243 units) = 4,595 strong, eventual by default
    assert df.loc["scan", "read_units"] == 4595 / 2 and df.loc["scan", "requests_per_read"] == 18
    assert df.loc["query", "read_units"] == math.ceil(20 * 1.5 / 4) / 2
    assert df.loc["batch-get", "read_units"] == 20 / 2                     # 1.5 KB -> 1 unit each
    book = prices.load()
    # a 1.5 KB index entry is 2 write units (1 KB each) per table write that touches it
    assert df.loc["query-gsi", "gsi_write_usd"] == pytest.approx(12240 * 30 * 2 * book.price("dynamodb.on_demand.write_unit"))
    assert df.loc["query-gsi", "service_usd"] > df.loc["query-gsi", "gsi_write_usd"]   # plus storage
    assert df.loc["scan", "monthly_cost"] > df.loc["query-gsi", "monthly_cost"] > df.loc["query", "monthly_cost"]
    assert (df["bytes_transferred_mb"] == df.loc["scan", "bytes_transferred_mb"]).all()
    strong = reads.dynamodb_options(12240, 20, 1.5, 36000, consistency="strong")
    assert strong.loc["query-gsi", "consistency"] == "eventual"
    assert "cannot be read strongly consistently" in strong.loc["query-gsi", "note"]
    ranked = reads.rank(df, need="cost")
    assert ranked.index[0] == "query" and ranked["recommended"].sum() == 1
    assert "key design" in ranked.loc["query", "trade_off"] and "write units" in ranked.loc["query-gsi", "trade_off"]


def test_dynamodb_projection_lowers_bytes_not_units_and_gsi_projection_lowers_units():
    whole = reads.dynamodb_options(1000, 100, 8.0, 1000)
    projected = reads.dynamodb_options(1000, 100, 8.0, 1000, needed_kb=0.5)
    assert projected.loc["scan", "read_units"] == whole.loc["scan", "read_units"]
    assert projected.loc["scan", "bytes_transferred_mb"] < whole.loc["scan", "bytes_transferred_mb"]
    assert projected.loc["query-gsi", "read_units"] < whole.loc["query-gsi", "read_units"]  # projected entries


def test_index_key_changes_double_index_writes():
    one = reads.dynamodb_options(1000, 10, 0.5, 100, writes_per_month=1000)
    two = reads.dynamodb_options(1000, 10, 0.5, 100, writes_per_month=1000, index_key_change_share=1.0)
    assert two.loc["query-gsi", "gsi_write_usd"] == pytest.approx(2 * one.loc["query-gsi", "gsi_write_usd"])


def test_dynamodb_bad_input():
    with pytest.raises(ValueError, match="items_needed must be <= 10"):
        reads.dynamodb_options(10, 20, 1.0, 100)
    with pytest.raises(ValueError, match="item_kb must be <= 400"):
        reads.dynamodb_options(10, 2, 500, 100)


def test_ranking_for_latency_puts_unknown_waits_last():
    df = reads.s3_options(40, 0.02, 30000, select_customer=True)
    ranked = reads.rank(df, need="latency")
    known = ranked[ranked["usable"] & ranked["latency_known"]].index
    assert list(ranked.index[: len(known)]) == list(known)
    with pytest.raises(ValueError, match="need must be one of 'cost', 'latency', 'bytes'"):
        reads.rank(df, need="speed")
    closed = reads.rank(reads.s3_options(40, 0.02, 30000, layout_known=False))
    assert closed.index[0] == "get"
    assert "closed to new customers" in closed.loc["select", "why_not"] and np.isnan(closed.loc["select", "rank"])
    assert "seconds" in closed.loc["athena", "trade_off"] and "known layout" in closed.loc["range-get", "trade_off"]


# ---- findings on a snapshot -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def found(sample_snapshot):
    return reads.findings(sample_snapshot)


def test_findings_fire_on_their_archetypes(found):
    assert list(found.columns) == reads.FINDING_COLUMNS
    by_id = {i: set(g["function_name"]) for i, g in found.groupby("id")}
    assert by_id["dynamodb-scan"] == {"inventory-report"}
    assert by_id["s3-whole-object"] == {"log-extractor"}
    for archetype in sample.ARCHETYPES:
        for finding_id in ("dynamodb-scan", "s3-whole-object"):
            if finding_id in archetype.expect:
                assert archetype.name in by_id[finding_id]


def test_findings_are_quiet_on_the_controls(found):
    controls = {a.name for a in sample.ARCHETYPES if a.expect == ("control",)}
    assert controls and not controls & set(found["function_name"])


def test_findings_carry_evidence_dollars_and_a_recommendation(found):
    for r in found.itertuples():
        assert r.monthly_impact_low_usd <= r.monthly_impact_usd <= r.monthly_impact_high_usd
        assert r.monthly_impact_usd > 0 and r.current_monthly_usd > r.alternative_monthly_usd
        assert "calls (sample)" in r.source and r.section == "external services"
        assert r.severity in ("low", "medium", "high") and r.recommendation
    scan = found[found["id"] == "dynamodb-scan"].iloc[0]
    assert "680 items" in scan.evidence and "18 call(s)" in scan.evidence and "(0.16%)" in scan.evidence
    assert "global secondary index" in scan.recommendation
    s3 = found[found["id"] == "s3-whole-object"].iloc[0]
    assert "40 MB per call" in s3.evidence and "2.00% of it used" in s3.evidence
    assert "2024-07-25" in s3.recommendation and "2025-11-07" in s3.recommendation and "Athena" in s3.recommendation


def test_scan_finding_dollars_follow_the_evidence(sample_snapshot, found):
    from lambda_workbook import costs

    inv = costs.function_costs(sample_snapshot).set_index("function_name").loc["inventory-report",
                                                                                  "invocations_per_month"]
    units = 18 * reads.dynamodb_read_units("scan", [1.5] * 680, consistency="eventual")
    scan = found[found["id"] == "dynamodb-scan"].iloc[0]
    assert f"{units:,.1f} read units per invocation" in scan.evidence
    reads_usd = inv * units * prices.load().price("dynamodb.on_demand.read_unit")
    # reads plus the Lambda time of 18 measured 32 ms calls (and a little transfer and parsing)
    lam = billing.breakdown(inv, 18 * 32, 1024, arch="arm64")["compute_usd"]
    assert reads_usd + lam < scan.current_monthly_usd < reads_usd + 1.05 * lam


def test_thresholds_silence_findings(sample_snapshot):
    quiet = reads.findings(sample_snapshot, scan_max_selectivity=0.001, whole_object_max_used=0.01)
    assert quiet.empty and list(quiet.columns) == reads.FINDING_COLUMNS
    with pytest.raises(ValueError, match="unknown threshold"):
        reads.findings(sample_snapshot, colour="red")


def test_findings_without_calls_evidence(sample_snapshot):
    from lambda_workbook.schema import Snapshot

    tables = dict(sample_snapshot.tables)
    tables.pop("calls")
    snap = Snapshot(sample_snapshot.manifest, tables)
    assert reads.findings(snap).empty
    assert reads.read_calls(snap).empty


def test_a_query_whose_filter_discards_most_items_is_found(sample_snapshot):
    from lambda_workbook.schema import Snapshot

    tables = dict(sample_snapshot.tables)
    calls = tables["calls"].copy()
    ledger = (calls["function_name"] == "nightly-ledger-close") & (calls["operation"] == "Query")
    calls.loc[ledger, "items_returned"] = 3.0                       # keeps 3 of the 120 items it pays for
    tables["calls"] = calls
    found = reads.findings(Snapshot(sample_snapshot.manifest, tables))
    row = found[found["id"] == "dynamodb-query-filter"]
    assert list(row["function_name"]) == ["nightly-ledger-close"]
    assert "filters away 97.50%" in row.iloc[0]["title"] and row.iloc[0]["alternative"] == "query-gsi"
    assert row.iloc[0]["current_monthly_usd"] > row.iloc[0]["alternative_monthly_usd"]


def test_patterns_come_from_a_function_s_calls_or_as_entered(sample_snapshot):
    s3 = dict(object_mb=10.0, fraction_needed=0.5, requests_per_month=100.0)
    db = dict(table_items=1000.0, items_needed=10.0, item_kb=1.0, requests_per_month=100.0)
    a, b, origin = reads.patterns(sample_snapshot, "", s3=s3, dynamodb=db, memory_mb=512, arch="arm64")
    assert origin == "entered by hand" and a == {**s3, "memory_mb": 512, "arch": "arm64"}
    a, b, origin = reads.patterns(sample_snapshot, "inventory-report", s3=s3, dynamodb=db)
    assert b["table_items"] == 18 * 680 and b["items_needed"] == pytest.approx(18 * 1.1) and b["scan_calls"] == 18
    assert b["memory_mb"] == 1024 and b["arch"] == "arm64" and a["object_mb"] == 10.0     # no S3 read: as entered
    assert "DynamoDB Scan on inventory" in origin
    opts = reads.dynamodb_options(**b)
    assert opts.loc["scan", "read_units"] == 18 * 127.5                                  # the evidence's 18 pages
    with pytest.raises(KeyError, match="not in this snapshot"):
        reads.patterns(sample_snapshot, "no-such-function", s3=s3, dynamodb=db)


def test_network_calibration_from_the_snapshot(sample_snapshot):
    measured = reads.network_measurements(sample_snapshot)
    assert set(measured["function_name"]) == {"media-thumbnail-io", "log-extractor", "legacy-thumbnailer"}
    net = reads.calibrate_network(measured)
    assert net.source.startswith("calibrated from 3 measurement(s)")
    row = measured.set_index("function_name").loc["log-extractor"]
    measured_rate = row["mb"] / ((row["ms"] - net.request_ms) / 1000)
    ratio = measured_rate / net.mb_per_s(row["memory_mb"])
    assert net.band[0] - 1e-9 <= ratio <= net.band[1] + 1e-9          # the band spans the measured spread


def test_measured_throughput_beside_the_model(sample_snapshot):
    measured = reads.network_measurements(sample_snapshot)
    net = reads.Network(mb_per_s_1vcpu=60.0, request_ms=20.0)
    shown = reads.measured_throughput(measured, net).set_index("function_name")
    assert shown.loc["log-extractor", "mb_per_s"] == pytest.approx(40 / 0.93)          # 950 ms less 20 ms latency
    assert shown.loc["log-extractor", "model_mb_per_s"] == pytest.approx(net.mb_per_s(2048))
    slow = reads.measured_throughput(measured.assign(ms=10.0), net)                    # nothing left for the transfer
    assert slow["mb_per_s"].isna().all()


def test_smallest_memory_that_holds_the_data_and_reads_without_traffic():
    df = reads.s3_options(900, 0.01, 10, memory_mb=1024)
    assert df.loc["get", "min_memory_mb"] == 1864 and df.loc["range-get", "min_memory_mb"] == 128
    huge = reads.s3_options(9000, 0.01, 10)
    assert np.isnan(huge.loc["get", "min_memory_mb"]) and not huge.loc["get", "feasible"]
    idle = reads.s3_options(40, 0.02, 0)
    assert (idle["monthly_cost"] == 0).all() and (idle["cost_per_read_usd"] > 0).all()
    busy = reads.s3_options(40, 0.02, 1)
    assert idle["cost_per_read_usd"].to_numpy() == pytest.approx(busy["cost_per_read_usd"].to_numpy())


def test_view_says_when_an_unknown_wait_leaves_the_dollars_a_lower_bound():
    for options in (reads.s3_options(40, 0.02, 30000, select_customer=True),
                    reads.dynamodb_options(12240, 20, 1.5, 36000)):
        ranked = reads.rank(options)
        shown = reads.view(ranked)["unknown (not included)"]
        for option, known in ranked["latency_known"].items():
            assert (shown[option] == "") == bool(known), option
            if not known:
                assert "unknown" in shown[option] and "lower bound" in shown[option]
    # given the wait, nothing is left out
    waited = reads.view(reads.rank(reads.dynamodb_options(12240, 20, 1.5, 36000, evaluate_ms_per_mb=2.0)))
    assert (waited["unknown (not included)"] == "").all()
