"""Interoperability with AWS Lambda Power Tuning and AWS Compute Optimizer (pure: documents in, tables out).

* Power Tuning's output becomes observations: its per-size average durations feed
  :func:`lambda_workbook.memory.fit`. Accepted shapes (README-INPUT-OUTPUT.md, "State Machine Output",
  https://github.com/alexcasalboni/aws-lambda-power-tuning/blob/master/README-INPUT-OUTPUT.md): the bare output
  ``{"power", "cost", "duration", "stateMachine": {"executionCost", "lambdaCost", "visualization"}, "stats"?}``
  (what the state machine returns and the console's Output tab shows), the same wrapped as ``{"results": {...}}``
  (how the README prints it), and a Step Functions ``DescribeExecution`` response whose ``output`` is that JSON
  as a string (what ``scripts/execute.sh`` reads). ``stats`` (only with ``includeOutputResults``) entries are
  ``{value, averagePrice, averageDuration}``, plus ``totalCost`` in the executor's per-size results; without
  ``stats`` the numbers are decoded from the visualization URL.
* The visualization URL is Power Tuning's own format (``buildVisualizationURL`` in its ``lambda/utils.js``,
  https://github.com/alexcasalboni/aws-lambda-power-tuning/blob/master/lambda/utils.js): the base URL, then
  ``?currency=CNY`` for China regions, then ``#`` and ``base64(Int16 sizes);base64(Float32 durations);
  base64(Float32 costs)``, little-endian, sorted by size; two series compare as ``s1;t1;c1;s2;t2;c2;legend1;legend2``
  (the chart site's ``src/app.js``, https://github.com/matteo-ronchetti/aws-lambda-power-tuning-ui).
* Compute Optimizer's ``get_lambda_function_recommendations`` response becomes one row per function and
  option (see :func:`from_compute_optimizer` for what its Duration metric does and does not say).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import numpy as np
import pandas as pd

VISUALIZATION_BASE = "https://lambda-power-tuning.show/"


# --------------------------------------------------------------------------------------------------------
# Power Tuning


def _b64(values, dtype: str) -> str:
    return base64.b64encode(np.asarray(values, dtype=dtype).tobytes()).decode("ascii")


def _unb64(text: str, dtype: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise ValueError(f"not base64 data in a Power Tuning URL: {text[:40]!r}") from None
    size = np.dtype(dtype).itemsize
    if len(raw) % size:
        raise ValueError(f"Power Tuning URL field has {len(raw)} bytes, not a multiple of {size}")
    return np.frombuffer(raw, dtype=dtype).astype(float)


def _series(memory_mb, duration_ms, cost_usd) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.asarray(memory_mb, dtype=float).ravel()
    d = np.asarray(duration_ms, dtype=float).ravel()
    c = np.asarray(cost_usd, dtype=float).ravel()
    if not (m.size == d.size == c.size) or m.size == 0:
        raise ValueError(f"memory_mb, duration_ms and cost_usd must be equal-length and non-empty; "
                         f"got {m.size}, {d.size}, {c.size}")
    if np.any((m < 1) | (m > 32767)) or not np.all(np.isfinite(d)) or not np.all(np.isfinite(c)):
        raise ValueError("sizes must be 1-32,767 MB (Int16) and durations/costs finite numbers")
    order = np.argsort(m, kind="stable")
    return m[order], d[order], c[order]


def _hash(memory_mb, duration_ms, cost_usd) -> list[str]:
    m, d, c = _series(memory_mb, duration_ms, cost_usd)
    return [_b64(np.round(m), "<i2"), _b64(d, "<f4"), _b64(c, "<f4")]


def _base(region: str) -> str:
    return VISUALIZATION_BASE + ("?currency=CNY" if str(region).startswith("cn-") else "")


def power_tuning_url(memory_mb, duration_ms, cost_usd, *, region: str = "us-east-1") -> str:
    """A Power Tuning visualization URL for per-size average durations (ms) and costs per invocation.

    The chart shows costs in USD, or in CNY when ``region`` starts with ``cn-`` (as Power Tuning does): the
    costs handed in must be in that currency; nothing is converted.
    """
    return _base(region) + "#" + ";".join(_hash(memory_mb, duration_ms, cost_usd))


def power_tuning_compare_url(first: pd.DataFrame, second: pd.DataFrame, legends=("x86_64", "arm64"), *,
                             region: str = "us-east-1") -> str:
    """Two series on one chart (e.g. x86_64 against arm64); each frame has memory_mb, duration_ms, cost_usd."""
    parts = []
    for frame in (first, second):
        parts += _hash(frame["memory_mb"], frame["duration_ms"], frame["cost_usd"])
    parts += [quote(str(legend), safe="") for legend in legends]
    return _base(region) + "#" + ";".join(parts)


def _url_currency(url: str) -> str:
    """The chart's currency: its ``currency`` query parameter (``CNY`` in China regions), else USD."""
    return (parse_qs(urlsplit(str(url)).query).get("currency") or ["USD"])[0].upper()


def parse_power_tuning_url(url: str) -> pd.DataFrame:
    """Decode a visualization URL into rows of memory_mb, duration_ms and cost (and ``series`` for two).

    The cost column is ``cost_usd``, or ``cost_cny`` for a ``?currency=CNY`` chart (``attrs['currency']``).
    """
    cost_col = f"cost_{_url_currency(url).lower()}"
    frag = urlsplit(str(url)).fragment
    if not frag:
        raise ValueError(f"no '#...' data in the Power Tuning URL {str(url)[:60]!r}")
    fields = frag.split(";")
    if len(fields) not in (3, 8):
        raise ValueError(f"a Power Tuning URL holds 3 fields (or 8 for a comparison), got {len(fields)}")
    frames = []
    legends = [unquote(x) for x in fields[6:8]] if len(fields) == 8 else [None]
    for k, legend in enumerate(legends):
        m, d, c = (_unb64(fields[3 * k], "<i2"), _unb64(fields[3 * k + 1], "<f4"), _unb64(fields[3 * k + 2], "<f4"))
        if not (m.size == d.size == c.size):
            raise ValueError(f"Power Tuning URL series {k + 1} has {m.size} sizes, {d.size} durations, {c.size} costs")
        frame = pd.DataFrame({"memory_mb": m, "duration_ms": d, cost_col: c})
        if legend is not None:
            frame.insert(0, "series", legend)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["currency"] = cost_col[5:].upper()
    return out


def _json(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None


def _load(doc, what: str) -> Any:
    """A dict/list as is, JSON text parsed, anything else read as a JSON file path."""
    if isinstance(doc, Path) or (isinstance(doc, str) and not doc.lstrip().startswith(("{", "["))):
        path = Path(doc)
        try:
            exists = path.is_file()
        except OSError:  # e.g. a name too long to be a path
            exists = False
        if not exists:
            raise ValueError(f"{what}: {str(doc)[:80]!r} is neither JSON text nor an existing file")
        return _json(path.read_text(encoding="utf-8"), f"{what} file {path}")
    if isinstance(doc, (str, bytes)):
        return _json(doc, what)
    return doc


def _power_tuning_output(doc) -> dict[str, Any]:
    """The bare Power Tuning output from any documented shape (see the module docstring)."""
    doc = _load(doc, "Power Tuning output")
    if isinstance(doc, dict) and ("output" in doc or "executionArn" in doc) and "stateMachine" not in doc:
        if doc.get("output") is None:  # a DescribeExecution response of a run that did not succeed
            raise ValueError(f"the Step Functions execution has no output (status {doc.get('status', 'unknown')})")
        doc = _load(doc["output"], "the execution's 'output'") if isinstance(doc["output"], str) else doc["output"]
    if isinstance(doc, dict) and isinstance(doc.get("results"), dict):
        doc = doc["results"]
    if not isinstance(doc, dict):
        raise ValueError(f"Power Tuning output must be a JSON object ({{'power', 'cost', 'duration', 'stateMachine', "
                         f"'stats'?}}, optionally inside 'results' or an execution's 'output'), got {type(doc).__name__}")
    return doc


def _number(value) -> float:
    """A JSON number or numeric string (Power Tuning prints ``"power": "128"``) as a float; NaN otherwise."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def from_power_tuning(doc) -> pd.DataFrame:
    """Power Tuning output (dict, JSON text or a file path, any shape in the module docstring) as rows of
    memory_mb, duration_ms and cost per invocation.

    ``duration_ms`` is Power Tuning's ``averageDuration``: a trimmed mean (``discardTopBottom``, 20% each side by
    default) of billed durations (billed, not raw, since v4.3.1 per the changelog in its README.md). The cost column is
    ``averagePrice`` (compute only, no request fee) in the run's currency: ``cost_usd``, or ``cost_cny`` when the
    visualization URL says ``currency=CNY`` (China regions); nothing is converted. Without a URL the currency is
    taken as USD and ``attrs['notes']`` says so. ``total_cost_*`` is the size's whole Lambda cost in the run
    when the stats carry ``totalCost``. Stats entries without an average duration (Power Tuning's own
    analyzer skips them) are dropped and counted in ``attrs['dropped_stats']``. ``attrs`` also hold Power
    Tuning's own pick (``power``, ``cost``, ``duration``), ``executionCost``, ``lambdaCost`` and ``currency``.
    """
    doc = _power_tuning_output(doc)
    sm = doc.get("stateMachine") or {}
    if not isinstance(sm, dict):
        raise ValueError(f"Power Tuning 'stateMachine' must be an object, got {type(sm).__name__}")
    url = sm.get("visualization")
    notes = []
    if url:
        currency = _url_currency(url)
    else:
        currency = "USD"
        notes.append("no visualization URL to state the currency: costs taken as USD, Power Tuning's default")
    cost_col = f"cost_{currency.lower()}"
    stats = doc.get("stats")
    dropped = 0
    if stats:
        if not isinstance(stats, list):
            raise ValueError(f"Power Tuning 'stats' must be a list of {{value, averagePrice, averageDuration}}, "
                             f"got {type(stats).__name__}")
        rows = []
        for i, s in enumerate(stats):
            if not isinstance(s, dict):
                raise ValueError(f"Power Tuning stats[{i}] must be an object {{value, averagePrice, averageDuration}}, "
                                 f"got {s!r}")
            if not s.get("averageDuration"):
                dropped += 1
                continue
            row = {"memory_mb": _number(s.get("value")), "duration_ms": _number(s["averageDuration"]),
                   cost_col: _number(s.get("averagePrice"))}
            if not (row["memory_mb"] > 0 and row["duration_ms"] > 0 and row[cost_col] >= 0):
                raise ValueError(f"Power Tuning stats[{i}] needs a positive value (MB) and averageDuration (ms) and "
                                 f"an averagePrice >= 0; got {s!r}")
            if "totalCost" in s:
                row[f"total_{cost_col}"] = _number(s["totalCost"])
            rows.append(row)
        if not rows:
            raise ValueError(f"none of Power Tuning's {len(stats)} stats entries has an averageDuration")
        out = pd.DataFrame(rows).sort_values("memory_mb", ignore_index=True)
        if dropped:
            notes.append(f"{dropped} stats entr{'y' if dropped == 1 else 'ies'} without an average duration dropped")
    elif url:
        out = parse_power_tuning_url(url)
    else:
        raise ValueError("Power Tuning output has neither 'stats' (run with includeOutputResults) nor "
                         "stateMachine.visualization")
    out.attrs.update({k: _number(doc[k]) for k in ("power", "cost", "duration") if k in doc})
    out.attrs.update({k: _number(sm[k]) for k in ("executionCost", "lambdaCost") if k in sm})
    out.attrs.update(currency=currency, dropped_stats=dropped, notes=notes)
    return out


# --------------------------------------------------------------------------------------------------------
# Compute Optimizer
#
# Shapes: the botocore service model of compute-optimizer 2019-11-01 (LambdaFunctionRecommendation, ...),
# https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_GetLambdaFunctionRecommendations.html.
# LambdaFunctionUtilizationMetric documents that the API, CLI and SDKs give utilization metrics as the Maximum
# (highest value seen in the period) only, while the console graphs some of them as an Average,
# https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_LambdaFunctionUtilizationMetric.html.
# A maximum over the lookback is never below the mean, so it bounds the mean from above and says no more.

CO_COLUMNS = [
    "function_arn", "function_name", "account_id", "version", "current_memory_mb", "finding", "reasons",
    "performance_risk", "invocations", "lookback_days", "last_refresh", "duration_avg_ms", "duration_max_ms",
    "duration_mean_ms", "duration_stat", "memory_used_avg_mb", "memory_used_max_mb", "savings_source", "rank",
    "memory_mb", "duration_low_ms", "duration_expected_ms", "duration_high_ms", "savings_value", "savings_currency",
    "savings_usd", "savings_pct", "savings_after_discounts_value", "savings_after_discounts_currency",
    "savings_after_discounts_pct", "notes"]


def _metric(metrics, name: str, statistic: str) -> float:
    for m in metrics or []:
        if isinstance(m, dict) and m.get("name") == name and m.get("statistic") == statistic:
            return _number(m.get("value"))
    return np.nan


def _timestamp(value) -> pd.Timestamp:
    """An API timestamp (datetime, ISO text or epoch seconds as the CLI may print it) in UTC; NaT if absent."""
    try:
        ts = pd.Timestamp(value, unit="s") if isinstance(value, (int, float)) else pd.Timestamp(value)
    except (TypeError, ValueError):
        return pd.NaT
    if ts is pd.NaT:
        return ts
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _saving(block) -> tuple[float, str, float]:
    """(value, currency, percentage) of a savingsOpportunity(AfterDiscounts) block; '' when no currency."""
    block = block if isinstance(block, dict) else {}
    money = block.get("estimatedMonthlySavings")
    money = money if isinstance(money, dict) else {}
    return _number(money.get("value")), str(money.get("currency") or ""), _number(block.get("savingsOpportunityPercentage"))


_CO_EMPTY_PAGE = {"nextToken", "errors", "ResponseMetadata"}


def _co_recommendations(response) -> list[dict]:
    doc = _load(response, "Compute Optimizer response")
    pages = doc if isinstance(doc, list) else [doc]
    recs = []
    for k, page in enumerate(pages):
        found = page.get("lambdaFunctionRecommendations") if isinstance(page, dict) else None
        if found is None and isinstance(page, dict) and set(page) <= _CO_EMPTY_PAGE:
            found = []  # the SDK leaves an empty list out
        if not isinstance(found, list):
            raise ValueError(f"expected a get_lambda_function_recommendations response (or a list of its pages) with "
                             f"a 'lambdaFunctionRecommendations' list; page {k} has "
                             f"{sorted(page)[:6] if isinstance(page, dict) else type(page).__name__}")
        for i, r in enumerate(found):
            if not isinstance(r, dict):
                raise ValueError(f"lambdaFunctionRecommendations[{i}] must be an object, got {r!r:.80}")
        recs += found
    return recs


def _co_function(r: dict) -> dict[str, Any]:
    """The per-function columns of one LambdaFunctionRecommendation."""
    arn = str(r.get("functionArn") or "")
    util = r.get("utilizationMetrics")
    current = _number(r.get("currentMemorySize"))
    avg, mx = _metric(util, "Duration", "Average"), _metric(util, "Duration", "Maximum")
    lookback = _number(r.get("lookbackPeriodInDays"))
    span = f"the {lookback:g}-day lookback" if np.isfinite(lookback) else "the lookback period"
    at_current = [_metric(o.get("projectedUtilizationMetrics"), "Duration", "Expected")
                  for o in r.get("memorySizeRecommendationOptions") or []
                  if isinstance(o, dict) and _number(o.get("memorySize")) == current]
    expected = next((x for x in at_current if np.isfinite(x)), np.nan)
    notes = []
    if np.isfinite(avg):
        mean, stat = avg, "Average"
    elif np.isfinite(expected):
        mean, stat = expected, "Expected"
        notes.append(f"mean duration is Compute Optimizer's projected Expected at the current {current:g} MB")
    elif np.isfinite(mx):
        mean, stat = np.nan, "Maximum"
        notes.append(f"Duration is only the Maximum ({mx:,.1f} ms) over {span}: an upper bound of the mean, "
                     "not the mean")
    else:
        mean, stat = np.nan, ""
        notes.append("no Duration metric")
    prefs = r.get("effectiveRecommendationPreferences")
    mode = prefs.get("savingsEstimationMode") if isinstance(prefs, dict) else None
    return {
        "function_arn": arn, "function_name": arn.split(":function:")[-1].split(":")[0] if arn else "",
        "account_id": r.get("accountId", ""), "version": r.get("functionVersion", ""),
        "current_memory_mb": current, "finding": r.get("finding", ""),
        "reasons": ";".join(r.get("findingReasonCodes") or []), "performance_risk": r.get("currentPerformanceRisk", ""),
        "invocations": _number(r.get("numberOfInvocations")), "lookback_days": lookback,
        "last_refresh": _timestamp(r.get("lastRefreshTimestamp")),
        "duration_avg_ms": avg, "duration_max_ms": mx, "duration_mean_ms": mean, "duration_stat": stat,
        "memory_used_avg_mb": _metric(util, "Memory", "Average"), "memory_used_max_mb": _metric(util, "Memory", "Maximum"),
        "savings_source": mode.get("source", "") if isinstance(mode, dict) else "", "notes": "; ".join(notes),
    }


def from_compute_optimizer(response) -> pd.DataFrame:
    """``get_lambda_function_recommendations`` output (a parsed response, a list of pages, JSON text or a file)
    as one row per function and memory option.

    The API reports a function's Duration only as its ``Maximum`` over the lookback, which bounds the mean
    from above and is not a mean: ``duration_mean_ms`` is an ``Average`` when one is present, else the projected
    ``Expected`` duration of an option at the current size, else NaN; ``duration_stat`` names which
    (``Average``, ``Expected``, ``Maximum`` = only the upper bound is known, ``''`` = no Duration) and ``notes``
    says it in words. Savings keep their currency (the API returns USD or CNY): ``savings_value`` and
    ``savings_currency`` as given, ``savings_usd`` only for USD (NaN otherwise; nothing is converted), and the
    same after Savings Plans discounts. Functions without options (``Optimized`` or ``Unavailable``) keep one
    row with NaN option columns, so nothing silently disappears; ``finding`` and ``reasons`` say why.
    """
    rows = []
    for r in _co_recommendations(response):
        base = _co_function(r)
        options = [o for o in r.get("memorySizeRecommendationOptions") or [] if isinstance(o, dict)]
        if not options:
            rows.append(base)
        for o in options:
            proj = o.get("projectedUtilizationMetrics")
            value, currency, pct = _saving(o.get("savingsOpportunity"))
            d_value, d_currency, d_pct = _saving(o.get("savingsOpportunityAfterDiscounts"))
            rows.append({**base, "rank": _number(o.get("rank")), "memory_mb": _number(o.get("memorySize")),
                         "duration_low_ms": _metric(proj, "Duration", "LowerBound"),
                         "duration_expected_ms": _metric(proj, "Duration", "Expected"),
                         "duration_high_ms": _metric(proj, "Duration", "UpperBound"),
                         "savings_value": value, "savings_currency": currency,
                         "savings_usd": value if currency == "USD" else np.nan, "savings_pct": pct,
                         "savings_after_discounts_value": d_value, "savings_after_discounts_currency": d_currency,
                         "savings_after_discounts_pct": d_pct})
    out = pd.DataFrame(rows).reindex(columns=CO_COLUMNS)
    for col in ("savings_currency", "savings_after_discounts_currency", "notes", "duration_stat"):
        out[col] = out[col].astype(object).fillna("")
    return out


def savings_by_currency(rows: pd.DataFrame, *, after_discounts: bool = False) -> pd.DataFrame:
    """Monthly savings of each function's rank-1 option, summed per currency (USD and CNY never added together);
    savings without a currency are counted under ``''``."""
    prefix = "savings_after_discounts" if after_discounts else "savings"
    top = rows[(rows["rank"] == 1) & rows[f"{prefix}_value"].notna()]
    return (top.groupby(f"{prefix}_currency")[f"{prefix}_value"].agg(["size", "sum"])
            .rename(columns={"size": "functions", "sum": "monthly_savings"}).rename_axis("currency").reset_index())


def _co_function_rows(rows: pd.DataFrame, function: str) -> pd.DataFrame:
    sel = rows[(rows["function_name"] == function) | (rows["function_arn"] == function)]
    if sel.empty:
        raise KeyError(f"function {function!r} is not in the Compute Optimizer rows "
                       f"(it has {', '.join(sorted(rows['function_name'].unique())[:8])})")
    arns = sel["function_arn"].unique()
    if len(arns) > 1:
        raise ValueError(f"{function!r} matches {len(arns)} functions ({', '.join(arns[:4])}); pass the ARN")
    return sel


def compute_optimizer_observation(rows: pd.DataFrame, function_name: str) -> dict[str, Any]:
    """What Compute Optimizer says about one function (name or ARN) at its current size.

    ``duration_ms`` is a mean (``duration_stat`` says which: ``Average`` or the projected ``Expected`` at the
    current size) or NaN when only the ``Maximum`` is known; ``duration_max_ms`` is that upper bound; ``notes``
    explain. Do not fit a model to a NaN ``duration_ms``: measure the function (or read its CloudWatch average).
    """
    r = _co_function_rows(rows, function_name).iloc[0]
    return {"memory_mb": float(r["current_memory_mb"]), "duration_ms": float(r["duration_mean_ms"]),
            "duration_stat": r["duration_stat"], "duration_max_ms": float(r["duration_max_ms"]),
            "invocations": float(r["invocations"]), "lookback_days": float(r["lookback_days"]),
            "max_memory_used_mb": float(r["memory_used_max_mb"]),
            "notes": [n for n in str(r["notes"]).split("; ") if n]}


def compare_compute_optimizer(model, rows: pd.DataFrame, function_name: str, level: float = 0.9) -> pd.DataFrame:
    """Compute Optimizer's durations next to our model's prediction and band, one row per size and source.

    Option rows (``co_source`` = ``option``) carry Compute Optimizer's projection (``co_low_ms``,
    ``co_expected_ms``, ``co_high_ms``) and saving with its currency. One more row at the current size holds
    what the function was seen doing: an ``Average`` as ``co_expected_ms``, or, with only the ``Maximum``,
    that value as ``co_high_ms`` (an upper bound of the mean; ``co_expected_ms`` stays NaN), so a model mean
    above it is at odds with the data. ``attrs['notes']`` repeats the function's notes.
    """
    sel = _co_function_rows(rows, function_name)
    first = sel.iloc[0]
    out = [{"memory_mb": o["memory_mb"], "co_source": "option", "co_rank": o["rank"], "co_low_ms": o["duration_low_ms"],
            "co_expected_ms": o["duration_expected_ms"], "co_high_ms": o["duration_high_ms"],
            "savings_value": o["savings_value"], "savings_currency": o["savings_currency"]}
           for _, o in sel[sel["memory_mb"].notna()].iterrows()]
    avg, mx = first["duration_avg_ms"], first["duration_max_ms"]
    stat, mean, high = ("Average", avg, np.nan) if np.isfinite(avg) else ("Maximum", np.nan, mx)
    if np.isfinite(first["current_memory_mb"]) and np.isfinite(avg if stat == "Average" else mx):
        out.append({"memory_mb": first["current_memory_mb"], "co_source": f"current ({stat})", "co_rank": np.nan,
                    "co_low_ms": np.nan, "co_expected_ms": mean, "co_high_ms": high, "savings_value": np.nan,
                    "savings_currency": ""})
    cols = ["memory_mb", "co_source", "co_rank", "co_low_ms", "co_expected_ms", "co_high_ms", "savings_value",
            "savings_currency"]
    frame = pd.DataFrame(out, columns=cols).sort_values("memory_mb", kind="stable", ignore_index=True)
    m = frame["memory_mb"].to_numpy(float)
    lo, hi = model.interval(m, level) if m.size else (np.array([]), np.array([]))
    frame = frame.assign(model_ms=model.predict(m) if m.size else np.array([]), model_low_ms=lo, model_high_ms=hi)
    frame.attrs["notes"] = [n for n in str(first["notes"]).split("; ") if n]
    return frame
