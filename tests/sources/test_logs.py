"""lambda_workbook.logs.parse_reports: REPORT lines (text and JSON) -> DataFrame."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_workbook import logs

RID = "3f0f8a2c-4b8e-4d3b-9f5e-1c2d3e4f5a6b"
TRACE = "1-5e34a614-10bdxmplf1fb44f07bc535a1"
# The facts-doc example (aws-facts.md §5.1), as one raw event: fields end with a tab.
DOC_COLD = (f"REPORT RequestId: {RID}\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 56 MB\tInit Duration: 130.49 ms\t")
DOC_XRAY = f"XRAY TraceId: {TRACE}\tSegmentId: 07f5xmpl2d1f6f85\tSampled: true"
WARM = f"REPORT RequestId: {RID}\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB\t"
START = f"START RequestId: {RID} Version: $LATEST"
END = f"END RequestId: {RID}"
CONTRACT = ["request_id", "duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
            "init_duration_ms", "restore_duration_ms", "xray_trace_id"]


def json_report(rid="6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", *, tracing=True, **metrics):
    m = {"durationMs": 693.92, "billedDurationMs": 694, "initDurationMs": 397.68, "maxMemoryUsedMB": 84,
         "memorySizeMB": 128}
    m.update(metrics)
    m = {k: v for k, v in m.items() if v is not None}
    record = {"requestId": rid, "metrics": m, "status": "success"}
    if tracing:
        record["tracing"] = {"spanId": "54565fb41ac79632", "type": "X-Amzn-Trace-Id",
                             "value": f"Root={TRACE};Parent=54565fb41ac79632;Sampled=1"}
    return json.dumps({"time": "2022-10-12T00:01:15.000Z", "type": "platform.report", "record": record})


def one(text, **expect):
    df = logs.parse_reports([text])
    assert len(df) == 1, (text, df.attrs)
    row = df.iloc[0]
    for key, value in expect.items():
        got = row[key]
        if value is None:
            assert pd.isna(got), (key, got)
        else:
            assert got == value, (key, got, value)
    return row


def accounted(df, blank=None):
    a = df.attrs
    assert len(df) + a["malformed"] + a["ignored"] + a["blank"] == a["lines"]
    if blank is not None:
        assert a["blank"] == blank


# -- text format ----------------------------------------------------------------------------------------------
def test_facts_doc_example_exact_numbers():
    row = one(DOC_COLD, request_id=RID, duration_ms=15.74, billed_duration_ms=16.0, memory_size_mb=128.0,
              max_memory_used_mb=56.0, init_duration_ms=130.49, restore_duration_ms=None, xray_trace_id=None,
              status=None, format="text", line=0)
    assert isinstance(row["duration_ms"], float)


def test_facts_doc_block_as_written(facts_text):
    # the §5.1 code block shows the REPORT line and its XRAY continuation with literal "\t"
    block = re.search(r"### 5\.1.*?```\n(.*?)```", facts_text, re.S).group(1)
    lines = [ln.replace("\\t", "\t") for ln in block.splitlines() if ln.strip()]
    assert lines[0].startswith("REPORT") and lines[1].startswith("XRAY")
    df = logs.parse_reports(lines)
    assert df.attrs == {"lines": 2, "malformed": 0, "ignored": 1, "blank": 0}   # XRAY line alone: ignored
    assert df.loc[0, ["duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
                      "init_duration_ms"]].tolist() == [15.74, 16.0, 128.0, 56.0, 130.49]
    # the same event with the X-Ray fields on the same line, as CloudWatch stores it
    one(lines[0] + lines[1], xray_trace_id=TRACE, init_duration_ms=130.49)


def test_contract_columns_come_first_in_order():
    df = logs.parse_reports([WARM])
    assert list(df.columns[: len(CONTRACT)]) == CONTRACT
    assert {"status", "format"} <= set(df.columns)
    for col in CONTRACT[1:7]:
        assert df[col].dtype == np.float64


@pytest.mark.parametrize("line", [
    WARM,
    WARM.replace("\t", " "),                                             # spaces only
    WARM.replace("3 ms\t", "3 ms \t"),                                   # AWS's stray space
    WARM.replace("\t", " \t  "),                                         # any mix
    WARM.replace("\t", "\t\t") + "   ",                                  # doubled separators, trailing blanks
    WARM.replace("Billed Duration", "Billed\tDuration").replace(": ", ":  "),
    WARM.rstrip("\t"),                                                   # no trailing tab
    WARM + "\r",                                                         # CR left over from CRLF
    WARM + "\r\n",                                                       # a file line with its CRLF
    WARM + "\n",
    "2024-03-01T12:00:00.123Z " + WARM,                                  # timestamp prefix
    "2024-03-01T12:00:00.123Z\t2024/03/01/[$LATEST]0a1b2c3d\t" + WARM,  # aws logs tail style
    '1709294400123,"' + WARM.rstrip("\t"),                               # CSV-ish export prefix
])
def test_separator_variants(line):
    one(line, request_id=RID, duration_ms=2.5, billed_duration_ms=3.0, memory_size_mb=256.0,
        max_memory_used_mb=70.0, init_duration_ms=None)


def test_exact_and_loose_spacing_mixed_in_one_call():
    # Lambda's own spacing and every tolerated variant must give the same rows, in input order
    variants = [WARM, WARM.replace("\t", " "), "2024-03-01T12:00:00Z " + WARM, WARM.replace("\t", "\t\t"),
                DOC_COLD + DOC_XRAY, (DOC_COLD + DOC_XRAY).replace("\t", "  ")]
    lines = [v.replace(RID, f"r{i}") for i, v in enumerate(variants)]
    df = logs.parse_reports(lines)
    assert df["request_id"].tolist() == [f"r{i}" for i in range(len(lines))]
    assert df["duration_ms"].tolist() == [2.5] * 4 + [15.74] * 2
    assert df["init_duration_ms"].isna().tolist() == [True] * 4 + [False] * 2
    assert df["xray_trace_id"].isna().tolist() == [True] * 4 + [False] * 2


def test_xray_suffix_on_the_same_line():
    one(DOC_COLD + DOC_XRAY, xray_trace_id=TRACE, init_duration_ms=130.49, duration_ms=15.74)
    one(WARM + DOC_XRAY.replace("\t", " "), xray_trace_id=TRACE, init_duration_ms=None)


def test_snapstart_restore():
    line = (f"REPORT RequestId: {RID}\tDuration: 120.10 ms\tBilled Duration: 456 ms\tMemory Size: 512 MB\t"
            "Max Memory Used: 90 MB\tRestore Duration: 335.68 ms\tBilled Restore Duration: 335 ms\t")
    one(line, restore_duration_ms=335.68, billed_restore_duration_ms=335.0, init_duration_ms=None,
        billed_duration_ms=456.0)


def test_status_timeout_and_error():
    timeout = WARM.replace("2.50", "3000.00").replace("3 ms", "3000 ms") + "Status: timeout"
    one(timeout, status="timeout", duration_ms=3000.0, error_type=None)
    crash = WARM + "Status: error\tError Type: Runtime.ExitError"
    one(crash, status="error", error_type="Runtime.ExitError")
    # order of the optional fields does not matter
    one(DOC_COLD + "Status: timeout\t" + DOC_XRAY, status="timeout", xray_trace_id=TRACE, init_duration_ms=130.49)


@pytest.mark.parametrize("line", [
    DOC_COLD[: DOC_COLD.index("Init Duration") + 18],       # cut inside Init Duration: not a warm start
    WARM[: WARM.index("Max Memory Used") + 18],             # cut before the unit
    WARM[: WARM.index("Memory Size")],                      # fields missing
    WARM.replace("2.50", "2.5.0"),
    WARM.replace("2.50", "abc"),
    WARM.replace("2.50", "-2.50"),
    WARM.replace("2.50", "1" * 16),                         # absurd digit run
    WARM.replace(" ms", " s", 1),                           # wrong unit
    WARM.replace("Billed Duration", "Billed Time"),
    WARM + "Something: else",                               # unknown trailing field
    "REPORT",
    "REPORT RequestId:",
    f"REPORT RequestId: {RID}",
    "\t" + WARM.replace("RequestId", "Requestid"),
])
def test_broken_reports_are_malformed(line):
    df = logs.parse_reports([line])
    assert len(df) == 0
    assert df.attrs["malformed"] == 1, df.attrs


def test_platform_lines_are_ignored():
    lines = [
        START, END, "START\tRequestId: x\tVersion: 3",
        "INIT_START Runtime Version: python:3.12.v18\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc",
        "INIT_REPORT Init Duration: 10007.89 ms\tPhase: init\tStatus: timeout",
        "RESTORE_START Runtime Version: java:21.v9",
        "RESTORE_REPORT Restore Duration: 335.68 ms",
        "EXTENSION\tName: datadog-agent\tState: Ready\tEvents: [INVOKE,SHUTDOWN]",
        "TELEMETRY\tName: my-ext\tState: Subscribed\tTypes: [Platform]",
        "LOGS\tName: my-ext\tState: Subscribed\tTypes: [Platform]",
        DOC_XRAY,
        f"2024-03-01T12:00:03.000Z {RID} Task timed out after 3.00 seconds",
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed",
        "2024-03-01T12:00:00.000Z " + START,
    ]
    df = logs.parse_reports(lines)
    assert df.attrs == {"lines": len(lines), "malformed": 0, "ignored": len(lines), "blank": 0}


def test_application_lines_are_malformed_not_ignored():
    lines = ["[INFO]\t2024-03-01T12:00:00.000Z\tabc\thello world", "Traceback (most recent call last):",
             "STARTING server", "xREPORT RequestId: " + WARM[18:], '{"level": "INFO", "msg": "REPORT RequestId: x"}']
    df = logs.parse_reports(lines)
    assert len(df) == 0 and df.attrs["malformed"] == len(lines), df.attrs


# -- JSON format ----------------------------------------------------------------------------------------------
def test_json_report_with_trace():
    one(json_report(), request_id="6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", duration_ms=693.92,
        billed_duration_ms=694.0, memory_size_mb=128.0, max_memory_used_mb=84.0, init_duration_ms=397.68,
        restore_duration_ms=None, xray_trace_id=TRACE, status="success", format="json")


def test_json_variants():
    one(json_report(tracing=False, initDurationMs=None), xray_trace_id=None, init_duration_ms=None)
    one(json_report(initDurationMs=None, restoreDurationMs=512.5), restore_duration_ms=512.5)
    one("2022-10-12T00:01:15.000Z\t" + json_report(), duration_ms=693.92)          # exported with a prefix
    one(json_report() + "\r\n", duration_ms=693.92)
    timeout = json.loads(json_report())
    timeout["record"]["status"] = "timeout"
    timeout["record"]["errorType"] = "Sandbox.Timedout"
    one(json.dumps(timeout), status="timeout", error_type="Sandbox.Timedout")


def test_json_other_platform_events_are_ignored():
    events = [{"time": "2022-10-12T00:00:15.064Z", "type": "platform.initStart",
               "record": {"initializationType": "on-demand", "phase": "init"}},
              {"time": "2022-10-12T00:01:15.000Z", "type": "platform.start",
               "record": {"requestId": "6d68", "version": "$LATEST"}},
              {"time": "2022-10-12T00:01:15.000Z", "type": "platform.runtimeDone",
               "record": {"requestId": "6d68", "status": "success"}}]
    df = logs.parse_reports([json.dumps(e) for e in events])
    assert df.attrs == {"lines": 3, "malformed": 0, "ignored": 3, "blank": 0}


@pytest.mark.parametrize("line", [
    json_report(durationMs=None),
    json_report(memorySizeMB=None),
    json_report(billedDurationMs="694"),
    json_report(durationMs=True),
    json_report(durationMs=-1),
    json_report(initDurationMs="x"),
    json_report(rid=""),
    json_report(rid=None),
    json_report().replace("NaN", "x").replace("693.92", "NaN"),
    json_report().replace("693.92", "1" * 400),
    json_report()[:-3],                                          # truncated
    '{"type": "platform.report"}',
    '{"type": "platform.report", "record": {"requestId": "a", "metrics": []}}',
    '["platform.report"]',
    '{"type": "function", "record": "platform.report"}',
    '{"time": "x", "type": "platform.start"' + "," * 3,
    "[" * 50_000 + '"platform."' + "]" * 50_000,                  # deep nesting
])
def test_broken_json_is_malformed(line):
    df = logs.parse_reports([line])
    assert len(df) == 0 and df.attrs["malformed"] == 1, df.attrs


def test_mixed_text_and_json_keep_input_order():
    lines = [START, WARM, END, json_report("j1"), "garbage", DOC_COLD + DOC_XRAY, json_report("j2", tracing=False),
             "", "2024-03-01T12:00:00Z " + WARM.replace(RID, "t3"), json.dumps({"type": "platform.start"})]
    df = logs.parse_reports(lines)
    assert df["request_id"].tolist() == [RID, "j1", RID, "j2", "t3"]
    assert df["format"].tolist() == ["text", "json", "text", "json", "text"]
    assert df["line"].tolist() == [1, 3, 5, 6, 8]
    assert df.attrs == {"lines": 10, "malformed": 1, "ignored": 3, "blank": 1}


def test_order_and_line_numbers_across_chunks(monkeypatch):
    monkeypatch.setattr(logs, "_CHUNK", 7)
    lines = []
    for i in range(40):
        lines += [START, WARM.replace(RID, f"t{i}") if i % 3 else json_report(f"j{i}"), END, None if i % 5 == 0 else ""]
    df = logs.parse_reports(iter(lines))
    assert df["request_id"].tolist() == [f"t{i}" if i % 3 else f"j{i}" for i in range(40)]
    assert df["line"].tolist() == [4 * i + 1 for i in range(40)]
    assert df.attrs == {"lines": 160, "malformed": 8, "ignored": 80, "blank": 32}


# -- garbage and containers -----------------------------------------------------------------------------------
def test_garbage_is_counted_never_raised():
    garbage = [None, b"REPORT RequestId: x", 42, 3.5, float("nan"), object(), ["REPORT"], {"a": 1},
               "\x00\x01\x02\xff", "\ud800 lone surrogate", "REPORT " * 10_000, "x" * 2_000_000, "{", "{}", "}{",
               "{" + '"platform.report"', "\u2028REPORT", WARM[:40], pd.NA, np.str_("garbage")]
    df = logs.parse_reports(garbage + ["", "   ", "\t\r", WARM])
    assert len(df) == 1
    assert df.attrs == {"lines": len(garbage) + 4, "malformed": len(garbage), "ignored": 0, "blank": 3}


def test_items_with_embedded_line_breaks_stay_one_line():
    df = logs.parse_reports([DOC_COLD + "\n" + DOC_XRAY, START + "\nsecond", "a\nb", "\n"])
    assert df.attrs == {"lines": 4, "malformed": 1, "ignored": 1, "blank": 1}
    assert df["xray_trace_id"].tolist() == [TRACE]


def test_empty_input():
    for empty in ([], (), iter([]), pd.Series([], dtype=object), ""):
        df = logs.parse_reports(empty)
        assert len(df) == 0
        assert list(df.columns) == list(logs.COLUMNS)
        assert df.attrs == {"lines": 0, "malformed": 0, "ignored": 0, "blank": 0}
        assert df["duration_ms"].dtype == np.float64


def test_series_generator_and_string_inputs():
    lines = [START, WARM, END, DOC_COLD]
    expect = logs.parse_reports(lines)
    for variant in (pd.Series(lines), pd.Series(lines, dtype="string"), (x for x in lines), tuple(lines),
                    np.array(lines), "\n".join(lines), "\r\n".join(lines) + "\r\n"):
        df = logs.parse_reports(variant)
        pd.testing.assert_frame_equal(df, expect)
        assert df.attrs == expect.attrs


def test_series_with_missing_values():
    df = logs.parse_reports(pd.Series([WARM, None, np.nan, START], dtype=object))
    assert df.attrs == {"lines": 4, "malformed": 2, "ignored": 1, "blank": 0}


@pytest.mark.parametrize("bad", [None, 5, b"REPORT RequestId: x", bytearray(b"x"), pd.DataFrame({"a": [WARM]})])
def test_bad_container_raises_clear_type_error(bad):
    with pytest.raises(TypeError, match="parse_reports"):
        logs.parse_reports(bad)


# -- properties -----------------------------------------------------------------------------------------------
junk = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(max_size=40),
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from(list("REPORT RequestId:Duration: 1.5 ms\t\r\n{}\"platform.report Init"))),
    st.sampled_from([WARM, DOC_COLD, START, END, DOC_XRAY, json_report(), "", " \t"]).flatmap(
        lambda s: st.integers(0, len(s)).map(lambda k: s[:k])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(junk, max_size=30))
def test_never_raises_and_accounts_for_every_line(items):
    df = logs.parse_reports(items)
    assert df.attrs["lines"] == len(items)
    accounted(df)
    assert list(df.columns) == list(logs.COLUMNS)
    assert (df["line"].diff().dropna() > 0).all()            # input order
    assert df.attrs["blank"] == sum(isinstance(x, str) and not x.strip() for x in items)


decimal = st.tuples(st.integers(0, 999_999_999), st.integers(0, 6)).flatmap(
    lambda t: st.integers(0, 10 ** t[1] - 1).map(
        lambda f: f"{t[0]}" if t[1] == 0 else f"{t[0]}.{f:0{t[1]}d}"))
sep = st.text(alphabet=" \t", min_size=1, max_size=3)


@st.composite
def report_lines(draw):
    values = {k: draw(decimal) for k in ("dur", "billed", "mem", "maxmem")}
    s = [draw(sep) for _ in range(12)]
    line = (f"REPORT RequestId: r{draw(st.integers(0, 10**9))}{s[0]}Duration: {values['dur']} ms{s[1]}"
            f"Billed Duration: {values['billed']} ms{s[2]}Memory Size: {values['mem']} MB{s[3]}"
            f"Max Memory Used: {values['maxmem']} MB")
    optional = []
    if draw(st.booleans()):
        values["init"] = draw(decimal)
        optional.append(f"Init Duration: {values['init']} ms")
    if draw(st.booleans()):
        values["restore"] = draw(decimal)
        optional.append(f"Restore Duration: {values['restore']} ms{s[4]}Billed Restore Duration: {draw(decimal)} ms")
    if draw(st.booleans()):
        values["trace"] = f"1-{draw(st.integers(0, 2**32 - 1)):08x}-abc"
        optional.append(f"XRAY TraceId: {values['trace']}{s[5]}SegmentId: 0a1b{s[6]}Sampled: true")
    if draw(st.booleans()):
        values["status"] = draw(st.sampled_from(["timeout", "error"]))
        optional.append(f"Status: {values['status']}")
    optional = draw(st.permutations(optional))
    line += "".join(draw(sep) + o for o in optional) + draw(st.sampled_from(["", "\t", " ", "\r"]))
    return line, values


@pytest.mark.parametrize("csv_min", [logs._CSV_MIN_VALUES, 0], ids=["float", "csv-reader"])
@settings(max_examples=200, deadline=None)
@given(cases=st.lists(report_lines(), min_size=1, max_size=20))
def test_generated_reports_round_trip(csv_min, cases):
    # both number converters (float() for small inputs, pandas' CSV reader for large ones) must agree
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logs, "_CSV_MIN_VALUES", csv_min)
        df = logs.parse_reports([line for line, _ in cases])
    assert len(df) == len(cases), df.attrs
    for (_, v), row in zip(cases, df.itertuples(), strict=True):
        assert row.duration_ms == float(v["dur"])                # exactly what float() gives
        assert row.billed_duration_ms == float(v["billed"])
        assert row.memory_size_mb == float(v["mem"])
        assert row.max_memory_used_mb == float(v["maxmem"])
        assert (math.isnan(row.init_duration_ms) if "init" not in v else row.init_duration_ms == float(v["init"]))
        assert (math.isnan(row.restore_duration_ms) if "restore" not in v
                else row.restore_duration_ms == float(v["restore"]))
        assert (pd.isna(row.xray_trace_id) if "trace" not in v else row.xray_trace_id == v["trace"])
        assert (pd.isna(row.status) if "status" not in v else row.status == v["status"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(decimal, decimal, decimal), min_size=1, max_size=10))
def test_generated_json_reports_round_trip(rows):
    lines = [json_report(f"r{i}", durationMs=float(d), billedDurationMs=int(float(b)), maxMemoryUsedMB=float(m),
                         initDurationMs=None) for i, (d, b, m) in enumerate(rows)]
    df = logs.parse_reports(lines)
    assert df["duration_ms"].tolist() == [float(d) for d, _, _ in rows]
    assert df["billed_duration_ms"].tolist() == [float(int(float(b))) for _, b, _ in rows]
    assert df["max_memory_used_mb"].tolist() == [float(m) for _, _, m in rows]
