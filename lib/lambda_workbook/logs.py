"""Parse AWS Lambda ``REPORT`` log lines (text and JSON log formats) into a DataFrame, vectorised.

Formats (AWS Lambda Developer Guide, "Working with Lambda function logs" / "Log and monitor Python Lambda
functions", https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html, and the Telemetry API schema
reference, https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html):

* text: ``REPORT RequestId: <id>  Duration: 15.74 ms  Billed Duration: 16 ms  Memory Size: 128 MB
  Max Memory Used: 56 MB`` followed, in any order, by the optional fields ``Init Duration`` (cold starts),
  ``Restore Duration`` / ``Billed Restore Duration`` (SnapStart), ``XRAY TraceId`` / ``SegmentId`` /
  ``Sampled`` and ``Status`` / ``Error Type`` (timeouts and crashes). Fields may be separated by any mix of
  tabs and spaces; trailing whitespace, a trailing CR and a prefix (timestamp, stream name) before the
  keyword are tolerated. Every number is parsed as a float and must carry its unit (``ms`` / ``MB``), so a
  line cut off mid-field is rejected rather than half-read.
* JSON (``LoggingConfig.LogFormat=JSON``): objects whose ``type`` is ``platform.report``; the numbers come
  from ``record.metrics`` and the X-Ray trace id from the ``Root=`` part of ``record.tracing.value``.

How it stays fast (no Python-level loop with a regex call per line): the input is cut into chunks of
25,000 lines. ``START`` / ``END`` lines, two thirds of a typical log, are set aside by one C-level
``str.startswith`` pass. The other lines are joined with ``"\\n"`` and scanned by ONE multi-line regex
that reads reports spaced exactly as Lambda writes them and gives an empty match for anything else; the
lines it left are joined again and scanned by ONE general regex whose alternatives classify *every* line
(report with any spacing or a prefix, malformed report, other platform line, JSON candidate, blank,
anything else). Each pattern yields exactly one match per line, so match ``k`` belongs to line ``k``. The
captured numbers are converted to float64 in bulk by pandas' C CSV reader. Only lines that look like
JSON platform events are handled one by one (``json.loads``).

Each input line lands in exactly one bucket, so ``len(df) + attrs["ignored"] + attrs["malformed"] +
attrs["blank"] == attrs["lines"]``:

* a row of the result (a parsed report);
* ``ignored``: a recognised non-REPORT platform line (``START``, ``END``, ``INIT_START``, ``XRAY`` ...,
  JSON ``platform.start`` / ``platform.runtimeDone`` ...);
* ``blank``: an empty or whitespace-only string;
* ``malformed``: everything else, including non-string items, broken reports and application log lines.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from itertools import islice, repeat
from operator import itemgetter

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "parse_reports"]

#: Output columns, in order. The first eight are the public contract; the rest are extras.
COLUMNS = (
    "request_id", "duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
    "init_duration_ms", "restore_duration_ms", "xray_trace_id",
    "billed_restore_duration_ms", "status", "error_type", "format", "line",
)
_FLOAT_COLUMNS = ("duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb",
                  "init_duration_ms", "restore_duration_ms", "billed_restore_duration_ms")
_TEXT_COLUMNS = ("request_id", "xray_trace_id", "status", "error_type", "format")
_SPARSE_COLUMNS = ("xray_trace_id", "status", "error_type")

# pandas' own dtype for text (``str`` from pandas 3, ``object`` before); text columns always get it
_STR_DTYPE = pd.Series(["x"]).dtype
_CHUNK = 25_000            # lines per pass: keeps the working set small (cache-friendly) and bounded
_CSV_MIN_VALUES = 2_000    # below this many numbers, float() beats the CSV reader's fixed cost
_NOT_TEXT = "\x00"         # stand-in for non-string items; always classified as malformed
_START_END = ("START RequestId:", "END RequestId:")     # the commonest platform lines, skipped up front

# -- the regular expressions ---------------------------------------------------------------------------
# Possessive quantifiers (``++``, ``*+``) stop the engine from backtracking into text it has already read.
_SEP = r"[ \t]++"                         # between fields
_WS = _SEP                                # between the words of a label
_GAP = r"[ \t]*+"                         # after a colon and before a unit; may be empty
_NUM = r"[0-9]{1,9}+\.?+[0-9]{0,6}+"      # <= 15 digits: converted exactly, never inf


def _field(label: str, value: str, unit: str | None = None, group: str | None = None) -> str:
    """``Label Words: <value> unit``; the value is captured as ``group`` when one is given."""
    if group:
        value = f"(?P<{group}>{value})"
    return _WS.join(label.split()) + f":{_GAP}{value}" + (f"{_GAP}{unit}" if unit else "")


# Fields that may follow "Max Memory Used", in any order: (group, label, value, unit).
_OPTIONAL = (
    ("init", "Init Duration", _NUM, "ms"),
    ("restore", "Restore Duration", _NUM, "ms"),
    ("brestore", "Billed Restore Duration", _NUM, "ms"),
    ("trace", "XRAY TraceId", r"\S++", None),
    (None, "SegmentId", r"\S++", None),
    (None, "Sampled", r"\S++", None),
    ("status", "Status", r"[A-Za-z0-9_.-]++", None),
    ("etype", "Error Type", r"\S++", None),
)


def _optional(with_groups: bool) -> str:
    return "|".join(_field(label, value, unit, group if with_groups else None)
                    for group, label, value, unit in _OPTIONAL)


# A text report. Unknown text after the known fields makes the line malformed, so a line cut off inside
# "Init Duration" is never read as a warm start. The tail is only captured here and read by _TAIL.
_REPORT = (
    f"REPORT{_WS}RequestId:{_GAP}(?P<rid>\\S++)"
    + _SEP + _field("Duration", _NUM, "ms", "dur")
    + _SEP + _field("Billed Duration", _NUM, "ms", "billed")
    + _SEP + _field("Memory Size", _NUM, "MB", "mem")
    + _SEP + _field("Max Memory Used", _NUM, "MB", "maxmem")
    # the usual case, nothing but whitespace after "Max Memory Used", is tried first
    + f"(?:[^\\S\\n]*+$|(?P<tail>(?:{_SEP}(?:{_optional(False)}))++)[^\\S\\n]*+$)"
)

# Text lines the Lambda platform writes besides REPORT (counted as ignored). Each starts with a letter.
_PLATFORM = (
    f"START{_WS}RequestId:",
    f"END{_WS}RequestId:",
    r"INIT_(?:START|REPORT|RUNTIME_DONE)\b",
    r"RESTORE_(?:START|REPORT|RUNTIME_DONE)\b",
    f"EXTENSION{_WS}Name:",
    f"TELEMETRY{_WS}Name:",
    f"LOGS{_WS}Name:",
    f"XRAY{_WS}TraceId:",
    f"Task{_WS}timed{_WS}out{_WS}after\\b",
    f"RequestId:{_GAP}\\S++{_WS}Error:",
)
# first characters a keyword can start with: a cheap lookahead skips every other position of a line
_FIRST = "[" + "".join(sorted({p[0] for p in _PLATFORM} | {"R", "{"})) + "]"

# Exactly one match per line, each consuming its line and newline. A keyword may follow a prefix (a
# timestamp, a stream name) that has no "{" and ends on a non-word character; a "{" before any keyword
# makes the line a JSON candidate. Groups: rid.. -> report; kind = "REPORT" (malformed report), "{"
# (JSON candidate) or a platform keyword (ignored); bad -> anything else; no group -> blank line.
_LINE = re.compile(
    r"^(?:"
    rf"[^\n{{]*?(?={_FIRST})"
    r"(?:(?<!\w)" + _REPORT + r"|(?P<kind>(?<!\w)REPORT\b|(?<!\w)(?:" + "|".join(_PLATFORM) + r")|\{))"
    r"[^\n]*+"
    r"|[^\S\n]*+$"
    r"|(?P<bad>[^\n])[^\n]*+"
    r")\n?",
    re.MULTILINE,
)
_G = {name: number - 1 for name, number in _LINE.groupindex.items()}   # name -> index in findall tuples
assert len(_G) == _LINE.groups, "every group of _LINE must be named"

# Re-reads the (already validated) optional tail of each report that has one.
_TAIL = re.compile(f"^(?:{_SEP}(?:{_optional(True)}))*+[^\\n]*+\\n?", re.MULTILINE)
assert tuple(_TAIL.groupindex) == ("init", "restore", "brestore", "trace", "status", "etype")

# First pass: reports exactly as Lambda writes them (one tab between fields, one space inside them, the
# odd space before a tab). Literal gaps are about a third cheaper for the regex engine than repeats.
# Anything else (other spacing, prefixes, other lines) yields an empty match and goes to _LINE; every
# line this accepts, _LINE would parse the same way.
_CANON_OPTIONAL = "|".join(f"{label}: {value}" + (f" {unit}" if unit else "")
                           for _, label, value, unit in _OPTIONAL)
_CANON = re.compile(
    f"^(?:REPORT RequestId: (?P<rid>\\S++)\\tDuration: (?P<dur>{_NUM}) ms ?+"
    f"\\tBilled Duration: (?P<billed>{_NUM}) ms ?+\\tMemory Size: (?P<mem>{_NUM}) MB ?+"
    f"\\tMax Memory Used: (?P<maxmem>{_NUM}) MB"
    f"(?: ?+\\t?+$|(?P<tail>(?: ?+\\t(?:{_CANON_OPTIONAL}))++) ?+\\t?+$)"
    "|[^\\n]*+)\\n?",
    re.MULTILINE,
)
_CG = {name: number - 1 for name, number in _CANON.groupindex.items()}


# -- helpers ---------------------------------------------------------------------------------------------
def _iter_items(lines) -> Iterator:
    """Validate the container (not its items) and return something to iterate."""
    if isinstance(lines, str):
        return iter(lines.splitlines())
    if isinstance(lines, bytes | bytearray | memoryview):
        raise TypeError("parse_reports expects str lines; decode bytes first (e.g. data.decode().splitlines())")
    if isinstance(lines, pd.DataFrame):
        raise TypeError("parse_reports expects an iterable of lines, not a DataFrame; pass one column")
    try:
        return iter(lines)
    except TypeError:
        raise TypeError(f"parse_reports expects an iterable of str lines, got {type(lines).__name__}") from None


def _floats(rows: Iterable[tuple[str, ...]], n: int, width: int) -> np.ndarray:
    """``n`` rows of ``width`` (>= 2) decimal strings, ``""`` = missing -> float64 array (n, width), NaN = missing.

    For many values, pandas' C CSV reader turns decimal text into float64 several times faster than
    ``float()`` per value (the regex has already checked that each string is a plain decimal); for a few
    values its fixed cost dominates and ``float()`` is used.
    """
    if n * width < _CSV_MIN_VALUES:
        return np.array([[float(x) if x else math.nan for x in row] for row in rows], dtype=float).reshape(n, width)
    text = "\n".join(map(",".join, rows))
    values = pd.read_csv(io.StringIO(text), header=None, names=range(width), dtype=float,
                         engine="c").to_numpy(dtype=float)
    if values.shape != (n, width):
        raise RuntimeError(f"internal error: {values.shape} numbers for {n} rows")
    return values


def _missing(values) -> np.ndarray:
    """Captured strings with ``""`` (not captured) replaced by None."""
    out = np.array(values, dtype=object)
    out[out == ""] = None
    return out


def _text_series(values: np.ndarray, *, sparse: bool) -> pd.Series:
    """An object array of str (None = missing) as a Series of pandas' text dtype.

    Element-by-element conversion is slow, so a column of one repeated value (``format``) is broadcast from
    a scalar and a ``sparse`` one (``status``, ``xray_trace_id``) is built missing and patched.
    """
    n = len(values)
    if sparse:
        present = np.flatnonzero(values)       # None is falsy; captured strings are never empty
        if len(present) < n:
            series = pd.Series(np.nan, index=pd.RangeIndex(n), dtype=_STR_DTYPE)
            if len(present):
                series.iloc[present] = values[present]
            return series
    elif n and values[0] == values[-1] and (values == values[0]).all():
        return pd.Series(values[0], index=pd.RangeIndex(n), dtype=_STR_DTYPE)
    return pd.Series(values, dtype=_STR_DTYPE)


def _number(value, *, required: bool) -> float:
    """A JSON metric as float; raises ValueError when it is not a finite, non-negative number."""
    if value is None and not required:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(value)
    try:
        value = float(value)
    except OverflowError:
        raise ValueError("number too large") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(value)
    return value


def _trace_root(tracing) -> str | None:
    """The X-Ray trace id from ``{"type": "X-Amzn-Trace-Id", "value": "Root=1-...;Parent=...;..."}``."""
    if not isinstance(tracing, dict) or not isinstance(tracing.get("value"), str):
        return None
    for part in tracing["value"].split(";"):
        key, _, val = part.strip().partition("=")
        if key == "Root" and val.strip():
            return val.strip()
    value = tracing["value"].strip()
    return value if value.startswith("1-") else None


def _json_line(text: str):
    """Classify one JSON candidate: a report row (tuple), ``"ignored"`` or ``"malformed"``."""
    if '"platform.' not in text:
        return "malformed"
    try:
        obj = json.loads(text[text.index("{"):])
    except (ValueError, RecursionError):
        return "malformed"
    kind = obj.get("type") if isinstance(obj, dict) else None
    if not isinstance(kind, str) or not kind.startswith("platform."):
        return "malformed"
    if kind != "platform.report":
        return "ignored"
    record = obj.get("record")
    metrics = record.get("metrics") if isinstance(record, dict) else None
    if not isinstance(metrics, dict):
        return "malformed"
    rid = record.get("requestId")
    status, etype = record.get("status"), record.get("errorType")
    if not isinstance(rid, str) or not rid.strip():
        return "malformed"
    try:
        numbers = (
            _number(metrics.get("durationMs"), required=True),
            _number(metrics.get("billedDurationMs"), required=True),
            _number(metrics.get("memorySizeMB"), required=True),
            _number(metrics.get("maxMemoryUsedMB"), required=True),
            _number(metrics.get("initDurationMs"), required=False),
            _number(metrics.get("restoreDurationMs"), required=False),
        )
    except ValueError:
        return "malformed"
    return (rid.strip(), *numbers, _trace_root(record.get("tracing")),
            status if isinstance(status, str) and status else None,
            etype if isinstance(etype, str) and etype else None)


def _empty_parts() -> dict[str, list]:
    return {name: [] for name in COLUMNS}


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: a run allocates one small tuple per line (no cycles), and the
    collector's repeated passes over them cost about a quarter of the run time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pick(items: list, idx: np.ndarray) -> list:
    """``[items[i] for i in idx]``, done in C."""
    if len(idx) == len(items):
        return list(items)
    if len(idx) == 1:
        return [items[int(idx[0])]]
    return list(itemgetter(*idx.tolist())(items)) if len(idx) else []


def _split(chunk: list) -> tuple[list, np.ndarray, int]:
    """Set START/END lines aside cheaply; return the other lines (as one-line str), their positions, and
    how many were set aside."""
    n = len(chunk)
    try:
        skip = np.fromiter(map(str.startswith, chunk, repeat(_START_END)), dtype=bool, count=n)
    except TypeError:                          # some items are not str: swap in a malformed stand-in
        is_str = np.fromiter(map(isinstance, chunk, repeat(str)), dtype=bool, count=n)
        chunk = list(chunk)
        for i in np.flatnonzero(~is_str).tolist():
            chunk[i] = _NOT_TEXT
        skip = np.fromiter(map(str.startswith, chunk, repeat(_START_END)), dtype=bool, count=n)
    pos = np.flatnonzero(~skip)
    rest = _pick(chunk, pos)
    return rest, pos, n - len(rest)


def _one_line_each(rest: list[str]) -> str:
    """Join with newlines; items holding line breaks of their own get them replaced by spaces first."""
    blob = "\n".join(rest)
    if blob.count("\n") != len(rest) - 1:
        broken = np.fromiter(map(str.__contains__, rest, repeat("\n")), dtype=bool, count=len(rest))
        for i in np.flatnonzero(broken).tolist():
            rest[i] = rest[i].replace("\r\n", " ").replace("\n", " ")
        blob = "\n".join(rest)
    return blob


def _findall(pattern: re.Pattern, blob: str, n: int) -> list[tuple[str, ...]]:
    matches = pattern.findall(blob)
    if len(matches) != n:                      # impossible by construction; never misalign silently
        raise RuntimeError(f"internal error: {len(matches)} matches for {n} lines")
    return matches


def _text_columns(matches: list[tuple[str, ...]], g: dict[str, int], line: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of the text reports in ``matches`` (all of them parsed), ``line`` = their input positions."""
    m = len(matches)
    numbers = _floats(map(itemgetter(g["dur"], g["billed"], g["mem"], g["maxmem"]), matches), m, 4)
    cols = {
        "request_id": np.array(list(map(itemgetter(g["rid"]), matches)), dtype=object),
        "duration_ms": numbers[:, 0],
        "billed_duration_ms": numbers[:, 1],
        "memory_size_mb": numbers[:, 2],
        "max_memory_used_mb": numbers[:, 3],
        "init_duration_ms": np.full(m, np.nan),
        "restore_duration_ms": np.full(m, np.nan),
        "xray_trace_id": np.full(m, None, dtype=object),
        "billed_restore_duration_ms": np.full(m, np.nan),
        "status": np.full(m, None, dtype=object),
        "error_type": np.full(m, None, dtype=object),
        "format": np.full(m, "text", dtype=object),
        "line": line,
    }
    tails = np.array(list(map(itemgetter(g["tail"]), matches)), dtype=object)
    has_tail = np.flatnonzero(tails != "")
    if len(has_tail):
        found = _findall(_TAIL, "\n".join(tails[has_tail].tolist()), len(has_tail))
        nums = _floats(map(itemgetter(0, 1, 2), found), len(found), 3)
        for i, name in enumerate(("init_duration_ms", "restore_duration_ms", "billed_restore_duration_ms")):
            cols[name][has_tail] = nums[:, i]
        for i, name in ((3, "xray_trace_id"), (4, "status"), (5, "error_type")):
            cols[name][has_tail] = _missing(list(map(itemgetter(i), found)))
    return cols


def _json_columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    """Columns of JSON reports: ``rows`` are ``_json_line`` tuples with the input position appended."""
    jc = list(zip(*rows, strict=True))
    return {
        "request_id": np.array(jc[0], dtype=object),
        **{name: np.array(jc[i], dtype=float) for i, name in enumerate(_FLOAT_COLUMNS[:6], start=1)},
        "xray_trace_id": np.array(jc[7], dtype=object),
        "billed_restore_duration_ms": np.full(len(rows), np.nan),
        "status": np.array(jc[8], dtype=object),
        "error_type": np.array(jc[9], dtype=object),
        "format": np.full(len(rows), "json", dtype=object),
        "line": np.array(jc[10], dtype=np.int64),
    }


def _parse_chunk(chunk: list, offset: int, parts: dict[str, list], counts: dict[str, int]) -> None:
    """Classify and parse one chunk; append its report columns to ``parts``, bump the counters."""
    rest, pos, n_skipped = _split(chunk)
    counts["ignored"] += n_skipped
    if not rest:
        return
    n = len(rest)
    pos = pos + offset
    canon = _findall(_CANON, _one_line_each(rest), n)
    parsed = np.fromiter(map(bool, map(itemgetter(_CG["rid"]), canon)), dtype=bool, count=n)
    k_canon = np.flatnonzero(parsed)
    pieces = [_text_columns(_pick(canon, k_canon), _CG, pos[k_canon])]

    k_other = np.flatnonzero(~parsed)
    if len(k_other):                           # everything else: the general pattern, then JSON
        other = _pick(rest, k_other)
        matches = _findall(_LINE, "\n".join(other), len(other))
        kind = list(map(itemgetter(_G["kind"]), matches))
        n_kind, n_bad_report, n_json = len(other) - kind.count(""), kind.count("REPORT"), kind.count("{")
        counts["ignored"] += n_kind - n_bad_report - n_json
        counts["malformed"] += n_bad_report + len(other) - list(map(itemgetter(_G["bad"]), matches)).count("")
        rid = np.fromiter(map(bool, map(itemgetter(_G["rid"]), matches)), dtype=bool, count=len(other))
        k_text = np.flatnonzero(rid)
        if len(k_text):
            pieces.append(_text_columns(_pick(matches, k_text), _G, pos[k_other[k_text]]))
        json_rows = []
        if n_json:
            for k in np.flatnonzero(np.array(kind, dtype=object) == "{").tolist():
                result = _json_line(other[k])
                if isinstance(result, tuple):
                    json_rows.append((*result, pos[k_other[k]]))
                else:
                    counts[result] += 1
        if json_rows:
            pieces.append(_json_columns(json_rows))

    if len(pieces) == 1:
        for name in COLUMNS:
            parts[name].append(pieces[0][name])
        return
    order = np.argsort(np.concatenate([p["line"] for p in pieces]), kind="stable")
    for name in COLUMNS:
        parts[name].append(np.concatenate([p[name] for p in pieces])[order])


def parse_reports(lines) -> pd.DataFrame:
    """Parse Lambda ``REPORT`` lines (text or JSON format) into one row per report, in input order.

    ``lines`` is any iterable of ``str`` (list, tuple, generator, pandas Series, an open text file); a single
    ``str`` is split into lines. Items that are not ``str`` (``None``, bytes, numbers) are counted as
    malformed; nothing in the items makes this function raise. Columns are :data:`COLUMNS`: numbers are
    float64 (``init_duration_ms`` / ``restore_duration_ms`` are NaN when absent), ``xray_trace_id``,
    ``status`` and ``error_type`` are missing when the line does not carry them (text lines only carry a
    ``Status`` on timeouts and crashes), ``format`` is ``"text"`` or ``"json"`` and ``line`` is the 0-based
    input position. ``df.attrs`` holds ``lines``, ``malformed``, ``ignored`` and ``blank`` counts.

    Raises ``TypeError`` when ``lines`` itself is not an iterable of lines (``None``, bytes, a DataFrame).
    """
    items = _iter_items(lines)
    parts = _empty_parts()
    counts = {"malformed": 0, "ignored": 0}
    total = 0
    with _gc_paused():
        while chunk := list(islice(items, _CHUNK)):
            _parse_chunk(chunk, total, parts, counts)
            total += len(chunk)

    data = {}
    for name in COLUMNS:
        if parts[name]:
            values = np.concatenate(parts[name])
        else:
            values = np.empty(0, dtype=np.int64 if name == "line" else object)
        if name in _FLOAT_COLUMNS:
            data[name] = pd.Series(values, dtype=float)
        elif name in _TEXT_COLUMNS:
            data[name] = _text_series(values, sparse=name in _SPARSE_COLUMNS)
        else:
            data[name] = pd.Series(values)
    df = pd.DataFrame(data, columns=list(COLUMNS))
    df.attrs.update(
        lines=total,
        malformed=counts["malformed"],
        ignored=counts["ignored"],
        blank=total - len(df) - counts["malformed"] - counts["ignored"],
    )
    return df
